//! One HTTP round trip to Alpha Vantage: build the query, send it with the per-request timeout,
//! check the status, decode the JSON, and log the call without the API key.

use std::time::Instant;

use domain::Symbol;
use reqwest::{StatusCode, Url};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use super::{AlphaVantage, NAME, classify};
use crate::ProviderError;

impl AlphaVantage {
    /// Calls `function` for `symbol` and decodes the body as `T`.
    ///
    /// Only transport and HTTP-status failures are classified here; refusals inside a 200 body
    /// are the caller's to classify once the body is decoded.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        function: &'static str,
        symbol: Symbol,
        outputsize: Option<&'static str>,
    ) -> Result<T, ProviderError> {
        let key = self.config.api_key.expose_secret();
        let endpoint = format!("{}/query", self.config.base_url.trim_end_matches('/'));
        let mut query = vec![("function", function), ("symbol", symbol.as_str())];
        if let Some(outputsize) = outputsize {
            query.push(("outputsize", outputsize));
        }
        query.push(("apikey", key));
        let request = self
            .client
            .get(endpoint)
            .query(&query)
            .timeout(self.config.timeout)
            .build()
            .map_err(|error| classify::transport(error, key))?;
        let url = redact_url(request.url());

        let started = Instant::now();
        let result = self.exchange(request).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status, body) = match result {
            Ok(answer) => answer,
            Err(error) => {
                let error = classify::transport(error, key);
                tracing::debug!(provider = NAME, function, %symbol, %url, latency_ms, %error, "upstream call failed");
                return Err(error);
            }
        };
        tracing::debug!(
            provider = NAME,
            function,
            %symbol,
            %url,
            status = status.as_u16(),
            latency_ms,
            bytes = body.len(),
            "upstream call finished"
        );
        check_status(status)?;
        serde_json::from_slice(&body).map_err(classify::malformed)
    }

    /// Sends the request and reads the whole body, both under the request's timeout.
    async fn exchange(
        &self,
        request: reqwest::Request,
    ) -> Result<(StatusCode, Vec<u8>), reqwest::Error> {
        let response = self.client.execute(request).await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok((status, body.to_vec()))
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
        })
    } else {
        Err(ProviderError::Upstream {
            provider: NAME,
            detail: format!("HTTP {status}"),
        })
    }
}

/// `url` as text with the value of every `apikey` query parameter replaced by `REDACTED`.
fn redact_url(url: &Url) -> String {
    if url.query().is_none() {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if name.eq_ignore_ascii_case("apikey") {
                "REDACTED".to_owned()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    let mut redacted = url.clone();
    redacted.query_pairs_mut().clear().extend_pairs(pairs);
    redacted.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn redacted(text: &str) -> String {
        redact_url(&Url::parse(text).unwrap())
    }

    #[test]
    fn the_api_key_is_replaced_and_other_parameters_are_kept() {
        assert_eq!(
            redacted(
                "https://www.alphavantage.co/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=SECRET-KEY-123"
            ),
            "https://www.alphavantage.co/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=REDACTED"
        );
    }

    #[test]
    fn the_key_is_redacted_wherever_it_sits_and_whatever_its_case() {
        let text = redacted("http://127.0.0.1:1/query?APIKEY=abc%2Fdef&symbol=TSCO.LON&apikey=x");
        assert!(!text.contains("abc"), "{text}");
        assert!(text.contains("symbol=TSCO.LON"), "{text}");
        assert_eq!(text.matches("REDACTED").count(), 2, "{text}");
    }

    #[test]
    fn urls_without_a_query_are_unchanged() {
        assert_eq!(
            redacted("https://www.alphavantage.co/query"),
            "https://www.alphavantage.co/query"
        );
    }

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
