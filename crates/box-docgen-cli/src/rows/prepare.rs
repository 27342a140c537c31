//! Rows made ready to check or send: CSV cells typed where the template needs numbers, and each row named
//! (`--name PATTERN`, or its `file_name` column or field).

use box_docgen_contract::{Contract, Need};
use serde_json::{Map, Value};

use super::format::Format;
use super::row::Row;
use crate::names;

/// A row ready to be checked or sent: its number, its file name and data, or why it cannot be.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) number: u64,
    pub(crate) file_name: String,
    pub(crate) data: Result<Map<String, Value>, String>,
}

/// Types CSV cells where the contract needs numbers, and names each row.
pub(crate) fn prepare(
    rows: Vec<Row>,
    format: Format,
    contract: &Contract,
    pattern: Option<&str>,
    extension: &str,
) -> Vec<Prepared> {
    rows.into_iter()
        .map(|row| {
            let number = row.number;
            let mut data = row.data;
            if format == Format::Csv
                && let Ok(data) = &mut data
            {
                coerce_numbers(contract, data);
            }
            let named = match (pattern, &data) {
                (Some(pattern), Ok(data)) => names::expand(pattern, number, data),
                (Some(_), Err(_)) => Ok(format!("row {number}.{extension}")),
                (None, _) => row.file_name.ok_or_else(|| {
                    "no file name: give the rows a file_name column or field, or pass --name PATTERN".to_owned()
                }),
            };
            match named {
                Ok(file_name) => Prepared { number, file_name, data },
                Err(why) => {
                    Prepared { number, file_name: format!("row {number}.{extension}"), data: data.and(Err(why)) }
                }
            }
        })
        .collect()
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
