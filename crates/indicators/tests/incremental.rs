//! The incremental form of every indicator agrees with its batch form on random series at every
//! bar, warm-up `None`s included: bit for bit where both repeat TA-Lib's operations (all but
//! volatility), to 1e-9 relative for volatility (two-pass batch, running sums incrementally).
//! A cloned state is an independent peek.

use indicators::{Candle, Indicator, Tenths};
use proptest::prelude::*;

/// A random daily series: a multiplicative random walk (with flat stretches) from a price
/// between 1e-3 and 1e5, highs and lows around the open and close, random volumes.
fn series() -> impl Strategy<Value = Vec<Candle>> {
    let bar = (
        -0.2f64..0.2,
        0.0f64..0.05,
        0.0f64..0.05,
        0.0f64..1e7,
        0u8..10,
    );
    (-3.0f64..5.0, prop::collection::vec(bar, 0..300)).prop_map(|(magnitude, bars)| {
        let mut close = 10f64.powf(magnitude);
        bars.into_iter()
            .map(|(step, up, down, volume, flat)| {
                let open = close;
                // One bar in ten keeps the price, so flat windows and zero changes occur.
                if flat > 0 {
                    close *= 1.0 + step;
                }
                let high = open.max(close) * (1.0 + up);
                let low = open.min(close) * (1.0 - down);
                Candle {
                    open,
                    high,
                    low,
                    close,
                    volume: volume.round(),
                }
            })
            .collect()
    })
}

/// Any indicator, with periods small enough that short series still get past the warm-up.
fn indicator() -> impl Strategy<Value = Indicator> {
    let period = |min: u32| min..=60u32;
    prop_oneof![
        period(2).prop_map(|period| Indicator::Sma { period }),
        period(2).prop_map(|period| Indicator::Ema { period }),
        period(2).prop_map(|period| Indicator::Wma { period }),
        period(2).prop_map(|period| Indicator::Rsi { period }),
        (2u32..=30, 1u32..=30, 1u32..=20).prop_map(|(fast, extra, signal)| Indicator::Macd {
            fast,
            slow: fast + extra,
            signal
        }),
        (period(2), 1u32..=100).prop_map(|(period, tenths)| Indicator::Bbands {
            period,
            deviations: Tenths(tenths)
        }),
        period(1).prop_map(|period| Indicator::Atr { period }),
        (1u32..=30, 1u32..=10, 1u32..=10).prop_map(|(fast_k, slow_k, slow_d)| Indicator::Stoch {
            fast_k,
            slow_k,
            slow_d
        }),
        period(1).prop_map(|period| Indicator::Roc { period }),
        Just(Indicator::Obv),
        period(2).prop_map(|period| Indicator::Volatility { period }),
    ]
}

/// Relative tolerance: 0 (identical bits) but for volatility.
fn tolerance(indicator: Indicator) -> f64 {
    if matches!(indicator, Indicator::Volatility { .. }) {
        1e-9
    } else {
        0.0
    }
}

fn agree(indicator: Indicator, batch: Option<f64>, incremental: Option<f64>) -> bool {
    match (batch, incremental) {
        (Some(b), Some(i)) => {
            (b - i).abs() <= tolerance(indicator) * b.abs() || b.to_bits() == i.to_bits()
        }
        (None, None) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn incremental_values_equal_batch_values_at_every_bar(indicator in indicator(), candles in series()) {
        let batch = indicator.batch(&candles);
        prop_assert_eq!(batch.len(), indicator.outputs().len());
        let mut state = indicator.state();
        for (bar, candle) in candles.iter().enumerate() {
            let values = state.update(candle);
            for (output, line) in batch.iter().enumerate() {
                prop_assert_eq!(line.len(), candles.len());
                prop_assert!(
                    agree(indicator, line[bar], values.get(output)),
                    "{} output {} bar {}: batch {:?}, incremental {:?}",
                    indicator, output, bar, line[bar], values.get(output)
                );
            }
            prop_assert_eq!(values.is_ready(), bar >= indicator.warmup());
        }
    }

    #[test]
    fn a_cloned_state_peeks_without_disturbing_the_original(
        indicator in indicator(),
        candles in series(),
        provisional in series(),
    ) {
        let batch = indicator.batch(&candles);
        let mut state = indicator.state();
        for (bar, candle) in candles.iter().enumerate() {
            // A provisional bar (an intraday quote) fed to a copy must not leak into the
            // state that later takes the real bar.
            if let Some(quote) = provisional.get(bar) {
                let mut peek = state.clone();
                peek.update(quote);
            }
            let values = state.update(candle);
            for (output, line) in batch.iter().enumerate() {
                prop_assert!(agree(indicator, line[bar], values.get(output)), "{} bar {}", indicator, bar);
            }
        }
    }
}
