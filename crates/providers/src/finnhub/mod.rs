//! Finnhub: latest quotes (`GET /quote`). Daily history is not offered (see below).
//!
//! This module owns the HTTP call to Finnhub, the classification of its answers into
//! [`ProviderError`] (`classify.rs`) and the translation of its JSON into a domain [`Quote`]
//! (`wire.rs`). It does not retry, cache or count quota: that is the `market` crate's job.
//!
//! **Daily history: [`ProviderError::NotSupported`].** Finnhub's `/stock/candle` is premium on
//! current plans; a free key gets 403 for every call. Calling it anyway would spend one request
//! of the 60-per-minute budget to learn the same thing each time, and `PremiumOnly` would tell
//! the user to upgrade a plan when the fix is to route daily history elsewhere. `NotSupported`
//! is answered without a request, is never retried, and does not count against the breaker.
//!
//! The API key travels in the `X-Finnhub-Token` header (Finnhub also accepts `?token=`, but a
//! header never ends up in a logged URL or a reqwest error). Prices are JSON numbers, read from
//! their literal text (see `json_number.rs`), never through `f64`.
//! Reference: <https://finnhub.io/docs/api/quote>.

mod classify;
mod news;
mod wire;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Quote, Series, Symbol};
use secrecy::{ExposeSecret, SecretString};

use crate::http::{self, Call};
use crate::{MarketData, ProviderError};

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "finnhub";

/// Where Finnhub serves its REST API (with the `/api/v1` prefix).
pub const DEFAULT_BASE_URL: &str = "https://finnhub.io/api/v1";

/// How long one call may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach Finnhub.
#[derive(Debug, Clone)]
pub struct FinnhubConfig {
    /// The API key; sent as the `X-Finnhub-Token` header and never logged.
    pub api_key: SecretString,
    /// The API root including `/api/v1`, e.g. [`DEFAULT_BASE_URL`]; tests point it at a mock.
    pub base_url: String,
    /// The limit for one whole call (connect, headers and body).
    pub timeout: Duration,
}

impl FinnhubConfig {
    /// A config for the public Finnhub API with the default timeout.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The Finnhub provider: quotes only.
pub struct Finnhub {
    config: FinnhubConfig,
    client: reqwest::Client,
}

impl Finnhub {
    /// Builds the provider on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: FinnhubConfig, client: reqwest::Client) -> Self {
        Self { config, client }
    }
}

#[async_trait]
impl MarketData for Finnhub {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Always [`ProviderError::NotSupported`]: candles are premium on current Finnhub plans.
    async fn daily(&self, _symbol: Symbol) -> Result<Series, ProviderError> {
        Err(ProviderError::NotSupported {
            provider: NAME,
            capability: "daily history",
        })
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let key = self.config.api_key.expose_secret();
        let endpoint = format!("{}/quote", self.config.base_url.trim_end_matches('/'));
        let request = self
            .client
            .get(endpoint)
            .query(&[("symbol", symbol.as_str())])
            .header("X-Finnhub-Token", key)
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation: "quote",
            symbol,
            secret: key,
        };
        let answer = http::send(request, call).await?;
        classify::status(&answer, key)?;
        let body: wire::QuoteResponse =
            serde_json::from_slice(&answer.body).map_err(|error| http::malformed(NAME, error))?;
        wire::quote(body, symbol, Utc::now())
    }
}

impl fmt::Debug for Finnhub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finnhub")
            .field("base_url", &self.config.base_url)
            .field("timeout", &self.config.timeout)
            .field("api_key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}
