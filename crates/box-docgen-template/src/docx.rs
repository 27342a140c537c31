//! The text of a Word document, paragraph by paragraph, from its XML parts.
//!
//! A `.docx` is a zip archive; the text is in `word/document.xml` (the body, with its tables and text boxes),
//! `word/header<N>.xml`, `word/footer<N>.xml`, `word/footnotes.xml` and `word/endnotes.xml`. A paragraph
//! (`w:p`) holds runs (`w:r`) whose text (`w:t`) Word splits wherever formatting, spell-checking or editing
//! history changes: the paragraph's text is the runs' text joined, so a tag split over runs reads whole.
//! Deleted text of tracked changes (`w:delText`, `w:moveFrom`) and field codes (`w:instrText`) are not text; a
//! text box Word also stores as a legacy fallback (`mc:Fallback`) is read once; an image's alternative text
//! (`wp:docPr`'s `descr`) is where Box's image tags are written.

use std::io::Read;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use crate::{Error, Part, Place, Within};

/// A paragraph's text and where it is; `image` when the text is an image's alternative text.
#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) place: Place,
    pub(crate) text: String,
    pub(crate) image: bool,
}

/// The largest part read (Box's templates are at most 100 MB): a zip bomb stops here.
const MAX_PART: u64 = 256 * 1024 * 1024;

const WORD: &[&str] = &[
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    // Strict Open XML, as Word saves it on request.
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
];
const DRAWING: &[&str] = &[
    "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "http://purl.oclc.org/ooxml/drawingml/wordprocessingDrawing",
];
const COMPATIBILITY: &str = "http://schemas.openxmlformats.org/markup-compatibility/2006";

/// Every paragraph of the document with text (or an image's alternative text), part by part: the body, the
/// headers, the footers, the footnotes, the endnotes.
pub(crate) fn read(bytes: &[u8]) -> Result<Vec<Vec<Source>>, Error> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| Error::NotDocx(format!("not a zip archive ({e})")))?;
    let mut parts: Vec<(Part, String)> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter_map(|name| part(&name).map(|part| (part, name.into_owned())))
        .collect();
    if !parts.iter().any(|(part, _)| *part == Part::Body) {
        return Err(Error::NotDocx("no word/document.xml in the archive".into()));
    }
    parts.sort_by_key(|(part, _)| order(part));
    let mut all = Vec::new();
    for (part, name) in parts {
        let entry = archive.by_name(&name).map_err(|e| Error::NotDocx(format!("{name}: {e}")))?;
        let mut xml = String::new();
        entry
            .take(MAX_PART)
            .read_to_string(&mut xml)
            .map_err(|e| Error::NotDocx(format!("{name} cannot be read as UTF-8 XML: {e}")))?;
        all.push(Walker::new(part).walk(&xml).map_err(|e| Error::NotDocx(format!("{name}: {e}")))?);
    }
    Ok(all)
}

fn part(name: &str) -> Option<Part> {
    let number = |prefix: &str| -> Option<u32> {
        let digits = name.strip_prefix(prefix)?.strip_suffix(".xml")?;
        if digits.is_empty() { Some(0) } else { digits.parse().ok() }
    };
    match name {
        "word/document.xml" => Some(Part::Body),
        "word/footnotes.xml" => Some(Part::Footnotes),
        "word/endnotes.xml" => Some(Part::Endnotes),
        _ => number("word/header").map(Part::Header).or_else(|| number("word/footer").map(Part::Footer)),
    }
}

fn order(part: &Part) -> (u8, u32) {
    match part {
        Part::Body | Part::Text => (0, 0),
        Part::Header(n) => (1, *n),
        Part::Footer(n) => (2, *n),
        Part::Footnotes => (3, 0),
        Part::Endnotes => (4, 0),
    }
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    table: usize,
    row: usize,
    cell: usize,
}

/// Walks one part's XML.
struct Walker {
    part: Part,
    sources: Vec<Source>,
    /// The paragraphs open (a text box's paragraphs are inside a run of another), as indexes into `sources`.
    open: Vec<usize>,
    paragraphs: usize,
    tables: usize,
    cells: Vec<Cell>,
    text_boxes: usize,
    /// Inside `w:t`.
    in_text: bool,
    /// Depth inside elements whose content is not the document's text (`mc:Fallback`, `w:moveFrom`).
    skipped: usize,
}

impl Walker {
    fn new(part: Part) -> Self {
        Self {
            part,
            sources: Vec::new(),
            open: Vec::new(),
            paragraphs: 0,
            tables: 0,
            cells: Vec::new(),
            text_boxes: 0,
            in_text: false,
            skipped: 0,
        }
    }

    fn walk(mut self, xml: &str) -> Result<Vec<Source>, quick_xml::Error> {
        let mut reader = quick_xml::NsReader::from_str(xml);
        loop {
            let (namespace, event) = reader.read_resolved_event()?;
            let word = matches!(namespace, ResolveResult::Bound(Namespace(ns)) if WORD.contains(&ns));
            let drawing = matches!(namespace, ResolveResult::Bound(Namespace(ns)) if DRAWING.contains(&ns));
            let compatibility = matches!(namespace, ResolveResult::Bound(Namespace(ns)) if ns == COMPATIBILITY);
            match event {
                Event::Start(element) => {
                    let name = element.local_name();
                    let name = name.as_ref();
                    if (compatibility && name == "Fallback") || (word && name == "moveFrom") || self.skipped > 0 {
                        self.skipped += 1;
                    } else if word {
                        self.start(name);
                    } else if drawing && name == "docPr" {
                        self.alt_text(&element);
                    }
                }
                Event::Empty(element) => {
                    let name = element.local_name();
                    let name = name.as_ref();
                    if self.skipped > 0 {
                    } else if word {
                        match name {
                            "p" => {
                                self.start("p");
                                self.open.pop();
                            }
                            "tab" | "ptab" => self.push_text("\t"),
                            "br" | "cr" => self.push_text("\n"),
                            "noBreakHyphen" => self.push_text("-"),
                            _ => {}
                        }
                    } else if drawing && name == "docPr" {
                        self.alt_text(&element);
                    }
                }
                Event::End(element) => {
                    let name = element.local_name();
                    let name = name.as_ref();
                    if self.skipped > 0 {
                        self.skipped -= 1;
                    } else if word {
                        self.end(name);
                    }
                }
                Event::Text(text) if self.in_text && self.skipped == 0 => self.push_text(&text.xml10_content()),
                Event::CData(text) if self.in_text && self.skipped == 0 => {
                    self.push_text(&text.xml10_content());
                }
                Event::GeneralRef(reference) if self.in_text && self.skipped == 0 => {
                    let resolved = match reference.resolve_char_ref()? {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&reference).unwrap_or_default().to_owned(),
                    };
                    self.push_text(&resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(self.sources)
    }

    fn within(&self) -> Within {
        match (self.text_boxes, self.cells.last()) {
            (0, Some(cell)) => Within::TableCell { table: cell.table, row: cell.row, cell: cell.cell },
            (0, None) => Within::Text,
            _ => Within::TextBox,
        }
    }

    fn start(&mut self, name: &str) {
        match name {
            "p" => {
                self.paragraphs += 1;
                let place = Place { part: self.part.clone(), paragraph: self.paragraphs, within: self.within() };
                self.open.push(self.sources.len());
                self.sources.push(Source { place, text: String::new(), image: false });
            }
            "t" => self.in_text = true,
            "tbl" => {
                self.tables += 1;
                self.cells.push(Cell { table: self.tables, row: 0, cell: 0 });
            }
            "tr" => {
                if let Some(cell) = self.cells.last_mut() {
                    cell.row += 1;
                    cell.cell = 0;
                }
            }
            "tc" => {
                if let Some(cell) = self.cells.last_mut() {
                    cell.cell += 1;
                }
            }
            "txbxContent" => self.text_boxes += 1,
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "p" => {
                self.open.pop();
            }
            "t" => self.in_text = false,
            "tbl" => {
                self.cells.pop();
            }
            "txbxContent" => self.text_boxes = self.text_boxes.saturating_sub(1),
            _ => {}
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(&index) = self.open.last() {
            self.sources[index].text.push_str(text);
        }
    }

    /// An image's alternative text, as a source of its own (placed at the paragraph that holds the image).
    fn alt_text(&mut self, element: &BytesStart<'_>) {
        let Ok(Some(description)) = element.try_get_attribute("descr") else { return };
        let Ok(text) = description.normalized_value(quick_xml::XmlVersion::Implicit1_0) else { return };
        if text.contains("{{") {
            let paragraph = self.paragraphs.max(1);
            let place = Place { part: self.part.clone(), paragraph, within: Within::ImageAltText };
            self.sources.push(Source { place, text: text.into_owned(), image: true });
        }
    }
}
