//! `check`: every row against the template's data contract, nothing generated.

use box_docgen_contract::{Contract, Problem, Severity};
use serde::Serialize;

use crate::Failure;
use crate::cli::Check;
use crate::connect::Connection;
use crate::output::Output;

/// One row's verdict, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Verdict<'a> {
    row: u64,
    file_name: &'a str,
    ok: bool,
    problems: Vec<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

pub(super) async fn run(connection: &Connection, args: Check, out: Output) -> Result<(), Failure> {
    let contract = Contract::fetch(&connection.client, &args.template, None, connection.wait_options()).await?;
    let rows = super::prepare(&args.rows, &contract, "pdf")?;
    let (mut refused, mut warned) = (0, 0);
    for row in &rows {
        let (problems, error) = match &row.data {
            Ok(data) => (contract.check_object(data), None),
            Err(why) => (Vec::new(), Some(why.as_str())),
        };
        let ok = error.is_none() && !problems.iter().any(|problem| problem.severity == Severity::Error);
        if !ok {
            refused += 1;
        } else if !problems.is_empty() {
            warned += 1;
        }
        let verdict = Verdict { row: row.number, file_name: &row.file_name, ok, problems, error };
        if out.json {
            out.item(&verdict, |_| String::new());
        } else {
            if let Some(error) = verdict.error {
                println!("row {} ({}): error: {error}", verdict.row, verdict.file_name);
            }
            for problem in &verdict.problems {
                println!("row {} ({}): {problem}", verdict.row, verdict.file_name);
            }
        }
    }
    eprintln!("{} rows: {} fit, {refused} with errors, {warned} with warnings only", rows.len(), rows.len() - refused);
    if refused > 0 { Err(Failure::quiet()) } else { Ok(()) }
}
