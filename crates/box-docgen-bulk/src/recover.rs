//! Settling an intent whose batch id never reached the journal (rule 3 of the crate's docs): Box may have the
//! batch (its answer was lost, or the process died before writing it), or not (the request never arrived).
//!
//! Box's job listings say, for each job, its batch, template version and output type, and nothing that ties it
//! to a request (no file name, no creation time, no client token). What can: the files a batch's jobs made,
//! whose names, folder and creation time `GET /files/{id}` tells. None of it is promised, so it is weighed:
//!
//! - **A candidate** is a batch of the template that this journal does not know, with as many jobs as the
//!   intent has rows, of the run's output type and template version. Its files, once its jobs are final, are
//!   read: a file created before the intent (less [`CLOCK_SKEW`]) proves the batch is another one.
//! - **A fitting candidate** is one whose files are all in the run's folder and each carry a name the intent
//!   asked for, in one of the forms assumed for Box's naming, which Box does not document: the name as asked;
//!   the name with the output type's extension added (Box's own examples ask for names without one); or Box's
//!   usual renaming of a name already taken in the folder (`Name (1).pdf`) of either. Any other name, or no
//!   file at all (every job failed), tells nothing either way: the candidate is *unclear*, never "not ours".
//! - **Decided**: one fitting candidate, when no other candidate is still running, is the intent's (at once,
//!   grace or not). No candidate at all once the grace period after the intent has passed (Box's listings can
//!   lag behind a new batch): Box has nothing, the rows are free again. Anything else (two fitting candidates,
//!   or only unclear ones after the grace period): the rows are undecided, reported with the candidates, and
//!   never sent by guess.
//!
//! Until it decides, it looks again on the run's [`WaitOptions`] schedule, and says what it waits for through
//! [`BulkProgress::settling`].

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use futures::TryStreamExt;
use tokio::time::Instant;

use box_docgen::{Client, DocGenJob, JobStatus, JobStatusExt, WaitOptions};

use crate::error::{Undecided, ranges};
use crate::outcome::{BulkProgress, Settling};
use crate::store::{Intent, RunSettings};
use crate::{CLOCK_SKEW, Error};

/// What became of an intent, as far as Box's listings tell.
#[derive(Debug)]
pub(crate) enum Found {
    /// Box has it as this batch.
    Batch(String),
    /// Box has no batch that could be it, and the grace period has passed.
    NotSent,
    /// Batches that could be it and cannot be told apart or checked.
    Undecided(Undecided),
}

/// What a settlement reads and reports through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lookout<'a> {
    pub(crate) client: &'a Client,
    pub(crate) run: &'a RunSettings,
    /// The batches the journal knows (none of them can be an unconfirmed intent's).
    pub(crate) known: &'a HashSet<String>,
    /// How often to look again.
    pub(crate) wait: &'a WaitOptions,
    /// How long after an intent finding no batch proves that Box has none.
    pub(crate) grace: Duration,
    pub(crate) progress: &'a BulkProgress,
}

/// What one candidate batch says about the intent.
#[derive(Debug, Clone)]
enum Verdict {
    /// Some of its jobs are not final yet: their files cannot be read.
    Running,
    /// Another batch: files made before the intent, or another number of jobs than listed.
    Other,
    /// Its files carry the intent's names, in the run's folder.
    Fits,
    /// Nothing tells: why.
    Unclear(String),
}

impl Lookout<'_> {
    /// Looks for the intent's batch until it can decide (see the module docs); the grace period began `since`
    /// ago (when the intent was written, or when the lease of the worker that wrote it ended).
    pub(crate) async fn find(&self, intent: &Intent, since: Duration) -> Result<Found, Error> {
        let rows: Vec<u64> = intent.rows.iter().map(|row| row.index).collect();
        let deadline = Instant::now() + self.grace.saturating_sub(since);
        let mut verdicts: HashMap<String, Verdict> = HashMap::new();
        let mut interval = self.wait.first_interval;
        let result = loop {
            self.progress.set_settling(Some(Settling::new(rows.clone(), deadline)));
            for id in self.candidates(intent).await? {
                if matches!(verdicts.get(&id), None | Some(Verdict::Running)) {
                    let verdict = self.verdict(intent, &id).await?;
                    verdicts.insert(id, verdict);
                }
            }
            let of = |wanted: fn(&Verdict) -> bool| -> Vec<String> {
                let mut ids: Vec<String> =
                    verdicts.iter().filter(|(_, verdict)| wanted(verdict)).map(|(id, _)| id.clone()).collect();
                ids.sort();
                ids
            };
            let fitting = of(|verdict| matches!(verdict, Verdict::Fits));
            let running = of(|verdict| matches!(verdict, Verdict::Running));
            let unclear = of(|verdict| matches!(verdict, Verdict::Unclear(_)));
            let graced = Instant::now() >= deadline;
            match (fitting.as_slice(), running.is_empty()) {
                ([id], true) => {
                    tracing::info!(rows = %ranges(&rows), batch_id = %id, "found the batch of an unconfirmed intent");
                    break Found::Batch(id.clone());
                }
                ([_, _, ..], _) => {
                    let reason = format!("{} batches of the template carry these file names", fitting.len());
                    break Found::Undecided(Undecided { rows, candidates: fitting, reason });
                }
                ([], true) if graced && unclear.is_empty() => {
                    tracing::info!(rows = %ranges(&rows), "Box has no batch for an unconfirmed intent: its rows are free");
                    break Found::NotSent;
                }
                ([], true) if graced => {
                    let reasons: Vec<String> = unclear
                        .iter()
                        .filter_map(|id| match &verdicts[id] {
                            Verdict::Unclear(why) => Some(format!("{id}: {why}")),
                            _ => None,
                        })
                        .collect();
                    let reason = format!(
                        "{} of the template's batches could hold them, and nothing tells whether one does ({})",
                        match unclear.len() {
                            1 => "one".to_owned(),
                            n => n.to_string(),
                        },
                        reasons.join("; ")
                    );
                    break Found::Undecided(Undecided { rows, candidates: unclear, reason });
                }
                _ => {}
            }
            // Still running candidates are waited for past the grace period too, within the wait's deadline.
            if graced && Instant::now() >= deadline + self.wait.deadline {
                let reason = format!("the batches that could hold them did not finish ({})", running.join(", "));
                break Found::Undecided(Undecided { rows, candidates: running, reason });
            }
            let pause = if graced { interval } else { interval.min(deadline - Instant::now()) };
            tracing::info!(rows = %ranges(&rows), left = ?deadline.saturating_duration_since(Instant::now()), "settling an unconfirmed intent: looking again");
            tokio::time::sleep(pause).await;
            interval = next_interval(self.wait, interval);
        };
        self.progress.set_settling(None);
        Ok(result)
    }

    /// Batches of the template that this journal does not know, with as many jobs as the intent has rows, of
    /// the run's output type and template version.
    async fn candidates(&self, intent: &Intent) -> Result<Vec<String>, Error> {
        let run = self.run;
        let mut sizes: HashMap<String, usize> = HashMap::new();
        let mut jobs = std::pin::pin!(self.client.list_template_jobs(&run.template, Some(1000)));
        while let Some(job) = jobs.try_next().await? {
            let version_fits =
                run.template_version.as_ref().is_none_or(|version| *version == job.template_file_version.id);
            if job.output_type == run.output_type && version_fits && !self.known.contains(&job.batch.id) {
                *sizes.entry(job.batch.id).or_default() += 1;
            }
        }
        let mut ids: Vec<String> =
            sizes.into_iter().filter(|(_, size)| *size == intent.rows.len()).map(|(id, _)| id).collect();
        ids.sort();
        Ok(ids)
    }

    /// Reads a candidate's jobs and, once they are final, its files.
    async fn verdict(&self, intent: &Intent, batch_id: &str) -> Result<Verdict, Error> {
        let jobs: Vec<DocGenJob> = self.client.list_batch_jobs(batch_id, Some(1000)).try_collect().await?;
        if jobs.len() != intent.rows.len() {
            return Ok(Verdict::Other);
        }
        if !jobs.iter().all(|job| job.status.is_terminal()) {
            return Ok(Verdict::Running);
        }
        let earliest = Duration::from_millis(intent.at).saturating_sub(CLOCK_SKEW).as_secs() as i64;
        let mut names = Vec::new();
        let mut elsewhere = false;
        for job in &jobs {
            let Some(file) = job.output_file.as_ref().filter(|_| job.status == JobStatus::Completed) else { continue };
            let info = self.client.get_file(&file.id, &["name", "parent", "created_at"]).await?;
            if info.created_at.is_some_and(|created| created.timestamp() < earliest) {
                return Ok(Verdict::Other);
            }
            elsewhere |= info.parent.as_ref().is_some_and(|parent| parent.id != self.run.folder);
            names.push(info.name.unwrap_or_default());
        }
        let asked: Vec<&str> = intent.rows.iter().map(|row| row.name.as_str()).collect();
        Ok(if names.is_empty() {
            Verdict::Unclear("none of its jobs made a file".into())
        } else if elsewhere {
            Verdict::Unclear("its files are in another folder".into())
        } else if all_fit(&asked, &names, &self.run.output_type) {
            Verdict::Fits
        } else {
            let shown: Vec<String> = names.iter().take(3).map(|name| format!("{name:?}")).collect();
            let more = if names.len() > 3 { ", …" } else { "" };
            Verdict::Unclear(format!("its files are named {}{more}", shown.join(", ")))
        })
    }
}

/// The next wait between looks.
fn next_interval(wait: &WaitOptions, interval: Duration) -> Duration {
    let factor = if wait.backoff_factor.is_finite() { wait.backoff_factor.max(1.0) } else { 1.0 };
    interval.mul_f64(factor).min(wait.max_interval).max(Duration::from_millis(1))
}

/// Whether every made name fits a different one of the asked names (position by position first).
fn all_fit(asked: &[&str], made: &[String], output_type: &str) -> bool {
    let mut used = vec![false; asked.len()];
    made.iter().enumerate().all(|(position, made)| {
        let at_position = asked.get(position).is_some_and(|asked| fits(asked, made, output_type));
        let slot = if at_position && !used[position] {
            Some(position)
        } else {
            (0..asked.len()).find(|&slot| !used[slot] && fits(asked[slot], made, output_type))
        };
        slot.map(|slot| used[slot] = true).is_some()
    })
}

/// Whether Box's file name `made` is one of the forms assumed for the name `asked` (see the module docs).
fn fits(asked: &str, made: &str, output_type: &str) -> bool {
    let extension = format!(".{output_type}");
    let with_extension = if asked.to_ascii_lowercase().ends_with(&extension.to_ascii_lowercase()) {
        None
    } else {
        Some(format!("{asked}{extension}"))
    };
    std::iter::once(asked).chain(with_extension.as_deref()).any(|name| name == made || renamed_from(name, made))
}

/// Whether `made` is Box's renaming of `asked` when that name is taken: `Name (2).pdf` for `Name.pdf`.
fn renamed_from(asked: &str, made: &str) -> bool {
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
    fn names_fit_as_asked_with_the_extension_added_or_as_box_renames_a_taken_one() {
        for made in ["Contract 7.pdf", "Contract 7 (1).pdf"] {
            assert!(fits("Contract 7.pdf", made, "pdf"), "{made}");
        }
        for made in ["Image test", "Image test.pdf", "Image test (3).pdf", "Image test (3)"] {
            assert!(fits("Image test", made, "pdf"), "{made}");
        }
        assert!(fits("Notes", "Notes (12)", "docx"));
        let others =
            ["Contract 70.pdf", "Contract 7 (x).pdf", "Contract 7 ().pdf", "Contract 7 (1).docx", "Document 9.pdf"];
        for other in others {
            assert!(!fits("Contract 7.pdf", other, "pdf"), "{other}");
        }
        assert!(!fits("AC/DC.pdf", "AC_DC.pdf", "pdf"), "a replaced character is not assumed");
        assert!(!fits("Contract 7.pdf", "Contract 7.pdf.pdf", "pdf"), "no extension added to a name that has it");
    }

    #[test]
    fn a_batch_fits_when_each_file_carries_a_different_asked_name() {
        let asked = ["A.pdf", "B.pdf", "C.pdf"];
        let made = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
        assert!(all_fit(&asked, &made(&["A.pdf", "B.pdf", "C.pdf"]), "pdf"));
        assert!(all_fit(&asked, &made(&["B.pdf", "A (1).pdf", "C.pdf"]), "pdf"), "listed in another order");
        assert!(all_fit(&asked, &made(&["A.pdf", "C.pdf"]), "pdf"), "a job that failed made no file");
        assert!(!all_fit(&asked, &made(&["A.pdf", "A.pdf", "C.pdf"]), "pdf"), "one name twice");
        assert!(!all_fit(&asked, &made(&["A.pdf", "B.pdf", "D.pdf"]), "pdf"));
    }
}
