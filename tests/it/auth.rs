//! Authentication: each grant's form body, expiry- and 401-driven refresh, one refresh for many callers,
//! rotating refresh tokens, JWT assertions, and typed token errors. Token endpoint and API are httpmock servers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use box_docgen::auth::{ClientCredentials, JwtAuth, OAuthRefresh, Subject, TokenSource};
use box_docgen::{AuthErrorKind, Client, Error, RetryPolicy};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::support::{SEED_JOB, in_turn, respond};

const CONFIG: &str = "fixtures/jwt/test_box_config.json";
const PUBLIC_KEY: &[u8] = include_bytes!("../fixtures/jwt/test_public_key_pkcs1.der");

/// An HTTP client with no timers of its own, for the paused clock (see `support::paused_clock_client`).
fn quiet_http() -> reqwest::Client {
    box_docgen::install_tls_provider();
    reqwest::Client::builder().pool_idle_timeout(None).build().expect("an HTTP client")
}

fn client_for(server: &MockServer, source: impl TokenSource + 'static) -> Client {
    Client::with_token_source(source)
        .base_url(server.url("/2.0"))
        .http_client(quiet_http())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid")
}

fn token(access: &str, refresh: Option<&str>) -> serde_json::Value {
    json!({ "access_token": access, "expires_in": 3600, "refresh_token": refresh, "token_type": "bearer",
            "restricted_to": [], "issued_token_type": "urn:ietf:params:oauth:token-type:access_token" })
}

/// An API that answers the job to `Bearer <good>` and 401 to anything else.
async fn api_accepting<'a>(server: &'a MockServer, good: &str) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1").header("authorization", format!("Bearer {good}"));
            then.status(200).header("content-type", "application/json").body(SEED_JOB);
        })
        .await
}

async fn api_rejecting_others(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            then.status(401).json_body(json!({ "type": "error", "status": 401, "code": "unauthorized" }));
        })
        .await
}

fn ccg(server: &MockServer) -> ClientCredentials {
    ClientCredentials::new("cid", "csecret", Subject::Enterprise("1910967".into()))
        .expect("valid")
        .token_url(server.url("/oauth2/token"))
        .http_client(quiet_http())
}

#[tokio::test]
async fn a_static_token_is_never_refreshed_and_a_401_is_returned() {
    let server = MockServer::start_async().await;
    let rejecting = api_rejecting_others(&server).await;
    let client = Client::builder("dev-token").base_url(server.url("/2.0")).build().expect("valid");
    let error = client.get_job("1").await.expect_err("401");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(401));
    assert_eq!(rejecting.calls_async().await, 1);
}

#[tokio::test(start_paused = true)]
async fn oauth_refreshes_before_expiry_and_hands_each_rotated_pair_to_the_store() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=refresh_token&refresh_token=R1&client_id=cid&client_secret=csecret");
            then.status(200).json_body(token("A1", Some("R2")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/token")
                .body("grant_type=refresh_token&refresh_token=R2&client_id=cid&client_secret=csecret");
            then.status(200).json_body(token("A2", Some("R3")));
        })
        .await;
    let with_a1 = api_accepting(&server, "A1").await;
    let with_a2 = api_accepting(&server, "A2").await;

    let stored = Arc::new(Mutex::new(Vec::new()));
    let store = stored.clone();
    let source = OAuthRefresh::new("cid", "csecret", "R1")
        .expect("valid")
        .token_url(server.url("/oauth2/token"))
        .http_client(quiet_http())
        .on_refresh(move |pair| {
            let pair = (pair.access_token.expose_secret().to_owned(), pair.refresh_token.expose_secret().to_owned());
            store.lock().expect("not poisoned").push(pair);
        });
    let client = client_for(&server, source);

    client.get_job("1").await.expect("with A1");
    client.get_job("1").await.expect("A1 still cached");
    // A minute before the hour is up, the next call refreshes first.
    tokio::time::advance(Duration::from_secs(3600 - 59)).await;
    client.get_job("1").await.expect("with A2");

    assert_eq!((first.calls_async().await, second.calls_async().await), (1, 1));
    assert_eq!((with_a1.calls_async().await, with_a2.calls_async().await), (2, 1));
    let stored = stored.lock().expect("not poisoned").clone();
    assert_eq!(stored, [("A1".to_owned(), "R2".to_owned()), ("A2".to_owned(), "R3".to_owned())]);
}

#[tokio::test]
async fn a_given_access_token_is_used_until_a_401_then_refreshed() {
    let server = MockServer::start_async().await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/token").body_includes("refresh_token=R1");
            then.status(200).json_body(token("A2", Some("R2")));
        })
        .await;
    let good = api_accepting(&server, "A2").await;
    let rejecting = api_rejecting_others(&server).await;
    let source = OAuthRefresh::new("cid", "csecret", "R1")
        .expect("valid")
        .access_token("A1-revoked", Duration::from_secs(3600))
        .token_url(server.url("/oauth2/token"));
    client_for(&server, source).get_job("1").await.expect("after one refresh");
    assert_eq!((rejecting.calls_async().await, refresh.calls_async().await, good.calls_async().await), (1, 1, 1));
}

#[tokio::test]
async fn client_credentials_send_the_exact_form_for_enterprise_and_user() {
    let server = MockServer::start_async().await;
    let enterprise = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/token").body(
                "grant_type=client_credentials&client_id=cid&client_secret=csecret\
                 &box_subject_type=enterprise&box_subject_id=1910967",
            );
            then.status(200).json_body(token("E1", None));
        })
        .await;
    let user = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/token").body(
                "grant_type=client_credentials&client_id=cid&client_secret=csecret\
                 &box_subject_type=user&box_subject_id=11446498",
            );
            then.status(200).json_body(token("U1", None));
        })
        .await;
    api_accepting(&server, "E1").await;
    api_accepting(&server, "U1").await;

    client_for(&server, ccg(&server)).get_job("1").await.expect("as the enterprise");
    let as_user = ClientCredentials::new("cid", "csecret", Subject::User("11446498".into()))
        .expect("valid")
        .token_url(server.url("/oauth2/token"));
    client_for(&server, as_user).get_job("1").await.expect("as the user");
    assert_eq!((enterprise.calls_async().await, user.calls_async().await), (1, 1));
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_once_never_more_for_every_refreshing_kind() {
    let server = MockServer::start_async().await;
    let token_url = server.url("/oauth2/token");
    let sources: Vec<Box<dyn TokenSource>> = vec![
        Box::new(ccg(&server)),
        Box::new(OAuthRefresh::new("cid", "csecret", "R1").expect("valid").token_url(&token_url)),
        Box::new(JwtAuth::from_config_file(CONFIG).expect("loads").token_url(&token_url)),
    ];
    for source in sources {
        let name = format!("{source:?}");
        let tokens = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth2/token");
                then.respond_with(in_turn(vec![
                    respond(200, &token("T1", Some("R2"))),
                    respond(200, &token("T2", Some("R3"))),
                ]));
            })
            .await;
        let rejecting = api_rejecting_others(&server).await;
        let error = client_for(&server, source).get_job("1").await.expect_err("401 twice");
        assert_eq!(error.status().map(|status| status.as_u16()), Some(401), "{name}");
        assert_eq!(error.attempts(), Some(2), "{name}");
        assert_eq!((tokens.calls_async().await, rejecting.calls_async().await), (2, 2), "{name}");
        tokens.delete_async().await;
        rejecting.delete_async().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_hundred_concurrent_calls_share_one_token_request() {
    let server = MockServer::start_async().await;
    let tokens = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/token");
            then.respond_with(in_turn(vec![respond(200, &token("T1", None)), respond(200, &token("T2", None))]));
        })
        .await;
    let first = api_accepting(&server, "T1").await;
    let client = client_for(&server, ccg(&server));

    let calls = (0..100).map(|_| client.get_job("1"));
    assert!(futures::future::join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(tokens.calls_async().await, 1);
    assert_eq!(first.calls_async().await, 100);

    // The server takes only the new token now: a call sent with the old one would fail.
    first.delete_async().await;
    let second = api_accepting(&server, "T2").await;
    tokio::time::advance(Duration::from_secs(3600)).await;
    let calls = (0..100).map(|_| client.get_job("1"));
    assert!(futures::future::join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(tokens.calls_async().await, 2, "one refresh for 100 callers holding an expired token");
    assert_eq!(second.calls_async().await, 100, "every call after the refresh carried the new token");
}

#[tokio::test]
async fn token_endpoint_errors_are_typed_and_say_what_to_fix() {
    let server = MockServer::start_async().await;
    for (code, kind) in [
        ("invalid_grant", AuthErrorKind::InvalidGrant),
        ("invalid_client", AuthErrorKind::InvalidClient),
        ("unauthorized_client", AuthErrorKind::UnauthorizedClient),
        ("server_hiccup", AuthErrorKind::Other("server_hiccup".into())),
    ] {
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth2/token");
                then.status(400).json_body(json!({ "error": code, "error_description": "Nope" }));
            })
            .await;
        let error = client_for(&server, ccg(&server)).get_job("1").await.expect_err("refused");
        let Error::Auth(auth) = &error else { panic!("expected Error::Auth, got {error:?}") };
        assert_eq!(auth.kind, kind);
        assert_eq!(auth.description.as_deref(), Some("Nope"));
        assert_eq!(auth.status.map(|status| status.as_u16()), Some(400));
        let message = error.to_string();
        assert!(message.contains(code) && !message.contains("csecret"), "{message}");
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn jwt_assertions_are_signed_and_carry_the_right_claims() {
    let server = MockServer::start_async().await;
    let bodies = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = bodies.clone();
    let tokens = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/token")
                .body_includes("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=")
                .body_includes("&client_id=test-client-id&client_secret=test-client-secret");
            then.respond_with(move |request: &HttpMockRequest| {
                seen.lock().expect("not poisoned").push(request.body_string());
                HttpMockResponse::builder().status(200).body(token("J1", None).to_string()).build()
            });
        })
        .await;
    api_accepting(&server, "J1").await;
    let token_url = server.url("/oauth2/token");
    let source = JwtAuth::from_config_file(CONFIG).expect("the test config loads").token_url(&token_url);
    let user_source = JwtAuth::from_config_file(CONFIG).expect("loads").as_user("11446498").token_url(&token_url);
    client_for(&server, source).get_job("1").await.expect("with J1");
    client_for(&server, user_source).get_job("1").await.expect("with J1");
    assert_eq!(tokens.calls_async().await, 2);

    let bodies = bodies.lock().expect("not poisoned").clone();
    let mut jtis = Vec::new();
    for (body, (sub, kind)) in bodies.iter().zip([("1910967", "enterprise"), ("11446498", "user")]) {
        let assertion = body.split('&').find_map(|pair| pair.strip_prefix("assertion=")).expect("an assertion");
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
        };
        let (header, claims) = (decode(parts[0]), decode(parts[1]));
        assert_eq!(header, json!({ "alg": "RS256", "typ": "JWT", "kid": "test-kid-1" }));
        assert_eq!(claims["iss"], "test-client-id");
        assert_eq!(claims["sub"], sub);
        assert_eq!(claims["box_sub_type"], kind);
        assert_eq!(claims["aud"], token_url.as_str());
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
        let exp = claims["exp"].as_u64().expect("a number");
        assert!(exp > now && exp <= now + 60, "exp {exp} is at most 60 s ahead of {now}");
        let jti = claims["jti"].as_str().expect("a jti").to_owned();
        assert!(jti.len() >= 16);
        jtis.push(jti);

        let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
        let public_key =
            ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, PUBLIC_KEY);
        public_key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).expect("the signature verifies");
    }
    assert_ne!(jtis[0], jtis[1], "every assertion has a fresh jti");
}

#[test]
fn unusable_keys_and_configs_are_config_errors_that_keep_secrets_out() {
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(CONFIG).expect("fixture")).expect("JSON");
    let key = config["boxAppSettings"]["appAuth"]["privateKey"].as_str().expect("a key");
    let cases = [
        ("not a pem at all", "test-passphrase", "not a PEM"),
        (key, "wrong-passphrase", "passphrase"),
        ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "unused-passphrase", "PKCS#8"),
    ];
    for (pem, passphrase, expected) in cases {
        let result = JwtAuth::new("cid", "csecret", "kid", pem, passphrase, Subject::Enterprise("1".into()));
        let error = result.expect_err(expected);
        let Error::Auth(auth) = &error else { panic!("expected Error::Auth, got {error:?}") };
        assert_eq!(auth.kind, AuthErrorKind::Config);
        let message = format!("{error} {error:?}");
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains("csecret") && !message.contains(passphrase), "{message}");
    }
    let missing = JwtAuth::from_config_json(r#"{"boxAppSettings": {"clientID": "x"}}"#).expect_err("incomplete");
    assert!(matches!(&missing, Error::Auth(auth) if auth.kind == AuthErrorKind::Config), "{missing:?}");
    let absent = JwtAuth::from_config_file("fixtures/jwt/no-such-file.json").expect_err("absent");
    assert!(absent.to_string().contains("no-such-file.json"), "{absent}");
}

#[test]
fn token_sources_do_not_show_secrets_in_debug() {
    let jwt = JwtAuth::from_config_file(CONFIG).expect("loads");
    let oauth = OAuthRefresh::new("cid", "csecret", "refresh-secret")
        .expect("valid")
        .access_token("access-secret", Duration::from_secs(1));
    let ccg = ClientCredentials::new("cid", "csecret", Subject::User("7".into())).expect("valid");
    let shown = format!("{jwt:?} {oauth:?} {ccg:?}");
    for secret in ["test-client-secret", "test-passphrase", "PRIVATE KEY", "csecret", "refresh-secret", "access-secret"]
    {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let client = Client::with_token_source(oauth).header("x-api-key", "header-secret").build().expect("valid");
    let shown = format!("{client:?}");
    assert!(!shown.contains("refresh-secret") && !shown.contains("header-secret"), "{shown}");
}

#[tokio::test]
async fn as_user_and_extra_headers_go_with_every_request() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1").header("as-user", "11446498").header("x-correlation-id", "c-1");
            then.status(200).header("content-type", "application/json").body(SEED_JOB);
        })
        .await;
    let client = Client::builder("t")
        .base_url(server.url("/2.0"))
        .as_user("11446498")
        .header("X-Correlation-Id", "c-1")
        .build()
        .expect("valid");
    client.get_job("1").await.expect("the job");
    mock.assert_async().await;

    for (name, value) in [("authorization", "Bearer other"), ("box-version", "2024.0"), ("bad header", "x")] {
        let refused = Client::builder("t").header(name, value).build().expect_err(name);
        assert!(matches!(refused, Error::InvalidInput(_)), "{name}");
    }
    assert!(matches!(Client::builder("t").as_user(" ").build(), Err(Error::InvalidInput(_))));
}
