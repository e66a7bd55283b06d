//! Shared set-up: a mock Yahoo chart API on 127.0.0.1 and a provider pointed at it.

use std::time::Duration;

use providers::yahoo::{Yahoo, YahooConfig};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::common;
pub use crate::common::{price, symbol};

pub fn fixture(name: &str) -> String {
    crate::common::fixture("yahoo", name)
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
    common::start(|uri| provider_at(uri, common::PATIENT)).await
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
    common::json_fixture(status, "yahoo", fixture_name)
}
