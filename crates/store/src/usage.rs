//! Calls spent per upstream provider in the current UTC minute and UTC day: what quota
//! accounting needs to survive a restart and to be shared by replicas on one database.
//!
//! Windows are UTC: a minute starts at second 0, a day at 00:00 UTC. Alpha Vantage does not
//! document precisely when its daily quota resets, so UTC midnight is an assumption, stated
//! here and in the docs rather than guessed per provider.
//!
//! Recording is one atomic upsert per call on the SQL backends (same window: add; newer window:
//! start again from the new calls), returning what is now stored, so a replica learns what the
//! others spent every time it spends. The SQL lives in [`sql`]; the memory backend applies the same rule, [`UsageCounts::add`], under a lock.
//!
//! Beside the counts, a provider's own limit as it reported it ([`ProviderPause`], table
//! `provider_pauses`): the instant until which it must not be called, kept so a restart or
//! another replica does not call it again before the limit resets. The later pause wins.

mod sql;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::{MemoryStore, StoreError};

/// Calls counted for one provider in a UTC minute and a UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageCounts {
    /// The start of the minute `minute_calls` counts.
    pub minute: DateTime<Utc>,
    pub minute_calls: u64,
    /// The UTC day `day_calls` counts.
    pub day: NaiveDate,
    pub day_calls: u64,
}

impl UsageCounts {
    /// No calls, in the windows containing `at`.
    pub fn empty(at: DateTime<Utc>) -> Self {
        Self {
            minute: minute_start(at),
            minute_calls: 0,
            day: utc_day(at),
            day_calls: 0,
        }
    }

    /// These counts after `calls` more calls made at `at`: added within the same window,
    /// starting again in a newer one. A call recorded late for a window that has already
    /// passed (another replica's clock behind) leaves the newer window as it is.
    #[must_use]
    pub fn add(self, calls: u64, at: DateTime<Utc>) -> Self {
        let (minute, minute_calls) =
            add_in_window((self.minute, self.minute_calls), minute_start(at), calls);
        let (day, day_calls) = add_in_window((self.day, self.day_calls), utc_day(at), calls);
        Self {
            minute,
            minute_calls,
            day,
            day_calls,
        }
    }

    /// The counts of the windows containing `at`: a window other than the stored one counts 0.
    #[must_use]
    pub fn as_of(self, at: DateTime<Utc>) -> Self {
        let now = Self::empty(at);
        Self {
            minute_calls: if self.minute == now.minute {
                self.minute_calls
            } else {
                0
            },
            day_calls: if self.day == now.day {
                self.day_calls
            } else {
                0
            },
            ..now
        }
    }
}

fn add_in_window<W: Ord>(stored: (W, u64), window: W, calls: u64) -> (W, u64) {
    match stored.0.cmp(&window) {
        Ordering::Equal => (window, stored.1.saturating_add(calls)),
        Ordering::Greater => stored,
        Ordering::Less => (window, calls),
    }
}

/// The start of the UTC minute containing `at`.
pub fn minute_start(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp().div_euclid(60) * 60, 0).unwrap_or(at)
}

/// The UTC day containing `at`.
pub fn utc_day(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

/// A provider that reported one of its own limits reached: not to be called before `until`.
/// Read from a `provider_pauses` row as it is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProviderPause {
    /// When the limit resets and the provider may be called again.
    #[sqlx(rename = "paused_until")]
    pub until: DateTime<Utc>,
    /// Which of its limits: `per_day`, `per_minute`, `per_second` or `unstated`.
    #[sqlx(rename = "rate_limit")]
    pub limit: String,
    /// The provider's own words (never carrying a key).
    pub detail: String,
    /// When the provider answered.
    #[sqlx(rename = "paused_at")]
    pub since: DateTime<Utc>,
}

/// Persistent per-provider call counts, for quota accounting, and pauses for limits the
/// providers reported themselves.
#[async_trait]
pub trait ProviderUsage: Send + Sync {
    /// Adds `calls` calls made to `provider` at `at` (atomically: concurrent recorders never
    /// lose a call) and returns the counts now stored, other replicas' calls included.
    async fn record_provider_calls(
        &self,
        provider: &str,
        calls: u64,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError>;

    /// The calls counted for `provider` in the windows containing `at` (0 for a provider never
    /// recorded, or whose stored windows have passed). Writes nothing.
    async fn provider_usage(
        &self,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError>;

    /// Records that `provider` must not be called before `pause.until`, unless a pause lasting
    /// as long or longer is stored already (atomically: concurrent pauses keep the latest).
    async fn pause_provider(&self, provider: &str, pause: &ProviderPause)
    -> Result<(), StoreError>;

    /// The pause stored for `provider` when it lasts past `at`.
    async fn provider_pause(
        &self,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<ProviderPause>, StoreError>;
}

/// The stored pause, when it still lasts at `at`.
fn current(pause: Option<ProviderPause>, at: DateTime<Utc>) -> Option<ProviderPause> {
    pause.filter(|pause| pause.until > at)
}

/// A `provider_usage` row (`minute_start, minute_calls, day, day_calls`).
#[derive(sqlx::FromRow)]
struct UsageRow {
    minute_start: DateTime<Utc>,
    minute_calls: i64,
    day: NaiveDate,
    day_calls: i64,
}

impl TryFrom<UsageRow> for UsageCounts {
    type Error = StoreError;

    fn try_from(row: UsageRow) -> Result<Self, StoreError> {
        let count = |column: &str, value: i64| {
            u64::try_from(value)
                .map_err(|_| StoreError::Corrupt(format!("negative provider_usage.{column}")))
        };
        Ok(UsageCounts {
            minute: row.minute_start,
            minute_calls: count("minute_calls", row.minute_calls)?,
            day: row.day,
            day_calls: count("day_calls", row.day_calls)?,
        })
    }
}

/// A count bound as SQL `bigint` / `integer`.
fn sql_count(calls: u64) -> i64 {
    i64::try_from(calls).unwrap_or(i64::MAX)
}

/// The memory backend's counts and pauses per provider.
#[derive(Debug, Default)]
pub(crate) struct MemoryUsage {
    counts: Mutex<HashMap<String, UsageCounts>>,
    pauses: Mutex<HashMap<String, ProviderPause>>,
}

impl MemoryUsage {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, UsageCounts>> {
        // Every update is one insert of a whole value, so a poisoned lock holds whole values.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn pauses(&self) -> std::sync::MutexGuard<'_, HashMap<String, ProviderPause>> {
        self.pauses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl ProviderUsage for MemoryStore {
    async fn record_provider_calls(
        &self,
        provider: &str,
        calls: u64,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError> {
        let mut usage = self.usage.lock();
        let stored = usage
            .get(provider)
            .copied()
            .unwrap_or_else(|| UsageCounts::empty(at))
            .add(calls, at);
        usage.insert(provider.to_owned(), stored);
        Ok(stored)
    }

    async fn provider_usage(
        &self,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError> {
        let usage = self.usage.lock();
        Ok(usage
            .get(provider)
            .map_or_else(|| UsageCounts::empty(at), |stored| stored.as_of(at)))
    }

    async fn pause_provider(
        &self,
        provider: &str,
        pause: &ProviderPause,
    ) -> Result<(), StoreError> {
        let mut pauses = self.usage.pauses();
        let longer = pauses
            .get(provider)
            .is_none_or(|stored| stored.until < pause.until);
        if longer {
            pauses.insert(provider.to_owned(), pause.clone());
        }
        Ok(())
    }

    async fn provider_pause(
        &self,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<ProviderPause>, StoreError> {
        Ok(current(self.usage.pauses().get(provider).cloned(), at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn windows_are_the_utc_minute_and_day() {
        let instant = at("2026-11-28T23:59:59.900Z");
        assert_eq!(minute_start(instant), at("2026-11-28T23:59:00Z"));
        assert_eq!(utc_day(instant).to_string(), "2026-11-28");
        assert_eq!(
            minute_start(at("1969-12-31T23:59:30Z")),
            at("1969-12-31T23:59:00Z")
        );
    }

    #[test]
    fn calls_add_in_a_window_and_start_again_in_a_newer_one() {
        let counts = UsageCounts::empty(at("2026-11-28T10:00:05Z"))
            .add(2, at("2026-11-28T10:00:05Z"))
            .add(1, at("2026-11-28T10:00:59Z"));
        assert_eq!((counts.minute_calls, counts.day_calls), (3, 3));
        let next_minute = counts.add(1, at("2026-11-28T10:01:00Z"));
        assert_eq!((next_minute.minute_calls, next_minute.day_calls), (1, 4));
        let next_day = next_minute.add(1, at("2026-11-29T00:00:00Z"));
        assert_eq!((next_day.minute_calls, next_day.day_calls), (1, 1));
        // A late record for a minute that has passed does not reset the newer one.
        let late = next_day.add(5, at("2026-11-28T23:59:59Z"));
        assert_eq!(late, next_day);
        assert_eq!(next_day.as_of(at("2026-11-29T00:01:00Z")).minute_calls, 0);
        assert_eq!(next_day.as_of(at("2026-11-29T00:01:00Z")).day_calls, 1);
    }
}
