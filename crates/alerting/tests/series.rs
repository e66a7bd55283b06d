//! Series rules on the live path: the evaluator reads the symbol's stored daily bars, the
//! live price is the session's provisional bar for indicators of closes, indicators of highs,
//! lows and volumes move only with a new stored bar, and a rebuilt engine (rules changed)
//! neither misses nor repeats a crossing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alerting::evaluator::Evaluator;
use bus::Bus;
use chrono::{Duration, Utc};
use domain::{Bar, Price, Series};
use serde_json::{Value, json};
use store::{RuleStatus, Store};

mod support;

use support::{at, memory_bus, msft, quote, sqlite_store, user};

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    user: String,
}

async fn world() -> World {
    let (dir, store) = sqlite_store().await;
    let user = user(store.as_ref(), "ann@example.com").await;
    World {
        _dir: dir,
        store,
        bus: memory_bus(),
        user,
    }
}

impl World {
    /// Stores an MSFT rule with these fields; its id.
    async fn rule(&self, fields: Value) -> i64 {
        let mut definition = json!({"symbol": "MSFT", "channels": []});
        for (key, value) in fields.as_object().unwrap() {
            definition[key] = value.clone();
        }
        let rule: alerts::Rule = serde_json::from_value(definition.clone()).unwrap();
        rule.validate().unwrap();
        support::stored_rule(self.store.as_ref(), &self.user, definition)
            .await
            .id
    }

    /// Stores MSFT daily bars: (date, close, volume), open = high = low = close.
    async fn bars(&self, bars: &[(&str, &str, u64)]) {
        let bars = bars
            .iter()
            .map(|(date, close, volume)| {
                let close: Price = close.parse().unwrap();
                Bar::new_checked(
                    date.parse().unwrap(),
                    close,
                    close,
                    close,
                    close,
                    *volume,
                    None,
                )
                .unwrap()
            })
            .collect();
        self.store
            .upsert_series(&Series::new(msft(), bars, "test", Utc::now()))
            .await
            .unwrap();
    }

    async fn messages(&self) -> Vec<String> {
        let events = self.store.alert_events(&self.user, 10).await.unwrap();
        let mut messages: Vec<String> = events.into_iter().map(|event| event.message).collect();
        messages.reverse();
        messages
    }
}

/// Quotes `prices` from Monday 2026-11-23 10:00 New York on, `start` seconds in and 15 s
/// apart; how many events each wrote.
async fn feed(evaluator: &mut Evaluator, start: i64, prices: &[&str]) -> Vec<usize> {
    let monday = at("2026-11-23T15:00:00Z");
    let mut written = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        let when = monday + Duration::seconds(start + 15 * i as i64);
        written.push(evaluator.on_quote(&quote(price, when)).await.unwrap());
    }
    written
}

#[tokio::test]
async fn a_series_rule_fires_once_when_the_live_value_crosses_its_level() {
    let w = world().await;
    w.bars(&[
        ("2026-11-18", "10", 1),
        ("2026-11-19", "10", 1),
        ("2026-11-20", "10", 1),
    ])
    .await;
    let id = w
        .rule(json!({"kind": "crosses_up", "series": "sma:3", "value": 11, "frequency": "once"}))
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // Friday's three closes of 10 and the live price as Monday's close: 10.67, 11.33, …
    assert_eq!(
        feed(&mut evaluator, 0, &["12", "14", "10", "14"]).await,
        [0, 1, 0, 0]
    );
    assert_eq!(
        w.messages().await,
        ["MSFT sma:3 crossed above 11 (now 11.33; price 14.00)"]
    );
    let stored = w.store.rule(&w.user, id).await.unwrap().unwrap();
    assert_eq!(stored.status, RuleStatus::Disarmed);
}

#[tokio::test]
async fn a_golden_cross_neither_repeats_nor_is_missed_across_an_engine_rebuild() {
    let w = world().await;
    w.bars(&[
        ("2026-11-18", "10", 1),
        ("2026-11-19", "10", 1),
        ("2026-11-20", "10", 1),
    ])
    .await;
    w.rule(
        json!({"kind": "crosses_up", "series": "sma:2", "other": "sma:3",
        "frequency": "every_time", "cooldown": "1s"}),
    )
    .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // Above 10 the two-day average leads the three-day one: the first quote over 10 crosses.
    assert_eq!(feed(&mut evaluator, 0, &["11", "12"]).await, [1, 0]);
    // A rule created meanwhile rebuilds the engine; it goes on from the last quote (12).
    w.rule(json!({"kind": "above", "price": 1000})).await;
    assert!(evaluator.reload_if_changed().await.unwrap());
    assert_eq!(
        feed(&mut evaluator, 60, &["13", "9", "11"]).await,
        [0, 0, 1]
    );
    assert_eq!(w.messages().await.len(), 2);
}

#[tokio::test]
async fn an_end_of_day_series_moves_only_when_the_next_bar_is_stored() {
    let w = world().await;
    // OBV: 100, then 50 after a down day.
    w.bars(&[("2026-11-19", "10", 100), ("2026-11-20", "9", 50)])
        .await;
    w.rule(json!({"kind": "crosses_up", "series": "obv", "value": 120,
        "frequency": "every_time", "cooldown": "1s"}))
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // The live price does not move an OBV.
    assert_eq!(
        feed(&mut evaluator, 0, &["1000", "5", "2000"]).await,
        [0, 0, 0]
    );
    // Monday closes up on 80: OBV 130, seen on Tuesday's first quote only.
    w.bars(&[("2026-11-23", "11", 80)]).await;
    let tuesday = at("2026-11-24T15:00:00Z");
    assert_eq!(evaluator.on_quote(&quote("11", tuesday)).await.unwrap(), 1);
    let later = tuesday + Duration::seconds(15);
    assert_eq!(evaluator.on_quote(&quote("12", later)).await.unwrap(), 0);
    assert_eq!(
        w.messages().await,
        ["MSFT obv crossed above 120 (now 130.00; price 11.00)"]
    );
}
