//! `box-docgen`, the command-line tool for Box Doc Gen: rows in, verified documents out, from any shell.
//!
//! Data goes to stdout (JSON with `--json`), messages and progress to stderr (progress only on a terminal).
//! Exit status: 0 success; 1 a row (or the one thing asked) failed, was refused or is unknown; 2 usage,
//! configuration or authentication; 130 interrupted (Ctrl-C).

mod cli;
mod commands;
mod connect;
mod demo;
mod failure;
mod names;
mod output;
mod rows;
mod warnings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}
