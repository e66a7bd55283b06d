//! Shared set-up: a mock Polygon on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use providers::polygon::{Polygon, PolygonConfig};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::common;
pub use crate::common::{price, symbol};

/// A distinctive key, so a leak is easy to spot in any string.
pub const KEY: &str = "POLYGON-SECRET-789";

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
    common::start(|uri| provider_at(uri, common::PATIENT)).await
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
    common::json_fixture(status, "polygon", fixture_name)
}
