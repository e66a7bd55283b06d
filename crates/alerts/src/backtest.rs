//! Backtests (the dry run): when would a rule have fired over past daily bars?
//!
//! # The replay model
//!
//! - **A bar is a path of four ticks** through an ordinary [`Engine`], so the answer comes from
//!   the same evaluator as live alerts. A daily bar does not say in which order its high and
//!   low happened; we take the path that moves least: open → low → high → close when the bar
//!   closed up (it probably dipped first, then rallied into the close), open → high → low →
//!   close when it closed down or flat. Ticks are stamped at New York session times (09:30
//!   open, 11:00 and 14:00 for the extremes, 16:00 close; 09:30, 10:30, 11:30 and 13:00 on
//!   early-close days), so `once_per_day`, cooldowns and `window` durations see realistic time.
//! - **A rule fires at most once per bar.** The four ticks are one day's summary, not four
//!   quotes: after a fire the rule rests for the rest of the bar (the ticks still move the
//!   price it will compare with), so an `every_time` rule with a short cooldown reports a flat
//!   day above its level once, not four times. A `crosses` rule reports the first crossing of
//!   the bar's path.
//! - **Each bar is its own session**: `window_days` counts the bars before it, `once_per_day`
//!   allows one fire per bar.
//! - **A backtest from `from` starts warm.** The rule is armed as if created just before the
//!   first tick of `from`, but the market it meets is not new: the bars before `from` are
//!   replayed first (the last bar, and every bar within the longest `window` before it), so
//!   a crossing on `from`'s open compares with the previous close, a `window` move sees the
//!   ticks before `from`, and `window_days` counts back into the bars before `from`. Nothing is
//!   reported before `from`, and the rule's own state (a trailing peak, a fire) starts at
//!   `from`.
//! - **A series rule is evaluated once per bar**, at the bar's close (16:00 New York, 13:00 on
//!   early closes), on the series' value for the whole bar ([`Candle::from_bar`]: split-adjusted,
//!   as every indicator read); a crossing compares it with the bar before. Every bar before
//!   `from` feeds the indicators (an EMA or RSI depends on all of its history), so a series'
//!   value on a day is the same whatever `from` is. A bar whose series is still warming up
//!   never fires, and is never the previous value of a crossing. `"series": "signal"` is the
//!   day's composite signal score, computed from that bar and the ones before it (with the
//!   session's news sentiment when given: [`backtest_with_sentiment`]); `"series":
//!   "sentiment"` is that session's news sentiment, and a session without scored news has no
//!   value.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use domain::{Bar, Price, SignalsConfig, TradingCalendar, new_york};
use indicators::Candle;
use serde::Serialize;

use crate::aside::SetAside;
use crate::engine::{Engine, Tick};
use crate::rule::Rule;
use crate::state::RuleState;
use crate::validate::MAX_WINDOW;

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

/// The id of the one rule in a backtest's engine.
const RULE: i64 = 0;

/// Replays `bars` (any order; one per date) through `rule`, reporting the fires on bars dated
/// `from` or later (all bars when `None`); see the module docs for the model. The rule's
/// `expires_at` applies as in live evaluation. `Err` when the engine sets the rule aside (its
/// values are out of range, or a tick cannot be evaluated), as live evaluation would.
pub fn backtest(
    rule: &Rule,
    bars: &[Bar],
    calendar: TradingCalendar,
    from: Option<NaiveDate>,
) -> Result<Vec<Fire>, SetAside> {
    backtest_with_signals(rule, bars, calendar, from, SignalsConfig::default())
}

/// [`backtest`] with `"series": "signal"` computed under `signals` (the configured weights and
/// thresholds, as the signal endpoints use them).
pub fn backtest_with_signals(
    rule: &Rule,
    bars: &[Bar],
    calendar: TradingCalendar,
    from: Option<NaiveDate>,
    signals: SignalsConfig,
) -> Result<Vec<Fire>, SetAside> {
    backtest_with_sentiment(rule, bars, calendar, from, signals, &BTreeMap::new())
}

/// [`backtest_with_signals`] with each trading session's news sentiment in [-1, 1]
/// (`sentiment`, by the session's date; a session without an entry has no scored news): the
/// values of `"series": "sentiment"` and the signal's sentiment component, as
/// `signals::news::session_series` groups the stored scores.
pub fn backtest_with_sentiment(
    rule: &Rule,
    bars: &[Bar],
    calendar: TradingCalendar,
    from: Option<NaiveDate>,
    signals: SignalsConfig,
    sentiment: &BTreeMap<NaiveDate, f64>,
) -> Result<Vec<Fire>, SetAside> {
    let mut bars = bars.to_vec();
    bars.sort_by_key(|bar| bar.date);
    let start = from.map_or(0, |from| bars.partition_point(|bar| bar.date < from));
    if rule.series.is_some() {
        return backtest_series(rule, &bars, calendar, start, signals, sentiment);
    }
    let mut engine = Engine::with_calendar(calendar);
    // Every close is given up front: the evaluator only ever looks at bars before the tick's
    // own, so nothing leaks from the future.
    let closes: Vec<(NaiveDate, Price)> = bars.iter().map(|bar| (bar.date, bar.close)).collect();
    engine.set_reference_closes(rule.symbol, &closes);
    engine.insert(RULE, rule.clone(), RuleState::armed());
    check(&mut engine)?;

    // Warm-up: the market before `from`, without the rule's own fires.
    let warm_from = bars.get(..start).map_or(0, warm_up_start);
    for bar in bars.get(warm_from..start).unwrap_or_default() {
        replay_bar(&mut engine, rule, bar, &calendar)?;
    }
    if start > 0 {
        // The rule as created at `from`: armed, whatever the warm-up did to it.
        engine.insert(RULE, rule.clone(), RuleState::armed());
        check(&mut engine)?;
    }

    let mut fires = Vec::new();
    for bar in bars.get(start..).unwrap_or_default() {
        fires.extend(replay_bar(&mut engine, rule, bar, &calendar)?);
        if engine.state(RULE).is_none_or(|state| !state.armed) {
            break;
        }
    }
    Ok(fires)
}

/// [`backtest`] of a series rule over `bars` (sorted), reporting from `bars[start]` on.
fn backtest_series(
    rule: &Rule,
    bars: &[Bar],
    calendar: TradingCalendar,
    start: usize,
    signals: SignalsConfig,
    sentiment: &BTreeMap<NaiveDate, f64>,
) -> Result<Vec<Fire>, SetAside> {
    let mut engine = Engine::with_calendar(calendar);
    engine.set_signals_config(signals);
    engine.insert(RULE, rule.clone(), RuleState::armed());
    check(&mut engine)?;
    let (before, after) = bars.split_at(start.min(bars.len()));
    for bar in before {
        let day_sentiment = sentiment.get(&bar.date).copied();
        engine.push_series_bar(rule.symbol, Candle::from_bar(bar), day_sentiment);
    }
    let mut fires = Vec::new();
    for bar in after {
        let [.., (at, close)] = bar_path(bar, &calendar);
        let tick = Tick {
            symbol: rule.symbol,
            price: close,
            at,
            source: "backtest".to_owned(),
        };
        let day_sentiment = sentiment.get(&bar.date).copied();
        let triggers =
            engine.on_series_close(&tick, bar.date, Candle::from_bar(bar), day_sentiment);
        check(&mut engine)?;
        fires.extend(triggers.into_iter().map(|trigger| Fire {
            date: bar.date,
            at: trigger.at,
            price: trigger.price,
            message: trigger.message,
        }));
        if engine.state(RULE).is_none_or(|state| !state.armed) {
            break;
        }
    }
    Ok(fires)
}

/// The index of the first bar of the warm-up before `from`: the last bar, and every bar whose
/// close is within the longest `window` of it.
fn warm_up_start(before: &[Bar]) -> usize {
    let Some(last) = before.last() else {
        return 0;
    };
    let reach = Days::new(MAX_WINDOW.duration().as_secs().div_ceil(86_400) + 1);
    let earliest = last.date.checked_sub_days(reach).unwrap_or(NaiveDate::MIN);
    before.partition_point(|bar| bar.date < earliest)
}

/// Replays one bar; returns its fire (at most one: the rule rests for the rest of the bar
/// after firing).
fn replay_bar(
    engine: &mut Engine,
    rule: &Rule,
    bar: &Bar,
    calendar: &TradingCalendar,
) -> Result<Option<Fire>, SetAside> {
    let mut fire = None;
    let mut resting = None;
    for (at, price) in bar_path(bar, calendar) {
        let tick = Tick {
            symbol: rule.symbol,
            price,
            at,
            source: "backtest".to_owned(),
        };
        let triggers = engine.on_tick_in_session(&tick, bar.date);
        check(engine)?;
        if let Some(trigger) = triggers.into_iter().next() {
            fire = Some(Fire {
                date: bar.date,
                at: trigger.at,
                price: trigger.price,
                message: trigger.message,
            });
            // Out of the engine for the rest of the bar; the ticks still reach the symbol's
            // last price and windows.
            resting = engine.remove(RULE);
        }
    }
    if let Some((rule, state)) = resting {
        engine.insert(RULE, rule, state);
        check(engine)?;
    }
    Ok(fire)
}

/// The rule set aside by the engine, if it was.
fn check(engine: &mut Engine) -> Result<(), SetAside> {
    match engine.take_set_aside().pop() {
        Some(aside) => Err(aside),
        None => Ok(()),
    }
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
    let at = |i: usize| new_york::instant(bar.date, times[i]);
    [
        (at(0), bar.open),
        (at(1), first),
        (at(2), second),
        (at(3), bar.close),
    ]
}
