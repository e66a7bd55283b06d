//! Backtests (the dry run): when would a rule have fired over past daily bars?
//!
//! Each bar becomes four ticks through an ordinary [`Engine`], so the answer comes from the same
//! evaluator as live alerts. A daily bar does not say in which order its high and low happened;
//! we take the path that moves least: open → low → high → close when the bar closed up (it
//! probably dipped first, then rallied into the close), open → high → low → close when it closed
//! down or flat. Ticks are stamped at New York session times (09:30 open, 11:00 and 14:00 for the
//! extremes, 16:00 close; 09:30, 10:30, 11:30 and 13:00 on early-close days), so `once_per_day`,
//! cooldowns and `window` durations see realistic time. A rule with a cooldown under a few hours
//! can thus fire at most four times per bar; a backtest is an estimate, not a tick replay.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use domain::{Bar, Price, TradingCalendar};
use serde::Serialize;

use crate::aside::SetAside;
use crate::engine::{Engine, Tick};
use crate::rule::Rule;
use crate::session::new_york;
use crate::state::RuleState;

/// One fire of a backtested rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fire {
    /// The bar's trading day.
    pub date: NaiveDate,
    /// The simulated time of the tick that fired.
    pub at: DateTime<Utc>,
    pub price: Price,
    pub message: String,
}

/// Replays `bars` (any order; one per date) through `rule`, starting from a fresh armed state.
/// The rule's `expires_at` applies as in live evaluation. `Err` when the engine sets the rule
/// aside (its values are out of range, or a tick cannot be evaluated), as live evaluation would.
pub fn backtest(
    rule: &Rule,
    bars: &[Bar],
    calendar: TradingCalendar,
) -> Result<Vec<Fire>, SetAside> {
    const RULE: i64 = 0;
    let mut bars = bars.to_vec();
    bars.sort_by_key(|bar| bar.date);
    let mut engine = Engine::with_calendar(calendar);
    // Every close is given up front: the evaluator only ever looks at sessions before the
    // tick's own, so nothing leaks from the future.
    let closes: Vec<(NaiveDate, Price)> = bars.iter().map(|bar| (bar.date, bar.close)).collect();
    engine.set_reference_closes(rule.symbol, &closes);
    engine.insert(RULE, rule.clone(), RuleState::armed());
    if let Some(aside) = engine.take_set_aside().pop() {
        return Err(aside);
    }
    let mut fires = Vec::new();
    for bar in &bars {
        for (at, price) in bar_path(bar, &calendar) {
            let tick = Tick {
                symbol: rule.symbol,
                price,
                at,
                source: "backtest".to_owned(),
            };
            fires.extend(engine.on_tick(&tick).into_iter().map(|trigger| Fire {
                date: bar.date,
                at: trigger.at,
                price: trigger.price,
                message: trigger.message,
            }));
            if let Some(aside) = engine.take_set_aside().pop() {
                return Err(aside);
            }
        }
        if engine.state(RULE).is_none_or(|state| !state.armed) {
            break;
        }
    }
    Ok(fires)
}

/// The four ticks of a bar, in the order described in the module docs.
fn bar_path(bar: &Bar, calendar: &TradingCalendar) -> [(DateTime<Utc>, Price); 4] {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    let times = if calendar.is_early_close(bar.date) {
        [hm(9, 30), hm(10, 30), hm(11, 30), hm(13, 0)]
    } else {
        [hm(9, 30), hm(11, 0), hm(14, 0), hm(16, 0)]
    };
    let (first, second) = if bar.close > bar.open {
        (bar.low, bar.high)
    } else {
        (bar.high, bar.low)
    };
    let at = |i: usize| new_york(bar.date, times[i]);
    [
        (at(0), bar.open),
        (at(1), first),
        (at(2), second),
        (at(3), bar.close),
    ]
}
