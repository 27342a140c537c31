//! Downloads: the facade's `download_to_path` (file info, SHA-1 while streaming, temporary file, fsync,
//! rename) against raw reqwest streaming the same bytes to a file (with the same buffer and fsync), and the
//! facade's peak heap for a small and a large file.

use std::path::Path;
use std::time::Instant;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::alloc;
use crate::stats::median;
use crate::workload::{CHUNK, TOKEN};

/// The writers' buffer.
const BUFFER: usize = 256 * 1024;

/// The timings and heap figures of the download cases.
pub struct Figures {
    pub size: usize,
    pub raw_seconds: f64,
    pub facade_seconds: f64,
    pub small_peak: usize,
    pub large_peak: usize,
}

pub async fn run(base_url: &str, size: usize, rounds: usize) -> Figures {
    let dir = std::env::temp_dir().join(format!("box-docgen-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let facade = box_docgen::Client::builder(TOKEN).base_url(base_url).build().expect("a facade client");
    let raw = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .expect("a reqwest client");
    let (mut raw_times, mut facade_times) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        raw_download(&raw, base_url, size, &dir.join("raw.bin")).await;
        raw_times.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        let file = facade.download_to_path(&size.to_string(), None, dir.join("facade.bin")).await.expect("downloads");
        facade_times.push(start.elapsed().as_secs_f64());
        assert_eq!(file.size, size as u64);
    }
    let peak = |bytes: usize| {
        let facade = facade.clone();
        let path = dir.join(format!("peak-{bytes}.bin"));
        async move {
            let baseline = alloc::reset_peak();
            facade.download_to_path(&bytes.to_string(), None, &path).await.expect("downloads");
            alloc::peak_above(baseline)
        }
    };
    let small_peak = peak(CHUNK).await;
    let large_peak = peak(size).await;
    let _ = std::fs::remove_dir_all(&dir);
    Figures { size, raw_seconds: median(raw_times), facade_seconds: median(facade_times), small_peak, large_peak }
}

/// reqwest's body stream into a buffered file, flushed and synced: the floor.
async fn raw_download(client: &reqwest::Client, base_url: &str, size: usize, path: &Path) {
    let response =
        client.get(format!("{base_url}/files/{size}/content")).bearer_auth(TOKEN).send().await.expect("a response");
    assert!(response.status().is_success());
    let file = tokio::fs::File::create(path).await.expect("a file");
    let mut file = tokio::io::BufWriter::with_capacity(BUFFER, file);
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk.expect("a chunk")).await.expect("written");
    }
    file.flush().await.expect("flushed");
    file.get_ref().sync_all().await.expect("synced");
}

pub fn report(figures: &Figures) -> String {
    let mib = figures.size as f64 / (1 << 20) as f64;
    let ratio = figures.facade_seconds / figures.raw_seconds;
    let growth = figures.large_peak.saturating_sub(figures.small_peak) as f64 / 1024.0;
    format!(
        "\n## Download of a {mib:.0} MiB file to disk\n\n\
         | client | median time | throughput | ÷ floor |\n|---|---|---|---|\n\
         | raw reqwest stream → file, fsync (floor) | {:.3} s | {:.0} MiB/s | 1.000× |\n\
         | facade `download_to_path` (file info, SHA-1, temporary file, fsync, rename) | {:.3} s | {:.0} MiB/s | {ratio:.3}× |\n\n\
         Peak heap of the facade's download above its start: {:.0} KiB for a 1 MiB file, {:.0} KiB for the {mib:.0} MiB \
         file ({growth:.0} KiB more).\n\n\
         - goal, download within 1.05× the floor's time: {ratio:.3}× ({})\n\
         - goal, memory flat (under 1 MiB above the 1 MiB download): {growth:.0} KiB ({})\n",
        figures.raw_seconds,
        mib / figures.raw_seconds,
        figures.facade_seconds,
        mib / figures.facade_seconds,
        figures.small_peak as f64 / 1024.0,
        figures.large_peak as f64 / 1024.0,
        if ratio <= 1.05 { "met" } else { "MISSED" },
        if growth < 1024.0 { "met" } else { "MISSED" },
    )
}
