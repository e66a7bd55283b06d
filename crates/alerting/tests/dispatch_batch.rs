//! A burst of firings through the dispatcher: a claimed batch goes out concurrently, never more
//! than `per_host` sends in flight to one receiving host while other hosts proceed on their
//! own; the batch's outcomes are recorded together once every send has ended; and a dispatcher
//! that dies mid-batch leaves every claim to be sent again with the same idempotency key and
//! recorded once. On the in-memory store and tokio's paused clock: a send "takes" 200 ms of
//! paused time, so every send the dispatcher starts together is in flight together, and the
//! tests count overlaps, never durations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alerting::dispatcher::{DispatchConfig, Dispatcher};
use alerting::evaluator::Evaluator;
use bus::Bus;
use chrono::Utc;
use notify::{ChannelTarget, Notification as Message, Notifier};
use serde_json::json;
use store::{MemoryStore, NotificationStatus, Store};
use tokio::sync::Semaphore;

mod support;

use support::{memory_bus, quote, stored_rule, user};

const HOST_A: &str = "https://a.example.com/hook";
const HOST_B: &str = "https://b.example.com:8443/hook";

/// A receiver per host that counts the sends in flight to each, and can hold one host's sends
/// until the test lets them go.
struct Receivers {
    state: Mutex<Seen>,
    /// The host whose sends wait for a permit of `gate`.
    held: Option<&'static str>,
    gate: Semaphore,
}

#[derive(Default)]
struct Seen {
    in_flight: HashMap<String, usize>,
    most: HashMap<String, usize>,
    total: usize,
    most_total: usize,
    /// Idempotency keys of finished sends, per host.
    sent: HashMap<String, Vec<String>>,
}

impl Default for Receivers {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            held: None,
            gate: Semaphore::new(0),
        }
    }
}

impl Receivers {
    fn holding(host: &'static str) -> Self {
        Self {
            held: Some(host),
            ..Self::default()
        }
    }

    fn most(&self, host: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .most
            .get(host)
            .copied()
            .unwrap_or(0)
    }

    fn sent(&self, host: &str) -> Vec<String> {
        let mut keys = self
            .state
            .lock()
            .unwrap()
            .sent
            .get(host)
            .cloned()
            .unwrap_or_default();
        keys.sort();
        keys
    }
}

#[async_trait::async_trait]
impl Notifier for Receivers {
    async fn send(
        &self,
        target: &ChannelTarget,
        n: &Message,
    ) -> Result<notify::Delivered, notify::SendError> {
        let ChannelTarget::Webhook { url, .. } = target else {
            panic!("webhooks only here")
        };
        {
            let mut seen = self.state.lock().unwrap();
            let now = {
                let count = seen.in_flight.entry(url.clone()).or_default();
                *count += 1;
                *count
            };
            let most = seen.most.entry(url.clone()).or_default();
            *most = (*most).max(now);
            seen.total += 1;
            seen.most_total = seen.most_total.max(seen.total);
        }
        if self.held == Some(url.as_str()) {
            self.gate.acquire().await.unwrap().forget();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut seen = self.state.lock().unwrap();
        *seen.in_flight.get_mut(url).unwrap() -= 1;
        seen.total -= 1;
        seen.sent
            .entry(url.clone())
            .or_default()
            .push(n.idempotency_key.clone());
        Ok(notify::Delivered {
            provider_message_id: None,
        })
    }
}

struct Burst {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    user: String,
}

/// `to_a` rules notifying host A and `to_b` notifying host B, all crossing 30 on one quote:
/// that many outbox rows, written by the evaluator as in production.
async fn burst(to_a: usize, to_b: usize) -> Burst {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let bus = memory_bus();
    let user = user(store.as_ref(), "ann@example.com").await;
    for (url, rules) in [(HOST_A, to_a), (HOST_B, to_b)] {
        let target = store::ChannelTarget::Webhook {
            url: url.into(),
            secret: "whsec_test".into(),
            format: domain::WebhookFormat::Generic,
        };
        let channel = store
            .create_channel(&user, &target, Utc::now())
            .await
            .unwrap()
            .id;
        for n in 0..rules {
            // Distinct thresholds below the crossing price: distinct rules, all firing.
            let price = 30.0 - f64::from(u32::try_from(n).unwrap()) / 100.0;
            stored_rule(
                store.as_ref(),
                &user,
                json!({"symbol": "MSFT", "kind": "crosses_up", "price": price,
                    "frequency": "once", "channels": [channel]}),
            )
            .await;
        }
    }
    let mut evaluator = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
    let made = Utc::now();
    evaluator
        .on_quote(&quote("29.00", made - chrono::Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(
        evaluator.on_quote(&quote("30.20", made)).await.unwrap(),
        to_a + to_b
    );
    Burst { store, bus, user }
}

fn dispatcher(b: &Burst, receivers: Arc<Receivers>, config: DispatchConfig) -> Dispatcher {
    Dispatcher::new(b.store.clone(), receivers, b.bus.clone(), config)
}

async fn statuses(b: &Burst) -> Vec<NotificationStatus> {
    b.store
        .notifications(&b.user, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.status)
        .collect()
}

async fn keys(b: &Burst) -> Vec<String> {
    let mut keys: Vec<String> = b
        .store
        .notifications(&b.user, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.idempotency_key)
        .collect();
    keys.sort();
    keys
}

#[tokio::test(start_paused = true)]
async fn a_batch_goes_out_concurrently_bounded_per_host_while_other_hosts_proceed() {
    let b = burst(12, 5).await;
    let receivers = Arc::new(Receivers::default());
    let dispatcher = dispatcher(
        &b,
        receivers.clone(),
        DispatchConfig {
            per_host: 3,
            ..DispatchConfig::default()
        },
    );
    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 17);

    assert_eq!(
        receivers.most(HOST_A),
        3,
        "host A: up to its bound, never more"
    );
    assert_eq!(
        receivers.most(HOST_B),
        3,
        "host B: up to its bound, never more"
    );
    assert_eq!(
        receivers.state.lock().unwrap().most_total,
        6,
        "both hosts at their bound at once: B does not wait behind A"
    );
    let mut sent = receivers.sent(HOST_A);
    sent.extend(receivers.sent(HOST_B));
    sent.sort();
    assert_eq!(
        sent,
        keys(&b).await,
        "each notification sent once, with its key"
    );
    assert!(
        statuses(&b)
            .await
            .iter()
            .all(|s| *s == NotificationStatus::Delivered)
    );
    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 0, "nothing left");
}

#[tokio::test(start_paused = true)]
async fn the_default_bound_lets_a_burst_to_one_host_overlap() {
    let b = burst(20, 0).await;
    let receivers = Arc::new(Receivers::default());
    let dispatcher = dispatcher(&b, receivers.clone(), DispatchConfig::default());
    assert_eq!(dispatcher.run_once("d1").await.unwrap(), 20);
    let most = receivers.most(HOST_A);
    assert_eq!(
        most,
        usize::try_from(alerting::dispatcher::DEFAULT_PER_HOST).unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_s_outcomes_are_recorded_together_once_every_send_has_ended() {
    let b = burst(4, 2).await;
    let receivers = Arc::new(Receivers::holding(HOST_B));
    let dispatcher = Arc::new(dispatcher(&b, receivers.clone(), DispatchConfig::default()));
    let running = tokio::spawn({
        let dispatcher = dispatcher.clone();
        async move { dispatcher.run_once("d1").await.unwrap() }
    });
    // Let host A's sends finish (paused time moves on whenever everything waits) while host B's
    // are held.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receivers.sent(HOST_A).len(),
        4,
        "A's sends did not wait for B's"
    );
    assert!(receivers.sent(HOST_B).is_empty());
    assert!(
        statuses(&b)
            .await
            .iter()
            .all(|s| *s == NotificationStatus::Sending),
        "nothing recorded while one send of the batch is still out: {:?}",
        statuses(&b).await
    );

    receivers.gate.add_permits(2);
    assert_eq!(running.await.unwrap(), 6);
    assert!(
        statuses(&b)
            .await
            .iter()
            .all(|s| *s == NotificationStatus::Delivered)
    );
    for n in b.store.notifications(&b.user, 100).await.unwrap() {
        let log = b
            .store
            .delivery_attempts(&b.user, &n.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(log.len(), 1, "one attempt logged for {}", n.id);
        assert_eq!(log[0].outcome, "delivered");
    }
}

#[tokio::test(start_paused = true)]
async fn a_dispatcher_dying_mid_batch_leaves_every_claim_to_be_resent_with_its_key() {
    let b = burst(3, 2).await;
    // Every send of the first dispatcher hangs; it dies with all of them in flight.
    let stuck = Arc::new(Receivers::holding(HOST_A));
    let dying = Arc::new(dispatcher(
        &b,
        stuck.clone(),
        DispatchConfig {
            // Its claims expire at once, so the next dispatcher need not wait out a lease.
            lease: Duration::ZERO,
            ..DispatchConfig::default()
        },
    ));
    let running = tokio::spawn({
        let dying = dying.clone();
        async move { dying.run_once("dead").await }
    });
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stuck.sent(HOST_B).len(), 2, "B's sends went out");
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    assert!(
        statuses(&b)
            .await
            .iter()
            .all(|s| *s == NotificationStatus::Sending),
        "the dead dispatcher recorded none of its batch"
    );

    // Wall-clock time (the lease's) must move past the dead claims' lease.
    std::thread::sleep(Duration::from_millis(2));
    let receivers = Arc::new(Receivers::default());
    let next = dispatcher(&b, receivers.clone(), DispatchConfig::default());
    assert_eq!(
        next.run_once("d2").await.unwrap(),
        5,
        "every claim taken over"
    );
    let mut resent = receivers.sent(HOST_A);
    resent.extend(receivers.sent(HOST_B));
    resent.sort();
    assert_eq!(resent, keys(&b).await, "sent again with the same keys");
    assert_eq!(
        receivers.sent(HOST_B),
        stuck.sent(HOST_B),
        "B's receiver sees its keys again and drops the repeats"
    );
    for n in b.store.notifications(&b.user, 100).await.unwrap() {
        assert_eq!(n.status, NotificationStatus::Delivered);
        assert_eq!(n.attempts, 2);
        let log = b
            .store
            .delivery_attempts(&b.user, &n.id)
            .await
            .unwrap()
            .unwrap();
        let attempts: Vec<u32> = log.iter().map(|a| a.attempt).collect();
        assert_eq!(attempts, [2], "recorded once, by the dispatcher that lived");
    }
}
