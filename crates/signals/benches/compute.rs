//! Signal computation benchmark (not a test): what an ingest run costs, on one core.
//!
//! 500 symbols × 10 years (2,520 trading days) of synthetic random-walk bars. Two cases:
//!
//! - **backfill**: every day's signal of every symbol (the first run, or a new method);
//! - **latest day**: every symbol's history read again but only its last day's signal built
//!   (what each later ingest run stores).
//!
//! ```sh
//! cargo bench -p signals --bench compute                  # defaults below
//! SYMBOLS=100 DAYS=1260 ROUNDS=5 cargo bench -p signals --bench compute
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use domain::{Bar, Price, SignalsConfig, Symbol};
use signals::{Method, SentimentSeries};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One symbol's random walk: daily moves up to ±3 %, prices kept above a cent.
fn history(rng: &mut fastrand::Rng, days: usize) -> Vec<Bar> {
    let start = NaiveDate::from_ymd_opt(2016, 1, 4).unwrap_or_default();
    let mut close = 20.0 + rng.f64() * 400.0;
    (0..days)
        .filter_map(|i| {
            let open = close;
            close = (close * (1.0 + (rng.f64() - 0.5) * 0.06)).max(0.01);
            let price = |value: f64| Price::from_f64(value);
            Some(Bar {
                date: start.checked_add_days(Days::new(i as u64))?,
                open: price(open)?,
                high: price(open.max(close) * 1.005)?,
                low: price(open.min(close) * 0.995)?,
                close: price(close)?,
                volume: 1_000_000,
                adj_close: None,
            })
        })
        .collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let symbols = env("SYMBOLS", 500);
    let days = env("DAYS", 2_520);
    let rounds = env("ROUNDS", 3).max(1);
    let mut rng = fastrand::Rng::with_seed(42);
    let universe: Vec<(Symbol, Vec<Bar>)> = (0..symbols)
        .filter_map(|i| {
            Some((
                Symbol::parse(&format!("S{i:04}")).ok()?,
                history(&mut rng, days),
            ))
        })
        .collect();
    let Ok(method) = Method::new(SignalsConfig::default()) else {
        return;
    };
    let sentiment = SentimentSeries::new();
    let now = Utc::now();

    let run = |latest_only: bool| -> (Duration, usize) {
        let started = Instant::now();
        let mut stored = 0;
        for (symbol, bars) in &universe {
            let from = latest_only
                .then(|| bars.last().map(|bar| bar.date))
                .flatten();
            let signals = method.signals(*symbol, bars, &sentiment, from, now);
            stored += black_box(signals).len();
        }
        (started.elapsed(), stored)
    };

    println!(
        "signals {}: {symbols} symbols × {days} days, {rounds} rounds, one core",
        method.name()
    );
    for (case, latest_only) in [("backfill", false), ("latest day", true)] {
        let mut times = Vec::with_capacity(rounds);
        let mut stored = 0;
        for _ in 0..rounds {
            let (time, count) = run(latest_only);
            times.push(time);
            stored = count;
        }
        let best = times.iter().min().copied().unwrap_or_default();
        let median = median(times);
        println!(
            "{case:>10}: median {:.1} ms, best {:.1} ms ({:.0} µs per symbol, {stored} signals)",
            median.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e6 / symbols.max(1) as f64,
        );
    }
}
