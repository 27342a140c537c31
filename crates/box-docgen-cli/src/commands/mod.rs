//! One module per group of commands; this one dispatches, and prepares rows for `check` and `generate`.

mod check;
mod files;
mod generate;
mod jobs;
mod runs;
mod templates;
mod webhooks;
mod work;

use clap::CommandFactory;
use serde_json::{Map, Value};

use crate::cli::{Cli, Command, RowsArgs, Webhooks};
use crate::connect::connect;
use crate::output::Output;
use crate::rows::{self, Format};
use crate::{Failure, names};

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
        command => {
            let connection = connect(&cli.target, |builder| builder).await?;
            match command {
                Command::Templates(command) => templates::run(&connection, command, out).await,
                Command::Check(args) => check::run(&connection, args, out).await,
                Command::Jobs(command) => jobs::run(&connection, command, out).await,
                Command::Batches(command) => jobs::batches(&connection, command, out).await,
                Command::Download(args) => files::download(&connection, args, out).await,
                Command::Webhooks(command) => webhooks::run(&connection, command, out).await,
                Command::Completions { .. } | Command::Generate(_) | Command::Work(_) | Command::Runs(_) => Ok(()),
            }
        }
    }
}

/// A row ready to be checked or sent: its number, its file name and data, or why it cannot be.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) number: u64,
    pub(crate) file_name: String,
    pub(crate) data: Result<Map<String, Value>, String>,
}

/// Reads the rows file; CSV cells become numbers where the contract needs numbers; names each row.
pub(crate) fn prepare(
    args: &RowsArgs,
    contract: &box_docgen_contract::Contract,
    extension: &str,
) -> Result<Vec<Prepared>, Failure> {
    let text = std::fs::read_to_string(&args.rows)
        .map_err(|error| Failure::config(format!("{}: {error}", args.rows.display())))?;
    let format = args.format.unwrap_or_else(|| Format::of(&args.rows));
    let rows =
        rows::read(&text, format).map_err(|error| Failure::config(format!("{}: {error}", args.rows.display())))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let number = row.number;
            let mut data = row.data;
            if format == Format::Csv
                && let Ok(data) = &mut data
            {
                rows::coerce_numbers(contract, data);
            }
            let named = match (&args.name, &data) {
                (Some(pattern), Ok(data)) => names::expand(pattern, number, data),
                (Some(_), Err(_)) => Ok(format!("row {number}.{extension}")),
                (None, _) => row.file_name.ok_or_else(|| {
                    "no file name: give the rows a file_name column or field, or pass --name PATTERN".to_owned()
                }),
            };
            match named {
                Ok(file_name) => Prepared { number, file_name, data },
                Err(why) => {
                    Prepared { number, file_name: format!("row {number}.{extension}"), data: data.and(Err(why)) }
                }
            }
        })
        .collect())
}
