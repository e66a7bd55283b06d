//! Nothing a rule or a tick can carry panics the engine or the dry run: random rules (built
//! directly, so past validation: any price, percent, duration, instant and state, at its
//! extremes) and random tick sequences (prices of any sign, instants from chrono's minimum to
//! its maximum, out of order) go through [`Engine`] and [`backtest`]. A rule that cannot be
//! evaluated is set aside (out of range, or an evaluation error), never by a panic: the
//! engine's per-rule `catch_unwind` is a last resort these tests must not reach. One user's
//! rule must never stop alerting for everyone.

use alerts::eval::{TickContext, Window, evaluate, window_of};
use alerts::{Engine, LastQuote, Rule, SetAsideCause, Tick, backtest};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Price, TradingCalendar};
use proptest::prelude::*;

use crate::strategies::{bar, date, instant, price, rule, state, symbol, unchecked_rule};

/// What can happen to an engine besides inserting rules.
#[derive(Debug, Clone)]
enum Step {
    Tick(u8, Price, DateTime<Utc>),
    Closes(u8, Vec<(NaiveDate, Price)>),
    Restore(u8, Price, DateTime<Utc>),
    Update(i64, Rule),
    Remove(i64),
}

fn step() -> BoxedStrategy<Step> {
    prop_oneof![
        12 => (any::<u8>(), price(), instant()).prop_map(|(s, p, at)| Step::Tick(s, p, at)),
        1 => (any::<u8>(), prop::collection::vec((date(), price()), 0..6))
            .prop_map(|(s, closes)| Step::Closes(s, closes)),
        1 => (any::<u8>(), price(), instant()).prop_map(|(s, p, at)| Step::Restore(s, p, at)),
        1 => ((0i64..8), rule()).prop_map(|(id, rule)| Step::Update(id, rule)),
        1 => (0i64..8).prop_map(Step::Remove),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_rule_state_or_tick_panics_the_engine(
        rules in prop::collection::vec((rule(), state()), 1..8),
        steps in prop::collection::vec(step(), 0..40),
    ) {
        let mut engine = Engine::new();
        for (id, (rule, state)) in (0i64..).zip(rules) {
            engine.insert(id, rule, state);
        }
        for step in steps {
            match step {
                Step::Tick(s, price, at) => {
                    engine.on_tick(&Tick {
                        symbol: symbol(s),
                        price,
                        at,
                        source: "test".to_owned(),
                    });
                }
                Step::Closes(s, closes) => engine.set_reference_closes(symbol(s), &closes),
                Step::Restore(s, price, at) => engine.restore_quote(LastQuote {
                    symbol: symbol(s),
                    price,
                    at,
                }),
                Step::Update(id, rule) => {
                    engine.update(id, rule);
                }
                Step::Remove(id) => {
                    engine.remove(id);
                }
            }
            for id in 0..8 {
                engine.trigger_level(id);
            }
            engine.changed_states();
            engine.changed_quotes();
            for aside in engine.take_set_aside() {
                prop_assert_ne!(aside.cause, SetAsideCause::Panic, "{:?}", aside);
                prop_assert!(engine.state(aside.rule_id).is_none(), "{:?}", aside);
            }
        }
    }

    /// The evaluator itself, fed rules the engine would have set aside: it answers (or
    /// errs) for any of them.
    #[test]
    fn no_unchecked_rule_state_or_tick_panics_the_evaluator(
        rule in unchecked_rule(),
        mut state in state(),
        ticks in prop::collection::vec(
            (prop::option::of(price()), prop::option::of(instant()), price(), instant(), date()),
            1..6,
        ),
        closes in prop::collection::vec((date(), price()), 0..6),
    ) {
        let mut closes = closes;
        closes.sort_by_key(|(date, _)| *date);
        let mut window = Window::default();
        for (previous, previous_at, price, at, day) in ticks {
            if let Some((span, keep_lowest)) = window_of(&rule) {
                window.observe(at, price, span, keep_lowest);
            }
            let ctx = TickContext {
                symbol: rule.symbol,
                previous,
                previous_at,
                price,
                at,
                day,
                closes: &closes,
            };
            let _ = evaluate(&rule, &mut state, Some(&window), &ctx);
            state.trigger_level(&rule);
        }
    }

    #[test]
    fn no_rule_or_history_panics_the_dry_run(
        rule in rule(),
        bars in prop::collection::vec(bar(), 0..12),
    ) {
        let from = bars.get(bars.len() / 2).map(|bar| bar.date);
        if let Err(aside) = backtest(&rule, &bars, TradingCalendar::NYSE, from) {
            prop_assert_ne!(aside.cause, SetAsideCause::Panic, "{:?}", aside);
        }
    }
}
