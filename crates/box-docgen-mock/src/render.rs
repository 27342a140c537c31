//! What the stand-in prints in a generated document: the template's text with the data filled in, text only
//! (no layout, fonts or images: an image tag prints `[image]`; a table row is a line with its cells between
//! ` | `; headers first, footers last). Box's documented behaviour where it has one:
//! loops repeat their block once per element, conditions choose a branch, modifiers apply (`optional`,
//! `default`, `uppercase`, `lowercase`, `format("US-Number")`, `format("EU-Number")`, masks such as
//! `format("xxx-xxxx")`), and a tag whose data is missing prints as written. Date formats print the value as
//! given (the stand-in does not reformat dates).

use box_docgen_template::{
    Binary, Expression, Modifier, Paragraph, Part, Piece, Syntax, Tag, TagType, Template, Unary, Within,
};
use serde_json::Value;

enum Event<'a> {
    Text(&'a str),
    Tag(&'a Tag),
    /// The end of a paragraph.
    Break,
    /// The end of a table cell, with another cell of its row next.
    Cell,
}

/// Where a part prints: headers first, then the body and notes, footers last.
fn rank(part: &Part) -> u8 {
    match part {
        Part::Header(_) => 0,
        Part::Footer(_) => 2,
        _ => 1,
    }
}

/// The table row a paragraph is in.
fn row(paragraph: &Paragraph) -> Option<(&Part, usize, usize)> {
    match paragraph.place.within {
        Within::TableCell { table, row, .. } => Some((&paragraph.place.part, table, row)),
        _ => None,
    }
}

/// The document's lines for `data`.
pub(crate) fn render(template: &Template, data: &Value) -> Vec<String> {
    let mut paragraphs: Vec<&Paragraph> = template.paragraphs().iter().collect();
    paragraphs.sort_by_key(|paragraph| rank(&paragraph.place.part));
    let mut events = Vec::new();
    for (index, paragraph) in paragraphs.iter().enumerate() {
        for piece in &paragraph.pieces {
            match piece {
                // An image's alternative text is not the document's text: only its tags print.
                Piece::Text(_) if paragraph.place.within == Within::ImageAltText => {}
                Piece::Text(text) => events.push(Event::Text(text)),
                Piece::Tag(tag) => events.push(Event::Tag(tag)),
                _ => {}
            }
        }
        let same_row =
            row(paragraph).is_some() && paragraphs.get(index + 1).and_then(|next| row(next)) == row(paragraph);
        events.push(if same_row { Event::Cell } else { Event::Break });
    }
    let mut output = Output::default();
    let mut scope = Scope { root: data, items: Vec::new() };
    block(&events, &mut scope, &mut output);
    output.lines
}

#[derive(Default)]
struct Output {
    lines: Vec<String>,
    line: String,
}

struct Scope<'a> {
    root: &'a Value,
    items: Vec<(&'a str, &'a Value)>,
}

impl<'a> Scope<'a> {
    /// Every value at `path` (a path through a list reaches each element's value).
    fn values(&self, path: &str) -> Vec<&'a Value> {
        let mut segments = path.split('.');
        let head = segments.next().unwrap_or_default();
        let start = match self.items.iter().rev().find(|(item, _)| *item == head) {
            Some((_, value)) => vec![*value],
            None => step(&[self.root], head),
        };
        segments.fold(start, |values, segment| step(&values, segment))
    }

    /// The value at `path`, when there is exactly one (not through a list) and it is not null.
    fn value(&self, path: &str) -> Option<&'a Value> {
        match self.values(path).as_slice() {
            [value] if !value.is_null() => Some(value),
            _ => None,
        }
    }
}

fn step<'a>(values: &[&'a Value], segment: &str) -> Vec<&'a Value> {
    let mut next = Vec::new();
    for value in values {
        match value {
            Value::Object(object) => next.extend(object.get(segment)),
            Value::Array(items) => next.extend(step(&items.iter().collect::<Vec<_>>(), segment)),
            _ => {}
        }
    }
    next
}

/// How deep a tag takes the blocks: +1 for an opening, -1 for an end.
fn depth(tag: &Tag) -> i32 {
    match tag.syntax {
        Syntax::If(_) | Syntax::For(_) | Syntax::TableRow(_) => 1,
        Syntax::EndIf | Syntax::EndFor | Syntax::EndTableRow => -1,
        _ => 0,
    }
}

/// The index of the end of the block opened at `start`, and the branches (`elseif`, `else`) on its level.
fn extent(events: &[Event<'_>], start: usize) -> (Vec<usize>, usize) {
    let mut level = 0;
    let mut branches = Vec::new();
    for (index, event) in events.iter().enumerate().skip(start) {
        let Event::Tag(tag) = event else { continue };
        level += depth(tag);
        if level == 1 && matches!(tag.syntax, Syntax::ElseIf(_) | Syntax::Else) {
            branches.push(index);
        }
        if level == 0 {
            return (branches, index);
        }
    }
    (branches, events.len())
}

fn block<'a>(events: &'a [Event<'a>], scope: &mut Scope<'a>, output: &mut Output) {
    let mut index = 0;
    while index < events.len() {
        match &events[index] {
            Event::Text(text) => output.line.push_str(text),
            Event::Break => output.lines.push(std::mem::take(&mut output.line)),
            Event::Cell => output.line.push_str(" | "),
            Event::Tag(tag) => match &tag.syntax {
                Syntax::Value { expression, modifiers } => {
                    output.line.push_str(&value(tag, expression, modifiers, scope))
                }
                Syntax::For(each) | Syntax::TableRow(each) => {
                    let (_, end) = extent(events, index);
                    let body = &events[index + 1..end.min(events.len())];
                    let items: Vec<&Value> = match scope.value(&each.list) {
                        Some(Value::Array(items)) => items.iter().collect(),
                        _ => Vec::new(),
                    };
                    let table_row = matches!(tag.syntax, Syntax::TableRow(_));
                    for item in items {
                        scope.items.push((each.item.as_str(), item));
                        block(body, scope, output);
                        scope.items.pop();
                        // Each repetition of a table row is a line of its own.
                        if table_row {
                            output.lines.push(std::mem::take(&mut output.line));
                        }
                    }
                    index = end;
                    // The row's own end of line was written with each repetition.
                    if table_row && output.line.is_empty() && matches!(events.get(index + 1), Some(Event::Break)) {
                        index += 1;
                    }
                }
                Syntax::If(condition) => {
                    let (branches, end) = extent(events, index);
                    let mut starts = vec![index];
                    starts.extend(&branches);
                    for (n, &at) in starts.iter().enumerate() {
                        let chosen = match &events[at] {
                            Event::Tag(tag) => match &tag.syntax {
                                Syntax::ElseIf(condition) => truthy(&evaluate(condition, scope)),
                                Syntax::Else => true,
                                _ => truthy(&evaluate(condition, scope)),
                            },
                            _ => false,
                        };
                        if chosen {
                            let until = starts.get(n + 1).copied().unwrap_or(end);
                            block(&events[at + 1..until.min(events.len())], scope, output);
                            break;
                        }
                    }
                    index = end;
                }
                _ => {}
            },
        }
        index += 1;
    }
}

/// A number, or a string that reads as one.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(value: &Option<Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(number)) => number.as_f64() != Some(0.0),
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

fn from_number(number: f64) -> Option<Value> {
    serde_json::Number::from_f64(number).map(Value::Number)
}

fn evaluate(expression: &Expression, scope: &Scope<'_>) -> Option<Value> {
    match expression {
        Expression::Path(path) => scope.value(path).cloned(),
        Expression::Number(number) => from_number(*number),
        Expression::Text(text) => Some(Value::String(text.clone())),
        Expression::Bool(value) => Some(Value::Bool(*value)),
        Expression::Unary(Unary::Not, operand) => Some(Value::Bool(!truthy(&evaluate(operand, scope)))),
        Expression::Unary(Unary::Negate, operand) => from_number(-number(&evaluate(operand, scope)?)?),
        Expression::Unary(Unary::IsPresent, operand) => Some(Value::Bool(evaluate(operand, scope).is_some())),
        Expression::Binary(left, operator, right) => binary(evaluate(left, scope), *operator, evaluate(right, scope)),
        Expression::Call(name, arguments) => {
            let values: Vec<f64> = arguments
                .iter()
                .flat_map(|argument| match argument {
                    Expression::Path(path) => scope.values(path).into_iter().filter_map(number).collect::<Vec<_>>(),
                    other => evaluate(other, scope).as_ref().and_then(number).into_iter().collect(),
                })
                .collect();
            let total: f64 = values.iter().sum();
            match name.as_str() {
                "$sum" => from_number(total),
                "$count" => from_number(values.len() as f64),
                "$average" if !values.is_empty() => from_number(total / values.len() as f64),
                "$min" => values.iter().copied().reduce(f64::min).and_then(from_number),
                "$max" => values.iter().copied().reduce(f64::max).and_then(from_number),
                _ => None,
            }
        }
        _ => None,
    }
}

fn binary(left: Option<Value>, operator: Binary, right: Option<Value>) -> Option<Value> {
    let numbers = left.as_ref().and_then(number).zip(right.as_ref().and_then(number));
    let compare = |ordering: Option<std::cmp::Ordering>, accept: &[std::cmp::Ordering]| {
        Some(Value::Bool(ordering.is_some_and(|ordering| accept.contains(&ordering))))
    };
    let ordering = match numbers {
        Some((a, b)) => a.partial_cmp(&b),
        None => match (&left, &right) {
            (Some(Value::String(a)), Some(Value::String(b))) => Some(a.cmp(b)),
            _ => None,
        },
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    match operator {
        Binary::And => Some(Value::Bool(truthy(&left) && truthy(&right))),
        Binary::Or => Some(Value::Bool(truthy(&left) || truthy(&right))),
        Binary::Equal => Some(Value::Bool(ordering == Some(Equal) || (numbers.is_none() && left == right))),
        Binary::NotEqual => Some(Value::Bool(!(ordering == Some(Equal) || (numbers.is_none() && left == right)))),
        Binary::Less => compare(ordering, &[Less]),
        Binary::LessOrEqual => compare(ordering, &[Less, Equal]),
        Binary::Greater => compare(ordering, &[Greater]),
        Binary::GreaterOrEqual => compare(ordering, &[Greater, Equal]),
        Binary::Add => numbers.and_then(|(a, b)| from_number(a + b)),
        Binary::Subtract => numbers.and_then(|(a, b)| from_number(a - b)),
        Binary::Multiply => numbers.and_then(|(a, b)| from_number(a * b)),
        Binary::Divide => numbers.filter(|(_, b)| *b != 0.0).and_then(|(a, b)| from_number(a / b)),
        Binary::Remainder => numbers.filter(|(_, b)| *b != 0.0).and_then(|(a, b)| from_number(a % b)),
        _ => None,
    }
}

/// What a value tag prints.
fn value(tag: &Tag, expression: &Expression, modifiers: &[Modifier], scope: &Scope<'_>) -> String {
    let Some(value) = evaluate(expression, scope).filter(|value| !value.is_null()) else {
        let default = modifiers.iter().find_map(|modifier| match modifier {
            Modifier::Optional => Some(String::new()),
            Modifier::Default(value) => Some(value.clone()),
            _ => None,
        });
        // Box prints a tag whose data is missing as written.
        return default.unwrap_or_else(|| tag.content.clone());
    };
    if tag.listing.as_ref().is_some_and(|listing| listing.tag_type == TagType::Image) {
        return "[image]".to_owned();
    }
    let mut text = match &value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.as_f64().map(plain).unwrap_or_else(|| number.to_string()),
        other => other.to_string(),
    };
    for modifier in modifiers {
        text = match modifier {
            Modifier::Uppercase => text.to_uppercase(),
            Modifier::Lowercase => text.to_lowercase(),
            Modifier::Format(pattern) => format(&text, pattern),
            _ => text,
        };
    }
    text
}

/// A number as people write it: no `.0`, at most ten decimals.
fn plain(number: f64) -> String {
    let rounded = (number * 1e10).round() / 1e10;
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 { format!("{}", rounded as i64) } else { format!("{rounded}") }
}

/// `US-Number` (300,000.5), `EU-Number` (300.000,5), a mask whose `x`s take the value's characters in turn
/// (`xxx-xxxx`: Inv1203 → Inv-1203); other patterns (dates) leave the value as it is.
fn format(text: &str, pattern: &str) -> String {
    let grouped = |thousands: char, decimal: char| -> Option<String> {
        let number: f64 = text.trim().parse().ok()?;
        let plain = plain(number.abs());
        let (whole, fraction) = plain.split_once('.').map_or((plain.as_str(), None), |(w, f)| (w, Some(f)));
        let mut out = String::new();
        for (index, digit) in whole.chars().enumerate() {
            if index > 0 && (whole.len() - index) % 3 == 0 {
                out.push(thousands);
            }
            out.push(digit);
        }
        if let Some(fraction) = fraction {
            out.push(decimal);
            out.push_str(fraction);
        }
        Some(if number < 0.0 { format!("-{out}") } else { out })
    };
    match pattern {
        "US-Number" => grouped(',', '.').unwrap_or_else(|| text.to_owned()),
        "EU-Number" => grouped('.', ',').unwrap_or_else(|| text.to_owned()),
        mask if mask.contains('x') && !mask.contains(['d', 'm', 'y']) => {
            let mut characters = text.chars();
            let mut out: String =
                mask.chars().map_while(|c| if c == 'x' { characters.next() } else { Some(c) }).collect();
            out.extend(characters);
            out
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &str, data: Value) -> Vec<String> {
        render(&Template::from_text(text).expect("a template"), &data)
    }

    #[test]
    fn loops_conditions_and_modifiers_fill_the_text() {
        let text = "Dear {{customer.name :: uppercase}},\n{{for item in items}}- {{item.name}}: {{item.qty * item.price :: format(\"US-Number\")}}\n{{endfor}}\
                    {{if customer.vip == \"yes\"}}VIP{{elseif customer.vip isPresent}}regular{{else}}new{{endif}}\n\
                    Total {{$sum(items.price)}} {{note :: optional}}{{missing :: default(\"n/a\")}} {{absent}} {{id :: format(\"xxx-xxxx\")}}";
        let data = json!({
            "customer": { "name": "M\u{fc}ller", "vip": "no" },
            "items": [{ "name": "A", "qty": 1000, "price": 2.5 }, { "name": "B", "qty": 1, "price": 3 }],
            "id": "Inv1203",
        });
        assert_eq!(
            lines(text, data),
            ["Dear M\u{dc}LLER,", "- A: 2,500", "- B: 3", "regular", "Total 5.5 n/a {{absent}} Inv-1203"]
        );
        assert_eq!(format("300000", "EU-Number"), "300.000");
        assert_eq!(format("-1234567.25", "US-Number"), "-1,234,567.25");
    }
}
