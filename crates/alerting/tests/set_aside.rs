//! One user's rule never stops alerting for everyone: a rule the engine cannot evaluate (stored
//! out of range before the API bounded it, unreadable, or failing on a quote) is set aside in
//! the store with its reason, is not loaded again after a restart, and every other user's rule
//! goes on firing. Over a real SQLite file and the in-process bus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alerting::evaluator::Evaluator;
use bus::Bus;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use store::{RuleStatus, Store, StoredRule};

mod support;

use support::{at, memory_bus, quote, sqlite_store};

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
}

impl World {
    async fn new() -> Self {
        let (dir, store) = sqlite_store().await;
        Self {
            _dir: dir,
            store,
            bus: memory_bus(),
        }
    }

    async fn user(&self, email: &str) -> String {
        support::user(self.store.as_ref(), email).await
    }

    /// Stores `definition` as it is, past the API's validation (as an older build did).
    async fn rule(&self, user_id: &str, definition: Value) -> StoredRule {
        support::stored_rule(self.store.as_ref(), user_id, definition).await
    }

    async fn evaluator(&self) -> Evaluator {
        Evaluator::load(self.store.clone(), self.bus.clone())
            .await
            .unwrap()
    }

    async fn stored(&self, user_id: &str, rule: &StoredRule) -> StoredRule {
        self.store.rule(user_id, rule.id).await.unwrap().unwrap()
    }

    async fn events(&self, user_id: &str) -> usize {
        self.store.alert_events(user_id, 100).await.unwrap().len()
    }
}

/// The body of the security report: an `every_time` rule whose cooldown is 99 999 999 999 days.
fn reported_rule() -> Value {
    json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "every_time",
           "cooldown": "99999999999d"})
}

fn every_minute_above_5() -> Value {
    json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "every_time",
           "cooldown": "1m"})
}

#[tokio::test]
async fn the_reported_rule_is_set_aside_and_another_users_rule_fires_across_restarts() {
    let w = World::new().await;
    let mallory = w.user("mallory@example.com").await;
    let ann = w.user("ann@example.com").await;
    let bad = w.rule(&mallory, reported_rule()).await;
    let good = w.rule(&ann, every_minute_above_5()).await;

    let mut evaluator = w.evaluator().await;
    assert_eq!(evaluator.rules(), 1, "only Ann's rule is evaluated");
    let stored = w.stored(&mallory, &bad).await;
    let aside = stored.set_aside.expect("Mallory's rule is set aside");
    assert!(aside.reason.starts_with("cooldown:"), "{}", aside.reason);
    assert!(aside.reason.contains("366d"), "{}", aside.reason);
    assert_eq!(
        stored.status,
        RuleStatus::Active,
        "its status is the owner's"
    );
    let active: Vec<i64> = w
        .store
        .active_rules()
        .await
        .unwrap()
        .iter()
        .map(|rule| rule.id)
        .collect();
    assert_eq!(active, [good.id]);

    // The tick that panicked the evaluator fires Ann's rule.
    let t0 = at("2026-11-27T15:30:00Z");
    assert_eq!(evaluator.on_quote(&quote("30", t0)).await.unwrap(), 1);
    assert_eq!(w.events(&ann).await, 1);
    assert_eq!(w.events(&mallory).await, 0);

    // A restart loads the same: no panic, Ann's rule fires again after its cooldown.
    drop(evaluator);
    let mut restarted = w.evaluator().await;
    assert_eq!(restarted.rules(), 1);
    let later = t0 + chrono::Duration::minutes(2);
    assert_eq!(restarted.on_quote(&quote("31", later)).await.unwrap(), 1);
    assert_eq!(w.events(&ann).await, 2);
    let again = w.stored(&mallory, &bad).await.set_aside.unwrap();
    assert_eq!(again.at, aside.at, "set aside once, not again at each load");
}

#[tokio::test]
async fn a_rule_failing_on_a_quote_is_set_aside_and_the_quote_still_fires_the_others() {
    let w = World::new().await;
    let mallory = w.user("mallory@example.com").await;
    let ann = w.user("ann@example.com").await;
    // Valid, but a quote stamped at the end of time has its cooldown end past the last instant.
    let year = json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "every_time",
                      "cooldown": "366d"});
    let bad = w.rule(&mallory, year).await;
    w.rule(
        &ann,
        json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "once"}),
    )
    .await;
    let mut evaluator = w.evaluator().await;
    assert_eq!(evaluator.rules(), 2);

    let end_of_time = DateTime::<Utc>::MAX_UTC - chrono::Duration::days(1);
    assert_eq!(
        evaluator.on_quote(&quote("30", end_of_time)).await.unwrap(),
        1
    );
    assert_eq!(w.events(&ann).await, 1);
    assert_eq!(evaluator.rules(), 1, "Mallory's rule left the engine");
    let aside = w.stored(&mallory, &bad).await.set_aside.unwrap();
    assert!(aside.reason.starts_with("cooldown:"), "{}", aside.reason);
    assert_eq!(
        w.evaluator().await.rules(),
        0,
        "neither Ann's fired once-rule nor Mallory's is loaded again"
    );
}

#[tokio::test]
async fn a_stored_definition_that_no_longer_parses_is_set_aside_with_its_reason() {
    let w = World::new().await;
    let mallory = w.user("mallory@example.com").await;
    let ann = w.user("ann@example.com").await;
    let unreadable = w
        .rule(
            &mallory,
            json!({"symbol": "MSFT", "kind": "pigeon", "frequency": "once"}),
        )
        .await;
    w.rule(&ann, every_minute_above_5()).await;
    let mut evaluator = w.evaluator().await;
    assert_eq!(evaluator.rules(), 1);
    let aside = w.stored(&mallory, &unreadable).await.set_aside.unwrap();
    assert!(aside.reason.contains("does not parse"), "{}", aside.reason);
    assert_eq!(
        evaluator
            .on_quote(&quote("30", at("2026-11-27T15:30:00Z")))
            .await
            .unwrap(),
        1
    );
}
