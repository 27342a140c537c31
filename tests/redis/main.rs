//! The rate authority shared through Redis, against real `redis-server`s each test starts on a free port of
//! 127.0.0.1 (Debian's `redis-server`; `.ci/run` installs it). Built only with `--features redis`:
//! `cargo test -p box-docgen-tests --features redis --test redis`.
//!
//! Redis's clock is the real one, so these tests run on it; what they assert are bounds (admitted at most
//! burst + rate × elapsed; not admitted while held), not durations.

mod server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use box_docgen::rate::{Cost, RateAuthority, RateLimits};
use box_docgen::{Client, RetryPolicy};
use box_docgen_mock::MockBox;
use box_docgen_mock::operations::{GetDocgenJobsIdV20250, Operation as _};
use box_docgen_redis::{Fallback, RedisRateAuthority};
use server::RedisServer;

/// `milliseconds` after `start`, for waits measured from when a hold began rather than from when the test got
/// there (so that slow set-up work cannot outlive the hold).
fn at(start: Instant, milliseconds: u64) -> tokio::time::Instant {
    tokio::time::Instant::from_std(start + Duration::from_millis(milliseconds))
}

fn authority(server: &RedisServer, limits: RateLimits) -> RedisRateAuthority {
    RedisRateAuthority::builder(server.url()).app("test-app").limits(limits).build().expect("valid settings")
}

/// Acquires `Cost::REQUEST` in a loop on `authorities × tasks` tasks for `run`; returns how many were admitted
/// and how long it took.
async fn hammer(authorities: Vec<RedisRateAuthority>, tasks: usize, run: Duration) -> (usize, Duration) {
    let start = Instant::now();
    let admitted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for authority in authorities.into_iter().map(Arc::new) {
        for _ in 0..tasks {
            let (authority, admitted) = (authority.clone(), admitted.clone());
            handles.push(tokio::spawn(async move {
                while start.elapsed() < run {
                    if tokio::time::timeout_at((start + run).into(), authority.acquire(Cost::REQUEST)).await.is_ok() {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            }));
        }
    }
    for handle in handles {
        handle.await.expect("a task");
    }
    (admitted.load(std::sync::atomic::Ordering::SeqCst), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_with_their_own_connections_stay_within_burst_plus_rate_times_elapsed() {
    let server = RedisServer::start(None);
    let limits = RateLimits::none().requests_per_second(20.0);
    let authorities = (0..3).map(|_| authority(&server, limits)).collect();
    let (admitted, elapsed) = hammer(authorities, 2, Duration::from_millis(1500)).await;
    let bound = 20.0 + 20.0 * elapsed.as_secs_f64();
    assert!(admitted as f64 <= bound + 1.0, "{admitted} admitted in {elapsed:?}; at most {bound}");
    assert!(admitted >= 20, "at least the burst went: {admitted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_holds_under_contention() {
    let server = RedisServer::start(None);
    let limits = RateLimits::none().requests_per_second(50.0);
    let authorities = (0..8).map(|_| authority(&server, limits)).collect();
    let (admitted, elapsed) = hammer(authorities, 4, Duration::from_secs(1)).await;
    let bound = 50.0 + 50.0 * elapsed.as_secs_f64();
    assert!(admitted as f64 <= bound + 1.0, "{admitted} admitted in {elapsed:?} by 32 tasks; at most {bound}");
    // And not an authority that admits nothing: at least the burst went.
    assert!(admitted >= 50, "{admitted} admitted in {elapsed:?} by 32 tasks; at least the burst of 50");
}

#[tokio::test]
async fn a_hold_after_one_instance_s_429_stops_the_others_until_then() {
    let server = RedisServer::start(None);
    let (a, b) = (authority(&server, RateLimits::none()), authority(&server, RateLimits::none()));
    b.acquire(Cost::REQUEST).await;
    let start = Instant::now();
    a.throttled(Duration::from_secs(3)).await;
    // A shorter hold from another instance does not shorten it.
    b.throttled(Duration::from_secs(1)).await;
    let c = authority(&server, RateLimits::none());
    // Measured from when the hold began, not from here: however long the set-up took, C is not admitted in the
    // hold's first 2 s.
    assert!(tokio::time::timeout_at(at(start, 2000), c.acquire(Cost::REQUEST)).await.is_err(), "held");
    c.acquire(Cost::REQUEST).await;
    assert!(start.elapsed() >= Duration::from_millis(2900), "released after {:?}", start.elapsed());
}

#[tokio::test]
async fn an_instance_that_learned_a_hold_waits_it_out_without_asking_redis() {
    let server = RedisServer::start(None);
    let (a, b) = (authority(&server, RateLimits::none()), authority(&server, RateLimits::none()));
    let start = Instant::now();
    a.throttled(Duration::from_secs(3)).await;
    // B learns the hold on its first question.
    assert!(tokio::time::timeout_at(at(start, 300), b.acquire(Cost::REQUEST)).await.is_err());
    let scripts = ["evalsha", "eval"];
    let before = server.calls(&scripts);
    assert!(before >= 2, "the hold and B's question went through scripts: {before}");
    let waiting: Vec<_> = (0..10).map(|_| tokio::time::timeout_at(at(start, 2500), b.acquire(Cost::REQUEST))).collect();
    for result in futures::future::join_all(waiting).await {
        assert!(result.is_err(), "held");
    }
    assert_eq!(server.calls(&scripts), before, "ten requests during the hold, no question to Redis");
}

#[tokio::test]
async fn a_429_one_client_gets_from_box_holds_a_client_of_another_instance() {
    let server = RedisServer::start(None);
    let mock = MockBox::start().await;
    mock.add_template("42", "Contract.docx", &[]).add_finished_job("7", "42", "Contract.pdf");
    mock.fail(GetDocgenJobsIdV20250::INFO, box_docgen_mock::Fault::RateLimited { retry_after: 2 }, 1);
    let client = || {
        Client::builder("token")
            .base_url(mock.base_url())
            .retry_policy(RetryPolicy::none())
            .rate_authority(authority(&server, RateLimits::none()))
            .build()
            .expect("valid")
    };
    let (a, b) = (client(), client());
    let start = Instant::now();
    let error = a.get_job("7").await.expect_err("Box's 429");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(429));
    assert!(tokio::time::timeout_at(at(start, 1500), b.get_job("7")).await.is_err(), "held");
    b.get_job("7").await.expect("after the hold");
    assert_eq!(mock.requests_for(GetDocgenJobsIdV20250::INFO).len(), 2, "nothing sent during the hold");
}

#[tokio::test]
async fn a_batch_costs_its_documents() {
    let server = RedisServer::start(None);
    let limits = RateLimits::none().documents_per_minute(60.0);
    let (a, b) = (authority(&server, limits), authority(&server, limits));
    let start = Instant::now();
    a.acquire(Cost::batch(60)).await;
    assert!(start.elapsed() < Duration::from_secs(1), "a minute's documents go at once");
    // The next 30 documents are due in 30 s; a request without documents is not held up.
    assert!(tokio::time::timeout(Duration::from_secs(1), b.acquire(Cost::batch(30))).await.is_err());
    tokio::time::timeout(Duration::from_secs(1), b.acquire(Cost::REQUEST)).await.expect("no document ceiling hit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_fallback_takes_the_ceilings_divided_by_the_instances() {
    let (_held, nobody) = server::refusing_port();
    let down = RedisRateAuthority::builder(format!("redis://127.0.0.1:{nobody}"))
        .limits(RateLimits::none().requests_per_second(20.0))
        .instances(2)
        .build()
        .expect("valid");
    let (admitted, elapsed) = hammer(vec![down], 2, Duration::from_millis(1500)).await;
    // Each instance alone: 10 per second, a burst of 10 (the whole ceiling would be 20 + 20 per second).
    let bound = 10.0 + 10.0 * elapsed.as_secs_f64();
    assert!(admitted as f64 <= bound + 1.0, "{admitted} admitted in {elapsed:?}; at most {bound}");
    assert!(admitted >= 10, "at least the fallback's burst went: {admitted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_is_alive_but_silent_costs_a_request_no_more_than_the_timeout() {
    let (_listening, port) = server::silent_server();
    let slow = RedisRateAuthority::builder(format!("redis://127.0.0.1:{port}"))
        .limits(RateLimits::none().requests_per_second(1000.0))
        .build()
        .expect("valid");
    for _ in 0..5 {
        // Bounded: the first waits for the 100 ms timeout, the others go straight to the fallback.
        tokio::time::timeout(Duration::from_secs(2), slow.acquire(Cost::REQUEST)).await.expect("never a hang");
    }
    assert!(slow.is_degraded(), "a silent Redis is a Redis that did not answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_falls_back_without_an_error_and_recovers() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || Writer(writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut server = RedisServer::start(None);
    let shared = Arc::new(
        RedisRateAuthority::builder(server.url())
            .limits(RateLimits::none().requests_per_second(100.0))
            .instances(2)
            .build()
            .expect("valid"),
    );
    let mock = MockBox::start().await;
    mock.add_template("42", "Contract.docx", &[]).add_finished_job("7", "42", "Contract.pdf");
    let client = Client::builder("token")
        .base_url(mock.base_url())
        .retry_policy(RetryPolicy::none())
        .rate_authority(shared.clone())
        .build()
        .expect("valid");
    client.get_job("7").await.expect("through Redis");
    assert!(!shared.is_degraded());
    server.stop();
    for _ in 0..5 {
        let call = tokio::time::timeout(Duration::from_secs(2), client.get_job("7")).await;
        call.expect("never a hang").expect("no call fails because Redis did");
    }
    assert!(shared.is_degraded());
    server.restart();
    let start = Instant::now();
    while shared.is_degraded() {
        assert!(start.elapsed() < Duration::from_secs(10), "back to Redis once it answers");
        client.get_job("7").await.expect("a call");
    }
    let logs = String::from_utf8_lossy(&logs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned();
    let warned = logs.lines().position(|line| line.contains("WARN") && line.contains("using the fallback"));
    let recovered = logs.lines().position(|line| line.contains("INFO") && line.contains("Redis answers again"));
    assert!(warned.is_some() && recovered > warned, "a WARN going down, then an INFO on recovery: {logs}");
}

#[tokio::test]
async fn fallback_open_admits_and_closed_waits_while_redis_is_down() {
    let (_held, nobody) = server::refusing_port();
    let url = format!("redis://127.0.0.1:{nobody}");
    let limits = RateLimits::none().requests_per_second(1.0);
    let open = RedisRateAuthority::builder(&url).limits(limits).fallback(Fallback::Open).build().expect("valid");
    for _ in 0..5 {
        tokio::time::timeout(Duration::from_secs(1), open.acquire(Cost::REQUEST)).await.expect("admitted");
    }
    let closed = RedisRateAuthority::builder(&url).limits(limits).fallback(Fallback::Closed).build().expect("valid");
    assert!(tokio::time::timeout(Duration::from_millis(1500), closed.acquire(Cost::REQUEST)).await.is_err());
}

#[tokio::test]
async fn the_password_never_shows() {
    const PASSWORD: &str = "s3cret-redis-pass";
    let server = RedisServer::start(Some(PASSWORD));
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || Writer(writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let good = authority(&server, RateLimits::none().requests_per_second(5.0));
    good.acquire(Cost::REQUEST).await;
    assert!(!good.is_degraded(), "the password works");
    let wrong_url = server.url().replace(PASSWORD, "wrong-s3cret-pass");
    let wrong = RedisRateAuthority::builder(&wrong_url).build().expect("valid");
    wrong.acquire(Cost::REQUEST).await;
    assert!(wrong.is_degraded(), "a refused password means the fallback");
    let bad = RedisRateAuthority::builder(format!("http://:{PASSWORD}@host")).build().expect_err("not redis");
    let output = format!(
        "{good:?} {wrong:?} {bad} {bad:?} {:?} {}",
        RedisRateAuthority::builder(server.url()),
        String::from_utf8_lossy(&logs.lock().expect("logs"))
    );
    assert!(output.contains("REDACTED"), "{output}");
    assert!(output.contains("WARN"), "the fallback was logged: {output}");
    for secret in [PASSWORD, "wrong-s3cret-pass"] {
        assert!(!output.contains(secret), "{secret} shows in: {output}");
    }
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
