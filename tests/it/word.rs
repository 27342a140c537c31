//! Word documents as Word itself writes them, built here with a zip writer (not with the library's own
//! `DocxWriter`, so that the reader is tested against XML it did not produce): runs split where Word splits them
//! (formatting changes, spell-check marks, revision ids, bookmarks), tracked changes, field codes, a text box
//! stored twice (the DrawingML shape and its legacy VML fallback), headers, footers, footnotes, tables, and
//! images with alternative text. The structures follow what Word 365 and python-docx write.

use std::io::Write;

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// A paragraph of runs, each piece a run of its own, as Word splits text after an edit: each run with its own
/// revision id and formatting, spell-check marks and a bookmark between them.
pub fn split(pieces: &[&str]) -> String {
    let mut xml = String::from(
        "<w:p w:rsidR=\"00B51F0A\" w:rsidRDefault=\"00E3D2C4\"><w:pPr><w:spacing w:after=\"120\"/></w:pPr>",
    );
    for (index, piece) in pieces.iter().enumerate() {
        if index % 2 == 1 {
            xml.push_str("<w:proofErr w:type=\"spellStart\"/>");
        }
        let bold = if index % 3 == 2 { "<w:b/><w:bCs/>" } else { "" };
        xml.push_str(&format!(
            "<w:r w:rsidRPr=\"00{index:06X}\"><w:rPr><w:rFonts w:ascii=\"Calibri\"/>{bold}<w:lang w:val=\"en-US\"/></w:rPr>\
             <w:t xml:space=\"preserve\">{}</w:t></w:r>",
            escape(piece)
        ));
        if index % 2 == 1 {
            xml.push_str("<w:proofErr w:type=\"spellEnd\"/>");
        }
        if index == 0 {
            xml.push_str("<w:bookmarkStart w:id=\"0\" w:name=\"_GoBack\"/><w:bookmarkEnd w:id=\"0\"/>");
        }
    }
    xml.push_str("</w:p>");
    xml
}

/// A paragraph of one run.
pub fn text(text: &str) -> String {
    split(&[text])
}

/// A table: rows of cells, each cell's paragraphs.
pub fn table(rows: &[Vec<String>]) -> String {
    let mut xml = String::from(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr><w:tblGrid><w:gridCol w:w=\"3000\"/></w:tblGrid>",
    );
    for row in rows {
        xml.push_str("<w:tr w:rsidR=\"00C01234\">");
        for cell in row {
            xml.push_str(&format!("<w:tc><w:tcPr><w:tcW w:w=\"3000\" w:type=\"dxa\"/></w:tcPr>{cell}</w:tc>"));
        }
        xml.push_str("</w:tr>");
    }
    xml.push_str("</w:tbl>");
    xml
}

/// A paragraph holding a floating text box with these paragraphs, written twice as Word writes it: the shape
/// (`mc:Choice`) and the legacy VML fallback (`mc:Fallback`) with the same text.
pub fn text_box(paragraphs: &str) -> String {
    format!(
        "<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wp:anchor distT=\"0\" distB=\"0\" \
         distL=\"114300\" distR=\"114300\" simplePos=\"0\" relativeHeight=\"251659264\" behindDoc=\"0\" locked=\"0\" \
         layoutInCell=\"1\" allowOverlap=\"1\"><wp:simplePos x=\"0\" y=\"0\"/><wp:extent cx=\"1828800\" cy=\"457200\"/>\
         <wp:docPr id=\"7\" name=\"Text Box 7\"/><a:graphic><a:graphicData \
         uri=\"http://schemas.microsoft.com/office/word/2010/wordprocessingShape\"><wps:wsp><wps:txbx><w:txbxContent>\
         {paragraphs}</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor>\
         </w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape id=\"Text Box 7\" type=\"#_x0000_t202\"><v:textbox>\
         <w:txbxContent>{paragraphs}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent>\
         </w:r></w:p>"
    )
}

/// A paragraph with an inline picture whose alternative text is `alt` (Word writes it on `wp:docPr` and again
/// on `pic:cNvPr`).
pub fn image(alt: &str) -> String {
    let alt = escape(alt);
    format!(
        "<w:p><w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent cx=\"914400\" \
         cy=\"914400\"/><wp:docPr id=\"3\" name=\"Picture 3\" descr=\"{alt}\"/><a:graphic><a:graphicData \
         uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><pic:pic><pic:nvPicPr><pic:cNvPr id=\"3\" \
         name=\"logo.png\" descr=\"{alt}\"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed=\"rId9\"/>\
         </pic:blipFill><pic:spPr/></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"
    )
}

/// A paragraph with tracked changes: `deleted` struck out (`w:delText`), `inserted` added, and a field whose
/// code holds `code` (`w:instrText`), shown as `shown`.
pub fn revisions(deleted: &str, inserted: &str, code: &str, shown: &str) -> String {
    format!(
        "<w:p><w:del w:id=\"1\" w:author=\"A\" w:date=\"2026-01-01T00:00:00Z\"><w:r><w:delText>{}</w:delText></w:r>\
         </w:del><w:ins w:id=\"2\" w:author=\"A\" w:date=\"2026-01-01T00:00:00Z\"><w:r><w:t>{}</w:t></w:r></w:ins>\
         <w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText xml:space=\"preserve\">{}</w:instrText></w:r>\
         <w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>{}</w:t></w:r><w:r><w:fldChar \
         w:fldCharType=\"end\"/></w:r><w:moveFrom w:id=\"3\" w:author=\"A\"><w:r><w:t>{{{{moved.away}}}}</w:t></w:r>\
         </w:moveFrom></w:p>",
        escape(deleted),
        escape(inserted),
        escape(code),
        escape(shown)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A document: the body's XML, and optional header, footer and footnotes paragraphs.
#[derive(Default)]
pub struct Document {
    pub body: String,
    pub header: Option<String>,
    pub footer: Option<String>,
    pub footnotes: Option<String>,
}

const ROOT_NAMESPACES: &str = "xmlns:wpc=\"http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas\" \
    xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\" \
    xmlns:o=\"urn:schemas-microsoft-com:office:office\" \
    xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" \
    xmlns:v=\"urn:schemas-microsoft-com:vml\" \
    xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\" \
    xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" \
    xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\" \
    xmlns:wps=\"http://schemas.microsoft.com/office/word/2010/wordprocessingShape\" \
    xmlns:w14=\"http://schemas.microsoft.com/office/word/2010/wordml\" mc:Ignorable=\"w14\"";

impl Document {
    pub fn body(body: impl Into<String>) -> Self {
        Self { body: body.into(), ..Self::default() }
    }

    /// The `.docx` bytes.
    pub fn docx(&self) -> Vec<u8> {
        let part = |root: &str, content: &str| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<w:{root} xmlns:w=\"{W}\" \
                 {ROOT_NAMESPACES}>{content}</w:{root}>"
            )
        };
        let mut files = vec![
            ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>".to_owned()),
            ("_rels/.rels", "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"/>".to_owned()),
            ("word/styles.xml", part("styles", "<w:style w:type=\"paragraph\" w:styleId=\"Normal\"><w:name w:val=\"{{not.a.tag}}\"/></w:style>")),
            ("word/document.xml", part("document", &format!("<w:body>{}<w:sectPr/></w:body>", self.body))),
        ];
        if let Some(header) = &self.header {
            files.push(("word/header1.xml", part("hdr", header)));
        }
        if let Some(footer) = &self.footer {
            files.push(("word/footer2.xml", part("ftr", footer)));
        }
        if let Some(footnotes) = &self.footnotes {
            files.push((
                "word/footnotes.xml",
                part("footnotes", &format!("<w:footnote w:id=\"1\">{footnotes}</w:footnote>")),
            ));
        }
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (name, content) in files {
            zip.start_file(name, options).expect("a zip entry");
            zip.write_all(content.as_bytes()).expect("written");
        }
        zip.finish().expect("the archive").into_inner()
    }
}
