//! How well stored labels did: for each label and horizon, the forward returns of the days that
//! carried it, against buy-and-hold over the same span.
//!
//! A day's forward return at horizon `h` is `close[d + h] / close[d] - 1`, from adjusted closes,
//! `h` trading days (bars) after the signal day `d`, measured from the close the signal was
//! computed at. Days without `h` later bars are left out of that horizon. The signals
//! themselves use only past bars (see the crate doc), so nothing here lets a future bar into
//! a label; the future is only what the label is judged against.

use std::fmt;

use chrono::NaiveDate;
use domain::SignalLabel;
use serde::{Serialize, Serializer};

/// How many horizons one evaluation may ask for.
pub const MAX_HORIZONS: usize = 8;

/// A forward-return horizon: 1 to [`Horizon::MAX`] trading days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Horizon(u16);

/// A horizon list that cannot be used; the message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HorizonError {
    #[error("horizon '{0}' is not a whole number of trading days from 1 to 252")]
    Invalid(String),
    #[error("give at least one horizon, e.g. horizons=5,20")]
    Empty,
    #[error("at most {MAX_HORIZONS} horizons may be asked for at once, got {0}")]
    TooMany(usize),
}

impl Horizon {
    /// The longest horizon: one year of trading days.
    pub const MAX: u16 = 252;

    /// `days` when it is from 1 to [`Horizon::MAX`].
    pub fn new(days: u32) -> Result<Self, HorizonError> {
        match u16::try_from(days) {
            Ok(days) if (1..=Self::MAX).contains(&days) => Ok(Self(days)),
            _ => Err(HorizonError::Invalid(days.to_string())),
        }
    }

    /// A comma-separated list (`5,20`): each entry 1 to 3 digits without a leading zero or
    /// spaces, at most [`MAX_HORIZONS`] entries; the answer is sorted with duplicates removed.
    ///
    /// Strict on purpose: it accepts exactly what the API document's pattern describes.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, HorizonError> {
        if text.is_empty() {
            return Err(HorizonError::Empty);
        }
        let entries: Vec<&str> = text.split(',').collect();
        if entries.len() > MAX_HORIZONS {
            return Err(HorizonError::TooMany(entries.len()));
        }
        let mut horizons = entries
            .into_iter()
            .map(|entry| {
                let digits = (1..=3).contains(&entry.len())
                    && entry.bytes().all(|b| b.is_ascii_digit())
                    && !entry.starts_with('0');
                let invalid = || HorizonError::Invalid(entry.chars().take(20).collect());
                if !digits {
                    return Err(invalid());
                }
                entry
                    .parse::<u32>()
                    .map_err(|_| invalid())
                    .and_then(Self::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        horizons.sort_unstable();
        horizons.dedup();
        Ok(horizons)
    }

    pub fn days(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for Horizon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Horizon {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.0)
    }
}

/// The whole evaluation: buy-and-hold per horizon, then each label (all five, in order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Signal days evaluated, whatever their label.
    pub days: usize,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub buy_and_hold: Vec<BuyAndHold>,
    pub labels: Vec<LabelEvaluation>,
}

/// Holding the stock through every signal day's next `horizon` days, whatever the label: the
/// baseline a label has to beat. Returns are fractions (0.012 is 1.2 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuyAndHold {
    pub horizon: Horizon,
    /// Signal days with `horizon` later bars.
    pub days: usize,
    pub mean_return: Option<f64>,
    pub median_return: Option<f64>,
    /// The share of those days whose forward return was above 0.
    pub positive_share: Option<f64>,
}

/// One label's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelEvaluation {
    pub label: SignalLabel,
    /// Days that carried the label.
    pub days: usize,
    pub horizons: Vec<LabelHorizon>,
}

/// One label at one horizon. Returns are fractions of the price (0.012 is 1.2 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelHorizon {
    pub horizon: Horizon,
    /// The label's days with `horizon` later bars.
    pub days: usize,
    pub mean_return: Option<f64>,
    pub median_return: Option<f64>,
    /// The share of days the label was right: a forward return above 0 for buy and strong_buy,
    /// below 0 for sell and strong_sell. `None` for neutral, which calls no direction.
    pub hit_rate: Option<f64>,
    /// [`BuyAndHold::mean_return`] at this horizon, repeated for comparison.
    pub buy_and_hold_mean_return: Option<f64>,
    /// `mean_return - buy_and_hold_mean_return`: what the label's days earned above (or, for a
    /// sell label doing its job, below) an average day of the same span.
    pub excess_mean_return: Option<f64>,
}

/// Evaluates `labels` (signal days and their labels) against `closes` (adjusted closes, oldest
/// first, one per trading day) at each of `horizons`. A signal day with no close is skipped.
pub fn evaluate(
    labels: &[(NaiveDate, SignalLabel)],
    closes: &[(NaiveDate, f64)],
    horizons: &[Horizon],
) -> Evaluation {
    // Each signal day's position in the closes, found once.
    let positioned: Vec<(usize, SignalLabel)> = labels
        .iter()
        .filter_map(|(day, label)| {
            closes
                .binary_search_by_key(day, |(date, _)| *date)
                .ok()
                .map(|index| (index, *label))
        })
        .collect();
    let forward = |index: usize, horizon: Horizon| -> Option<f64> {
        let (_, start) = closes.get(index)?;
        let (_, end) = closes.get(index + horizon.days())?;
        (*start > 0.0).then(|| end / start - 1.0)
    };
    let returns_of = |label: Option<SignalLabel>, horizon: Horizon| -> Vec<f64> {
        positioned
            .iter()
            .filter(|(_, l)| label.is_none_or(|label| *l == label))
            .filter_map(|(index, _)| forward(*index, horizon))
            .collect()
    };

    let buy_and_hold: Vec<BuyAndHold> = horizons
        .iter()
        .map(|&horizon| {
            let returns = returns_of(None, horizon);
            BuyAndHold {
                horizon,
                days: returns.len(),
                mean_return: mean(&returns),
                median_return: median(&returns),
                positive_share: share(&returns, |r| r > 0.0),
            }
        })
        .collect();

    let labels = SignalLabel::ALL
        .iter()
        .map(|&label| LabelEvaluation {
            label,
            days: positioned.iter().filter(|(_, l)| *l == label).count(),
            horizons: horizons
                .iter()
                .zip(&buy_and_hold)
                .map(|(&horizon, baseline)| {
                    let returns = returns_of(Some(label), horizon);
                    let mean_return = mean(&returns);
                    let hit_rate = match label {
                        SignalLabel::Buy | SignalLabel::StrongBuy => share(&returns, |r| r > 0.0),
                        SignalLabel::Sell | SignalLabel::StrongSell => share(&returns, |r| r < 0.0),
                        SignalLabel::Neutral => None,
                    };
                    LabelHorizon {
                        horizon,
                        days: returns.len(),
                        mean_return,
                        median_return: median(&returns),
                        hit_rate,
                        buy_and_hold_mean_return: baseline.mean_return,
                        excess_mean_return: mean_return
                            .zip(baseline.mean_return)
                            .map(|(label, baseline)| label - baseline),
                    }
                })
                .collect(),
        })
        .collect();

    let days_seen = positioned.iter().map(|(index, _)| closes[*index].0);
    Evaluation {
        days: positioned.len(),
        from: days_seen.clone().min(),
        to: days_seen.max(),
        buy_and_hold,
        labels,
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

fn share(values: &[f64], hit: impl Fn(f64) -> bool) -> Option<f64> {
    (!values.is_empty())
        .then(|| values.iter().filter(|&&r| hit(r)).count() as f64 / values.len() as f64)
}
