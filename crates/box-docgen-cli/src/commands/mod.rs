//! One module per group of commands; this one dispatches, and loads rows for `check` and `generate`.

mod check;
mod files;
mod generate;
mod jobs;
mod runs;
mod templates;
mod webhooks;
mod work;

use clap::CommandFactory;

use crate::Failure;
use crate::cli::{Cli, Command, RowsArgs, Webhooks};
use crate::connect::connect;
use crate::output::Output;
use crate::rows;

/// Runs the command line.
pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    let out = Output { json: cli.json };
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "box-docgen", &mut std::io::stdout());
            Ok(())
        }
        Command::Webhooks(Webhooks::Verify { body, headers }) => {
            webhooks::verify(&body, &headers, cli.target.demo, out)
        }
        Command::Generate(args) => generate::run(&cli.target, *args, out).await,
        Command::Work(args) => work::run(&cli.target, *args, out).await,
        Command::Runs(command) => runs::run(command, out).await,
        // A Word document on disk needs no Box.
        Command::Templates(command) if templates::offline_for(&command) => templates::offline(command, out),
        Command::Check(args) if templates::is_local(&args.template) => check::run(None, args, out).await,
        command => {
            let connection = connect(&cli.target, |builder| builder).await?;
            match command {
                Command::Templates(command) => templates::run(&connection, command, out).await,
                Command::Check(args) => check::run(Some(&connection), args, out).await,
                Command::Jobs(command) => jobs::run(&connection, command, out).await,
                Command::Batches(command) => jobs::batches(&connection, command, out).await,
                Command::Download(args) => files::download(&connection, args, out).await,
                Command::Webhooks(command) => webhooks::run(&connection, command, out).await,
                Command::Completions { .. } | Command::Generate(_) | Command::Work(_) | Command::Runs(_) => Ok(()),
            }
        }
    }
}

/// Reads the rows, names the columns the template does not read (refusing the run with `--strict`), and
/// prepares each row (numbers typed where the template needs them, a file name).
pub(crate) fn load(
    args: &RowsArgs,
    contract: &box_docgen_contract::Contract,
    extension: &str,
) -> Result<Vec<rows::Prepared>, Failure> {
    let input = rows::read(args)?;
    let unknown = rows::columns::unknown(&input.rows, contract);
    if args.strict && !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        return Err(Failure::config(format!("--strict: {}", list.join("; "))));
    }
    for column in &unknown {
        eprintln!("warning: {column}");
    }
    let prepared = rows::prepare(input.rows, input.format, contract, args.name.as_deref(), extension);
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

/// Checks that files can be written in `dir` (creating it), before anything is sent.
pub(crate) fn writable_dir(dir: &std::path::Path) -> Result<(), Failure> {
    let refuse = |error: std::io::Error| Failure::config(format!("{}: {error}", dir.display()));
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".box-docgen-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(refuse)?;
    std::fs::remove_file(&probe).map_err(refuse)
}
