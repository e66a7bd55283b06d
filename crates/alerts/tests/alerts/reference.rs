//! The indexed engine against a naive reference that evaluates every rule on every tick with
//! the same evaluator: over random rules and random-walk ticks, both must fire the same
//! triggers in the same order and end with the same states. If the index ever skipped a rule
//! that would have fired, this is where it shows.

use std::collections::HashMap;

use alerts::eval::{TickContext, Window, evaluate, window_of};
use alerts::{
    Condition, Engine, Frequency, Move, Percent, Rule, RuleState, Side, Span, Tick, Trail,
    trading_day,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::{Price, Symbol, TradingCalendar};

struct Reference {
    rules: Vec<(i64, Rule, RuleState, Window)>,
    last: HashMap<Symbol, (Price, DateTime<Utc>)>,
    closes: HashMap<Symbol, Vec<(NaiveDate, Price)>>,
}

impl Reference {
    fn on_tick(&mut self, tick: &Tick) -> Vec<(i64, String, String, RuleState)> {
        let (previous, previous_at) = match self.last.get(&tick.symbol) {
            Some(&(_, at)) if tick.at < at => return Vec::new(),
            Some(&(price, at)) => (Some(price), Some(at)),
            None => (None, None),
        };
        self.last.insert(tick.symbol, (tick.price, tick.at));
        let empty = Vec::new();
        let ctx = TickContext {
            symbol: tick.symbol,
            previous,
            previous_at,
            price: tick.price,
            at: tick.at,
            day: trading_day(&TradingCalendar::NYSE, tick.at),
            closes: self.closes.get(&tick.symbol).unwrap_or(&empty),
        };
        let mut fired = Vec::new();
        for (id, rule, state, window) in &mut self.rules {
            if rule.symbol != tick.symbol {
                continue;
            }
            // The reference keeps a window per rule; the engine shares one per duration.
            if let Some((span, keep_lowest)) = window_of(rule) {
                window.observe(tick.at, tick.price, span, keep_lowest);
            }
            if let Some(message) = evaluate(rule, state, Some(window), &ctx).unwrap().fired {
                let key = format!(
                    "r{id}:{}",
                    tick.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                );
                fired.push((*id, message, key, *state));
            }
        }
        fired.sort_by_key(|f| f.0);
        fired
    }
}

fn cents(rng: &mut fastrand::Rng, from: i64, to: i64) -> Price {
    // Half-dollar steps, so ticks often land exactly on levels.
    Price::from_raw(rng.i64(from * 2..=to * 2) * 500_000_000)
}

fn random_rule(rng: &mut fastrand::Rng, symbol: Symbol, start: DateTime<Utc>) -> Rule {
    let level = cents(rng, 90, 110);
    let percent = Percent(Price::from_raw(rng.i64(1..=8) * 500_000_000));
    let change = Move {
        percent,
        window_days: None,
        window: None,
        vs_previous_close: false,
    };
    let change = match rng.u8(0..3) {
        0 => Move {
            window_days: Some(rng.u32(1..=3)),
            ..change
        },
        1 => Move {
            window: Some(Span::from_secs(rng.u64(60..=7200))),
            ..change
        },
        _ => Move {
            vs_previous_close: true,
            ..change
        },
    };
    let condition = match rng.u8(0..8) {
        0 => Condition::Above { price: level },
        1 => Condition::Below { price: level },
        2 => Condition::CrossesUp { price: level },
        3 => Condition::CrossesDown { price: level },
        4 => Condition::Crosses { price: level },
        5 => Condition::MovesUpPct(change),
        6 => Condition::MovesDownPct(change),
        _ => Condition::TrailingStop(Trail {
            percent: rng.bool().then_some(percent),
            amount: None,
            activation_price: rng.bool().then(|| cents(rng, 95, 105)),
            side: if rng.bool() { Side::Long } else { Side::Short },
        }),
    };
    let condition = match condition {
        Condition::TrailingStop(trail) if trail.percent.is_none() => {
            Condition::TrailingStop(Trail {
                amount: Some(cents(rng, 1, 4)),
                ..trail
            })
        }
        other => other,
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
        cooldown: (frequency == Frequency::EveryTime).then(|| Span::from_secs(rng.u64(1..=3600))),
        channels: vec!["ch_1".to_owned()],
        expires_at: (rng.u8(0..5) == 0)
            .then(|| start + TimeDelta::seconds(rng.i64(0..=5 * 24 * 3600))),
    }
}

fn run(seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let symbols: Vec<Symbol> = ["AAA", "BBB", "CCC"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let start: DateTime<Utc> = "2026-11-20T14:30:00Z".parse().unwrap();
    let mut engine = Engine::new();
    let mut reference = Reference {
        rules: Vec::new(),
        last: HashMap::new(),
        closes: HashMap::new(),
    };
    for symbol in &symbols {
        let closes: Vec<(NaiveDate, Price)> = (10..=30)
            .map(|day| {
                (
                    NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
                    cents(&mut rng, 95, 105),
                )
            })
            .collect();
        engine.set_reference_closes(*symbol, &closes);
        reference.closes.insert(*symbol, closes);
    }
    for id in 0..150 {
        let symbol = symbols[rng.usize(..symbols.len())];
        let rule = random_rule(&mut rng, symbol, start);
        engine.insert(id, rule.clone(), RuleState::armed());
        reference
            .rules
            .push((id, rule, RuleState::armed(), Window::default()));
    }
    let mut prices: HashMap<Symbol, i64> = symbols.iter().map(|s| (*s, 200)).collect();
    let mut now = start;
    let mut fired = 0;
    for step in 0..4000 {
        // Mostly seconds to minutes apart, sometimes across a night or a weekend.
        now += TimeDelta::seconds(match rng.u8(0..50) {
            0 => rng.i64(3600..=3 * 24 * 3600),
            _ => rng.i64(0..=300),
        });
        let symbol = symbols[rng.usize(..symbols.len())];
        let half_dollars = prices.get_mut(&symbol).unwrap();
        // A random walk in half-dollar steps with the odd gap, kept within 80..120.
        let step_size = if rng.u8(0..20) == 0 {
            rng.i64(-12..=12)
        } else {
            rng.i64(-2..=2)
        };
        *half_dollars = (*half_dollars + step_size).clamp(160, 240);
        let tick = Tick {
            symbol,
            price: Price::from_raw(*half_dollars * 500_000_000),
            at: now,
            source: "sim".to_owned(),
        };
        let got: Vec<_> = engine
            .on_tick(&tick)
            .into_iter()
            .map(|t| (t.rule_id, t.message, t.dedupe_key, t.state))
            .collect();
        let want = reference.on_tick(&tick);
        assert_eq!(got, want, "seed {seed}, step {step}, tick {tick:?}");
        fired += got.len();
    }
    for (id, _, state, _) in &reference.rules {
        assert_eq!(engine.state(*id), Some(state), "seed {seed}, rule {id}");
    }
    assert_eq!(
        engine.take_set_aside(),
        [],
        "seed {seed}: valid rules on ordinary ticks are never set aside"
    );
    assert!(
        fired > 50,
        "seed {seed}: only {fired} fires; the test would prove little"
    );
}

#[test]
fn the_index_fires_exactly_what_evaluating_every_rule_fires() {
    for seed in 0..40 {
        run(seed);
    }
}
