//! How a provider call can fail, and what each failure means for the caller.

use std::time::Duration;

use domain::Symbol;

/// A classified provider failure. Messages never contain API keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider does not know the symbol. `detail` says what to do instead.
    #[error("unknown symbol {symbol}: {detail}")]
    UnknownSymbol { symbol: Symbol, detail: String },
    /// The provider knows the symbol but returned no bars.
    #[error("{provider} returned no data for {symbol}")]
    NoData {
        provider: &'static str,
        symbol: Symbol,
    },
    /// The provider's rate limit or daily quota is spent.
    #[error("{provider} rate limit reached: {detail}")]
    RateLimited {
        provider: &'static str,
        detail: String,
        /// How long until the provider takes calls again, when it says (or documents) so.
        retry_after: Option<Duration>,
        /// Which of its limits the provider says is reached.
        limit: RateLimit,
    },
    /// The request needs a paid plan.
    #[error("{provider} requires a premium plan for this request: {detail}")]
    PremiumOnly {
        provider: &'static str,
        detail: String,
    },
    /// The provider rejected our credentials (missing, invalid or disabled key).
    #[error("{provider} rejected the API key: {detail}")]
    Unauthorized {
        provider: &'static str,
        detail: String,
    },
    /// The provider has no way to answer this kind of request at all (e.g. Finnhub's daily
    /// candles on current plans). A property of the provider, not of the symbol or its health:
    /// never retried, never counted against the breaker; a router should ask another provider.
    #[error("{provider} cannot serve {capability}")]
    NotSupported {
        provider: &'static str,
        /// What was asked for, in words (`"daily history"`).
        capability: &'static str,
    },
    /// The call did not finish in time.
    #[error("{provider} did not answer in time")]
    Timeout { provider: &'static str },
    /// Anything else that is the provider's fault: 5xx, connection errors, malformed bodies.
    #[error("{provider} failed: {detail}")]
    Upstream {
        provider: &'static str,
        detail: String,
    },
}

/// Which of a provider's own limits a rate-limit answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimit {
    /// Requests per second (bursts).
    PerSecond,
    /// Requests per minute.
    PerMinute,
    /// Requests per day (Alpha Vantage's free 25).
    PerDay,
    /// The answer does not say which (a bare HTTP 429).
    Unstated,
}

impl RateLimit {
    /// The limit a provider's own wording names ("25 requests per day", "5 calls per minute"),
    /// the longest first: a text naming both a minute and a day limit is refused for the day.
    pub fn named_in(text: &str) -> Self {
        let lower = text.to_lowercase();
        if lower.contains("per day") {
            Self::PerDay
        } else if lower.contains("per minute") {
            Self::PerMinute
        } else if lower.contains("per second") {
            Self::PerSecond
        } else {
            Self::Unstated
        }
    }
}

impl ProviderError {
    /// Worth trying again after a backoff (transient trouble, not a definite answer).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Upstream { .. })
    }

    /// Counts against the provider's circuit breaker. Answers about the request itself (unknown
    /// symbol, no data), quota exhaustion and unsupported requests are not the provider being
    /// unhealthy.
    pub fn is_provider_failure(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Upstream { .. } | Self::Unauthorized { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_request_is_neither_retried_nor_a_provider_failure() {
        let error = ProviderError::NotSupported {
            provider: "finnhub",
            capability: "daily history",
        };
        assert!(!error.is_retryable());
        assert!(!error.is_provider_failure());
        assert_eq!(error.to_string(), "finnhub cannot serve daily history");
    }
}
