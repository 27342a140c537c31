//! How much work each case does: the full plan and the quick one.

/// How much work each case does.
pub struct Plan {
    pub name: &'static str,
    pub rounds: usize,
    pub sequential: usize,
    pub concurrent: usize,
    pub in_flight: usize,
    pub listings: [usize; 2],
    pub stream_rounds: usize,
    pub decodes: usize,
    /// The size of the downloaded file, and how many rounds time it.
    pub download: (usize, usize),
    /// Bulk load: the row counts (memory is compared between them) and the documents per second allowed.
    pub load: ([usize; 2], f64),
    /// Several processes: how many, rows each, documents per second allowed for all.
    pub shared: (usize, usize, f64),
    /// The data contract: template sections (about 15 tags each), rows per list, checks per round.
    pub contract: (usize, usize, usize),
    /// The run store: rows through the file journal and through PostgreSQL.
    pub store: usize,
    /// The Word template read offline: pages, tags.
    pub template: (usize, usize),
}

pub const FULL: Plan = Plan {
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

pub const QUICK: Plan = Plan {
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
