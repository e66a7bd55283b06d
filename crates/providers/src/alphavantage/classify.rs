//! Turning Alpha Vantage's refusals into [`ProviderError`]s.
//!
//! Rules, in order (Alpha Vantage sends all of these with HTTP 200):
//!
//! | body key        | text                                                  | error            |
//! |-----------------|-------------------------------------------------------|------------------|
//! | `Error Message` | mentions the API key                                  | `Unauthorized`   |
//! | `Error Message` | anything else ("Invalid API call")                    | `UnknownSymbol`  |
//! | `Note`          | (the old per-minute throttle)                         | `RateLimited`    |
//! | `Information`   | "rate limit", "requests per day", "per second/minute" | `RateLimited`    |
//! | `Information`   | "premium"                                             | `PremiumOnly`    |
//! | `Information`   | mentions the API key (the `demo` key refusal)         | `Unauthorized`   |
//! | `Information`   | anything else                                         | `Upstream`       |
//!
//! Rate-limit wording is checked before "premium" because the daily-quota text also advertises
//! premium plans. The API key is our only request parameter that is an error (`function` and
//! `outputsize` are ours), so an `Error Message` that does not mention the key is about the symbol.
//!
//! Each rate limit says which of Alpha Vantage's limits it is ([`RateLimit`]): the read path
//! pauses the provider until that limit resets, and tells users it was Alpha Vantage's own
//! limit rather than a quota configured in stockd. `retry_after`: 60 s for per-minute limits
//! (including `Note`, the old 5-per-minute text) and 1 s for per-second limits. For the daily
//! limit (`Information`: "25 requests per day") it is `None`: Alpha Vantage does not document
//! when its day resets and sends no `Retry-After`, so there is nothing to report; the read path
//! assumes the next UTC midnight on its own clock (at worst a few hours early or late, and a
//! call then simply meets the same answer).

use std::time::Duration;

use domain::Symbol;

use super::NAME;
use super::wire::Refusal;
use crate::http::{self, quote_upstream};
use crate::{ProviderError, RateLimit};

/// The error for an Alpha Vantage refusal body, or `None` when the body is not a refusal.
pub(super) fn refusal(refusal: &Refusal, symbol: Symbol, api_key: &str) -> Option<ProviderError> {
    if let Some(message) = &refusal.error_message {
        return Some(if mentions_api_key(message) {
            unauthorized(message, api_key)
        } else {
            unknown_symbol(symbol)
        });
    }
    if let Some(note) = &refusal.note {
        // The old throttle's text names both its minute and its day; it is sent per minute.
        return Some(ProviderError::RateLimited {
            provider: NAME,
            detail: quote_upstream(note, api_key),
            retry_after: Some(Duration::from_secs(60)),
            limit: RateLimit::PerMinute,
        });
    }
    refusal
        .information
        .as_deref()
        .map(|information| classify_information(information, api_key))
}

fn classify_information(text: &str, api_key: &str) -> ProviderError {
    let lower = text.to_lowercase();
    let detail = quote_upstream(text, api_key);
    let has = |needle: &str| lower.contains(needle);
    let rate_limited = |limit, retry_after| ProviderError::RateLimited {
        provider: NAME,
        detail: detail.clone(),
        retry_after,
        limit,
    };
    match RateLimit::named_in(text) {
        // Undocumented reset: see the module's notes.
        RateLimit::PerDay => return rate_limited(RateLimit::PerDay, None),
        RateLimit::PerMinute => {
            return rate_limited(RateLimit::PerMinute, Some(Duration::from_secs(60)));
        }
        RateLimit::PerSecond => {
            return rate_limited(RateLimit::PerSecond, Some(Duration::from_secs(1)));
        }
        RateLimit::Unstated => {}
    }
    if has("rate limit") {
        rate_limited(RateLimit::Unstated, None)
    } else if has("premium") {
        ProviderError::PremiumOnly {
            provider: NAME,
            detail,
        }
    } else if mentions_api_key(text) {
        unauthorized(text, api_key)
    } else {
        ProviderError::Upstream {
            provider: NAME,
            detail: format!("unexpected Information: {detail}"),
        }
    }
}

/// The error for a symbol Alpha Vantage does not know.
pub(super) fn unknown_symbol(symbol: Symbol) -> ProviderError {
    ProviderError::UnknownSymbol {
        symbol,
        detail: "Alpha Vantage does not recognise this symbol; check the ticker \
                 (e.g. MSFT, IBM, TSCO.LON)"
            .to_owned(),
    }
}

/// The error for a body that is not the JSON we expect.
pub(super) fn malformed(what: impl std::fmt::Display) -> ProviderError {
    http::malformed(NAME, what)
}

fn unauthorized(text: &str, api_key: &str) -> ProviderError {
    ProviderError::Unauthorized {
        provider: NAME,
        detail: format!(
            "{} (get a free key at https://www.alphavantage.co/support/#api-key)",
            quote_upstream(text, api_key)
        ),
    }
}

fn mentions_api_key(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("apikey") || lower.contains("api key")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const KEY: &str = "SECRET-KEY-123";

    fn information(text: &str) -> ProviderError {
        let body = Refusal {
            information: Some(text.to_owned()),
            ..Refusal::default()
        };
        refusal(&body, Symbol::parse("IBM").unwrap(), KEY).unwrap()
    }

    #[test]
    fn the_daily_quota_is_a_daily_rate_limit_with_no_stated_reset_despite_mentioning_premium() {
        let error = information(
            "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. \
             Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/",
        );
        let ProviderError::RateLimited {
            retry_after, limit, ..
        } = error
        else {
            panic!("expected RateLimited, got {error:?}");
        };
        assert_eq!(limit, RateLimit::PerDay);
        assert_eq!(
            retry_after, None,
            "Alpha Vantage does not say when its day resets"
        );
    }

    #[test]
    fn per_minute_and_per_second_limits_retry_after_a_minute_and_a_second() {
        let minute = information(
            "Please consider spreading out your free API requests more sparingly (1 request per minute).",
        );
        assert!(
            matches!(minute, ProviderError::RateLimited { retry_after: Some(d), limit: RateLimit::PerMinute, .. } if d.as_secs() == 60)
        );
        let second = information("Burst pattern detected: limit is 1 request per second.");
        assert!(
            matches!(second, ProviderError::RateLimited { retry_after: Some(d), limit: RateLimit::PerSecond, .. } if d.as_secs() == 1)
        );
    }

    #[test]
    fn the_old_note_is_a_per_minute_limit_although_it_also_names_a_day() {
        let body = Refusal {
            note: Some(
                "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls \
                 per minute and 500 calls per day."
                    .to_owned(),
            ),
            ..Refusal::default()
        };
        let error = refusal(&body, Symbol::parse("IBM").unwrap(), KEY).unwrap();
        assert!(
            matches!(error, ProviderError::RateLimited { limit: RateLimit::PerMinute, retry_after: Some(d), .. } if d.as_secs() == 60),
            "{error:?}"
        );
    }

    #[test]
    fn premium_information_without_rate_limit_wording_is_premium_only() {
        let error = information("Thank you for using Alpha Vantage! This is a premium endpoint.");
        assert!(
            matches!(error, ProviderError::PremiumOnly { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn the_demo_key_refusal_is_unauthorized_and_other_information_is_upstream() {
        let demo = information(
            "The **demo** API key is for demo purposes only. Please claim your free API key.",
        );
        assert!(
            matches!(demo, ProviderError::Unauthorized { .. }),
            "{demo:?}"
        );
        let other = information("Something new happened.");
        assert!(matches!(other, ProviderError::Upstream { .. }), "{other:?}");
    }

    #[test]
    fn upstream_text_that_echoes_the_key_is_scrubbed_and_bounded() {
        let long = format!("rate limit reached for key {KEY}. {}", "x".repeat(1000));
        let text = information(&long).to_string();
        assert!(!text.contains(KEY), "{text}");
        assert!(text.contains("[REDACTED]"), "{text}");
        assert!(text.chars().count() < 400, "{text}");
    }

    #[test]
    fn a_body_without_refusal_keys_is_not_a_refusal() {
        let symbol = Symbol::parse("IBM").unwrap();
        assert!(refusal(&Refusal::default(), symbol, KEY).is_none());
    }
}
