//! CSV rows: a header row, then one record per row. The delimiter is `--delimiter`, or the one the header row
//! uses most among `,`, `;` (Excel's in many countries) and tab; quoted cells, quotes and line breaks in cells
//! as in RFC 4180.

use serde_json::{Map, Value};

use super::paths::{compact, insert, parse_header};
use super::row::Row;

/// The delimiter the header row uses most (outside quotes) among `,`, `;` and tab; `,` when none.
pub(crate) fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in text.bytes() {
        match byte {
            b'\n' if !quoted => break,
            b'"' => quoted = !quoted,
            _ if !quoted => {
                if let Some(count) = counts.iter_mut().find(|(delimiter, _)| *delimiter == byte) {
                    count.1 += 1;
                }
            }
            _ => {}
        }
    }
    // The first of the most used (`,` wins a tie).
    counts.iter().fold((b',', 0), |best, &(delimiter, count)| if count > best.1 { (delimiter, count) } else { best }).0
}

/// Every record of `text`; a record that cannot be read is a row with an error.
pub(crate) fn rows(text: &str, delimiter: u8) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
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

/// `--delimiter`: one character, or `tab`.
pub(crate) fn delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!("{text:?}: one ASCII character, such as ; or ,, or `tab`")),
    }
}
