//! One module per group of commands; this one dispatches.

mod check;
mod files;
mod generate;
mod jobs;
mod runs;
mod templates;
mod webhooks;
mod work;

use clap::CommandFactory;

use crate::cli::{Cli, Command, Webhooks};
use crate::connect::connect;
use crate::failure::Failure;
use crate::output::Output;

/// Runs the command line.
pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    let out = Output { json: cli.json };
    match cli.command {
        Command::Completions { shell } => {
            // Made whole first: clap_complete panics when its writer fails (a reader that went away).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "box-docgen", &mut script);
            crate::output::write(&script);
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
