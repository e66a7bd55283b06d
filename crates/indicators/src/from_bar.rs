//! The one conversion from stored daily bars to [`Candle`]s, shared by every caller (the
//! indicator and signal reads, the alert engine's series, backtests), so they all see the same
//! numbers.

use domain::Bar;

use crate::Candle;

impl Candle {
    /// `bar` as indicators read it: split- and dividend-adjusted when the bar carries an
    /// adjusted close, as traded otherwise.
    ///
    /// Indicators over unadjusted history see every split as a crash (AAPL's 7:1 in 2014 would
    /// read as an 86 % fall), so the open, high and low are scaled by the same factor as the
    /// close (`adj_close / close`) and the volume by its inverse (the traded value is kept). The
    /// latest bars' factor is 1, so the live price and the last adjusted close agree.
    pub fn from_bar(bar: &Bar) -> Self {
        let close = bar.close.to_f64();
        let factor = match bar.adj_close {
            Some(adjusted) if close > 0.0 => adjusted.to_f64() / close,
            _ => 1.0,
        };
        // A factor of exactly 1 leaves the prices bit for bit as stored.
        if factor == 1.0 {
            return Self {
                open: bar.open.to_f64(),
                high: bar.high.to_f64(),
                low: bar.low.to_f64(),
                close,
                volume: bar.volume as f64,
            };
        }
        Self {
            open: bar.open.to_f64() * factor,
            high: bar.high.to_f64() * factor,
            low: bar.low.to_f64() * factor,
            close: close * factor,
            volume: bar.volume as f64 / factor,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use domain::{Bar, Price};

    use crate::Candle;

    fn bar(close: f64, adj_close: Option<f64>) -> Bar {
        let price = |value| Price::from_f64(value).unwrap_or_else(|| panic!("price {value}"));
        Bar {
            date: NaiveDate::from_ymd_opt(2014, 6, 6).unwrap_or_default(),
            open: price(close * 0.99),
            high: price(close * 1.01),
            low: price(close * 0.98),
            close: price(close),
            volume: 7_000,
            adj_close: adj_close.map(price),
        }
    }

    #[test]
    fn a_bar_without_an_adjusted_close_is_read_as_traded() {
        let candle = Candle::from_bar(&bar(645.57, None));
        assert_eq!(candle.close, 645.57);
        assert_eq!(candle.volume, 7_000.0);
    }

    #[test]
    fn a_split_scales_every_price_and_the_volume_inversely() {
        // AAPL's 7:1 split: the close before it, adjusted, is a seventh.
        let candle = Candle::from_bar(&bar(645.57, Some(645.57 / 7.0)));
        assert!((candle.close - 645.57 / 7.0).abs() < 1e-6);
        assert!((candle.high - 645.57 * 1.01 / 7.0).abs() < 1e-6);
        assert!((candle.low - 645.57 * 0.98 / 7.0).abs() < 1e-6);
        assert!((candle.volume - 49_000.0).abs() < 1e-6);
    }
}
