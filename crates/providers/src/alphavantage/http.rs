//! One HTTP round trip to Alpha Vantage: build the query, send it through the shared
//! [`crate::http::send`] (timeout, logging with the `apikey` redacted, transport errors without
//! the URL), check the status and decode the JSON.

use domain::Symbol;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::{AlphaVantage, NAME, classify};
use crate::ProviderError;
use crate::http::{self, Call};

impl AlphaVantage {
    /// Calls `function` with `query` (its parameters besides `function` and `apikey`) about
    /// `symbol` on behalf of `operation` and decodes the body as `T`.
    ///
    /// Only transport and HTTP-status failures are classified here; refusals inside a 200 body
    /// are the caller's to classify once the body is decoded.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        function: &'static str,
        symbol: Symbol,
        query: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        let key = self.config.api_key.expose_secret();
        let endpoint = format!("{}/query", self.config.base_url.trim_end_matches('/'));
        let mut query = [&[("function", function)], query].concat();
        query.push(("apikey", key));
        let request = self
            .client
            .get(endpoint)
            .query(&query)
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation,
            symbol,
            secret: key,
        };
        // The span names the Alpha Vantage function in the shared call log.
        let answer = http::send(request, call)
            .instrument(tracing::debug_span!("alphavantage", function))
            .await?;
        check_status(answer.status)?;
        serde_json::from_slice(&answer.body).map_err(classify::malformed)
    }
}

/// Alpha Vantage reports its own errors with 200, so any other status is trouble on the way
/// (its front end or a proxy): `Upstream`, except an explicit 429, which is a rate limit.
fn check_status(status: StatusCode) -> Result<(), ProviderError> {
    if status.is_success() {
        Ok(())
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        Err(ProviderError::RateLimited {
            provider: NAME,
            detail: "HTTP 429 Too Many Requests".to_owned(),
            retry_after: None,
            limit: crate::RateLimit::Unstated,
        })
    } else {
        Err(ProviderError::Upstream {
            provider: NAME,
            detail: format!("HTTP {status}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_success_statuses_are_upstream_failures_and_429_is_a_rate_limit() {
        assert!(check_status(StatusCode::OK).is_ok());
        assert!(matches!(
            check_status(StatusCode::BAD_GATEWAY),
            Err(ProviderError::Upstream { detail, .. }) if detail.contains("502")
        ));
        assert!(matches!(
            check_status(StatusCode::NOT_FOUND),
            Err(ProviderError::Upstream { .. })
        ));
        assert!(matches!(
            check_status(StatusCode::TOO_MANY_REQUESTS),
            Err(ProviderError::RateLimited { .. })
        ));
    }
}
