//! The alert crate's behaviour, from the outside: wire shape and validation, every kind firing
//! exactly when it should, the index against a naive reference, and backtests.
// Helpers outside `#[test]` functions panic on bad fixtures, which is a failed test too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aside;
mod backtest;
mod extremes;
mod firing;
mod reference;
mod series;
mod strategies;
mod wire;

use alerts::{Engine, Rule, RuleState, Tick, Trigger};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{Price, Symbol};
use serde_json::json;

pub fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

pub fn price(text: &str) -> Price {
    text.parse().unwrap()
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A rule from its wire JSON, with `symbol: MSFT` and `frequency: once` unless given.
pub fn rule(fields: serde_json::Value) -> Rule {
    let mut value = json!({"symbol": "MSFT", "frequency": "once", "channels":["ch_1"]});
    for (key, field) in fields.as_object().unwrap() {
        value[key] = field.clone();
    }
    let rule: Rule = serde_json::from_value(value).unwrap();
    rule.validate().unwrap();
    rule
}

/// An engine with one rule (id 1) fed MSFT ticks one minute apart from Monday 2026-11-23 10:00
/// New York.
#[derive(Debug)]
pub struct Feed {
    pub engine: Engine,
    pub now: DateTime<Utc>,
}

impl Feed {
    pub fn new(rule: Rule) -> Self {
        let mut engine = Engine::new();
        engine.insert(1, rule, RuleState::armed());
        Self {
            engine,
            now: at("2026-11-23T15:00:00Z"),
        }
    }

    /// Sends a tick one minute after the previous one.
    pub fn tick(&mut self, text: &str) -> Vec<Trigger> {
        self.now += TimeDelta::minutes(1);
        self.tick_at(self.now, text)
    }

    pub fn tick_at(&mut self, when: DateTime<Utc>, text: &str) -> Vec<Trigger> {
        self.now = when;
        self.engine.on_tick(&Tick {
            symbol: msft(),
            price: price(text),
            at: when,
            source: "test".to_owned(),
        })
    }

    /// Feeds prices in order; returns the indexes of the ticks that fired.
    pub fn fires(&mut self, prices: &[&str]) -> Vec<usize> {
        prices
            .iter()
            .enumerate()
            .filter(|(_, p)| !self.tick(p).is_empty())
            .map(|(i, _)| i)
            .collect()
    }

    pub fn state(&self) -> RuleState {
        *self.engine.state(1).unwrap()
    }
}
