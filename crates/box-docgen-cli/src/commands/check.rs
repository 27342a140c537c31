//! `check`: every row against everything `generate` would refuse it for (the same checks: the template's data
//! contract, Box's 100 KB, file names Box cannot hold, a name two rows have, names `--name` builds, and with
//! `--out` names that cannot be written there), nothing sent. The template is Box's (its tags read through the
//! API) or a Word document on disk (read offline, with no credentials).

use box_docgen_bulk::RowChecks;
use box_docgen_contract::Problem;
use serde::Serialize;

use crate::cli::Check;
use crate::connect::Connection;
use crate::failure::Failure;
use crate::output::Output;
use crate::warnings::Warnings;

/// One row's verdict, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Verdict<'a> {
    row: u64,
    file_name: &'a str,
    ok: bool,
    problems: Vec<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Checks the rows against the template in Box (through `connection`), or against a Word document on disk.
pub(super) async fn run(connection: Option<&Connection>, args: Check, out: Output) -> Result<(), Failure> {
    let contract = super::templates::contract(connection, &args.template).await?;
    if let Some(dir) = &args.out {
        crate::output::writable_dir(dir)?;
    }
    let rows = crate::rows::load(&args.rows, &contract, "pdf")?;
    let checks = RowChecks::new(Some(contract), args.out.as_deref());
    let mut warnings = Warnings::new(args.rows.verbose);
    let (mut refused, mut warned) = (0, 0);
    for row in &rows {
        let (problems, error) = match &row.data {
            Ok(data) => match checks.check(row.number - 1, &row.file_name, data) {
                Ok(problems) => (problems, None),
                Err(box_docgen_bulk::Error::Data { problems, .. }) => (problems, None),
                Err(error) => (Vec::new(), Some(super::generate::describe(&error))),
            },
            Err(why) => (Vec::new(), Some(why.clone())),
        };
        let errors = problems.iter().filter(|problem| problem.severity == box_docgen_contract::Severity::Error);
        let ok = error.is_none() && errors.count() == 0;
        let (errors, others): (Vec<Problem>, Vec<Problem>) =
            problems.into_iter().partition(|problem| problem.severity == box_docgen_contract::Severity::Error);
        if !ok {
            refused += 1;
        } else if !others.is_empty() {
            warned += 1;
        }
        if !out.json {
            warnings.add(row.number, &row.file_name, &others);
        }
        let shown: Vec<Problem> = if out.json { errors.iter().chain(&others).cloned().collect() } else { errors };
        let verdict = Verdict { row: row.number, file_name: &row.file_name, ok, problems: shown, error };
        if out.json {
            out.item(&verdict, |_| String::new());
        } else {
            if let Some(error) = &verdict.error {
                crate::output::line(&format!("row {} ({}): refused: {error}", verdict.row, verdict.file_name));
            }
            for problem in &verdict.problems {
                crate::output::line(&format!("row {} ({}): {problem}", verdict.row, verdict.file_name));
            }
        }
    }
    warnings.summarize();
    eprintln!("{} rows: {} fit, {refused} refused, {warned} with warnings only", rows.len(), rows.len() - refused,);
    if refused > 0 { Err(Failure::quiet()) } else { Ok(()) }
}
