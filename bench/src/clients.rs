//! The three clients, each doing the same thing on the same wire.

use box_docgen::{DocGenJob, DocGenJobs};
use futures::TryStreamExt;

use crate::workload::{PAGE, TOKEN};

/// Which client a measurement is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// reqwest + serde_json, decoding into the same generated types: the floor.
    Raw,
    /// The box-docgen facade, with its default settings.
    Facade,
    /// box-open-sdk 0.12.
    Peer,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Raw, Kind::Facade, Kind::Peer];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Raw => "raw reqwest + serde_json (floor)",
            Kind::Facade => "box-docgen facade",
            Kind::Peer => "box-open-sdk 0.12",
        }
    }
}

pub struct Clients {
    base_url: String,
    raw: reqwest::Client,
    facade: box_docgen::Client,
    peer: box_open_sdk::client::Client,
}

impl Clients {
    pub fn new(base_url: &str) -> Self {
        // The floor gets the facade's reqwest settings, so the difference is what the facade adds (the facade's
        // default `rustls` feature gives reqwest its own TLS provider, which both use).
        let raw = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("a reqwest client");
        // The learned rate starts at Box's 1,000 requests per minute and doubles every half second: against this
        // local server it would pace the first seconds of each case. These cases measure what a request costs, so
        // it starts unbounded (its bookkeeping still runs on every request); `load` measures the pacing.
        let facade = box_docgen::Client::builder(TOKEN)
            .base_url(base_url)
            .retry_policy(box_docgen::RetryPolicy::default().initial_rate(f64::INFINITY))
            .build()
            .expect("a facade client");
        let session = box_open_sdk::runtime::Client::new(box_open_sdk::auth::Auth::developer_token(TOKEN))
            .with_base_url("api", base_url);
        let peer = box_open_sdk::client::Client::from_session(session);
        Self { base_url: base_url.to_owned(), raw, facade, peer }
    }

    /// Gets job `12345`; returns its id length (so nothing is optimized away).
    pub async fn get_job(&self, kind: Kind) -> usize {
        match kind {
            Kind::Raw => {
                let response = self
                    .raw
                    .get(format!("{}/docgen_jobs/12345", self.base_url))
                    .bearer_auth(TOKEN)
                    .header("box-version", "2025.0")
                    .send()
                    .await
                    .expect("a response");
                assert!(response.status().is_success());
                let body = response.bytes().await.expect("a body");
                serde_json::from_slice::<DocGenJob>(&body).expect("a job").id.len()
            }
            Kind::Facade => self.facade.get_job("12345").await.expect("a job").id.len(),
            Kind::Peer => self.peer.docgen.get_job("12345".to_owned()).await.expect("a job").id.len(),
        }
    }

    /// Streams every job of a `total`-job listing, one page of 1 000 at a time; returns the count.
    pub async fn stream_jobs(&self, kind: Kind, total: usize) -> usize {
        let batch = total.to_string();
        match kind {
            Kind::Raw => {
                let mut count = 0;
                let mut marker: Option<String> = None;
                loop {
                    let mut request = self
                        .raw
                        .get(format!("{}/docgen_batch_jobs/{batch}", self.base_url))
                        .bearer_auth(TOKEN)
                        .header("box-version", "2025.0")
                        .query(&[("limit", PAGE.to_string())]);
                    if let Some(marker) = &marker {
                        request = request.query(&[("marker", marker)]);
                    }
                    let body = request.send().await.expect("a response").bytes().await.expect("a body");
                    let page: DocGenJobs = serde_json::from_slice(&body).expect("a page");
                    for job in page.entries {
                        count += job.id.len().min(1);
                    }
                    match page.next_marker {
                        Some(next) if !next.is_empty() => marker = Some(next),
                        _ => return count,
                    }
                }
            }
            Kind::Facade => {
                let jobs = self.facade.list_batch_jobs(&batch, Some(PAGE as u32));
                jobs.try_fold(0, |count, job| async move { Ok(count + job.id.len().min(1)) }).await.expect("every job")
            }
            Kind::Peer => {
                let options = box_open_sdk::managers::docgen::DocgenListBatchJobOptions {
                    marker: None,
                    limit: Some(PAGE as i64),
                };
                let mut jobs = self.peer.docgen.list_batch_job(batch, Some(options));
                let mut count = 0;
                while let Some(job) = jobs.next().await {
                    count += job.expect("a job").id.len().min(1);
                }
                count
            }
        }
    }
}
