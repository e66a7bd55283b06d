//! Rule validation: every problem of a rule, each naming the wire field it is about, so the
//! API can answer one 422 listing them all.
//!
//! What is checked here is what the rule alone can tell. Whether the symbol is known, whether
//! the channels are the user's, and whether `expires_at` is in the future need the store or the
//! clock and are the caller's.

use domain::Price;
use serde::Serialize;

use crate::rule::{Condition, Frequency, Move, Percent, Rule, Side, Span, Trail};

/// The largest percent a rule may use: beyond it a typo is likelier than an intent.
const MAX_PERCENT: Percent = Percent::from_units(1000);
/// The longest `window_days`: about a trading year.
const MAX_WINDOW_DAYS: u32 = 260;
/// The longest `window`: the engine keeps a window's ticks in memory.
const MAX_WINDOW: Span = Span::from_secs(7 * 24 * 3600);

/// One validation problem: the wire field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl Rule {
    /// Checks the rule's values; `Err` lists every problem found.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match &self.condition {
            Condition::Above { price }
            | Condition::Below { price }
            | Condition::CrossesUp { price }
            | Condition::CrossesDown { price }
            | Condition::Crosses { price } => positive_price(&mut errors, "price", *price),
            Condition::MovesUpPct(change) => check_move(&mut errors, change, false),
            Condition::MovesDownPct(change) => check_move(&mut errors, change, true),
            Condition::TrailingStop(trail) => check_trail(&mut errors, trail),
        }
        match (self.frequency, self.cooldown) {
            (Frequency::EveryTime, None) => errors.push(FieldError::new(
                "cooldown",
                "is required when frequency is every_time (e.g. \"15m\")",
            )),
            (Frequency::EveryTime, Some(cooldown)) if cooldown.duration().as_secs() < 1 => {
                errors.push(FieldError::new("cooldown", "must be at least 1s"));
            }
            (Frequency::Once | Frequency::OncePerDay, Some(_)) => errors.push(FieldError::new(
                "cooldown",
                "applies only to frequency every_time",
            )),
            _ => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn positive_price(errors: &mut Vec<FieldError>, field: &'static str, price: Price) {
    if !price.is_positive() {
        errors.push(FieldError::new(
            field,
            format!("must be greater than 0 (got {price})"),
        ));
    }
}

fn check_percent(errors: &mut Vec<FieldError>, percent: Percent, below_100: bool) {
    if percent.raw() <= 0 {
        errors.push(FieldError::new(
            "percent",
            format!("must be greater than 0 (got {})", percent.0),
        ));
    } else if percent > MAX_PERCENT {
        errors.push(FieldError::new(
            "percent",
            format!("must be at most 1000 (got {})", percent.0),
        ));
    } else if below_100 && percent >= Percent::from_units(100) {
        errors.push(FieldError::new(
            "percent",
            format!("must be below 100 for a fall (got {})", percent.0),
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
    if let Some(window) = change.window
        && (window.duration().as_secs() < 1 || window > MAX_WINDOW)
    {
        errors.push(FieldError::new(
            "window",
            format!("must be between 1s and 7days (got {window})"),
        ));
    }
}

fn check_trail(errors: &mut Vec<FieldError>, trail: &Trail) {
    match (trail.percent, trail.amount) {
        (Some(percent), None) => check_percent(errors, percent, trail.side == Side::Long),
        (None, Some(amount)) => positive_price(errors, "amount", amount),
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
        positive_price(errors, "activation_price", activation);
    }
}
