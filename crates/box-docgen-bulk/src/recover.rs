//! Finding the batch of an intent whose batch id never reached the journal (rule 3 of the module docs).
//!
//! Box's job listings say, for each job, its batch, template version and output type, and nothing that ties
//! it to a request (no file name, no creation time, no client token). What does: the files a batch's jobs
//! generated, whose names, folder and creation time `GET /files/{id}` tells.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;

use box_docgen::JobStatus;

use crate::error::{Undecided, ranges};
use crate::journal::Intent;
use crate::run::Context;
use crate::{CLOCK_SKEW, Error};

/// What became of an intent, as far as Box's listings tell.
#[derive(Debug)]
pub(crate) enum Found {
    /// Box has it as this batch.
    Batch(String),
    /// Box has no batch that could be it, and the grace period has passed.
    NotSent,
    /// Several batches could be it, or one that cannot be checked.
    Undecided(Undecided),
}

/// What one candidate batch says about the intent.
enum Verdict {
    /// Its files carry the intent's names, in the run's folder, created after the intent.
    Matches,
    /// No job produced a file: nothing to compare.
    Unverifiable,
    /// It is some other batch.
    Other,
}

/// Looks for the intent's batch among the template's jobs; waits out the grace period before concluding that
/// there is none (and before taking a batch it cannot check).
pub(crate) async fn find(context: &Context, intent: &Intent) -> Result<Found, Error> {
    let mut waited = false;
    loop {
        let mut matching = Vec::new();
        let mut unverifiable = Vec::new();
        for id in candidates(context, intent).await? {
            match verdict(context, intent, &id).await? {
                Verdict::Matches => matching.push(id),
                Verdict::Unverifiable => unverifiable.push(id),
                Verdict::Other => {}
            }
        }
        let left = grace_left(context.grace, intent.at);
        if matching.is_empty() && !waited && !left.is_zero() {
            tracing::info!(wait = ?left, "Box's listings may lag behind a new batch: looking again after the grace period");
            tokio::time::sleep(left).await;
            waited = true;
            continue;
        }
        let rows: Vec<u64> = intent.rows.iter().map(|row| row.index).collect();
        return Ok(match (matching.len(), unverifiable.len()) {
            (0, 0) => {
                tracing::info!(rows = %ranges(&rows), "Box has no batch for an unconfirmed intent: its rows are sent");
                Found::NotSent
            }
            (1, 0) | (0, 1) => {
                let id = matching.pop().or_else(|| unverifiable.pop()).unwrap_or_default();
                tracing::info!(rows = %ranges(&rows), batch_id = %id, "found the batch of an unconfirmed intent");
                Found::Batch(id)
            }
            _ => {
                let reason = format!(
                    "{} batches of the template could hold them ({} with these file names, {} whose jobs made no file)",
                    matching.len() + unverifiable.len(),
                    matching.len(),
                    unverifiable.len()
                );
                matching.extend(unverifiable);
                Found::Undecided(Undecided { rows, candidates: matching, reason })
            }
        });
    }
}

/// How much of the grace period after an intent written at `at` (ms since the epoch) is left.
fn grace_left(grace: Duration, at: u64) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    grace.saturating_sub(now.saturating_sub(Duration::from_millis(at)))
}

/// Batches of the template that this journal does not know, with as many jobs as the intent has rows, of the
/// run's output type and template version.
async fn candidates(context: &Context, intent: &Intent) -> Result<Vec<String>, Error> {
    let run = &context.run;
    let journal = context.journal.as_ref();
    let mut sizes: HashMap<String, usize> = HashMap::new();
    let mut jobs = std::pin::pin!(context.client.list_template_jobs(&run.template, Some(1000)));
    while let Some(job) = jobs.try_next().await? {
        let version_fits = run.template_version.as_ref().is_none_or(|version| *version == job.template_file_version.id);
        let known = journal.is_some_and(|journal| journal.knows_batch(&job.batch.id));
        if job.output_type == run.output_type && version_fits && !known {
            *sizes.entry(job.batch.id).or_default() += 1;
        }
    }
    let mut ids: Vec<String> =
        sizes.into_iter().filter(|(_, size)| *size == intent.rows.len()).map(|(id, _)| id).collect();
    ids.sort();
    Ok(ids)
}

/// Waits for a candidate's jobs, then compares their files with the intent, position by position.
async fn verdict(context: &Context, intent: &Intent, batch_id: &str) -> Result<Verdict, Error> {
    let jobs = context.client.wait_for_batch(batch_id, context.wait.clone()).await?;
    if jobs.len() != intent.rows.len() {
        return Ok(Verdict::Other);
    }
    let earliest = Duration::from_millis(intent.at).saturating_sub(CLOCK_SKEW).as_secs() as i64;
    let mut checked = false;
    for (job, row) in jobs.iter().zip(&intent.rows) {
        let Some(file) = job.output_file.as_ref().filter(|_| job.status == JobStatus::Completed) else { continue };
        let info = context.client.get_file(&file.id, &["name", "parent", "created_at"]).await?;
        let name_fits = info.name.as_deref().is_some_and(|name| same_name(&row.name, name));
        let folder_fits = info.parent.as_ref().is_none_or(|parent| parent.id == context.run.folder);
        let time_fits = info.created_at.is_none_or(|created| created.timestamp() >= earliest);
        if !(name_fits && folder_fits && time_fits) {
            return Ok(Verdict::Other);
        }
        checked = true;
    }
    Ok(if checked { Verdict::Matches } else { Verdict::Unverifiable })
}

/// Whether Box's file name `made` is the name `asked` for: the same, or Box's `Name (2).pdf` for a name
/// already taken in the folder.
fn same_name(asked: &str, made: &str) -> bool {
    if asked == made {
        return true;
    }
    let (stem, extension) = split_extension(asked);
    let (made_stem, made_extension) = split_extension(made);
    extension == made_extension
        && made_stem
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix(" ("))
            .and_then(|rest| rest.strip_suffix(')'))
            .is_some_and(|number| !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit()))
}

fn split_extension(name: &str) -> (&str, &str) {
    let extension = Path::new(name).extension().and_then(|extension| extension.to_str()).unwrap_or_default();
    if extension.is_empty() { (name, "") } else { (&name[..name.len() - extension.len() - 1], extension) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_as_asked_or_as_box_renames_a_taken_one() {
        assert!(same_name("Contract 7.pdf", "Contract 7.pdf"));
        assert!(same_name("Contract 7.pdf", "Contract 7 (1).pdf"));
        assert!(same_name("Notes", "Notes (12)"));
        for other in ["Contract 70.pdf", "Contract 7 (x).pdf", "Contract 7 ().pdf", "Contract 7 (1).docx"] {
            assert!(!same_name("Contract 7.pdf", other), "{other}");
        }
    }

    #[test]
    fn the_grace_period_counts_from_the_intent() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64;
        assert!(grace_left(Duration::from_secs(60), now) > Duration::from_secs(59));
        assert!(grace_left(Duration::from_secs(60), now - 61_000).is_zero());
    }
}
