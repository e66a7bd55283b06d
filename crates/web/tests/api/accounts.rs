//! Users and auth over HTTP: registration, login and logout, personal API tokens, the profile,
//! the watchlist and notification channels; 401/404/409/422/429 answers; owner scoping (user B
//! never reaches user A's resources); admin users on the operator routes. That no password or
//! token reaches the logs is checked in `tests/account_logs.rs`, a binary of its own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use market::Market;
use providers::sample::Sample;
use serde_json::{Value, json};
use store::{NewUser, SqliteStore, Store};
use web::auth::{AuthSettings, LoginLimits, PasswordHasher};
use web::{AppState, Defaults, WebConfig};

use crate::helpers::{TestResponse, market_config, respond};

pub(crate) const PASSWORD: &str = "correct horse battery";

/// A router over the sample provider and a fresh SQLite store, with the cheapest argon2 cost
/// (the production cost takes seconds per hash in a debug build). Shared with `alerts.rs`.
pub(crate) struct App {
    pub(crate) router: Router,
    pub(crate) state: AppState,
    pub(crate) store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl App {
    pub(crate) async fn new() -> Self {
        Self::with(LoginLimits::default(), web::features::Features::default()).await
    }

    pub(crate) async fn with(limits: LoginLimits, features: web::features::Features) -> Self {
        let settings = AuthSettings {
            limits,
            ..AuthSettings::default()
        };
        Self::with_settings(settings, features).await
    }

    pub(crate) async fn with_settings(
        settings: AuthSettings,
        features: web::features::Features,
    ) -> Self {
        Self::with_provider(Arc::new(Sample::new()), settings, features).await
    }

    pub(crate) async fn with_provider(
        provider: Arc<dyn providers::MarketData>,
        settings: AuthSettings,
        features: web::features::Features,
    ) -> Self {
        let settings = AuthSettings {
            hasher: PasswordHasher::fast_for_tests(),
            ..settings
        };
        Self::build_with(
            provider,
            settings,
            features,
            None,
            web::limits::Limits::default(),
        )
        .await
    }

    /// An app with chosen per-client read limits and per-user caps.
    pub(crate) async fn with_limits(
        provider: Arc<dyn providers::MarketData>,
        settings: AuthSettings,
        features: web::features::Features,
        limits: web::limits::Limits,
    ) -> Self {
        let settings = AuthSettings {
            hasher: PasswordHasher::fast_for_tests(),
            ..settings
        };
        Self::build_with(provider, settings, features, None, limits).await
    }

    /// A router with exactly these settings (hasher included) and admin token.
    pub(crate) async fn build(
        provider: Arc<dyn providers::MarketData>,
        settings: AuthSettings,
        features: web::features::Features,
        admin_token: Option<&str>,
    ) -> Self {
        Self::build_with(
            provider,
            settings,
            features,
            admin_token,
            web::limits::Limits::default(),
        )
        .await
    }

    async fn build_with(
        provider: Arc<dyn providers::MarketData>,
        settings: AuthSettings,
        features: web::features::Features,
        admin_token: Option<&str>,
        limits: web::limits::Limits,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("stockd.db"))
                .await
                .unwrap(),
        );
        let market = Arc::new(Market::new(provider, store.clone(), market_config()));
        let state = AppState::with_auth(
            store.clone(),
            market,
            WebConfig {
                defaults: Defaults {
                    symbol: domain::Symbol::parse("MSFT").unwrap(),
                    days: 7,
                },
                max_days: 5000,
                features,
                admin_token: admin_token.map(|t| t.to_owned().into()),
                limits,
                signals: domain::SignalsConfig::default(),
                news: service::news::NewsSettings::default(),
                sentiment: service::scoring::SentimentChain::default(),
            },
            web::observe::install_metrics_recorder(),
            settings,
        );
        Self {
            router: web::router(state.clone()),
            state,
            store,
            _dir: dir,
        }
    }

    /// Sends a request built by the test, from `peer`.
    pub(crate) async fn request_from(
        &self,
        peer: &str,
        mut request: Request<Body>,
    ) -> TestResponse {
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        respond(&self.router, request).await
    }

    /// Sends `method uri` with an optional bearer token and JSON body, from 192.0.2.1.
    pub(crate) async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.send_from("192.0.2.1:4000", method, uri, token, body)
            .await
    }

    pub(crate) async fn send_from(
        &self,
        peer: &str,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        respond(&self.router, request).await
    }

    pub(crate) async fn register(&self, email: &str) -> Value {
        let response = self
            .send(
                "POST",
                "/v1/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
        response.json()
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.send(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Registers `email` and signs in: the session token.
    pub(crate) async fn user(&self, email: &str) -> String {
        self.register(email).await;
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["access_token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn register_login_me_and_logout() {
    let app = App::new().await;
    let user = app.register("Ada@Example.com").await;
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["is_admin"], false);
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());

    let again = app
        .send(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "ADA@example.COM", "password": "another password"})),
        )
        .await;
    assert!(again.problem(409).contains("email"));

    let short = app
        .send(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "bob@example.com", "password": "123456789"})),
        )
        .await;
    assert!(short.problem(422).starts_with("password"));
    let bad_email = app
        .send(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "not-an-email", "password": PASSWORD})),
        )
        .await;
    assert!(bad_email.problem(422).starts_with("email"));
    let missing = app
        .send(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert!(missing.problem(422).contains("password"));

    // One answer for a wrong password and an unknown email.
    let wrong = app
        .login("ada@example.com", "wrong password!")
        .await
        .problem(401);
    let unknown = app.login("eve@example.com", PASSWORD).await.problem(401);
    assert_eq!(wrong, unknown);

    let session = app.login("ADA@example.com", PASSWORD).await;
    assert_eq!(session.status, 200, "{}", session.text());
    let body = session.json();
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("stk_sess_"), "{token}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_at"].is_string());

    let me = app.send("GET", "/v1/me", Some(token), None).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["email"], "ada@example.com");

    let anonymous = app.send("GET", "/v1/me", None, None).await;
    anonymous.problem(401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let forged = app
        .send(
            "GET",
            "/v1/me",
            Some("stk_sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None,
        )
        .await;
    forged.problem(401);
    assert_eq!(forged.header("www-authenticate"), Some("Bearer"));

    assert_eq!(
        app.send("POST", "/v1/auth/logout", Some(token), None)
            .await
            .status,
        204
    );
    app.send("GET", "/v1/me", Some(token), None)
        .await
        .problem(401);
    app.send("POST", "/v1/auth/logout", Some(token), None)
        .await
        .problem(401);
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_as_bearer_tokens_and_can_be_deleted() {
    let app = App::new().await;
    let session = app.user("ada@example.com").await;
    let created = app
        .send(
            "POST",
            "/v1/me/tokens",
            Some(&session),
            Some(json!({"name": "backup"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("stk_api_"), "{token}");
    let id = created["id"].as_str().unwrap().to_owned();

    let listed = app
        .send("GET", "/v1/me/tokens", Some(&session), None)
        .await
        .json();
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1);
    assert_eq!(listed["tokens"][0]["name"], "backup");
    assert!(
        listed["tokens"][0].get("token").is_none(),
        "shown only once"
    );
    assert!(!listed.to_string().contains(&token));

    let me = app.send("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], "ada@example.com");

    // A session is not an API token: it is not listed and not deleted here.
    app.send("DELETE", "/v1/me/tokens/nonexistent", Some(&session), None)
        .await
        .problem(404);
    assert_eq!(
        app.send(
            "DELETE",
            &format!("/v1/me/tokens/{id}"),
            Some(&session),
            None
        )
        .await
        .status,
        204
    );
    app.send("GET", "/v1/me", Some(&token), None)
        .await
        .problem(401);
    app.send(
        "DELETE",
        &format!("/v1/me/tokens/{id}"),
        Some(&session),
        None,
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn profile_changes_need_the_current_password_for_email_and_password() {
    let app = App::new().await;
    let session = app.user("ada@example.com").await;
    let other_session = app.login("ada@example.com", PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.register("bob@example.com").await;

    let named = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({"display_name": "Ada L."})),
        )
        .await;
    assert_eq!(named.status, 200, "{}", named.text());
    assert_eq!(named.json()["display_name"], "Ada L.");

    let no_current = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({"email": "ada@new.example"})),
        )
        .await;
    assert!(no_current.problem(403).contains("current_password"));
    let wrong_current = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({"email": "ada@new.example", "current_password": "not my password"})),
        )
        .await;
    assert!(wrong_current.problem(403).contains("current_password"));
    let taken = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({"email": "BOB@example.com", "current_password": PASSWORD})),
        )
        .await;
    assert!(taken.problem(409).contains("email"));

    let changed = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({
                "email": "ada@new.example",
                "password": "a brand new passphrase",
                "current_password": PASSWORD,
            })),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["email"], "ada@new.example");
    // The session that changed the password stays; every other one ends.
    assert_eq!(
        app.send("GET", "/v1/me", Some(&session), None).await.status,
        200
    );
    app.send("GET", "/v1/me", Some(&other_session), None)
        .await
        .problem(401);
    app.login("ada@example.com", PASSWORD).await.problem(401);
    app.login("ada@new.example", PASSWORD).await.problem(401);
    assert_eq!(
        app.login("ada@new.example", "a brand new passphrase")
            .await
            .status,
        200
    );
    let cleared = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({"display_name": null})),
        )
        .await;
    assert_eq!(cleared.json()["display_name"], Value::Null);
}

#[tokio::test]
async fn the_watchlist_is_per_user_and_watched_symbols_are_tracked() {
    let app = App::new().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let added = app
        .send("PUT", "/v1/me/watchlist/msft", Some(&ada), None)
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    assert_eq!(added.json()["symbol"], "MSFT");
    assert_eq!(
        app.send("PUT", "/v1/me/watchlist/MSFT", Some(&ada), None)
            .await
            .status,
        200
    );
    app.send("PUT", "/v1/me/watchlist/bad$symbol", Some(&ada), None)
        .await
        .problem(400);
    app.send("PUT", "/v1/me/watchlist/IBM", None, None)
        .await
        .problem(401);

    let list = app
        .send("GET", "/v1/me/watchlist", Some(&ada), None)
        .await
        .json();
    assert_eq!(list["symbols"][0]["symbol"], "MSFT");
    let bobs = app
        .send("GET", "/v1/me/watchlist", Some(&bob), None)
        .await
        .json();
    assert_eq!(bobs["symbols"], json!([]), "Bob sees only his own list");
    app.send("DELETE", "/v1/me/watchlist/MSFT", Some(&bob), None)
        .await
        .problem(404);

    let tracked = app.send("GET", "/v1/symbols", None, None).await.json();
    assert_eq!(tracked["symbols"][0]["symbol"], "MSFT", "watched → tracked");

    assert_eq!(
        app.send("DELETE", "/v1/me/watchlist/MSFT", Some(&ada), None)
            .await
            .status,
        204
    );
    app.send("DELETE", "/v1/me/watchlist/MSFT", Some(&ada), None)
        .await
        .problem(404);
    let tracked = app.send("GET", "/v1/symbols", None, None).await.json();
    assert_eq!(tracked["symbols"], json!([]));
}

#[tokio::test]
async fn channels_are_validated_and_webhook_secrets_are_shown_once() {
    let app = App::new().await;
    let ada = app.user("ada@example.com").await;
    let created = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(
                json!({"kind": "webhook", "url": "https://hooks.example.com/x", "format": "slack"}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["format"], "slack");
    let id = created["id"].as_str().unwrap().to_owned();

    let read = app
        .send("GET", &format!("/v1/me/channels/{id}"), Some(&ada), None)
        .await;
    assert_eq!(read.status, 200);
    assert!(read.json().get("secret").is_none());
    assert!(!read.text().contains(&secret));
    let list = app.send("GET", "/v1/me/channels", Some(&ada), None).await;
    assert!(!list.text().contains(&secret));

    // The dispatcher can read the secret back from the store.
    let stored = app
        .store
        .channels(&created_user_id(&app, &ada).await)
        .await
        .unwrap();
    assert!(
        matches!(&stored[0].target, Ok(store::ChannelTarget::Webhook { secret: s, .. }) if secrecy::ExposeSecret::expose_secret(s) == secret)
    );

    let given = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(json!({"kind": "webhook", "url": "http://example.org/h", "secret": "my-own-secret-123456"})),
        )
        .await;
    assert_eq!(given.status, 201);
    assert_eq!(given.json()["format"], "generic");
    let email = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(json!({"kind": "email", "address": "Ada@Example.com"})),
        )
        .await;
    assert_eq!(email.status, 201);
    assert_eq!(email.json()["address"], "ada@example.com");
    let sms = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(json!({"kind": "sms", "phone": "+15551234567"})),
        )
        .await;
    assert_eq!(sms.status, 201);

    for (body, field) in [
        (
            json!({"kind": "webhook", "url": "ftp://example.com/x"}),
            "url",
        ),
        (json!({"kind": "webhook", "url": "not a url"}), "url"),
        (
            json!({"kind": "webhook", "url": "https://user:pw@example.com/"}),
            "url",
        ),
        // The SSRF policy: loopback, private and metadata destinations are refused.
        (
            json!({"kind": "webhook", "url": "http://127.0.0.1:9000/h"}),
            "url",
        ),
        (
            json!({"kind": "webhook", "url": "http://localhost:9000/h"}),
            "url",
        ),
        (
            json!({"kind": "webhook", "url": "http://10.1.2.3/h"}),
            "url",
        ),
        (
            json!({"kind": "webhook", "url": "http://169.254.169.254/latest"}),
            "url",
        ),
        (json!({"kind": "webhook", "url": "http://[::1]/h"}), "url"),
        (
            json!({"kind": "webhook", "url": "https://example.com/", "format": "teams"}),
            "format",
        ),
        (
            json!({"kind": "webhook", "url": "https://example.com/", "secret": "short"}),
            "secret",
        ),
        (json!({"kind": "email", "address": "nobody"}), "address"),
        (json!({"kind": "sms", "phone": "5551234567"}), "phone"),
        (json!({"kind": "sms", "phone": "+1555abc4567"}), "phone"),
        (json!({"kind": "pigeon"}), "kind"),
    ] {
        let response = app
            .send("POST", "/v1/me/channels", Some(&ada), Some(body.clone()))
            .await;
        let detail = response.problem(422);
        assert!(detail.contains(field), "{body}: {detail}");
    }

    // Replacing keeps the secret when none is given, and does not show it.
    let replaced = app
        .send(
            "PUT",
            &format!("/v1/me/channels/{id}"),
            Some(&ada),
            Some(json!({"kind": "webhook", "url": "https://hooks.example.com/y"})),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(replaced.json()["url"], "https://hooks.example.com/y");
    assert!(replaced.json().get("secret").is_none());
    assert_eq!(
        app.send("DELETE", &format!("/v1/me/channels/{id}"), Some(&ada), None)
            .await
            .status,
        204
    );
    app.send("GET", &format!("/v1/me/channels/{id}"), Some(&ada), None)
        .await
        .problem(404);
}

pub(crate) async fn created_user_id(app: &App, token: &str) -> String {
    app.send("GET", "/v1/me", Some(token), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn another_users_resources_answer_404_and_are_left_alone() {
    let app = App::new().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let channel = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(json!({"kind": "email", "address": "ada@example.com"})),
        )
        .await
        .json();
    let channel_id = channel["id"].as_str().unwrap();
    let token = app
        .send("POST", "/v1/me/tokens", Some(&ada), Some(json!({})))
        .await
        .json();
    let token_id = token["id"].as_str().unwrap();
    app.send("PUT", "/v1/me/watchlist/IBM", Some(&ada), None)
        .await;

    let uri = format!("/v1/me/channels/{channel_id}");
    app.send("GET", &uri, Some(&bob), None).await.problem(404);
    app.send(
        "PUT",
        &uri,
        Some(&bob),
        Some(json!({"kind": "email", "address": "bob@example.com"})),
    )
    .await
    .problem(404);
    app.send("DELETE", &uri, Some(&bob), None)
        .await
        .problem(404);
    let bobs = app
        .send("GET", "/v1/me/channels", Some(&bob), None)
        .await
        .json();
    assert_eq!(bobs["channels"], json!([]));
    app.send(
        "DELETE",
        &format!("/v1/me/tokens/{token_id}"),
        Some(&bob),
        None,
    )
    .await
    .problem(404);
    let bobs = app
        .send("GET", "/v1/me/tokens", Some(&bob), None)
        .await
        .json();
    assert_eq!(bobs["tokens"], json!([]));
    app.send("DELETE", "/v1/me/watchlist/IBM", Some(&bob), None)
        .await
        .problem(404);

    // Ada's are intact.
    let read = app.send("GET", &uri, Some(&ada), None).await;
    assert_eq!(read.json()["address"], "ada@example.com");
    let api = token["token"].as_str().unwrap();
    assert_eq!(app.send("GET", "/v1/me", Some(api), None).await.status, 200);
    let watch = app
        .send("GET", "/v1/me/watchlist", Some(&ada), None)
        .await
        .json();
    assert_eq!(watch["symbols"][0]["symbol"], "IBM");
}

#[tokio::test]
async fn deleting_the_account_removes_its_data() {
    let app = App::new().await;
    let ada = app.user("ada@example.com").await;
    let api = app
        .send("POST", "/v1/me/tokens", Some(&ada), Some(json!({})))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send("PUT", "/v1/me/watchlist/GOOG", Some(&ada), None)
        .await;
    let id = created_user_id(&app, &ada).await;
    app.send(
        "POST",
        "/v1/me/channels",
        Some(&ada),
        Some(json!({"kind": "sms", "phone": "+15551234567"})),
    )
    .await;

    assert_eq!(
        app.send("DELETE", "/v1/me", Some(&ada), None).await.status,
        204
    );
    app.send("GET", "/v1/me", Some(&ada), None)
        .await
        .problem(401);
    app.send("GET", "/v1/me", Some(&api), None)
        .await
        .problem(401);
    app.login("ada@example.com", PASSWORD).await.problem(401);
    assert!(app.store.channels(&id).await.unwrap().is_empty());
    assert!(app.store.watchlist(&id).await.unwrap().is_empty());
    let tracked = app.send("GET", "/v1/symbols", None, None).await.json();
    assert_eq!(tracked["symbols"], json!([]));
    // The email can register again.
    app.register("ada@example.com").await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_account_and_address_and_per_address() {
    let limits = LoginLimits {
        per_account_address: 3,
        per_address: 5,
        ..LoginLimits::default()
    };
    let app = App::with(limits, web::features::Features::default()).await;
    app.register("ada@example.com").await;
    app.register("bob@example.com").await;
    for _ in 0..3 {
        app.login("ada@example.com", "wrong password!")
            .await
            .problem(401);
    }
    // Ada's account is locked at this address, even for the right password.
    let limited = app.login("ada@example.com", PASSWORD).await;
    limited.problem(429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Another address is not: these failures are not the owner's.
    let elsewhere = app
        .send_from(
            "198.51.100.1:1",
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "ADA@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.text());

    // Bob is not locked by Ada's failures until the address has spent its five.
    for _ in 0..2 {
        app.login("bob@example.com", "wrong password!")
            .await
            .problem(401);
    }
    app.login("bob@example.com", PASSWORD).await.problem(429);
    app.login("carol@example.com", "whatever it is")
        .await
        .problem(429);
    let bob_elsewhere = app
        .send_from(
            "198.51.100.1:1",
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "bob@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(bob_elsewhere.status, 200, "{}", bob_elsewhere.text());
}

#[tokio::test]
async fn admin_users_may_change_tracked_symbols_and_others_may_not() {
    let app = App::new().await;
    let hash = PasswordHasher::fast_for_tests()
        .hash(PASSWORD.to_owned())
        .await
        .unwrap();
    app.store
        .create_user(
            &NewUser {
                email: "root@example.com".into(),
                display_name: None,
                password_hash: hash,
                is_admin: true,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .unwrap();
    let admin = app.login("root@example.com", PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = app.user("ada@example.com").await;
    app.send("PUT", "/v1/symbols/IBM", Some(&user), None)
        .await
        .problem(403);
    let tracked = app.send("PUT", "/v1/symbols/IBM", Some(&admin), None).await;
    assert_eq!(tracked.status, 201, "{}", tracked.text());
    assert_eq!(
        app.send("DELETE", "/v1/symbols/IBM", Some(&admin), None)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn the_accounts_flag_switches_every_route_off() {
    let features = web::features::Features::from_settings(&std::collections::BTreeMap::from([(
        "accounts".to_owned(),
        false,
    )]))
    .unwrap();
    let app = App::with(LoginLimits::default(), features).await;
    for (method, uri) in [
        ("POST", "/v1/auth/register"),
        ("POST", "/v1/auth/login"),
        ("GET", "/v1/me"),
        ("DELETE", "/v1/me/channels/x"),
        ("PUT", "/v1/me/watchlist/MSFT"),
    ] {
        let response = app.send(method, uri, None, Some(json!({}))).await;
        response.problem(404);
        assert_eq!(
            response.json()["type"],
            "urn:stockd:problem:feature-disabled",
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_routes_and_the_bearer_scheme() {
    let app = App::new().await;
    let doc = app.send("GET", "/openapi.json", None, None).await.json();
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    for path in [
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/me/tokens",
        "/v1/me/tokens/{id}",
        "/v1/me/watchlist",
        "/v1/me/watchlist/{symbol}",
        "/v1/me/channels",
        "/v1/me/channels/{id}",
        "/v1/me/channels/{id}/test",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}

#[tokio::test]
async fn the_operators_allow_list_admits_private_webhook_destinations() {
    let settings = AuthSettings {
        webhook_allow: "10.0.0.0/8,localhost".parse().unwrap(),
        ..AuthSettings::default()
    };
    let app = App::with_settings(settings, web::features::Features::default()).await;
    let ada = app.user("ada@example.com").await;
    for url in ["http://10.1.2.3/h", "http://localhost:9000/h"] {
        let created = app
            .send(
                "POST",
                "/v1/me/channels",
                Some(&ada),
                Some(json!({"kind": "webhook", "url": url})),
            )
            .await;
        assert_eq!(created.status, 201, "{url}: {}", created.text());
    }
    let refused = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(json!({"kind": "webhook", "url": "http://192.168.1.1/h"})),
        )
        .await;
    assert!(refused.problem(422).starts_with("url"));
}

#[tokio::test]
async fn a_body_not_sent_as_json_answers_415_and_one_not_an_object_422() {
    let app = App::new().await;
    let plain = Request::post("/v1/auth/login")
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"email":"ada@example.com","password":"x"}"#))
        .unwrap();
    let detail = app.request_from("192.0.2.1:4000", plain).await.problem(415);
    assert!(
        detail.contains("Content-Type: application/json"),
        "{detail}"
    );
    let bare = Request::post("/v1/auth/register")
        .body(Body::empty())
        .unwrap();
    app.request_from("192.0.2.1:4000", bare).await.problem(415);

    // serde reads a struct from an array of its fields: refused before it can.
    let token = app.user("ada@example.com").await;
    let array = app
        .send("POST", "/v1/me/tokens", Some(&token), Some(json!([null])))
        .await;
    let detail = array.problem(422);
    assert!(detail.contains("JSON object"), "{detail}");
    let unknown = app
        .send(
            "POST",
            "/v1/me/tokens",
            Some(&token),
            Some(json!({"nmae": "typo"})),
        )
        .await
        .problem(422);
    assert!(unknown.contains("unknown field `nmae`"), "{unknown}");
}
