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
    price: Price,
) -> (Price, Price) {
    let (lo, hi) = raw_band(rule, state, day, closes, window, price);
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
    price: Price,
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
                    return window_band(up, change.percent.raw(), extreme, price);
                }
                None => return NEVER,
            };
            let before = closes.partition_point(|(date, _)| *date < day);
            // (`window_days: 0`, refused by validation, would index one past the closes.)
            let Some(&(_, reference)) = usize::try_from(n)
                .ok()
                .and_then(|n| before.checked_sub(n))
                .and_then(|index| closes.get(index))
            else {
                return NEVER;
            };
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

/// The band of a `window` move whose window extreme is `extreme` after a tick at `price`.
///
/// The band is not tied to the extreme itself (that would re-file the rule on every new low or
/// high): it is filed against a *floor* `f` below the window's low (up moves; mirrored for down
/// moves, a ceiling above its high) as `(f, f + percent · f)`. Strictly inside it no tick can
/// fire: every tick since filing and every tick left in the window is above `f` (old ticks
/// only leave), so the reference low `r > f` and a fire needs `p ≥ r · (1 + percent) >
/// f · (1 + percent)`, the high end rounded down. The floor is set so that the price is about
/// as far from either end (`f ≈ price / (1 + percent / 2)`), but never at or above the low.
fn window_band(up: bool, percent_raw: i64, extreme: Price, price: Price) -> (Price, Price) {
    let percent = i128::from(percent_raw);
    let extreme = i128::from(extreme.raw());
    let price = i128::from(price.raw());
    let clamp = |raw: i128| {
        Price::from_raw(
            i64::try_from(raw.clamp(i128::from(i64::MIN), i128::from(i64::MAX)))
                .unwrap_or(i64::MAX),
        )
    };
    if percent <= 0 {
        return ALWAYS;
    }
    if up {
        let floor = (2 * price * HUNDRED / (2 * HUNDRED + percent)).min(extreme - 1);
        (clamp(floor), clamp(floor + floor * percent / HUNDRED))
    } else {
        // Down moves: a ceiling `c` above the high; a fire needs `p ≤ r · (1 - percent)` with
        // `r < c`, so the low end `c - percent · c` (rounded up) is below every firing price.
        // (A fall of 100 % or more never fires; its ceiling just sits above the high.)
        let balanced = if percent < HUNDRED {
            2 * price * HUNDRED / (2 * HUNDRED - percent)
        } else {
            extreme + 1
        };
        let ceiling = balanced.max(extreme + 1);
        (clamp(ceiling - ceiling * percent / HUNDRED), clamp(ceiling))
    }
}

/// A band no positive price leaves.
pub(crate) const NEVER: (Price, Price) = (Price::from_raw(i64::MIN), Price::from_raw(i64::MAX));
/// A band every price leaves (`p <= i64::MAX`): evaluate on the next tick.
pub(crate) const ALWAYS: (Price, Price) = (Price::from_raw(i64::MAX), Price::from_raw(i64::MAX));
