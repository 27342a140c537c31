//! What one tag says: a value to print (with modifiers), a condition, a loop, or an end.
//!
//! From Box's Template Tags Reference: `{{path}}` and calculations print a value, with modifiers after `::`
//! (`optional`, `default("…")`, `uppercase`, `lowercase`, `format("…")`); `{{if …}}`, `{{elseif …}}`,
//! `{{else}}`, `{{endif}}` print a block on a condition; `{{for item in list}}` … `{{endfor}}` repeat a block
//! and `{{tablerow item in list}}` … `{{endtablerow}}` a table row, once per element of the list.

use crate::error::ProblemKind;
use crate::expression::{self, Expression};

/// What a tag says.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Syntax {
    /// A value to print: a path (a text tag), a calculation (arithmetic), or, in an image's alternative text, an
    /// image.
    Value {
        /// What to print.
        expression: Expression,
        /// The modifiers after `::`, in order.
        modifiers: Vec<Modifier>,
    },
    /// `{{if …}}`.
    If(Expression),
    /// `{{elseif …}}`.
    ElseIf(Expression),
    /// `{{else}}`.
    Else,
    /// `{{endif}}`.
    EndIf,
    /// `{{for item in list}}`.
    For(Loop),
    /// `{{endfor}}`.
    EndFor,
    /// `{{tablerow item in list}}`.
    TableRow(Loop),
    /// `{{endtablerow}}`.
    EndTableRow,
}

/// A loop's names: `item in invoice.products`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loop {
    /// The name each element gets (`item`).
    pub item: String,
    /// The list, as written (`invoice.products`, or `item.parts` inside another loop).
    pub list: String,
}

/// A modifier after `::` in a value tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Modifier {
    /// `optional`: missing data prints nothing.
    Optional,
    /// `default("Box Inc")`: missing data prints this.
    Default(String),
    /// `uppercase`.
    Uppercase,
    /// `lowercase`.
    Lowercase,
    /// `format("…")`: `"US-Number"`, `"EU-Number"`, a date pattern (`"dd-mm-yyyy"`), a mask (`"xxx-xxxx"`).
    Format(String),
    /// A modifier Box's reference does not list, as written (kept, not refused: Box may know it).
    Other(String),
}

impl Syntax {
    /// Whether missing data prints nothing (or a default) rather than the raw tag.
    pub fn is_lenient(&self) -> bool {
        match self {
            Syntax::Value { modifiers, .. } => {
                modifiers.iter().any(|modifier| matches!(modifier, Modifier::Optional | Modifier::Default(_)))
            }
            _ => true,
        }
    }
}

/// Reads the inside of `{{…}}` (`tag` is the whole tag, for messages).
pub(crate) fn parse(inner: &str, tag: &str) -> Result<Syntax, ProblemKind> {
    let inner = inner.trim();
    let (keyword, rest) = inner.split_once(char::is_whitespace).map_or((inner, ""), |(k, rest)| (k, rest.trim()));
    let condition = |rest: &str| expression::parse(rest, tag);
    match (keyword, rest.is_empty()) {
        ("else", true) => Ok(Syntax::Else),
        ("endif", true) => Ok(Syntax::EndIf),
        ("endfor", true) => Ok(Syntax::EndFor),
        ("endtablerow", true) => Ok(Syntax::EndTableRow),
        ("if", false) => Ok(Syntax::If(condition(rest)?)),
        ("elseif", false) => Ok(Syntax::ElseIf(condition(rest)?)),
        ("for", false) => Ok(Syntax::For(parse_loop(rest, tag, "for")?)),
        ("tablerow", false) => Ok(Syntax::TableRow(parse_loop(rest, tag, "tablerow")?)),
        ("if" | "elseif", true) => {
            Err(ProblemKind::Expression { tag: tag.to_owned(), reason: format!("`{keyword}` needs a condition") })
        }
        ("for", true) => Err(ProblemKind::Loop { tag: tag.to_owned(), keyword: "for" }),
        ("tablerow", true) => Err(ProblemKind::Loop { tag: tag.to_owned(), keyword: "tablerow" }),
        _ => {
            let mut pieces = split_modifiers(inner).into_iter();
            let expression = expression::parse(pieces.next().unwrap_or_default(), tag)?;
            let modifiers = pieces.map(modifier).collect();
            Ok(Syntax::Value { expression, modifiers })
        }
    }
}

fn parse_loop(rest: &str, tag: &str, keyword: &'static str) -> Result<Loop, ProblemKind> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [item, "in", list] = words.as_slice() else {
        return Err(ProblemKind::Loop { tag: tag.to_owned(), keyword });
    };
    for name in [item, list] {
        if !expression::parse(name, tag)?.is_path() {
            return Err(ProblemKind::Loop { tag: tag.to_owned(), keyword });
        }
    }
    if item.contains('.') {
        return Err(ProblemKind::Loop { tag: tag.to_owned(), keyword });
    }
    Ok(Loop { item: (*item).to_owned(), list: (*list).to_owned() })
}

/// Splits at `::` outside quotes: the expression, then each modifier.
fn split_modifiers(inner: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut chars = inner.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match quote {
            Some(open) if c == open || (open == '\u{201c}' && c == '\u{201d}') => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '\u{201c}') => quote = Some(c),
            None if c == ':' && chars.peek().is_some_and(|(_, next)| *next == ':') => {
                pieces.push(inner[start..at].trim());
                chars.next();
                start = at + 2;
            }
            None => {}
        }
    }
    pieces.push(inner[start..].trim());
    pieces
}

fn modifier(text: &str) -> Modifier {
    let argument = |name: &str| {
        let rest = text.strip_prefix(name)?.trim_start().strip_prefix('(')?.strip_suffix(')')?.trim();
        let unquoted = rest.trim_start_matches(['"', '\u{201c}', '\u{201d}', '\'']);
        Some(unquoted.trim_end_matches(['"', '\u{201c}', '\u{201d}', '\'']).to_owned())
    };
    match text {
        "optional" => Modifier::Optional,
        "uppercase" => Modifier::Uppercase,
        "lowercase" => Modifier::Lowercase,
        _ => match (argument("default"), argument("format")) {
            (Some(value), _) => Modifier::Default(value),
            (_, Some(pattern)) => Modifier::Format(pattern),
            _ => Modifier::Other(text.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_follow_double_colons_outside_quotes() {
        let Ok(Syntax::Value { modifiers, .. }) =
            parse("name :: default(\u{201c}Box :: Inc\u{201d}) :: uppercase", "t")
        else {
            panic!("a value");
        };
        assert_eq!(modifiers, [Modifier::Default("Box :: Inc".into()), Modifier::Uppercase]);
        let Ok(Syntax::Value { modifiers, .. }) = parse("date :: format( \"dd-mm-yyyy\") ", "t") else { panic!() };
        assert_eq!(modifiers, [Modifier::Format("dd-mm-yyyy".into())]);
    }

    #[test]
    fn loops_name_an_item_and_a_list() {
        let loop_ = Loop { item: "item".into(), list: "invoice.products".into() };
        assert_eq!(parse("tablerow item in invoice.products", "t"), Ok(Syntax::TableRow(loop_)));
        for bad in ["for item products", "for item in", "for a.b in list", "for item in a b"] {
            assert!(matches!(parse(bad, "t"), Err(ProblemKind::Loop { .. })), "{bad}");
        }
        assert_eq!(parse("endfor", "t"), Ok(Syntax::EndFor));
        assert!(parse("if", "t").is_err(), "a condition needs an expression");
    }
}
