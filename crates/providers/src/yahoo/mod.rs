//! Yahoo Finance v8 chart (unofficial, no key): daily bars and quotes from one endpoint.
//!
//! This module owns the HTTP calls to `GET /v8/finance/chart/{symbol}`, the classification of
//! its answers into [`ProviderError`] (`classify.rs`) and the translation of its columnar JSON
//! into domain types (`wire.rs`). It does not retry, cache or count quota: that is the `market`
//! crate's job.
//!
//! - `daily`: `range=10y&interval=1d&includeAdjustedClose=true`: ten years (~2,500 bars, a few
//!   hundred kB) rather than `max`, which for old listings is decades nobody asks stockd for.
//!   Holidays and halts come as `null` rows and are skipped. During a session the last row is
//!   the day so far.
//! - `quote`: `range=1d&interval=1d`, read from the chart's `meta`: `regularMarketPrice`,
//!   `regularMarketTime` and the previous close (with `range=1d`, `chartPreviousClose` is the
//!   previous session's close).
//!
//! The endpoint is unofficial, has no SLA and throttles hard (HTTP 429 with a plain-text body):
//! a last-resort fallback. It wants a browser-like `User-Agent`. Prices are JSON numbers, read
//! from their literal text (see `json_number.rs`); Yahoo's values are often binary-float
//! artefacts (`185.63999938964844`), which are kept as sent (to the 1e-9 scale of `Price`)
//! rather than guessed back to cents.
//! Reference: shared/reference/providers.md, section 7.

mod classify;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Quote, Series, Symbol};

use crate::http::{self, Call};
use crate::{MarketData, ProviderError};

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "yahoo";

/// Where Yahoo serves the chart API (`https://query2.finance.yahoo.com` works too).
pub const DEFAULT_BASE_URL: &str = "https://query1.finance.yahoo.com";

/// How long one call may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Yahoo refuses or throttles clients that do not look like a browser.
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// How to reach Yahoo Finance. There is no key.
#[derive(Debug, Clone)]
pub struct YahooConfig {
    /// Scheme and host without a path, e.g. [`DEFAULT_BASE_URL`]; tests point it at a mock.
    pub base_url: String,
    /// The limit for one whole call (connect, headers and body).
    pub timeout: Duration,
}

impl Default for YahooConfig {
    /// The public endpoint with the default timeout.
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The Yahoo Finance chart provider.
#[derive(Debug)]
pub struct Yahoo {
    config: YahooConfig,
    client: reqwest::Client,
}

impl Yahoo {
    /// Builds the provider on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: YahooConfig, client: reqwest::Client) -> Self {
        Self { config, client }
    }

    /// GETs the chart of `symbol` over `range` and returns its one result.
    async fn chart(
        &self,
        symbol: Symbol,
        range: &str,
        operation: &'static str,
    ) -> Result<wire::ChartResult, ProviderError> {
        let endpoint = format!(
            "{}/v8/finance/chart/{symbol}",
            self.config.base_url.trim_end_matches('/')
        );
        let query = [
            ("range", range),
            ("interval", "1d"),
            ("includeAdjustedClose", "true"),
        ];
        let request = self
            .client
            .get(endpoint)
            .query(&query)
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation,
            symbol,
            secret: "",
        };
        let answer = http::send(request, call).await?;
        classify::answer(&answer, symbol)
    }
}

#[async_trait]
impl MarketData for Yahoo {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError> {
        let fetched_at = Utc::now();
        let chart = self.chart(symbol, "10y", "daily").await?;
        let bars = wire::bars(chart, symbol)?;
        Ok(Series::new(symbol, bars, NAME, fetched_at))
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let chart = self.chart(symbol, "1d", "quote").await?;
        wire::quote(&chart.meta, symbol, Utc::now())
    }
}
