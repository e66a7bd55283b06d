//! One HTTP round trip for every HTTP provider: send with the per-request timeout, read the
//! whole body, log the call, and classify transport failures.
//!
//! Status codes are not judged here: each provider sends its refusals differently (Yahoo's 429
//! is plain text, Polygon sometimes refuses with 200, Alpha Vantage refuses inside a 200 body),
//! so the caller classifies `status` and `body` itself. Finnhub and Polygon send their keys in
//! headers; Alpha Vantage accepts its key only in the query string, so every logged URL passes
//! through [`redact_url`], reqwest errors lose their URL, and every upstream text passes through
//! [`scrub`], in case a proxy or upstream echoes a key back.

use std::time::Instant;

use domain::Symbol;
use reqwest::Url;

use crate::ProviderError;

/// Query parameters that carry keys at some provider; redacted from logged URLs.
const KEY_PARAMETERS: [&str; 3] = ["apikey", "token", "api_key"];

pub(crate) use upstream::Answer;

/// Who is calling what, for logs and errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub provider: &'static str,
    pub operation: &'static str,
    pub symbol: Symbol,
    /// The key to scrub from any text (empty for keyless providers).
    pub secret: &'a str,
}

/// Builds and sends `request` (which must carry its timeout) and reads the answer.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    call: Call<'_>,
) -> Result<Answer, ProviderError> {
    let Call {
        provider,
        operation,
        symbol,
        secret,
    } = call;
    let (client, request) = request.build_split();
    let request = request.map_err(|error| transport(provider, error, secret))?;
    let url = redact_url(request.url());
    let started = Instant::now();
    let result = upstream::exchange(&client, request).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(answer) => {
            tracing::debug!(
                provider,
                operation,
                %symbol,
                %url,
                status = answer.status.as_u16(),
                latency_ms,
                bytes = answer.body.len(),
                "upstream call finished"
            );
            Ok(answer)
        }
        Err(error) => {
            let error = transport(provider, error, secret);
            tracing::debug!(provider, operation, %symbol, %url, latency_ms, %error, "upstream call failed");
            Err(error)
        }
    }
}

/// The error for a failed HTTP exchange (connect, timeout, body read), without the URL.
fn transport(provider: &'static str, error: reqwest::Error, secret: &str) -> ProviderError {
    let failure = upstream::transport_failure(error, secret);
    if failure.timed_out {
        return ProviderError::Timeout { provider };
    }
    ProviderError::Upstream {
        provider,
        detail: failure.detail,
    }
}

/// The error for a body that is not what we expect.
pub(crate) fn malformed(provider: &'static str, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::Upstream {
        provider,
        detail: format!("malformed response: {what}"),
    }
}

pub(crate) use upstream::quote as quote_upstream;

/// `url` as text with the value of every key-like query parameter replaced by `REDACTED`.
pub(crate) fn redact_url(url: &Url) -> String {
    if url.query().is_none() {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let secret = KEY_PARAMETERS
                .iter()
                .any(|key| name.eq_ignore_ascii_case(key));
            let value = if secret {
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

    #[test]
    fn key_like_query_parameters_are_redacted_and_others_kept() {
        let url =
            Url::parse("https://x.test/quote?symbol=IBM&token=K1&apiKey=K2&api_key=K3").unwrap();
        let text = redact_url(&url);
        assert!(
            !text.contains("K1") && !text.contains("K2") && !text.contains("K3"),
            "{text}"
        );
        assert!(text.contains("symbol=IBM"), "{text}");
    }

    fn redacted(text: &str) -> String {
        redact_url(&Url::parse(text).unwrap())
    }

    #[test]
    fn the_alpha_vantage_key_is_replaced_and_other_parameters_are_kept_in_order() {
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
}
