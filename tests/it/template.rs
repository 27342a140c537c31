//! Templates read offline (box-docgen-template): the tags of `.docx` files built as Word writes them (see
//! `word.rs`), listed as Box lists them, for every kind of tag in Box's Template Tags Reference; malformed
//! templates give problems that say where; files that are not Word documents are refused, never a panic.

use box_docgen::{DocGenTag, TagType};
use box_docgen_template::{DocxWriter, Error, Part, ProblemKind, Template, Within};
use proptest::prelude::*;

use crate::word::{self, Document};

/// A tag as Box lists it: content, type, paths.
type Listed = (String, String, Vec<String>);

fn listing(tags: &[DocGenTag]) -> Vec<Listed> {
    tags.iter().map(|tag| (tag.tag_content.clone(), tag.tag_type.to_string(), tag.json_paths.clone())).collect()
}

fn expect(rows: &[(&str, TagType, &[&str])]) -> Vec<Listed> {
    rows.iter()
        .map(|(content, kind, paths)| {
            ((*content).to_owned(), kind.to_string(), paths.iter().map(|path| (*path).to_owned()).collect())
        })
        .collect()
}

fn tags_of(document: &Document) -> Vec<Listed> {
    let template = Template::from_docx(&document.docx()).unwrap_or_else(|e| panic!("{e}"));
    listing(&template.tags())
}

#[test]
fn a_word_document_gives_the_tags_box_lists_from_every_part() {
    let row = vec![
        word::split(&["{{table", "row item in invoice.", "products}}", "{{item.", "name}}"]),
        word::split(&["{{item.quantity * ", "item.price}}"]),
        word::split(&["{{item.price :: format(\u{201c}US-Number\u{201d})}}{{end", "tablerow}}"]),
    ];
    let document = Document {
        body: [
            word::split(&["Dear {{", "customer", ".", "name}}", ","]),
            word::table(&[vec![word::text("Item"), word::text("Qty"), word::text("Price")], row]),
            word::text_box(&word::split(&["{{note :: ", "optional}}"])),
            word::image("{{invoice.logo}}"),
            word::revisions("{{old.tag}}", "{{new.tag}}", " MERGEFIELD {{field.code}} ", "\u{ab}shown\u{bb}"),
            word::text("Total: {{$sum(invoice.products.amount)}} &amp; {{if invoice.paid}}paid{{else}}due{{endif}}"),
        ]
        .concat(),
        header: Some(word::split(&["{{company", ".name}}"])),
        footer: Some(word::text("Page footer {{company.phone :: default(\"n/a\")}}")),
        footnotes: Some(word::text("{{legal.note :: optional}}")),
    };
    assert_eq!(
        tags_of(&document),
        expect(&[
            ("{{customer.name}}", TagType::Text, &["customer", "customer.name"]),
            ("{{tablerow item in invoice.products}}", TagType::TableLoop, &["invoice", "invoice.products"]),
            ("{{item.name}}", TagType::Text, &["invoice", "invoice.products", "invoice.products.name"]),
            (
                "{{item.quantity * item.price}}",
                TagType::Arithmetic,
                &["invoice", "invoice.products", "invoice.products.quantity", "invoice.products.price"],
            ),
            (
                "{{item.price :: format(\u{201c}US-Number\u{201d})}}",
                TagType::Text,
                &["invoice", "invoice.products", "invoice.products.price"],
            ),
            ("{{note :: optional}}", TagType::Text, &["note"]),
            ("{{invoice.logo}}", TagType::Image, &["invoice", "invoice.logo"]),
            ("{{new.tag}}", TagType::Text, &["new", "new.tag"]),
            (
                "{{$sum(invoice.products.amount)}}",
                TagType::Arithmetic,
                &["invoice", "invoice.products", "invoice.products.amount"],
            ),
            ("{{if invoice.paid}}", TagType::Conditional, &["invoice", "invoice.paid"]),
            ("{{company.name}}", TagType::Text, &["company", "company.name"]),
            ("{{company.phone :: default(\"n/a\")}}", TagType::Text, &["company", "company.phone"]),
            ("{{legal.note :: optional}}", TagType::Text, &["legal", "legal.note"]),
        ])
    );
}

/// Box's Template Tags Reference and API description, example by example: the template as Box shows it, and
/// the listing its rules give (the API description's own example, `{{item.name}}` → `products`,
/// `products.name`, among them). Box's pages show templates and outputs, not listings, for the other kinds.
type Case<'a> = (Document, Vec<(&'a str, TagType, Vec<String>)>);

#[test]
fn every_kind_of_tag_in_boxs_reference_is_listed_as_box_lists_it() {
    let text = |paths: &[&str]| paths.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    let cases: Vec<Case<'_>> = vec![
        // Text tags, and each modifier the reference shows (Word's curly quotes, the space before `)`).
        (
            Document::body(word::text(
                "Invoice id: {{invoice.id}} Customer: {{invoice.customerName :: optional}} \
                 {{invoice.customerName :: default(\u{201c}Box Inc\u{201d})}} {{invoice.customerName :: uppercase}} \
                 {{invoice.date :: format( \u{201c}dd-mm-yyyy\u{201d}) }} {{invoice.id :: format(\u{201c}xxx-xxxx\u{201d}) }} \
                 {{invoice.amount :: format(\u{201c}EU-Number\u{201d}) }}",
            )),
            vec![
                ("{{invoice.id}}", TagType::Text, text(&["invoice", "invoice.id"])),
                ("{{invoice.customerName :: optional}}", TagType::Text, text(&["invoice", "invoice.customerName"])),
                (
                    "{{invoice.customerName :: default(\u{201c}Box Inc\u{201d})}}",
                    TagType::Text,
                    text(&["invoice", "invoice.customerName"]),
                ),
                ("{{invoice.customerName :: uppercase}}", TagType::Text, text(&["invoice", "invoice.customerName"])),
                (
                    "{{invoice.date :: format( \u{201c}dd-mm-yyyy\u{201d}) }}",
                    TagType::Text,
                    text(&["invoice", "invoice.date"]),
                ),
                (
                    "{{invoice.id :: format(\u{201c}xxx-xxxx\u{201d}) }}",
                    TagType::Text,
                    text(&["invoice", "invoice.id"]),
                ),
                (
                    "{{invoice.amount :: format(\u{201c}EU-Number\u{201d}) }}",
                    TagType::Text,
                    text(&["invoice", "invoice.amount"]),
                ),
            ],
        ),
        // Nested objects: every prefix (Box's API guide: contract, contract.customerAddress, ...street).
        (
            Document::body(word::text("{{contract.customerAddress.street}}")),
            vec![(
                "{{contract.customerAddress.street}}",
                TagType::Text,
                text(&["contract", "contract.customerAddress", "contract.customerAddress.street"]),
            )],
        ),
        // Lists: the API description's example.
        (
            Document::body(
                [word::text("{{for item in products}}"), word::text("- {{item.name}}"), word::text("{{endfor}}")]
                    .concat(),
            ),
            vec![
                ("{{for item in products}}", TagType::ForLoop, text(&["products"])),
                ("{{item.name}}", TagType::Text, text(&["products", "products.name"])),
            ],
        ),
        // Nested lists: the inner loop's list through the outer item.
        (
            Document::body(word::text("{{for p in order.products}}{{for t in p.tags}}{{t.label}}{{endfor}}{{endfor}}")),
            vec![
                ("{{for p in order.products}}", TagType::ForLoop, text(&["order", "order.products"])),
                ("{{for t in p.tags}}", TagType::ForLoop, text(&["order", "order.products", "order.products.tags"])),
                (
                    "{{t.label}}",
                    TagType::Text,
                    text(&["order", "order.products", "order.products.tags", "order.products.tags.label"]),
                ),
            ],
        ),
        // Tables: one row repeated, the loop in its first cell and the end in its last.
        (
            Document::body(word::table(&[vec![
                word::text("{{tablerow item in invoice.products}}{{item.name}}"),
                word::text("{{item.quantity}}{{endtablerow}}"),
            ]])),
            vec![
                ("{{tablerow item in invoice.products}}", TagType::TableLoop, text(&["invoice", "invoice.products"])),
                ("{{item.name}}", TagType::Text, text(&["invoice", "invoice.products", "invoice.products.name"])),
                (
                    "{{item.quantity}}",
                    TagType::Text,
                    text(&["invoice", "invoice.products", "invoice.products.quantity"]),
                ),
            ],
        ),
        // Conditions: if, elseif, else, endif; comparisons with strings and numbers.
        (
            Document::body(word::text(
                "{{if invoice.amount > 1000}}big{{elseif invoice.currency == \u{201c}EUR\u{201d}}}euro{{else}}small{{endif}}",
            )),
            vec![
                ("{{if invoice.amount > 1000}}", TagType::Conditional, text(&["invoice", "invoice.amount"])),
                (
                    "{{elseif invoice.currency == \u{201c}EUR\u{201d}}}",
                    TagType::Conditional,
                    text(&["invoice", "invoice.currency"]),
                ),
            ],
        ),
        // Calculations: on fields, and a function over a list.
        (
            Document::body(word::text("{{invoice.amount * 0.2}} {{$sum(invoice.products.amount)}}")),
            vec![
                ("{{invoice.amount * 0.2}}", TagType::Arithmetic, text(&["invoice", "invoice.amount"])),
                (
                    "{{$sum(invoice.products.amount)}}",
                    TagType::Arithmetic,
                    text(&["invoice", "invoice.products", "invoice.products.amount"]),
                ),
            ],
        ),
        // Images: the tag in a placeholder picture's alternative text.
        (
            Document::body(word::image("{{invoice.logo}}")),
            vec![("{{invoice.logo}}", TagType::Image, text(&["invoice", "invoice.logo"]))],
        ),
    ];
    for (document, expected) in cases {
        let expected: Vec<(String, String, Vec<String>)> =
            expected.into_iter().map(|(content, kind, paths)| (content.to_owned(), kind.to_string(), paths)).collect();
        assert_eq!(tags_of(&document), expected);
    }
}

fn problems(document: &Document) -> Vec<(ProblemKind, String, String)> {
    match Template::from_docx(&document.docx()) {
        Err(Error::Malformed(problems)) => {
            problems.into_iter().map(|problem| (problem.kind, problem.place.to_string(), problem.around)).collect()
        }
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn malformed_templates_say_what_and_where() {
    let document = Document {
        body: [
            word::text("Intro"),
            word::table(&[
                vec![word::text("Name"), word::split(&["Total {{invoice", ".total"])],
                vec![word::text("{{tablerow item in items}}{{item.name}}"), word::text("x")],
                vec![word::text("{{endtablerow}}"), word::text("{{first name}} and {{last-name}}")],
            ]),
            word::text("{{endif}} {{for x in xs}}{{endtablerow}}"),
            word::text("{{tablerow y in ys}}{{endtablerow}}"),
            word::text("{{a +}}"),
        ]
        .concat(),
        header: Some(word::text("{{for line in lines}}{{line.text}}")),
        ..Document::default()
    };
    let found = problems(&document);
    let expected = [
        (ProblemKind::Unclosed, "body, table 1 row 1 cell 2 (paragraph 3)", "Total {{invoice.total"),
        (
            ProblemKind::TableRow { tag: "{{endtablerow}}".into() },
            "body, table 1 row 3 cell 1 (paragraph 6)",
            "{{endtablerow}}",
        ),
        (
            ProblemKind::Space { name: "first name".into() },
            "body, table 1 row 3 cell 2 (paragraph 7)",
            "{{first name}} and {{last-name}}",
        ),
        (
            ProblemKind::Hyphen { name: "last-name".into() },
            "body, table 1 row 3 cell 2 (paragraph 7)",
            "{{first name}} and {{last-name}}",
        ),
        (
            ProblemKind::NoOpening { tag: "{{endif}}".into(), opening: "if" },
            "body, paragraph 8",
            "{{endif}} {{for x in xs}}{{endtablerow}}",
        ),
        (
            ProblemKind::Mismatched { tag: "{{endtablerow}}".into(), open: "{{for x in xs}}".into(), end: "endfor" },
            "body, paragraph 8",
            "{{endif}} {{for x in xs}}{{endtablerow}}",
        ),
        (
            ProblemKind::TableRow { tag: "{{tablerow y in ys}}".into() },
            "body, paragraph 9",
            "{{tablerow y in ys}}{{endtablerow}}",
        ),
        (
            ProblemKind::Expression {
                tag: "{{a +}}".into(),
                reason: "the expression ends where a value was expected".into(),
            },
            "body, paragraph 10",
            "{{a +}}",
        ),
        (
            ProblemKind::NotEnded { tag: "{{for line in lines}}".into(), end: "endfor" },
            "header 1, paragraph 1",
            "{{for line in lines}}{{line.text}}",
        ),
    ];
    let expected: Vec<(ProblemKind, String, String)> =
        expected.into_iter().map(|(kind, place, around)| (kind, place.to_owned(), around.to_owned())).collect();
    assert_eq!(found, expected);
    // A table loop left open in the body: reported where it starts; the message names the place and the text.
    let found = problems(&Document::body(word::table(&[vec![word::text("{{tablerow i in list}}")]])));
    assert_eq!(found[0].0, ProblemKind::NotEnded { tag: "{{tablerow i in list}}".into(), end: "endtablerow" });
    let error = Template::from_docx(&Document::body(word::text("Dear {{first name}},")).docx()).expect_err("a problem");
    assert_eq!(
        error.to_string(),
        "1 problem with the template's tags\n  body, paragraph 1: `first name`: Box does not support spaces in tag \
         names (write firstName or first_name) (in \"Dear {{first name}},\")"
    );
}

#[test]
fn places_name_parts_cells_text_boxes_and_images() {
    let document = Document {
        body: [word::text("a"), word::text_box(&word::text("{{boxed}}")), word::image("{{pic}}")].concat(),
        footer: Some(word::text("{{foot}}")),
        ..Document::default()
    };
    let template = Template::from_docx(&document.docx()).expect("reads");
    let places: Vec<(String, Part, Within)> =
        template.all_tags().map(|tag| (tag.content.clone(), tag.place.part.clone(), tag.place.within)).collect();
    assert_eq!(
        places,
        [
            ("{{boxed}}".to_owned(), Part::Body, Within::TextBox),
            ("{{pic}}".to_owned(), Part::Body, Within::ImageAltText),
            ("{{foot}}".to_owned(), Part::Footer(2), Within::Text),
        ]
    );
}

#[test]
fn files_that_are_not_word_documents_are_refused() {
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let mut no_document = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    no_document.start_file("content.xml", zip::write::SimpleFileOptions::default()).expect("an entry");
    let no_document = no_document.finish().expect("a zip").into_inner();
    let mut broken_xml = Document::body("<w:p><w:r><w:t>{{a}}</w:r></w:p>").docx();
    let cut = Document::body(word::text("{{a}}")).docx()[..200].to_vec();
    for (what, bytes) in [
        ("a PDF", pdf),
        ("a zip without document.xml", no_document),
        ("broken XML", std::mem::take(&mut broken_xml)),
        ("a cut file", cut),
    ] {
        match Template::from_docx(&bytes) {
            Err(Error::NotDocx(reason)) => assert!(!reason.is_empty(), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn the_writer_writes_what_the_reader_reads() {
    let docx = DocxWriter::new()
        .header("{{company}}")
        .paragraph("M\u{fc}ller & S\u{f6}hne <GmbH> {{customer.name}}\nsecond line")
        .table(&[&["{{tablerow i in items}}{{i.sku}}", "{{endtablerow}}"]])
        .image("{{logo}}")
        .footer("{{footer.text :: optional}}")
        .finish();
    let template = Template::from_docx(&docx).expect("reads");
    let contents: Vec<String> = template.tags().into_iter().map(|tag| tag.tag_content).collect();
    assert_eq!(
        contents,
        [
            "{{customer.name}}",
            "{{tablerow i in items}}",
            "{{i.sku}}",
            "{{logo}}",
            "{{company}}",
            "{{footer.text :: optional}}"
        ]
    );
    let first = &template.paragraphs()[0];
    let text: String = first
        .pieces
        .iter()
        .map(|piece| match piece {
            box_docgen_template::Piece::Text(text) => text.clone(),
            box_docgen_template::Piece::Tag(tag) => tag.content.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(text, "M\u{fc}ller & S\u{f6}hne <GmbH> {{customer.name}}\nsecond line");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any bytes, and any cut or damaged Word document: an error or tags, never a panic.
    #[test]
    fn any_bytes_give_an_error_or_tags(noise in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..2000, flip in 0usize..2000) {
        let _ = Template::from_docx(&noise);
        let mut docx = DocxWriter::new().paragraph("{{a}} {{for x in y}}{{x.b}}{{endfor}}").image("{{c}}").finish();
        let _ = Template::from_docx(&docx[..cut.min(docx.len())]);
        let at = flip % docx.len();
        docx[at] ^= 0x5a;
        let _ = Template::from_docx(&docx);
    }

    /// Any text in a template: problems or tags, never a panic.
    #[test]
    fn any_text_gives_problems_or_tags(text in "[{}a-z .:()\"*+$-]{0,60}") {
        let _ = Template::from_text(&text);
    }
}
