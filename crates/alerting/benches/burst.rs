//! Alert bursts, quote → webhook received: 1,000 active rules on one symbol, 50 of which fire on
//! every quote, one quote a second, embedded (a real SQLite file, the in-process bus) and, with
//! `STOCKD_TEST_POSTGRES_URL` and `STOCKD_TEST_NATS_URL` both set, scaled out (a scratch
//! PostgreSQL database, NATS JetStream). The evaluator writes each quote's 50 firings; the
//! dispatcher (its production loop, woken by the evaluator's outbox nudge) sends them through
//! the real webhook sender to a receiver on 127.0.0.1, which notes when each arrives. Latency:
//! the quote's time → the webhook received.
//!
//! `bench/alert-burst.sh` (or `cargo bench -p alerting --bench burst`; `QUOTES=n` quotes,
//! default 20). Not a test: the figures go to bench/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alerting::dispatcher::{DispatchConfig, Dispatcher};
use alerting::evaluator::Evaluator;
use bus::{Bus, BusConfig, MemoryBus, QuoteEvent};
use chrono::{DateTime, Utc};
use domain::Symbol;
use notify::{NotifyConfig, Senders, WebhookConfig};
use store::Store;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RULES: usize = 1_000;
const FIRING: usize = 50;

/// One webhook: its quote's time, and how long after it the webhook arrived.
type Arrival = (DateTime<Utc>, Duration);

/// Notes every webhook's [`Arrival`].
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Arrival>>>);

impl Respond for Arrivals {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = Utc::now();
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let at: DateTime<Utc> = body["at"].as_str().unwrap().parse().unwrap();
        self.0
            .lock()
            .unwrap()
            .push((at, (now - at).to_std().unwrap_or_default()));
        ResponseTemplate::new(200)
    }
}

async fn seed(store: &Arc<dyn Store>, receiver: &str) {
    let (user, channel) = support::user_with_webhook(store, &format!("{receiver}/hook")).await;
    for n in 0..RULES {
        // 50 rules cross 100 on every quote (the quotes alternate around it); the other 950
        // are evaluated on every quote and never fire.
        let price = if n < FIRING {
            100.0
        } else {
            1_000.0 + n as f64
        };
        support::crossing_rule(store, &user, &channel, "MSFT", price).await;
    }
}

/// A `u32` setting from the environment, for trying the dispatcher's knobs.
fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let quotes: usize = std::env::var("QUOTES")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(
        store::SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap(),
    );
    let memory: Arc<dyn Bus> = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
    burst("sqlite, in-process bus", sqlite, memory, quotes).await;
    if let (Ok(admin), Ok(nats)) = (
        std::env::var("STOCKD_TEST_POSTGRES_URL"),
        std::env::var("STOCKD_TEST_NATS_URL"),
    ) {
        let (url, name) = support::create_database(&admin, "burst").await;
        let postgres = store::open(&url).await.unwrap();
        let config = BusConfig {
            prefix: format!("burst{}", std::process::id()),
            ..BusConfig::default()
        };
        let jetstream: Arc<dyn Bus> =
            Arc::new(bus::JetStreamBus::connect(&nats, config).await.unwrap());
        burst("postgresql, nats jetstream", postgres, jetstream, quotes).await;
        support::drop_database(&admin, &name).await;
    }
}

/// Seeds `store`, runs the evaluator and the dispatcher over `bus` for `quotes` quotes and
/// prints the figures, labelled `backends`.
async fn burst(backends: &str, store: Arc<dyn Store>, bus: Arc<dyn Bus>, quotes: usize) {
    let receiver = MockServer::start().await;
    let arrivals = Arrivals::default();
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(arrivals.clone())
        .mount(&receiver)
        .await;
    seed(&store, &receiver.uri()).await;
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
        DispatchConfig {
            batch: env_or("BATCH", DispatchConfig::default().batch),
            per_host: env_or("PER_HOST", DispatchConfig::default().per_host),
            ..DispatchConfig::default()
        },
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let dispatching = tokio::spawn(dispatcher.run("bench-dispatch".into(), stopped));
    let mut evaluator = Evaluator::load(store.clone(), bus.clone()).await.unwrap();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // Quote times exactly a second apart, as the ticks are: the rules' 1 s cooldown then ends
    // on every next quote, whatever the scheduling jitter of reading the wall clock.
    let started = Utc::now();
    let mut evaluated = Vec::with_capacity(quotes);
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
            evaluated.push((Utc::now() - quote.at).to_std().unwrap_or_default());
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
    let arrived = arrivals.0.lock().unwrap().clone();
    assert_eq!(arrived.len(), expected, "every firing arrived once");
    // Each quote's first webhook: how soon sending starts.
    let mut first: std::collections::BTreeMap<DateTime<Utc>, Duration> = Default::default();
    for (at, latency) in &arrived {
        let earliest = first.entry(*at).or_insert(*latency);
        *earliest = (*earliest).min(*latency);
    }
    let mut first: Vec<Duration> = first.into_values().collect();
    let mut latencies: Vec<Duration> = arrived.iter().map(|(_, latency)| *latency).collect();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "alert burst ({backends}): {RULES} rules, {FIRING} firing per quote, {quotes} quotes at 1/s, {} webhooks: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        ms(percentile(&mut latencies, 0.50)),
        ms(percentile(&mut latencies, 0.99)),
        ms(percentile(&mut latencies, 1.0)),
    );
    println!(
        "stages ({backends}, p50 over quotes): quote → firings stored, dispatchers nudged and states saved {:.1} ms; quote → first webhook of the quote {:.1} ms",
        ms(percentile(&mut evaluated, 0.50)),
        ms(percentile(&mut first, 0.50)),
    );
}

/// The `q` quantile (0–1) of `values`, sorting them.
fn percentile(values: &mut [Duration], q: f64) -> Duration {
    values.sort();
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)]
}
