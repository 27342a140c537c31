//! A `redis-server` on a free port of 127.0.0.1, for one test; killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
}

/// A port that refuses connections for as long as the returned socket lives: bound (so no other process can
/// take it) but never listening.
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.bind("127.0.0.1:0".parse().expect("an address")).expect("a port");
    let port = socket.local_addr().expect("its address").port();
    (socket, port)
}

/// A server that is alive but never answers: it listens (the kernel completes connections) and never reads.
pub fn silent_server() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    (listener, port)
}

impl RedisServer {
    /// A server on a port the system picked. redis-server cannot be handed a bound socket, so the port is the
    /// system's pick of a moment ago: when another process took it since, the server does not start, and
    /// another port is tried.
    pub fn start(password: Option<&str>) -> Self {
        for _ in 0..10 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a port")
                .port();
            let mut server = Self { child: None, port, password: password.map(str::to_owned) };
            if server.try_restart() {
                return server;
            }
        }
        panic!("redis-server did not start on any of 10 ports")
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

    /// Starts it again on the same port, and returns once it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.try_restart(), "redis-server could not start again on port {}", self.port);
    }

    /// Starts it on its port; `false` when it stops before it is ready (the port is taken).
    fn try_restart(&mut self) -> bool {
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
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
        // Keep reading its output, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        self.child = Some(child);
        true
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
