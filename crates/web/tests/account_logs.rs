//! Passwords, session and API tokens, invitation codes, the admin token, webhook secrets and
//! password hashes never reach the logs, at any level. A test binary of its own: tracing caches per-callsite interest process-wide,
//! and a scoped subscriber in a binary whose other tests log in parallel can miss lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use market::{Market, MarketConfig};
use providers::sample::Sample;
use serde_json::{Value, json};
use store::SqliteStore;
use tower::ServiceExt;
use web::auth::{AuthSettings, PasswordHasher, SignupMode};
use web::{AppState, Defaults, WebConfig};

#[path = "api/captured_logs.rs"]
mod captured_logs;

use captured_logs::Captured;

const PASSWORD: &str = "correct horse battery";
const ADMIN_TOKEN: &str = "operator-token-7c1e";

async fn send(router: &Router, method: &str, uri: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

#[tokio::test]
async fn passwords_and_tokens_never_appear_in_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .json()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("stockd.db"))
        .await
        .unwrap();
    let store: Arc<dyn store::Store> = Arc::new(store);
    let market = Arc::new(Market::new(
        Arc::new(Sample::new()),
        store.clone(),
        MarketConfig::default(),
    ));
    let state = AppState::with_auth(
        store,
        market,
        WebConfig {
            defaults: Defaults {
                symbol: domain::Symbol::parse("MSFT").unwrap(),
                days: 7,
            },
            max_days: 5000,
            features: web::features::Features::default(),
            admin_token: Some(ADMIN_TOKEN.to_owned().into()),
            limits: web::limits::Limits::default(),
            signals: domain::SignalsConfig::default(),
            news: service::news::NewsSettings::default(),
            sentiment: service::scoring::SentimentChain::default(),
        },
        web::observe::install_metrics_recorder(),
        AuthSettings {
            hasher: PasswordHasher::fast_for_tests(),
            signup: SignupMode::Invite,
            ..AuthSettings::default()
        },
    );
    let router = web::router(state);

    let invite = send(
        &router,
        "POST",
        "/v1/admin/invites",
        Some(ADMIN_TOKEN),
        json!({"note": "for Ada"}),
    )
    .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    let registered = send(
        &router,
        "POST",
        "/v1/auth/register",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD, "invite": invite}),
    )
    .await;
    assert_eq!(registered["email"], "ada@example.com", "{registered}");
    let wrong = json!({"email": "ada@example.com", "password": "a wrong password 42"});
    send(&router, "POST", "/v1/auth/login", None, wrong).await;
    let login = send(&router, "POST", "/v1/auth/login", None, credentials).await;
    let session = login["access_token"].as_str().unwrap().to_owned();
    let api = send(&router, "POST", "/v1/me/tokens", Some(&session), json!({})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let hook = json!({"kind": "webhook", "url": "https://example.com/h"});
    let secret = send(&router, "POST", "/v1/me/channels", Some(&session), hook).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = json!({"password": "the next passphrase", "current_password": PASSWORD});
    send(&router, "PATCH", "/v1/me", Some(&session), change).await;
    send(&router, "GET", "/v1/me", Some(&api), Value::Null).await;
    let forged = "stk_api_forgedforgedforged";
    send(&router, "GET", "/v1/me", Some(forged), Value::Null).await;
    send(
        &router,
        "POST",
        "/v1/auth/logout",
        Some(&session),
        Value::Null,
    )
    .await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "invitation created",
        "user registered",
        "login failed",
        "user signed in",
    ] {
        assert!(
            logs.contains(expected),
            "'{expected}' was not logged: {logs}"
        );
    }
    for leaked in [
        PASSWORD,
        "a wrong password 42",
        "the next passphrase",
        session.as_str(),
        api.as_str(),
        forged,
        secret.as_str(),
        invite.as_str(),
        ADMIN_TOKEN,
        "$argon2id$",
    ] {
        assert!(!logs.contains(leaked), "{leaked} leaked into the logs");
    }
}
