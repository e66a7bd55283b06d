//! The alert path end to end over a real SQLite file, the in-process bus and a local webhook
//! receiver: a crossing fires once, the webhook arrives signed with its idempotency key, a
//! second evaluator (a failover) cannot double the firing, receivers that fail are retried on
//! schedule and ones that refuse are not, and the poller publishes guarded quotes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use alerting::dispatcher::{DispatchConfig, Dispatcher};
use alerting::evaluator::Evaluator;
use alerting::poller::{PollerConfig, QuotePoller};
use alerts::RuleState;
use bus::{Bus, Event, QuoteEvent, StreamKind};
use chrono::Utc;
use notify::{NotifyConfig, RetrySchedule, Senders, WebhookConfig};
use serde_json::json;
use store::{NewRule, NotificationStatus, RuleStatus, Store};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

use support::{at, memory_bus, msft, sqlite_store, user, webhook_channel};

fn quote(price: &str, time: &str) -> QuoteEvent {
    support::quote(price, at(time))
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    user: String,
    receiver: MockServer,
}

/// A user with a webhook channel to a local receiver and a `crosses_up 30` rule on MSFT.
async fn world() -> World {
    let (dir, store) = sqlite_store().await;
    let user = user(store.as_ref(), "ann@example.com").await;
    let receiver = MockServer::start().await;
    let channel = webhook_channel(store.as_ref(), &user, &receiver.uri()).await;
    let definition = json!({"symbol": "MSFT", "kind": "crosses_up", "price": 30.0,
        "frequency": "once", "channels": [channel]});
    let rule: alerts::Rule = serde_json::from_value(definition.clone()).unwrap();
    rule.validate().unwrap();
    store
        .create_rule(
            &NewRule {
                user_id: user.clone(),
                symbol: msft(),
                definition,
                state: serde_json::to_value(RuleState::armed()).unwrap(),
                status: RuleStatus::Active,
            },
            Utc::now(),
        )
        .await
        .unwrap();
    World {
        _dir: dir,
        store,
        bus: memory_bus(),
        user,
        receiver,
    }
}

fn dispatcher(w: &World, schedule: RetrySchedule) -> Dispatcher {
    let config = NotifyConfig {
        smtp: None,
        twilio: None,
        webhook: WebhookConfig {
            // The receiver listens on loopback, which the SSRF guard refuses unless allowed.
            allow: "127.0.0.1".parse().unwrap(),
            ..WebhookConfig::default()
        },
    };
    Dispatcher::new(
        w.store.clone(),
        Arc::new(Senders::new(config).unwrap()),
        w.bus.clone(),
        DispatchConfig {
            schedule,
            ..DispatchConfig::default()
        },
    )
}

#[tokio::test]
async fn a_crossing_fires_once_and_the_webhook_arrives_with_its_idempotency_key() {
    let w = world().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(header_exists("idempotency-key"))
        .and(header_exists("x-stockd-signature"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&w.receiver)
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    assert_eq!(evaluator.rules(), 1);
    assert_eq!(
        evaluator
            .on_quote(&quote("29.50", "2026-11-27T15:30:00Z"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        evaluator
            .on_quote(&quote("30.20", "2026-11-27T15:30:15Z"))
            .await
            .unwrap(),
        1,
        "crossed above 30"
    );
    assert_eq!(
        evaluator
            .on_quote(&quote("30.40", "2026-11-27T15:30:30Z"))
            .await
            .unwrap(),
        0,
        "a once rule is disarmed"
    );
    let events = w.store.alert_events(&w.user, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].message.contains("MSFT"), "{}", events[0].message);

    let sent = dispatcher(&w, RetrySchedule::default())
        .run_once("d1")
        .await
        .unwrap();
    assert_eq!(sent, 1);
    let notifications = w.store.notifications(&w.user, 10).await.unwrap();
    assert_eq!(notifications[0].status, NotificationStatus::Delivered);
    let requests = w.receiver.received_requests().await.unwrap();
    assert_eq!(
        requests[0].headers["idempotency-key"].to_str().unwrap(),
        notifications[0].idempotency_key
    );
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["symbol"], "MSFT");
    assert_eq!(body["rule_id"], events[0].rule_id);
}

#[tokio::test]
async fn an_evaluator_taking_over_cannot_double_a_firing() {
    let w = world().await;
    // Both loaded with the rule armed: B stands for a replica that takes over a partition
    // whose quote A recorded but never acknowledged.
    let mut a = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    let mut b = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    for evaluator in [&mut a, &mut b] {
        evaluator
            .on_quote(&quote("29.50", "2026-11-27T15:30:00Z"))
            .await
            .unwrap();
    }
    let crossing = quote("30.20", "2026-11-27T15:30:15Z");
    assert_eq!(a.on_quote(&crossing).await.unwrap(), 1);
    assert_eq!(
        b.on_quote(&crossing).await.unwrap(),
        0,
        "the dedupe key absorbs the redelivered quote"
    );
    assert_eq!(w.store.alert_events(&w.user, 10).await.unwrap().len(), 1);
    assert_eq!(w.store.notifications(&w.user, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_restarted_evaluator_remembers_the_last_price_and_the_disarmed_rule() {
    let w = world().await;
    {
        let mut before = Evaluator::load(w.store.clone(), w.bus.clone())
            .await
            .unwrap();
        before
            .on_quote(&quote("29.50", "2026-11-27T15:30:00Z"))
            .await
            .unwrap();
    }
    // Restart: the previous price (29.50) comes from the store, so this tick is a crossing.
    let mut after = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    assert_eq!(
        after
            .on_quote(&quote("30.20", "2026-11-27T15:30:15Z"))
            .await
            .unwrap(),
        1
    );
    let again = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    assert_eq!(again.rules(), 0, "a fired once-rule is not loaded again");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_on_schedule_and_a_refusing_one_is_not() {
    let w = world().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&w.receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&w.receiver)
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    evaluator
        .on_quote(&quote("29.50", "2026-11-27T15:30:00Z"))
        .await
        .unwrap();
    evaluator
        .on_quote(&quote("30.20", "2026-11-27T15:30:15Z"))
        .await
        .unwrap();
    // An immediate first retry keeps the test fast; the schedule's length bounds the attempts.
    let dispatcher = dispatcher(
        &w,
        RetrySchedule(vec![Duration::ZERO, Duration::ZERO, Duration::ZERO]),
    );
    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 1);
    let first = w.store.notifications(&w.user, 10).await.unwrap().remove(0);
    assert_eq!(first.status, NotificationStatus::Pending, "500: retried");
    assert!(first.last_error.as_deref().unwrap().contains("500"));

    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 1);
    let second = w.store.notifications(&w.user, 10).await.unwrap().remove(0);
    assert_eq!(second.status, NotificationStatus::Failed, "410: given up");
    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 0, "never again");

    let log = w
        .store
        .delivery_attempts(&w.user, &second.id)
        .await
        .unwrap()
        .unwrap();
    let outcomes: Vec<&str> = log.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "failed"]);
    assert_eq!(w.receiver.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_poller_publishes_simulated_quotes_for_symbols_with_active_rules() {
    let w = world().await;
    let sim = Arc::new(providers::sim::Sim::new(
        providers::sim::SimConfig::default(),
    ));
    let market = Arc::new(market::Market::new(
        sim,
        w.store.clone(),
        market::MarketConfig::default(),
    ));
    let mut quotes = w.bus.subscribe(StreamKind::Quotes, "test").await.unwrap();
    let mut poller = QuotePoller::new(
        market,
        w.store.clone(),
        w.bus.clone(),
        PollerConfig::default(),
    );
    let round = poller.poll_once().await;
    assert_eq!((round.published, round.rejected, round.failed), (1, 0, 0));
    let delivery = tokio::time::timeout(Duration::from_secs(5), quotes.next())
        .await
        .unwrap()
        .unwrap();
    let Event::Quote(event) = delivery.event().clone() else {
        panic!("not a quote: {:?}", delivery.event());
    };
    assert_eq!(event.symbol, msft());
    assert_eq!(event.source, "sim");
    assert!(event.price.is_positive());
    delivery.ack().await.unwrap();
}

#[tokio::test]
async fn a_receiver_asking_for_an_absurd_retry_after_is_retried_within_a_day() {
    let w = world().await;
    // A user's own webhook receiver controls Retry-After: a value past the end of time must
    // neither panic the dispatcher (a poison notification every replica would die on) nor
    // park the notification for ages.
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429).insert_header("retry-after", "18446744073709551615"),
        )
        .mount(&w.receiver)
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    evaluator
        .on_quote(&quote("29.50", "2026-11-27T15:30:00Z"))
        .await
        .unwrap();
    evaluator
        .on_quote(&quote("30.20", "2026-11-27T15:30:15Z"))
        .await
        .unwrap();
    let before = Utc::now();
    let sent = dispatcher(&w, RetrySchedule::default())
        .run_once("d1")
        .await
        .unwrap();
    assert_eq!(sent, 1);
    let pending = w.store.notifications(&w.user, 10).await.unwrap().remove(0);
    assert_eq!(pending.status, NotificationStatus::Pending, "429: retried");
    let wait = pending.next_attempt_at - before;
    assert!(
        wait > chrono::Duration::hours(23)
            && wait <= chrono::Duration::hours(24) + chrono::Duration::minutes(1),
        "retry at {} (in {wait})",
        pending.next_attempt_at
    );
}

/// The dashboard's watchlist cards need live quotes for symbols no rule watches: the poller
/// covers watched symbols too, each symbol once however many users watch it or have rules on
/// it, rule symbols first; off, it polls rule symbols only.
#[tokio::test]
async fn the_poller_also_covers_watched_only_symbols_once_each() {
    let w = world().await;
    let aapl = domain::Symbol::parse("AAPL").unwrap();
    let bob = user(w.store.as_ref(), "bob@example.com").await;
    for (who, symbol) in [(&w.user, msft()), (&w.user, aapl), (&bob, aapl)] {
        w.store.watch(who, symbol, Utc::now()).await.unwrap();
    }
    let sim = Arc::new(providers::sim::Sim::new(
        providers::sim::SimConfig::default(),
    ));
    let market = Arc::new(market::Market::new(
        sim,
        w.store.clone(),
        market::MarketConfig::default(),
    ));
    let mut quotes = w.bus.subscribe(StreamKind::Quotes, "test").await.unwrap();
    let mut poller = QuotePoller::new(
        market.clone(),
        w.store.clone(),
        w.bus.clone(),
        PollerConfig::default(),
    );
    let round = poller.poll_once().await;
    assert_eq!((round.published, round.rejected, round.failed), (2, 0, 0));
    let mut symbols = Vec::new();
    for _ in 0..2 {
        let delivery = tokio::time::timeout(Duration::from_secs(5), quotes.next())
            .await
            .unwrap()
            .unwrap();
        let Event::Quote(event) = delivery.event().clone() else {
            panic!("not a quote: {:?}", delivery.event());
        };
        symbols.push(event.symbol);
        delivery.ack().await.unwrap();
    }
    symbols.sort();
    assert_eq!(symbols, [aapl, msft()]);

    let mut rules_only = QuotePoller::new(
        market,
        w.store.clone(),
        w.bus.clone(),
        PollerConfig {
            watched: false,
            ..PollerConfig::default()
        },
    );
    assert_eq!(
        rules_only.poll_once().await.published,
        1,
        "MSFT's rule only"
    );
}
