//! Rows in: CSV (a header row; `customer.name` headers make nested objects, `items[0].name` lists, a cell holding
//! a JSON array or object is that value), JSON lines (`{"file_name", "data"}`, or flat objects), or one JSON
//! array of either; from a file or standard input (`--rows -`), in UTF-8, UTF-16 with a byte-order mark, or the
//! encoding `--encoding` names. Each row keeps its record number in the input, counted from 1 (in a CSV file,
//! the records after the header; in JSON lines, the line), in every message.

pub(crate) mod columns;
mod csv;
mod decode;
mod format;
mod json;
mod paths;
mod prepare;
mod row;

use std::io::Read;

use crate::cli::RowsArgs;
use crate::failure::Failure;
pub(crate) use csv::delimiter;
pub(crate) use format::Format;
pub(crate) use prepare::{Prepared, prepare};
pub(crate) use row::Row;

/// The rows of the input, and how it was read.
#[derive(Debug)]
pub(crate) struct Input {
    pub(crate) rows: Vec<Row>,
    pub(crate) format: Format,
}

/// Reads the rows `args` name: a refusal here (exit 2) is about the whole input; a record that cannot be read is
/// a row with an error.
pub(crate) fn read(args: &RowsArgs) -> Result<Input, Failure> {
    let from_stdin = args.rows.as_os_str() == "-";
    let name = if from_stdin { "standard input".to_owned() } else { args.rows.display().to_string() };
    let refuse = |why: String| Failure::config(format!("{name}: {why}"));
    let bytes = if from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|error| refuse(error.to_string()))?;
        bytes
    } else {
        std::fs::read(&args.rows).map_err(|error| refuse(error.to_string()))?
    };
    let text = decode::text(&bytes, args.encoding.as_deref()).map_err(refuse)?;
    if text.trim().is_empty() {
        return Err(refuse("no rows: the input is empty".to_owned()));
    }
    let sniffed = Format::sniff(&text);
    let format = match (args.format, Format::of(&args.rows)) {
        (Some(format), _) => format,
        (None, Some(format)) if format != sniffed && (format != Format::Csv || sniffed != Format::Csv) => {
            let start: String = text.trim_start().chars().take(40).collect();
            return Err(refuse(format!(
                "its name says {} but it does not look so (it starts with {start:?}); pass --format {} if it is {}",
                format.flag(),
                sniffed.flag(),
                sniffed.flag()
            )));
        }
        (None, Some(format)) => format,
        // No extension that says (a .txt file, standard input): the content says.
        (None, None) => sniffed,
    };
    let rows = match format {
        Format::Csv => {
            let delimiter = match args.delimiter {
                Some(delimiter) => delimiter,
                None if args.rows.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("tsv")) => b'\t',
                None => csv::sniff_delimiter(&text),
            };
            csv::rows(&text, delimiter).map_err(refuse)?
        }
        Format::Jsonl => json::lines(&text),
        Format::Json => json::array(&text).map_err(refuse)?,
    };
    if rows.is_empty() {
        return Err(refuse("no rows: the input has a header and nothing else".to_owned()));
    }
    Ok(Input { rows, format })
}

/// Reads the rows, names the columns the template does not read (refusing the run with `--strict`), and
/// prepares each row (numbers typed where the template needs them, a file name).
pub(crate) fn load(
    args: &RowsArgs,
    contract: &box_docgen_contract::Contract,
    extension: &str,
) -> Result<Vec<Prepared>, Failure> {
    let input = read(args)?;
    let unknown = columns::unknown(&input.rows, contract);
    if args.strict && !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        return Err(Failure::config(format!("--strict: {}", list.join("; "))));
    }
    for column in &unknown {
        eprintln!("warning: {column}");
    }
    let prepared = prepare(input.rows, input.format, contract, args.name.as_deref(), extension);
    // A Word document named .pdf (or the other way round) is a trap for whoever opens it.
    let other = if extension == "pdf" { ".docx" } else { ".pdf" };
    let mismatched = prepared.iter().filter(|row| row.file_name.to_ascii_lowercase().ends_with(other)).count();
    if mismatched > 0 {
        eprintln!(
            "warning: {mismatched} of {} rows name a {other} file, but the documents are {extension} (--type); the \
             names are sent as they are",
            prepared.len()
        );
    }
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn data(rows: &[Row], index: usize) -> Value {
        Value::Object(rows[index].data.clone().expect("readable"))
    }

    #[test]
    fn csv_headers_make_nested_objects_and_lists() {
        let text = "\u{feff}file_name,customer.name,items[0].name,items[1].name,items[0].price,tags,note\n\
                    a.pdf,\"Acme, Inc.\",Widget,Gadget,10,\"[\"\"x\"\",\"\"y\"\"]\",\"two\nlines\"\n\
                    b.pdf,Ünïcode,Only,,,,\n";
        let rows = csv::rows(text.strip_prefix('\u{feff}').unwrap_or(text), b',').expect("rows");
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
        let rows = csv::rows("a,b\n1,2\n3\n4,5\n", b',').expect("rows");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].number, 2);
        assert_eq!(rows[1].data.as_ref().expect_err("ragged"), "1 fields where the header has 2");
        assert_eq!(data(&rows, 2), json!({ "a": "4", "b": "5" }));
        assert!(csv::rows("", b',').is_err());
        assert!(
            paths::parse_header("a[x]").is_err()
                && paths::parse_header("a[0").is_err()
                && paths::parse_header(".a").is_err()
        );
    }

    #[test]
    fn json_lines_are_numbered_by_line_and_flat_paths_nest() {
        let rows = json::lines(
            "{\"file_name\":\"a.pdf\",\"data\":{\"x\":1}}\n\n{\"y\":2}\nnope\n{\"customer.name\":\"Acme\",\"items[0].qty\":2}\n",
        );
        assert_eq!((rows[0].file_name.as_deref(), data(&rows, 0)), (Some("a.pdf"), json!({ "x": 1 })));
        assert_eq!((rows[1].number, data(&rows, 1)), (3, json!({ "y": 2 })), "the file's line");
        let error = rows[2].data.as_ref().expect_err("not JSON");
        assert!(error.starts_with("line 4, column 2: not JSON (expected ident"), "{error}");
        assert_eq!(data(&rows, 3), json!({ "customer": { "name": "Acme" }, "items": [{ "qty": 2 }] }));
        let rows = json::array("[{\"z\":1}]").expect("rows");
        assert_eq!(data(&rows, 0), json!({ "z": 1 }));
        assert!(json::array("{}").is_err());
        let error = json::array("[\n{\"z\":1},\n{oops}]").expect_err("not JSON");
        assert!(error.starts_with("line 3, column 2"), "{error}");
    }

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(csv::sniff_delimiter("name;street;city\n\"a,b\";c;d\n"), b';');
        assert_eq!(csv::sniff_delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(csv::sniff_delimiter("\"x;y\",b\n"), b',');
        assert_eq!(csv::sniff_delimiter("single\n"), b',');
        assert_eq!(Format::sniff("  [{}]"), Format::Json);
        assert_eq!(Format::sniff("{\"a\":1}"), Format::Jsonl);
        assert_eq!(Format::sniff("a,b"), Format::Csv);
    }
}
