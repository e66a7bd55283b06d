//! Tick→outbox latency: how long a firing tick takes from `Evaluator::on_quote` until its
//! event, outbox row and rule state are committed (plus the checkpoint), on a real SQLite file
//! and, with `STOCKD_TEST_POSTGRES_URL` set, on PostgreSQL.
//!
//! `cargo bench -p alerting --bench firing` (release). Not a test: the figures go to
//! bench/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alerting::evaluator::Evaluator;
use bus::{Bus, BusConfig, MemoryBus, QuoteEvent};
use chrono::{TimeDelta, Utc};
use domain::Symbol;
use store::Store;

const FIRING_TICKS: usize = 2_000;

async fn seed(store: &Arc<dyn Store>) {
    let (user, channel) = support::user_with_webhook(store, "https://hooks.example.com/x").await;
    support::crossing_rule(store, &user, &channel, "MSFT", 100.0).await;
}

async fn measure(name: &str, store: Arc<dyn Store>) {
    seed(&store).await;
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
    let mut evaluator = Evaluator::load(store, bus).await.unwrap();
    let start = Utc::now();
    let mut latencies = Vec::with_capacity(FIRING_TICKS);
    for n in 0..=FIRING_TICKS {
        let price = if n % 2 == 0 { "99.5" } else { "100.5" };
        let quote = QuoteEvent {
            symbol: Symbol::parse("MSFT").unwrap(),
            price: price.parse().unwrap(),
            previous_close: None,
            at: start + TimeDelta::seconds(2 * n as i64),
            source: "bench".into(),
        };
        let began = Instant::now();
        let fired = evaluator.on_quote(&quote).await.unwrap();
        if n > 0 {
            assert_eq!(fired, 1, "every tick crosses");
            latencies.push(began.elapsed());
        }
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let total: Duration = latencies.iter().sum();
    println!(
        "{name}: {} firing ticks, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} firings/s",
        latencies.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        latencies.len() as f64 / total.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = store::SqliteStore::open(&dir.path().join("bench.db"))
        .await
        .unwrap();
    measure("sqlite", Arc::new(sqlite)).await;
    if let Ok(admin) = std::env::var("STOCKD_TEST_POSTGRES_URL") {
        let (url, name) = support::create_database(&admin, "firing").await;
        let postgres = store::open(&url).await.unwrap();
        measure("postgres", postgres).await;
        support::drop_database(&admin, &name).await;
    }
}
