//! Turning Yahoo's chart answers into [`ProviderError`]s.
//!
//! Rules, in order:
//!
//! | status | body                                                        | error           |
//! |--------|-------------------------------------------------------------|-----------------|
//! | 429    | plain text `Too Many Requests` (not JSON)                    | `RateLimited`   |
//! | any    | `{"chart":{"error":{"code":"Not Found",…}}}` (sent with 404) | `UnknownSymbol` |
//! | any    | another `chart.error`                                        | `Upstream`      |
//! | non-2xx (5xx, HTML error pages, …)                                   | `Upstream`      |
//! | 2xx    | not JSON, or no `chart.result`                               | `Upstream`      |
//!
//! The 429 is checked before any JSON parsing, so a throttled call is a rate limit and not a
//! "malformed body" that the read path would retry straight into the throttle. Yahoo publishes
//! no limits; `retry_after` is its `Retry-After` header when sent, else unknown.

use domain::Symbol;
use reqwest::StatusCode;

use super::NAME;
use super::wire::{ChartResponse, ChartResult};
use crate::ProviderError;
use crate::http::{Answer, malformed, quote_upstream};

/// The chart's one result, or the error the answer means.
pub(super) fn answer(answer: &Answer, symbol: Symbol) -> Result<ChartResult, ProviderError> {
    let status = answer.status;
    if status == StatusCode::TOO_MANY_REQUESTS {
        let text = String::from_utf8_lossy(&answer.body);
        return Err(ProviderError::RateLimited {
            provider: NAME,
            detail: format!("HTTP 429: {}", quote_upstream(&text, "")),
            retry_after: answer.retry_after,
            limit: crate::RateLimit::Unstated,
        });
    }
    let parsed = serde_json::from_slice::<ChartResponse>(&answer.body);
    let chart = match parsed {
        Ok(body) => body.chart,
        Err(_) if !status.is_success() => {
            return Err(ProviderError::Upstream {
                provider: NAME,
                detail: format!("HTTP {status}"),
            });
        }
        Err(error) => return Err(malformed(NAME, error)),
    };
    if let Some(error) = chart.error {
        let description = quote_upstream(error.description.as_deref().unwrap_or(""), "");
        return Err(if error.code == "Not Found" {
            ProviderError::UnknownSymbol {
                symbol,
                detail: format!(
                    "Yahoo Finance has no chart for this symbol ({description}); check the \
                     ticker, with the exchange suffix outside the US (e.g. AAPL, TSCO.L, ^GSPC)"
                ),
            }
        } else {
            ProviderError::Upstream {
                provider: NAME,
                detail: format!("HTTP {status}: {}: {description}", error.code),
            }
        });
    }
    if !status.is_success() {
        return Err(ProviderError::Upstream {
            provider: NAME,
            detail: format!("HTTP {status}"),
        });
    }
    chart
        .result
        .and_then(|results| results.into_iter().next())
        .ok_or_else(|| malformed(NAME, "no chart result"))
}
