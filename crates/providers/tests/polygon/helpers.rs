//! Shared set-up: a mock Polygon on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use domain::Symbol;
use providers::polygon::{Polygon, PolygonConfig};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

/// A distinctive key, so a leak is easy to spot in any string.
pub const KEY: &str = "POLYGON-SECRET-789";

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/polygon/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

pub fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

pub fn provider_at(base_url: &str, timeout: Duration) -> Polygon {
    let config = PolygonConfig {
        api_key: KEY.into(),
        base_url: base_url.to_owned(),
        timeout,
    };
    Polygon::new(config, reqwest::Client::new())
}

/// A mock server and a provider using it with a generous timeout.
pub async fn start() -> (MockServer, Polygon) {
    let server = MockServer::start().await;
    let provider = provider_at(&server.uri(), Duration::from_secs(5));
    (server, provider)
}

/// Matches a daily aggregates call for `ticker`, with the bearer key.
pub fn daily_call(ticker: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^/v2/aggs/ticker/{ticker}/range/1/day/\d{{4}}-\d{{2}}-\d{{2}}/\d{{4}}-\d{{2}}-\d{{2}}$"
        )))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
}

/// Matches a previous-close call for `ticker`, with the bearer key.
pub fn prev_call(ticker: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("/v2/aggs/ticker/{ticker}/prev")))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
}

/// An answer with `status` and a fixture as the JSON body.
pub fn body(status: u16, fixture_name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(fixture_name), "application/json")
}
