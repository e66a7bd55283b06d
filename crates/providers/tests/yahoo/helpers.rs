//! Shared set-up: a mock Yahoo chart API on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use domain::Symbol;
use providers::yahoo::{Yahoo, YahooConfig};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/yahoo/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

pub fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

pub fn provider_at(base_url: &str, timeout: Duration) -> Yahoo {
    let config = YahooConfig {
        base_url: base_url.to_owned(),
        timeout,
    };
    Yahoo::new(config, reqwest::Client::new())
}

/// A mock server and a provider using it with a generous timeout.
pub async fn start() -> (MockServer, Yahoo) {
    let server = MockServer::start().await;
    let provider = provider_at(&server.uri(), Duration::from_secs(5));
    (server, provider)
}

/// Matches a daily-interval chart call for `ticker` over `range`.
pub fn chart_call(ticker: &str, range: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("/v8/finance/chart/{ticker}")))
        .and(query_param("range", range))
        .and(query_param("interval", "1d"))
}

/// An answer with `status` and a fixture as the JSON body.
pub fn body(status: u16, fixture_name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(fixture_name), "application/json")
}
