//! Rule validation: every problem of a rule, each naming the wire field it is about and the
//! range it must be in, so the API can answer one 422 listing them all.
//!
//! Every number, duration and instant a rule carries is bounded here, to ranges a user would
//! find sensible and the engine can compute with (a level plus 1000 % of it stays inside
//! [`Price`]; a tick time plus a cooldown stays inside a timestamp for any tick of the next
//! 260 000 years). [`Rule::validate`] is what the rule alone can tell and the engine relies on
//! (it sets aside a rule that fails it instead of evaluating it); [`Rule::validate_at`] adds
//! what needs the clock: `expires_at` in the future and at most [`MAX_EXPIRY_YEARS`] ahead.
//! Whether the symbol is known and the channels are the caller's needs the store: the caller's.

use chrono::{DateTime, TimeDelta, Utc};
use domain::Price;
use serde::Serialize;

use crate::rule::{Condition, Frequency, Move, Percent, Rule, Side, Span, Trail};
use crate::series::SeriesSpec;

/// The highest `price`, `amount` or `activation_price` (100 million): far above any traded
/// price, and low enough that a level plus [`MAX_PERCENT`] of it stays inside a [`Price`]
/// (about ±9.2e9).
pub const MAX_PRICE: Price = Price::from_units(100_000_000);
/// The largest percent a rule may use: beyond it a typo is likelier than an intent.
pub const MAX_PERCENT: Percent = Percent::from_units(1000);
/// The longest `window_days`: about a trading year.
pub const MAX_WINDOW_DAYS: u32 = 260;
/// The shortest `window` and `cooldown`.
pub const MIN_SPAN: Span = Span::from_secs(1);
/// The longest `window`: the engine keeps a window's ticks in memory.
pub const MAX_WINDOW: Span = Span::from_secs(7 * 24 * 3600);
/// The longest `cooldown`: a leap year.
pub const MAX_COOLDOWN: Span = Span::from_secs(366 * 24 * 3600);
/// The largest magnitude of a series rule's `value` (a series can be negative: a MACD
/// histogram, a rate of change).
pub const MAX_VALUE: Price = MAX_PRICE;
/// How far ahead `expires_at` may be.
pub const MAX_EXPIRY_YEARS: i64 = 10;

/// One validation problem: the wire field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl Rule {
    /// Checks the rule's values (no clock needed); `Err` lists every problem found. A rule
    /// that passes can be evaluated on any tick without overflow.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        self.check_values(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// [`Rule::validate`] for a rule being written at `now`: also `expires_at` must be after
    /// `now` and at most [`MAX_EXPIRY_YEARS`] years ahead.
    pub fn validate_at(&self, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        self.check_values(&mut errors);
        if let Some(expires_at) = self.expires_at {
            let latest = now
                .checked_add_signed(TimeDelta::days(MAX_EXPIRY_YEARS * 365 + 3))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            if expires_at <= now || expires_at > latest {
                errors.push(FieldError::new(
                    "expires_at",
                    format!(
                        "must be in the future and at most {MAX_EXPIRY_YEARS} years ahead, \
                         until {} (got {expires_at})",
                        latest.format("%Y-%m-%d")
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn check_values(&self, errors: &mut Vec<FieldError>) {
        match (&self.condition, self.series) {
            (
                Condition::Above { price }
                | Condition::Below { price }
                | Condition::CrossesUp { price }
                | Condition::CrossesDown { price }
                | Condition::Crosses { price },
                None,
            ) => check_price(errors, "price", *price),
            (Condition::MovesUpPct(change), None) => check_move(errors, change, false),
            (Condition::MovesDownPct(change), None) => check_move(errors, change, true),
            (Condition::TrailingStop(trail), None) => check_trail(errors, trail),
            (_, Some(series)) => self.check_series(errors, series),
        }
        if self.series.is_none() {
            if self.value.is_some() {
                errors.push(FieldError::new(
                    "value",
                    "applies only to a rule with a series (e.g. \"series\": \"rsi:14\", \
                     \"value\": 30); a price rule's level is price",
                ));
            }
            if self.other.is_some() {
                errors.push(FieldError::new(
                    "other",
                    "applies only to a rule with a series (e.g. \"series\": \"sma:50\", \
                     \"other\": \"sma:200\")",
                ));
            }
        }
        match (self.frequency, self.cooldown) {
            (Frequency::EveryTime, None) => errors.push(FieldError::new(
                "cooldown",
                "is required when frequency is every_time (e.g. \"15m\"; 1s to 366d)",
            )),
            (Frequency::EveryTime, Some(cooldown)) => {
                check_span(errors, "cooldown", cooldown, MAX_COOLDOWN, "1s and 366d");
            }
            (Frequency::Once | Frequency::OncePerDay, Some(_)) => errors.push(FieldError::new(
                "cooldown",
                "applies only to frequency every_time",
            )),
            (Frequency::Once | Frequency::OncePerDay, None) => {}
        }
    }
}

impl Rule {
    /// A series rule: a level kind, compared with exactly one of `value` and (crossing kinds)
    /// `other`, and no `price`.
    fn check_series(&self, errors: &mut Vec<FieldError>, series: SeriesSpec) {
        let (price, crossing) = match &self.condition {
            Condition::Above { price } | Condition::Below { price } => (*price, false),
            Condition::CrossesUp { price }
            | Condition::CrossesDown { price }
            | Condition::Crosses { price } => (*price, true),
            Condition::MovesUpPct(_) | Condition::MovesDownPct(_) | Condition::TrailingStop(_) => {
                errors.push(FieldError::new(
                    "series",
                    "applies only to kinds above, below, crosses_up, crosses_down and crosses: \
                     moves_up_pct, moves_down_pct and trailing_stop measure percent moves of \
                     the price",
                ));
                return;
            }
        };
        if price != Price::ZERO {
            errors.push(FieldError::new(
                "price",
                format!(
                    "a rule on series {series} compares it with value (a number in the \
                     series' unit){}; price is the level of price rules",
                    if crossing {
                        " or other (a second series)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        match (self.value, self.other) {
            (Some(value), None) if series.is_score() => {
                if value.raw().unsigned_abs() > Price::from_units(1).raw().unsigned_abs() {
                    errors.push(FieldError::new(
                        "value",
                        format!(
                            "must be between -1 and 1 for series {series}: {} is in \
                             [-1, 1] (got {value})",
                            score_name(series)
                        ),
                    ));
                }
            }
            (Some(value), None) => {
                if value.raw().unsigned_abs() > MAX_VALUE.raw().unsigned_abs() {
                    errors.push(FieldError::new(
                        "value",
                        format!("must be between -{MAX_VALUE} and {MAX_VALUE} (got {value})"),
                    ));
                }
            }
            (None, Some(other)) if !crossing => errors.push(FieldError::new(
                "other",
                format!(
                    "applies only to kinds crosses_up, crosses_down and crosses (a crossing of \
                     two series); above and below compare {series} with value (got {other})"
                ),
            )),
            (None, Some(other)) if other == series => errors.push(FieldError::new(
                "other",
                format!("must be another series than series (both are {series})"),
            )),
            (None, Some(other)) if series.is_score() != other.is_score() => {
                errors.push(FieldError::new(
                    "other",
                    format!(
                        "cannot cross {series} with {other}: signal and sentiment are scores \
                         in [-1, 1] and an indicator line is in its own unit (a price, an \
                         RSI), so their crossing means nothing; compare a score with value \
                         (e.g. \"value\": -0.6) instead"
                    ),
                ))
            }
            (None, Some(_)) => {}
            (Some(_), Some(_)) => errors.push(FieldError::new(
                "value",
                "give either value or other, not both",
            )),
            (None, None) => errors.push(FieldError::new(
                "value",
                format!(
                    "is required for a rule on series {series}: the level in the series' unit \
                     (e.g. 30 for rsi:14, -0.6 for signal or sentiment){}",
                    if crossing {
                        ", or give other: a second series to cross"
                    } else {
                        ""
                    }
                ),
            )),
        }
    }
}

fn check_price(errors: &mut Vec<FieldError>, field: &'static str, price: Price) {
    if price == Price::ZERO && field == "price" {
        errors.push(FieldError::new(
            field,
            format!(
                "is required: the level, greater than 0 and at most {MAX_PRICE} (or give series \
                 and value to watch an indicator instead of the price)"
            ),
        ));
    } else if !price.is_positive() || price > MAX_PRICE {
        errors.push(FieldError::new(
            field,
            format!("must be greater than 0 and at most {MAX_PRICE} (got {price})"),
        ));
    }
}

/// `range` is the allowed range as people write it (`1s and 7d`): humantime would print 366
/// days as "1year 18h" (its years have 365.25 days).
fn check_span(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    span: Span,
    max: Span,
    range: &str,
) {
    if span < MIN_SPAN || span > max {
        errors.push(FieldError::new(
            field,
            format!("must be between {range} (got {span})"),
        ));
    }
}

fn check_percent(errors: &mut Vec<FieldError>, percent: Percent, below_100: bool) {
    let max = if below_100 {
        "below 100 for a fall"
    } else {
        "at most 1000"
    };
    let out_of_range = percent.raw() <= 0
        || percent > MAX_PERCENT
        || (below_100 && percent >= Percent::from_units(100));
    if out_of_range {
        errors.push(FieldError::new(
            "percent",
            format!("must be greater than 0 and {max} (got {})", percent.0),
        ));
    }
}

fn check_move(errors: &mut Vec<FieldError>, change: &Move, down: bool) {
    check_percent(errors, change.percent, down);
    let bases = usize::from(change.window_days.is_some())
        + usize::from(change.window.is_some())
        + usize::from(change.vs_previous_close);
    if bases != 1 {
        errors.push(FieldError::new(
            "window_days",
            "give exactly one of window_days, window or vs_previous_close",
        ));
    }
    if let Some(days) = change.window_days
        && !(1..=MAX_WINDOW_DAYS).contains(&days)
    {
        errors.push(FieldError::new(
            "window_days",
            format!("must be between 1 and {MAX_WINDOW_DAYS} trading days (got {days})"),
        ));
    }
    if let Some(window) = change.window {
        check_span(errors, "window", window, MAX_WINDOW, "1s and 7d");
    }
}

fn check_trail(errors: &mut Vec<FieldError>, trail: &Trail) {
    match (trail.percent, trail.amount) {
        (Some(percent), None) => check_percent(errors, percent, trail.side == Side::Long),
        (None, Some(amount)) => check_price(errors, "amount", amount),
        (Some(_), Some(_)) => errors.push(FieldError::new(
            "amount",
            "give either percent or amount, not both",
        )),
        (None, None) => errors.push(FieldError::new(
            "percent",
            "a trailing_stop needs percent or amount",
        )),
    }
    if let Some(activation) = trail.activation_price {
        check_price(errors, "activation_price", activation);
    }
}

/// What a score series is, for messages about its range.
fn score_name(series: SeriesSpec) -> &'static str {
    match series {
        SeriesSpec::Sentiment => "the session's news sentiment",
        _ => "the composite signal score",
    }
}
