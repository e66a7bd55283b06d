//! Whole-series computation: line-by-line ports of TA-Lib's C loops (`ta_SMA.c`, `ta_EMA.c`,
//! …) over the full range, keeping TA-Lib's order of floating-point operations so that results
//! agree with TA-Lib to the last bits, not just to a tolerance.

use crate::{Candle, Indicator};

type Series = Vec<Option<f64>>;

/// TA-Lib's `TA_EPSILON`, used relative to the operands' own scale (`TA_IS_ZERO_SCALED`).
const EPSILON: f64 = 0.000_000_000_000_01;

/// TA-Lib's `TA_IS_ZERO_SCALED`: `difference` is zero within `EPSILON` of `scale`.
pub(crate) fn is_zero_scaled(difference: f64, scale: f64) -> bool {
    difference.abs() <= EPSILON * scale
}

/// √252: daily volatility to annual, over 252 trading days a year.
pub(crate) const ANNUALISE: f64 = 15.874_507_866_387_544;

pub(crate) fn compute(indicator: &Indicator, candles: &[Candle]) -> Vec<Series> {
    let closes = || candles.iter().map(|c| c.close).collect::<Vec<f64>>();
    let n = |period: u32| period as usize;
    match indicator.normalized() {
        Indicator::Sma { period } => vec![sma(&closes(), n(period))],
        Indicator::Ema { period } => vec![ema(&closes(), n(period), 0)],
        Indicator::Wma { period } => vec![wma(&closes(), n(period))],
        Indicator::Rsi { period } => vec![rsi(&closes(), n(period))],
        Indicator::Macd { fast, slow, signal } => macd(&closes(), n(fast), n(slow), n(signal)),
        Indicator::Bbands { period, deviations } => {
            bbands(&closes(), n(period), deviations.as_f64())
        }
        Indicator::Atr { period } => vec![atr(candles, n(period))],
        Indicator::Stoch {
            fast_k,
            slow_k,
            slow_d,
        } => stoch(candles, n(fast_k), n(slow_k), n(slow_d)),
        Indicator::Roc { period } => vec![roc(&closes(), n(period))],
        Indicator::Obv => vec![obv(candles)],
        Indicator::Volatility { period } => vec![volatility(&closes(), n(period))],
    }
}

/// `TA_INT_SMA`: a running total, added to before each output and trimmed after it.
fn sma(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    if x.len() < period {
        return out;
    }
    let mut total = 0.0;
    for &value in &x[..period - 1] {
        total += value;
    }
    for i in period - 1..x.len() {
        total += x[i];
        out[i] = Some(total / period as f64);
        total -= x[i + 1 - period];
    }
    out
}

/// TA-Lib's EMA asked for values from bar `first` on (at least `period - 1`): seeded with the
/// average of the `period` bars ending at `first`, then `ema += (x - ema) * k` as one fused
/// multiply-add (TA-Lib 0.8 fuses it; an unfused step differs in the last bit).
fn ema(x: &[f64], period: usize, first: usize) -> Series {
    let mut out = vec![None; x.len()];
    let first = first.max(period - 1);
    if x.len() <= first {
        return out;
    }
    let k = 2.0 / (period as f64 + 1.0);
    let mut total = 0.0;
    for &value in &x[first + 1 - period..=first] {
        total += value;
    }
    let mut ema = total / period as f64;
    out[first] = Some(ema);
    for i in first + 1..x.len() {
        ema = (x[i] - ema).mul_add(k, ema);
        out[i] = Some(ema);
    }
    out
}

/// How often (in multiples of the period) TA-Lib 0.8's WMA rebuilds its running sums from the
/// window, so rounding cannot build up over a long series.
pub(crate) const WMA_REANCHOR: usize = 8;

/// The WMA's divider `1 + 2 + … + period`.
pub(crate) fn wma_divider(period: usize) -> f64 {
    period as f64 * (period + 1) as f64 / 2.0
}

/// The plain and weighted sums of a window, oldest first with weights counting up from 1: the
/// order of TA-Lib's priming scan, so a re-anchored bar is the one a fresh start would give.
pub(crate) fn wma_sums<'a>(window: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (mut plain, mut weighted) = (0.0, 0.0);
    for (weight, &value) in (1..).zip(window) {
        plain += value;
        weighted += value * f64::from(weight);
    }
    (plain, weighted)
}

/// `TA_WMA`: the weighted sum is kept by adding `period × newest` and subtracting the plain sum
/// of the window, and both sums are rebuilt from the window every `8 × period` bars.
fn wma(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    if x.len() < period {
        return out;
    }
    let divider = wma_divider(period);
    let (mut plain, mut weighted) = wma_sums(x[..period - 1].iter());
    let mut trailing = 0.0;
    let mut until_reanchor = WMA_REANCHOR * period;
    for i in period - 1..x.len() {
        plain += x[i];
        plain -= trailing;
        weighted += x[i] * period as f64;
        until_reanchor -= 1;
        if until_reanchor == 0 {
            until_reanchor = WMA_REANCHOR * period;
            (plain, weighted) = wma_sums(x[i + 1 - period..=i].iter());
        }
        trailing = x[i + 1 - period];
        out[i] = Some(weighted / divider);
        weighted -= plain;
    }
    out
}

/// TA-Lib's RSI value from smoothed gains and losses: 0 when there has been no movement at all
/// (TA-Lib 0.8.1 tests the total exactly, so tiny prices still get an RSI).
pub(crate) fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if total > 0.0 {
        100.0 * (gain / total)
    } else {
        0.0
    }
}

/// Adds one change to the gain and loss sums as TA-Lib does, without a branch: the loss takes
/// `max(change, 0) - change`, which is exactly `-change` for a fall and 0 otherwise.
pub(crate) fn add_change(gain: &mut f64, loss: &mut f64, change: f64) {
    let rise = if change > 0.0 { change } else { 0.0 };
    *gain += rise;
    *loss += rise - change;
}

/// `TA_RSI` (default compatibility, unstable period 0): plain averages of the first `period`
/// changes, then Wilder's smoothing, scaled by a precomputed `1 / period`.
fn rsi(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    if x.len() <= period {
        return out;
    }
    let inverse = 1.0 / period as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for i in 1..=period {
        add_change(&mut gain, &mut loss, x[i] - x[i - 1]);
    }
    loss *= inverse;
    gain *= inverse;
    out[period] = Some(rsi_value(gain, loss));
    let keep = (period - 1) as f64;
    for i in period + 1..x.len() {
        loss *= keep;
        gain *= keep;
        add_change(&mut gain, &mut loss, x[i] - x[i - 1]);
        loss *= inverse;
        gain *= inverse;
        out[i] = Some(rsi_value(gain, loss));
    }
    out
}

/// `TA_MACD`: both EMAs start at the slow EMA's first bar (so the fast one is seeded from the
/// `fast` bars ending there), the signal is an EMA of the MACD line, and all three outputs
/// start when the signal does.
fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> Vec<Series> {
    let start = slow - 1;
    let slow_ema = ema(x, slow, start);
    let fast_ema = ema(x, fast, start);
    let line: Vec<f64> = (start..x.len())
        .map(|i| fast_ema[i].unwrap_or_default() - slow_ema[i].unwrap_or_default())
        .collect();
    let signal_line = ema(&line, signal, 0);
    let first = start + signal - 1;
    let mut outputs = vec![vec![None; x.len()]; 3];
    for i in first..x.len() {
        let (value, signal_value) = (line[i - start], signal_line[i - start].unwrap_or_default());
        outputs[0][i] = Some(value);
        outputs[1][i] = Some(signal_value);
        outputs[2][i] = Some(value - signal_value);
    }
    outputs
}

/// How often (in multiples of the period) TA-Lib 0.8's deviation rebuilds its shifted sums.
pub(crate) const VARIANCE_RESEED: usize = 32;

/// The shifted sums behind TA-Lib 0.8's population variance (`var.c`): sums of `x - shift` and
/// of its square over the window. With the shift near the window's mean there is no
/// catastrophic cancellation, unlike the mean-of-squares formula of TA-Lib 0.4.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShiftedSums {
    pub(crate) shift: f64,
    pub(crate) sum: f64,
    pub(crate) squares: f64,
}

impl ShiftedSums {
    pub(crate) fn new(shift: f64) -> Self {
        Self {
            shift,
            sum: 0.0,
            squares: 0.0,
        }
    }

    pub(crate) fn add(&mut self, value: f64) {
        let offset = value - self.shift;
        self.sum += offset;
        self.squares += offset * offset;
    }

    /// Removes a value; returns its squared offset (the reseed test looks at it).
    pub(crate) fn remove(&mut self, value: f64) -> f64 {
        let offset = value - self.shift;
        self.sum -= offset;
        let square = offset * offset;
        self.squares -= square;
        square
    }

    pub(crate) fn variance(&self, inverse: f64) -> f64 {
        let mean = self.sum * inverse;
        self.squares * inverse - mean * mean
    }

    /// Rebuilds the sums over `window` (oldest first), shifted by its mean, and returns the
    /// window's variance with TA-Lib's relative floor (below 1e-12 of the mean square is 0).
    pub(crate) fn reseed<'a>(
        window: impl Iterator<Item = &'a f64> + Clone,
        inverse: f64,
    ) -> (Self, f64) {
        let mut total = 0.0;
        for &value in window.clone() {
            total += value;
        }
        let mut sums = Self::new(total * inverse);
        for &value in window {
            sums.add(value);
        }
        let variance = sums.variance(inverse);
        let floored = if variance < 0.000_000_000_001 * (sums.squares * inverse) {
            0.0
        } else {
            variance
        };
        (sums, floored)
    }
}

/// One step of TA-Lib 0.8's fused SMA + deviation loop for the bar whose window is
/// `window` (oldest first, `period` values, the newest already added to `sums`): returns the
/// variance, removes the oldest value and reseeds when due, when the variance has lost its
/// precision or when a large value leaves.
pub(crate) fn variance_step<'a>(
    sums: &mut ShiftedSums,
    until_reseed: &mut usize,
    window: impl Iterator<Item = &'a f64> + Clone,
    oldest: f64,
    period: usize,
) -> f64 {
    let inverse = 1.0 / period as f64;
    let mut variance = sums.variance(inverse);
    let square = sums.remove(oldest);
    *until_reseed -= 1;
    if variance < 0.000_001 * (sums.squares * inverse)
        || square > 1_000_000.0 * sums.squares
        || *until_reseed == 0
    {
        *until_reseed = VARIANCE_RESEED * period;
        (*sums, variance) = ShiftedSums::reseed(window, inverse);
        sums.remove(oldest);
    }
    variance
}

/// `TA_BBANDS` with a simple moving average: the middle band is TA-Lib's SMA, the deviation its
/// population standard deviation from shifted sums (see [`ShiftedSums`]).
fn bbands(x: &[f64], period: usize, deviations: f64) -> Vec<Series> {
    let mut outputs = vec![vec![None; x.len()]; 3];
    if x.len() < period {
        return outputs;
    }
    let mut total = 0.0;
    let mut sums = ShiftedSums::new(x[0]);
    for &value in &x[..period - 1] {
        total += value;
        sums.add(value);
    }
    let mut until_reseed = VARIANCE_RESEED * period;
    for i in period - 1..x.len() {
        total += x[i];
        sums.add(x[i]);
        let mean = total / period as f64;
        let oldest = x[i + 1 - period];
        total -= oldest;
        let window = x[i + 1 - period..=i].iter();
        let variance = variance_step(&mut sums, &mut until_reseed, window, oldest, period);
        let deviation = if variance != 0.0 {
            variance.sqrt()
        } else {
            0.0
        };
        let width = deviation * deviations;
        outputs[0][i] = Some(mean + width);
        outputs[1][i] = Some(mean);
        outputs[2][i] = Some(mean - width);
    }
    outputs
}

/// `TA_TRANGE` for one bar given the previous close.
pub(crate) fn true_range(candle: &Candle, previous_close: f64) -> f64 {
    let mut greatest = candle.high - candle.low;
    let to_high = (previous_close - candle.high).abs();
    if to_high > greatest {
        greatest = to_high;
    }
    let to_low = (previous_close - candle.low).abs();
    if to_low > greatest {
        greatest = to_low;
    }
    greatest
}

/// TA-Lib 0.8's Wilder weights for a period: `beta = (n - 1) / n` and `alpha = 1 - beta`
/// (derived in that order so they add up to exactly 1).
pub(crate) fn wilder_weights(period: usize) -> (f64, f64) {
    let beta = (period - 1) as f64 / period as f64;
    (1.0 - beta, beta)
}

/// `TA_ATR`: true ranges from the second bar, their plain average over the first `period`, then
/// Wilder's smoothing as one fused multiply-add (`beta × atr + alpha × range`).
fn atr(candles: &[Candle], period: usize) -> Series {
    let mut out = vec![None; candles.len()];
    if candles.len() <= period {
        return out;
    }
    let ranges: Vec<f64> = candles
        .windows(2)
        .map(|pair| true_range(&pair[1], pair[0].close))
        .collect();
    let (alpha, beta) = wilder_weights(period);
    let mut total = 0.0;
    for &range in &ranges[..period] {
        total += range;
    }
    let mut average = total / period as f64;
    out[period] = Some(average);
    for i in period + 1..candles.len() {
        average = beta.mul_add(average, alpha * ranges[i - 1]);
        out[i] = Some(average);
    }
    out
}

/// TA-Lib's fast %K from the window's extremes, `(close - lowest) / (highest - lowest) × 100`;
/// 0 for a window whose range is zero relative to its prices.
pub(crate) fn fast_k_value(close: f64, highest: f64, lowest: f64) -> f64 {
    let range = highest - lowest;
    if is_zero_scaled(range, highest.abs() + lowest.abs()) {
        0.0
    } else {
        (close - lowest) / range * 100.0
    }
}

/// `TA_STOCH` with simple moving averages for slow %K and %D.
fn stoch(candles: &[Candle], fast_k: usize, slow_k: usize, slow_d: usize) -> Vec<Series> {
    let mut outputs = vec![vec![None; candles.len()]; 2];
    if candles.len() < fast_k {
        return outputs;
    }
    // Extremes rescanned each bar: the batch form is the plain definition, so the property
    // test checks the incremental form's rolling extremes against it.
    let fast: Vec<f64> = candles
        .windows(fast_k)
        .map(|window| {
            let lowest = window.iter().map(|c| c.low).fold(f64::INFINITY, f64::min);
            let highest = window
                .iter()
                .map(|c| c.high)
                .fold(f64::NEG_INFINITY, f64::max);
            fast_k_value(window[fast_k - 1].close, highest, lowest)
        })
        .collect();
    let slow: Vec<f64> = sma(&fast, slow_k).into_iter().flatten().collect();
    let d = sma(&slow, slow_d);
    let first_slow = fast_k - 1 + slow_k - 1;
    for (j, d_value) in d.iter().enumerate() {
        if let Some(d_value) = d_value {
            outputs[0][first_slow + j] = Some(slow[j]);
            outputs[1][first_slow + j] = Some(*d_value);
        }
    }
    outputs
}

/// `TA_ROC`: `(close / close[period bars ago] - 1) * 100`, 0 when the old close is 0.
pub(crate) fn roc_value(close: f64, old: f64) -> f64 {
    if old != 0.0 {
        ((close / old) - 1.0) * 100.0
    } else {
        0.0
    }
}

fn roc(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    for i in period..x.len() {
        out[i] = Some(roc_value(x[i], x[i - period]));
    }
    out
}

/// `TA_OBV`: starts at the first bar's volume; adds the volume on an up close, subtracts it on
/// a down close.
fn obv(candles: &[Candle]) -> Series {
    let Some(first) = candles.first() else {
        return Vec::new();
    };
    let (mut total, mut previous) = (first.volume, first.close);
    let mut out = vec![Some(total)];
    for candle in &candles[1..] {
        if candle.close > previous {
            total += candle.volume;
        } else if candle.close < previous {
            total -= candle.volume;
        }
        out.push(Some(total));
        previous = candle.close;
    }
    out
}

/// Sample standard deviation (n − 1) of the `period` log returns ending at each bar, × √252,
/// computed two-pass over each window (mean first), as numpy's `std(ddof=1)` does.
fn volatility(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    let returns: Vec<f64> = x.windows(2).map(|pair| (pair[1] / pair[0]).ln()).collect();
    for (j, window) in returns.windows(period).enumerate() {
        let mean = window.iter().sum::<f64>() / period as f64;
        let squares: f64 = window.iter().map(|r| (r - mean) * (r - mean)).sum();
        out[j + period] = Some((squares / (period - 1) as f64).sqrt() * ANNUALISE);
    }
    out
}
