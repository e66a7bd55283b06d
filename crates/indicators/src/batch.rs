//! Whole-series computation: line-by-line ports of TA-Lib's C loops (`ta_SMA.c`, `ta_EMA.c`,
//! …) over the full range, keeping TA-Lib's order of floating-point operations so that results
//! agree with TA-Lib to the last bits, not just to a tolerance.

use crate::{Candle, Indicator};

type Series = Vec<Option<f64>>;

/// TA-Lib's `TA_IS_ZERO`: RSI treats gains plus losses this small as no movement at all.
pub(crate) fn is_zero(value: f64) -> bool {
    -ZERO_EPSILON < value && value < ZERO_EPSILON
}

/// TA-Lib's `TA_IS_ZERO_OR_NEG`: a Bollinger variance this small (or negative from rounding)
/// is a zero deviation.
pub(crate) fn is_zero_or_negative(value: f64) -> bool {
    value < ZERO_EPSILON
}

/// TA-Lib's epsilon in `ta_utility.h`.
const ZERO_EPSILON: f64 = 0.000_000_01;

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

/// `TA_INT_EMA` asked for values from bar `first` on (at least `period - 1`): seeded with the
/// average of the `period` bars ending at `first`, then `ema += (x - ema) * k`.
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
        ema = ((x[i] - ema) * k) + ema;
        out[i] = Some(ema);
    }
    out
}

/// `TA_WMA`: the weighted sum is kept by adding `period × newest` and subtracting the plain sum
/// of the window, as TA-Lib does.
fn wma(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    if x.len() < period {
        return out;
    }
    let divider = (period * (period + 1) / 2) as f64;
    let (mut weighted, mut plain) = (0.0, 0.0);
    for (i, &value) in x[..period - 1].iter().enumerate() {
        plain += value;
        weighted += value * (i + 1) as f64;
    }
    let mut trailing = 0.0;
    for i in period - 1..x.len() {
        plain += x[i];
        plain -= trailing;
        weighted += x[i] * period as f64;
        trailing = x[i + 1 - period];
        out[i] = Some(weighted / divider);
        weighted -= plain;
    }
    out
}

/// TA-Lib's RSI value from smoothed gains and losses.
pub(crate) fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if is_zero(total) {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

/// `TA_RSI` (default compatibility, unstable period 0): plain averages of the first `period`
/// changes, then Wilder's smoothing.
fn rsi(x: &[f64], period: usize) -> Series {
    let mut out = vec![None; x.len()];
    if x.len() <= period {
        return out;
    }
    let (mut gain, mut loss) = (0.0, 0.0);
    for i in 1..=period {
        let change = x[i] - x[i - 1];
        if change < 0.0 {
            loss -= change;
        } else {
            gain += change;
        }
    }
    loss /= period as f64;
    gain /= period as f64;
    out[period] = Some(rsi_value(gain, loss));
    let keep = (period - 1) as f64;
    for i in period + 1..x.len() {
        let change = x[i] - x[i - 1];
        loss *= keep;
        gain *= keep;
        if change < 0.0 {
            loss -= change;
        } else {
            gain += change;
        }
        loss /= period as f64;
        gain /= period as f64;
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

/// `TA_BBANDS` with a simple moving average: the deviation is TA-Lib's
/// `TA_INT_stddev_using_precalc_ma`, the mean of squares minus the squared SMA.
///
/// That formula loses precision when prices are large and still (squares near 1e14 differ in
/// their last bits); it is kept because agreeing with TA-Lib is the point, and a band that
/// rounding makes slightly negative becomes 0, as there.
fn bbands(x: &[f64], period: usize, deviations: f64) -> Vec<Series> {
    let middle = sma(x, period);
    let mut outputs = vec![vec![None; x.len()]; 3];
    if x.len() < period {
        return outputs;
    }
    let mut squares = 0.0;
    for &value in &x[..period - 1] {
        squares += value * value;
    }
    for i in period - 1..x.len() {
        squares += x[i] * x[i];
        let mut variance = squares / period as f64;
        let old = x[i + 1 - period];
        squares -= old * old;
        let mean = middle[i].unwrap_or_default();
        variance -= mean * mean;
        let deviation = if is_zero_or_negative(variance) {
            0.0
        } else {
            variance.sqrt()
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

/// `TA_ATR`: true ranges from the second bar, their plain average over the first `period`, then
/// Wilder's smoothing. A period of 1 is the true range itself.
fn atr(candles: &[Candle], period: usize) -> Series {
    let mut out = vec![None; candles.len()];
    if candles.len() <= period {
        return out;
    }
    let ranges: Vec<f64> = candles
        .windows(2)
        .map(|pair| true_range(&pair[1], pair[0].close))
        .collect();
    if period == 1 {
        for (i, &range) in ranges.iter().enumerate() {
            out[i + 1] = Some(range);
        }
        return out;
    }
    let mut total = 0.0;
    for &range in &ranges[..period] {
        total += range;
    }
    let mut average = total / period as f64;
    out[period] = Some(average);
    let keep = (period - 1) as f64;
    for i in period + 1..candles.len() {
        average *= keep;
        average += ranges[i - 1];
        average /= period as f64;
        out[i] = Some(average);
    }
    out
}

/// TA-Lib's fast %K from the window's extremes: `(close - lowest) / ((highest - lowest) / 100)`,
/// 0 for a window with no range.
pub(crate) fn fast_k_value(close: f64, highest: f64, lowest: f64) -> f64 {
    let scale = (highest - lowest) / 100.0;
    if scale != 0.0 {
        (close - lowest) / scale
    } else {
        0.0
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
