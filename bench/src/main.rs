//! `cargo xtask bench [--quick]`: the box-docgen facade against raw reqwest (the floor) and box-open-sdk, in
//! one run, against one local server. Prints a Markdown report on stdout (BENCHMARKS.md holds the latest).
//!
//! Rounds interleave the clients (raw, facade, peer, raw, facade, peer, ...) so drift hits all alike; each
//! figure is the median over rounds.

mod alloc;
mod clients;
mod contract;
mod download;
mod load;
mod server;
mod store;
mod template;

use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use clients::{Clients, Kind};
use futures::StreamExt;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// How much work each case does.
struct Plan {
    name: &'static str,
    rounds: usize,
    sequential: usize,
    concurrent: usize,
    in_flight: usize,
    listings: [usize; 2],
    stream_rounds: usize,
    decodes: usize,
    /// The size of the downloaded file, and how many rounds time it.
    download: (usize, usize),
    /// Bulk load: the row counts (memory is compared between them) and the documents per second allowed.
    load: ([usize; 2], f64),
    /// Several processes: how many, rows each, documents per second allowed for all.
    shared: (usize, usize, f64),
    /// The data contract: template sections (about 15 tags each), rows per list, checks per round.
    contract: (usize, usize, usize),
    /// The run store: rows through the file journal and through PostgreSQL.
    store: usize,
    /// The Word template read offline: pages, tags.
    template: (usize, usize),
}

const FULL: Plan = Plan {
    name: "full",
    rounds: 11,
    sequential: 2_000,
    concurrent: 10_000,
    in_flight: 64,
    listings: [1_000, 100_000],
    stream_rounds: 3,
    decodes: 50_000,
    download: (256 << 20, 5),
    load: ([1_000, 10_000], 500.0),
    shared: (3, 2_000, 150.0),
    contract: (40, 20, 1_000),
    store: 10_000,
    template: (200, 2_000),
};

const QUICK: Plan = Plan {
    name: "quick",
    rounds: 3,
    sequential: 100,
    concurrent: 640,
    in_flight: 64,
    listings: [1_000, 10_000],
    stream_rounds: 1,
    decodes: 2_000,
    download: (8 << 20, 1),
    load: ([200, 1_000], 500.0),
    shared: (3, 100, 150.0),
    contract: (40, 20, 20),
    store: 300,
    template: (200, 2_000),
};

/// The request limit of the load case's stand-in: about Box's 1,000 requests per minute per user.
const LOAD_RPS: f64 = 20.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return server::run();
    }
    if let [mode, docs, rps] = args.as_slice()
        && mode == "serve-mock"
    {
        return load::serve(docs.parse().expect("documents per second"), rps.parse().expect("requests per second"));
    }
    if let [mode, base_url, rows, docs, rps, redis] = args.as_slice()
        && mode == "bulk-worker"
    {
        let redis = (redis != "-").then_some(redis.as_str());
        return load::worker(
            base_url,
            rows.parse().expect("rows"),
            docs.parse().expect("docs"),
            rps.parse().expect("rps"),
            redis,
        );
    }
    if let [mode, processes, rows, docs] = args.as_slice()
        && mode == "shared"
    {
        // `shared <processes> <rows each> <documents per second>`: the several-processes case alone.
        let (processes, rows, docs) =
            (processes.parse().expect("processes"), rows.parse().expect("rows"), docs.parse().expect("docs"));
        let runs: Vec<load::Shared> = [true, false]
            .into_iter()
            .filter_map(|redis| load::shared(processes, rows, docs, LOAD_RPS, redis))
            .collect();
        println!("{}", load::shared_report(&runs, LOAD_RPS));
        return;
    }
    if let [mode, rows, docs] = args.as_slice()
        && mode == "load"
    {
        // `load <rows> <documents per second>`: the bulk load case alone.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let (rows, docs) = (rows.parse().expect("rows"), docs.parse().expect("documents per second"));
        let runs: Vec<load::Figures> =
            [true, false].into_iter().map(|told| runtime.block_on(load::bulk(rows, docs, LOAD_RPS, told))).collect();
        println!("{}", load::report(&runs, LOAD_RPS));
        return;
    }
    if let [mode, rows] = args.as_slice()
        && mode == "store"
    {
        // `store <rows>`: the run store case alone.
        match store::run(rows.parse().expect("rows")) {
            Some(figures) => println!("{}", store::report(&figures)),
            None => println!("(PostgreSQL is not installed: no run store case)"),
        }
        return;
    }
    if let [mode, sections, lines] = args.as_slice()
        && mode == "contract"
    {
        // `contract <sections> <rows per list>`: the data-contract case alone.
        let (sections, lines) = (sections.parse().expect("sections"), lines.parse().expect("rows per list"));
        println!("{}", contract::report(sections, lines, contract::run(sections, lines, 1_000, 11)));
        return;
    }
    if let [mode, pages, tags] = args.as_slice()
        && mode == "template"
    {
        // `template <pages> <tags>`: the Word template case alone.
        let (pages, tags) = (pages.parse().expect("pages"), tags.parse().expect("tags"));
        println!("{}", template::report(&template::run(pages, tags, 11)));
        return;
    }
    if let [mode, kind, n] = args.as_slice()
        && mode == "requests"
    {
        return requests(kind, n.parse().expect("a request count"));
    }
    if let [mode, mib, rounds] = args.as_slice()
        && mode == "download"
    {
        // `download <MiB> <rounds>`: the download case alone.
        let (mut server, base_url) = start_server();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let (mib, rounds): (usize, usize) = (mib.parse().expect("MiB"), rounds.parse().expect("rounds"));
        println!("{}", download::report(&runtime.block_on(download::run(&base_url, mib << 20, rounds))));
        let _ = server.kill();
        let _ = server.wait();
        return;
    }
    let plan = if args.iter().any(|arg| arg == "--quick") { QUICK } else { FULL };
    let (mut server, base_url) = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut report = runtime.block_on(run(&plan, &base_url));
    let (size, rounds) = plan.download;
    report.push_str(&download::report(&runtime.block_on(download::run(&base_url, size, rounds))));
    let (rows, docs) = plan.load;
    let mut runs: Vec<load::Figures> =
        rows.iter().map(|&rows| runtime.block_on(load::bulk(rows, docs, LOAD_RPS, true))).collect();
    runs.push(runtime.block_on(load::bulk(rows[1], docs, LOAD_RPS, false)));
    report.push_str(&load::report(&runs, LOAD_RPS));
    let (processes, rows, docs) = plan.shared;
    let shared: Vec<load::Shared> =
        [true, false].into_iter().filter_map(|redis| load::shared(processes, rows, docs, LOAD_RPS, redis)).collect();
    if shared.len() < 2 {
        report.push_str("\n(redis-server is not installed: no run shared through Redis)\n");
    }
    report.push_str(&load::shared_report(&shared, LOAD_RPS));
    let (sections, lines, checks) = plan.contract;
    report.push_str(&contract::report(sections, lines, contract::run(sections, lines, checks, plan.rounds)));
    let (pages, tags) = plan.template;
    report.push_str(&template::report(&template::run(pages, tags, plan.rounds)));
    match store::run(plan.store) {
        Some(figures) => report.push_str(&store::report(&figures)),
        None => report.push_str("\n(PostgreSQL is not installed: no run store case)\n"),
    }
    let _ = server.kill();
    let _ = server.wait();
    println!("{report}");
}

/// `requests <raw|facade|peer> <n>`: n sequential get-job requests with one client, for an instruction count
/// under `valgrind --tool=callgrind` (the server, in its own process, is not counted).
fn requests(kind: &str, n: usize) {
    let kind = match kind {
        "raw" => Kind::Raw,
        "facade" => Kind::Facade,
        "peer" => Kind::Peer,
        other => panic!("unknown client {other}"),
    };
    let (mut server, base_url) = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let clients = Clients::new(&base_url);
        for _ in 0..n {
            black_box(clients.get_job(kind).await);
        }
    });
    let _ = server.kill();
    let _ = server.wait();
}

/// Starts this binary again as the server, in its own process, and reads its port.
fn start_server() -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("the bench binary"))
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server process starts");
    let mut port = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut port)
        .expect("the server prints its port");
    (child, format!("http://127.0.0.1:{}/2.0", port.trim()))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One figure per client.
#[derive(Default)]
struct PerClient([Vec<f64>; 3]);

impl PerClient {
    fn push(&mut self, kind: Kind, value: f64) {
        self.0[kind as usize].push(value);
    }
    fn median(&self, kind: Kind) -> f64 {
        median(self.0[kind as usize].clone())
    }
}

async fn run(plan: &Plan, base_url: &str) -> String {
    let clients = Clients::new(base_url);
    for kind in Kind::ALL {
        for _ in 0..50 {
            black_box(clients.get_job(kind).await);
        }
    }

    let (mut latency, mut sequential_rate, mut concurrent_rate) =
        (PerClient::default(), PerClient::default(), PerClient::default());
    for _ in 0..plan.rounds {
        for kind in Kind::ALL {
            let mut latencies = Vec::with_capacity(plan.sequential);
            let start = Instant::now();
            for _ in 0..plan.sequential {
                let one = Instant::now();
                black_box(clients.get_job(kind).await);
                latencies.push(one.elapsed().as_secs_f64() * 1e6);
            }
            sequential_rate.push(kind, plan.sequential as f64 / start.elapsed().as_secs_f64());
            latency.push(kind, median(latencies));
        }
        for kind in Kind::ALL {
            let start = Instant::now();
            let done = futures::stream::iter(0..plan.concurrent)
                .map(|_| clients.get_job(kind))
                .buffer_unordered(plan.in_flight)
                .fold(0usize, |done, _| async move { done + 1 })
                .await;
            assert_eq!(done, plan.concurrent);
            concurrent_rate.push(kind, plan.concurrent as f64 / start.elapsed().as_secs_f64());
        }
    }

    let (mut items_rate, mut peak_small, mut peak_large) =
        (PerClient::default(), PerClient::default(), PerClient::default());
    for _ in 0..plan.stream_rounds {
        for kind in Kind::ALL {
            for (index, &total) in plan.listings.iter().enumerate() {
                let baseline = alloc::reset_peak();
                let start = Instant::now();
                let count = clients.stream_jobs(kind, total).await;
                let elapsed = start.elapsed();
                let peak = alloc::peak_above(baseline) as f64 / 1024.0;
                assert_eq!(count, total, "{} streamed every job", kind.name());
                if index == 0 {
                    peak_small.push(kind, peak);
                } else {
                    peak_large.push(kind, peak);
                    items_rate.push(kind, total as f64 / elapsed.as_secs_f64());
                }
            }
        }
    }

    let mut decode = PerClient::default();
    let body = server::JOB.as_bytes();
    for _ in 0..plan.rounds {
        decode
            .push(Kind::Raw, time_per_op(plan.decodes, || serde_json::from_slice::<serde_json::Value>(body).map(drop)));
        decode.push(
            Kind::Facade,
            time_per_op(plan.decodes, || serde_json::from_slice::<box_docgen::DocGenJob>(body).map(drop)),
        );
        decode.push(
            Kind::Peer,
            time_per_op(plan.decodes, || {
                serde_json::from_slice::<box_open_sdk::models::schemas::DocGenJob>(body).map(drop)
            }),
        );
    }

    report(plan, &latency, &sequential_rate, &concurrent_rate, &items_rate, &peak_small, &peak_large, &decode)
}

/// Nanoseconds per call of `decode`, over `n` calls.
fn time_per_op(n: usize, mut decode: impl FnMut() -> serde_json::Result<()>) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(decode()).expect("decodes");
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

#[allow(clippy::too_many_arguments)]
fn report(
    plan: &Plan,
    latency: &PerClient,
    sequential_rate: &PerClient,
    concurrent_rate: &PerClient,
    items_rate: &PerClient,
    peak_small: &PerClient,
    peak_large: &PerClient,
    decode: &PerClient,
) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(&mut out, format!("## Run ({} plan)\n", plan.name));
    line(&mut out, format!("- machine: {}", machine()));
    line(
        &mut out,
        format!(
            "- rounds: {} (streaming: {}), medians over rounds; clients interleaved per round",
            plan.rounds, plan.stream_rounds
        ),
    );
    line(&mut out, String::new());
    line(
        &mut out,
        "| case | floor (raw reqwest) | box-docgen facade | facade ÷ floor | box-open-sdk | box-open-sdk ÷ floor |"
            .to_owned(),
    );
    line(&mut out, "|---|---|---|---|---|---|".to_owned());
    let time_row = |out: &mut String, case: String, figures: &PerClient, unit: &str| {
        let (floor, facade, peer) =
            (figures.median(Kind::Raw), figures.median(Kind::Facade), figures.median(Kind::Peer));
        line(
            out,
            format!(
                "| {case} | {floor:.1} {unit} | {facade:.1} {unit} | {:.3}× | {peer:.1} {unit} | {:.3}× |",
                facade / floor,
                peer / floor
            ),
        );
    };
    // For rates, the ratio is of time per item (floor rate ÷ client rate), so above 1 means slower, as for times.
    let rate_row = |out: &mut String, case: String, figures: &PerClient, unit: &str| {
        let (floor, facade, peer) =
            (figures.median(Kind::Raw), figures.median(Kind::Facade), figures.median(Kind::Peer));
        line(
            out,
            format!(
                "| {case} | {floor:.0} {unit} | {facade:.0} {unit} | {:.3}× | {peer:.0} {unit} | {:.3}× |",
                floor / facade,
                floor / peer
            ),
        );
    };
    time_row(
        &mut out,
        format!("get job, sequential: median latency ({} requests/round)", plan.sequential),
        latency,
        "µs",
    );
    rate_row(&mut out, "get job, sequential: throughput".to_owned(), sequential_rate, "req/s");
    rate_row(
        &mut out,
        format!("get job, {} in flight: throughput ({} requests/round)", plan.in_flight, plan.concurrent),
        concurrent_rate,
        "req/s",
    );
    rate_row(&mut out, format!("stream {} jobs (pages of 1 000): items/s", plan.listings[1]), items_rate, "items/s");
    time_row(&mut out, format!("stream {} jobs: peak heap", plan.listings[0]), peak_small, "KiB");
    time_row(&mut out, format!("stream {} jobs: peak heap", plan.listings[1]), peak_large, "KiB");
    line(&mut out, String::new());
    line(
        &mut out,
        format!("Decode only ({} decodes of one {}-byte DocGenJob body per round):\n", plan.decodes, server::JOB.len()),
    );
    line(&mut out, "| decoder | ns per body | ÷ serde_json::Value |".to_owned());
    line(&mut out, "|---|---|---|".to_owned());
    let value = decode.median(Kind::Raw);
    for (name, kind) in [
        ("serde_json::Value", Kind::Raw),
        ("box-docgen DocGenJob (generated)", Kind::Facade),
        ("box-open-sdk DocGenJob", Kind::Peer),
    ] {
        line(&mut out, format!("| {name} | {:.0} | {:.3}× |", decode.median(kind), decode.median(kind) / value));
    }
    line(&mut out, String::new());
    if plan.name == "quick" {
        line(&mut out, "- goals: not judged on a quick run (too few rounds); run `cargo xtask bench`".to_owned());
        return out;
    }
    let goal = |met: bool| if met { "met" } else { "MISSED" };
    let facade_latency = latency.median(Kind::Facade) / latency.median(Kind::Raw);
    let facade_concurrent = concurrent_rate.median(Kind::Raw) / concurrent_rate.median(Kind::Facade);
    line(
        &mut out,
        format!(
            "- goal, facade get-job within 1.10× the floor: sequential {facade_latency:.3}× ({}), concurrent {facade_concurrent:.3}× ({})",
            goal(facade_latency <= 1.10),
            goal(facade_concurrent <= 1.10)
        ),
    );
    let vs_peer_seq = latency.median(Kind::Facade) <= latency.median(Kind::Peer);
    let vs_peer_con = concurrent_rate.median(Kind::Facade) >= concurrent_rate.median(Kind::Peer);
    line(
        &mut out,
        format!(
            "- goal, facade not slower than box-open-sdk: sequential {}, concurrent {}",
            goal(vs_peer_seq),
            goal(vs_peer_con)
        ),
    );
    let growth = peak_large.median(Kind::Facade) - peak_small.median(Kind::Facade);
    let listing = (plan.listings[1] * server::JOB.len()) as f64 / 1024.0;
    line(
        &mut out,
        format!(
            "- goal, facade streaming memory flat: the {}-job listing peaks {growth:.0} KiB above the {}-job one (one page is {:.0} KiB of JSON; the whole listing {listing:.0} KiB) ({})",
            plan.listings[1],
            plan.listings[0],
            (server::PAGE * server::JOB.len()) as f64 / 1024.0,
            goal(growth < (server::PAGE * server::JOB.len()) as f64 / 1024.0)
        ),
    );
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name").map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cpu}, {cores} cores; client and server each on one thread (server in its own process)")
}
