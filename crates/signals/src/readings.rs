//! The indicator readings method v1 scores, kept up to date one bar at a time.
//!
//! A [`Tracker`] holds the incremental state of every indicator the method reads and turns each
//! new bar into that day's [`Readings`]. It sees bars only in order and keeps nothing of a bar
//! but what its indicators fold in, so a day's readings depend on that day and the days before
//! it, never on a later one: there is no look-ahead by construction.

use std::collections::VecDeque;

use indicators::{Candle, Indicator, State, Tenths};

/// Trading days in the year a volatility reading is ranked against.
pub const VOLATILITY_LOOKBACK: usize = 252;

/// One day's Bollinger Bands (20 days, 2 standard deviations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

/// Everything method v1 reads on one day; `None` while an indicator is warming up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readings {
    /// The (adjusted) close of the day.
    pub close: f64,
    pub sma_50: Option<f64>,
    pub sma_200: Option<f64>,
    /// MACD (12, 26, 9) line minus its signal line.
    pub macd_histogram: Option<f64>,
    pub rsi_14: Option<f64>,
    /// Rate of change over 20 trading days, in percent.
    pub roc_20: Option<f64>,
    pub bollinger: Option<Bands>,
    /// Annualised volatility of the last 20 daily log returns.
    pub volatility_20: Option<f64>,
    /// Where `volatility_20` ranks among the previous [`VOLATILITY_LOOKBACK`] days' readings,
    /// from 0 (lowest of the year) to 1 (highest); ties count half.
    pub volatility_rank: Option<f64>,
}

/// The incremental state behind [`Readings`]: O(1) per bar except the volatility rank, which
/// compares with the year of past readings it keeps (252 comparisons).
#[derive(Debug, Clone)]
pub struct Tracker {
    sma_50: State,
    sma_200: State,
    macd: State,
    rsi_14: State,
    roc_20: State,
    bollinger: State,
    volatility_20: State,
    past_volatility: VecDeque<f64>,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracker {
    /// A tracker that has seen no bar.
    pub fn new() -> Self {
        Self {
            sma_50: Indicator::Sma { period: 50 }.state(),
            sma_200: Indicator::Sma { period: 200 }.state(),
            macd: Indicator::Macd {
                fast: 12,
                slow: 26,
                signal: 9,
            }
            .state(),
            rsi_14: Indicator::Rsi { period: 14 }.state(),
            roc_20: Indicator::Roc { period: 20 }.state(),
            bollinger: Indicator::Bbands {
                period: 20,
                deviations: Tenths(20),
            }
            .state(),
            volatility_20: Indicator::Volatility { period: 20 }.state(),
            past_volatility: VecDeque::with_capacity(VOLATILITY_LOOKBACK + 1),
        }
    }

    /// Takes the next day's bar (the days must come oldest first, one bar each) and returns
    /// that day's readings.
    pub fn update(&mut self, candle: &Candle) -> Readings {
        let macd = self.macd.update(candle);
        let bands = self.bollinger.update(candle);
        let volatility_20 = self.volatility_20.update(candle).get(0);
        let volatility_rank = volatility_20.and_then(|today| self.rank_volatility(today));
        Readings {
            close: candle.close,
            sma_50: self.sma_50.update(candle).get(0),
            sma_200: self.sma_200.update(candle).get(0),
            macd_histogram: macd.get(2),
            rsi_14: self.rsi_14.update(candle).get(0),
            roc_20: self.roc_20.update(candle).get(0),
            bollinger: match (bands.get(0), bands.get(1), bands.get(2)) {
                (Some(upper), Some(middle), Some(lower)) => Some(Bands {
                    upper,
                    middle,
                    lower,
                }),
                _ => None,
            },
            volatility_20,
            volatility_rank,
        }
    }

    /// Ranks `today` against the past year's readings (once a full year is kept), then keeps it.
    fn rank_volatility(&mut self, today: f64) -> Option<f64> {
        let rank = (self.past_volatility.len() == VOLATILITY_LOOKBACK).then(|| {
            // Twice the rank's numerator (below counts 2, equal 1), branch-free so it
            // vectorises: this loop is most of the cost of reading a bar.
            let doubled = |values: &[f64]| -> usize {
                values
                    .iter()
                    .map(|&past| 2 * usize::from(past < today) + usize::from(past == today))
                    .sum()
            };
            let (front, back) = self.past_volatility.as_slices();
            (doubled(front) + doubled(back)) as f64 / (2 * VOLATILITY_LOOKBACK) as f64
        });
        self.past_volatility.push_back(today);
        if self.past_volatility.len() > VOLATILITY_LOOKBACK {
            self.past_volatility.pop_front();
        }
        rank
    }
}
