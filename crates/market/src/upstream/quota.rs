//! One provider's call quota: limits per UTC minute and UTC day, the calls counted against
//! them, and the verdict before each attempt (go, or skip until the spent window resets).
//!
//! Counts live in memory, so the check before a call costs a lock and no I/O; they start from
//! what the store remembers (`Market::restore_usage`) and take in the store's counts after every
//! recorded call, so replicas sharing a database see each other's spending. A provider that
//! answers "rate limited" knows better than our counters: its current minute counts as spent.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use store::UsageCounts;

use crate::clock;

/// A provider's quota; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaLimits {
    /// Calls per UTC minute.
    pub per_minute: u64,
    /// Calls per UTC day.
    pub per_day: u64,
}

impl QuotaLimits {
    /// No limit in either window.
    pub const UNLIMITED: Self = Self {
        per_minute: 0,
        per_day: 0,
    };

    /// Whether any window is limited (only then are calls persisted).
    pub fn is_limited(&self) -> bool {
        self.per_minute > 0 || self.per_day > 0
    }
}

/// A quota window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaWindow {
    /// The UTC minute.
    Minute,
    /// The UTC day.
    Day,
}

impl std::fmt::Display for QuotaWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Minute => "per-minute",
            Self::Day => "daily",
        })
    }
}

/// A window's limit, use and reset, for `/v1/providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowUsage {
    /// Calls allowed in the window; `None`: unlimited.
    pub limit: Option<u64>,
    /// Calls counted in the current window (every replica's, as of this replica's last call).
    pub used: u64,
    /// Calls left; `None`: unlimited. 0 also when the provider said it is rate limited.
    pub remaining: Option<u64>,
    /// When the current window ends and its count starts again.
    pub resets_at: DateTime<Utc>,
}

/// A provider's quota use in both windows, for `/v1/providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuotaStatus {
    pub minute: WindowUsage,
    pub day: WindowUsage,
}

/// A call refused because a window's quota is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spent {
    pub(crate) window: QuotaWindow,
    pub(crate) resets_at: DateTime<Utc>,
    pub(crate) retry_after: Duration,
}

#[derive(Debug)]
struct State {
    counts: UsageCounts,
    /// A minute the provider itself called rate limited.
    minute_spent: Option<DateTime<Utc>>,
}

/// One provider's quota and its counts.
#[derive(Debug)]
pub(crate) struct Quota {
    provider: &'static str,
    limits: QuotaLimits,
    state: Mutex<State>,
}

impl Quota {
    pub(crate) fn new(provider: &'static str, limits: QuotaLimits, now: DateTime<Utc>) -> Self {
        Self {
            provider,
            limits,
            state: Mutex::new(State {
                counts: UsageCounts::empty(now),
                minute_spent: None,
            }),
        }
    }

    pub(crate) fn limits(&self) -> QuotaLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update replaces whole values, so a poisoned lock still holds consistent ones.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one call at `now`, or refuses it when a window is spent. Checking and counting
    /// under one lock keeps concurrent loads of different symbols from overspending together.
    pub(crate) fn take(&self, now: DateTime<Utc>) -> Result<(), Spent> {
        let mut state = self.lock();
        let counts = state.counts.as_of(now);
        state.counts = counts;
        if let Some(spent) = self.spent(&state, now) {
            drop(state);
            self.publish(now);
            return Err(spent);
        }
        state.counts = counts.add(1, now);
        drop(state);
        self.publish(now);
        Ok(())
    }

    /// The spent window that refuses a call at `now`, the day first (it lasts longer).
    fn spent(&self, state: &State, now: DateTime<Utc>) -> Option<Spent> {
        let counts = state.counts;
        let (minute_reset, day_reset) = resets(counts);
        let spent = |window, resets_at| Spent {
            window,
            resets_at,
            retry_after: clock::until(now, resets_at),
        };
        if self.limits.per_day > 0 && counts.day_calls >= self.limits.per_day {
            return Some(spent(QuotaWindow::Day, day_reset));
        }
        let minute_full =
            self.limits.per_minute > 0 && counts.minute_calls >= self.limits.per_minute;
        if minute_full || state.minute_spent == Some(counts.minute) {
            return Some(spent(QuotaWindow::Minute, minute_reset));
        }
        None
    }

    /// Whether counts read back from the store after recording a call (so including it) show
    /// the window was spent before it: another replica took the last call meanwhile.
    pub(crate) fn overdrawn(&self, stored: UsageCounts, now: DateTime<Utc>) -> Option<Spent> {
        let stored = stored.as_of(now);
        let (minute_reset, day_reset) = resets(stored);
        let spent = |window, resets_at| Spent {
            window,
            resets_at,
            retry_after: clock::until(now, resets_at),
        };
        if self.limits.per_day > 0 && stored.day_calls > self.limits.per_day {
            return Some(spent(QuotaWindow::Day, day_reset));
        }
        if self.limits.per_minute > 0 && stored.minute_calls > self.limits.per_minute {
            return Some(spent(QuotaWindow::Minute, minute_reset));
        }
        None
    }

    /// The provider answered "rate limited": nothing more this minute, whatever we counted.
    pub(crate) fn mark_minute_spent(&self, now: DateTime<Utc>) {
        let mut state = self.lock();
        state.counts = state.counts.as_of(now);
        state.minute_spent = Some(state.counts.minute);
        drop(state);
        self.publish(now);
    }

    /// Takes in counts read from the store: for a window we share, the larger count wins (the
    /// store's includes other replicas' calls, ours may include calls not yet recorded); a
    /// newer window replaces ours.
    pub(crate) fn merge(&self, stored: UsageCounts, now: DateTime<Utc>) {
        let mut state = self.lock();
        let ours = state.counts;
        let (minute, minute_calls) = newer_or_larger(
            (ours.minute, ours.minute_calls),
            (stored.minute, stored.minute_calls),
        );
        let (day, day_calls) =
            newer_or_larger((ours.day, ours.day_calls), (stored.day, stored.day_calls));
        state.counts = UsageCounts {
            minute,
            minute_calls,
            day,
            day_calls,
        };
        drop(state);
        self.publish(now);
    }

    /// Use and limits at `now`.
    pub(crate) fn status(&self, now: DateTime<Utc>) -> QuotaStatus {
        let state = self.lock();
        let counts = state.counts.as_of(now);
        let minute_spent = state.minute_spent == Some(counts.minute);
        drop(state);
        let (minute_reset, day_reset) = resets(counts);
        let window = |limit: u64, used: u64, spent: bool, resets_at| {
            let limit = (limit > 0).then_some(limit);
            let remaining = if spent {
                Some(0)
            } else {
                limit.map(|limit| limit.saturating_sub(used))
            };
            WindowUsage {
                limit,
                used,
                remaining,
                resets_at,
            }
        };
        QuotaStatus {
            minute: window(
                self.limits.per_minute,
                counts.minute_calls,
                minute_spent,
                minute_reset,
            ),
            day: window(self.limits.per_day, counts.day_calls, false, day_reset),
        }
    }

    /// Sets the `stock_api_provider_quota_remaining` gauges of the limited windows.
    pub(crate) fn publish(&self, now: DateTime<Utc>) {
        let status = self.status(now);
        for (window, usage) in [("minute", status.minute), ("day", status.day)] {
            if let Some(remaining) = usage.remaining {
                metrics::gauge!("stock_api_provider_quota_remaining", "provider" => self.provider, "window" => window)
                    .set(remaining as f64);
            }
        }
    }
}

/// When the minute and the day of `counts` end.
fn resets(counts: UsageCounts) -> (DateTime<Utc>, DateTime<Utc>) {
    let minute = counts.minute + chrono::Duration::minutes(1);
    let day = counts
        .day
        .succ_opt()
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .map_or(minute, |midnight| midnight.and_utc());
    (minute, day)
}

fn newer_or_larger<W: Ord>(ours: (W, u64), stored: (W, u64)) -> (W, u64) {
    match ours.0.cmp(&stored.0) {
        std::cmp::Ordering::Equal => (ours.0, ours.1.max(stored.1)),
        std::cmp::Ordering::Less => stored,
        std::cmp::Ordering::Greater => ours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_day_is_refused_before_the_minute_and_both_say_when_they_reset() {
        let quota = Quota::new(
            "alphavantage",
            QuotaLimits {
                per_minute: 2,
                per_day: 3,
            },
            at("2026-11-28T23:58:10Z"),
        );
        quota.take(at("2026-11-28T23:58:10Z")).unwrap();
        quota.take(at("2026-11-28T23:58:20Z")).unwrap();
        let spent = quota.take(at("2026-11-28T23:58:30.5Z")).unwrap_err();
        assert_eq!(spent.window, QuotaWindow::Minute);
        assert_eq!(spent.resets_at, at("2026-11-28T23:59:00Z"));
        assert_eq!(spent.retry_after, Duration::from_secs(30));
        quota.take(at("2026-11-28T23:59:00Z")).unwrap();
        let spent = quota.take(at("2026-11-28T23:59:01Z")).unwrap_err();
        assert_eq!(spent.window, QuotaWindow::Day);
        assert_eq!(spent.resets_at, at("2026-11-29T00:00:00Z"));
        assert_eq!(spent.retry_after, Duration::from_secs(59));
        quota.take(at("2026-11-29T00:00:00Z")).unwrap();
        let status = quota.status(at("2026-11-29T00:00:00Z"));
        assert_eq!(status.day.remaining, Some(2));
        assert_eq!(status.minute.remaining, Some(1));
    }

    #[test]
    fn a_rate_limited_answer_spends_the_minute_even_without_a_limit() {
        let quota = Quota::new("yahoo", QuotaLimits::UNLIMITED, at("2026-11-28T10:00:00Z"));
        quota.mark_minute_spent(at("2026-11-28T10:00:10Z"));
        let spent = quota.take(at("2026-11-28T10:00:20Z")).unwrap_err();
        assert_eq!(spent.window, QuotaWindow::Minute);
        assert_eq!(
            quota.status(at("2026-11-28T10:00:20Z")).minute.remaining,
            Some(0)
        );
        quota.take(at("2026-11-28T10:01:00Z")).unwrap();
        assert_eq!(
            quota.status(at("2026-11-28T10:01:00Z")).minute.remaining,
            None
        );
    }

    #[test]
    fn stored_counts_raise_ours_in_a_shared_window_and_replace_older_ones() {
        let now = at("2026-11-28T10:00:00Z");
        let quota = Quota::new(
            "polygon",
            QuotaLimits {
                per_minute: 5,
                per_day: 0,
            },
            now,
        );
        quota.take(now).unwrap();
        quota.merge(UsageCounts::empty(now).add(4, now), now);
        assert_eq!(quota.status(now).minute.used, 4);
        quota.merge(UsageCounts::empty(now).add(1, now), now);
        assert_eq!(quota.status(now).minute.used, 4, "the larger count wins");
        let later = at("2026-11-28T10:01:00Z");
        quota.merge(UsageCounts::empty(later).add(2, later), later);
        assert_eq!(quota.status(later).minute.used, 2);
    }
}
