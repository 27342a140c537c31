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
mod plan;
mod report;
mod server;
mod stats;
mod store;
mod template;
mod workload;

use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use clients::{Clients, Kind};
use futures::StreamExt;
use plan::{FULL, Plan, QUICK};
use report::Figures;
use stats::{PerClient, median, time_per_op};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

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

    report::report(
        plan,
        &Figures { latency, sequential_rate, concurrent_rate, items_rate, peak_small, peak_large, decode },
    )
}
