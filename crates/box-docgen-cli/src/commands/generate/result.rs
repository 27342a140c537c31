//! One row's result: what `--json` prints, what the results file holds, and the line a person sees.

use std::path::{Path, PathBuf};

use box_docgen::JobStatus;
use box_docgen_bulk::RowOutcome;
use box_docgen_contract::Problem;
use box_docgen_postgres::RowState;
use serde::Serialize;

use crate::failure::Failure;
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
        result.status = match row.state {
            RowState::Finished => match row.job.as_ref().map(|job| &job.status) {
                Some(JobStatus::Completed) => Status::Completed,
                Some(JobStatus::CompletedWithError) => Status::CompletedWithError,
                _ => Status::Failed,
            },
            RowState::Failed => Status::Failed,
            RowState::Refused => Status::Refused,
            RowState::Undecided => Status::Unknown,
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

    /// One row on stdout: its JSON line with `--json`; otherwise `row, status, file name, where it is (or why
    /// not)`, tab-separated. (The contract's warnings go to the run's summary.)
    pub(crate) fn report(&self, out: Output) {
        if out.json {
            out.item(self, |_| String::new());
            return;
        }
        let detail = if self.succeeded() {
            let place = self.path.as_ref().map(|path| path.display().to_string());
            place.or_else(|| self.file_id.as_ref().map(|id| format!("Box file {id}"))).unwrap_or_default()
        } else {
            self.error.clone().unwrap_or_default()
        };
        let status =
            if self.already_done && self.succeeded() { "completed (in an earlier run)" } else { self.status.as_str() };
        crate::output::line(&format!("{}\t{status}\t{}\t{detail}", self.row, self.file_name));
    }
}

/// The results file (`--results`): rows are appended to `<FILE>.partial` as they finish (a crash keeps what was
/// written there), and once the run ends the whole file, in row order, is written to a temporary name and
/// renamed to `FILE`.
pub(crate) struct ResultsFile {
    path: PathBuf,
    partial: PathBuf,
    csv: bool,
    file: std::io::BufWriter<std::fs::File>,
}

impl ResultsFile {
    /// Opens `<path>.partial` for writing: a path that cannot be written is refused before anything is sent.
    pub(crate) fn create(path: &Path) -> Result<Self, Failure> {
        let csv = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = std::fs::File::create(&partial)
            .map_err(|error| Failure::config(format!("--results {}: {error}", path.display())))?;
        let mut results = Self { path: path.to_owned(), partial, csv, file: std::io::BufWriter::new(file) };
        if csv {
            let header = encode_csv(&[], true);
            results.write(&header);
        }
        Ok(results)
    }

    fn write(&mut self, bytes: &[u8]) {
        use std::io::Write;
        if let Err(error) = self.file.write_all(bytes).and_then(|()| self.file.flush()) {
            eprintln!("warning: {}: {error}", self.partial.display());
        }
    }

    /// Appends a row's result.
    pub(crate) fn append(&mut self, result: &RowResult) {
        let bytes = if self.csv {
            encode_csv(std::slice::from_ref(result), false)
        } else {
            encode_lines(std::slice::from_ref(result))
        };
        self.write(&bytes);
    }

    /// Writes every row's result, in row order, to the file's name.
    pub(crate) fn finish(self, results: &[RowResult]) -> Result<(), Failure> {
        let Self { path, partial, csv, file } = self;
        drop(file);
        write_results_as(&path, results, csv)?;
        let _ = std::fs::remove_file(partial);
        Ok(())
    }
}

/// Every row's result: CSV when the name ends in `.csv`, JSON lines otherwise; written to a temporary name and
/// renamed, so the file is whole or absent.
pub(crate) fn write_results(path: &Path, results: &[RowResult]) -> Result<(), Failure> {
    let csv = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    write_results_as(path, results, csv)
}

fn write_results_as(path: &Path, results: &[RowResult], csv: bool) -> Result<(), Failure> {
    let io = |error: std::io::Error| Failure::failed(format!("{}: {error}", path.display()));
    let bytes = if csv { encode_csv(results, true) } else { encode_lines(results) };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

fn encode_lines(results: &[RowResult]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for result in results {
        bytes.extend(serde_json::to_vec(result).unwrap_or_default());
        bytes.push(b'\n');
    }
    bytes
}

/// CSV records for `results`, after the header when `header`.
fn encode_csv(results: &[RowResult], header: bool) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if header {
        let _ = writer.write_record([
            "row",
            "file_name",
            "status",
            "already_done",
            "job_id",
            "file_id",
            "path",
            "sha1",
            "problems",
            "error",
        ]);
    }
    for result in results {
        let problems: Vec<String> = result.problems.iter().map(ToString::to_string).collect();
        let path = result.path.as_ref().map(|path| path.display().to_string());
        let _ = writer.write_record([
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
        ]);
    }
    writer.into_inner().unwrap_or_default()
}
