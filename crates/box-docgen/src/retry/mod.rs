//! Retrying: one [`RetryStrategy`] per call owns "send again, wait, or stop". It asks the classifier what a
//! failure means ([`classify`]), the [`RetryPolicy`] how long to wait and when to give up, and the
//! [`RetryBudget`](budget::RetryBudget) every clone of a client shares whether a retry is affordable. The send
//! pipeline (`send.rs`) only asks it after each attempt. (The shape of smithy-rs's retry strategy, classifiers
//! and token bucket.)

pub(crate) mod budget;
mod classify;
mod policy;
mod strategy;

pub use policy::RetryPolicy;
pub(crate) use strategy::{RetryStrategy, Verdict};

/// An error status from Box as the tests of retrying need it: `status`, and a `Retry-After` in seconds.
#[cfg(test)]
pub(crate) fn api_error(status: u16, retry_after: Option<u64>) -> crate::Error {
    crate::Error::Api(Box::new(crate::ApiError {
        status: reqwest::StatusCode::from_u16(status).expect("a status"),
        code: None,
        message: None,
        request_id: None,
        help_url: None,
        context_info: None,
        retry_after: retry_after.map(std::time::Duration::from_secs),
        body_excerpt: None,
        attempts: 1,
    }))
}
