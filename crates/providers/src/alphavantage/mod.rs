//! Alpha Vantage: daily history (`TIME_SERIES_DAILY`) and latest quotes (`GLOBAL_QUOTE`).
//!
//! This module owns the HTTP calls to Alpha Vantage, the classification of its answers into
//! [`ProviderError`] and the translation of its JSON into domain types. It does not retry, cache
//! or count quota: that is the `market` crate's job.
//!
//! Alpha Vantage answers almost every problem (bad symbol, bad key, spent quota, premium-only
//! request) with HTTP 200 and a JSON body naming the problem, so answers are classified by body
//! first and by status only for real HTTP failures; `classify.rs` lists the rules and why.
//!
//! The API key travels in the query string (Alpha Vantage accepts it nowhere else), so it is
//! kept out of every error message, log line and `Debug` output: reqwest errors are stripped of
//! their URL, logged URLs are redacted and upstream text is scrubbed of the key.

mod classify;
mod http;
mod news;
mod wire;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Quote, Series, Symbol};
use secrecy::{ExposeSecret, SecretString};

use crate::{MarketData, ProviderError};

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "alphavantage";

/// Where Alpha Vantage serves its API.
pub const DEFAULT_BASE_URL: &str = "https://www.alphavantage.co";

/// How long one call may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach Alpha Vantage.
#[derive(Debug, Clone)]
pub struct AlphaVantageConfig {
    /// The API key; sent as the `apikey` query parameter and never logged.
    pub api_key: SecretString,
    /// Scheme and host without a path, e.g. [`DEFAULT_BASE_URL`]; tests point it at a mock.
    pub base_url: String,
    /// The limit for one whole call (connect, headers and body).
    pub timeout: Duration,
}

impl AlphaVantageConfig {
    /// A config for the public Alpha Vantage API with the default timeout.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The Alpha Vantage provider.
///
/// `daily` asks for the full history first; free keys are refused `outputsize=full`, so after
/// the first such refusal it remembers that and asks for the latest 100 days (`compact`) only.
pub struct AlphaVantage {
    config: AlphaVantageConfig,
    client: reqwest::Client,
    /// Set once Alpha Vantage has refused `outputsize=full` for this key.
    compact_only: AtomicBool,
}

impl AlphaVantage {
    /// Builds the provider on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: AlphaVantageConfig, client: reqwest::Client) -> Self {
        Self {
            config,
            client,
            compact_only: AtomicBool::new(false),
        }
    }

    async fn daily_with(
        &self,
        symbol: Symbol,
        outputsize: &'static str,
    ) -> Result<Series, ProviderError> {
        let response: wire::DailyResponse = self
            .get(
                "daily",
                "TIME_SERIES_DAILY",
                symbol,
                &[("symbol", symbol.as_str()), ("outputsize", outputsize)],
            )
            .await?;
        self.check_refusal(&response.refusal, symbol)?;
        let rows = response
            .series
            .ok_or_else(|| classify::malformed("no 'Time Series (Daily)' object"))?;
        if rows.is_empty() {
            return Err(ProviderError::NoData {
                provider: NAME,
                symbol,
            });
        }
        let row_count = rows.len();
        let bars = wire::bars(rows, symbol);
        if bars.is_empty() {
            return Err(ProviderError::Upstream {
                provider: NAME,
                detail: format!("none of the {row_count} daily rows for {symbol} is a valid bar"),
            });
        }
        Ok(Series::new(symbol, bars, NAME, Utc::now()))
    }

    fn check_refusal(&self, refusal: &wire::Refusal, symbol: Symbol) -> Result<(), ProviderError> {
        let key = self.config.api_key.expose_secret();
        classify::refusal(refusal, symbol, key).map_or(Ok(()), Err)
    }
}

#[async_trait]
impl MarketData for AlphaVantage {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError> {
        if self.compact_only.load(Ordering::Relaxed) {
            return self.daily_with(symbol, "compact").await;
        }
        match self.daily_with(symbol, "full").await {
            Err(ProviderError::PremiumOnly { .. }) => {
                // A free key: remember it, so later calls spend one request instead of two.
                self.compact_only.store(true, Ordering::Relaxed);
                tracing::info!(
                    provider = NAME,
                    %symbol,
                    "outputsize=full needs a premium key; using compact (latest 100 days) from now on"
                );
                self.daily_with(symbol, "compact").await
            }
            other => other,
        }
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let response: wire::QuoteResponse = self
            .get(
                "quote",
                "GLOBAL_QUOTE",
                symbol,
                &[("symbol", symbol.as_str())],
            )
            .await?;
        self.check_refusal(&response.refusal, symbol)?;
        let fields = response
            .quote
            .ok_or_else(|| classify::malformed("no 'Global Quote' object"))?;
        if fields.is_empty() {
            return Err(classify::unknown_symbol(symbol));
        }
        wire::quote(&fields, symbol, Utc::now())
    }
}

impl fmt::Debug for AlphaVantage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlphaVantage")
            .field("base_url", &self.config.base_url)
            .field("timeout", &self.config.timeout)
            .field("api_key", &"[REDACTED]")
            .field("compact_only", &self.compact_only.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
