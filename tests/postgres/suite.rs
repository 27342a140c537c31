//! The run store interface's suite (`tests/suite/store.rs`) on PostgreSQL; `tests/it` runs it on the file
//! journal.

#[macro_use]
#[path = "../suite/store.rs"]
mod store;

use std::sync::Arc;
use std::time::Duration;

use box_docgen_bulk::store::RunStore;
use box_docgen_postgres::Database;
use store::Harness;

use crate::server::Server;

struct Postgres {
    server: Server,
    run: Option<i64>,
}

impl Harness for Postgres {
    async fn worker(&mut self) -> Arc<dyn RunStore> {
        // Each worker its own connection, as on its own machine.
        let database = Database::connect(&self.server.url(), Duration::from_secs(30)).await.expect("connects");
        let store = match self.run {
            Some(run) => database.open_run(run).await.expect("opens"),
            None => database.create_run(store::settings()).await.expect("creates"),
        };
        self.run = Some(store.run_id());
        Arc::new(store)
    }

    async fn crash(&mut self, _store: Arc<dyn RunStore>) {
        // The worker dies: its leases end (as they would once their time passed).
        self.server.end_leases().await;
    }

    fn keeps_rows(&self) -> bool {
        true
    }
}

async fn postgres() -> Postgres {
    Postgres { server: Server::start().await, run: None }
}

store_cases!(store, #[tokio::test(flavor = "multi_thread", worker_threads = 2)], postgres().await);
