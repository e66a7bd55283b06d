//! Shared set-up: a mock Finnhub on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use domain::Symbol;
use providers::finnhub::{Finnhub, FinnhubConfig};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

/// A distinctive key, so a leak is easy to spot in any string.
pub const KEY: &str = "FINNHUB-SECRET-456";

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/finnhub/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

pub fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

pub fn provider_at(base_url: &str, timeout: Duration) -> Finnhub {
    let config = FinnhubConfig {
        api_key: KEY.into(),
        base_url: base_url.to_owned(),
        timeout,
    };
    Finnhub::new(config, reqwest::Client::new())
}

/// A mock server (mounted under `/api/v1`, like the real base URL) and a provider using it.
pub async fn start() -> (MockServer, Finnhub) {
    let server = MockServer::start().await;
    let provider = provider_at(&format!("{}/api/v1", server.uri()), Duration::from_secs(5));
    (server, provider)
}

/// Matches a `/quote` call that carries our key in the header.
pub fn quote_call() -> MockBuilder {
    Mock::given(method("GET"))
        .and(path("/api/v1/quote"))
        .and(header("X-Finnhub-Token", KEY))
}

/// An answer with `status` and a fixture as the JSON body.
pub fn body(status: u16, fixture_name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(fixture_name), "application/json")
}

/// Serves `fixture_name` with `status` for every quote call.
pub async fn serve(server: &MockServer, status: u16, fixture_name: &str) {
    quote_call()
        .respond_with(body(status, fixture_name))
        .mount(server)
        .await;
}
