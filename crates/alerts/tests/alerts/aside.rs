//! A rule the engine cannot evaluate is set aside on its own, naming the field at fault, and
//! every other rule goes on firing; the dry run refuses it the same way.

use alerts::{Engine, Rule, RuleState, SetAsideCause, Tick, backtest};
use chrono::{DateTime, Utc};
use domain::{Bar, Symbol, TradingCalendar};

use crate::strategies::symbol;

fn tick(engine: &mut Engine, symbol: Symbol, price: &str, at: DateTime<Utc>) -> Vec<i64> {
    engine
        .on_tick(&Tick {
            symbol,
            price: price.parse().unwrap(),
            at,
            source: "test".to_owned(),
        })
        .iter()
        .map(|trigger| trigger.rule_id)
        .collect()
}

fn above(level: &str, cooldown: &str) -> Rule {
    serde_json::from_value(
        serde_json::json!({"symbol": "AAA", "kind": "above", "price": level,
        "frequency": "every_time", "cooldown": cooldown}),
    )
    .unwrap()
}

/// The reported rule, stored before validation bounded cooldowns: inserting it sets it aside
/// (naming the field and its range) and the other rules on its symbol go on firing.
#[test]
fn a_stored_rule_out_of_range_is_set_aside_and_every_other_rule_fires() {
    let mut engine = Engine::new();
    engine.insert(1, above("5", "99999999999d"), RuleState::armed());
    engine.insert(2, above("5", "1m"), RuleState::armed());
    let aside = engine.take_set_aside();
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].rule_id, 1);
    assert_eq!(aside[0].cause, SetAsideCause::OutOfRange);
    assert!(
        aside[0].reason.starts_with("cooldown:"),
        "{}",
        aside[0].reason
    );
    assert!(aside[0].reason.contains("366d"), "{}", aside[0].reason);
    assert_eq!(engine.state(1), None);

    let aaa = symbol(0);
    let t0: DateTime<Utc> = "2026-11-23T15:00:00Z".parse().unwrap();
    assert_eq!(tick(&mut engine, aaa, "6", t0), [2]);
    assert_eq!(
        tick(&mut engine, aaa, "6", t0 + chrono::TimeDelta::minutes(2)),
        [2]
    );
    assert!(engine.take_set_aside().is_empty());
}

/// A valid rule can still meet a tick it cannot be evaluated on (a quote stamped at the end of
/// time: the cooldown would end past the last instant): that rule alone is set aside, with an
/// evaluation error, and the tick still fires the others.
#[test]
fn a_rule_that_cannot_be_evaluated_on_a_tick_is_set_aside_alone() {
    let mut engine = Engine::new();
    engine.insert(1, above("5", "366d"), RuleState::armed());
    let once: Rule = serde_json::from_value(serde_json::json!(
        {"symbol": "AAA", "kind": "above", "price": "5", "frequency": "once"}))
    .unwrap();
    engine.insert(2, once, RuleState::armed());
    let end = DateTime::<Utc>::MAX_UTC - chrono::TimeDelta::days(1);
    assert_eq!(tick(&mut engine, symbol(0), "6", end), [2]);
    let aside = engine.take_set_aside();
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].rule_id, 1);
    assert_eq!(aside[0].cause, SetAsideCause::Evaluation);
    assert!(
        aside[0].reason.starts_with("cooldown:"),
        "{}",
        aside[0].reason
    );
    assert_eq!(engine.state(1), None);
    assert_eq!(engine.len(), 1);
}

/// The dry run refuses what live evaluation would set aside, instead of panicking.
#[test]
fn the_dry_run_of_a_rule_out_of_range_is_an_error_naming_the_field() {
    let bar = Bar {
        date: "2026-11-23".parse().unwrap(),
        open: "6".parse().unwrap(),
        high: "7".parse().unwrap(),
        low: "5.5".parse().unwrap(),
        close: "6.5".parse().unwrap(),
        volume: 1,
        adj_close: None,
    };
    let aside = backtest(
        &above("5", "99999999999d"),
        &[bar],
        TradingCalendar::NYSE,
        None,
    )
    .unwrap_err();
    assert_eq!(aside.cause, SetAsideCause::OutOfRange);
    assert!(aside.reason.starts_with("cooldown:"), "{}", aside.reason);
}
