//! The Markdown report of the client comparison: the machine and plan, a table of the three clients, a table of
//! the decoders, and the goals judged.

use crate::clients::Kind;
use crate::plan::Plan;
use crate::server::JOB;
use crate::stats::PerClient;
use crate::workload::PAGE;

/// Everything the client comparison measured, one figure per client.
pub struct Figures {
    pub latency: PerClient,
    pub sequential_rate: PerClient,
    pub concurrent_rate: PerClient,
    pub items_rate: PerClient,
    pub peak_small: PerClient,
    pub peak_large: PerClient,
    pub decode: PerClient,
}

/// The report, in Markdown.
pub fn report(plan: &Plan, figures: &Figures) -> String {
    let mut out = Vec::new();
    header(&mut out, plan);
    client_table(&mut out, plan, figures);
    decode_table(&mut out, plan, &figures.decode);
    goals(&mut out, plan, figures);
    out.iter().map(|line| format!("{line}\n")).collect()
}

fn header(out: &mut Vec<String>, plan: &Plan) {
    out.push(format!("## Run ({} plan)\n", plan.name));
    out.push(format!("- machine: {}", machine()));
    out.push(format!(
        "- rounds: {} (streaming: {}), medians over rounds; clients interleaved per round",
        plan.rounds, plan.stream_rounds
    ));
    out.push(String::new());
}

/// One row of a table of the three clients: each figure, and each client's ratio to the floor (raw reqwest),
/// above 1 meaning slower. For rates the ratio is of time per item (floor rate ÷ client rate).
fn client_row(case: String, figures: &PerClient, unit: &str, rate: bool) -> String {
    let (floor, facade, peer) = (figures.median(Kind::Raw), figures.median(Kind::Facade), figures.median(Kind::Peer));
    if rate {
        format!(
            "| {case} | {floor:.0} {unit} | {facade:.0} {unit} | {:.3}× | {peer:.0} {unit} | {:.3}× |",
            floor / facade,
            floor / peer
        )
    } else {
        format!(
            "| {case} | {floor:.1} {unit} | {facade:.1} {unit} | {:.3}× | {peer:.1} {unit} | {:.3}× |",
            facade / floor,
            peer / floor
        )
    }
}

fn client_table(out: &mut Vec<String>, plan: &Plan, figures: &Figures) {
    out.push(
        "| case | floor (raw reqwest) | box-docgen facade | facade ÷ floor | box-open-sdk | box-open-sdk ÷ floor |"
            .to_owned(),
    );
    out.push("|---|---|---|---|---|---|".to_owned());
    let latency = format!("get job, sequential: median latency ({} requests/round)", plan.sequential);
    out.push(client_row(latency, &figures.latency, "µs", false));
    out.push(client_row("get job, sequential: throughput".to_owned(), &figures.sequential_rate, "req/s", true));
    let concurrent = format!("get job, {} in flight: throughput ({} requests/round)", plan.in_flight, plan.concurrent);
    out.push(client_row(concurrent, &figures.concurrent_rate, "req/s", true));
    let stream = format!("stream {} jobs (pages of 1 000): items/s", plan.listings[1]);
    out.push(client_row(stream, &figures.items_rate, "items/s", true));
    let small = format!("stream {} jobs: peak heap", plan.listings[0]);
    out.push(client_row(small, &figures.peak_small, "KiB", false));
    let large = format!("stream {} jobs: peak heap", plan.listings[1]);
    out.push(client_row(large, &figures.peak_large, "KiB", false));
    out.push(String::new());
}

fn decode_table(out: &mut Vec<String>, plan: &Plan, decode: &PerClient) {
    out.push(format!("Decode only ({} decodes of one {}-byte DocGenJob body per round):\n", plan.decodes, JOB.len()));
    out.push("| decoder | ns per body | ÷ serde_json::Value |".to_owned());
    out.push("|---|---|---|".to_owned());
    let value = decode.median(Kind::Raw);
    for (name, kind) in [
        ("serde_json::Value", Kind::Raw),
        ("box-docgen DocGenJob (generated)", Kind::Facade),
        ("box-open-sdk DocGenJob", Kind::Peer),
    ] {
        out.push(format!("| {name} | {:.0} | {:.3}× |", decode.median(kind), decode.median(kind) / value));
    }
    out.push(String::new());
}

fn goals(out: &mut Vec<String>, plan: &Plan, figures: &Figures) {
    if plan.name == "quick" {
        out.push("- goals: not judged on a quick run (too few rounds); run `cargo xtask bench`".to_owned());
        return;
    }
    let goal = |met: bool| if met { "met" } else { "MISSED" };
    let (latency, concurrent) = (&figures.latency, &figures.concurrent_rate);
    let facade_latency = latency.median(Kind::Facade) / latency.median(Kind::Raw);
    let facade_concurrent = concurrent.median(Kind::Raw) / concurrent.median(Kind::Facade);
    out.push(format!(
        "- goal, facade get-job within 1.10× the floor: sequential {facade_latency:.3}× ({}), concurrent {facade_concurrent:.3}× ({})",
        goal(facade_latency <= 1.10),
        goal(facade_concurrent <= 1.10)
    ));
    let vs_peer_seq = latency.median(Kind::Facade) <= latency.median(Kind::Peer);
    let vs_peer_con = concurrent.median(Kind::Facade) >= concurrent.median(Kind::Peer);
    out.push(format!(
        "- goal, facade not slower than box-open-sdk: sequential {}, concurrent {}",
        goal(vs_peer_seq),
        goal(vs_peer_con)
    ));
    let growth = figures.peak_large.median(Kind::Facade) - figures.peak_small.median(Kind::Facade);
    let listing = (plan.listings[1] * JOB.len()) as f64 / 1024.0;
    let page = (PAGE * JOB.len()) as f64 / 1024.0;
    out.push(format!(
        "- goal, facade streaming memory flat: the {}-job listing peaks {growth:.0} KiB above the {}-job one (one page is {page:.0} KiB of JSON; the whole listing {listing:.0} KiB) ({})",
        plan.listings[1],
        plan.listings[0],
        goal(growth < page)
    ));
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
