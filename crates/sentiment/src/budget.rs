//! [`DailyBudget`]: how many calls an LLM provider may receive per UTC day.
//!
//! The counter lives in memory: it restarts at zero with the process, so after a restart a
//! provider can receive up to one more day's budget. A store-backed counter (like the market
//! path's provider quotas) can replace it without changing the scorers' interface.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A daily call budget; clones share one counter.
#[derive(Clone)]
pub struct DailyBudget {
    limit: u32,
    clock: Clock,
    spent: Arc<Mutex<(NaiveDate, u32)>>,
}

/// Today's budget, for status pages and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetStatus {
    pub limit: u32,
    pub used: u32,
    pub remaining: u32,
    /// The next UTC midnight, when `used` returns to zero.
    pub resets_at: DateTime<Utc>,
}

impl fmt::Debug for DailyBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DailyBudget")
            .field("status", &self.status())
            .finish()
    }
}

impl DailyBudget {
    /// A budget of `limit` calls per UTC day on the wall clock.
    pub fn new(limit: u32) -> Self {
        Self::with_clock(limit, Arc::new(Utc::now))
    }

    /// A budget on the given clock (tests move the day forward).
    pub fn with_clock(limit: u32, clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>) -> Self {
        let today = clock().date_naive();
        Self {
            limit,
            clock,
            spent: Arc::new(Mutex::new((today, 0))),
        }
    }

    /// Takes one call from today's budget, or says when it resets if none is left.
    pub fn try_spend(&self) -> Result<(), BudgetStatus> {
        let today = (self.clock)().date_naive();
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.0 != today {
            *spent = (today, 0);
        }
        if spent.1 >= self.limit {
            return Err(status_of(self.limit, today, spent.1));
        }
        spent.1 += 1;
        Ok(())
    }

    /// Today's use of the budget.
    pub fn status(&self) -> BudgetStatus {
        let today = (self.clock)().date_naive();
        let spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        let used = if spent.0 == today { spent.1 } else { 0 };
        status_of(self.limit, today, used)
    }
}

fn status_of(limit: u32, today: NaiveDate, used: u32) -> BudgetStatus {
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap_or(today);
    BudgetStatus {
        limit,
        used,
        remaining: limit.saturating_sub(used),
        resets_at: tomorrow.and_time(chrono::NaiveTime::MIN).and_utc(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    #[test]
    fn the_budget_is_spent_then_refills_at_utc_midnight() {
        let now = Arc::new(AtomicI64::new(
            "2026-12-03T23:59:00Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
                .timestamp(),
        ));
        let clock_now = Arc::clone(&now);
        let budget = DailyBudget::with_clock(
            2,
            Arc::new(move || {
                DateTime::from_timestamp(clock_now.load(Ordering::SeqCst), 0).unwrap()
            }),
        );
        assert!(budget.try_spend().is_ok());
        assert!(budget.try_spend().is_ok());
        let spent = budget.try_spend().unwrap_err();
        assert_eq!(spent.remaining, 0);
        assert_eq!(spent.resets_at.to_rfc3339(), "2026-12-04T00:00:00+00:00");

        now.fetch_add(120, Ordering::SeqCst);
        assert_eq!(budget.status().remaining, 2);
        assert!(budget.try_spend().is_ok());
        assert_eq!(budget.status().used, 1);
    }
}
