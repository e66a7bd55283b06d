//! The buses side by side, in one run: event throughput (quotes published by 8 tasks, each
//! publish waiting for the bus's ack, and consumed by one member of a group that acks each)
//! and tick→outbox latency (`stock_api_alert_tick_to_outbox_seconds`: from a quote's own time
//! to its firing committed with the outbox row) with the evaluator fed by the bus, on SQLite.
//!
//! In process always; NATS JetStream with `STOCKD_TEST_NATS_URL`; Kafka with
//! `STOCKD_TEST_KAFKA_BROKERS` and `--features kafka`:
//!
//! `cargo bench -p alerting --features kafka --bench bus` (release). Not a test: the figures go
//! to bench/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alerting::evaluator::Evaluator;
use bus::{Bus, BusConfig, Event, QuoteEvent, StreamKind};
use chrono::Utc;
use domain::Symbol;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use store::Store;

/// Quotes per throughput run.
const EVENTS: usize = 5_000;
/// Timed firing ticks per latency run, paced at [`TICK_EVERY`] (a steady feed, not a backlog).
const TICKS: usize = 500;
const TICK_EVERY: Duration = Duration::from_millis(20);
/// Symbols with a rule each: a symbol ticks every `SYMBOLS × TICK_EVERY` (2 s), beyond the 1 s
/// cooldown, so every tick after a symbol's first fires.
const SYMBOLS: usize = 100;

fn quote(symbol: &str, price: &str) -> Event {
    Event::Quote(QuoteEvent {
        symbol: Symbol::parse(symbol).unwrap(),
        price: price.parse().unwrap(),
        previous_close: None,
        at: Utc::now(),
        source: "bench".into(),
    })
}

fn config(prefix: &str) -> BusConfig {
    BusConfig {
        prefix: format!("{prefix}{}", std::process::id()),
        ..BusConfig::default()
    }
}

/// Publishes [`EVENTS`] quotes from 8 tasks while one subscriber acks them; events/s from the
/// first publish to the last ack.
async fn throughput(bus: Arc<dyn Bus>) -> (f64, f64) {
    let mut sub = bus.subscribe(StreamKind::Quotes, "tput").await.unwrap();
    // Kafka and NATS hand partitions out within a lease round.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let started = Instant::now();
    let publishers: Vec<_> = (0..8)
        .map(|task| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for i in (task..EVENTS).step_by(8) {
                    bus.publish(&quote(&format!("T{}", i % 64), "1"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut published = None;
    let mut received = 0;
    while received < EVENTS {
        let delivery = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .expect("deliveries keep coming")
            .unwrap();
        delivery.ack().await.unwrap();
        received += 1;
        if published.is_none() && publishers.iter().all(|p| p.is_finished()) {
            published = Some(started.elapsed());
        }
    }
    let consumed = started.elapsed();
    let published = published.unwrap_or(consumed);
    sub.close().await;
    (
        EVENTS as f64 / published.as_secs_f64(),
        EVENTS as f64 / consumed.as_secs_f64(),
    )
}

async fn seed(store: &Arc<dyn Store>) {
    let (user, channel) = support::user_with_webhook(store, "https://hooks.example.com/x").await;
    for s in 0..SYMBOLS {
        support::crossing_rule(store, &user, &channel, &format!("S{s}"), 100.0).await;
    }
}

/// Tick→outbox over `bus`: the evaluator's own loop consumes the quotes; p50, p90 and p99 in
/// ms, and the number of firings measured.
async fn tick_to_outbox(bus: Arc<dyn Bus>, snapshotter: &Snapshotter) -> (f64, f64, f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        store::SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap(),
    );
    seed(&store).await;
    let evaluator = Evaluator::load(store, bus.clone()).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(evaluator.run(Duration::from_secs(60), stopped));
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Each symbol's first quote only sets its previous price.
    for s in 0..SYMBOLS {
        bus.publish(&quote(&format!("S{s}"), "99.5")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = histogram(snapshotter);
    let mut pace = tokio::time::interval(TICK_EVERY);
    for n in 0..TICKS {
        pace.tick().await;
        let price = if (n / SYMBOLS).is_multiple_of(2) {
            "100.5"
        } else {
            "99.5"
        };
        bus.publish(&quote(&format!("S{}", n % SYMBOLS), price))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(true);
    running.await.unwrap().unwrap();
    let mut seconds = histogram(snapshotter);
    seconds.sort_by(f64::total_cmp);
    let at = |q: f64| seconds[((seconds.len() as f64 * q) as usize).min(seconds.len() - 1)] * 1e3;
    (at(0.50), at(0.90), at(0.99), seconds.len())
}

/// The tick→outbox values recorded since the last call.
fn histogram(snapshotter: &Snapshotter) -> Vec<f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "stock_api_alert_tick_to_outbox_seconds")
        .flat_map(|(.., value)| match value {
            DebugValue::Histogram(values) => values.into_iter().map(|v| v.into_inner()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

async fn measure(
    name: &str,
    connect: impl AsyncFn(&str) -> Arc<dyn Bus>,
    snapshotter: &Snapshotter,
) {
    let (published, consumed) = throughput(connect("btput").await).await;
    let (p50, p90, p99, firings) = tick_to_outbox(connect("blat").await, snapshotter).await;
    println!(
        "{name}: {EVENTS} quotes, published {published:.0}/s, consumed {consumed:.0}/s; \
         tick→outbox over {firings} firings: p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms"
    );
}

#[tokio::main]
async fn main() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    measure(
        "memory",
        async |prefix| Arc::new(bus::MemoryBus::new(config(prefix)).unwrap()) as Arc<dyn Bus>,
        &snapshotter,
    )
    .await;
    if let Ok(url) = std::env::var("STOCKD_TEST_NATS_URL") {
        measure(
            "nats",
            async |prefix| {
                Arc::new(
                    bus::JetStreamBus::connect(&url, config(prefix))
                        .await
                        .unwrap(),
                ) as Arc<dyn Bus>
            },
            &snapshotter,
        )
        .await;
    }
    #[cfg(feature = "kafka")]
    if let Ok(brokers) = std::env::var("STOCKD_TEST_KAFKA_BROKERS") {
        measure(
            "kafka",
            async |prefix| {
                let config = BusConfig {
                    kafka: Some(bus::KafkaConfig::plaintext(brokers.clone())),
                    ..config(prefix)
                };
                Arc::new(bus::KafkaBus::connect(config).await.unwrap()) as Arc<dyn Bus>
            },
            &snapshotter,
        )
        .await;
    }
}
