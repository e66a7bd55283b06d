//! What the alert path stored and can no longer read fails closed. A rule state that does not
//! read never re-arms its rule (the default state is armed, so a `once` rule that fired would
//! fire again): the evaluator sets the rule aside (its owner sees why in the API), counts it in
//! `stock_api_alert_rule_errors_total{reason="unreadable_state"}`, and every other rule keeps
//! firing. A channel stored with a webhook format this build does not know is never sent as a
//! generic webhook: its notifications fail, counted as `channel="unreadable"`. On SQLite and
//! PostgreSQL, the rows corrupted with plain SQL behind the store's back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod databases;
mod support;

use std::sync::Arc;

use support::{memory_bus, stored_rule as rule, user};

use alerting::dispatcher::{DispatchConfig, Dispatcher};
use alerting::evaluator::Evaluator;
use bus::QuoteEvent;
use chrono::Utc;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use notify::{ChannelTarget, Notification as Message, Notifier, WebhookFormat};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use store::{NotificationStatus, RuleStatus, SqliteStore, Store};

/// Where the rows are, for writing past the store.
enum Raw {
    Sqlite(String),
    Postgres(String),
}

impl Raw {
    /// Runs `sql` (`$1` the text, `$2` the id) on the database behind the store's back.
    async fn execute<'q, I>(&self, sql: &'q str, text: &'q str, id: I)
    where
        I: sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Sqlite>
            + sqlx::Type<sqlx::Postgres>
            + Send
            + 'q,
    {
        match self {
            Raw::Sqlite(url) => {
                let mut db = SqliteConnection::connect(url).await.unwrap();
                let query = sqlx::query(AssertSqlSafe(sql)).bind(text).bind(id);
                query.execute(&mut db).await.unwrap();
            }
            Raw::Postgres(url) => {
                let mut db = PgConnection::connect(url).await.unwrap();
                let query = sqlx::query(AssertSqlSafe(sql)).bind(text).bind(id);
                query.execute(&mut db).await.unwrap();
            }
        }
    }

    /// Sets a rule's stored definition text as it is.
    async fn set_definition(&self, rule_id: i64, text: &str) {
        self.execute(
            "update alert_rules set definition = $1 where id = $2",
            text,
            rule_id,
        )
        .await;
    }

    /// Sets a rule's stored state text as it is.
    async fn set_state(&self, rule_id: i64, text: &str) {
        self.execute(
            "update alert_rules set state = $1 where id = $2",
            text,
            rule_id,
        )
        .await;
    }
}

/// Each backend's store and raw access; the third item keeps the database alive.
async fn backends() -> Vec<(Arc<dyn Store>, Raw, databases::Keep)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stockd.db");
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let url = format!("sqlite://{}", path.display());
    let mut out = vec![(sqlite, Raw::Sqlite(url), Box::new(dir) as databases::Keep)];
    if let Some(admin_url) = databases::postgres_admin_url() {
        let database = databases::TestPostgres::create(&admin_url).await;
        let postgres = store::open(&database.url).await.unwrap();
        let raw = Raw::Postgres(database.url.clone());
        out.push((postgres, raw, Box::new(database)));
    }
    out
}

/// A fresh metrics recorder for this test's thread only (a current-thread runtime polls
/// everything on it), kept for the whole test.
fn recording() -> (
    &'static DebuggingRecorder,
    metrics::LocalRecorderGuard<'static>,
) {
    let recorder: &'static DebuggingRecorder = Box::leak(Box::new(DebuggingRecorder::new()));
    (recorder, metrics::set_default_local_recorder(recorder))
}

fn quote(price: &str, time: &str) -> QuoteEvent {
    support::quote(price, support::at(time))
}

#[tokio::test]
async fn a_fired_once_rule_whose_stored_state_cannot_be_read_is_set_aside_and_never_fires_again() {
    for (store, raw, _keep) in backends().await {
        let backend = store.backend();
        let (recorder, _local) = recording();
        let bus = memory_bus();
        let ada = user(store.as_ref(), "ada@example.com").await;
        let bob = user(store.as_ref(), "bob@example.com").await;
        let once = json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "once"});
        // Ada's `once` rules fired long ago; their states then went bad: one no longer has the
        // engine's shape, the other is not JSON at all.
        let misshapen = rule(store.as_ref(), &ada, once.clone()).await;
        raw.set_state(misshapen.id, r#"{"armed": "no", "fire_count": 1}"#)
            .await;
        let garbled = rule(store.as_ref(), &ada, once).await;
        raw.set_state(garbled.id, "{armed: fals").await;
        let healthy = json!({"symbol": "MSFT", "kind": "above", "price": 5,
                             "frequency": "every_time", "cooldown": "1m"});
        rule(store.as_ref(), &bob, healthy).await;

        let mut evaluator = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
        assert_eq!(
            evaluator.rules(),
            1,
            "{backend}: only Bob's rule is evaluated"
        );
        assert_eq!(
            evaluator
                .on_quote(&quote("30", "2026-11-27T15:30:00Z"))
                .await
                .unwrap(),
            1,
            "{backend}: Bob's rule fires, Ada's do not"
        );
        assert!(
            store.alert_events(&ada, 10).await.unwrap().is_empty(),
            "{backend}"
        );
        assert_eq!(
            counter(
                recorder,
                "stock_api_alert_rule_errors_total",
                &[("reason", "unreadable_state")]
            ),
            2,
            "{backend}"
        );

        // What the API shows Ada: set aside, with why.
        for id in [misshapen.id, garbled.id] {
            let stored = store.rule(&ada, id).await.unwrap().unwrap();
            let aside = stored
                .set_aside
                .unwrap_or_else(|| panic!("{backend}: rule {id} is set aside"));
            assert!(
                aside.reason.contains("stored state does not parse"),
                "{backend}: {}",
                aside.reason
            );
            assert_eq!(stored.status, RuleStatus::Active, "{backend}: the owner's");
        }

        // A restart does not bring them back either.
        drop(evaluator);
        let mut restarted = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
        assert_eq!(restarted.rules(), 1, "{backend}");
        restarted
            .on_quote(&quote("31", "2026-11-27T15:40:00Z"))
            .await
            .unwrap();
        assert!(
            store.alert_events(&ada, 10).await.unwrap().is_empty(),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_rule_whose_stored_definition_is_not_json_is_set_aside_alone() {
    for (store, raw, _keep) in backends().await {
        let backend = store.backend();
        let bus = memory_bus();
        let ada = user(store.as_ref(), "ada@example.com").await;
        let bob = user(store.as_ref(), "bob@example.com").await;
        let once = json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "once"});
        let garbled = rule(store.as_ref(), &ada, once.clone()).await;
        raw.set_definition(garbled.id, "{kind: above").await;
        rule(store.as_ref(), &bob, once).await;

        // Loading does not stop at Ada's row: Bob's rule is evaluated and fires.
        let mut evaluator = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
        assert_eq!(evaluator.rules(), 1, "{backend}: only Bob's rule");
        assert_eq!(
            evaluator
                .on_quote(&quote("30", "2026-11-27T15:30:00Z"))
                .await
                .unwrap(),
            1,
            "{backend}: Bob's rule fires"
        );
        // Ada still sees her rule listed, set aside with why.
        let listed = store.rules(&ada).await.unwrap();
        assert_eq!(listed.len(), 1, "{backend}");
        let aside = listed[0]
            .set_aside
            .clone()
            .unwrap_or_else(|| panic!("{backend}: the garbled rule is set aside"));
        assert!(
            aside.reason.contains("stored definition does not parse"),
            "{backend}: {}",
            aside.reason
        );
    }
}

/// Records what it is asked to send, and sends nothing.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl Notifier for Recorder {
    async fn send(
        &self,
        target: &ChannelTarget,
        n: &Message,
    ) -> Result<notify::Delivered, notify::SendError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("{target:?} {}", n.idempotency_key));
        Ok(notify::Delivered {
            provider_message_id: None,
        })
    }
}

/// The counter `name{labels}` as recorded so far.
fn counter(recorder: &DebuggingRecorder, name: &str, labels: &[(&str, &str)]) -> u64 {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            key.key().name() == name
                && labels.iter().all(|(k, v)| {
                    key.key()
                        .labels()
                        .any(|label| label.key() == *k && label.value() == *v)
                })
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(count) => count,
            other => panic!("not a counter: {other:?}"),
        })
        .sum()
}

#[tokio::test]
async fn a_channel_stored_with_an_unknown_webhook_format_is_never_sent_as_generic() {
    for (store, raw, _keep) in backends().await {
        let backend = store.backend();
        let (recorder, _local) = recording();
        let bus = memory_bus();
        let ada = user(store.as_ref(), "ada@example.com").await;
        let hook = ChannelTarget::Webhook {
            url: "https://hooks.example.com/stockd".into(),
            secret: "whsec_0123456789abcdef".into(),
            format: WebhookFormat::Slack,
        };
        let channel = store
            .create_channel(&ada, &hook, Utc::now())
            .await
            .unwrap()
            .id;
        rule(
            store.as_ref(),
            &ada,
            json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "once",
                   "channels": [channel]}),
        )
        .await;
        let mut evaluator = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
        assert_eq!(
            evaluator
                .on_quote(&quote("30", "2026-11-27T15:30:00Z"))
                .await
                .unwrap(),
            1
        );
        // A newer build (since rolled back) stored a format this one does not know.
        raw.execute(
            "update channels set format = $1 where id = $2",
            "teams",
            channel.as_str(),
        )
        .await;

        let sent = Arc::new(Recorder::default());
        let dispatcher = Dispatcher::new(
            store.clone(),
            sent.clone(),
            bus.clone(),
            DispatchConfig::default(),
        );
        assert_eq!(dispatcher.run_once("w1").await.unwrap(), 1, "{backend}");
        assert!(sent.0.lock().unwrap().is_empty(), "{backend}: nothing sent");
        let notifications = store.notifications(&ada, 10).await.unwrap();
        assert_eq!(
            notifications[0].status,
            NotificationStatus::Failed,
            "{backend}"
        );
        let error = notifications[0].last_error.clone().unwrap_or_default();
        assert!(
            error.contains("unknown webhook format 'teams'"),
            "{backend}: {error}"
        );
        let failed = [("channel", "unreadable"), ("outcome", "failed")];
        assert_eq!(
            counter(recorder, "stock_api_notifications_total", &failed),
            1,
            "{backend}"
        );
        // Its owner sees why.
        let stored = store.channel(&ada, &channel).await.unwrap().unwrap();
        let unreadable = stored.target.unwrap_err();
        assert_eq!(unreadable.kind, "webhook", "{backend}");
        assert!(unreadable.reason.contains("teams"), "{backend}");
    }
}
