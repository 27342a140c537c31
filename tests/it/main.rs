//! Integration tests: the `box-docgen` facade against httpmock servers on 127.0.0.1.

mod errors;
mod get_job;
mod input_errors;
mod job_ids;
mod operations;
mod secrets;
mod support;
mod waiting;
