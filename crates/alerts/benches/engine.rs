//! Alert engine benchmark (not a test): 1,000,000 active rules over 10,000 symbols, a mix of
//! every kind, fed random-walk ticks on one core.
//!
//! Reports rules loaded, resident memory per rule (from /proc/self/statm before and after
//! loading), ticks per second, per-tick latency percentiles and triggers fired.
//!
//! ```sh
//! cargo bench -p alerts --bench engine            # defaults below
//! RULES=200000 SYMBOLS=2000 TICKS=2000000 cargo bench -p alerts --bench engine
//! SERIES=10000 cargo bench -p alerts --bench engine   # and series rules on 10,000 symbols
//! ```
//!
//! `SERIES=n` adds two series rules on each of the first `n` symbols (RSI(14) crossing 50,
//! SMA(50) crossing SMA(200)), each symbol with 300 stored bars; the price rules and the ticks
//! are the same as without it.
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::hint::black_box;
use std::time::Instant;

use alerts::{
    Condition, Engine, Frequency, Move, Percent, Rule, RuleState, SeriesSpec, Side, Span, Tick,
    Trail,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::{Price, Symbol};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident set size in bytes, from /proc/self/statm (0 where there is no /proc).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn cents(units: f64) -> Price {
    Price::from_raw((units * 100.0).round() as i64 * 10_000_000)
}

/// One rule of the mix: 50 % crossings, 20 % levels, 15 % percent moves, 15 % trailing stops.
fn make_rule(rng: &mut fastrand::Rng, symbol: Symbol, base: f64, windows: bool) -> Rule {
    let away = |rng: &mut fastrand::Rng| 0.01 + rng.f64() * 0.09;
    let percent = Percent(cents(1.0 + rng.f64() * 9.0));
    let pick = rng.u8(0..100);
    let condition = match pick {
        0..20 => Condition::CrossesUp {
            price: cents(base * (1.0 + away(rng))),
        },
        20..40 => Condition::CrossesDown {
            price: cents(base * (1.0 - away(rng))),
        },
        40..50 => Condition::Crosses {
            price: cents(base * (1.0 + away(rng) - 0.05)),
        },
        50..60 => Condition::Above {
            price: cents(base * (1.0 + away(rng))),
        },
        60..70 => Condition::Below {
            price: cents(base * (1.0 - away(rng))),
        },
        70..85 => {
            let change = Move {
                percent,
                window_days: None,
                window: None,
                vs_previous_close: false,
            };
            let change = match pick % 3 {
                1 if windows => Move {
                    window: Some(Span::from_secs(3600)),
                    ..change
                },
                0 | 1 => Move {
                    window_days: Some(rng.u32(1..=20)),
                    ..change
                },
                _ => Move {
                    vs_previous_close: true,
                    ..change
                },
            };
            if rng.bool() {
                Condition::MovesUpPct(change)
            } else {
                Condition::MovesDownPct(change)
            }
        }
        _ => Condition::TrailingStop(Trail {
            percent: Some(percent),
            amount: None,
            activation_price: rng.bool().then(|| cents(base * 1.02)),
            side: if rng.bool() { Side::Long } else { Side::Short },
        }),
    };
    let frequency = match rng.u8(0..3) {
        0 => Frequency::Once,
        1 => Frequency::OncePerDay,
        _ => Frequency::EveryTime,
    };
    Rule {
        symbol,
        condition,
        series: None,
        value: None,
        other: None,
        frequency,
        cooldown: (frequency == Frequency::EveryTime).then_some(Span::from_secs(900)),
        channels: vec!["ch_1".to_owned()],
        expires_at: None,
    }
}

/// A series rule on `symbol`: `series` crossing `value` or the `other` series, every time.
fn series_rule(symbol: Symbol, series: &str, value: Option<i64>, other: Option<&str>) -> Rule {
    let spec = |name: &str| name.parse::<SeriesSpec>().ok();
    Rule {
        symbol,
        condition: Condition::Crosses { price: Price::ZERO },
        series: spec(series),
        value: value.map(Price::from_units),
        other: other.and_then(spec),
        frequency: Frequency::EveryTime,
        cooldown: Some(Span::from_secs(900)),
        channels: vec!["ch_1".to_owned()],
        expires_at: None,
    }
}

fn main() {
    let rules = env("RULES", 1_000_000);
    let symbol_count = env("SYMBOLS", 10_000);
    let ticks = env("TICKS", 5_000_000);
    // WINDOWS=0 turns the duration-window moves (a third of the moves) into window_days ones.
    let windows = env("WINDOWS", 1) != 0;
    let mut rng = fastrand::Rng::with_seed(42);

    let symbols: Vec<Symbol> = (0..symbol_count)
        .filter_map(|i| Symbol::parse(&format!("S{i:05}")).ok())
        .collect();
    let bases: Vec<f64> = symbols.iter().map(|_| 20.0 + rng.f64() * 480.0).collect();
    let generated: Vec<(usize, Rule)> = (0..rules)
        .map(|_| {
            let s = rng.usize(..symbols.len());
            (s, make_rule(&mut rng, symbols[s], bases[s], windows))
        })
        .collect();

    let before = rss();
    let started = Instant::now();
    let mut engine = Engine::new();
    let closes_from: NaiveDate = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default();
    for (s, symbol) in symbols.iter().enumerate() {
        let closes: Vec<(NaiveDate, Price)> = (0..40)
            .filter_map(|d| closes_from.checked_add_days(chrono::Days::new(d)))
            .map(|date| (date, cents(bases[s] * (0.97 + rng.f64() * 0.06))))
            .collect();
        engine.set_reference_closes(*symbol, &closes);
    }
    for (id, (_, rule)) in generated.into_iter().enumerate() {
        engine.insert(id as i64, rule, RuleState::armed());
    }
    // Series rules draw from their own generator, so the price rules and ticks stay the same.
    let series_symbols = env("SERIES", 0).min(symbols.len());
    let mut series_rng = fastrand::Rng::with_seed(7);
    let session = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
    for (s, symbol) in symbols.iter().enumerate().take(series_symbols) {
        let id = (rules + 2 * s) as i64;
        engine.insert(
            id,
            series_rule(*symbol, "rsi:14", Some(50), None),
            RuleState::armed(),
        );
        let golden = series_rule(*symbol, "sma:50", None, Some("sma:200"));
        engine.insert(id + 1, golden, RuleState::armed());
        let mut close = bases[s];
        let candles: Vec<indicators::Candle> = (0..300)
            .map(|_| {
                close *= 1.0 + (series_rng.f64() - 0.5) * 0.04;
                indicators::Candle::from_close(close)
            })
            .collect();
        engine.set_series_bars(*symbol, session, &candles);
    }
    let load_time = started.elapsed();
    let after = rss();
    let per_rule = after.saturating_sub(before) as f64 / rules as f64;

    // Random walk: each tick moves one random symbol by up to ±0.1 %, in cents.
    let mut prices: Vec<f64> = bases.clone();
    let start: DateTime<Utc> = "2026-11-23T14:30:00Z".parse().unwrap_or_default();
    let mut make_tick = |rng: &mut fastrand::Rng, i: usize| {
        let s = rng.usize(..symbols.len());
        prices[s] *= 1.0 + (rng.f64() - 0.5) * 0.002;
        Tick {
            symbol: symbols[s],
            price: cents(prices[s]),
            // 100 µs apart: 5 M ticks span about 8 minutes, inside one session.
            at: start + TimeDelta::microseconds(i as i64 * 100),
            source: String::new(),
        }
    };
    let ticks_in: Vec<Tick> = (0..ticks).map(|i| make_tick(&mut rng, i)).collect();

    // Warm-up on the first tenth (not counted), then the timed run over the rest, with a
    // timestamp around every tick for the latency distribution.
    let warm = ticks / 10;
    let mut fired = 0usize;
    for tick in &ticks_in[..warm] {
        fired += black_box(engine.on_tick(tick)).len();
    }
    let measured = &ticks_in[warm..];
    let mut latencies: Vec<u64> = Vec::with_capacity(measured.len());
    let mut fired_measured = 0usize;
    let run = Instant::now();
    for tick in measured {
        let t0 = Instant::now();
        let triggers = engine.on_tick(tick);
        latencies.push(t0.elapsed().as_nanos() as u64);
        fired_measured += black_box(triggers).len();
    }
    let elapsed = run.elapsed();
    let changed = engine.changed_states().len();
    latencies.sort_unstable();
    let pct = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];

    println!(
        "rules loaded:        {} over {} symbols in {:.2?}",
        engine.len(),
        symbols.len(),
        load_time
    );
    println!(
        "RSS:                 {:.1} MiB before, {:.1} MiB after loading",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    println!("memory per rule:     {per_rule:.0} bytes (RSS delta / rules)");
    println!(
        "ticks measured:      {} (after {} warm-up)",
        measured.len(),
        warm
    );
    println!(
        "throughput:          {:.0} ticks/s (one core, incl. per-tick timestamps)",
        measured.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "per-tick latency:    p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        pct(0.5),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
    println!(
        "triggers:            {fired_measured} in the measured run ({fired} in warm-up); {changed} states changed"
    );
}
