//! The incremental form of every indicator: a [`State`] takes one bar at a time and repeats the
//! batch code's floating-point operations in the same order, so both agree to the last bits
//! (volatility, which the batch form computes two-pass per window, to about 1e-10).

use std::collections::VecDeque;

use crate::batch::{
    ANNUALISE, ShiftedSums, VARIANCE_RESEED, WMA_REANCHOR, add_change, fast_k_value, roc_value,
    rsi_value, true_range, variance_step, wilder_weights, wma_divider, wma_sums,
};
use crate::{Candle, Indicator};

/// Up to three outputs of one bar, without allocating; `get(i)` for output `i`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Values([Option<f64>; 3]);

impl Values {
    const NONE: Self = Self([None; 3]);

    fn one(value: Option<f64>) -> Self {
        Self([value, None, None])
    }

    /// Output `i` (in [`Indicator::outputs`] order), `None` while warming up or past the last.
    pub fn get(&self, i: usize) -> Option<f64> {
        self.0.get(i).copied().flatten()
    }

    /// Whether the bar has values (the warm-up is over).
    pub fn is_ready(&self) -> bool {
        self.0[0].is_some()
    }
}

/// Incremental state of one indicator: O(1) per bar (amortised where noted), `Clone` so a
/// caller can peek at a provisional bar by updating a copy.
#[derive(Debug, Clone)]
pub struct State {
    kernel: Kernel,
}

#[derive(Debug, Clone)]
enum Kernel {
    Sma(Sma),
    Ema(Ema),
    Wma(Wma),
    Rsi(Rsi),
    Macd {
        fast: Ema,
        slow: Ema,
        signal: Ema,
    },
    Bbands(Bbands),
    Atr(Atr),
    Stoch {
        lows: Extremes,
        highs: Extremes,
        slow_k: Sma,
        slow_d: Sma,
    },
    Roc {
        closes: VecDeque<f64>,
        period: usize,
    },
    Obv {
        total: f64,
        previous: Option<f64>,
    },
    Volatility(Volatility),
}

impl State {
    pub(crate) fn new(indicator: &Indicator) -> Self {
        let n = |period: u32| period as usize;
        let kernel = match indicator.normalized() {
            Indicator::Sma { period } => Kernel::Sma(Sma::new(n(period))),
            Indicator::Ema { period } => Kernel::Ema(Ema::new(n(period), 0)),
            Indicator::Wma { period } => Kernel::Wma(Wma::new(n(period))),
            Indicator::Rsi { period } => Kernel::Rsi(Rsi::new(n(period))),
            Indicator::Macd { fast, slow, signal } => Kernel::Macd {
                // TA-Lib seeds the fast EMA from the `fast` bars ending where the slow one starts.
                fast: Ema::new(n(fast), n(slow) - n(fast)),
                slow: Ema::new(n(slow), 0),
                signal: Ema::new(n(signal), 0),
            },
            Indicator::Bbands { period, deviations } => {
                Kernel::Bbands(Bbands::new(n(period), deviations.as_f64()))
            }
            Indicator::Atr { period } => Kernel::Atr(Atr::new(n(period))),
            Indicator::Stoch {
                fast_k,
                slow_k,
                slow_d,
            } => Kernel::Stoch {
                lows: Extremes::new(n(fast_k)),
                highs: Extremes::new(n(fast_k)),
                slow_k: Sma::new(n(slow_k)),
                slow_d: Sma::new(n(slow_d)),
            },
            Indicator::Roc { period } => Kernel::Roc {
                closes: VecDeque::with_capacity(n(period) + 1),
                period: n(period),
            },
            Indicator::Obv => Kernel::Obv {
                total: 0.0,
                previous: None,
            },
            Indicator::Volatility { period } => Kernel::Volatility(Volatility::new(n(period))),
        };
        Self { kernel }
    }

    /// Takes the next bar and returns this bar's outputs (all `None` during the warm-up).
    pub fn update(&mut self, candle: &Candle) -> Values {
        let close = candle.close;
        match &mut self.kernel {
            Kernel::Sma(sma) => Values::one(sma.update(close)),
            Kernel::Ema(ema) => Values::one(ema.update(close)),
            Kernel::Wma(wma) => Values::one(wma.update(close)),
            Kernel::Rsi(rsi) => Values::one(rsi.update(close)),
            Kernel::Macd { fast, slow, signal } => {
                let (Some(fast), Some(slow)) = (fast.update(close), slow.update(close)) else {
                    return Values::NONE;
                };
                let line = fast - slow;
                match signal.update(line) {
                    Some(signal) => Values([Some(line), Some(signal), Some(line - signal)]),
                    None => Values::NONE,
                }
            }
            Kernel::Bbands(bbands) => bbands.update(close),
            Kernel::Atr(atr) => Values::one(atr.update(candle)),
            Kernel::Stoch {
                lows,
                highs,
                slow_k,
                slow_d,
            } => {
                let lowest = lows.push(-candle.low).map(|low| -low);
                let highest = highs.push(candle.high);
                let (Some(lowest), Some(highest)) = (lowest, highest) else {
                    return Values::NONE;
                };
                let Some(k) = slow_k.update(fast_k_value(close, highest, lowest)) else {
                    return Values::NONE;
                };
                match slow_d.update(k) {
                    Some(d) => Values([Some(k), Some(d), None]),
                    None => Values::NONE,
                }
            }
            Kernel::Roc { closes, period } => {
                closes.push_back(close);
                if closes.len() <= *period {
                    return Values::NONE;
                }
                let old = closes.pop_front().unwrap_or_default();
                Values::one(Some(roc_value(close, old)))
            }
            Kernel::Obv { total, previous } => {
                match *previous {
                    None => *total = candle.volume,
                    Some(previous) if close > previous => *total += candle.volume,
                    Some(previous) if close < previous => *total -= candle.volume,
                    Some(_) => {}
                }
                *previous = Some(close);
                Values::one(Some(*total))
            }
            Kernel::Volatility(volatility) => Values::one(volatility.update(close)),
        }
    }
}

/// The last `capacity` values and a running total kept TA-Lib's way: the newest is added
/// before the total is read, the oldest subtracted after.
#[derive(Debug, Clone)]
struct Window {
    values: VecDeque<f64>,
    capacity: usize,
    total: f64,
}

impl Window {
    fn new(capacity: usize) -> Self {
        Self {
            values: VecDeque::with_capacity(capacity),
            capacity,
            total: 0.0,
        }
    }

    /// Adds `value`; returns the total of a full window (including `value`) and whether the
    /// window was full, then drops the oldest value from the total once it is.
    fn push(&mut self, value: f64) -> (f64, bool) {
        self.total += value;
        self.values.push_back(value);
        if self.values.len() < self.capacity {
            return (self.total, false);
        }
        let total = self.total;
        if let Some(oldest) = self.values.pop_front() {
            self.total -= oldest;
        }
        (total, true)
    }
}

/// `TA_INT_SMA`, one bar at a time.
#[derive(Debug, Clone)]
struct Sma {
    window: Window,
}

impl Sma {
    fn new(period: usize) -> Self {
        Self {
            window: Window::new(period),
        }
    }

    fn update(&mut self, value: f64) -> Option<f64> {
        let (total, full) = self.window.push(value);
        full.then(|| total / self.window.capacity as f64)
    }
}

/// `TA_INT_EMA`, one bar at a time: ignores the first `skip` values, averages the next
/// `period` as the seed, then smooths.
#[derive(Debug, Clone)]
struct Ema {
    period: usize,
    k: f64,
    skip: usize,
    seen: usize,
    total: f64,
    value: Option<f64>,
}

impl Ema {
    fn new(period: usize, skip: usize) -> Self {
        let k = 2.0 / (period as f64 + 1.0);
        Self {
            period,
            k,
            skip,
            seen: 0,
            total: 0.0,
            value: None,
        }
    }

    fn update(&mut self, x: f64) -> Option<f64> {
        if let Some(ema) = self.value {
            let ema = (x - ema).mul_add(self.k, ema);
            self.value = Some(ema);
            return self.value;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        self.total += x;
        self.seen += 1;
        if self.seen == self.period {
            self.value = Some(self.total / self.period as f64);
        }
        self.value
    }
}

/// `TA_WMA`, one bar at a time.
#[derive(Debug, Clone)]
struct Wma {
    period: usize,
    window: VecDeque<f64>,
    weighted: f64,
    plain: f64,
    trailing: f64,
    until_reanchor: usize,
}

impl Wma {
    fn new(period: usize) -> Self {
        Self {
            period,
            window: VecDeque::with_capacity(period + 1),
            weighted: 0.0,
            plain: 0.0,
            trailing: 0.0,
            until_reanchor: WMA_REANCHOR * period,
        }
    }

    fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        if self.window.len() > self.period {
            self.window.pop_front();
        }
        if self.window.len() < self.period {
            self.plain += x;
            self.weighted += x * self.window.len() as f64;
            return None;
        }
        self.plain += x;
        self.plain -= self.trailing;
        self.weighted += x * self.period as f64;
        // TA-Lib rebuilds the sums from the window every 8 × period bars: O(period) once per
        // 8 × period bars, so still O(1) amortised.
        self.until_reanchor -= 1;
        if self.until_reanchor == 0 {
            self.until_reanchor = WMA_REANCHOR * self.period;
            (self.plain, self.weighted) = wma_sums(self.window.iter());
        }
        self.trailing = self.window.front().copied().unwrap_or_default();
        let value = self.weighted / wma_divider(self.period);
        self.weighted -= self.plain;
        Some(value)
    }
}

/// `TA_RSI`, one bar at a time.
#[derive(Debug, Clone)]
struct Rsi {
    period: usize,
    previous: Option<f64>,
    changes: usize,
    gain: f64,
    loss: f64,
}

impl Rsi {
    fn new(period: usize) -> Self {
        Self {
            period,
            previous: None,
            changes: 0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    fn update(&mut self, x: f64) -> Option<f64> {
        let previous = self.previous.replace(x)?;
        self.changes += 1;
        if self.changes > self.period {
            self.loss *= (self.period - 1) as f64;
            self.gain *= (self.period - 1) as f64;
        }
        add_change(&mut self.gain, &mut self.loss, x - previous);
        if self.changes < self.period {
            return None;
        }
        let inverse = 1.0 / self.period as f64;
        self.loss *= inverse;
        self.gain *= inverse;
        Some(rsi_value(self.gain, self.loss))
    }
}

/// `TA_BBANDS` (SMA), one bar at a time: the SMA's running total and the deviation's shifted
/// sums over a window of the last `period` closes. The reseeds rebuild the sums from the
/// window (O(period), at most once per bar only while precision is being lost; once per
/// 32 × period bars on ordinary data).
#[derive(Debug, Clone)]
struct Bbands {
    period: usize,
    deviations: f64,
    window: VecDeque<f64>,
    total: f64,
    sums: Option<ShiftedSums>,
    until_reseed: usize,
}

impl Bbands {
    fn new(period: usize, deviations: f64) -> Self {
        Self {
            period,
            deviations,
            window: VecDeque::with_capacity(period),
            total: 0.0,
            sums: None,
            until_reseed: VARIANCE_RESEED * period,
        }
    }

    fn update(&mut self, x: f64) -> Values {
        // TA-Lib shifts the first sums by the series' first value.
        let sums = self.sums.get_or_insert_with(|| ShiftedSums::new(x));
        self.total += x;
        sums.add(x);
        self.window.push_back(x);
        if self.window.len() < self.period {
            return Values::NONE;
        }
        let mean = self.total / self.period as f64;
        let oldest = self.window.front().copied().unwrap_or_default();
        self.total -= oldest;
        let variance = variance_step(
            sums,
            &mut self.until_reseed,
            self.window.iter(),
            oldest,
            self.period,
        );
        self.window.pop_front();
        let deviation = if variance != 0.0 {
            variance.sqrt()
        } else {
            0.0
        };
        let width = deviation * self.deviations;
        Values([Some(mean + width), Some(mean), Some(mean - width)])
    }
}

/// `TA_ATR`, one bar at a time.
#[derive(Debug, Clone)]
struct Atr {
    period: usize,
    previous_close: Option<f64>,
    ranges: usize,
    average: f64,
}

impl Atr {
    fn new(period: usize) -> Self {
        Self {
            period,
            previous_close: None,
            ranges: 0,
            average: 0.0,
        }
    }

    fn update(&mut self, candle: &Candle) -> Option<f64> {
        let previous_close = self.previous_close.replace(candle.close)?;
        let range = true_range(candle, previous_close);
        self.ranges += 1;
        if self.ranges <= self.period {
            self.average += range;
            if self.ranges < self.period {
                return None;
            }
            self.average /= self.period as f64;
        } else {
            let (alpha, beta) = wilder_weights(self.period);
            self.average = beta.mul_add(self.average, alpha * range);
        }
        Some(self.average)
    }
}

/// The largest of the last `period` values, by a monotonic queue (amortised O(1)); the lows
/// are fed negated so the same queue gives their smallest.
#[derive(Debug, Clone)]
struct Extremes {
    period: usize,
    seen: usize,
    queue: VecDeque<(usize, f64)>,
}

impl Extremes {
    fn new(period: usize) -> Self {
        Self {
            period,
            seen: 0,
            queue: VecDeque::with_capacity(period),
        }
    }

    /// Adds a value; the window's largest once `period` values have been seen.
    fn push(&mut self, value: f64) -> Option<f64> {
        let index = self.seen;
        self.seen += 1;
        while self.queue.back().is_some_and(|&(_, back)| back <= value) {
            self.queue.pop_back();
        }
        self.queue.push_back((index, value));
        while self
            .queue
            .front()
            .is_some_and(|&(i, _)| i + self.period <= index)
        {
            self.queue.pop_front();
        }
        (self.seen >= self.period)
            .then(|| self.queue.front().map_or(value, |&(_, largest)| largest))
    }
}

/// Rolling sample deviation of log returns, from the same shifted sums and reseeding as
/// TA-Lib's variance (see `batch::ShiftedSums`): O(1) per bar, with an O(period) rebuild once
/// per 32 × period bars or when the running sums have lost six digits to cancellation, which
/// keeps the result within about 1e-10 of the two-pass batch value.
#[derive(Debug, Clone)]
struct Volatility {
    period: usize,
    previous_close: Option<f64>,
    returns: VecDeque<f64>,
    sums: Option<ShiftedSums>,
    until_reseed: usize,
}

impl Volatility {
    fn new(period: usize) -> Self {
        Self {
            period,
            previous_close: None,
            returns: VecDeque::with_capacity(period),
            sums: None,
            until_reseed: VARIANCE_RESEED * period,
        }
    }

    fn update(&mut self, close: f64) -> Option<f64> {
        let previous = self.previous_close.replace(close)?;
        let r = (close / previous).ln();
        let sums = self.sums.get_or_insert_with(|| ShiftedSums::new(r));
        sums.add(r);
        self.returns.push_back(r);
        if self.returns.len() < self.period {
            return None;
        }
        let oldest = self.returns.front().copied().unwrap_or_default();
        let population = variance_step(
            sums,
            &mut self.until_reseed,
            self.returns.iter(),
            oldest,
            self.period,
        );
        self.returns.pop_front();
        let n = self.period as f64;
        Some((population * n / (n - 1.0)).sqrt() * ANNUALISE)
    }
}
