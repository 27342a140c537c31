//! Waiting for jobs to finish: polling with backoff and a deadline; each poll is a request like any other, with
//! the client's retries and pacing.

use std::time::Duration;

use futures::TryStreamExt;
use tokio::time::Instant;

use crate::error::WaitTimeout;
use crate::{Client, DocGenJob, DocGenTag, Error, JobStatusExt};

/// How to poll while waiting; [`WaitOptions::default`] polls after 1 s, then 1.5× longer each time up to
/// 15 s between polls, for at most 10 minutes.
///
/// ```
/// use std::time::Duration;
/// let options = box_docgen::WaitOptions::default()
///     .first_interval(Duration::from_millis(500))
///     .deadline(Duration::from_secs(120));
/// assert_eq!(options.max_interval, Duration::from_secs(15));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WaitOptions {
    /// The wait before the second poll (the first is immediate).
    pub first_interval: Duration,
    /// Each wait is this many times the one before (at least 1).
    pub backoff_factor: f64,
    /// The longest wait between polls.
    pub max_interval: Duration,
    /// How long to wait in all before giving up with [`Error::WaitTimeout`].
    pub deadline: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            first_interval: Duration::from_secs(1),
            backoff_factor: 1.5,
            max_interval: Duration::from_secs(15),
            deadline: Duration::from_secs(600),
        }
    }
}

impl WaitOptions {
    /// Sets [`first_interval`](Self::first_interval).
    pub fn first_interval(mut self, interval: Duration) -> Self {
        self.first_interval = interval;
        self
    }

    /// Sets [`backoff_factor`](Self::backoff_factor).
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        self.backoff_factor = factor;
        self
    }

    /// Sets [`max_interval`](Self::max_interval).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Sets [`deadline`](Self::deadline).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    fn next_interval(&self, interval: Duration) -> Duration {
        let factor = if self.backoff_factor.is_finite() { self.backoff_factor.max(1.0) } else { 1.0 };
        interval.mul_f64(factor).min(self.max_interval)
    }
}

impl Client {
    /// Polls a job until it is final (`completed`, `failed` or `completed_with_error`) and returns it.
    ///
    /// A job that `failed` is returned, not an error: look at `status` and `failures`. A status Box adds later
    /// counts as not final. Each poll goes through the client's retry policy and pacing (a 429 holds it, and
    /// every other request of the client, until Box's `Retry-After`); an error that outlasts the retries ends
    /// the wait. When the deadline passes, the error is [`Error::WaitTimeout`] with the job as last seen.
    /// Dropping the future stops the polling.
    ///
    /// ```no_run
    /// # async fn run(client: box_docgen::Client) -> Result<(), box_docgen::Error> {
    /// let job = client.wait_for_job("12345", box_docgen::WaitOptions::default()).await?;
    /// println!("{} ended {}", job.id, job.status);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_job(&self, job_id: &str, options: WaitOptions) -> Result<DocGenJob, Error> {
        let mut jobs = self.poll(options, || async { Ok(vec![self.get_job(job_id).await?]) }).await?;
        Ok(jobs.remove(0))
    }

    /// Polls the jobs of a batch until there is at least one and all are final, and returns them all.
    ///
    /// Polling, errors and the deadline work as in [`wait_for_job`](Self::wait_for_job); each poll reads every
    /// page of the batch's jobs.
    pub async fn wait_for_batch(&self, batch_id: &str, options: WaitOptions) -> Result<Vec<DocGenJob>, Error> {
        self.poll(options, || self.list_batch_jobs(batch_id, Some(crate::pagination::MAX_LIMIT)).try_collect()).await
    }

    /// Polls a template's tags until Box has read them (it answers 202 while it reads a new template), and
    /// returns them all, every page read. `template_version_id` picks a version of the template file (the
    /// current one when `None`).
    ///
    /// Polling, errors and the deadline work as in [`wait_for_job`](Self::wait_for_job); when the deadline
    /// passes, the error is [`Error::TagsProcessing`] with Box's last message.
    pub async fn wait_for_tags(
        &self,
        template_id: &str,
        template_version_id: Option<&str>,
        options: WaitOptions,
    ) -> Result<Vec<DocGenTag>, Error> {
        let start = Instant::now();
        let mut interval = options.first_interval;
        loop {
            match self
                .template_tags(template_id, template_version_id, Some(crate::pagination::MAX_LIMIT))
                .try_collect()
                .await
            {
                Err(Error::TagsProcessing(_)) if start.elapsed() < options.deadline => {
                    tokio::time::sleep(interval.min(options.deadline - start.elapsed())).await;
                    interval = options.next_interval(interval);
                }
                tags => return tags,
            }
        }
    }

    async fn poll<F, Fut>(&self, options: WaitOptions, mut fetch: F) -> Result<Vec<DocGenJob>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Vec<DocGenJob>, Error>>,
    {
        let start = Instant::now();
        let deadline = start + options.deadline;
        let mut interval = options.first_interval;
        loop {
            let last_seen = fetch().await?;
            if !last_seen.is_empty() && last_seen.iter().all(|job| job.status.is_terminal()) {
                return Ok(last_seen);
            }
            let wait = interval;
            interval = options.next_interval(interval);
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::WaitTimeout(Box::new(WaitTimeout { waited: now - start, last_seen })));
            }
            // The last poll happens at the deadline.
            tokio::time::sleep_until((now + wait).min(deadline)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_grow_by_the_factor_up_to_the_cap() {
        let options =
            WaitOptions::default().first_interval(Duration::from_secs(2)).max_interval(Duration::from_secs(5));
        assert_eq!(options.next_interval(Duration::from_secs(2)), Duration::from_secs(3));
        assert_eq!(options.next_interval(Duration::from_secs(4)), Duration::from_secs(5));
        let odd = WaitOptions::default().backoff_factor(f64::NAN);
        assert_eq!(odd.next_interval(Duration::from_secs(2)), Duration::from_secs(2));
        let shrinking = WaitOptions::default().backoff_factor(0.1);
        assert_eq!(shrinking.next_interval(Duration::from_secs(2)), Duration::from_secs(2));
    }
}
