//! File names from the data: `--name "Contract {customer.name}.pdf"`.

use serde_json::{Map, Value};

/// `pattern` with each `{path}` replaced by the row's value there (`{row}` is the row's number); why not, when a
/// path has no text or number.
pub(crate) fn expand(pattern: &str, row: u64, data: &Map<String, Value>) -> Result<String, String> {
    let mut name = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(|| format!("--name {pattern:?} has an unclosed {{"))? + open;
        name.push_str(&rest[..open]);
        let path = &rest[open + 1..close];
        if path == "row" {
            name.push_str(&row.to_string());
        } else {
            let mut value = data.get(path.split('.').next().unwrap_or_default());
            for key in path.split('.').skip(1) {
                value = value.and_then(|value| value.get(key));
            }
            match value {
                Some(Value::String(text)) if !text.is_empty() => name.push_str(text),
                Some(Value::Number(number)) => name.push_str(&number.to_string()),
                _ => return Err(format!("--name needs {path}, which the row does not have")),
            }
        }
        rest = &rest[close + 1..];
    }
    name.push_str(rest);
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_take_the_row_s_values() {
        let data = json!({ "customer": { "name": "Acme", "id": 7 } });
        let data = data.as_object().expect("an object");
        assert_eq!(
            expand("Contract {customer.name} #{customer.id} ({row}).pdf", 3, data).as_deref(),
            Ok("Contract Acme #7 (3).pdf")
        );
        assert!(expand("{customer.email}.pdf", 1, data).expect_err("missing").contains("customer.email"));
        assert!(expand("{oops.pdf", 1, data).is_err());
    }
}
