//! The alert path at its edges: `window_days` and previous-close moves compare with the
//! symbol's stored daily bars (reloaded for each new session), and the latency metrics count
//! from the quote's own time, through to the delivered notification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use alerting::dispatcher::{DispatchConfig, Dispatcher};
use alerting::evaluator::Evaluator;
use bus::Bus;
use chrono::{Duration, Utc};
use domain::{Bar, Price, Series};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use notify::{NotifyConfig, Senders, WebhookConfig};
use serde_json::{Value, json};
use store::Store;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

use support::{at, memory_bus, msft, quote, sqlite_store, user, webhook_channel};

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    user: String,
    channel: String,
    receiver: MockServer,
}

/// A user with a webhook channel to a local receiver that answers 200, and no rule yet.
async fn world() -> World {
    let (dir, store) = sqlite_store().await;
    let user = user(store.as_ref(), "ann@example.com").await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let channel = webhook_channel(store.as_ref(), &user, &receiver.uri()).await;
    World {
        _dir: dir,
        store,
        bus: memory_bus(),
        user,
        channel,
        receiver,
    }
}

impl World {
    /// Stores an MSFT rule with these fields (and the world's channel).
    async fn rule(&self, fields: Value) {
        let mut definition = json!({"symbol": "MSFT", "channels": [self.channel]});
        for (key, value) in fields.as_object().unwrap() {
            definition[key] = value.clone();
        }
        let rule: alerts::Rule = serde_json::from_value(definition.clone()).unwrap();
        rule.validate().unwrap();
        support::stored_rule(self.store.as_ref(), &self.user, definition).await;
    }

    /// Stores MSFT daily bars that closed at these prices.
    async fn bars(&self, closes: &[(&str, &str)]) {
        let bars = closes
            .iter()
            .map(|(date, close)| {
                let close: Price = close.parse().unwrap();
                Bar::new_checked(date.parse().unwrap(), close, close, close, close, 1, None)
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
        events.into_iter().map(|event| event.message).collect()
    }
}

#[tokio::test]
async fn a_move_versus_the_previous_close_compares_with_the_stored_daily_bars() {
    let w = world().await;
    w.bars(&[("2026-11-19", "100"), ("2026-11-20", "102")])
        .await;
    w.rule(json!({"kind": "moves_down_pct", "percent": 5, "vs_previous_close": true}))
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // Monday 10:00 New York: Friday's 102 is the previous close (97 is 4.9 % under it).
    let monday = at("2026-11-23T15:00:00Z");
    assert_eq!(evaluator.on_quote(&quote("97", monday)).await.unwrap(), 0);
    let later = monday + Duration::seconds(15);
    assert_eq!(evaluator.on_quote(&quote("96.9", later)).await.unwrap(), 1);
    assert_eq!(
        w.messages().await,
        ["MSFT is down 5.00% versus the previous close 102.00 (now 96.90)"]
    );
}

#[tokio::test]
async fn a_new_session_compares_with_the_bar_stored_since() {
    let w = world().await;
    w.bars(&[("2026-11-20", "100")]).await;
    w.rule(
        json!({"kind": "moves_down_pct", "percent": 5, "window_days": 1,
                  "frequency": "once_per_day"}),
    )
    .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // Monday: 104 is up from Friday's 100; the day ends at 110 and its bar is ingested.
    let monday = at("2026-11-23T15:00:00Z");
    assert_eq!(evaluator.on_quote(&quote("104", monday)).await.unwrap(), 0);
    w.bars(&[("2026-11-23", "110")]).await;
    // Tuesday: 104 is 5.45 % under Monday's close, which the evaluator reads for the new
    // session (against Friday's 100 it would be a rise).
    let tuesday = at("2026-11-24T15:00:00Z");
    assert_eq!(evaluator.on_quote(&quote("104", tuesday)).await.unwrap(), 1);
    assert_eq!(
        w.messages().await,
        ["MSFT is down 5.45% versus the previous close 110.00 (now 104.00)"]
    );
}

/// Every value each histogram recorded since the last call, by metric name (a snapshot
/// drains them).
fn histograms(recorder: &DebuggingRecorder) -> HashMap<String, Vec<f64>> {
    let mut seen: HashMap<String, Vec<f64>> = HashMap::new();
    for (key, _, _, value) in recorder.snapshotter().snapshot().into_vec() {
        if let DebugValue::Histogram(values) = value {
            seen.entry(key.key().name().to_owned())
                .or_default()
                .extend(values.into_iter().map(|v| v.into_inner()));
        }
    }
    seen
}

#[tokio::test]
async fn latency_is_measured_from_the_quote_s_own_time_to_the_delivery() {
    let recorder = DebuggingRecorder::new();
    // This test's thread only (a current-thread runtime polls everything on it).
    let _local = metrics::set_default_local_recorder(&recorder);
    let w = world().await;
    w.rule(json!({"kind": "crosses_up", "price": 30})).await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // The quotes were made half a minute ago (a provider's time, a slow poll, a bus backlog).
    let made = Utc::now() - Duration::seconds(30);
    evaluator.on_quote(&quote("29.5", made)).await.unwrap();
    let crossing = made + Duration::seconds(1);
    assert_eq!(
        evaluator.on_quote(&quote("30.2", crossing)).await.unwrap(),
        1
    );
    let outbox = &histograms(&recorder)["stock_api_alert_tick_to_outbox_seconds"];
    assert_eq!(outbox.len(), 1);
    assert!((29.0..120.0).contains(&outbox[0]), "{outbox:?}");

    let config = NotifyConfig {
        smtp: None,
        twilio: None,
        webhook: WebhookConfig {
            allow: "127.0.0.1".parse().unwrap(),
            ..WebhookConfig::default()
        },
    };
    let dispatcher = Dispatcher::new(
        w.store.clone(),
        Arc::new(Senders::new(config).unwrap()),
        w.bus.clone(),
        DispatchConfig::default(),
    );
    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 1);
    assert_eq!(w.receiver.received_requests().await.unwrap().len(), 1);
    let recorded = histograms(&recorder);
    for name in [
        "stock_api_notification_dispatch_lag_seconds",
        "stock_api_alert_quote_to_delivery_seconds",
    ] {
        let seen = recorded.get(name).cloned().unwrap_or_default();
        assert_eq!(seen.len(), 1, "{name}");
        assert!((29.0..120.0).contains(&seen[0]), "{name}: {seen:?}");
    }
}
