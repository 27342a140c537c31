//! A tiny HTTP/1.1 server on 127.0.0.1, on its own threads, for the faults httpmock cannot produce: bodies cut
//! off, stalled, or far too large. It serves a bounded number of connections and stops by itself.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the server does on one connection, after reading the request.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Writes these bytes, then closes the connection.
    Send(Vec<u8>),
    /// Writes these bytes, then holds the connection open until the client leaves.
    SendAndStall(Vec<u8>),
    /// Sends a chunked 200 response of zeros, up to `total` bytes or until the client leaves.
    Endless { total: usize },
}

/// A running server.
#[derive(Debug)]
pub struct RawServer {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl RawServer {
    /// The base URL of Box's API on this server.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/2.0", self.port)
    }

    /// How many connections the server has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A complete response with a JSON body.
pub fn json_response(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A response whose head promises `content_length` bytes, followed by only `body`.
pub fn cut_response(content_length: u64, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {content_length}\r\nconnection: close\r\n\r\n{body}")
        .into_bytes()
}

/// Starts a server whose n-th connection gets `behaviours[n]` (the last one from then on).
pub fn start(behaviours: Vec<Behaviour>) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    std::thread::spawn(move || {
        for (index, stream) in listener.incoming().take(32).enumerate() {
            let Ok(stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let behaviour = behaviours[index.min(behaviours.len() - 1)].clone();
            std::thread::spawn(move || serve(stream, behaviour));
        }
    });
    RawServer { port, connections }
}

fn serve(mut stream: TcpStream, behaviour: Behaviour) {
    if read_request(&mut stream).is_none() {
        return;
    }
    match behaviour {
        Behaviour::Send(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Behaviour::SendAndStall(bytes) => {
            let _ = stream.write_all(&bytes);
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        }
        Behaviour::Endless { total } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b'0'; 64 * 1024];
            let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
            let mut sent = 0;
            while sent < total && stream.write_all(&framed).is_ok() {
                sent += 64 * 1024;
            }
        }
    }
}

/// Reads the request head and any `content-length` body.
fn read_request(stream: &mut TcpStream) -> Option<()> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        request.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()
}
