//! Shared set-up: a mock Finnhub on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use providers::finnhub::{Finnhub, FinnhubConfig};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::common;
pub use crate::common::symbol;

/// A distinctive key, so a leak is easy to spot in any string.
pub const KEY: &str = "FINNHUB-SECRET-456";

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
    common::start(|uri| provider_at(&format!("{uri}/api/v1"), common::PATIENT)).await
}

/// Matches a `/quote` call that carries our key in the header.
pub fn quote_call() -> MockBuilder {
    Mock::given(method("GET"))
        .and(path("/api/v1/quote"))
        .and(header("X-Finnhub-Token", KEY))
}

/// An answer with `status` and a fixture as the JSON body.
pub fn body(status: u16, fixture_name: &str) -> ResponseTemplate {
    common::json_fixture(status, "finnhub", fixture_name)
}

/// Serves `fixture_name` with `status` for every quote call.
pub async fn serve(server: &MockServer, status: u16, fixture_name: &str) {
    quote_call()
        .respond_with(body(status, fixture_name))
        .mount(server)
        .await;
}
