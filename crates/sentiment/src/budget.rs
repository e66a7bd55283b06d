//! [`DailyBudget`]: how many calls an LLM provider may receive per UTC day, counted in a
//! [`BudgetLedger`].
//!
//! The ledger is where the day's count lives. [`MemoryLedger`] keeps it in this process (it
//! starts again at zero with the process); the binary passes a ledger over the store's
//! provider usage counts instead, so the count survives a restart and replicas sharing one
//! database share one budget. This crate only defines the trait: it stores nothing itself.
//!
//! Spending is check-then-record: the day's count is read, and a spent budget refuses without
//! writing; otherwise one call is recorded atomically and the count that comes back decides.
//! Two replicas racing for the last call both record, and the one whose record comes back
//! over the limit refuses, so the provider never receives more calls than the limit. Each
//! such loser leaves one uncounted-for unit in the day's count, which is why `used` is shown
//! capped at the limit.
//!
//! A ledger that fails (the database is down) falls back to this process's own count for the
//! day, logged: the budget still bounds this process, and scoring stops being able to store
//! its answers anyway.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Why a ledger could not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("budget ledger: {0}")]
pub struct LedgerError(pub String);

/// Where the calls made to each provider per UTC day are counted.
#[async_trait]
pub trait BudgetLedger: Send + Sync + fmt::Debug {
    /// Counts one call made to `provider` at `at` (atomically: concurrent recorders never lose
    /// one) and returns the calls counted for `at`'s UTC day, this one included.
    async fn record_call(&self, provider: &str, at: DateTime<Utc>) -> Result<u64, LedgerError>;

    /// The calls counted for `provider` in `at`'s UTC day (0 when none). Writes nothing.
    async fn calls_on(&self, provider: &str, at: DateTime<Utc>) -> Result<u64, LedgerError>;
}

/// A ledger in this process's memory: counts start again at zero with the process.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    days: Mutex<HashMap<String, (NaiveDate, u64)>>,
}

#[async_trait]
impl BudgetLedger for MemoryLedger {
    async fn record_call(&self, provider: &str, at: DateTime<Utc>) -> Result<u64, LedgerError> {
        let today = at.date_naive();
        let mut days = self.days.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = days.entry(provider.to_owned()).or_insert((today, 0));
        if entry.0 < today {
            *entry = (today, 0);
        }
        if entry.0 == today {
            entry.1 += 1;
            Ok(entry.1)
        } else {
            // A call recorded for a day that has passed leaves the newer day as it is.
            Ok(1)
        }
    }

    async fn calls_on(&self, provider: &str, at: DateTime<Utc>) -> Result<u64, LedgerError> {
        let days = self.days.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(days
            .get(provider)
            .filter(|(day, _)| *day == at.date_naive())
            .map_or(0, |(_, calls)| *calls))
    }
}

/// A daily call budget for one provider; clones share one ledger and one fallback count.
#[derive(Clone)]
pub struct DailyBudget {
    provider: Arc<str>,
    limit: u32,
    clock: Clock,
    ledger: Arc<dyn BudgetLedger>,
    /// This process's own calls today: what is enforced while the ledger fails.
    local: Arc<Mutex<(NaiveDate, u64)>>,
}

/// Today's budget, for status pages and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetStatus {
    pub limit: u32,
    /// Calls counted today, at most `limit`.
    pub used: u32,
    pub remaining: u32,
    /// The next UTC midnight, when `used` returns to zero.
    pub resets_at: DateTime<Utc>,
}

impl fmt::Debug for DailyBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DailyBudget")
            .field("provider", &self.provider)
            .field("limit", &self.limit)
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

impl DailyBudget {
    /// A budget of `limit` calls per UTC day on the wall clock, counted in this process only.
    pub fn new(limit: u32) -> Self {
        Self::with_ledger("memory", limit, Arc::new(MemoryLedger::default()))
    }

    /// A budget of `limit` calls per UTC day to `provider` (the ledger's key, e.g.
    /// `llm:openai`), counted in `ledger`.
    pub fn with_ledger(provider: &str, limit: u32, ledger: Arc<dyn BudgetLedger>) -> Self {
        Self {
            provider: provider.into(),
            limit,
            clock: Arc::new(Utc::now),
            ledger,
            local: Arc::new(Mutex::new((NaiveDate::MIN, 0))),
        }
    }

    /// The same budget on another clock (tests move the day forward).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// The ledger's key for this budget's provider.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Calls allowed per UTC day.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Takes one call from today's budget, or says when it resets if none is left.
    pub async fn try_spend(&self) -> Result<(), BudgetStatus> {
        let now = (self.clock)();
        let limit = u64::from(self.limit);
        let spent = |used: u64| Err(status_of(self.limit, now.date_naive(), used));
        match self.ledger.calls_on(&self.provider, now).await {
            Ok(used) if used >= limit => return spent(used),
            Ok(_) => {}
            Err(error) => return self.spend_locally(now, &error),
        }
        match self.ledger.record_call(&self.provider, now).await {
            Ok(used) if used > limit => spent(used),
            Ok(_) => {
                self.count_locally(now);
                Ok(())
            }
            Err(error) => self.spend_locally(now, &error),
        }
    }

    /// Today's use of the budget, as the ledger counts it (this process's count when the
    /// ledger cannot be read).
    pub async fn status(&self) -> BudgetStatus {
        let now = (self.clock)();
        let used = match self.ledger.calls_on(&self.provider, now).await {
            Ok(used) => used,
            Err(error) => {
                tracing::warn!(provider = %self.provider, %error, "could not read the LLM budget's count; showing this process's");
                self.local_today(now)
            }
        };
        status_of(self.limit, now.date_naive(), used)
    }

    fn spend_locally(&self, now: DateTime<Utc>, error: &LedgerError) -> Result<(), BudgetStatus> {
        tracing::warn!(provider = %self.provider, %error, "could not count an LLM call in the budget's ledger; counting it in this process only");
        let used = self.local_today(now);
        if used >= u64::from(self.limit) {
            return Err(status_of(self.limit, now.date_naive(), used));
        }
        self.count_locally(now);
        Ok(())
    }

    fn local_today(&self, now: DateTime<Utc>) -> u64 {
        let local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        if local.0 == now.date_naive() {
            local.1
        } else {
            0
        }
    }

    fn count_locally(&self, now: DateTime<Utc>) {
        let today = now.date_naive();
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        if local.0 != today {
            *local = (today, 0);
        }
        local.1 += 1;
    }
}

fn status_of(limit: u32, today: NaiveDate, used: u64) -> BudgetStatus {
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap_or(today);
    let used = u32::try_from(used).unwrap_or(u32::MAX).min(limit);
    BudgetStatus {
        limit,
        used,
        remaining: limit - used,
        resets_at: tomorrow.and_time(chrono::NaiveTime::MIN).and_utc(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    fn clock_at(text: &str) -> (Arc<AtomicI64>, Clock) {
        let now = Arc::new(AtomicI64::new(
            text.parse::<DateTime<Utc>>().unwrap().timestamp(),
        ));
        let clock_now = Arc::clone(&now);
        let clock: Clock = Arc::new(move || {
            DateTime::from_timestamp(clock_now.load(Ordering::SeqCst), 0).unwrap()
        });
        (now, clock)
    }

    #[tokio::test]
    async fn the_budget_is_spent_then_refills_at_utc_midnight() {
        let (now, clock) = clock_at("2026-12-03T23:59:00Z");
        let budget = DailyBudget::new(2).with_clock(clock);
        assert!(budget.try_spend().await.is_ok());
        assert!(budget.try_spend().await.is_ok());
        let spent = budget.try_spend().await.unwrap_err();
        assert_eq!(spent.remaining, 0);
        assert_eq!(spent.resets_at.to_rfc3339(), "2026-12-04T00:00:00+00:00");
        assert_eq!(budget.status().await.used, 2, "a refusal is not counted");

        now.fetch_add(120, Ordering::SeqCst);
        assert_eq!(budget.status().await.remaining, 2);
        assert!(budget.try_spend().await.is_ok());
        assert_eq!(budget.status().await.used, 1);
    }

    #[tokio::test]
    async fn budgets_on_one_ledger_share_the_count() {
        let ledger: Arc<dyn BudgetLedger> = Arc::new(MemoryLedger::default());
        let first = DailyBudget::with_ledger("llm:openai", 3, ledger.clone());
        let second = DailyBudget::with_ledger("llm:openai", 3, ledger.clone());
        let other = DailyBudget::with_ledger("llm:gemini", 3, ledger);
        first.try_spend().await.unwrap();
        second.try_spend().await.unwrap();
        first.try_spend().await.unwrap();
        assert!(second.try_spend().await.is_err());
        assert_eq!(first.status().await.remaining, 0);
        assert_eq!(other.status().await.remaining, 3);
    }

    #[derive(Debug)]
    struct BrokenLedger;

    #[async_trait]
    impl BudgetLedger for BrokenLedger {
        async fn record_call(&self, _: &str, _: DateTime<Utc>) -> Result<u64, LedgerError> {
            Err(LedgerError("database down".into()))
        }
        async fn calls_on(&self, _: &str, _: DateTime<Utc>) -> Result<u64, LedgerError> {
            Err(LedgerError("database down".into()))
        }
    }

    #[tokio::test]
    async fn a_failing_ledger_still_bounds_this_process() {
        let budget = DailyBudget::with_ledger("llm:openai", 2, Arc::new(BrokenLedger));
        budget.try_spend().await.unwrap();
        budget.try_spend().await.unwrap();
        assert!(budget.try_spend().await.is_err());
        assert_eq!(budget.status().await.used, 2);
    }
}
