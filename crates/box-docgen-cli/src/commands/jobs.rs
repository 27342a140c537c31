//! `jobs …` and `batches wait`.

use std::time::Duration;

use box_docgen::{DocGenJob, Error, JobStatus};
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Serialize;

use crate::cli::{Batches, Jobs};
use crate::connect::Connection;
use crate::failure::Failure;
use crate::output::Output;

pub(super) async fn run(connection: &Connection, command: Jobs, out: Output) -> Result<(), Failure> {
    let client = &connection.client;
    match command {
        Jobs::Get { id } => out.item(&client.get_job(&id).await?, line),
        Jobs::List { template, batch, limit } => {
            let limit = limit.unwrap_or(usize::MAX);
            match (template, batch) {
                (Some(template), _) => print_all(client.list_template_jobs(&template, None).take(limit), out).await?,
                (None, Some(batch)) => print_all(client.list_batch_jobs(&batch, None).take(limit), out).await?,
                (None, None) => print_all(client.list_jobs(None).take(limit), out).await?,
            }
        }
        Jobs::Wait { id, timeout } => {
            let options = connection.wait_options().deadline(Duration::from_secs(timeout));
            let job = client.wait_for_job(&id, options).await?;
            out.item(&job, line);
            if job.status != JobStatus::Completed {
                return Err(Failure::quiet());
            }
        }
    }
    Ok(())
}

pub(super) async fn batches(connection: &Connection, command: Batches, out: Output) -> Result<(), Failure> {
    let Batches::Wait { id, timeout } = command;
    let options = connection.wait_options().deadline(Duration::from_secs(timeout));
    let jobs = connection.client.wait_for_batch(&id, options).await?;
    for job in &jobs {
        out.item(job, line);
    }
    if jobs.iter().any(|job| job.status != JobStatus::Completed) { Err(Failure::quiet()) } else { Ok(()) }
}

async fn print_all<T: Serialize>(jobs: impl Stream<Item = Result<T, Error>>, out: Output) -> Result<(), Failure> {
    let mut jobs = std::pin::pin!(jobs);
    while let Some(job) = jobs.try_next().await? {
        out.item(&job, |job| serde_json::to_value(job).map(|job| summary(&job)).unwrap_or_default());
    }
    Ok(())
}

/// `id status output-file` and, for a job that did not complete, why.
fn line(job: &DocGenJob) -> String {
    serde_json::to_value(job).map(|job| summary(&job)).unwrap_or_default()
}

fn summary(job: &serde_json::Value) -> String {
    let text = |pointer: &str| job.pointer(pointer).and_then(|value| value.as_str()).unwrap_or("-").to_owned();
    let mut line = format!("{}\t{}\t{}", text("/id"), text("/status"), text("/output_file/id"));
    let failures: Vec<&str> = ["/failures/errors", "/failures/warnings"]
        .iter()
        .filter_map(|pointer| job.pointer(pointer).and_then(|list| list.as_array()))
        .flatten()
        .filter_map(|failure| failure.as_str())
        .collect();
    if !failures.is_empty() {
        line.push('\t');
        line.push_str(&failures.join("; "));
    }
    line
}
