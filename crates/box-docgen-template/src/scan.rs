//! From paragraphs to tags: each `{{…}}` found in the joined text, read, checked against the blocks around it
//! (loops and conditions end in the part they start in, in order), and listed as Box lists it.
//!
//! Box's listing (`GET /docgen_templates/{id}/tags`): each tag's `tag_content` as written, its `tag_type`, and
//! `json_paths` with every prefix of each path it reads; a path through a loop's item reads the loop's list
//! (`item.name` inside `{{for item in invoice.products}}` is `invoice.products.name`). What Box's reference
//! does not show, and this reading assumes: `{{else}}` and the end tags are not listed; a tag written twice is
//! listed twice, in document order (body, headers, footers, footnotes, endnotes).

use box_docgen_generated::open_enums::DocGenTagTagType as TagType;
use box_docgen_generated::types::DocGenTag;

use crate::content::{Paragraph, Piece, Tag};
use crate::docx::Source;
use crate::error::{Problem, ProblemKind};
use crate::place::{Part, Place, Within};
use crate::syntax::{self, Syntax};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    For,
    TableRow,
    If,
}

impl Block {
    fn end(self) -> &'static str {
        match self {
            Block::For => "endfor",
            Block::TableRow => "endtablerow",
            Block::If => "endif",
        }
    }

    fn opening(self) -> &'static str {
        match self {
            Block::For => "for",
            Block::TableRow => "tablerow",
            Block::If => "if",
        }
    }
}

struct Open {
    block: Block,
    tag: String,
    place: Place,
    around: String,
    /// For a loop: its item's name and the list it resolves to.
    alias: Option<(String, String)>,
}

/// Reads the tags of every part; the problems, when there are any.
pub(crate) fn scan(parts: Vec<Vec<Source>>) -> Result<Vec<Paragraph>, Vec<Problem>> {
    let mut paragraphs = Vec::new();
    let mut problems = Vec::new();
    for part in parts {
        let mut open: Vec<Open> = Vec::new();
        for source in part {
            paragraphs.push(paragraph(source, &mut open, &mut problems));
        }
        for block in open {
            let kind = ProblemKind::NotEnded { tag: block.tag, end: block.block.end() };
            problems.push(Problem { kind, place: block.place, around: block.around });
        }
    }
    if problems.is_empty() { Ok(paragraphs) } else { Err(problems) }
}

fn paragraph(source: Source, open: &mut Vec<Open>, problems: &mut Vec<Problem>) -> Paragraph {
    let Source { place, text, image } = source;
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("{{") {
        let start = at + found;
        let after = start + 2;
        let close = text[after..].find("}}").map(|end| after + end);
        let reopen = text[after..].find("{{").map(|next| after + next);
        let end = match (close, reopen) {
            (Some(close), reopen) if reopen.is_none_or(|reopen| close < reopen) => close,
            _ => {
                problems.push(Problem {
                    kind: ProblemKind::Unclosed,
                    place: place.clone(),
                    around: around(&text, start),
                });
                pieces.push(Piece::Text(text[at..after].to_owned()));
                at = after;
                continue;
            }
        };
        if start > at {
            pieces.push(Piece::Text(text[at..start].to_owned()));
        }
        let content = &text[start..end + 2];
        at = end + 2;
        let context = around(&text, start);
        match syntax::parse(&text[after..end], content) {
            Ok(syntax) => {
                let listing = structure(&syntax, content, &place, &context, image, open, problems);
                let tag = Tag { content: content.to_owned(), syntax, place: place.clone(), listing };
                pieces.push(Piece::Tag(tag));
            }
            Err(kind) => problems.push(Problem { kind, place: place.clone(), around: context }),
        }
    }
    if at < text.len() {
        pieces.push(Piece::Text(text[at..].to_owned()));
    }
    Paragraph { place, pieces }
}

/// Up to 30 characters either side of byte `at`, on one line.
fn around(text: &str, at: usize) -> String {
    let before: String = text[..at].chars().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
    let after: String = text[at..].chars().take(40).collect();
    format!("{before}{after}").replace(['\n', '\t'], " ").trim().to_owned()
}

/// Applies a tag to the blocks open, and lists it as Box would.
fn structure(
    syntax: &Syntax,
    content: &str,
    place: &Place,
    around: &str,
    image: bool,
    open: &mut Vec<Open>,
    problems: &mut Vec<Problem>,
) -> Option<DocGenTag> {
    let mut problem =
        |kind: ProblemKind| problems.push(Problem { kind, place: place.clone(), around: around.to_owned() });
    let aliases: Vec<(String, String)> = open.iter().filter_map(|block| block.alias.clone()).collect();
    let resolve = |path: &str| resolve(&aliases, path);
    let opening = |block: Block, alias: Option<(String, String)>| Open {
        block,
        tag: content.to_owned(),
        place: place.clone(),
        around: around.to_owned(),
        alias,
    };
    match syntax {
        Syntax::Value { expression, .. } => {
            let kind = match () {
                () if image => TagType::Image,
                () if expression.is_path() || expression.paths().is_empty() => TagType::Text,
                () => TagType::Arithmetic,
            };
            let paths: Vec<String> = expression.paths().into_iter().map(resolve).collect();
            Some(listing(content, kind, &paths))
        }
        Syntax::If(condition) | Syntax::ElseIf(condition) => {
            if matches!(syntax, Syntax::If(_)) {
                open.push(opening(Block::If, None));
            } else if open.last().map(|block| block.block) != Some(Block::If) {
                problem(ProblemKind::NoOpening { tag: content.to_owned(), opening: "if" });
            }
            let paths: Vec<String> = condition.paths().into_iter().map(resolve).collect();
            Some(listing(content, TagType::Conditional, &paths))
        }
        Syntax::For(each) | Syntax::TableRow(each) => {
            let (block, kind) = match syntax {
                Syntax::For(_) => (Block::For, TagType::ForLoop),
                _ => (Block::TableRow, TagType::TableLoop),
            };
            if block == Block::TableRow && !in_table(place) {
                problem(ProblemKind::TableRow { tag: content.to_owned() });
            }
            let list = resolve(&each.list);
            open.push(opening(block, Some((each.item.clone(), list.clone()))));
            Some(listing(content, kind, &[list]))
        }
        Syntax::Else => {
            if open.last().map(|block| block.block) != Some(Block::If) {
                problem(ProblemKind::NoOpening { tag: content.to_owned(), opening: "if" });
            }
            None
        }
        Syntax::EndIf | Syntax::EndFor | Syntax::EndTableRow => {
            let block = match syntax {
                Syntax::EndIf => Block::If,
                Syntax::EndFor => Block::For,
                _ => Block::TableRow,
            };
            match open.pop() {
                None => problem(ProblemKind::NoOpening { tag: content.to_owned(), opening: block.opening() }),
                Some(top) if top.block != block => {
                    problem(ProblemKind::Mismatched { tag: content.to_owned(), open: top.tag, end: top.block.end() });
                }
                Some(top) if block == Block::TableRow && !same_row(&top.place, place) => {
                    problem(ProblemKind::TableRow { tag: content.to_owned() });
                }
                Some(_) => {}
            }
            None
        }
    }
}

/// A plain-text template has no tables, so its table loops are not held to a row.
fn in_table(place: &Place) -> bool {
    place.part == Part::Text || matches!(place.within, Within::TableCell { .. })
}

/// Whether a table loop ends in the row it starts in (one that starts outside a table was reported there).
fn same_row(opening: &Place, end: &Place) -> bool {
    match (opening.within, end.within) {
        _ if !matches!(opening.within, Within::TableCell { .. }) => true,
        (Within::TableCell { table, row, .. }, Within::TableCell { table: t, row: r, .. }) => {
            opening.part == end.part && table == t && row == r
        }
        _ => false,
    }
}

/// `item.name` inside a loop `item in invoice.products` reads `invoice.products.name` (the innermost loop
/// naming `item` wins).
fn resolve(aliases: &[(String, String)], path: &str) -> String {
    let (head, tail) = path.split_once('.').map_or((path, None), |(head, tail)| (head, Some(tail)));
    match (aliases.iter().rev().find(|(item, _)| item == head), tail) {
        (Some((_, list)), Some(tail)) => format!("{list}.{tail}"),
        (Some((_, list)), None) => list.clone(),
        (None, _) => path.to_owned(),
    }
}

/// A tag as Box lists it: every prefix of each path, each once, in order.
fn listing(content: &str, kind: TagType, paths: &[String]) -> DocGenTag {
    let mut json_paths: Vec<String> = Vec::new();
    for path in paths {
        let mut prefix = String::new();
        for segment in path.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(segment);
            if !json_paths.contains(&prefix) {
                json_paths.push(prefix.clone());
            }
        }
    }
    DocGenTag { tag_content: content.to_owned(), tag_type: kind, json_paths }
}
