//! Polygon.io (rebranded Massive): daily aggregates and the previous session's close.
//!
//! This module owns the HTTP calls to Polygon, the classification of its answers into
//! [`ProviderError`] (`classify.rs`) and the translation of its JSON into domain types
//! (`wire.rs`). It does not retry, cache or count quota: that is the `market` crate's job.
//!
//! - `daily`: `GET /v2/aggs/ticker/{symbol}/range/1/day/{from}/{to}?adjusted=false&sort=asc&limit=50000`
//!   for the last [`HISTORY_DAYS`] days (the free plan's depth), unadjusted as every stockd bar
//!   is. One call covers the whole window (about 500 bars, far under `limit`), so `next_url`
//!   pagination is not followed.
//! - `quote`: `GET /v2/aggs/ticker/{symbol}/prev`, the **previous session's** daily bar: its
//!   close is the price, its day the trading day. It is not a real-time quote (Polygon's
//!   snapshot endpoints are paid), and there is no previous close to compare it with.
//!
//! The key travels in the `Authorization: Bearer` header, which Polygon accepts as well as
//! `?apiKey=`, so it is never in a URL, a log line or a reqwest error. Prices are JSON numbers,
//! read from their literal text (see `json_number.rs`). Bar timestamps are UNIX milliseconds of
//! 00:00 America/New_York; the trading day is their New York date (`domain::new_york`, DST-aware).
//! Reference: <https://polygon.io/docs/stocks/get_v2_aggs_ticker__stocksticker__range__multiplier___timespan___from___to>.

mod classify;
mod news;
mod wire;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{Days, NaiveDate, Utc};
use domain::{Quote, Series, Symbol, new_york};
use secrecy::{ExposeSecret, SecretString};

use crate::http::{self, Call};
use crate::{MarketData, ProviderError};

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "polygon";

/// Where Polygon serves its API (`https://api.massive.com` serves the same).
pub const DEFAULT_BASE_URL: &str = "https://api.polygon.io";

/// How long one call may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many calendar days of history `daily` asks for: the free (Basic) plan's depth.
pub const HISTORY_DAYS: u64 = 730;

/// How to reach Polygon.
#[derive(Debug, Clone)]
pub struct PolygonConfig {
    /// The API key; sent as `Authorization: Bearer` and never logged.
    pub api_key: SecretString,
    /// Scheme and host without a path, e.g. [`DEFAULT_BASE_URL`]; tests point it at a mock.
    pub base_url: String,
    /// The limit for one whole call (connect, headers and body).
    pub timeout: Duration,
}

impl PolygonConfig {
    /// A config for the public Polygon API with the default timeout.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The Polygon provider.
pub struct Polygon {
    config: PolygonConfig,
    client: reqwest::Client,
}

impl Polygon {
    /// Builds the provider on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: PolygonConfig, client: reqwest::Client) -> Self {
        Self { config, client }
    }

    /// GETs `path` (after the base URL) with `query` and decodes Polygon's body as `T`.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        operation: &'static str,
        symbol: Symbol,
    ) -> Result<T, ProviderError> {
        let key = self.config.api_key.expose_secret();
        let endpoint = format!("{}{path}", self.config.base_url.trim_end_matches('/'));
        let request = self
            .client
            .get(endpoint)
            .query(query)
            .bearer_auth(key)
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation,
            symbol,
            secret: key,
        };
        let answer = http::send(request, call).await?;
        classify::answer(&answer, key)
    }
}

/// The `{from}/{to}` dates of the daily window ending on `today`.
fn window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = today
        .checked_sub_days(Days::new(HISTORY_DAYS))
        .unwrap_or(today);
    (from, today)
}

#[async_trait]
impl MarketData for Polygon {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError> {
        let now = Utc::now();
        let (from, to) = window(new_york::date_of(now));
        let path = format!("/v2/aggs/ticker/{symbol}/range/1/day/{from}/{to}");
        let query = [("adjusted", "false"), ("sort", "asc"), ("limit", "50000")];
        let body: wire::AggsResponse = self.get(&path, &query, "daily", symbol).await?;
        let bars = wire::bars(body, symbol)?;
        Ok(Series::new(symbol, bars, NAME, now))
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let path = format!("/v2/aggs/ticker/{symbol}/prev");
        let body: wire::AggsResponse = self
            .get(&path, &[("adjusted", "false")], "quote", symbol)
            .await?;
        wire::previous_close(body, symbol, Utc::now())
    }
}

impl fmt::Debug for Polygon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Polygon")
            .field("base_url", &self.config.base_url)
            .field("timeout", &self.config.timeout)
            .field("api_key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_window_spans_the_free_plans_two_years() {
        let (from, to) = window("2023-06-01".parse().unwrap());
        assert_eq!(from.to_string(), "2021-06-01");
        assert_eq!(to.to_string(), "2023-06-01");
    }
}
