//! Reading a large Word template offline: 200 pages, 2,000 tags (text with modifiers, table loops with
//! arithmetic, conditions, images), every tag split over runs as Word splits edited text, and paragraphs of
//! formatted filler between them: `Template::from_docx` from the file's bytes (unzip, XML, tags) to Box's list.

use std::io::Write;
use std::time::Instant;

use box_docgen_template::Template;

/// Lines of text on a page of the template (a Word page holds about 45).
const PARAGRAPHS_PER_PAGE: usize = 45;

fn run_xml(text: &str, bold: bool) -> String {
    let bold = if bold { "<w:b/>" } else { "" };
    format!(
        "<w:r w:rsidRPr=\"00A1B2C3\"><w:rPr><w:rFonts w:ascii=\"Calibri\" w:hAnsi=\"Calibri\"/>{bold}<w:sz w:val=\"22\"/>\
         <w:lang w:val=\"en-US\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    )
}

/// A paragraph whose tag is split over three runs, with a spell-check mark between, as Word leaves it.
fn tagged(before: &str, tag: &str, after: &str) -> String {
    let third = tag.len() / 3;
    let (a, rest) = tag.split_at(third);
    let (b, c) = rest.split_at(third);
    format!(
        "<w:p w:rsidR=\"00B1C2D3\"><w:pPr><w:spacing w:after=\"120\"/></w:pPr>{}{}<w:proofErr w:type=\"spellStart\"/>{}\
         <w:proofErr w:type=\"spellEnd\"/>{}{}</w:p>",
        run_xml(before, false),
        run_xml(a, true),
        run_xml(b, false),
        run_xml(c, true),
        run_xml(after, false)
    )
}

fn filler(n: usize) -> String {
    format!(
        "<w:p><w:pPr><w:jc w:val=\"both\"/></w:pPr>{}{}</w:p>",
        run_xml(&format!("Clause {n}. The parties agree that the terms set out here apply "), false),
        run_xml("to every order placed under this agreement, unless agreed otherwise in writing.", true)
    )
}

/// The template's document.xml: `pages` pages holding `tags` tags in all.
fn document(pages: usize, tags: usize) -> String {
    let paragraphs = pages * PARAGRAPHS_PER_PAGE;
    let mut body = String::new();
    let mut placed = 0;
    let mut section = 0;
    for n in 0..paragraphs {
        // Every so often a block of tags: 10 text tags, a table loop (4 tags), a condition, an image = 16 tags.
        if placed + 16 <= tags && n % (paragraphs / (tags / 16)).max(1) == 0 {
            section += 1;
            for field in 0..10 {
                let tag = format!("{{{{s{section}.f{field} :: default(\"n/a\")}}}}");
                body.push_str(&tagged(&format!("Field {field}: "), &tag, "."));
            }
            let cell = |content: String| {
                format!("<w:tc><w:tcPr><w:tcW w:w=\"2000\" w:type=\"dxa\"/></w:tcPr>{content}</w:tc>")
            };
            body.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/></w:tblPr><w:tr>");
            body.push_str(&cell(tagged(
                "",
                &format!("{{{{tablerow item in s{section}.lines}}}}{{{{item.name}}}}"),
                "",
            )));
            body.push_str(&cell(tagged("", "{{item.quantity}}", "")));
            body.push_str(&cell(tagged("", "{{item.price * item.quantity}}{{endtablerow}}", "")));
            body.push_str("</w:tr></w:tbl>");
            body.push_str(&tagged("", &format!("{{{{if s{section}.total > 1000}}}}Large order.{{{{endif}}}}"), ""));
            body.push_str(&format!(
                "<w:p><w:r><w:drawing><wp:inline><wp:docPr id=\"{section}\" name=\"Picture\" \
                 descr=\"{{{{s{section}.logo}}}}\"/></wp:inline></w:drawing></w:r></w:p>"
            ));
            placed += 16;
        } else {
            body.push_str(&filler(n));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<w:document \
         xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
         xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\"><w:body>{body}<w:sectPr/>\
         </w:body></w:document>"
    )
}

/// The template as a .docx (deflated, as Word saves it).
pub fn docx(pages: usize, tags: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", options).expect("an entry");
    zip.write_all(
        b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>",
    )
    .expect("written");
    zip.start_file("word/document.xml", options).expect("an entry");
    zip.write_all(document(pages, tags).as_bytes()).expect("written");
    zip.finish().expect("an archive").into_inner()
}

/// Figures of one run: the file's size, the tags read, and the median milliseconds per read.
pub struct Figures {
    pages: usize,
    bytes: usize,
    xml_bytes: usize,
    tags: usize,
    millis: f64,
}

pub fn run(pages: usize, tags: usize, rounds: usize) -> Figures {
    let bytes = docx(pages, tags);
    let xml_bytes = document(pages, tags).len();
    let read = Template::from_docx(&bytes).expect("the template reads");
    let listed = read.tags().len();
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let template = Template::from_docx(std::hint::black_box(&bytes)).expect("reads");
            std::hint::black_box(template.tags());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Figures { pages, bytes: bytes.len(), xml_bytes, tags: listed, millis: times[times.len() / 2] }
}

pub fn report(figures: &Figures) -> String {
    let Figures { pages, bytes, xml_bytes, tags, millis } = figures;
    format!(
        "\n### Reading a Word template offline (box-docgen-template)\n\n| pages | .docx | document.xml | tags listed | ms per read (unzip, XML, tags) |\n|---|---|---|---|---|\n| {pages} | {} KB | {} KB | {tags} | {millis:.1} |\n",
        bytes / 1024,
        xml_bytes / 1024
    )
}
