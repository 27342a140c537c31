//! `webhooks …`: create, list, delete, verify a saved delivery, listen for deliveries.

use std::convert::Infallible;
use std::path::Path;

use box_docgen::webhooks::{DOCGEN_TRIGGERS, SignatureKeys, WebhookEvent, WebhookTarget, WebhookTrigger};
use futures::TryStreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use tokio::sync::mpsc;

use crate::cli::Webhooks;
use crate::connect::Connection;
use crate::demo::KEYS as DEMO_KEYS;
use crate::failure::Failure;
use crate::output::Output;

pub(super) async fn run(connection: &Connection, command: Webhooks, out: Output) -> Result<(), Failure> {
    let client = &connection.client;
    match command {
        Webhooks::Create { file, folder, address, triggers } => {
            let target = match (file, folder) {
                (Some(file), _) => WebhookTarget::File(file),
                (None, Some(folder)) => WebhookTarget::Folder(folder),
                (None, None) => return Err(Failure::config("give --file FILE_ID or --folder FOLDER_ID")),
            };
            let triggers: Vec<WebhookTrigger> = if triggers.is_empty() {
                DOCGEN_TRIGGERS.to_vec()
            } else {
                triggers.iter().map(|trigger| trigger.parse().unwrap_or_else(|never| match never {})).collect()
            };
            let webhook = client.create_webhook(target, &address, &triggers).await?;
            out.item(&webhook, |webhook| webhook.id.clone().unwrap_or_default());
        }
        Webhooks::List => {
            let mut webhooks = std::pin::pin!(client.list_webhooks(None));
            while let Some(webhook) = webhooks.try_next().await? {
                out.item(&webhook, |webhook| {
                    let target = webhook.target.as_ref().and_then(|target| serde_json::to_value(target).ok());
                    let target = target
                        .map(|target| {
                            format!("{} {}", target["type"].as_str().unwrap_or(""), target["id"].as_str().unwrap_or(""))
                        })
                        .unwrap_or_default();
                    format!("{}\t{target}", webhook.id.as_deref().unwrap_or_default())
                });
            }
        }
        Webhooks::Delete { id } => {
            client.delete_webhook(&id).await?;
            out.item(&json!({ "deleted": id }), |_| format!("webhook {id} deleted"));
        }
        Webhooks::Listen { port, count } => listen(connection, port, count, out).await?,
        Webhooks::Verify { .. } => {}
    }
    Ok(())
}

/// The signature keys: the demo's with `--demo`, else the environment's.
fn keys(demo: bool) -> Result<SignatureKeys, Failure> {
    if demo {
        return Ok(SignatureKeys::new(DEMO_KEYS.0).secondary(DEMO_KEYS.1));
    }
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    match (var("BOX_WEBHOOK_PRIMARY_KEY"), var("BOX_WEBHOOK_SECONDARY_KEY")) {
        (Some(primary), Some(secondary)) => Ok(SignatureKeys::new(primary).secondary(secondary)),
        (Some(primary), None) => Ok(SignatureKeys::new(primary)),
        (None, Some(secondary)) => Ok(SignatureKeys::secondary_only(secondary)),
        (None, None) => Err(Failure::config(
            "set BOX_WEBHOOK_PRIMARY_KEY (and BOX_WEBHOOK_SECONDARY_KEY) to the app's signature keys",
        )),
    }
}

/// `webhooks verify`: a saved delivery's signature, and its event.
pub(super) fn verify(body: &Path, headers: &Path, demo: bool, out: Output) -> Result<(), Failure> {
    let keys = keys(demo)?;
    let read =
        |path: &Path| std::fs::read(path).map_err(|error| Failure::config(format!("{}: {error}", path.display())));
    let body = read(body)?;
    let headers = parse_headers(&String::from_utf8_lossy(&read(headers)?))?;
    keys.verify(&body, &headers).map_err(|refused| Failure::failed(format!("the delivery is not Box's: {refused}")))?;
    let event = WebhookEvent::from_slice(&body).map_err(|error| Failure::failed(crate::failure::chain(&error)))?;
    out.item(&event, describe);
    Ok(())
}

/// `Name: value` lines (as `curl -D` saves them; a status line is skipped), or a JSON object of names to values.
fn parse_headers(text: &str) -> Result<HeaderMap, Failure> {
    let pairs: Vec<(String, String)> = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(object) => {
            object.into_iter().map(|(name, value)| (name, value.as_str().unwrap_or_default().to_owned())).collect()
        }
        Err(_) => text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| !name.contains(' '))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect(),
    };
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| Failure::config(format!("{name:?} is not a header name")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| Failure::config(format!("the value of {name} is not a header value")))?;
        headers.append(name, value);
    }
    Ok(headers)
}

fn describe(event: &WebhookEvent) -> String {
    match event.docgen() {
        Some(docgen) => format!(
            "{}\ttemplate {}{}{}",
            event.trigger,
            docgen.template_file_id.unwrap_or_default(),
            docgen.generated_file_id.map_or_else(String::new, |file| format!("\tfile {file}")),
            docgen.reason.map_or_else(String::new, |reason| format!("\tfailed: {reason}")),
        ),
        None => event.trigger.to_string(),
    }
}

/// `webhooks listen`: deliveries on 127.0.0.1, each verified, its event printed; a delivery that is not Box's is
/// answered 401 and reported on stderr.
async fn listen(connection: &Connection, port: u16, count: Option<usize>, out: Output) -> Result<(), Failure> {
    let keys = keys(connection.demo.is_some())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|error| Failure::config(format!("cannot listen on 127.0.0.1:{port}: {error}")))?;
    let address = listener.local_addr().map_err(|error| Failure::failed(error.to_string()))?;
    eprintln!("listening for webhook deliveries at http://{address}/");
    let (events, mut received) = mpsc::channel::<WebhookEvent>(64);
    let server = tokio::spawn(serve(listener, keys, events));
    let mut seen = 0;
    while count.is_none_or(|count| seen < count) {
        let event = tokio::select! {
            event = received.recv() => event,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(event) = event else { break };
        seen += 1;
        out.item(&event, describe);
    }
    server.abort();
    Ok(())
}

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
                    Ok(body) => {
                        // The raw bytes: the signature covers them exactly.
                        let body = body.to_bytes();
                        match keys.verify(&body, &head.headers).map(|()| WebhookEvent::from_slice(&body)) {
                            Err(refused) => {
                                eprintln!("refused a delivery: {refused}");
                                401
                            }
                            Ok(Err(error)) => {
                                eprintln!("refused a delivery: {error}");
                                400
                            }
                            Ok(Ok(event)) => {
                                let _ = events.send(event).await;
                                200
                            }
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
