//! Rows in: CSV (a header row; `customer.name` headers make nested objects, `items[0].name` lists, a cell holding
//! a JSON array or object is that value), JSON lines (`{"file_name", "data"}`, or flat objects), or one JSON
//! array of either. Each row keeps its record number in the input, counted from 1 (in a CSV file, the records
//! after the header).

use std::path::Path;

use box_docgen_contract::{Contract, Need};
use serde_json::{Map, Value};

/// One record of the input.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Its number in the input, from 1.
    pub(crate) number: u64,
    /// The data, or why the record cannot be read (a ragged CSV record, a line that is not JSON).
    pub(crate) data: Result<Map<String, Value>, String>,
    /// The file name the record names (`file_name` column or field), if any.
    pub(crate) file_name: Option<String>,
}

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    Json,
}

impl Format {
    /// The format a file name's extension says (`.csv`, `.json`, anything else JSON lines).
    pub(crate) fn of(path: &Path) -> Self {
        match path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            _ => Format::Jsonl,
        }
    }
}

/// Reads every record of `text`. An error here (no header, not JSON at all) is about the whole input; a
/// record that cannot be read is a row with an error.
pub(crate) fn read(text: &str, format: Format) -> Result<Vec<Row>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Csv => csv_rows(text),
        Format::Jsonl => Ok(text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(index, line)| match serde_json::from_str::<Value>(line) {
                Ok(value) => json_row(index as u64 + 1, value),
                Err(error) => {
                    Row { number: index as u64 + 1, data: Err(format!("not JSON: {error}")), file_name: None }
                }
            })
            .collect()),
        Format::Json => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => {
                Ok(items.into_iter().enumerate().map(|(index, value)| json_row(index as u64 + 1, value)).collect())
            }
            Ok(_) => Err("a JSON rows file holds one array of objects".to_owned()),
            Err(error) => Err(format!("not JSON: {error}")),
        },
    }
}

/// `{"file_name": …, "data": {…}}`, or a flat object whose `file_name` (if any) names the file.
fn json_row(number: u64, value: Value) -> Row {
    let Value::Object(mut object) = value else {
        return Row { number, data: Err("not a JSON object".to_owned()), file_name: None };
    };
    let file_name = match object.get("file_name") {
        Some(Value::String(name)) => Some(name.clone()),
        _ => None,
    };
    let data = match object.remove("data") {
        Some(Value::Object(data)) if file_name.is_some() => Ok(data),
        Some(_) if file_name.is_some() => Err("`data` is not a JSON object".to_owned()),
        other => {
            if let Some(data) = other {
                object.insert("data".to_owned(), data);
            }
            object.remove("file_name");
            Ok(object)
        }
    };
    Row { number, data, file_name }
}

fn csv_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|error| format!("the header row: {error}"))?.iter().map(str::to_owned).collect();
    if headers.iter().all(String::is_empty) {
        return Err("the CSV file has no header row".to_owned());
    }
    let paths = headers.iter().map(|header| parse_header(header)).collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let number = index as u64 + 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                rows.push(Row { number, data: Err(format!("unreadable: {error}")), file_name: None });
                continue;
            }
        };
        if record.len() != headers.len() {
            let data = Err(format!("{} fields where the header has {}", record.len(), headers.len()));
            rows.push(Row { number, data, file_name: None });
            continue;
        }
        let mut data = Value::Object(Map::new());
        let mut file_name = None;
        let mut problem = None;
        for ((header, path), cell) in headers.iter().zip(&paths).zip(record.iter()) {
            if header == "file_name" {
                file_name = Some(cell.to_owned()).filter(|name| !name.is_empty());
                continue;
            }
            // An empty cell is data that is not there.
            if cell.is_empty() {
                continue;
            }
            if let Err(error) = insert(&mut data, path, cell_value(cell)) {
                problem = Some(format!("column {header:?}: {error}"));
            }
        }
        let data = match (problem, data) {
            (Some(problem), _) => Err(problem),
            (None, Value::Object(object)) => Ok(compact(object)),
            (None, _) => Err("not an object".to_owned()),
        };
        rows.push(Row { number, data, file_name });
    }
    Ok(rows)
}

/// A step of a header's path: a key, or a list index.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `customer.name` → [customer, name]; `items[0].price` → [items, 0, price].
fn parse_header(header: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in header.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(key, rest)| (key, rest));
        if key.is_empty() {
            return Err(format!("the header {header:?} has an empty name"));
        }
        steps.push(Step::Key(key.to_owned()));
        let mut brackets = if rest.is_empty() { None } else { Some(rest) };
        while let Some(inside) = brackets {
            let (index, after) =
                inside.split_once(']').ok_or_else(|| format!("the header {header:?} has an unclosed ["))?;
            let index =
                index.parse().map_err(|_| format!("the header {header:?} has a list index that is not a number"))?;
            steps.push(Step::Index(index));
            rest = after;
            brackets = rest.strip_prefix('[');
            if brackets.is_none() && !rest.is_empty() {
                return Err(format!("the header {header:?} has text after a ]"));
            }
        }
    }
    Ok(steps)
}

/// A cell holding a JSON array or object is that value; anything else is text (numbers become numbers only
/// where the template needs one: [`coerce_numbers`]).
fn cell_value(cell: &str) -> Value {
    let trimmed = cell.trim_start();
    if (trimmed.starts_with('[') || trimmed.starts_with('{'))
        && let Ok(value) = serde_json::from_str::<Value>(cell)
    {
        return value;
    }
    Value::String(cell.to_owned())
}

/// Lists are built as objects keyed by index while reading; this makes them arrays, in index order.
fn insert(target: &mut Value, path: &[Step], value: Value) -> Result<(), String> {
    let Some((step, rest)) = path.split_first() else {
        *target = value;
        return Ok(());
    };
    let key = match step {
        Step::Key(key) => key.clone(),
        Step::Index(index) => format!("\u{0}{index:020}"),
    };
    if target.is_null() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(object) = target else {
        return Err("a column sets a value that another column goes inside".to_owned());
    };
    let slot = object.entry(key).or_insert(Value::Null);
    if rest.is_empty() && !slot.is_null() {
        return Err("two columns set the same value".to_owned());
    }
    insert(slot, rest, value)
}

/// Objects whose keys are list indices (from `insert`) become arrays, in index order.
fn compact(object: Map<String, Value>) -> Map<String, Value> {
    object.into_iter().map(|(key, value)| (key, compact_value(value))).collect()
}

fn compact_value(value: Value) -> Value {
    match value {
        Value::Object(object) if !object.is_empty() && object.keys().all(|key| key.starts_with('\u{0}')) => {
            // Keys sort by index (zero-padded).
            Value::Array(object.into_iter().map(|(_, value)| compact_value(value)).collect())
        }
        Value::Object(object) => Value::Object(compact(object)),
        other => other,
    }
}

/// A text cell becomes a number where the template needs one (arithmetic, a number format) and the text is a
/// number: `"20.00"` → `20.0`. Anything else is left for the check to report.
pub(crate) fn coerce_numbers(contract: &Contract, data: &mut Map<String, Value>) {
    for (path, reads) in contract.paths() {
        if reads.iter().any(|read| read.need == Need::Number) {
            let steps: Vec<&str> = path.split('.').collect();
            coerce_at(data, &steps);
        }
    }
}

fn coerce_at(object: &mut Map<String, Value>, steps: &[&str]) {
    let Some((step, rest)) = steps.split_first() else { return };
    let (key, list) = step.strip_suffix("[]").map_or((*step, false), |key| (key, true));
    let Some(value) = object.get_mut(key) else { return };
    match (list, value) {
        (true, Value::Array(items)) => {
            for item in items {
                if let Value::Object(item) = item {
                    coerce_at(item, rest);
                }
            }
        }
        (false, Value::Object(inner)) if !rest.is_empty() => coerce_at(inner, rest),
        (false, value) if rest.is_empty() => {
            if let Value::String(text) = value
                && let Some(number) = number(text)
            {
                *value = number;
            }
        }
        _ => {}
    }
}

fn number(text: &str) -> Option<Value> {
    let text = text.trim();
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Value::from(integer));
    }
    text.parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(rows: &[Row], index: usize) -> Value {
        Value::Object(rows[index].data.clone().expect("readable"))
    }

    #[test]
    fn csv_headers_make_nested_objects_and_lists() {
        let text = "\u{feff}file_name,customer.name,items[0].name,items[1].name,items[0].price,tags,note\n\
                    a.pdf,\"Acme, Inc.\",Widget,Gadget,10,\"[\"\"x\"\",\"\"y\"\"]\",\"two\nlines\"\n\
                    b.pdf,Ünïcode,Only,,,,\n";
        let rows = read(text, Format::Csv).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].file_name.as_deref(), Some("a.pdf"));
        assert_eq!(
            data(&rows, 0),
            json!({ "customer": { "name": "Acme, Inc." }, "items": [{ "name": "Widget", "price": "10" }, { "name": "Gadget" }],
                    "tags": ["x", "y"], "note": "two\nlines" })
        );
        assert_eq!(data(&rows, 1), json!({ "customer": { "name": "Ünïcode" }, "items": [{ "name": "Only" }] }));
        assert_eq!(rows[1].number, 2);
    }

    #[test]
    fn a_ragged_record_is_a_row_with_an_error_and_the_others_are_read() {
        let rows = read("a,b\n1,2\n3\n4,5\n", Format::Csv).expect("rows");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].number, 2);
        assert_eq!(rows[1].data.as_ref().expect_err("ragged"), "1 fields where the header has 2");
        assert_eq!(data(&rows, 2), json!({ "a": "4", "b": "5" }));
        assert!(read("", Format::Csv).is_err());
        assert!(parse_header("a[x]").is_err() && parse_header("a[0").is_err() && parse_header(".a").is_err());
    }

    #[test]
    fn json_lines_and_arrays() {
        let rows =
            read("{\"file_name\":\"a.pdf\",\"data\":{\"x\":1}}\n\n{\"y\":2}\nnope\n", Format::Jsonl).expect("rows");
        assert_eq!((rows[0].file_name.as_deref(), data(&rows, 0)), (Some("a.pdf"), json!({ "x": 1 })));
        assert_eq!((rows[1].number, data(&rows, 1)), (2, json!({ "y": 2 })));
        assert!(rows[2].data.is_err());
        let rows = read("[{\"z\":1}]", Format::Json).expect("rows");
        assert_eq!(data(&rows, 0), json!({ "z": 1 }));
        assert!(read("{}", Format::Json).is_err());
    }
}
