//! A `redis-server` on a free port of 127.0.0.1, for one test; killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
}

/// A port nothing listens on (bound, then let go).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl RedisServer {
    pub fn start(password: Option<&str>) -> Self {
        let mut server = Self { child: None, port: free_port(), password: password.map(str::to_owned) };
        server.restart();
        server
    }

    /// `redis://[:password@]127.0.0.1:port`.
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// How many times the server ran any of `commands` (from `INFO commandstats`), spoken in RESP over a plain
    /// TCP connection.
    pub fn calls(&self, commands: &[&str]) -> u64 {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        stream.write_all(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n").expect("sends");
        let mut reader = BufReader::new(stream);
        let mut header = String::new();
        reader.read_line(&mut header).expect("a bulk string");
        let length: usize = header.trim().trim_start_matches('$').parse().expect("its length");
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the body");
        let body = String::from_utf8_lossy(&body);
        commands
            .iter()
            .filter_map(|command| {
                let line = body.lines().find(|line| line.starts_with(&format!("cmdstat_{command}:")))?;
                line.split("calls=").nth(1)?.split(',').next()?.parse::<u64>().ok()
            })
            .sum()
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port, and returns once it accepts connections (it says so on stdout).
    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!("redis-server could not start ({e}): install it (Debian: apt-get install redis-server)")
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(Ok(_)) => {}
                _ => panic!("redis-server on port {} stopped before it was ready", self.port),
            }
        }
        // Keep reading its output, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        self.child = Some(child);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
