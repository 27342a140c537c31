//! The command line: every command and option, with their help.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::connect::Target;
use crate::rows::Format;

/// Box Doc Gen from any shell: upload templates, check rows against them, generate documents in bulk (resumable,
/// verified), follow jobs, download, webhooks.
///
/// Credentials come from the environment: BOX_ACCESS_TOKEN; or BOX_CLIENT_ID, BOX_CLIENT_SECRET and
/// BOX_ENTERPRISE_ID; or BOX_CONFIG_FILE (--config). --demo runs everything against a built-in test double.
///
/// Exit status: 0 success; 1 a row (or the one thing asked) failed, was refused or is unknown; 2 usage,
/// configuration or authentication; 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "box-docgen", version, propagate_version = true, max_term_width = 110)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Machine output: JSON on stdout (one object per line for lists and rows).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Templates: upload from disk, list, show, delete, and what they read.
    #[command(subcommand)]
    Templates(Templates),
    /// Checks every row against the template's data contract; nothing is generated.
    Check(Check),
    /// Generates a document per row: rows checked first, a journal to resume, documents downloaded and
    /// verified.
    Generate(Box<Generate>),
    /// Joins a run kept in a shared store (PostgreSQL) and works on it with the other workers until every row
    /// is final.
    Work(Box<Work>),
    /// Runs kept in a shared store: where they stand, and each row's result.
    #[command(subcommand)]
    Runs(Runs),
    /// Doc Gen jobs.
    #[command(subcommand)]
    Jobs(Jobs),
    /// Doc Gen batches.
    #[command(subcommand)]
    Batches(Batches),
    /// Downloads a file, or a job's document, verified against the SHA-1 Box reports.
    Download(Download),
    /// Webhooks: create, list, delete, verify a saved delivery, listen for deliveries.
    #[command(subcommand)]
    Webhooks(Webhooks),
    /// Prints a completion script for a shell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum Templates {
    /// Uploads a file (a new version if the folder has one of that name), marks it as a template and waits for
    /// its tags.
    Upload {
        /// The template file (.docx).
        file: PathBuf,
        /// The folder to upload into (0 is the root).
        #[arg(long, default_value = "0")]
        folder: String,
    },
    /// Lists the templates.
    List,
    /// Shows a template.
    Show {
        /// The template's file id.
        id: String,
    },
    /// Unmarks a template (the file stays).
    Delete {
        /// The template's file id.
        id: String,
    },
    /// Lists the tags of a template, as Box lists them (a .docx on disk: read from the file, with every problem
    /// and where it is).
    Tags {
        /// The template's file id, or a Word document (.docx) on disk, read offline (no credentials).
        #[arg(value_name = "FILE_ID|PATH")]
        id: String,
    },
    /// Prints sample data with every path the template reads.
    Sample {
        /// The template's file id, or a Word document (.docx) on disk, read offline (no credentials).
        #[arg(value_name = "FILE_ID|PATH")]
        id: String,
    },
    /// Prints the template's data contract as a JSON Schema (draft 2020-12).
    Schema {
        /// The template's file id, or a Word document (.docx) on disk, read offline (no credentials).
        #[arg(value_name = "FILE_ID|PATH")]
        id: String,
    },
}

/// Where rows come from, and how each names its file.
#[derive(Debug, clap::Args)]
pub(crate) struct RowsArgs {
    /// The rows: CSV (a header row; `customer.name` and `items[0].price` headers nest), JSON lines, or a JSON
    /// array; `-` reads them from standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) rows: PathBuf,
    /// The rows' format (default: the extension's — .csv, .tsv, .json, .jsonl — or, for any other name and for
    /// standard input, what the content looks like).
    #[arg(long, value_enum)]
    pub(crate) format: Option<Format>,
    /// The CSV delimiter: one character, or `tab` (default: the one the header row uses most among , ; and tab).
    #[arg(long, value_name = "CHAR", value_parser = crate::rows::delimiter)]
    pub(crate) delimiter: Option<u8>,
    /// The file's text encoding when it is not UTF-8 (or UTF-16 with a byte-order mark): windows-1252 for Excel
    /// on Windows, latin1, utf-16le, …
    #[arg(long, value_name = "NAME")]
    pub(crate) encoding: Option<String>,
    /// Refuse the run when the rows have columns (or keys) the template does not read, instead of warning.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Print every row's warnings, not a summary of those that repeat.
    #[arg(long)]
    pub(crate) verbose: bool,
    /// The file name of each document, from its data: "Contract {customer.name}.pdf" ({row} is the row's
    /// number). Default: the row's file_name column or field.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) name: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Check {
    /// The template's file id, or a Word document (.docx) on disk, read offline (no credentials).
    #[arg(long, value_name = "FILE_ID|PATH")]
    pub(crate) template: String,
    #[command(flatten)]
    pub(crate) rows: RowsArgs,
    /// The directory `generate --out` will download into: names must be writable there too.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

/// The output type of generated documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputType {
    /// PDF.
    Pdf,
    /// Word.
    Docx,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Generate {
    /// The template's file id.
    #[arg(long, value_name = "FILE_ID")]
    pub(crate) template: String,
    /// The folder the documents go into in Box.
    #[arg(long, value_name = "FOLDER_ID")]
    pub(crate) folder: String,
    #[command(flatten)]
    pub(crate) rows: RowsArgs,
    /// The output type.
    #[arg(long = "type", value_enum, default_value = "pdf")]
    pub(crate) output_type: OutputType,
    /// A local directory to download each document into, verified.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// The journal that makes a run resumable (default: .box-docgen.journal in --out, else <rows>.journal;
    /// none with --demo).
    #[arg(long, value_name = "FILE")]
    pub(crate) journal: Option<PathBuf>,
    /// Run without a journal (a new run starts over).
    #[arg(long, conflicts_with = "journal")]
    pub(crate) no_journal: bool,
    /// A file with every row's result: CSV when it ends in .csv, JSON lines otherwise.
    #[arg(long, value_name = "FILE")]
    pub(crate) results: Option<PathBuf>,
    /// Send rows without checking them against the template's data contract.
    #[arg(long)]
    pub(crate) no_check: bool,
    #[command(flatten)]
    pub(crate) pacing: Pacing,
    /// Documents per batch request.
    #[arg(long, value_name = "N", default_value_t = box_docgen_bulk::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    pub(crate) batch_size: usize,
    /// Keep the run in this shared store (postgres://…) instead of a journal: the rows go into it, and other
    /// machines join with `box-docgen work --store … --run ID`.
    #[arg(long, value_name = "URL", env = "BOX_DOCGEN_STORE", hide_env_values = true, conflicts_with_all = ["journal", "no_journal"])]
    pub(crate) store: Option<String>,
    /// With --store: how long this worker's hold on its work lasts unless renewed (how soon others take over
    /// the work of a worker that dies).
    #[arg(long, value_name = "SECONDS", default_value_t = box_docgen_bulk::DEFAULT_LEASE.as_secs_f64(), requires = "store", value_parser = positive)]
    pub(crate) lease: f64,
    /// Settles rows reported unknown (the message names them): ROW=BATCH_ID when that batch holds the row's
    /// batch, ROW=unsent when Box has none. Repeat for several; written to the journal before anything is sent.
    #[arg(long, value_name = "ROW=BATCH_ID|ROW=unsent")]
    pub(crate) settle: Vec<String>,
    /// After a crash, how long after its last request the run trusts Box's listings to show a batch it sent:
    /// finding none sooner proves nothing.
    #[arg(long, value_name = "SECONDS", default_value_t = box_docgen_bulk::DEFAULT_RECOVERY_GRACE.as_secs())]
    pub(crate) recovery_grace: u64,
}

/// The ceilings a run keeps to.
#[derive(Debug, clap::Args)]
pub(crate) struct Pacing {
    /// Documents per minute, at most (Box's guidance is about 50).
    #[arg(long, value_name = "N", default_value_t = 50.0, value_parser = positive)]
    pub(crate) docs_per_minute: f64,
    /// Requests per second, at most.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) max_rps: Option<f64>,
    /// Share the ceilings with every copy given the same Redis URL.
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,
    /// How many copies share the Redis ceilings (each takes its share while Redis is down).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "redis", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) instances: u32,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Work {
    /// The shared store (postgres://…).
    #[arg(long, value_name = "URL", env = "BOX_DOCGEN_STORE", hide_env_values = true)]
    pub(crate) store: String,
    /// The run to work on (default: the newest one not finished).
    #[arg(long, value_name = "ID")]
    pub(crate) run: Option<i64>,
    /// A local directory to download each document this worker finishes into, verified.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// A file with every row's result, written once the run has ended: CSV when it ends in .csv, JSON lines
    /// otherwise.
    #[arg(long, value_name = "FILE")]
    pub(crate) results: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) pacing: Pacing,
    /// Documents per batch request.
    #[arg(long, value_name = "N", default_value_t = box_docgen_bulk::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    pub(crate) batch_size: usize,
    /// How long this worker's hold on its work lasts unless renewed.
    #[arg(long, value_name = "SECONDS", default_value_t = box_docgen_bulk::DEFAULT_LEASE.as_secs_f64(), value_parser = positive)]
    pub(crate) lease: f64,
    /// After a crash, how long after a lease ended the run trusts Box's listings to show a batch it sent.
    #[arg(long, value_name = "SECONDS", default_value_t = box_docgen_bulk::DEFAULT_RECOVERY_GRACE.as_secs())]
    pub(crate) recovery_grace: u64,
    /// Settles rows reported unknown: ROW=BATCH_ID or ROW=unsent (see `generate --settle`).
    #[arg(long, value_name = "ROW=BATCH_ID|ROW=unsent")]
    pub(crate) settle: Vec<String>,
    /// Do not send again the rows whose jobs failed (a worker that joins sends them again by default).
    #[arg(long)]
    pub(crate) no_retry_failed: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Runs {
    /// Lists the runs in the store, newest first, with where each stands.
    List {
        /// The shared store (postgres://…).
        #[arg(long, value_name = "URL", env = "BOX_DOCGEN_STORE", hide_env_values = true)]
        store: String,
    },
    /// Shows a run: each row's result (one JSON object per row with --json) and where the run stands.
    Show {
        /// The run's id.
        id: i64,
        /// The shared store (postgres://…).
        #[arg(long, value_name = "URL", env = "BOX_DOCGEN_STORE", hide_env_values = true)]
        store: String,
        /// Also write every row's result to this file: CSV when it ends in .csv, JSON lines otherwise.
        #[arg(long, value_name = "FILE")]
        results: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum Jobs {
    /// Shows a job.
    Get {
        /// The job id.
        id: String,
    },
    /// Lists jobs: all, a template's, or a batch's.
    List {
        /// Only this template's jobs.
        #[arg(long, value_name = "FILE_ID", conflicts_with = "batch")]
        template: Option<String>,
        /// Only this batch's jobs.
        #[arg(long, value_name = "BATCH_ID")]
        batch: Option<String>,
        /// At most this many.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Waits until a job is final, and shows it (exit 1 unless it completed).
    Wait {
        /// The job id.
        id: String,
        /// Give up after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum Batches {
    /// Waits until every job of a batch is final, and lists them (exit 1 unless all completed).
    Wait {
        /// The batch id.
        id: String,
        /// Give up after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct Download {
    /// The file to download.
    #[arg(value_name = "FILE_ID", required_unless_present = "job", conflicts_with = "job")]
    pub(crate) file: Option<String>,
    /// Download this job's document instead (into --out, a directory, under its own name).
    #[arg(long, value_name = "JOB_ID")]
    pub(crate) job: Option<String>,
    /// Where to write: a file path, or a directory for --job.
    #[arg(long, value_name = "PATH")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Webhooks {
    /// Creates a webhook on a template file or a folder, for the Doc Gen triggers by default.
    Create {
        /// The file to watch.
        #[arg(long, value_name = "FILE_ID", required_unless_present = "folder", conflicts_with = "folder")]
        file: Option<String>,
        /// The folder to watch.
        #[arg(long, value_name = "FOLDER_ID")]
        folder: Option<String>,
        /// Where Box sends deliveries (https).
        #[arg(long, value_name = "URL")]
        address: String,
        /// Triggers (repeat, or comma-separated); default the three Doc Gen ones.
        #[arg(long = "trigger", value_name = "TRIGGER", value_delimiter = ',')]
        triggers: Vec<String>,
    },
    /// Lists the webhooks.
    List,
    /// Deletes a webhook.
    Delete {
        /// The webhook id.
        id: String,
    },
    /// Verifies a saved delivery's signature (keys from BOX_WEBHOOK_PRIMARY_KEY / BOX_WEBHOOK_SECONDARY_KEY) and
    /// prints its event.
    Verify {
        /// The delivery's body, as received.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// Its headers: `Name: value` lines, or a JSON object.
        #[arg(long, value_name = "FILE")]
        headers: PathBuf,
    },
    /// Receives deliveries on 127.0.0.1, verifies each, and prints its event.
    Listen {
        /// The port (0 picks a free one, printed on stderr).
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Stop after this many verified deliveries.
        #[arg(long, value_name = "N")]
        count: Option<usize>,
    },
}

/// A number that must be more than 0: a ceiling of 0 would mean no ceiling at all in the library, and a
/// negative one nothing; both are refused rather than read as something else.
fn positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        Ok(_) => Err("must be more than 0 (leave the option out for the default)".to_owned()),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

/// A count of at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(value) => Ok(value),
        Err(_) => Err(format!("{text:?} is not a whole number of 1 or more")),
    }
}
