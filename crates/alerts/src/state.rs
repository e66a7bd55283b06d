//! A rule's evaluation state: what must survive a restart so that it neither loses nor repeats
//! a fire.
//!
//! The engine changes it; the store persists it (`Engine::changed_states` hands over only the
//! states that changed). Everything in it is plain data with serde, so the store may keep it as
//! JSON or as columns.

use chrono::{DateTime, NaiveDate, Utc};
use domain::Price;
use serde::{Deserialize, Serialize};

use crate::rule::{Condition, Rule, Side};

/// The state of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleState {
    /// False once a `once` rule has fired or the rule has expired; it then never fires until
    /// the user re-arms it (a fresh state).
    pub armed: bool,
    /// True when the rule was disarmed by its `expires_at`.
    #[serde(default)]
    pub expired: bool,
    /// The price of the tick that last changed this state (a fire, a new trailing extreme).
    pub last_price: Option<Price>,
    /// That tick's time.
    pub last_at: Option<DateTime<Utc>>,
    /// When the rule last fired.
    pub last_fired_at: Option<DateTime<Utc>>,
    /// The NYSE trading day of the last fire (for `once_per_day`).
    pub fired_day: Option<NaiveDate>,
    /// `every_time` rules are quiet until this instant.
    pub cooldown_until: Option<DateTime<Utc>>,
    /// Trailing stops: whether the activation price has been reached since armed.
    #[serde(default)]
    pub activated: bool,
    /// Trailing stops: the highest (long) or lowest (short) price since activation.
    pub extreme: Option<Price>,
    /// How many times the rule has fired.
    #[serde(default)]
    pub fire_count: u64,
}

impl Default for RuleState {
    fn default() -> Self {
        Self::armed()
    }
}

impl RuleState {
    /// The state of a newly created (or re-armed) rule.
    pub const fn armed() -> Self {
        Self {
            armed: true,
            expired: false,
            last_price: None,
            last_at: None,
            last_fired_at: None,
            fired_day: None,
            cooldown_until: None,
            activated: false,
            extreme: None,
            fire_count: 0,
        }
    }

    /// A trailing stop's current trigger level: the price at which it would fire now, or `None`
    /// for other kinds and for a stop not yet activated.
    ///
    /// Percent levels are rounded to the nearest 1e-9; the engine itself decides fires with an
    /// exact comparison, so a price on the rounded level may differ from it by one unit.
    pub fn trigger_level(&self, rule: &Rule) -> Option<Price> {
        let Condition::TrailingStop(trail) = &rule.condition else {
            return None;
        };
        let extreme = self.extreme.filter(|_| self.activated)?;
        let offset = match (trail.percent, trail.amount) {
            (Some(percent), _) => {
                let scaled = i128::from(extreme.raw()) * i128::from(percent.raw());
                let hundred = 100 * 1_000_000_000i128;
                i64::try_from((scaled + hundred / 2) / hundred).ok()?
            }
            (None, Some(amount)) => amount.raw(),
            (None, None) => return None,
        };
        let raw = match trail.side {
            Side::Long => extreme.raw().checked_sub(offset)?,
            Side::Short => extreme.raw().checked_add(offset)?,
        };
        Some(Price::from_raw(raw))
    }
}
