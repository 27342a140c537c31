//! Receives Box webhook deliveries, checks their signatures and prints the Doc Gen events.
//!
//! ```text
//! cargo run --example webhook_receiver -- [--port PORT] [--count N]
//! ```
//!
//! With `BOX_WEBHOOK_PRIMARY_KEY` (and optionally `BOX_WEBHOOK_SECONDARY_KEY`: the app's signature keys from the
//! Developer Console), listens on 127.0.0.1:PORT (default 8787) for Box's deliveries, behind whatever makes it
//! reachable over HTTPS; answers 200 to verified ones and 401 to the others, and prints each event.
//!
//! Without Box credentials in the environment, runs end to end offline: starts the test double, subscribes a
//! webhook on the stand-in's template for the Doc Gen triggers, generates two documents (one of them lacks a
//! tag of the template, so it fails), and prints the four signed events the stand-in sends; exits 0 once all
//! arrived, 1 on any error.

mod support;

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use box_docgen::webhooks::{DOCGEN_TRIGGERS, SignatureKeys, WebhookEvent, WebhookTarget};
use box_docgen::{BatchRequest, WaitOptions};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|arg| arg == name).and_then(|index| args.get(index + 1));
    let port: u16 = flag("--port").map(|port| port.parse()).transpose()?.unwrap_or(8787);
    let count: Option<usize> = flag("--count").map(|count| count.parse()).transpose()?;

    let (stand_in, client) = support::connect().await?;
    let keys = match (&stand_in, std::env::var("BOX_WEBHOOK_PRIMARY_KEY")) {
        (Some(mock), _) => {
            // Offline: the stand-in signs with demo keys, as Box signs with the app's.
            mock.sign_webhooks("demo-primary-key", Some("demo-secondary-key"));
            SignatureKeys::new("demo-primary-key").secondary("demo-secondary-key")
        }
        (None, Ok(primary)) => match std::env::var("BOX_WEBHOOK_SECONDARY_KEY") {
            Ok(secondary) => SignatureKeys::new(primary).secondary(secondary),
            Err(_) => SignatureKeys::new(primary),
        },
        (None, Err(_)) => return Err("set BOX_WEBHOOK_PRIMARY_KEY to the app's primary signature key".into()),
    };

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", if stand_in.is_some() { 0 } else { port })).await?;
    let address = format!("http://{}/box-webhooks", listener.local_addr()?);
    eprintln!("receiving webhook deliveries at {address}");
    let (events, mut received) = mpsc::channel::<WebhookEvent>(64);
    tokio::spawn(serve(listener, keys, events));

    let expected = match &stand_in {
        Some(_) => {
            let template = support::TEMPLATE_FILE_ID;
            let target = WebhookTarget::File(template.to_owned());
            let webhook = client.create_webhook(target, &address, &DOCGEN_TRIGGERS).await?;
            eprintln!("webhook {} on template file {template}", webhook.id.unwrap_or_default());
            let request = BatchRequest::builder(template, "0", "pdf")
                .document("Contract - Acme.pdf", &json!({ "customer": { "name": "Acme Corp" } }))
                .document("Contract - Nobody.pdf", &json!({ "amount": 1 }))
                .build()?;
            let batch = client.create_batch(&request).await?;
            let options = WaitOptions::default().first_interval(Duration::from_millis(100)).backoff_factor(1.0);
            client.wait_for_batch(&batch.id, options).await?;
            Some(4)
        }
        None => count,
    };

    let mut seen = 0;
    while expected.is_none_or(|expected| seen < expected) {
        let Some(event) = received.recv().await else { break };
        seen += 1;
        match event.docgen() {
            Some(docgen) => println!(
                "{} template {} → {}{}",
                event.trigger,
                docgen.template_file_id.unwrap_or_default(),
                docgen.generated_file_id.map_or_else(String::new, |file| format!("file {file}")),
                docgen.reason.map_or_else(String::new, |reason| format!("failed: {reason}")),
            ),
            None => println!("{} (not a Doc Gen event)", event.trigger),
        }
    }
    Ok(())
}

/// Answers each delivery: 200 when it is Box's, 401 when its signature or age is wrong, 400 when its body is not
/// an event; passes verified events on.
async fn serve(listener: tokio::net::TcpListener, keys: SignatureKeys, events: mpsc::Sender<WebhookEvent>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (keys, events) = (keys.clone(), events.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let (keys, events) = (keys.clone(), events.clone());
            async move {
                let (head, body) = request.into_parts();
                let status = match body.collect().await {
                    Err(_) => 400,
                    // The raw bytes, before any parsing: the signature covers them exactly.
                    Ok(body) => {
                        let body = body.to_bytes();
                        match keys.verify(&body, &head.headers) {
                            Err(refused) => {
                                eprintln!("refused a delivery: {refused}");
                                401
                            }
                            Ok(()) => match WebhookEvent::from_slice(&body) {
                                Ok(event) => {
                                    let _ = events.send(event).await;
                                    200
                                }
                                Err(_) => 400,
                            },
                        }
                    }
                };
                let response = hyper::Response::builder().status(status).body(Full::new(bytes::Bytes::new()));
                Ok::<_, Infallible>(response.unwrap_or_default())
            }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
