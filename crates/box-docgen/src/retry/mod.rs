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
