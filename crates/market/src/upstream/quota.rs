//! One provider's call quota: limits per UTC minute and UTC day, the calls counted against
//! them, and the verdict before each attempt (go, or skip until the spent window resets).
//!
//! Counts live in memory, so the check before a call costs a lock and no I/O; they start from
//! what the store remembers (`Market::restore_usage`) and take in the store's counts after every
//! recorded call, so replicas sharing a database see each other's spending. A provider that
//! answers "rate limited" knows better than our counters: it is paused until the limit it
//! reported resets ([`PauseStatus`]), whatever we counted.
//!
//! Part of each window can be reserved for scheduled ingestion ([`Purpose::Ingestion`]):
//! requests ([`Purpose::Request`]) stop at the limit less the reserve, so however much anonymous
//! traffic asks, the tracked symbols still get fetched.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use store::UsageCounts;

use super::pause::PauseStatus;
use crate::clock;

/// A provider's quota; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaLimits {
    /// Calls per UTC minute.
    pub per_minute: u64,
    /// Calls per UTC day.
    pub per_day: u64,
    /// Of `per_minute`, the calls only ingestion may make (ignored when the minute is
    /// unlimited; at most `per_minute`).
    pub reserved_per_minute: u64,
    /// Of `per_day`, the calls only ingestion may make (ignored when the day is unlimited; at
    /// most `per_day`).
    pub reserved_per_day: u64,
}

impl QuotaLimits {
    /// No limit in either window.
    pub const UNLIMITED: Self = Self {
        per_minute: 0,
        per_day: 0,
        reserved_per_minute: 0,
        reserved_per_day: 0,
    };

    /// Whether any window is limited (only then are calls persisted).
    pub fn is_limited(&self) -> bool {
        self.per_minute > 0 || self.per_day > 0
    }

    /// The window's limit (0: unlimited) and the part of it reserved for ingestion (0 when
    /// the window is unlimited; never more than the limit).
    fn window(&self, window: QuotaWindow) -> (u64, u64) {
        let (limit, reserved) = match window {
            QuotaWindow::Minute => (self.per_minute, self.reserved_per_minute),
            QuotaWindow::Day => (self.per_day, self.reserved_per_day),
        };
        (limit, reserved.min(limit))
    }
}

/// Who a provider call is for, which decides how much of each window it may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A read someone asked for (HTTP, the CLI, the alert poller): stops at the limit less
    /// the reserve.
    Request,
    /// Scheduled ingestion of the tracked symbols: may spend the whole limit, reserve included.
    Ingestion,
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
    /// Of the limit, the calls only scheduled ingestion may make (0 when unlimited).
    pub reserved: u64,
    /// Calls counted in the current window (every replica's, as of this replica's last call).
    pub used: u64,
    /// Calls left; `None`: unlimited. 0 also while the provider is paused by its own limit
    /// (the day only when the pause lasts to the day's end).
    pub remaining: Option<u64>,
    /// Calls left for requests (the limit less the reserve less what is used); `None`:
    /// unlimited.
    pub remaining_for_requests: Option<u64>,
    /// When the current window ends and its count starts again.
    pub resets_at: DateTime<Utc>,
}

/// A provider's quota use in both windows, for `/v1/providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuotaStatus {
    pub minute: WindowUsage,
    pub day: WindowUsage,
}

/// Why a call was refused before it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A window of the configured quota is spent (or its share for requests).
    Spent(Spent),
    /// The provider reported its own limit reached; it resets at the pause's end.
    Paused(PauseStatus),
}

/// A call refused because a window's quota is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spent {
    pub(crate) window: QuotaWindow,
    /// The window's configured limit.
    pub(crate) limit: u64,
    pub(crate) resets_at: DateTime<Utc>,
    pub(crate) retry_after: Duration,
    /// The window's reserve for ingestion when that is what refused the call (a request that
    /// reached it); 0 when the whole window is spent.
    pub(crate) reserved: u64,
}

#[derive(Debug)]
struct State {
    counts: UsageCounts,
    /// The provider's own limit, as it last reported it (kept after it ends, for nothing).
    pause: Option<PauseStatus>,
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
                pause: None,
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

    /// Counts one call at `now`, or refuses it when the provider is paused or a window is
    /// spent. Checking and counting under one lock keeps concurrent loads of different symbols
    /// from overspending together.
    pub(crate) fn take(&self, now: DateTime<Utc>, purpose: Purpose) -> Result<(), Refusal> {
        let mut state = self.lock();
        let counts = state.counts.as_of(now);
        state.counts = counts;
        if let Some(pause) = state.pause.as_ref().filter(|pause| pause.holds_at(now)) {
            return Err(Refusal::Paused(pause.clone()));
        }
        if let Some(spent) = self.refusal(counts, now, purpose, 0) {
            drop(state);
            self.publish(now);
            return Err(Refusal::Spent(spent));
        }
        state.counts = counts.add(1, now);
        drop(state);
        self.publish(now);
        Ok(())
    }

    /// Whether counts read back from the store after recording a call (so including it) show
    /// the window was spent for `purpose` before it: another replica took the last call
    /// meanwhile.
    pub(crate) fn overdrawn(
        &self,
        stored: UsageCounts,
        now: DateTime<Utc>,
        purpose: Purpose,
    ) -> Option<Spent> {
        self.refusal(stored.as_of(now), now, purpose, 1)
    }

    /// The window that refuses a call when `counts` (less `own` calls already counted for it)
    /// are what was spent: the day first (it lasts longer), each window whole before its share
    /// for requests.
    fn refusal(
        &self,
        counts: UsageCounts,
        now: DateTime<Utc>,
        purpose: Purpose,
        own: u64,
    ) -> Option<Spent> {
        let (minute_reset, day_reset) = resets(counts);
        let windows = [
            (QuotaWindow::Day, counts.day_calls, day_reset),
            (QuotaWindow::Minute, counts.minute_calls, minute_reset),
        ];
        for (window, calls, resets_at) in windows {
            let (limit, reserved) = self.limits.window(window);
            let before = calls.saturating_sub(own);
            let spent = |reserved| Spent {
                window,
                limit,
                resets_at,
                retry_after: clock::until(now, resets_at),
                reserved,
            };
            if limit > 0 && before >= limit {
                return Some(spent(0));
            }
            if purpose == Purpose::Request && reserved > 0 && before >= limit - reserved {
                return Some(spent(reserved));
            }
        }
        None
    }

    /// The provider reported its own limit reached: no call until the pause ends, whatever
    /// we counted. Of two pauses the one ending later stands (another replica's, read back
    /// from the store, may be longer).
    pub(crate) fn pause(&self, pause: PauseStatus, now: DateTime<Utc>) {
        let mut state = self.lock();
        if state
            .pause
            .as_ref()
            .is_none_or(|current| current.until < pause.until)
        {
            state.pause = Some(pause);
        }
        drop(state);
        self.publish(now);
    }

    /// The pause in force at `now`, if any.
    pub(crate) fn paused(&self, now: DateTime<Utc>) -> Option<PauseStatus> {
        self.lock()
            .pause
            .clone()
            .filter(|pause| pause.holds_at(now))
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
        let pause_until = state
            .pause
            .as_ref()
            .filter(|pause| pause.holds_at(now))
            .map(|pause| pause.until);
        drop(state);
        let (minute_reset, day_reset) = resets(counts);
        // While paused nothing may be called: the minute reads spent, and the day too when
        // the pause outlasts it.
        let minute_spent = pause_until.is_some();
        let day_spent = pause_until.is_some_and(|until| until >= day_reset);
        let window = |window: QuotaWindow, used: u64, spent: bool, resets_at| {
            let (limit, reserved) = self.limits.window(window);
            let limit = (limit > 0).then_some(limit);
            let left = |of: u64| if spent { 0 } else { of.saturating_sub(used) };
            WindowUsage {
                limit,
                reserved,
                used,
                remaining: if spent { Some(0) } else { limit.map(left) },
                remaining_for_requests: if spent {
                    Some(0)
                } else {
                    limit.map(|limit| left(limit - reserved))
                },
                resets_at,
            }
        };
        QuotaStatus {
            minute: window(
                QuotaWindow::Minute,
                counts.minute_calls,
                minute_spent,
                minute_reset,
            ),
            day: window(QuotaWindow::Day, counts.day_calls, day_spent, day_reset),
        }
    }

    /// Sets the `stock_api_provider_quota_remaining` gauges of the limited windows.
    pub(crate) fn publish(&self, now: DateTime<Utc>) {
        let status = self.status(now);
        for (window, usage) in [("minute", status.minute), ("day", status.day)] {
            // Unlimited windows have no gauge (a pause shows 0 in `status`, not here).
            if let (Some(_), Some(remaining)) = (usage.limit, usage.remaining) {
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

    impl Quota {
        fn take_for_request(&self, now: DateTime<Utc>) -> Result<(), Spent> {
            self.take(now, Purpose::Request).map_err(spent)
        }
    }

    fn spent(refusal: Refusal) -> Spent {
        match refusal {
            Refusal::Spent(spent) => spent,
            Refusal::Paused(pause) => panic!("paused, not spent: {pause:?}"),
        }
    }

    #[test]
    fn requests_stop_at_the_reserve_and_ingestion_spends_it() {
        let now = at("2026-11-28T10:00:00Z");
        let quota = Quota::new(
            "alphavantage",
            QuotaLimits {
                per_minute: 5,
                per_day: 25,
                reserved_per_minute: 1,
                reserved_per_day: 10,
            },
            now,
        );
        for _ in 0..4 {
            quota.take(now, Purpose::Request).unwrap();
        }
        let refused = spent(quota.take(now, Purpose::Request).unwrap_err());
        assert_eq!(
            (refused.window, refused.reserved),
            (QuotaWindow::Minute, 1),
            "the fifth call of the minute is ingestion's"
        );
        quota.take(now, Purpose::Ingestion).unwrap();
        let refused = spent(quota.take(now, Purpose::Ingestion).unwrap_err());
        assert_eq!((refused.window, refused.reserved), (QuotaWindow::Minute, 0));
        let status = quota.status(now);
        assert_eq!(status.minute.reserved, 1);
        assert_eq!(status.minute.remaining_for_requests, Some(0));
        assert_eq!(status.day.remaining, Some(20));
        assert_eq!(status.day.remaining_for_requests, Some(10));

        // Requests go on over later minutes until the day's calls (ingestion's included)
        // reach 25 - 10, then stop for the day.
        let mut minute = now;
        while quota.status(minute).day.used < 15 {
            minute += chrono::Duration::minutes(1);
            for _ in 0..4.min(15 - quota.status(minute).day.used) {
                quota.take(minute, Purpose::Request).unwrap();
            }
        }
        minute += chrono::Duration::minutes(1);
        let refused = spent(quota.take(minute, Purpose::Request).unwrap_err());
        assert_eq!((refused.window, refused.reserved), (QuotaWindow::Day, 10));
        assert_eq!(refused.resets_at, at("2026-11-29T00:00:00Z"));
        quota.take(minute, Purpose::Ingestion).unwrap();
        assert_eq!(quota.status(minute).day.used, 16);
    }

    #[test]
    fn a_reserve_on_an_unlimited_window_reserves_nothing() {
        let now = at("2026-11-28T10:00:00Z");
        let quota = Quota::new(
            "finnhub",
            QuotaLimits {
                per_minute: 0,
                per_day: 0,
                reserved_per_minute: 3,
                reserved_per_day: 3,
            },
            now,
        );
        for _ in 0..10 {
            quota.take(now, Purpose::Request).unwrap();
        }
        assert_eq!(quota.status(now).minute.reserved, 0);
    }

    #[test]
    fn the_day_is_refused_before_the_minute_and_both_say_when_they_reset() {
        let quota = Quota::new(
            "alphavantage",
            QuotaLimits {
                per_minute: 2,
                per_day: 3,
                ..QuotaLimits::UNLIMITED
            },
            at("2026-11-28T23:58:10Z"),
        );
        quota.take_for_request(at("2026-11-28T23:58:10Z")).unwrap();
        quota.take_for_request(at("2026-11-28T23:58:20Z")).unwrap();
        let spent = quota
            .take_for_request(at("2026-11-28T23:58:30.5Z"))
            .unwrap_err();
        assert_eq!(spent.window, QuotaWindow::Minute);
        assert_eq!(spent.resets_at, at("2026-11-28T23:59:00Z"));
        assert_eq!(spent.retry_after, Duration::from_secs(30));
        quota.take_for_request(at("2026-11-28T23:59:00Z")).unwrap();
        let spent = quota
            .take_for_request(at("2026-11-28T23:59:01Z"))
            .unwrap_err();
        assert_eq!(spent.window, QuotaWindow::Day);
        assert_eq!(spent.resets_at, at("2026-11-29T00:00:00Z"));
        assert_eq!(spent.retry_after, Duration::from_secs(59));
        quota.take_for_request(at("2026-11-29T00:00:00Z")).unwrap();
        let status = quota.status(at("2026-11-29T00:00:00Z"));
        assert_eq!(status.day.remaining, Some(2));
        assert_eq!(status.minute.remaining, Some(1));
    }

    #[test]
    fn a_pause_refuses_calls_until_it_ends_even_without_a_limit() {
        let quota = Quota::new("yahoo", QuotaLimits::UNLIMITED, at("2026-11-28T10:00:00Z"));
        let pause = PauseStatus::after_answer(
            at("2026-11-28T10:00:10Z"),
            providers::RateLimit::Unstated,
            None,
            "Too Many Requests",
        );
        quota.pause(pause.clone(), at("2026-11-28T10:00:10Z"));
        let refused = quota
            .take(at("2026-11-28T10:00:20Z"), Purpose::Request)
            .unwrap_err();
        assert_eq!(refused, Refusal::Paused(pause));
        assert_eq!(
            quota.status(at("2026-11-28T10:00:20Z")).minute.remaining,
            Some(0)
        );
        quota.take_for_request(at("2026-11-28T10:01:00Z")).unwrap();
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
                ..QuotaLimits::UNLIMITED
            },
            now,
        );
        quota.take_for_request(now).unwrap();
        quota.merge(UsageCounts::empty(now).add(4, now), now);
        assert_eq!(quota.status(now).minute.used, 4);
        quota.merge(UsageCounts::empty(now).add(1, now), now);
        assert_eq!(quota.status(now).minute.used, 4, "the larger count wins");
        let later = at("2026-11-28T10:01:00Z");
        quota.merge(UsageCounts::empty(later).add(2, later), later);
        assert_eq!(quota.status(later).minute.used, 2);
    }
}
