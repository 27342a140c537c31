//! A row's checks before anything is sent: a file name (that stays inside the download directory and is the
//! run's only one), data that is a JSON object within Box's limit, and the template's data contract.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use box_docgen_contract::{Contract, Problem, Severity};
use serde::Serialize;
use serde_json::Value;

use crate::store::NewRow;
use crate::{Error, MAX_DATA_BYTES, digest};

/// A row that did not pass its checks.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) index: u64,
    pub(crate) file_name: String,
    pub(crate) error: Error,
}

/// The checks of one run, and what they found that is not an error.
#[derive(Debug)]
pub(crate) struct Checks {
    download_to: Option<PathBuf>,
    /// The template's data contract, when rows are checked against it.
    contract: Option<Contract>,
    /// File names of the run so far, when downloading (two rows must not write one file).
    names: Mutex<HashSet<String>>,
    /// Warnings the contract found in rows, by row, until their outcome is reported.
    warnings: Mutex<HashMap<u64, Vec<Problem>>>,
}

impl Checks {
    pub(crate) fn new(download_to: Option<PathBuf>, contract: Option<Contract>) -> Self {
        Self { download_to, contract, names: Mutex::default(), warnings: Mutex::default() }
    }

    /// Checks one row.
    pub(crate) fn row<T: Serialize>(&self, index: u64, file_name: String, data: &T) -> Result<NewRow, Refused> {
        // The outcome names the row: the error says only what is wrong.
        let refuse = |argument, reason: String| {
            let error = Error::invalid_input(argument, reason);
            Err(Refused { index, file_name: file_name.clone(), error })
        };
        if let Err(reason) = box_file_name(&file_name) {
            return refuse("generated_file_name", reason);
        }
        if self.download_to.is_some()
            && let Err(error) = box_docgen::check_file_name(&file_name)
        {
            return refuse("generated_file_name", error.to_string());
        }
        // Two rows with one name: Box would rename one (by a rule it does not promise), a download would
        // overwrite, and a settlement could not tell the rows apart.
        if !self.names.lock().unwrap_or_else(PoisonError::into_inner).insert(file_name.clone()) {
            return refuse("generated_file_name", "an earlier row has this file name".into());
        }
        let data = match serde_json::to_value(data) {
            Ok(Value::Object(data)) => data,
            Ok(other) => {
                // The contract's own words for data that is not an object (any template's contract, the empty one
                // too, says so); quoting the value instead could quote 100 KB of it.
                let problems = Contract::default().check(&other);
                return refuse("user_input", problems.into_iter().map(|problem| problem.message).collect());
            }
            Err(error) => return refuse("user_input", format!("the data does not serialize to JSON: {error}")),
        };
        // The canonical JSON is as long as what is sent (the same text, keys in another order): one serialization
        // gives the size and the digest.
        let canonical = digest::canonical_json(&data);
        if canonical.len() > MAX_DATA_BYTES {
            let size = canonical.len();
            return refuse(
                "user_input",
                format!("the data is {size} bytes of JSON; Box takes at most {MAX_DATA_BYTES}"),
            );
        }
        if let Some(contract) = &self.contract {
            let problems = contract.check_object(&data);
            if problems.iter().any(|problem| problem.severity == Severity::Error) {
                let error = Error::Data { row: index, file_name: file_name.clone(), problems };
                return Err(Refused { index, file_name, error });
            }
            if !problems.is_empty() {
                self.warnings.lock().unwrap_or_else(PoisonError::into_inner).insert(index, problems);
            }
        }
        let digest = digest::row_digest(&file_name, &canonical);
        Ok(NewRow { index, name: file_name, digest, data })
    }

    /// The warnings found in a row, taken to go with its outcome.
    pub(crate) fn take_warnings(&self, index: u64) -> Vec<Problem> {
        self.warnings.lock().unwrap_or_else(PoisonError::into_inner).remove(&index).unwrap_or_default()
    }
}

/// Whether Box can hold `name` as a file name (its documented rules for file names): not blank, at most 255
/// characters, no `/` or `\`, no control characters, no space at either end, and not `.` or `..`. What Doc Gen
/// does with a name that breaks them is not documented: such a row is refused rather than sent.
fn box_file_name(name: &str) -> Result<(), String> {
    let why = if name.trim().is_empty() {
        "the file name is blank"
    } else if name.chars().count() > 255 {
        "the file name is longer than Box's 255 characters"
    } else if name.contains(['/', '\\']) {
        "the file name has a / or \\, which Box file names cannot hold"
    } else if name.chars().any(char::is_control) {
        "the file name has a control character, which Box file names cannot hold"
    } else if name.trim() != name {
        "the file name starts or ends with a space, which Box file names cannot"
    } else if name == "." || name == ".." {
        "the file name is . or .., which Box does not take"
    } else {
        return Ok(());
    };
    Err(why.to_owned())
}

/// The checks a bulk run makes of each row before anything is sent, for checking rows without sending them
/// (the command-line tool's `check`): a row that passes here is one [`Bulk::generate`](crate::Bulk::generate)
/// sends, and one refused here is one it refuses, with the same error.
///
/// ```
/// use box_docgen_bulk::RowChecks;
///
/// let checks = RowChecks::new(None, None);
/// assert!(checks.check(0, "Contract 1.pdf", &serde_json::json!({ "customer": "Acme" })).is_ok());
/// assert!(checks.check(1, "Contract 1.pdf", &serde_json::json!({ "customer": "Globex" })).is_err(), "its name twice");
/// assert!(checks.check(2, "AC/DC.pdf", &serde_json::json!({})).is_err(), "a name Box cannot hold");
/// ```
#[derive(Debug)]
pub struct RowChecks(Checks);

impl RowChecks {
    /// Checks against the template's data `contract` (none: no data contract), for a run that downloads its
    /// documents into `download_to` (names must then be plain file names too).
    pub fn new(contract: Option<Contract>, download_to: Option<&std::path::Path>) -> Self {
        Self(Checks::new(download_to.map(std::path::Path::to_path_buf), contract))
    }

    /// Checks one row, in input order (a file name an earlier row has is refused): the contract's warnings, or
    /// the error a run would refuse it with.
    pub fn check<T: Serialize>(&self, index: u64, file_name: &str, data: &T) -> Result<Vec<Problem>, Error> {
        match self.0.row(index, file_name.to_owned(), data) {
            Ok(row) => Ok(self.0.take_warnings(row.index)),
            Err(refused) => Err(refused.error),
        }
    }
}
