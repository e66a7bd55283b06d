//! Every news source against an in-process mock server answering its documented bodies,
//! refusals included: success shapes, rate limits, bad keys, empty results, malformed bodies
//! and HTML in summaries. Nothing here touches the internet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod alphavantage;
mod finnhub;
mod newsapi;
mod polygon;
mod rss;

use chrono::{DateTime, Utc};
use providers::ProviderError;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The key every keyed test source is given; no error may show it.
pub const KEY: &str = "NEWS-SECRET-KEY-123";

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A server answering every request with `status` and `body` (JSON).
pub async fn answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json"),
        )
        .mount(&server)
        .await;
    server
}

/// Checks that neither the error's text nor its `Debug` shows the key.
pub fn assert_keyless(error: &ProviderError) {
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(!format!("{error:?}").contains(KEY), "{error:?}");
}

/// True for the classification of a body that is not what the source expects.
pub fn is_malformed(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Upstream { detail, .. } if detail.starts_with("malformed response"))
}
