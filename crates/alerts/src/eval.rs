//! The evaluator: whether one rule fires on one tick, and how its state changes.
//!
//! This is the only place that decides a fire. The [`Engine`](crate::Engine) calls it for the
//! candidates its index selects, [`backtest`](crate::backtest) through the engine, and the tests'
//! naive reference for every rule on every tick — which is how the tests prove the index never
//! skips a rule that would have fired.
//!
//! Comparisons are exact: percent thresholds are decided in `i128` on the raw fixed-point
//! values (`(p - r) · 100 ≥ percent · r`), never in `f64`. No arithmetic here can overflow or
//! panic, whatever the rule, state or tick: prices meet in `i128`, instants are added checked.
//! What cannot be computed (a cooldown ending past the last instant a timestamp holds) is an
//! [`EvalError`] for that one rule, which the engine then sets aside.

use std::collections::VecDeque;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::{Price, Symbol};

use crate::message::{money, percent};
use crate::rule::{Condition, Frequency, Move, MoveBasis, Rule, Side, Span, Trail};
use crate::series::shown;
use crate::session::next_day_start;
use crate::state::RuleState;

/// 100 % in raw percent units (percents share the price scale of 1e-9).
pub(crate) const HUNDRED: i128 = 100 * 1_000_000_000;

/// What the evaluator knows about the tick being evaluated.
#[derive(Debug, Clone, Copy)]
pub struct TickContext<'a> {
    pub symbol: Symbol,
    /// The symbol's previous accepted price, if any.
    pub previous: Option<Price>,
    /// That price's time: the spacing of the symbol's quotes, which decides how close to the
    /// end of a cooldown a quote may fire (see [`cooldown_tolerance`]).
    pub previous_at: Option<DateTime<Utc>>,
    pub price: Price,
    pub at: DateTime<Utc>,
    /// The session of the tick: the NYSE trading day of `at` live, the bar's own date in a
    /// backtest. `window_days` counts the closes dated before it.
    pub day: NaiveDate,
    /// The symbol's daily closes, oldest first (for `window_days` and previous-close moves).
    pub closes: &'a [(NaiveDate, Price)],
}

/// The recent ticks of a `window` move, kept monotonic so the extreme is at the front: rising
/// prices for an up move (front = lowest), falling for a down move (front = highest).
///
/// The engine keeps one per symbol, duration and direction, shared by the rules that use it,
/// and feeds it every tick of the symbol before evaluating. Runtime only: after a restart a
/// window starts empty and refills from new ticks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    ticks: VecDeque<(DateTime<Utc>, Price)>,
    /// Copies of the deque's front tick (the extreme) and back price (the newest tick), kept
    /// next to it so that a tick which drops nothing writes the deque without reading it.
    front: Option<(DateTime<Utc>, Price)>,
    back: Option<Price>,
}

impl Window {
    /// Adds a tick and drops ticks older than `span` before it; `keep_lowest` for up moves.
    pub fn observe(&mut self, at: DateTime<Utc>, price: Price, span: Span, keep_lowest: bool) {
        // A tick that is no better than the new one can never be the extreme again.
        let dominated = |back: Price| {
            if keep_lowest {
                back >= price
            } else {
                back <= price
            }
        };
        let mut front = self.front;
        if self.back.is_some_and(dominated) {
            self.ticks.pop_back();
            while self.ticks.back().is_some_and(|&(_, back)| dominated(back)) {
                self.ticks.pop_back();
            }
            if self.ticks.is_empty() {
                front = None;
            }
        }
        self.ticks.push_back((at, price));
        self.back = Some(price);
        let front = front.unwrap_or((at, price));
        // A window reaching back before the first instant a timestamp holds keeps everything.
        let start = at
            .checked_sub_signed(span.delta())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        self.front = if front.0 < start {
            while self.ticks.front().is_some_and(|&(t, _)| t < start) {
                self.ticks.pop_front();
            }
            self.ticks.front().copied()
        } else {
            Some(front)
        };
    }

    /// The lowest (up moves) or highest (down moves) price in the window.
    pub fn extreme(&self) -> Option<Price> {
        self.front.map(|(_, price)| price)
    }
}

/// Why one rule cannot be evaluated on one tick: a value the computation cannot hold. Names the
/// rule's field at fault, as validation would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct EvalError {
    pub field: &'static str,
    pub message: String,
}

/// The result of evaluating one rule on one tick.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The state changed (and should be persisted).
    pub changed: bool,
    /// The rule fired, with the human message.
    pub fired: Option<String>,
}

/// The window a rule reads, as `(duration, keep_lowest)`, for `window` moves.
pub fn window_of(rule: &Rule) -> Option<(Span, bool)> {
    match &rule.condition {
        Condition::MovesUpPct(change) | Condition::MovesDownPct(change) => match change.basis() {
            Some(MoveBasis::Window(span)) => {
                Some((span, matches!(rule.condition, Condition::MovesUpPct(_))))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Evaluates `rule` on the tick in `ctx`, updating `state`. `window` is the rule's window
/// (see [`window_of`]), already fed this tick. On `Err` the state may be half updated: the rule
/// cannot go on being evaluated and is to be set aside.
pub fn evaluate(
    rule: &Rule,
    state: &mut RuleState,
    window: Option<&Window>,
    ctx: &TickContext<'_>,
) -> Result<Outcome, EvalError> {
    // The steps of [`gate`], written out: this is the price path's hot function, and a call
    // returning an `Option<Outcome>` cost it measurably (bench/BENCHMARKS.md).
    if !state.armed {
        return Ok(Outcome::default());
    }
    if rule.expires_at.is_some_and(|expiry| ctx.at >= expiry) {
        state.armed = false;
        state.expired = true;
        return Ok(Outcome {
            changed: true,
            fired: None,
        });
    }
    if resting(rule, state, ctx) {
        return Ok(Outcome::default());
    }
    let mut changed = false;
    let fired = match &rule.condition {
        Condition::Above { price: level } => (ctx.price > *level).then(|| {
            format!(
                "{} is above {} (now {})",
                ctx.symbol,
                money(*level),
                money(ctx.price)
            )
        }),
        Condition::Below { price: level } => (ctx.price < *level).then(|| {
            format!(
                "{} is below {} (now {})",
                ctx.symbol,
                money(*level),
                money(ctx.price)
            )
        }),
        Condition::CrossesUp { price: level } => crossed_up(ctx, *level),
        Condition::CrossesDown { price: level } => crossed_down(ctx, *level),
        Condition::Crosses { price: level } => {
            crossed_up(ctx, *level).or_else(|| crossed_down(ctx, *level))
        }
        Condition::MovesUpPct(change) => moved(change, true, window, ctx),
        Condition::MovesDownPct(change) => moved(change, false, window, ctx),
        Condition::TrailingStop(trail) => trailed(rule, trail, state, ctx, &mut changed),
    };
    if changed {
        state.last_price = Some(ctx.price);
        state.last_at = Some(ctx.at);
    }
    if fired.is_some() {
        record_fire(rule, state, ctx)?;
        changed = true;
    }
    Ok(Outcome { changed, fired })
}

/// What a series rule compares on one tick: its series' value now and at the previous
/// evaluation, and its level's (a constant `value`, or the `other` series'). `None` while a
/// series is still warming up (or its bars are not loaded): nothing then fires.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SeriesReading {
    pub now: Option<f64>,
    pub previous: Option<f64>,
    pub level_now: Option<f64>,
    pub level_previous: Option<f64>,
}

/// [`evaluate`] for a rule with a `series`: the same arming, expiry, frequency, cooldown and
/// fire bookkeeping, with the condition decided on `reading` instead of the tick's price. The
/// crossing semantics are the price's (at or below before, strictly above now).
pub fn evaluate_series(
    rule: &Rule,
    state: &mut RuleState,
    ctx: &TickContext<'_>,
    reading: &SeriesReading,
) -> Result<Outcome, EvalError> {
    if let Some(outcome) = gate(rule, state, ctx) {
        return Ok(outcome);
    }
    let fired = series_fired(rule, ctx, reading);
    if fired.is_some() {
        record_fire(rule, state, ctx)?;
        return Ok(Outcome {
            changed: true,
            fired,
        });
    }
    Ok(Outcome::default())
}

fn series_fired(rule: &Rule, ctx: &TickContext<'_>, reading: &SeriesReading) -> Option<String> {
    rule.series?;
    let now = reading.now?;
    let level_now = reading.level_now?;
    let (up, down) = match rule.condition {
        Condition::Above { .. } => {
            return (now > level_now).then(|| series_message(rule, ctx, "is above", reading));
        }
        Condition::Below { .. } => {
            return (now < level_now).then(|| series_message(rule, ctx, "is below", reading));
        }
        Condition::CrossesUp { .. } => (true, false),
        Condition::CrossesDown { .. } => (false, true),
        Condition::Crosses { .. } => (true, true),
        Condition::MovesUpPct(_) | Condition::MovesDownPct(_) | Condition::TrailingStop(_) => {
            return None;
        }
    };
    let previous = reading.previous?;
    let level_previous = reading.level_previous?;
    if up && previous <= level_previous && now > level_now {
        return Some(series_message(rule, ctx, "crossed above", reading));
    }
    if down && previous >= level_previous && now < level_now {
        return Some(series_message(rule, ctx, "crossed below", reading));
    }
    None
}

/// E.g. `MSFT rsi:14 crossed below 30 (now 29.41, price 402.10)` or `MSFT sma:50 crossed above
/// sma:200 (sma:50 412.31, sma:200 410.02)`.
fn series_message(
    rule: &Rule,
    ctx: &TickContext<'_>,
    verb: &str,
    reading: &SeriesReading,
) -> String {
    let series = rule.series.map(|s| s.to_string()).unwrap_or_default();
    let now = reading.now.map(shown).unwrap_or_default();
    match (rule.other, rule.value) {
        (Some(other), _) => format!(
            "{} {series} {verb} {other} ({series} {now}, {other} {}; price {})",
            ctx.symbol,
            reading.level_now.map(shown).unwrap_or_default(),
            money(ctx.price)
        ),
        (None, value) => format!(
            "{} {series} {verb} {} (now {now}; price {})",
            ctx.symbol,
            value.unwrap_or_default(),
            money(ctx.price)
        ),
    }
}

/// The steps every rule takes before its condition is asked: nothing while disarmed; expiry;
/// nothing while a repeating rule rests. `None` when the condition decides. (The same steps
/// as at the top of [`evaluate`], which keeps them inline.)
fn gate(rule: &Rule, state: &mut RuleState, ctx: &TickContext<'_>) -> Option<Outcome> {
    if !state.armed {
        return Some(Outcome::default());
    }
    if rule.expires_at.is_some_and(|expiry| ctx.at >= expiry) {
        state.armed = false;
        state.expired = true;
        return Some(Outcome {
            changed: true,
            fired: None,
        });
    }
    if resting(rule, state, ctx) {
        return Some(Outcome::default());
    }
    None
}

/// True while a repeating rule waits after a fire (same trading day, or inside its cooldown).
fn resting(rule: &Rule, state: &RuleState, ctx: &TickContext<'_>) -> bool {
    match rule.frequency {
        Frequency::Once => false,
        Frequency::OncePerDay => state.fired_day.is_some_and(|day| day >= ctx.day),
        Frequency::EveryTime => state.cooldown_until.is_some_and(|until| {
            let earliest = until
                .checked_sub_signed(cooldown_tolerance(rule, ctx))
                .unwrap_or(until);
            ctx.at < earliest
        }),
    }
}

/// How long before the end of its cooldown an `every_time` rule may fire again on this tick:
/// half the time since the symbol's previous quote, and never more than a tenth of the
/// cooldown.
///
/// Quotes arrive on a schedule that jitters: polled every second, the quote after a fire can
/// land a fraction of a millisecond short of a one-second cooldown, and a strict comparison
/// then skips it, and the one after, so "every second" fired on only 62 % of quotes (and
/// "every minute" on 15 s polls became every 75 s). With the tolerance the rule fires on the
/// quote *nearest* the end of its cooldown: a quote earlier than the end by less than half the
/// quote spacing is closer to it than the next quote will be. The tenth of the cooldown bounds
/// what a long gap between quotes (a poller restart) can bring forward.
pub fn cooldown_tolerance(rule: &Rule, ctx: &TickContext<'_>) -> TimeDelta {
    let Some(cooldown) = rule.cooldown else {
        return TimeDelta::zero();
    };
    let cap = cooldown.delta() / COOLDOWN_TOLERANCE_DIVISOR;
    let half_gap = ctx
        .previous_at
        .map_or(TimeDelta::zero(), |previous| (ctx.at - previous) / 2);
    half_gap.clamp(TimeDelta::zero(), cap)
}

/// The largest tolerance is the cooldown divided by this.
const COOLDOWN_TOLERANCE_DIVISOR: i32 = 10;

/// When a resting rule may fire again, at the earliest (`None` if it is not resting on
/// anything). For `every_time` that is the end of the cooldown less the largest tolerance: the
/// tick then decides ([`cooldown_tolerance`]).
pub(crate) fn rearm_at(rule: &Rule, state: &RuleState) -> Option<DateTime<Utc>> {
    match rule.frequency {
        Frequency::Once => None,
        Frequency::OncePerDay => state.fired_day.map(next_day_start),
        Frequency::EveryTime => state.cooldown_until.map(|until| {
            let cap = rule.cooldown.map_or(TimeDelta::zero(), |c| {
                c.delta() / COOLDOWN_TOLERANCE_DIVISOR
            });
            until.checked_sub_signed(cap).unwrap_or(until)
        }),
    }
}

fn record_fire(rule: &Rule, state: &mut RuleState, ctx: &TickContext<'_>) -> Result<(), EvalError> {
    state.last_price = Some(ctx.price);
    state.last_at = Some(ctx.at);
    state.last_fired_at = Some(ctx.at);
    state.fired_day = Some(ctx.day);
    state.fire_count = state.fire_count.saturating_add(1);
    match rule.frequency {
        Frequency::Once => state.armed = false,
        Frequency::OncePerDay => {}
        Frequency::EveryTime => {
            state.cooldown_until = match rule.cooldown {
                None => None,
                Some(cooldown) => Some(ctx.at.checked_add_signed(cooldown.delta()).ok_or_else(
                    || EvalError {
                        field: "cooldown",
                        message: format!(
                            "a cooldown of {cooldown} after a fire at {} ends past the last \
                             instant a timestamp holds",
                            ctx.at
                        ),
                    },
                )?),
            };
        }
    }
    // A repeating trailing stop trails again from the price after it re-arms ("since armed").
    if rule.frequency != Frequency::Once {
        state.activated = false;
        state.extreme = None;
    }
    Ok(())
}

/// Pine's `ta.crossover`: the previous price at or below the level, this one strictly above.
/// A touch of the level is not a crossing; leaving it upwards is.
fn crossed_up(ctx: &TickContext<'_>, level: Price) -> Option<String> {
    let previous = ctx.previous?;
    (previous <= level && ctx.price > level).then(|| {
        format!(
            "{} crossed above {} (now {})",
            ctx.symbol,
            money(level),
            money(ctx.price)
        )
    })
}

/// Pine's `ta.crossunder`: the previous price at or above the level, this one strictly below.
fn crossed_down(ctx: &TickContext<'_>, level: Price) -> Option<String> {
    let previous = ctx.previous?;
    (previous >= level && ctx.price < level).then(|| {
        format!(
            "{} crossed below {} (now {})",
            ctx.symbol,
            money(level),
            money(ctx.price)
        )
    })
}

/// `(to - from) · 100 ≥ percent · from`, exactly, for a move of at least `percent` from `from`.
fn moved_at_least(from: Price, to: Price, percent_raw: i64) -> bool {
    let diff = i128::from(to.raw()) - i128::from(from.raw());
    diff != 0 && diff.abs() * HUNDRED >= i128::from(percent_raw) * i128::from(from.raw())
}

fn moved(
    change: &Move,
    up: bool,
    window: Option<&Window>,
    ctx: &TickContext<'_>,
) -> Option<String> {
    let (reference, basis) = match change.basis()? {
        MoveBasis::Sessions(n) => {
            let before = ctx.closes.partition_point(|(date, _)| *date < ctx.day);
            let index = before.checked_sub(usize::try_from(n).ok()?)?;
            let &(_, close) = ctx.closes.get(index)?;
            let basis = if n == 1 {
                format!("the previous close {}", money(close))
            } else {
                format!("the close {n} sessions back ({})", money(close))
            };
            (close, basis)
        }
        MoveBasis::Window(span) => {
            let extreme = window?.extreme()?;
            let which = if up { "low" } else { "high" };
            (
                extreme,
                format!("the {which} of the last {span} ({})", money(extreme)),
            )
        }
    };
    let direction_ok = if up {
        ctx.price > reference
    } else {
        ctx.price < reference
    };
    if !reference.is_positive()
        || !direction_ok
        || !moved_at_least(reference, ctx.price, change.percent.raw())
    {
        return None;
    }
    let pct = ctx.price.percent_change_from(reference).unwrap_or_default();
    let word = if up { "up" } else { "down" };
    Some(format!(
        "{} is {word} {} versus {basis} (now {})",
        ctx.symbol,
        percent(pct.abs()),
        money(ctx.price)
    ))
}

fn trailed(
    rule: &Rule,
    trail: &Trail,
    state: &mut RuleState,
    ctx: &TickContext<'_>,
    changed: &mut bool,
) -> Option<String> {
    let price = ctx.price;
    let long = trail.side == Side::Long;
    let extreme = match (state.activated, state.extreme) {
        (true, Some(extreme)) => {
            let better = if long {
                price > extreme
            } else {
                price < extreme
            };
            if better {
                state.extreme = Some(price);
                *changed = true;
                price
            } else {
                extreme
            }
        }
        _ => {
            let reached = match trail.activation_price {
                None => true,
                Some(activation) if long => price >= activation,
                Some(activation) => price <= activation,
            };
            if !reached {
                return None;
            }
            state.activated = true;
            state.extreme = Some(price);
            *changed = true;
            price
        }
    };
    let given_back = if long {
        i128::from(extreme.raw()) - i128::from(price.raw())
    } else {
        i128::from(price.raw()) - i128::from(extreme.raw())
    };
    let fires = given_back > 0
        && match (trail.percent, trail.amount) {
            (Some(pct), _) => {
                given_back * HUNDRED >= i128::from(pct.raw()) * i128::from(extreme.raw())
            }
            (None, Some(amount)) => given_back >= i128::from(amount.raw()),
            (None, None) => false,
        };
    if !fires {
        return None;
    }
    let level = state.trigger_level(rule).unwrap_or(extreme);
    let pct = price.percent_change_from(extreme).unwrap_or_default().abs();
    let (verb, which) = if long {
        ("fell", "high")
    } else {
        ("rose", "low")
    };
    Some(format!(
        "{} {verb} {} from its {which} of {} to {} (trailing stop at {})",
        ctx.symbol,
        percent(pct),
        money(extreme),
        money(price),
        money(level)
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    /// The monotonic window (with its cached front and back) against the plain definition:
    /// the lowest or highest price among the ticks no older than `span` before the last one.
    #[test]
    fn window_extreme_is_the_min_or_max_of_the_last_span() {
        for seed in 0..20 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let span = Span::from_secs(rng.u64(1..=30));
            for keep_lowest in [true, false] {
                let mut window = Window::default();
                let mut seen: Vec<(DateTime<Utc>, Price)> = Vec::new();
                let mut at = DateTime::<Utc>::default();
                for _ in 0..2_000 {
                    at += TimeDelta::milliseconds(rng.i64(0..=3_000));
                    let price = Price::from_raw(rng.i64(1..=20) * 1_000_000_000);
                    window.observe(at, price, span, keep_lowest);
                    seen.push((at, price));
                    let start = at - span.delta();
                    let live = seen.iter().filter(|(t, _)| *t >= start).map(|(_, p)| *p);
                    let expected = if keep_lowest { live.min() } else { live.max() };
                    assert_eq!(
                        window.extreme(),
                        expected,
                        "seed {seed}, lowest {keep_lowest}"
                    );
                }
            }
        }
    }
}
