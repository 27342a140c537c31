//! A [`RateAuthority`] for the [`box_docgen`] client shared by several processes through Redis, built on the
//! client's public rate-authority interface alone.
//!
//! What is shared: the ceilings ([`RateLimits`]), as GCRA states checked and charged by one Lua script per
//! permission (all rules or none, on Redis's own clock, `TIME`, so the instances' clocks never matter), and the
//! hold after a 429 (the later instant wins). What is not: the learned rate, which each process keeps below
//! the shared ceilings. Keys live under `<prefix>:{<app>}:…`: one hash tag per Box app, so the scripts also
//! run on Redis Cluster; they expire when idle.
//!
//! When Redis is slow or down (no answer within [`RedisRateAuthorityBuilder::timeout`], 100 ms by default), a
//! WARN is logged and the [`Fallback`] decides; Redis is asked again a second later, and an INFO says when it
//! answers. No request fails because Redis did, and none waits longer than the timeout for it.

#![deny(missing_docs)]

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use box_docgen::rate::{Cost, LocalRateAuthority, RateAuthority, RateLimits, Rule};

/// Checks and charges every rule, after the hold. KEYS: the hold, then one key per rule. ARGV: per rule, the
/// microseconds one unit takes, the burst in units, and the cost. Answers `{wait, hold}` in microseconds:
/// `wait` 0 when admitted (every rule charged), else how long until it could be; `hold` what is left of one.
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold = tonumber(redis.call('GET', KEYS[1]) or '0')
if hold > now then return {hold - now, hold - now} end
local wait = 0
local tats = {}
for i = 2, #KEYS do
  local base = (i - 2) * 3
  local interval = tonumber(ARGV[base + 1])
  local burst = tonumber(ARGV[base + 2])
  local cost = tonumber(ARGV[base + 3])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local allow_at = tat - (burst - math.min(cost, burst)) * interval
  if allow_at - now > wait then wait = allow_at - now end
  tats[i] = tat + cost * interval
end
if wait > 0 then return {wait, 0} end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.floor((tats[i] - now) / 1000) + 1000)
end
return {0, 0}
";

/// Holds every instance: KEYS[1] the hold, ARGV[1] microseconds from now. The later hold wins. Answers the
/// microseconds left of the hold in force.
const HOLD: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if hold > current then
  redis.call('SET', KEYS[1], string.format('%.0f', hold), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 1000)
  return hold - now
end
return current - now
";

/// What an instance does while Redis does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fallback {
    /// Paces itself in the process at the ceilings divided by this many instances (the default, with the
    /// count from [`RedisRateAuthorityBuilder::instances`]): safe when every instance does the same.
    Local,
    /// Admits every request (holds learned from this process's own 429s still apply).
    Open,
    /// Admits nothing until Redis answers: requests wait (they never fail because of it).
    Closed,
}

/// A [`RateAuthority`] shared through Redis; build it with [`RedisRateAuthority::builder`].
///
/// ```no_run
/// use box_docgen::rate::RateLimits;
/// use box_docgen_redis::RedisRateAuthority;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let shared = RedisRateAuthority::builder("redis://:password@redis.internal:6379")
///     .app("contracts-app")
///     .limits(RateLimits::default().requests_per_second(15.0))
///     .instances(3)
///     .build()?;
/// let client = box_docgen::Client::builder("token").rate_authority(shared).build()?;
/// # Ok(())
/// # }
/// ```
pub struct RedisRateAuthority {
    connection: ConnectionManager,
    /// The URL with its password replaced, for `Debug` and logs.
    shown_url: String,
    keys: Keys,
    limits: RateLimits,
    acquire: redis::Script,
    hold: redis::Script,
    timeout: Duration,
    fallback: Fallback,
    /// The in-process authority for [`Fallback::Local`], also holding what this process learned itself.
    local: LocalRateAuthority,
    state: Mutex<State>,
}

#[derive(Debug)]
struct Keys {
    hold: String,
    requests: String,
    documents: String,
}

#[derive(Debug, Default)]
struct State {
    /// The hold as last learned from Redis (or set here), so that Redis is not asked during it.
    hold_until: Option<Instant>,
    /// Redis failed: not asked again before this instant.
    down_until: Option<Instant>,
}

/// How long Redis is left alone after it failed to answer.
const RETRY_REDIS_AFTER: Duration = Duration::from_secs(1);

impl fmt::Debug for RedisRateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateAuthority")
            .field("url", &self.shown_url)
            .field("keys", &self.keys)
            .field("limits", &self.limits)
            .field("timeout", &self.timeout)
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`RedisRateAuthority`].
#[must_use]
pub struct RedisRateAuthorityBuilder {
    url: String,
    app: String,
    prefix: String,
    limits: RateLimits,
    instances: u32,
    fallback: Fallback,
    timeout: Duration,
}

impl fmt::Debug for RedisRateAuthorityBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateAuthorityBuilder")
            .field("url", &redacted(&self.url))
            .field("app", &self.app)
            .field("prefix", &self.prefix)
            .field("limits", &self.limits)
            .field("instances", &self.instances)
            .field("fallback", &self.fallback)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisRateAuthority {
    /// Settings for an authority at `url` (`redis://[:password@]host[:port][/db]`, or `rediss://` for TLS).
    pub fn builder(url: impl Into<String>) -> RedisRateAuthorityBuilder {
        RedisRateAuthorityBuilder {
            url: url.into(),
            app: "default".to_owned(),
            prefix: "box-docgen".to_owned(),
            limits: RateLimits::default(),
            instances: 1,
            fallback: Fallback::Local,
            timeout: Duration::from_millis(100),
        }
    }

    /// `true` while Redis is not answering and the [`Fallback`] is in use.
    pub fn is_degraded(&self) -> bool {
        self.lock().down_until.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Redis failed (or timed out): warn on the way down, and leave it alone for a while.
    fn failed(&self, what: &str, error: &dyn fmt::Display) {
        let mut state = self.lock();
        if state.down_until.is_none() {
            tracing::warn!(url = %self.shown_url, fallback = ?self.fallback, %error, "Redis did not answer {what}; using the fallback");
        }
        state.down_until = Some(Instant::now() + RETRY_REDIS_AFTER);
    }

    fn answered(&self) {
        let mut state = self.lock();
        if state.down_until.take().is_some() {
            tracing::info!(url = %self.shown_url, "Redis answers again; the shared ceilings are back");
        }
    }

    /// Whether Redis may be asked now.
    fn redis_usable(&self) -> bool {
        self.lock().down_until.is_none_or(|until| Instant::now() >= until)
    }

    fn cached_hold(&self) -> Option<Instant> {
        self.lock().hold_until.filter(|until| *until > Instant::now())
    }

    fn learn_hold(&self, left: Duration) {
        let until = Instant::now() + left;
        let mut state = self.lock();
        state.hold_until = Some(state.hold_until.map_or(until, |current| current.max(until)));
    }

    /// One round trip: `Ok(None)` admitted, `Ok(Some(wait))` not yet, `Err` Redis failed.
    async fn ask(&self, cost: Cost) -> Result<Option<Duration>, String> {
        let mut invocation = self.acquire.prepare_invoke();
        invocation.key(&self.keys.hold);
        let mut rule = |key: &str, rule: Option<Rule>, cost: u32| {
            if let (Some(Rule { rate, per, burst, .. }), true) = (rule, cost > 0) {
                let interval = (per.as_micros() as f64 / rate).max(1.0);
                invocation.key(key).arg(interval).arg(burst.max(1.0)).arg(cost);
            }
        };
        rule(&self.keys.requests, self.limits.request_rule(), cost.requests);
        rule(&self.keys.documents, self.limits.document_rule(), cost.documents);
        let mut connection = self.connection.clone();
        let answer = tokio::time::timeout(self.timeout, invocation.invoke_async::<(u64, u64)>(&mut connection)).await;
        match answer {
            Ok(Ok((wait, hold))) => {
                if hold > 0 {
                    self.learn_hold(Duration::from_micros(hold));
                }
                Ok((wait > 0).then(|| Duration::from_micros(wait)))
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn wait(&self, cost: Cost) {
        loop {
            if let Some(until) = self.cached_hold() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            if !self.redis_usable() {
                match self.fallback {
                    Fallback::Local => return self.local.acquire(cost).await,
                    Fallback::Open => return self.local.acquire(Cost::NOTHING).await,
                    Fallback::Closed => {
                        let until = self.lock().down_until.unwrap_or_else(Instant::now);
                        tokio::time::sleep_until(until).await;
                        continue;
                    }
                }
            }
            match self.ask(cost).await {
                Ok(None) => return self.answered(),
                Ok(Some(wait)) => {
                    self.answered();
                    // Ask again when there should be room (another instance may take it first).
                    tokio::time::sleep(wait).await;
                }
                Err(error) => self.failed("a permission", &error),
            }
        }
    }

    async fn set_hold(&self, retry_after: Duration) {
        self.learn_hold(retry_after);
        self.local.throttled(retry_after).await;
        if !self.redis_usable() {
            return;
        }
        let mut connection = self.connection.clone();
        let mut invocation = self.hold.prepare_invoke();
        invocation.key(&self.keys.hold).arg(retry_after.as_micros() as u64);
        match tokio::time::timeout(self.timeout, invocation.invoke_async::<i64>(&mut connection)).await {
            Ok(Ok(left)) => {
                self.answered();
                if left > 0 {
                    self.learn_hold(Duration::from_micros(left as u64));
                }
            }
            Ok(Err(error)) => self.failed("a hold", &error),
            Err(_) => self.failed("a hold", &format!("no answer within {:?}", self.timeout)),
        }
    }
}

impl RateAuthority for RedisRateAuthority {
    fn acquire(&self, cost: Cost) -> BoxFuture<'_, ()> {
        self.wait(cost).boxed()
    }

    fn throttled(&self, retry_after: Duration) -> BoxFuture<'_, ()> {
        self.set_hold(retry_after).boxed()
    }
}

impl RedisRateAuthorityBuilder {
    /// The Box app (or any name) whose limits the instances share: the hash tag of the keys. Default
    /// `default`.
    pub fn app(mut self, app: impl Into<String>) -> Self {
        self.app = app.into();
        self
    }

    /// The start of every key. Default `box-docgen`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The shared ceilings, for all instances together; [`RateLimits::default`] unless set. Every instance
    /// must be given the same.
    pub fn limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many instances share the ceilings (at least 1; default 1): [`Fallback::Local`] paces each at its
    /// share while Redis is down.
    pub fn instances(mut self, instances: u32) -> Self {
        self.instances = instances.max(1);
        self
    }

    /// What to do while Redis does not answer; [`Fallback::Local`] unless set.
    pub fn fallback(mut self, fallback: Fallback) -> Self {
        self.fallback = fallback;
        self
    }

    /// How long to wait for Redis before falling back; 100 ms unless set.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the authority. No connection is made yet: the first permission makes
    /// it, so a Redis that is down at start-up only means the fallback until it answers. Must be called
    /// within a tokio runtime.
    pub fn build(self) -> Result<RedisRateAuthority, ConfigError> {
        let shown_url = redacted(&self.url);
        // The redis crate's own messages may quote the URL: say what is wrong without it.
        let bad_url = |reason: &str| ConfigError { setting: "redis_url", reason: format!("{shown_url}: {reason}") };
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            return Err(bad_url("not a redis:// or rediss:// URL"));
        }
        if self.url.starts_with("rediss://") {
            // The redis crate asks rustls for its process-wide default provider: one is installed unless there is
            // one already (which is then kept), so that a build with more than one provider does not panic.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(self.url.as_str()).map_err(|_| bad_url("not a usable Redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(RETRY_REDIS_AFTER);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|_| bad_url("no connection manager could be made for it"))?;
        for (name, value) in [("app", &self.app), ("prefix", &self.prefix)] {
            if value.is_empty() || value.contains(['{', '}']) || value.chars().any(char::is_control) {
                let reason = "must be non-empty, without braces or control characters".to_owned();
                return Err(ConfigError { setting: name, reason });
            }
        }
        let base = format!("{}:{{{}}}", self.prefix, self.app);
        Ok(RedisRateAuthority {
            connection,
            shown_url,
            keys: Keys {
                hold: format!("{base}:hold"),
                requests: format!("{base}:requests"),
                documents: format!("{base}:documents"),
            },
            limits: self.limits,
            acquire: redis::Script::new(ACQUIRE),
            hold: redis::Script::new(HOLD),
            timeout: self.timeout,
            fallback: self.fallback,
            local: LocalRateAuthority::new(self.limits.divided_by(self.instances)),
            state: Mutex::new(State::default()),
        })
    }
}

/// A setting of a [`RedisRateAuthorityBuilder`] that cannot be used. It never shows the URL's password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
#[non_exhaustive]
pub struct ConfigError {
    /// The setting: `redis_url`, `app` or `prefix`.
    pub setting: &'static str,
    /// Why it cannot be used.
    pub reason: String,
}

/// The URL with any password (and user name) replaced.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("REDACTED"));
            }
            if !parsed.username().is_empty() {
                let _ = parsed.set_username("REDACTED");
            }
            parsed.to_string()
        }
        Err(_) => "[an unparsable URL]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redacted("redis://:s3cret@host:6379/0"), "redis://:REDACTED@host:6379/0");
        assert_eq!(redacted("rediss://user:s3cret@host"), "rediss://REDACTED:REDACTED@host");
        assert!(!redacted("redis://:s3cret@[bad").contains("s3cret"));
    }
}
