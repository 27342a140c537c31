//! A PostgreSQL server of a test's own (box-docgen-postgres's `TestServer`), and what tests do to it from the
//! side: end every lease (as a dead worker leaves them), cut every connection, stop and start it.

use box_docgen_postgres::testing::TestServer;

pub struct Server(TestServer);

impl Server {
    pub async fn start() -> Self {
        let server = tokio::task::spawn_blocking(TestServer::start).await.expect("joined").expect("PostgreSQL starts");
        Self(server)
    }

    pub fn url(&self) -> String {
        self.0.url()
    }

    /// A plain connection, to act on the database from the side.
    async fn side(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls).await.expect("connects");
        tokio::spawn(connection);
        client
    }

    /// Ends every lease now.
    pub async fn end_leases(&self) {
        self.side()
            .await
            .batch_execute(
                "UPDATE box_docgen_runs SET turn_until = now() - interval '1 millisecond' WHERE turn_until IS NOT NULL; \
                 UPDATE box_docgen_intents SET lease_until = now() - interval '1 millisecond' \
                 WHERE state IN ('open', 'accepted')",
            )
            .await
            .expect("leases ended");
    }

    /// Cuts every other connection to the database (as a network or an operator would).
    pub async fn cut_connections(&self) -> u64 {
        let side = self.side().await;
        let cut = side
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                 AND datname = current_database()",
                &[],
            )
            .await
            .expect("terminated");
        cut.len() as u64
    }

    /// Writes this schema version, as a newer client would have.
    pub async fn set_schema_version(&self, version: i32) {
        self.side().await.execute("UPDATE box_docgen_schema SET version = $1", &[&version]).await.expect("written");
    }

    /// Stops the server (its data stays).
    pub async fn stop(&self) {
        let server = &self.0;
        tokio::task::block_in_place(|| server.stop());
    }

    /// Starts it again, on the same port.
    pub async fn start_again(&self) {
        let server = &self.0;
        tokio::task::block_in_place(|| server.start_again());
    }
}
