//! Bulk runs kept in PostgreSQL (box-docgen-postgres), against a real server each test starts on a free port
//! of 127.0.0.1 (Debian's `postgresql`; `.ci/run` installs it). Built only with `--features postgres`:
//! `cargo test -p box-docgen-tests --features postgres --test postgres`.

mod server;
mod suite;
mod workers;
