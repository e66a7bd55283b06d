//! Turning Finnhub's HTTP refusals into [`ProviderError`]s.
//!
//! Finnhub refuses with real status codes and a JSON body `{"error": "…"}`:
//!
//! | status | body (example)                                      | error          |
//! |--------|-----------------------------------------------------|----------------|
//! | 429    | "API limit reached. Please try again later. …"      | `RateLimited`  |
//! | 403    | "You don't have access to this resource."           | `PremiumOnly`  |
//! | 401    | "Invalid API key" (or any text)                     | `Unauthorized` |
//! | other non-2xx (5xx, 404 of a wrong base URL …)       | the text or the status      | `Upstream`     |
//!
//! An unknown symbol is not a refusal: it is a 200 with zeros, handled in `wire.rs`.
//! `retry_after` for 429: the `Retry-After` header when sent, otherwise 60 s, because the free
//! limit is counted per minute (the 30-per-second cap clears sooner, so 60 s is the safe bound).

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use super::NAME;
use crate::ProviderError;
use crate::http::{Answer, quote_upstream};

/// Finnhub's error body.
///
/// ```json
/// {"error": "API limit reached. Please try again later. Remaining Limit: 0"}
/// ```
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
}

/// `Ok` for a 2xx answer, else the error its status and body mean.
pub(super) fn status(answer: &Answer, api_key: &str) -> Result<(), ProviderError> {
    let status = answer.status;
    if status.is_success() {
        return Ok(());
    }
    let detail = serde_json::from_slice::<ErrorBody>(&answer.body)
        .map(|body| quote_upstream(&body.error, api_key))
        .unwrap_or_else(|_| format!("HTTP {status}"));
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => ProviderError::RateLimited {
            provider: NAME,
            limit: crate::RateLimit::named_in(&detail),
            detail,
            retry_after: Some(answer.retry_after.unwrap_or(Duration::from_secs(60))),
        },
        StatusCode::FORBIDDEN => ProviderError::PremiumOnly {
            provider: NAME,
            detail,
        },
        StatusCode::UNAUTHORIZED => ProviderError::Unauthorized {
            provider: NAME,
            detail: format!("{detail} (get a free key at https://finnhub.io/register)"),
        },
        _ => ProviderError::Upstream {
            provider: NAME,
            detail: format!("HTTP {status}: {detail}"),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn answer(status: u16, body: &str, retry_after: Option<u64>) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_retry_after_header_wins_over_the_one_minute_default() {
        let error = status(
            &answer(429, r#"{"error":"API limit reached."}"#, Some(7)),
            "K",
        );
        assert!(
            matches!(error, Err(ProviderError::RateLimited { retry_after: Some(d), .. }) if d.as_secs() == 7)
        );
        let error = status(&answer(429, "", None), "K");
        assert!(
            matches!(error, Err(ProviderError::RateLimited { retry_after: Some(d), .. }) if d.as_secs() == 60)
        );
    }

    #[test]
    fn an_error_text_echoing_the_key_is_scrubbed() {
        let error = status(
            &answer(401, r#"{"error":"Invalid API key KEY-1"}"#, None),
            "KEY-1",
        )
        .unwrap_err();
        assert!(!error.to_string().contains("KEY-1"), "{error}");
    }
}
