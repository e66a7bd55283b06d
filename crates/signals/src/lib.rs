//! Composite trading signals: method v1, which turns a symbol's daily bars into one
//! [`domain::Signal`] per trading day, and the evaluation of stored labels against what prices
//! did next.
//!
//! This crate owns the arithmetic only: no I/O, no clock (the caller says when a signal was
//! computed), no store. Bars enter as `domain::Bar`s, oldest first, and are read through
//! [`indicators::Candle::from_bar`] (split- and dividend-adjusted); an optional
//! [`SentimentSeries`] adds the sentiment component; signals leave as `domain::Signal`s
//! and evaluations as [`Evaluation`]s.
//!
//! # Method v1
//!
//! Four price components, each a sub-score in [-1, 1] with the readings behind it (see
//! [`components`] for the exact scaling):
//!
//! - **trend**: close against SMA 50 and SMA 200, SMA 50 against SMA 200, MACD (12, 26, 9)
//!   histogram;
//! - **momentum**: RSI 14 centred on 50, 20-day rate of change;
//! - **mean reversion**: Bollinger %b (20, 2), RSI 14 below 30 (oversold) or above 70
//!   (overbought);
//! - **volatility**: the 20-day annualised volatility's rank in its own past year (calm is
//!   risk-on, turbulent risk-off);
//!
//! plus **sentiment** when a news source gives a reading for the day. A component whose
//! indicators are still warming up (trend needs 200 bars, volatility 20 + 252) or that has no
//! data is left out: it is listed in `missing` and the configured weights of the others are
//! renormalised to sum to 1. The score is the weighted sum, rounded to 4 decimal places, and
//! the label follows the configured thresholds. A day with no component at all has no signal.
//!
//! Each day is computed from that day's bar and earlier ones only ([`Tracker`] folds bars in
//! order), so appending or changing later bars never changes an earlier day's signal.
//!
//! The [`Method`]'s name (`v1-` and a fingerprint of the weights and thresholds) changes with
//! any of them, so signals stored under one configuration are never overwritten by another.

pub mod components;
mod evaluation;
pub mod news;
mod readings;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    Bar, ComponentName, Evidence, Signal, SignalComponent, SignalError, SignalLabel, SignalMethod,
    SignalScore, SignalsConfig, Symbol,
};
use indicators::Candle;

pub use evaluation::{
    BuyAndHold, Evaluation, Horizon, HorizonError, LabelEvaluation, LabelHorizon, evaluate,
};
pub use readings::{Bands, Readings, Tracker, VOLATILITY_LOOKBACK};

/// The version of the computation itself; [`Method::name`] adds the configuration's fingerprint.
pub const ALGORITHM: &str = "v1";

/// One day's news sentiment, as a news source provides it: a score in [-1, 1] and the readings
/// behind it (article counts, the strongest headline, …).
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentReading {
    pub score: SignalScore,
    pub evidence: Evidence,
}

/// Sentiment by trading day; a day without an entry has no sentiment component. Each entry
/// must use only news published by that day's close, or it would see the future.
pub type SentimentSeries = BTreeMap<NaiveDate, SentimentReading>;

/// One day's composite: score, label, the components used and those left out.
#[derive(Debug, Clone, PartialEq)]
pub struct DayScore {
    pub score: SignalScore,
    pub label: SignalLabel,
    pub components: Vec<SignalComponent>,
    pub missing: Vec<ComponentName>,
}

/// Method v1 under one configuration of weights and thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    config: SignalsConfig,
    name: SignalMethod,
}

impl Method {
    /// Method v1 with `config`'s weights and thresholds.
    pub fn new(config: SignalsConfig) -> Result<Self, SignalError> {
        let name = config.method(ALGORITHM)?;
        Ok(Self { config, name })
    }

    /// The name signals of this method are stored under (`v1-f34f5ca0` for the defaults).
    pub fn name(&self) -> &SignalMethod {
        &self.name
    }

    pub fn config(&self) -> &SignalsConfig {
        &self.config
    }

    /// Scores one day's readings (and its sentiment, if any); `None` when no component has data
    /// or every one present weighs 0.
    pub fn score(
        &self,
        readings: &Readings,
        sentiment: Option<&SentimentReading>,
    ) -> Option<DayScore> {
        let mut parts: Vec<(ComponentName, f64, Evidence)> = Vec::with_capacity(5);
        let mut missing = Vec::new();
        let price_components = [
            (ComponentName::Trend, components::trend(readings)),
            (ComponentName::Momentum, components::momentum(readings)),
            (
                ComponentName::MeanReversion,
                components::mean_reversion(readings),
            ),
            (ComponentName::Volatility, components::volatility(readings)),
        ];
        for (name, scored) in price_components {
            match scored {
                Some((score, evidence)) => parts.push((name, components::round4(score), evidence)),
                None => missing.push(name),
            }
        }
        match sentiment {
            Some(reading) => parts.push((
                ComponentName::Sentiment,
                reading.score.get(),
                reading.evidence.clone(),
            )),
            None => missing.push(ComponentName::Sentiment),
        }
        let present: Vec<ComponentName> = parts.iter().map(|(name, ..)| *name).collect();
        let weights = self.config.weights().renormalised(&present).ok()?;
        let mut total = 0.0;
        let mut used = Vec::with_capacity(parts.len());
        for ((name, score, evidence), (_, weight)) in parts.into_iter().zip(weights) {
            total += weight.get() * score;
            used.push(SignalComponent {
                name,
                score: SignalScore::new(score).ok()?,
                weight,
                evidence,
            });
        }
        let score = SignalScore::new(components::round4(total).clamp(-1.0, 1.0)).ok()?;
        Some(DayScore {
            score,
            label: self.config.label_for(score.get()),
            components: used,
            missing,
        })
    }

    /// The signals of `symbol` for every day of `bars` on or after `from` (every day when
    /// `None`) that has one, oldest first. `bars` must be oldest first, one per date (as a
    /// `domain::Series` holds them); a bar not after the one before it is skipped. Earlier bars
    /// are still read: they warm the indicators up.
    pub fn signals(
        &self,
        symbol: Symbol,
        bars: &[Bar],
        sentiment: &SentimentSeries,
        from: Option<NaiveDate>,
        computed_at: DateTime<Utc>,
    ) -> Vec<Signal> {
        let mut tracker = Tracker::new();
        let mut last_day: Option<NaiveDate> = None;
        let mut signals = Vec::new();
        for bar in bars {
            if last_day.is_some_and(|last| bar.date <= last) {
                continue;
            }
            last_day = Some(bar.date);
            let readings = tracker.update(&Candle::from_bar(bar));
            if from.is_some_and(|from| bar.date < from) {
                continue;
            }
            if let Some(day) = self.score(&readings, sentiment.get(&bar.date)) {
                signals.push(Signal {
                    symbol,
                    day: bar.date,
                    method: self.name.clone(),
                    score: day.score,
                    label: day.label,
                    components: day.components,
                    missing: day.missing,
                    computed_at,
                });
            }
        }
        signals
    }
}

#[cfg(test)]
mod tests;
