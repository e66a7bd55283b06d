//! Method v1's components: each turns one day's [`Readings`] into a sub-score in [-1, 1] and the
//! evidence behind it, or `None` while one of its indicators is still warming up.
//!
//! Every sub-score is the mean of a few parts, each a reading scaled to [-1, 1] by a stated
//! span and clamped. All of them read ratios of prices (close / average, histogram / close,
//! percent change, %b, RSI, a rank), never a price level, so they are the same for a stock at
//! $5 and at $500, and a split or dividend that rescales all earlier adjusted prices by one
//! factor leaves them unchanged.

use domain::Evidence;

use crate::readings::Readings;

/// A component's sub-score (already in [-1, 1]) and its evidence.
pub type Scored = (f64, Evidence);

/// `value / span`, clamped to [-1, 1]: a reading that moves `span` away from neutral counts in
/// full.
fn scaled(value: f64, span: f64) -> f64 {
    (value / span).clamp(-1.0, 1.0)
}

/// Rounds a reading for display to 4 decimal places (evidence is for people).
pub(crate) fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0 + 0.0
}

/// A word for a sub-score, from the most bearish to the most bullish of `words`.
fn verdict(score: f64, words: [&'static str; 5]) -> &'static str {
    match score {
        s if s >= 0.5 => words[4],
        s if s >= 0.1 => words[3],
        s if s <= -0.5 => words[0],
        s if s <= -0.1 => words[1],
        _ => words[2],
    }
}

fn above_below(value: f64, reference: f64) -> &'static str {
    if value >= reference { "above" } else { "below" }
}

/// Trend: where the close stands against its 50- and 200-day averages, whether the 50-day
/// average is above the 200-day one, and the sign and size of the MACD histogram.
///
/// Spans: 5 % above the SMA 50, 10 % above the SMA 200, an SMA 50 5 % above the SMA 200, and a
/// histogram of 0.5 % of the close each count as fully bullish (and the mirror as bearish).
pub fn trend(r: &Readings) -> Option<Scored> {
    let (sma_50, sma_200, histogram) = (r.sma_50?, r.sma_200?, r.macd_histogram?);
    if !(sma_50 > 0.0 && sma_200 > 0.0 && r.close > 0.0) {
        return None;
    }
    let vs_50 = r.close / sma_50 - 1.0;
    let vs_200 = r.close / sma_200 - 1.0;
    let cross = sma_50 / sma_200 - 1.0;
    let parts = [
        scaled(vs_50, 0.05),
        scaled(vs_200, 0.10),
        scaled(cross, 0.05),
        scaled(histogram / r.close, 0.005),
    ];
    let score = parts.iter().sum::<f64>() / parts.len() as f64;
    let reading = format!(
        "{}: close {} SMA 50 and {} SMA 200, SMA 50 {} SMA 200, MACD histogram {}",
        verdict(
            score,
            [
                "strong downtrend",
                "downtrend",
                "no clear trend",
                "uptrend",
                "strong uptrend"
            ]
        ),
        above_below(r.close, sma_50),
        above_below(r.close, sma_200),
        above_below(sma_50, sma_200),
        if histogram >= 0.0 {
            "positive"
        } else {
            "negative"
        },
    );
    let evidence = Evidence::new()
        .with("close", round4(r.close))
        .with("sma_50", round4(sma_50))
        .with("sma_200", round4(sma_200))
        .with("close_vs_sma_50_pct", round4(vs_50 * 100.0))
        .with("close_vs_sma_200_pct", round4(vs_200 * 100.0))
        .with("sma_50_vs_sma_200_pct", round4(cross * 100.0))
        .with("macd_histogram", round4(histogram))
        .with("reading", reading);
    Some((score, evidence))
}

/// Momentum: RSI 14 centred on 50 (75 counts as fully bullish, 25 as fully bearish) and the
/// 20-day rate of change (±10 % counts in full).
pub fn momentum(r: &Readings) -> Option<Scored> {
    let (rsi, roc) = (r.rsi_14?, r.roc_20?);
    let parts = [scaled(rsi - 50.0, 25.0), scaled(roc, 10.0)];
    let score = parts.iter().sum::<f64>() / parts.len() as f64;
    let reading = format!(
        "{}: RSI 14 {} 50, {} {:.1} % over 20 days",
        verdict(
            score,
            [
                "strong negative momentum",
                "negative momentum",
                "flat momentum",
                "positive momentum",
                "strong positive momentum"
            ]
        ),
        above_below(rsi, 50.0),
        if roc >= 0.0 { "up" } else { "down" },
        roc.abs(),
    );
    let evidence = Evidence::new()
        .with("rsi_14", round4(rsi))
        .with("roc_20_pct", round4(roc))
        .with("reading", reading);
    Some((score, evidence))
}

/// Mean reversion: where the close sits in its Bollinger Bands (20, 2) as %b (the lower band
/// counts as fully bullish, the upper as fully bearish, the middle as 0), and RSI 14 extremes
/// (below 30 oversold, bullish from 0.5 to 1 at RSI 20; above 70 overbought, the mirror; 0
/// between).
///
/// It deliberately leans against momentum at the extremes: a stretched move tends to give some
/// of itself back over days to weeks.
pub fn mean_reversion(r: &Readings) -> Option<Scored> {
    let (bands, rsi) = (r.bollinger?, r.rsi_14?);
    let width = bands.upper - bands.lower;
    // Flat bands (a constant close) put the close in the middle.
    let percent_b = if width > 0.0 {
        (r.close - bands.lower) / width
    } else {
        0.5
    };
    let rsi_part = if rsi < 30.0 {
        (0.5 + (30.0 - rsi) / 20.0).min(1.0)
    } else if rsi > 70.0 {
        -(0.5 + (rsi - 70.0) / 20.0).min(1.0)
    } else {
        0.0
    };
    let parts = [(1.0 - 2.0 * percent_b).clamp(-1.0, 1.0), rsi_part];
    let score = parts.iter().sum::<f64>() / parts.len() as f64;
    let rsi_reading = if rsi < 30.0 {
        "below 30: oversold"
    } else if rsi > 70.0 {
        "above 70: overbought"
    } else {
        "between 30 and 70"
    };
    let band_reading = match percent_b {
        b if b < 0.0 => "close below the lower Bollinger band",
        b if b < 0.2 => "close near the lower Bollinger band",
        b if b > 1.0 => "close above the upper Bollinger band",
        b if b > 0.8 => "close near the upper Bollinger band",
        _ => "close inside the Bollinger bands",
    };
    let evidence = Evidence::new()
        .with("rsi_14", round4(rsi))
        .with("percent_b", round4(percent_b))
        .with("bollinger_upper", round4(bands.upper))
        .with("bollinger_lower", round4(bands.lower))
        .with("reading", format!("RSI {rsi_reading}; {band_reading}"));
    Some((score, evidence))
}

/// Volatility: today's 20-day annualised volatility ranked against the past year's readings.
/// The calmest day of the year scores 1, the most turbulent -1, the median 0: volatility
/// clusters and rises when prices fall, so a high-volatility regime is read as risk-off.
pub fn volatility(r: &Readings) -> Option<Scored> {
    let (volatility, rank) = (r.volatility_20?, r.volatility_rank?);
    let score = (1.0 - 2.0 * rank).clamp(-1.0, 1.0);
    let percent = (rank * 100.0).round();
    let reading = match rank {
        x if x >= 0.8 => format!("higher than {percent} % of the past year: risk-off"),
        x if x <= 0.2 => format!(
            "lower than {} % of the past year: calm, risk-on",
            100.0 - percent
        ),
        _ => "within the past year's usual range".to_owned(),
    };
    let evidence = Evidence::new()
        .with("volatility_20_annualised", round4(volatility))
        .with("rank_in_past_year", round4(rank))
        .with("reading", reading);
    Some((score, evidence))
}
