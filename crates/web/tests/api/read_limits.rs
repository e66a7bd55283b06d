//! What anonymous readers may spend: a per-client limit on every public read, a tighter one on
//! reads that must ask a provider, and the part of each provider quota kept for ingestion.

use std::sync::Arc;
use std::time::Duration;

use market::{Clock, MarketConfig, QuotaLimits};
use web::limits::{Limits, ReadLimits};

use crate::helpers::{TestApp, market_config};

/// The sample provider with Alpha Vantage's free plan (5 a minute, 25 a day) and one call a
/// minute and ten a day reserved for ingestion; quota windows move with tokio's paused clock.
fn free_plan() -> MarketConfig {
    let mut config = market_config();
    config.clock = Clock::tokio_from("2026-11-28T10:00:00Z".parse().unwrap());
    config.quotas.insert(
        "sample".into(),
        QuotaLimits {
            per_minute: 5,
            per_day: 25,
            reserved_per_minute: 1,
            reserved_per_day: 10,
        },
    );
    config
}

fn app(config: MarketConfig, reads: ReadLimits) -> TestApp {
    TestApp::in_memory(
        Arc::new(providers::sample::Sample::new()),
        config,
        Limits {
            reads,
            ..Limits::default()
        },
    )
}

const ANONYMOUS: &str = "203.0.113.7:40000";
const REAL_USER: &str = "198.51.100.20:51000";

#[tokio::test(start_paused = true)]
async fn cold_reads_of_made_up_symbols_from_one_client_leave_quota_for_a_real_users_read() {
    let app = app(free_plan(), ReadLimits::default());
    let mut statuses = Vec::new();
    for n in 1..=5 {
        statuses.push(app.get_from(ANONYMOUS, &format!("/AAA{n}/7")).await);
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        codes,
        [404, 404, 404, 429, 429],
        "three misses, then limited"
    );
    let limited = &statuses[3];
    let detail = limited.problem(429);
    assert!(detail.contains("upstream provider"), "{detail}");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry_after, 20, "three a minute: the next in 20 s");

    let msft = app.get_from(REAL_USER, "/MSFT/7").await;
    assert_eq!(msft.status, 200, "{}", msft.text());
    let minute = &app.get("/v1/providers").await.json()["providers"][0]["quota"]["minute"];
    assert_eq!(minute["used"], 4, "{minute}");

    // A cached symbol is still served to the limited client: only misses spend its allowance.
    let cached = app.get_from(ANONYMOUS, "/MSFT/7").await;
    assert_eq!(cached.status, 200);
    assert_eq!(cached.header("x-stockd-cache"), Some("hit"));

    // In the next minute, both the client's allowance and the quota have room again.
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(app.get_from(ANONYMOUS, "/IBM/7").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn reads_from_many_clients_stop_at_the_reserve_and_ingestion_still_gets_it() {
    let app = app(free_plan(), ReadLimits::default());
    for (n, symbol) in ["AAPL", "GOOG", "IBM", "FB"].iter().enumerate() {
        let peer = format!("203.0.113.{}:40000", n + 1);
        let read = app
            .get_from(&peer, &format!("/v1/stocks/{symbol}/daily?days=2"))
            .await;
        assert_eq!(read.status, 200, "{symbol}: {}", read.text());
    }
    let refused = app.get_from("203.0.113.99:40000", "/MSFT/7").await;
    let detail = refused.problem(503);
    assert!(
        detail.contains("reserved for scheduled ingestion") && detail.contains("1 calls"),
        "{detail}"
    );
    assert!(refused.header("retry-after").is_some());

    let minute = &app.get("/v1/providers").await.json()["providers"][0]["quota"]["minute"];
    assert_eq!(
        (
            &minute["reserved"],
            &minute["remaining"],
            &minute["remaining_for_requests"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(0)
        ),
        "{minute}"
    );
    // What an ingest job calls: it may spend the reserved call.
    let symbol = domain::Symbol::parse("MSFT").unwrap();
    let refreshed = app.state.market().refresh_daily(symbol, None, None).await;
    assert_eq!(refreshed.unwrap().provider, "sample");
}

#[tokio::test(start_paused = true)]
async fn a_client_over_the_read_rate_gets_429_with_retry_after_and_others_do_not() {
    let reads = ReadLimits {
        per_second: 2,
        burst: 2,
        ..ReadLimits::default()
    };
    let app = app(market_config(), reads);
    for _ in 0..2 {
        assert_eq!(app.get_from(ANONYMOUS, "/MSFT/7").await.status, 200);
    }
    let limited = app.get_from(ANONYMOUS, "/v1/stocks/MSFT/daily").await;
    let detail = limited.problem(429);
    assert!(detail.contains("2 reads a second"), "{detail}");
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(app.get_from(REAL_USER, "/MSFT/7").await.status, 200);
    // IPv6 clients are counted by their /64: a host cannot rotate its way out.
    assert_eq!(
        app.get_from("[2001:db8:1:2::1]:5000", "/").await.status,
        200
    );
    assert_eq!(
        app.get_from("[2001:db8:1:2::2]:5000", "/").await.status,
        200
    );
    assert_eq!(
        app.get_from("[2001:db8:1:2::3]:5000", "/").await.status,
        429
    );

    tokio::time::advance(Duration::from_millis(500)).await;
    assert_eq!(
        app.get_from(ANONYMOUS, "/v1/daily?symbols=MSFT")
            .await
            .status,
        200
    );
    // Non-read routes are not limited.
    assert_eq!(app.get_from(ANONYMOUS, "/health").await.status, 200);
    assert_eq!(app.get_from(ANONYMOUS, "/health").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn zero_turns_both_read_limits_off() {
    let reads = ReadLimits {
        per_second: 0,
        upstream_per_minute: 0,
        ..ReadLimits::default()
    };
    let app = app(market_config(), reads);
    for n in 0..20 {
        let read = app.get_from(ANONYMOUS, &format!("/NOPE{n}/7")).await;
        assert_eq!(read.status, 404);
    }
}
