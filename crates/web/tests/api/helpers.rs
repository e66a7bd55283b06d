//! `TestApp`: a stockd router over a chosen provider and a fresh SQLite store, spoken to in
//! the domain's words.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use market::{BreakerConfig, Market, MarketConfig, RetryConfig};
use providers::MarketData;
use providers::alphavantage::{AlphaVantage, AlphaVantageConfig};
use providers::sample::Sample;
use serde_json::Value;
use store::SqliteStore;
use tower::ServiceExt;
use web::{AppState, Defaults, WebConfig};

/// The distinctive key every Alpha Vantage test uses, so leaks are easy to find.
pub const API_KEY: &str = "SECRET-KEY-9f8e7d";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// The store behind the app, for tests that arrange rows directly.
    pub store: Arc<dyn store::Store>,
    _dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body is not JSON ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json body with this status and returns its `detail`.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:stockd:problem:")
        );
        assert!(body["title"].is_string());
        body["detail"].as_str().unwrap().to_owned()
    }
}

/// Read-path settings for tests: no retries (deterministic call counts) unless a test asks.
pub fn market_config() -> MarketConfig {
    MarketConfig {
        cache_ttl: Duration::from_secs(300),
        quote_ttl: Duration::from_secs(60),
        stale_retry: Duration::from_secs(10),
        cache_max_bars: 100_000,
        breaker: BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(30),
        },
        retry: RetryConfig {
            attempt_timeout: Duration::from_secs(5),
            max_retries: 0,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
        ..MarketConfig::default()
    }
}

impl TestApp {
    pub async fn sample() -> Self {
        Self::with(Arc::new(Sample::new()), market_config()).await
    }

    pub async fn alphavantage(base_url: &str, config: MarketConfig) -> Self {
        Self::with(alphavantage(base_url), config).await
    }

    /// An Alpha Vantage app over a given store: another process (a restart, a replica) on the
    /// same database.
    pub fn alphavantage_over(
        base_url: &str,
        config: MarketConfig,
        store: Arc<dyn store::Store>,
    ) -> Self {
        let web = web_config(
            web::features::Features::default(),
            None,
            web::limits::Limits::default(),
        );
        let dir = tempfile::tempdir().unwrap();
        Self::over(alphavantage(base_url), store, config, web, dir)
    }

    pub async fn with(provider: Arc<dyn MarketData>, config: MarketConfig) -> Self {
        Self::with_features(provider, config, web::features::Features::default()).await
    }

    pub async fn with_features(
        provider: Arc<dyn MarketData>,
        config: MarketConfig,
        features: web::features::Features,
    ) -> Self {
        Self::with_web(provider, config, features, None).await
    }

    pub async fn with_web(
        provider: Arc<dyn MarketData>,
        config: MarketConfig,
        features: web::features::Features,
        admin_token: Option<&str>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("stockd.db"))
            .await
            .unwrap();
        let web = web_config(features, admin_token, web::limits::Limits::default());
        Self::over(provider, Arc::new(store), config, web, dir)
    }

    /// A sample app with news settings `news` (whether a source is configured, whose scores
    /// count), over a fresh SQLite store.
    pub async fn with_news(news: service::news::NewsSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("stockd.db"))
            .await
            .unwrap();
        let mut web = web_config(
            web::features::Features::default(),
            None,
            web::limits::Limits::default(),
        );
        web.news = news;
        Self::over(
            Arc::new(Sample::new()),
            Arc::new(store),
            market_config(),
            web,
            dir,
        )
    }

    /// An app over the in-memory store (for tests on tokio's paused clock, which SQLite's
    /// worker thread does not follow) with chosen limits.
    pub fn in_memory(
        provider: Arc<dyn MarketData>,
        config: MarketConfig,
        limits: web::limits::Limits,
    ) -> Self {
        let web = web_config(web::features::Features::default(), None, limits);
        let store = Arc::new(store::MemoryStore::new());
        Self::over(provider, store, config, web, tempfile::tempdir().unwrap())
    }

    fn over(
        provider: Arc<dyn MarketData>,
        store: Arc<dyn store::Store>,
        config: MarketConfig,
        web: WebConfig,
        dir: tempfile::TempDir,
    ) -> Self {
        // The recorder first, as `stockd serve` does: metric handles taken before it is
        // installed (the market's cache counters) would record nowhere.
        let metrics = web::observe::install_metrics_recorder();
        let market = Arc::new(Market::new(provider, store.clone(), config));
        let state = AppState::new(store.clone(), market, web, metrics);
        Self {
            router: web::router(state.clone()),
            state,
            store,
            _dir: dir,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        respond(&self.router, request).await
    }

    /// `GET uri` from the client at `peer` (`"203.0.113.7:5000"`), as `serve` would pass it.
    pub async fn get_from(&self, peer: &str, uri: &str) -> TestResponse {
        let mut request = Request::get(uri).body(Body::empty()).unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.request(request).await
    }
}

/// Alpha Vantage at `base_url` with the tests' key.
fn alphavantage(base_url: &str) -> Arc<dyn MarketData> {
    Arc::new(AlphaVantage::new(
        AlphaVantageConfig {
            api_key: API_KEY.to_owned().into(),
            base_url: base_url.to_owned(),
            timeout: Duration::from_millis(300),
        },
        reqwest::Client::new(),
    ))
}

/// The tests' HTTP settings: MSFT over 7 days by default, up to 5000 days.
fn web_config(
    features: web::features::Features,
    admin_token: Option<&str>,
    limits: web::limits::Limits,
) -> WebConfig {
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
    }
}

/// `request` through `router`, with the whole body read.
pub async fn respond(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

/// An Alpha Vantage fixture's text.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../providers/tests/fixtures/alphavantage/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// (date, close text) rows of one ticker, read straight from the bundled CSV, oldest first.
pub fn csv_closes(ticker: &str) -> Vec<(String, String)> {
    let path = format!(
        "{}/../providers/data/stocks.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            (cols[0] == ticker).then(|| (cols[1].to_owned(), cols[5].to_owned()))
        })
        .collect();
    rows.sort();
    rows
}

/// A mock of Alpha Vantage's `TIME_SERIES_DAILY` query, to answer as a test needs.
pub fn av_daily() -> wiremock::MockBuilder {
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/query"))
        .and(wiremock::matchers::query_param(
            "function",
            "TIME_SERIES_DAILY",
        ))
}

/// A 200 answer with `body` as JSON.
pub fn av_json(body: String) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_raw(body, "application/json")
}
