//! Bands: for a move or a trailing stop, the prices between which the next tick cannot change
//! or fire it, so the engine can leave it alone until the price leaves the band.

use chrono::NaiveDate;
use domain::Price;

use crate::eval::{HUNDRED, Window};
use crate::rule::{Condition, MoveBasis, Rule, Side};
use crate::state::RuleState;

/// A price band `(lo, hi)` outside of which — `p <= lo` or `p >= hi` — the next tick may
/// change or fire the rule; strictly inside it, [`evaluate`](crate::eval::evaluate) would do nothing. Used by the engine
/// to skip moves (versus closes) and trailing stops on quiet ticks.
///
/// Bands are conservative: thresholds are rounded towards the current price, so a band can only
/// make the engine ask too often, never too rarely. Valid for the trading day `day` only
/// (a new session brings a new reference close), and only while the rule is not resting.
pub(crate) fn band(
    rule: &Rule,
    state: &RuleState,
    day: NaiveDate,
    closes: &[(NaiveDate, Price)],
    window: Option<&Window>,
) -> (Price, Price) {
    let (lo, hi) = raw_band(rule, state, day, closes, window);
    // The engine relies on lo < hi so that no tick leaves a band at both ends (which would ask
    // the rule twice); only an unvalidated rule (a negative amount) could break it.
    if lo < hi { (lo, hi) } else { ALWAYS }
}

fn raw_band(
    rule: &Rule,
    state: &RuleState,
    day: NaiveDate,
    closes: &[(NaiveDate, Price)],
    window: Option<&Window>,
) -> (Price, Price) {
    if !state.armed {
        return NEVER;
    }
    let offset = |percent: i64, base: Price| {
        let raw = i128::from(percent) * i128::from(base.raw()) / HUNDRED;
        Price::from_raw(i64::try_from(raw).unwrap_or(i64::MAX))
    };
    match &rule.condition {
        Condition::MovesUpPct(change) | Condition::MovesDownPct(change) => {
            let up = matches!(rule.condition, Condition::MovesUpPct(_));
            let n = match change.basis() {
                Some(MoveBasis::Sessions(n)) => n,
                Some(MoveBasis::Window(_)) => {
                    // The window's extreme can later move away from the price only as old ticks
                    // leave it (which makes the band eager, never late); a tick beyond the
                    // extreme replaces it, so the band ends there.
                    let Some(extreme) = window.and_then(Window::extreme) else {
                        return ALWAYS;
                    };
                    let off = offset(change.percent.raw(), extreme).raw();
                    let raw = extreme.raw();
                    return if up {
                        (
                            Price::from_raw(raw.saturating_sub(1)),
                            Price::from_raw(raw.saturating_add(off)),
                        )
                    } else {
                        (
                            Price::from_raw(raw.saturating_sub(off)),
                            Price::from_raw(raw.saturating_add(1)),
                        )
                    };
                }
                None => return NEVER,
            };
            let before = closes.partition_point(|(date, _)| *date < day);
            let Some(index) = usize::try_from(n).ok().and_then(|n| before.checked_sub(n)) else {
                return NEVER;
            };
            let reference = closes[index].1;
            let off = offset(change.percent.raw(), reference).raw();
            if up {
                (
                    NEVER.0,
                    Price::from_raw(reference.raw().saturating_add(off)),
                )
            } else {
                (
                    Price::from_raw(reference.raw().saturating_sub(off)),
                    NEVER.1,
                )
            }
        }
        Condition::TrailingStop(trail) => {
            let long = trail.side == Side::Long;
            let extreme = match (state.activated, state.extreme) {
                (true, Some(extreme)) => extreme,
                _ => {
                    return match trail.activation_price {
                        None => ALWAYS,
                        Some(activation) if long => (NEVER.0, activation),
                        Some(activation) => (activation, NEVER.1),
                    };
                }
            };
            let off = match (trail.percent, trail.amount) {
                (Some(percent), _) => offset(percent.raw(), extreme).raw(),
                (None, Some(amount)) => amount.raw(),
                (None, None) => return NEVER,
            };
            let raw = extreme.raw();
            if long {
                (
                    Price::from_raw(raw.saturating_sub(off)),
                    Price::from_raw(raw.saturating_add(1)),
                )
            } else {
                (
                    Price::from_raw(raw.saturating_sub(1)),
                    Price::from_raw(raw.saturating_add(off)),
                )
            }
        }
        _ => ALWAYS,
    }
}

/// A band no positive price leaves.
pub(crate) const NEVER: (Price, Price) = (Price::from_raw(i64::MIN), Price::from_raw(i64::MAX));
/// A band every price leaves (`p <= i64::MAX`): evaluate on the next tick.
pub(crate) const ALWAYS: (Price, Price) = (Price::from_raw(i64::MAX), Price::from_raw(i64::MAX));
