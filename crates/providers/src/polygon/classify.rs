//! Turning Polygon's answers into [`ProviderError`]s.
//!
//! Polygon refuses with real status codes most of the time, but rate limits have also been seen
//! with HTTP 200, so a 200 body's `status` is checked too. Rules, in order:
//!
//! | status | body                                                       | error          |
//! |--------|------------------------------------------------------------|----------------|
//! | 429    | `{"status":"ERROR","error":"You've exceeded the maximum requests per minute…"}` or empty | `RateLimited` |
//! | 401    | `{"status":"ERROR","error":"Unknown API Key"}`              | `Unauthorized` |
//! | 403    | `{"status":"NOT_AUTHORIZED","message":"You are not entitled to this data…"}` | `PremiumOnly` |
//! | other non-2xx (5xx, …)                                             | `Upstream`     |
//! | 200    | `status` `OK` or `DELAYED`                                  | (data)         |
//! | 200    | `status` `ERROR`, text about "maximum requests" / "rate"   | `RateLimited`  |
//! | 200    | `status` `ERROR`, text about the API key                    | `Unauthorized` |
//! | 200    | `status` `NOT_AUTHORIZED`                                   | `PremiumOnly`  |
//! | 200    | anything else, or not JSON                                  | `Upstream`     |
//!
//! `retry_after` for rate limits: the `Retry-After` header when sent, otherwise 60 s (the free
//! plan allows 5 calls per minute).

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::NAME;
use crate::ProviderError;
use crate::http::{Answer, malformed, quote_upstream};

/// The refusal fields of any Polygon body.
///
/// ```json
/// {"status": "ERROR", "request_id": "…", "error": "Unknown API Key"}
/// {"status": "NOT_AUTHORIZED", "request_id": "…", "message": "You are not entitled to this data. …"}
/// ```
#[derive(Debug, Default, Deserialize)]
struct Refusal {
    status: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

impl Refusal {
    /// The upstream's own words, made safe to quote.
    fn text(&self, api_key: &str) -> Option<String> {
        let text = self.error.as_deref().or(self.message.as_deref())?;
        Some(quote_upstream(text, api_key))
    }
}

/// The body of a successful answer decoded as `T`, or the error the answer means.
pub(super) fn answer<T: DeserializeOwned>(
    answer: &Answer,
    api_key: &str,
) -> Result<T, ProviderError> {
    let status = answer.status;
    if !status.is_success() {
        let refusal: Refusal = serde_json::from_slice(&answer.body).unwrap_or_default();
        let detail = refusal
            .text(api_key)
            .unwrap_or_else(|| format!("HTTP {status}"));
        return Err(match status {
            StatusCode::TOO_MANY_REQUESTS => rate_limited(detail, answer.retry_after),
            StatusCode::UNAUTHORIZED => unauthorized(detail),
            StatusCode::FORBIDDEN => premium_only(detail),
            _ => ProviderError::Upstream {
                provider: NAME,
                detail: format!("HTTP {status}: {detail}"),
            },
        });
    }
    let refusal: Refusal =
        serde_json::from_slice(&answer.body).map_err(|error| malformed(NAME, error))?;
    let detail = || refusal.text(api_key).unwrap_or_default();
    match refusal.status.as_deref() {
        Some("OK" | "DELAYED") => {
            serde_json::from_slice(&answer.body).map_err(|error| malformed(NAME, error))
        }
        Some("NOT_AUTHORIZED") => Err(premium_only(detail())),
        Some("ERROR") => {
            let text = detail();
            let lower = text.to_lowercase();
            if lower.contains("maximum requests") || lower.contains("rate limit") {
                Err(rate_limited(text, answer.retry_after))
            } else if lower.contains("api key") || lower.contains("apikey") {
                Err(unauthorized(text))
            } else {
                Err(ProviderError::Upstream {
                    provider: NAME,
                    detail: text,
                })
            }
        }
        other => Err(malformed(NAME, format_args!("unexpected status {other:?}"))),
    }
}

fn rate_limited(detail: String, retry_after: Option<Duration>) -> ProviderError {
    ProviderError::RateLimited {
        provider: NAME,
        limit: crate::RateLimit::named_in(&detail),
        detail,
        retry_after: Some(retry_after.unwrap_or(Duration::from_secs(60))),
    }
}

fn unauthorized(detail: String) -> ProviderError {
    ProviderError::Unauthorized {
        provider: NAME,
        detail: format!("{detail} (keys at https://polygon.io/dashboard/api-keys)"),
    }
}

fn premium_only(detail: String) -> ProviderError {
    ProviderError::PremiumOnly {
        provider: NAME,
        detail,
    }
}
