//! TLS with the default `rustls` feature (ring as the provider), against a TLS server on 127.0.0.1 with a
//! self-signed certificate (`tests/fixtures/tls/`): the client verifies the server (an unknown issuer is refused,
//! and the server sees the handshake fail) and, told to trust that certificate, talks HTTP over TLS.

use std::sync::Arc;

use box_docgen::{Client, Error, RetryPolicy};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::support::{SEED_JOB, TOKEN};

const CERT: &[u8] = include_bytes!("../fixtures/tls/cert.pem");
const KEY: &[u8] = include_bytes!("../fixtures/tls/key.pem");

/// What the server saw of one connection: the handshake's outcome, and the request line once it had one.
#[derive(Debug)]
enum Seen {
    HandshakeFailed(String),
    Request(String),
}

/// A TLS server on 127.0.0.1 that answers every request with the seed job; its port, and what it saw.
async fn tls_server() -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let certs = vec![CertificateDer::from_pem_slice(CERT).expect("the test certificate")];
    let key = PrivateKeyDer::from_pem_slice(KEY).expect("the test key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a server configuration");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let (seen, log) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let mut tls = match acceptor.accept(socket).await {
                    Ok(tls) => tls,
                    Err(error) => return drop(seen.send(Seen::HandshakeFailed(error.to_string()))),
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_owned();
                let _ = seen.send(Seen::Request(line));
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{SEED_JOB}",
                    SEED_JOB.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, log)
}

#[tokio::test]
async fn an_unknown_issuer_is_refused_during_the_handshake() {
    let (port, mut log) = tls_server().await;
    let client = Client::builder(TOKEN)
        .base_url(format!("https://localhost:{port}/2.0"))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid");
    let error = client.get_job("12345").await.expect_err("a self-signed certificate");
    assert!(matches!(&error, Error::Transport(transport) if transport.is_connect()), "{error:?}");
    // The server's side: a handshake began and the client broke it off.
    let seen = log.recv().await.expect("the server saw the connection");
    // The client refused the certificate with a TLS alert (rustls sends `UnknownCA`, "unknown issuer").
    assert!(matches!(&seen, Seen::HandshakeFailed(why) if why.contains("alert")), "{seen:?}");
}

#[tokio::test]
async fn a_trusted_server_is_talked_to_over_tls() {
    let (port, mut log) = tls_server().await;
    box_docgen::install_tls_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([reqwest::Certificate::from_pem(CERT).expect("the test certificate")])
        .build()
        .expect("an HTTP client");
    let client = Client::builder(TOKEN)
        .base_url(format!("https://localhost:{port}/2.0"))
        .http_client(http)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid");
    let job = client.get_job("12345").await.expect("the job, over TLS");
    assert_eq!(job.id, "12345");
    let seen = log.recv().await.expect("the server saw the request");
    assert!(matches!(&seen, Seen::Request(line) if line == "GET /2.0/docgen_jobs/12345 HTTP/1.1"), "{seen:?}");
}
