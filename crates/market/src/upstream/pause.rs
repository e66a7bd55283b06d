//! A provider's own limit, as the provider reported it: after a "rate limited" answer the
//! provider is paused until that limit resets, and nothing calls it before then.
//!
//! The reset comes from the answer: its `retry_after` when it states one, else the next UTC
//! midnight for a daily limit (Alpha Vantage's 25 requests a day: Alpha Vantage does not
//! document when its day resets, and UTC days are what quotas count anyway), a second for a
//! per-second limit and the end of the UTC minute for anything else. Midnight is judged on the
//! read path's clock. A pause is kept in memory ([`super::quota::Quota`]) and in the store
//! (`ProviderUsage::pause_provider`), so a restart or another replica sharing the database does
//! not call the provider again before the reset either.

use std::time::Duration;

use chrono::{DateTime, Utc};
use providers::RateLimit;
use serde::Serialize;
use store::ProviderPause;

/// The longest pause a provider's answer can cause: a day's limit resets within a day, and a
/// wild `Retry-After` must not silence a provider for a year.
const MAX_PAUSE: Duration = Duration::from_secs(25 * 60 * 60);

/// Which of its own limits a provider said is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderLimit {
    PerSecond,
    PerMinute,
    PerDay,
    /// The answer did not say which (a bare HTTP 429).
    Unstated,
}

impl ProviderLimit {
    /// The name stored and shown (`per_day`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerSecond => "per_second",
            Self::PerMinute => "per_minute",
            Self::PerDay => "per_day",
            Self::Unstated => "unstated",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "per_second" => Self::PerSecond,
            "per_minute" => Self::PerMinute,
            "per_day" => Self::PerDay,
            _ => Self::Unstated,
        }
    }
}

impl From<RateLimit> for ProviderLimit {
    fn from(limit: RateLimit) -> Self {
        match limit {
            RateLimit::PerSecond => Self::PerSecond,
            RateLimit::PerMinute => Self::PerMinute,
            RateLimit::PerDay => Self::PerDay,
            RateLimit::Unstated => Self::Unstated,
        }
    }
}

impl std::fmt::Display for ProviderLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::PerSecond => "per-second request limit",
            Self::PerMinute => "per-minute request limit",
            Self::PerDay => "daily request limit",
            Self::Unstated => "rate limit",
        })
    }
}

/// A provider paused by its own limit, for `/v1/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PauseStatus {
    /// Which limit the provider said is reached.
    pub limit: ProviderLimit,
    /// When the limit resets: the provider is not called before.
    pub until: DateTime<Utc>,
    /// When the provider answered.
    pub since: DateTime<Utc>,
    /// The provider's own words (never a key).
    pub detail: String,
}

impl PauseStatus {
    /// The pause a "rate limited" answer given at `now` calls for.
    pub(crate) fn after_answer(
        now: DateTime<Utc>,
        limit: RateLimit,
        retry_after: Option<Duration>,
        detail: &str,
    ) -> Self {
        let limit = ProviderLimit::from(limit);
        let until = match retry_after {
            Some(wait) => now + chrono::Duration::from_std(wait.min(MAX_PAUSE)).unwrap_or_default(),
            None if limit == ProviderLimit::PerDay => next_utc_midnight(now),
            None if limit == ProviderLimit::PerSecond => now + chrono::Duration::seconds(1),
            None => store::minute_start(now) + chrono::Duration::minutes(1),
        };
        Self {
            limit,
            until,
            since: now,
            detail: detail.chars().take(300).collect(),
        }
    }

    /// Whether the provider may not be called at `now`.
    pub(crate) fn holds_at(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }

    pub(crate) fn to_stored(&self) -> ProviderPause {
        ProviderPause {
            until: self.until,
            limit: self.limit.as_str().to_owned(),
            detail: self.detail.clone(),
            since: self.since,
        }
    }

    pub(crate) fn from_stored(stored: ProviderPause) -> Self {
        Self {
            limit: ProviderLimit::parse(&stored.limit),
            until: stored.until,
            since: stored.since,
            detail: stored.detail,
        }
    }
}

fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .succ_opt()
        .and_then(|tomorrow| tomorrow.and_hms_opt(0, 0, 0))
        .map_or(now + chrono::Duration::days(1), |midnight| {
            midnight.and_utc()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_pause_lasts_what_the_answer_says_else_to_the_end_of_its_window() {
        let now = at("2026-11-28T22:00:10.250Z");
        let day = PauseStatus::after_answer(now, RateLimit::PerDay, None, "25 requests per day");
        assert_eq!(day.until, at("2026-11-29T00:00:00Z"));
        assert_eq!(day.limit, ProviderLimit::PerDay);
        let told =
            PauseStatus::after_answer(now, RateLimit::PerDay, Some(Duration::from_secs(7190)), "");
        assert_eq!(told.until, at("2026-11-29T00:00:00.250Z"));
        let bare = PauseStatus::after_answer(now, RateLimit::Unstated, None, "HTTP 429");
        assert_eq!(bare.until, at("2026-11-28T22:01:00Z"));
        let wild = PauseStatus::after_answer(
            now,
            RateLimit::Unstated,
            Some(Duration::from_secs(365 * 24 * 3600)),
            "",
        );
        assert_eq!(
            wild.until,
            at("2026-11-29T23:00:10.250Z"),
            "at most 25 hours"
        );
        assert!(day.holds_at(at("2026-11-28T23:59:59Z")));
        assert!(!day.holds_at(at("2026-11-29T00:00:00Z")));
    }

    #[test]
    fn a_stored_pause_reads_back_as_it_was() {
        let pause = PauseStatus::after_answer(
            at("2026-11-28T22:00:00Z"),
            RateLimit::PerMinute,
            None,
            "5 calls per minute",
        );
        assert_eq!(PauseStatus::from_stored(pause.to_stored()), pause);
    }
}
