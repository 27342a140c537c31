//! Integration tests: the `box-docgen` facade against servers started on 127.0.0.1 (httpmock, and a raw TCP
//! server for faults httpmock cannot produce).

mod auth;
mod bulk;
mod bulk_crashes;
mod bulk_recovery;
mod contract;
mod download;
mod errors;
mod faults;
mod forward_compat;
mod generated_docs;
mod get_job;
mod id_property;
mod input_errors;
mod job_ids;
mod layers;
mod mock;
mod operations;
mod pacing;
mod raw_server;
mod secrets;
mod store_suite;
mod support;
mod template;
mod tls;
mod upload;
mod waiting;
mod webhooks;
mod word;
