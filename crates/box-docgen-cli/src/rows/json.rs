//! JSON rows: one object per line (JSON lines; a row's number is its line in the file), or one array of
//! objects. A row is `{"file_name": …, "data": {…}}`, or a flat object whose `file_name` (if any) names the
//! file; flat keys written as paths (`"customer.name"`, `"items[0].price"`) nest as the same CSV headers do.

use serde_json::{Map, Value};

use super::paths::{compact, insert, parse_header};
use super::row::Row;

/// One object per line; blank lines are skipped (and counted: a row's number is its line).
pub(crate) fn lines(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let number = index as u64 + 1;
            match serde_json::from_str::<Value>(line) {
                Ok(value) => row(number, value),
                Err(error) => {
                    let data =
                        Err(format!("line {number}, column {}: not JSON ({})", error.column(), describe(&error)));
                    Row { number, data, file_name: None }
                }
            }
        })
        .collect()
}

/// One array of objects; a row's number is its position in the array, from 1.
pub(crate) fn array(text: &str) -> Result<Vec<Row>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            Ok(items.into_iter().enumerate().map(|(index, value)| row(index as u64 + 1, value)).collect())
        }
        Ok(_) => Err("a JSON rows file holds one array of objects".to_owned()),
        Err(error) => Err(format!("line {}, column {}: not JSON ({})", error.line(), error.column(), describe(&error))),
    }
}

/// What serde_json found wrong, without its own "at line … column …" (which would count inside a record).
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// `{"file_name": …, "data": {…}}`, or a flat object whose `file_name` (if any) names the file.
fn row(number: u64, value: Value) -> Row {
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
    Row { number, data: data.and_then(nest), file_name }
}

/// Flat keys written as paths nest as CSV headers do: `{"customer.name": "Acme"}` is `{"customer": {"name": …}}`.
fn nest(object: Map<String, Value>) -> Result<Map<String, Value>, String> {
    if !object.keys().any(|key| key.contains(['.', '['])) {
        return Ok(object);
    }
    let mut nested = Value::Object(Map::new());
    for (key, value) in object {
        let path = parse_header(&key)?;
        insert(&mut nested, &path, value).map_err(|error| format!("key {key:?}: {error}"))?;
    }
    match nested {
        Value::Object(object) => Ok(compact(object)),
        _ => Err("not an object".to_owned()),
    }
}
