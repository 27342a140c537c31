//! A small Word document writer: paragraphs, tables, image placeholders with alternative text, a header and
//! a footer — what the test double's generated `.docx` documents and sample templates need, valid for Word.

use std::io::Write;

use zip::write::SimpleFileOptions;

/// A 1×1 transparent PNG: the placeholder of an image tag.
const PLACEHOLDER_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

const NAMESPACES: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
    xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" \
    xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\" \
    xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" \
    xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"";

/// Builds a `.docx`.
///
/// ```
/// use box_docgen_template::{DocxWriter, Template};
///
/// let docx = DocxWriter::new()
///     .header("ACME Corp")
///     .paragraph("Dear {{customer.name}},")
///     .table(&[&["{{tablerow item in items}}{{item.name}}", "{{item.price}}{{endtablerow}}"]])
///     .image("{{logo}}")
///     .finish();
/// let template = Template::from_docx(&docx)?;
/// assert_eq!(template.tags().len(), 5);
/// # Ok::<(), box_docgen_template::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct DocxWriter {
    body: String,
    header: Option<String>,
    footer: Option<String>,
    images: usize,
}

impl DocxWriter {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// A paragraph with this text (a line break for each `\n`).
    pub fn paragraph(mut self, text: &str) -> Self {
        self.body.push_str(&paragraph(text));
        self
    }

    /// A table: a row for each slice, a cell (one paragraph) for each string.
    pub fn table(mut self, rows: &[&[&str]]) -> Self {
        let columns = rows.iter().map(|row| row.len()).max().unwrap_or(0);
        self.body
            .push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr>");
        self.body.push_str("<w:tblGrid>");
        for _ in 0..columns {
            self.body.push_str(&format!("<w:gridCol w:w=\"{}\"/>", 9000 / columns.max(1)));
        }
        self.body.push_str("</w:tblGrid>");
        for row in rows {
            self.body.push_str("<w:tr>");
            for cell in *row {
                self.body.push_str(&format!(
                    "<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>{}</w:tc>",
                    paragraph(cell)
                ));
            }
            self.body.push_str("</w:tr>");
        }
        self.body.push_str("</w:tbl>");
        self
    }

    /// A placeholder image (a small transparent square) whose alternative text is `alt_text`: where Box's image
    /// tags go (`{{logo}}`).
    pub fn image(mut self, alt_text: &str) -> Self {
        self.images += 1;
        let n = self.images;
        let size = 914_400; // one inch, in EMUs
        self.body.push_str(&format!(
            "<w:p><w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\">\
             <wp:extent cx=\"{size}\" cy=\"{size}\"/><wp:docPr id=\"{n}\" name=\"Picture {n}\" descr=\"{}\"/>\
             <a:graphic><a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\">\
             <pic:pic><pic:nvPicPr><pic:cNvPr id=\"{n}\" name=\"image{n}.png\"/><pic:cNvPicPr/></pic:nvPicPr>\
             <pic:blipFill><a:blip r:embed=\"rIdImage{n}\"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>\
             <pic:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"{size}\" cy=\"{size}\"/></a:xfrm>\
             <a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>\
             </wp:inline></w:drawing></w:r></w:p>",
            escape(alt_text)
        ));
        self
    }

    /// The header of every page: one paragraph.
    pub fn header(mut self, text: &str) -> Self {
        self.header = Some(text.to_owned());
        self
    }

    /// The footer of every page: one paragraph.
    pub fn footer(mut self, text: &str) -> Self {
        self.footer = Some(text.to_owned());
        self
    }

    /// The document's bytes.
    pub fn finish(&self) -> Vec<u8> {
        let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
        let mut types = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Default Extension=\"png\" ContentType=\"image/png\"/>\
             <Override PartName=\"/word/document.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>",
        );
        let mut relationships = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
        );
        let mut section = String::from("<w:sectPr>");
        for (kind, text) in [("header", &self.header), ("footer", &self.footer)] {
            let Some(text) = text else { continue };
            let root = if kind == "header" { "hdr" } else { "ftr" };
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:{root} {NAMESPACES}>{}</w:{root}>",
                paragraph(text)
            );
            parts.push((format!("word/{kind}1.xml"), xml.into_bytes()));
            types.push_str(&format!(
                "<Override PartName=\"/word/{kind}1.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.{kind}+xml\"/>"
            ));
            relationships.push_str(&format!(
                "<Relationship Id=\"rId{kind}\" \
                 Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}\" \
                 Target=\"{kind}1.xml\"/>"
            ));
            section.push_str(&format!("<w:{kind}Reference w:type=\"default\" r:id=\"rId{kind}\"/>"));
        }
        for n in 1..=self.images {
            parts.push((format!("word/media/image{n}.png"), PLACEHOLDER_PNG.to_vec()));
            relationships.push_str(&format!(
                "<Relationship Id=\"rIdImage{n}\" \
                 Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" \
                 Target=\"media/image{n}.png\"/>"
            ));
        }
        section.push_str("<w:pgSz w:w=\"12240\" w:h=\"15840\"/></w:sectPr>");
        types.push_str("</Types>");
        relationships.push_str("</Relationships>");
        let document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <w:document {NAMESPACES}><w:body>{}{section}</w:body></w:document>",
            self.body
        );
        let package_relationships = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" \
             Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
             Target=\"word/document.xml\"/></Relationships>";
        let mut all = vec![
            ("[Content_Types].xml".to_owned(), types.into_bytes()),
            ("_rels/.rels".to_owned(), package_relationships.as_bytes().to_vec()),
            ("word/document.xml".to_owned(), document.into_bytes()),
            ("word/_rels/document.xml.rels".to_owned(), relationships.into_bytes()),
        ];
        all.extend(parts);
        zip_archive(&all)
    }
}

/// A zip archive of these files, deflated.
fn zip_archive(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        // Writing to memory fails only on a zip writer's own misuse (a file started twice), never here.
        let written = zip.start_file(name.as_str(), options).and_then(|()| Ok(zip.write_all(bytes)?));
        debug_assert!(written.is_ok(), "{name}: {written:?}");
    }
    zip.finish().map(std::io::Cursor::into_inner).unwrap_or_default()
}

fn paragraph(text: &str) -> String {
    let runs: Vec<String> =
        text.split('\n').map(|line| format!("<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r>", escape(line))).collect();
    format!("<w:p>{}</w:p>", runs.join("<w:r><w:br/></w:r>"))
}

/// Text as XML character data (or an attribute value); control characters XML cannot hold are dropped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\t' => escaped.push(' '),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}
