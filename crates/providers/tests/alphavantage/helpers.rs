//! Shared set-up: a mock Alpha Vantage on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use providers::alphavantage::{AlphaVantage, AlphaVantageConfig};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::common;
pub use crate::common::{price, symbol};

/// A distinctive key, so a leak is easy to spot in any string.
pub const KEY: &str = "SECRET-KEY-123";

pub fn provider_at(base_url: &str, timeout: Duration) -> AlphaVantage {
    let config = AlphaVantageConfig {
        api_key: KEY.into(),
        base_url: base_url.to_owned(),
        timeout,
    };
    AlphaVantage::new(config, reqwest::Client::new())
}

/// A mock server and a provider using it with a generous timeout.
pub async fn start() -> (MockServer, AlphaVantage) {
    common::start(|uri| provider_at(uri, common::PATIENT)).await
}

/// Matches a call of `function` that carries our key.
pub fn call(function: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path("/query"))
        .and(query_param("function", function))
        .and(query_param("apikey", KEY))
}

/// A 200 answer with a fixture as the JSON body, as Alpha Vantage sends even its errors.
pub fn body(fixture_name: &str) -> ResponseTemplate {
    common::json_fixture(200, "alphavantage", fixture_name)
}

/// Serves `fixture_name` for every call of `function`.
pub async fn serve(server: &MockServer, function: &str, fixture_name: &str) {
    call(function)
        .respond_with(body(fixture_name))
        .mount(server)
        .await;
}
