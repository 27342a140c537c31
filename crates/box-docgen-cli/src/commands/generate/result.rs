//! One row's result: what `--json` prints, what the results file holds, and the line a person sees.

use std::path::{Path, PathBuf};

use box_docgen::JobStatus;
use box_docgen_bulk::RowOutcome;
use box_docgen_contract::Problem;
use serde::Serialize;

use crate::Failure;
use crate::output::Output;

/// Where a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Its document was generated (and downloaded, with `--out`).
    Completed,
    /// Box generated it with errors (its job's `failures` say which).
    CompletedWithError,
    /// Box made no document for it (its job failed), or sending it failed: a rerun sends it again.
    Failed,
    /// Not sent: its data, its name or the journal refused it.
    Refused,
    /// Whether Box has it could not be proven: settle it (`--settle`).
    Unknown,
    /// Not final yet (a shared run other workers are still working on).
    Pending,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::CompletedWithError => "completed_with_error",
            Status::Failed => "failed",
            Status::Refused => "refused",
            Status::Unknown => "unknown",
            Status::Pending => "pending",
        }
    }
}

/// One row's result, as `--json` and the results file give it.
#[derive(Debug, Serialize)]
pub(crate) struct RowResult {
    pub(crate) row: u64,
    pub(crate) file_name: String,
    pub(crate) status: Status,
    pub(crate) already_done: bool,
    pub(crate) job_id: Option<String>,
    pub(crate) file_id: Option<String>,
    pub(crate) path: Option<PathBuf>,
    pub(crate) sha1: Option<String>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) error: Option<String>,
    /// For an unknown row, its group and candidates (to say how to settle it).
    #[serde(skip)]
    pub(crate) undecided: Option<box_docgen_bulk::Undecided>,
}

impl RowResult {
    /// A row refused before the run (it cannot be read or named).
    pub(crate) fn refused(row: u64, file_name: String, error: String) -> Self {
        Self {
            row,
            file_name,
            status: Status::Refused,
            already_done: false,
            job_id: None,
            file_id: None,
            path: None,
            sha1: None,
            problems: Vec::new(),
            error: Some(error),
            undecided: None,
        }
    }

    /// A row as a shared store reports it.
    pub(crate) fn from_report(row: &box_docgen_postgres::RowReport) -> Self {
        let mut result = Self::refused(super::settle::number(row.index), row.file_name.clone(), String::new());
        result.error = row.error.clone();
        result.status = match row.state.as_str() {
            "finished" => match row.job.as_ref().map(|job| &job.status) {
                Some(JobStatus::Completed) => Status::Completed,
                Some(JobStatus::CompletedWithError) => Status::CompletedWithError,
                _ => Status::Failed,
            },
            "failed" => Status::Failed,
            "refused" => Status::Refused,
            "undecided" => Status::Unknown,
            _ => Status::Pending,
        };
        if let Some(job) = &row.job {
            result.job_id = Some(job.id.clone());
            result.file_id = job.output_file.as_ref().map(|file| file.id.clone());
            if result.status != Status::Completed && result.error.is_none() {
                let errors = job.failures.as_ref().map(|failures| failures.errors.join("; ")).unwrap_or_default();
                result.error = Some(format!(
                    "job {} {}{}",
                    job.id,
                    job.status,
                    if errors.is_empty() { String::new() } else { format!(": {errors}") }
                ));
            }
        }
        if let Some(downloaded) = &row.downloaded {
            result.path = downloaded.path.clone();
            result.sha1 = Some(downloaded.sha1.clone());
        }
        if result.status == Status::Unknown {
            result.undecided = Some(box_docgen_bulk::Undecided::new(
                vec![row.index],
                row.candidates.clone(),
                row.error.clone().unwrap_or_default(),
            ));
        }
        result
    }

    /// A row's outcome from the run; `describe` words an error for a person (with the tool's row numbers).
    pub(crate) fn of(row: u64, outcome: RowOutcome, describe: impl Fn(&box_docgen_bulk::Error) -> String) -> Self {
        let reason = outcome.reason();
        let mut result = Self::refused(row, outcome.file_name, String::new());
        result.already_done = outcome.already_done;
        result.problems = outcome.problems;
        result.error = None;
        match outcome.result {
            Ok(generated) => {
                result.status = match generated.job.status {
                    JobStatus::Completed => Status::Completed,
                    JobStatus::CompletedWithError => Status::CompletedWithError,
                    JobStatus::Failed => Status::Failed,
                    _ => Status::Unknown,
                };
                if result.status != Status::Completed {
                    result.error = Some(reason);
                }
                result.job_id = Some(generated.job.id.clone());
                result.file_id = generated.job.output_file.as_ref().map(|file| file.id.clone());
                if let Some(downloaded) = generated.downloaded {
                    result.path = downloaded.path;
                    result.sha1 = Some(downloaded.sha1);
                }
            }
            Err(error) => {
                use box_docgen_bulk::Error;
                result.status = match error.as_ref() {
                    Error::Data { problems, .. } => {
                        result.problems = problems.clone();
                        Status::Refused
                    }
                    Error::InvalidInput { .. } | Error::RowChanged(_) => Status::Refused,
                    Error::Undecided(undecided) => {
                        result.undecided = Some(undecided.as_ref().clone());
                        Status::Unknown
                    }
                    _ => Status::Failed,
                };
                result.error = Some(describe(&error));
            }
        }
        result
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.status == Status::Completed
    }

    /// One row: its JSON line with `--json`; otherwise a line on stdout for a row that succeeded (row, status,
    /// file name, where it is), and one on stderr for a row that did not, with why (and each warning of a row).
    pub(crate) fn report(&self, out: Output) {
        if out.json {
            out.item(self, |_| String::new());
            return;
        }
        let row = format!("row {} ({})", self.row, self.file_name);
        if self.succeeded() {
            let place = self.path.as_ref().map(|path| path.display().to_string());
            let place = place.or_else(|| self.file_id.as_ref().map(|id| format!("Box file {id}"))).unwrap_or_default();
            let status = if self.already_done { "completed (in an earlier run)" } else { self.status.as_str() };
            println!("{}\t{status}\t{}\t{place}", self.row, self.file_name);
        } else {
            eprintln!("{row}: {}: {}", self.status.as_str(), self.error.as_deref().unwrap_or_default());
        }
        for problem in &self.problems {
            if self.status != Status::Refused {
                eprintln!("{row}: {problem}");
            }
        }
    }
}

/// Every row's result: CSV when the name ends in `.csv`, JSON lines otherwise; written to a temporary name and
/// renamed, so the file is whole or absent.
pub(crate) fn write_results(path: &Path, results: &[RowResult]) -> Result<(), Failure> {
    let io = |error: std::io::Error| Failure::failed(format!("{}: {error}", path.display()));
    let csv = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let mut bytes = Vec::new();
    if csv {
        let mut writer = csv::Writer::from_writer(&mut bytes);
        let header =
            ["row", "file_name", "status", "already_done", "job_id", "file_id", "path", "sha1", "problems", "error"];
        writer.write_record(header).map_err(|error| io(error.into()))?;
        for result in results {
            let problems: Vec<String> = result.problems.iter().map(ToString::to_string).collect();
            let path = result.path.as_ref().map(|path| path.display().to_string());
            writer
                .write_record([
                    result.row.to_string(),
                    result.file_name.clone(),
                    result.status.as_str().to_owned(),
                    result.already_done.to_string(),
                    result.job_id.clone().unwrap_or_default(),
                    result.file_id.clone().unwrap_or_default(),
                    path.unwrap_or_default(),
                    result.sha1.clone().unwrap_or_default(),
                    problems.join("; "),
                    result.error.clone().unwrap_or_default(),
                ])
                .map_err(|error| io(error.into()))?;
        }
        writer.flush().map_err(io)?;
    } else {
        for result in results {
            bytes.extend(serde_json::to_vec(result).unwrap_or_default());
            bytes.push(b'\n');
        }
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}
