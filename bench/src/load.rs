//! The load scenario: bulk generation against a stand-in that answers 429 beyond Box-like limits.
//!
//! The stand-in (`box-docgen-mock`) runs in a process of its own (`serve-mock`), so that its state (every job
//! it made) stays out of the client's heap figures. It admits `rps` requests per second and `docs` documents
//! per second in batch `POST`s (bursts of one second's worth), and answers 429 with `Retry-After` beyond.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use box_docgen::rate::RateLimits;
use box_docgen::{Client, WaitOptions};
use futures::StreamExt;

use crate::alloc;

/// One run of the scenario.
pub struct Figures {
    /// Whether the client was told the limits (ceilings) or had only its learned rate.
    pub told: bool,
    pub rows: usize,
    pub docs_per_second: f64,
    pub requests: usize,
    pub refused: usize,
    pub failed_rows: usize,
    pub seconds: f64,
    pub peak_heap: usize,
}

impl Figures {
    pub fn ideal(&self) -> f64 {
        self.rows as f64 / self.docs_per_second
    }
}

/// `serve-mock <docs per second> <requests per second>`: the stand-in, until stdin closes; `stats` on stdin
/// prints `<requests> <429s>`.
pub fn serve(docs: f64, rps: f64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let mock = runtime.block_on(async {
        let mock = box_docgen_mock::MockBox::start().await;
        mock.add_template("42", "Contract.docx", &["customer"]).polls_to_finish(1);
        mock.limit_rate(rps).limit_documents(docs);
        mock
    });
    println!("{}", mock.base_url());
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("stats") => println!("{} {}", mock.requests().len(), mock.rate_limited()),
            _ => break,
        }
    }
    drop(mock);
}

/// The stand-in's process.
pub struct StandIn {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub base_url: String,
}

impl StandIn {
    pub fn start(docs: f64, rps: f64) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("the bench binary"))
            .args(["serve-mock", &docs.to_string(), &rps.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the stand-in starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut base_url = String::new();
        stdout.read_line(&mut base_url).expect("the stand-in prints its URL");
        Self { child, stdin, stdout, base_url: base_url.trim().to_owned() }
    }

    /// Requests received and 429s answered so far.
    pub fn stats(&mut self) -> (usize, usize) {
        writeln!(self.stdin, "stats").expect("the stand-in reads");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("the stand-in answers");
        let mut numbers = line.split_whitespace().map(|number| number.parse().expect("a count"));
        (numbers.next().expect("requests"), numbers.next().expect("429s"))
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The share of a known limit a client's ceiling is set to: pacing at exactly the server's rate leaves
/// network jitter to decide whether a request lands just before or just after the server has room.
pub const MARGIN: f64 = 0.95;

/// The ceilings a service would set for these limits: [`MARGIN`] of the ones it was told (documents per minute,
/// here scaled to the stand-in's per-second limit with its one-second burst, and requests per second), under
/// which the learned rate runs.
pub fn ceilings(docs: f64, rps: f64) -> RateLimits {
    let (docs, rps) = (docs * MARGIN, rps * MARGIN);
    RateLimits::none().documents_per_minute(docs * 60.0).documents_burst(docs).requests_per_second(rps)
}

fn limited(base_url: &str, limits: RateLimits) -> Client {
    Client::builder("bench-token").base_url(base_url).rate_limits(limits).build().expect("a client")
}

/// `rows` rows through `Client::bulk` (100 per batch, 4 batches in flight), against a fresh stand-in; `told`:
/// with ceilings set from the limits, else with the learned rate alone.
pub async fn bulk(rows: usize, docs: f64, rps: f64, told: bool) -> Figures {
    let mut stand_in = StandIn::start(docs, rps);
    let client = limited(&stand_in.base_url, if told { ceilings(docs, rps) } else { RateLimits::none() });
    let figures = run(&client, rows, docs, Duration::from_millis(200)).await;
    let (requests, refused) = stand_in.stats();
    Figures { told, requests, refused, ..figures }
}

/// The bulk path itself (rows made as they are read, so the input takes no memory), polling each batch every
/// `poll`.
pub async fn run(client: &Client, rows: usize, docs: f64, poll: Duration) -> Figures {
    let input = futures::stream::iter(0..rows)
        .map(|n| (format!("Contract {n}.pdf"), serde_json::json!({ "customer": { "id": n, "name": "Acme" } })));
    let baseline = alloc::reset_peak();
    let start = Instant::now();
    let mut results = box_docgen_bulk::Bulk::new(client, "42", "0", "pdf")
        .batch_size(100)
        .batches_in_flight(4)
        .wait_options(WaitOptions::default().first_interval(poll).backoff_factor(1.0))
        .generate(input)
        .await
        .expect("the settings are fine");
    let mut failed_rows = 0;
    while let Some(row) = results.next().await {
        if !row.succeeded() {
            failed_rows += 1;
        }
    }
    Figures {
        told: true,
        rows,
        docs_per_second: docs,
        requests: 0,
        refused: 0,
        failed_rows,
        seconds: start.elapsed().as_secs_f64(),
        peak_heap: alloc::peak_above(baseline),
    }
}

pub fn report(runs: &[Figures], rps: f64) -> String {
    let mut out = format!(
        "\n## Bulk generation under Box-like limits (429 beyond {rps} requests/s and N documents/s)\n\n\
         | client | rows | documents/s allowed | requests | 429s | share 429 | rows failed | wall time | ideal | ÷ ideal | peak heap |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for run in runs {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.2} % | {} | {:.1} s | {:.1} s | {:.3} | {} KiB |\n",
            if run.told { "ceilings at 95 % of the limits" } else { "learned rate only" },
            run.rows,
            run.docs_per_second,
            run.requests,
            run.refused,
            100.0 * run.refused as f64 / run.requests.max(1) as f64,
            run.failed_rows,
            run.seconds,
            run.ideal(),
            run.seconds / run.ideal(),
            run.peak_heap / 1024,
        ));
    }
    out
}

/// Several processes on one Box app (one stand-in): each runs `rows` rows, either sharing one Redis
/// authority (ceilings at [`MARGIN`] of the limits, for all of them) or each alone with the same ceilings
/// for itself.
pub struct Shared {
    pub processes: usize,
    pub rows: usize,
    pub docs_per_second: f64,
    pub redis: bool,
    pub requests: usize,
    pub refused: usize,
    pub failed_rows: usize,
    pub seconds: f64,
}

/// `bulk-worker <base url> <rows> <docs/s> <requests/s> <redis url or ->`: one process of [`shared`]; prints
/// the rows that failed.
pub fn worker(base_url: &str, rows: usize, docs: f64, rps: f64, redis: Option<&str>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let failed = runtime.block_on(async {
        let limits = ceilings(docs, rps);
        let builder = Client::builder("bench-token").base_url(base_url);
        let client = match redis {
            Some(url) => {
                let shared = box_docgen_redis::RedisRateAuthority::builder(url)
                    .app("bench")
                    .limits(limits)
                    .instances(3)
                    .build()
                    .expect("a Redis authority");
                builder.rate_authority(shared)
            }
            None => builder.rate_limits(limits),
        }
        .build()
        .expect("a client");
        run(&client, rows, docs, Duration::from_secs(1)).await.failed_rows
    });
    println!("{failed}");
}

/// Runs `processes` workers at once against a fresh stand-in (and, with `redis`, a fresh `redis-server`).
pub fn shared(processes: usize, rows: usize, docs: f64, rps: f64, redis: bool) -> Option<Shared> {
    let mut stand_in = StandIn::start(docs, rps);
    let server = if redis { Some(RedisServer::start()?) } else { None };
    let start = Instant::now();
    let workers: Vec<Child> = (0..processes)
        .map(|_| {
            Command::new(std::env::current_exe().expect("the bench binary"))
                .args(["bulk-worker", &stand_in.base_url, &rows.to_string(), &docs.to_string(), &rps.to_string()])
                .arg(server.as_ref().map_or_else(|| "-".to_owned(), RedisServer::url))
                .stdout(Stdio::piped())
                .spawn()
                .expect("a worker starts")
        })
        .collect();
    let mut failed_rows = 0;
    for worker in workers {
        let output = worker.wait_with_output().expect("the worker ends");
        failed_rows += String::from_utf8_lossy(&output.stdout).trim().parse::<usize>().unwrap_or(rows);
    }
    let seconds = start.elapsed().as_secs_f64();
    let (requests, refused) = stand_in.stats();
    Some(Shared { processes, rows, docs_per_second: docs, redis, requests, refused, failed_rows, seconds })
}

pub fn shared_report(runs: &[Shared], rps: f64) -> String {
    let mut out = format!(
        "\n## Several processes on one Box app (429 beyond {rps} requests/s and N documents/s, for all of them)\n\n\
         | ceilings | processes × rows | documents/s allowed | requests | 429s | share 429 | rows failed | wall time | ideal | ÷ ideal |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    for run in runs {
        let ideal = (run.processes * run.rows) as f64 / run.docs_per_second;
        out.push_str(&format!(
            "| {} | {} × {} | {} | {} | {} | {:.2} % | {} | {:.1} s | {:.1} s | {:.3} |\n",
            if run.redis { "shared through Redis" } else { "each process alone" },
            run.processes,
            run.rows,
            run.docs_per_second,
            run.requests,
            run.refused,
            100.0 * run.refused as f64 / run.requests.max(1) as f64,
            run.failed_rows,
            run.seconds,
            ideal,
            run.seconds / ideal,
        ));
    }
    out
}

/// A `redis-server` on a free port of 127.0.0.1 for one run; killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// `None` when `redis-server` is not installed.
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut lines = BufReader::new(child.stdout.take()?).lines();
        lines.by_ref().map_while(Result::ok).find(|line| line.contains("Ready to accept connections"))?;
        std::thread::spawn(move || lines.for_each(drop));
        Some(Self { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
