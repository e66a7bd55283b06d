//! Alert bursts, quote → webhook received: 1,000 active rules on one symbol, 50 of which fire on
//! every quote, one quote a second, embedded (a real SQLite file, the in-process bus). The
//! evaluator writes each quote's 50 firings; the dispatcher (its production loop, woken by the
//! evaluator's outbox nudge) sends them through the real webhook sender to a receiver on
//! 127.0.0.1, which notes when each arrives. Latency: the quote's time → the webhook received.
//!
//! `bench/alert-burst.sh` (or `cargo bench -p alerting --bench burst`; `QUOTES=n` quotes,
//! default 20). Not a test: the figures go to bench/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alerting::dispatcher::{DispatchConfig, Dispatcher};
use alerting::evaluator::Evaluator;
use alerts::RuleState;
use bus::{Bus, BusConfig, MemoryBus, QuoteEvent};
use chrono::{DateTime, Utc};
use domain::Symbol;
use notify::{NotifyConfig, Senders, WebhookConfig};
use serde_json::json;
use store::{ChannelTarget, NewRule, NewUser, RuleStatus, Store};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RULES: usize = 1_000;
const FIRING: usize = 50;

/// Notes, for each webhook, how long after its quote it arrived.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Duration>>>);

impl Respond for Arrivals {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = Utc::now();
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let at: DateTime<Utc> = body["at"].as_str().unwrap().parse().unwrap();
        self.0
            .lock()
            .unwrap()
            .push((now - at).to_std().unwrap_or_default());
        ResponseTemplate::new(200)
    }
}

async fn seed(store: &Arc<dyn Store>, receiver: &str) {
    let user = store
        .create_user(
            &NewUser {
                email: "bench@example.com".into(),
                display_name: None,
                password_hash: "$argon2id$bench".into(),
                is_admin: false,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .unwrap()
        .id;
    let channel = store
        .create_channel(
            &user,
            &ChannelTarget::Webhook {
                url: format!("{receiver}/hook"),
                secret: "whsec_bench".into(),
                format: domain::WebhookFormat::Generic,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .id;
    for n in 0..RULES {
        // 50 rules cross 100 on every quote (the quotes alternate around it); the other 950
        // are evaluated on every quote and never fire.
        let price = if n < FIRING {
            100.0
        } else {
            1_000.0 + n as f64
        };
        let definition = json!({"symbol": "MSFT", "kind": "crosses", "price": price,
            "frequency": "every_time", "cooldown": "1s", "channels": [channel]});
        store
            .create_rule(
                &NewRule {
                    user_id: user.clone(),
                    symbol: Symbol::parse("MSFT").unwrap(),
                    definition,
                    state: serde_json::to_value(RuleState::armed()).unwrap(),
                    status: RuleStatus::Active,
                },
                Utc::now(),
            )
            .await
            .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let quotes: usize = std::env::var("QUOTES")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        store::SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap(),
    );
    let receiver = MockServer::start().await;
    let arrivals = Arrivals::default();
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(arrivals.clone())
        .mount(&receiver)
        .await;
    seed(&store, &receiver.uri()).await;
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
    let senders = Senders::new(NotifyConfig {
        smtp: None,
        twilio: None,
        webhook: WebhookConfig {
            allow: "127.0.0.1".parse().unwrap(),
            ..WebhookConfig::default()
        },
    })
    .unwrap();
    let dispatcher = Dispatcher::new(
        store.clone(),
        Arc::new(senders),
        bus.clone(),
        DispatchConfig::default(),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let dispatching = tokio::spawn(dispatcher.run("bench-dispatch".into(), stopped));
    let mut evaluator = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // Quote times exactly a second apart, as the ticks are: the rules' 1 s cooldown then ends
    // on every next quote, whatever the scheduling jitter of reading the wall clock.
    let started = Utc::now();
    for n in 0..=quotes {
        tick.tick().await;
        let quote = QuoteEvent {
            symbol: Symbol::parse("MSFT").unwrap(),
            price: if n % 2 == 0 { "99.5" } else { "100.5" }.parse().unwrap(),
            previous_close: None,
            at: started + chrono::Duration::seconds(i64::try_from(n).unwrap()),
            source: "bench".into(),
        };
        let fired = evaluator.on_quote(&quote).await.unwrap();
        if n > 0 {
            assert_eq!(fired, FIRING, "every quote crosses");
        }
    }
    // The last quote's webhooks.
    let expected = quotes * FIRING;
    for _ in 0..100 {
        if arrivals.0.lock().unwrap().len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).unwrap();
    let _ = dispatching.await;
    let mut latencies = arrivals.0.lock().unwrap().clone();
    assert_eq!(latencies.len(), expected, "every firing arrived once");
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "alert burst (sqlite, in-process bus): {RULES} rules, {FIRING} firing per quote, {quotes} quotes at 1/s, {} webhooks: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
}
