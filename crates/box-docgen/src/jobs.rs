//! Doc Gen jobs: one job, and the listings of jobs.

use futures::Stream;

use box_docgen_generated::operations as op;

use crate::arguments::path_segment;
use crate::client::BOX_VERSION;
use crate::pagination::{self, check_limit};
use crate::{Client, DocGenJob, DocGenJobFull, DocGenJobs, DocGenJobsFull, Error};

impl Client {
    /// Gets a Doc Gen job: `GET /docgen_jobs/{job_id}`.
    ///
    /// The id is sent percent-encoded as one path segment. An empty or blank id, `.` or `..`, or an id with a
    /// backslash (which URL parsers read as `/`) is rejected with [`Error::InvalidInput`] before any request.
    ///
    /// ```no_run
    /// use box_docgen::JobStatusExt;
    /// # async fn run(client: box_docgen::Client) -> Result<(), box_docgen::Error> {
    /// let job = client.get_job("12345").await?;
    /// if job.status.is_terminal() {
    ///     println!("done: {}", job.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_job(&self, job_id: &str) -> Result<DocGenJob, Error> {
        let job_id = path_segment("job_id", job_id)?;
        self.send(&op::GetDocgenJobsIdV20250 { job_id, box_version: BOX_VERSION }).await
    }

    /// One page of every job the caller can see, with full details: `GET /docgen_jobs`.
    ///
    /// `marker` is the previous page's `next_marker` (`None` for the first page); `limit` is 1 to 1000.
    pub async fn list_jobs_page(&self, marker: Option<&str>, limit: Option<u32>) -> Result<DocGenJobsFull, Error> {
        let limit = check_limit(limit)?;
        self.send(&op::GetDocgenJobsV20250 { limit, marker, box_version: BOX_VERSION }).await
    }

    /// Every job the caller can see, page after page, fetched as the stream is read.
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// # async fn run(client: box_docgen::Client) -> Result<(), box_docgen::Error> {
    /// let mut jobs = std::pin::pin!(client.list_jobs(Some(1000)));
    /// while let Some(job) = jobs.try_next().await? {
    ///     println!("{} {}", job.id, job.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_jobs(&self, limit: Option<u32>) -> impl Stream<Item = Result<DocGenJobFull, Error>> + Send + 'static {
        pagination::items(self.clone(), move |client, marker| async move {
            client.list_jobs_page(marker.as_deref(), limit).await
        })
    }

    /// One page of the jobs of a batch: `GET /docgen_batch_jobs/{batch_id}`.
    pub async fn list_batch_jobs_page(
        &self,
        batch_id: &str,
        marker: Option<&str>,
        limit: Option<u32>,
    ) -> Result<DocGenJobs, Error> {
        let batch_id = path_segment("batch_id", batch_id)?;
        let limit = check_limit(limit)?;
        self.send(&op::GetDocgenBatchJobsIdV20250 { batch_id, limit, marker, box_version: BOX_VERSION }).await
    }

    /// Every job of a batch, page after page, fetched as the stream is read.
    pub fn list_batch_jobs(
        &self,
        batch_id: &str,
        limit: Option<u32>,
    ) -> impl Stream<Item = Result<DocGenJob, Error>> + Send + 'static {
        pagination::items((self.clone(), batch_id.to_owned()), move |(client, batch_id), marker| async move {
            client.list_batch_jobs_page(&batch_id, marker.as_deref(), limit).await
        })
    }

    /// One page of the jobs that used a template: `GET /docgen_template_jobs/{template_id}`.
    pub async fn list_template_jobs_page(
        &self,
        template_id: &str,
        marker: Option<&str>,
        limit: Option<u32>,
    ) -> Result<DocGenJobs, Error> {
        let template_id = path_segment("template_id", template_id)?;
        let limit = check_limit(limit)?;
        self.send(&op::GetDocgenTemplateJobsIdV20250 { template_id, limit, marker, box_version: BOX_VERSION }).await
    }

    /// Every job that used a template, page after page, fetched as the stream is read.
    pub fn list_template_jobs(
        &self,
        template_id: &str,
        limit: Option<u32>,
    ) -> impl Stream<Item = Result<DocGenJob, Error>> + Send + 'static {
        pagination::items((self.clone(), template_id.to_owned()), move |(client, template_id), marker| async move {
            client.list_template_jobs_page(&template_id, marker.as_deref(), limit).await
        })
    }
}
