//! What every alert-path test binary builds its world from: the symbol, quotes at a time, a
//! SQLite store in a temporary folder, the in-process bus, a user and a stored rule. One copy,
//! so the binaries differ only in what they test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alerts::RuleState;
use bus::{Bus, BusConfig, MemoryBus, QuoteEvent};
use chrono::{DateTime, Utc};
use domain::{Price, Symbol};
use serde_json::Value;
use store::{NewRule, NewUser, RuleStatus, SqliteStore, Store, StoredRule};

pub fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A live MSFT quote of `price` made at `at`.
pub fn quote(price: &str, at: DateTime<Utc>) -> QuoteEvent {
    QuoteEvent {
        symbol: msft(),
        price: price.parse::<Price>().unwrap(),
        previous_close: None,
        at,
        source: "test".into(),
    }
}

/// A SQLite store in a new temporary folder (kept alive by the returned handle).
pub async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("stockd.db"))
            .await
            .unwrap(),
    );
    (dir, store)
}

pub fn memory_bus() -> Arc<dyn Bus> {
    Arc::new(MemoryBus::new(BusConfig::default()).unwrap())
}

/// A new user with `email`; its id.
pub async fn user(store: &dyn Store, email: &str) -> String {
    let new = NewUser {
        email: email.into(),
        display_name: None,
        password_hash: "$argon2id$test".into(),
        is_admin: false,
    };
    store
        .create_user(&new, Utc::now())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Stores an active MSFT rule with `definition` as it is, past the API's validation (as an
/// older build, or a bad row, would have it), armed.
pub async fn stored_rule(store: &dyn Store, user_id: &str, definition: Value) -> StoredRule {
    let new = NewRule {
        user_id: user_id.into(),
        symbol: msft(),
        definition,
        state: serde_json::to_value(RuleState::armed()).unwrap(),
        status: RuleStatus::Active,
    };
    store.create_rule(&new, Utc::now()).await.unwrap()
}

/// A generic webhook channel of `user_id` to `{base}/hook`; its id.
pub async fn webhook_channel(store: &dyn Store, user_id: &str, base: &str) -> String {
    let target = store::ChannelTarget::Webhook {
        url: format!("{base}/hook"),
        secret: "whsec_test".into(),
        format: domain::WebhookFormat::Generic,
    };
    store
        .create_channel(user_id, &target, Utc::now())
        .await
        .unwrap()
        .id
}
