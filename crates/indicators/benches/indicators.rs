//! Indicator throughput (not a test): every indicator over 500 symbols × 10 years (2,520 bars)
//! of synthetic daily bars (a seeded random walk), batch and incremental, reported in bars per
//! second (criterion's "elem/s").
//!
//! ```sh
//! taskset -c 0 cargo bench -p indicators --bench indicators      # one core
//! cargo bench -p indicators --bench indicators -- 'rsi'          # one indicator
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use indicators::{Candle, Indicator};

const SYMBOLS: usize = 500;
const BARS: usize = 2520;

const SPECS: [&str; 11] = [
    "sma:50",
    "ema:20",
    "wma:10",
    "rsi:14",
    "macd:12:26:9",
    "bbands:20:2",
    "atr:14",
    "stoch:14:3:3",
    "roc:10",
    "obv",
    "volatility:20",
];

/// Daily bars of `SYMBOLS` symbols: from 5..505, steps of up to ±3 %, a range around each bar.
fn universe() -> Vec<Vec<Candle>> {
    let mut rng = fastrand::Rng::with_seed(20_260_101);
    (0..SYMBOLS)
        .map(|_| {
            let mut close = 5.0 + 500.0 * rng.f64();
            (0..BARS)
                .map(|_| {
                    let open = close;
                    close *= 1.0 + 0.06 * (rng.f64() - 0.5);
                    let high = open.max(close) * (1.0 + 0.01 * rng.f64());
                    let low = open.min(close) * (1.0 - 0.01 * rng.f64());
                    let volume = (1e6 * rng.f64()).round();
                    Candle {
                        open,
                        high,
                        low,
                        close,
                        volume,
                    }
                })
                .collect()
        })
        .collect()
}

fn indicators(c: &mut Criterion) {
    let universe = universe();
    let bars = (SYMBOLS * BARS) as u64;
    for spec in SPECS {
        let Ok(indicator) = spec.parse::<Indicator>() else {
            continue;
        };
        let mut group = c.benchmark_group(spec);
        group.throughput(Throughput::Elements(bars));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(4));
        group.bench_function("batch", |b| {
            b.iter(|| {
                for candles in &universe {
                    black_box(indicator.batch(black_box(candles)));
                }
            });
        });
        group.bench_function("incremental", |b| {
            b.iter(|| {
                for candles in &universe {
                    let mut state = indicator.state();
                    for candle in candles {
                        black_box(state.update(black_box(candle)));
                    }
                }
            });
        });
        group.finish();
    }
}

criterion_group!(benches, indicators);
criterion_main!(benches);
