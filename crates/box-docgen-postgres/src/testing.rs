//! A throwaway PostgreSQL server for tests (feature `test-server`): `initdb` into a temporary directory and
//! `pg_ctl` on a free port of 127.0.0.1, with trust authentication for the `postgres` user, stopped and removed
//! when dropped.
//!
//! It needs PostgreSQL's programs: `BOX_DOCGEN_PG_BIN` if set, else the newest `/usr/lib/postgresql/*/bin`
//! (Debian's `postgresql` package), else `initdb` on the `PATH`. `initdb` refuses to run as root: as root, the
//! server runs as the `postgres` user (through `runuser`), in a directory it owns.
//!
//! ```no_run
//! let server = box_docgen_postgres::testing::TestServer::start()?;
//! let url = server.url(); // postgres://postgres@127.0.0.1:PORT/postgres
//! server.stop(); // a database that goes away mid-run...
//! server.start_again(); // ...and comes back on the same port, with its data
//! # Ok::<(), String>(())
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL server of a test's own.
#[derive(Debug)]
pub struct TestServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    user: Option<String>,
}

impl TestServer {
    /// Creates a cluster and starts it on a free port.
    pub fn start() -> Result<Self, String> {
        let bin = programs()?;
        let dir = tempfile::Builder::new().prefix("box-docgen-pg").tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        let user = is_root().then(|| "postgres".to_owned());
        if let Some(user) = &user {
            // The server's user must reach and own its directory.
            set_mode(dir.path(), 0o755)?;
            let (uid, gid) = ids(user)?;
            std::os::unix::fs::chown(&data, Some(uid), Some(gid)).map_err(|e| format!("chown: {e}"))?;
        }
        let mut server = Self { dir, bin, port: 0, user };
        server.run("initdb", &["-D", &server.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])?;
        // A port picked free can be taken before the server binds it: another one then.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port()?;
            match server.pg_ctl_start() {
                Ok(()) => return Ok(server),
                Err(error) => last = error,
            }
        }
        Err(format!("PostgreSQL did not start: {last}"))
    }

    /// The URL to connect with.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (its data stays): connections are cut, new ones refused.
    pub fn stop(&self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts the server again on the same port, with its data.
    pub fn start_again(&self) {
        if let Err(error) = self.pg_ctl_start() {
            panic!("PostgreSQL did not start again: {error}");
        }
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.data()
        );
        let log = self.dir.path().join("data").join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &options, "-w", "-t", "60", "start"])
    }

    /// Runs one of PostgreSQL's programs, as the server's user.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut command = match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&path);
                command
            }
            None => Command::new(&path),
        };
        let output = command.args(args).current_dir(self.dir.path()).output().map_err(|e| format!("{program}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

/// Where PostgreSQL's programs are.
fn programs() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("BOX_DOCGEN_PG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").is_file())
        .ok_or_else(|| "PostgreSQL's programs (initdb, pg_ctl) were not found: install Debian's postgresql package, or set BOX_DOCGEN_PG_BIN".to_owned())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// The user's and group's ids.
fn ids(user: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let output = Command::new("id").args([flag, user]).output().map_err(|e| e.to_string())?;
        String::from_utf8_lossy(&output.stdout).trim().parse().map_err(|_| format!("no user {user}"))
    };
    Ok((id("-u")?, id("-g")?))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}
