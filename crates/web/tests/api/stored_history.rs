//! Stored history no provider knows (bars loaded with `stockd import`) is served for as long
//! as it is stored: a provider's "unknown symbol" never hides it, after `CACHE_TTL`, after a
//! restart, in backtests and when a rule names the symbol.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::{Bar, Series, Symbol};
use serde_json::json;

use crate::accounts::App;
use crate::alerts::owner;
use crate::helpers::{TestApp, market_config};

/// Four NYSE sessions of a ticker the sample provider does not know, as `stockd import` writes
/// them (`source: import`), imported `age` ago.
fn imported(age: chrono::Duration) -> Series {
    let bars = [
        ("2024-01-02", "10.00"),
        ("2024-01-03", "10.50"),
        ("2024-01-04", "11.00"),
        ("2024-01-05", "11.25"),
    ]
    .iter()
    .map(|(date, close)| {
        let close = close.parse().unwrap();
        Bar::new_checked(date.parse().unwrap(), close, close, close, close, 100, None).unwrap()
    })
    .collect();
    Series::new(
        Symbol::parse("ZZIMP").unwrap(),
        bars,
        "import",
        Utc::now() - age,
    )
}

#[tokio::test(start_paused = true)]
async fn imported_bars_are_still_served_with_their_source_after_the_cache_ttl() {
    let app = TestApp::in_memory(
        Arc::new(providers::sample::Sample::new()),
        market_config(),
        web::limits::Limits::default(),
    );
    let store = app.store.clone();
    store
        .upsert_series(&imported(chrono::Duration::zero()))
        .await
        .unwrap();

    let fresh = app.get("/v1/stocks/ZZIMP/daily?days=2").await;
    assert_eq!(fresh.status, 200, "{}", fresh.text());
    assert_eq!(fresh.json()["source"], "import");

    // Past CACHE_TTL (300 s) the provider is asked, says it does not know ZZIMP, and the stored
    // bars are served anyway, as they are: not an error, not "stale".
    tokio::time::advance(Duration::from_secs(301)).await;
    for _ in 0..3 {
        let later = app.get("/v1/stocks/ZZIMP/daily?days=2").await;
        assert_eq!(later.status, 200, "{}", later.text());
        let body = later.json();
        assert_eq!(body["source"], "import");
        assert_eq!(body["stale"], false);
        assert_eq!(body["count"], 2);
        assert_eq!(body["bars"][1]["date"], "2024-01-05");
    }
    assert_eq!(app.get("/ZZIMP/3").await.status, 200);
    assert_eq!(
        app.get("/v1/stocks/ZZIMP/eod?date=2024-01-05").await.status,
        200
    );
    // A ticker with nothing stored is still unknown.
    app.get("/v1/stocks/ZZNONE/daily").await.problem(404);
}

#[tokio::test]
async fn after_a_restart_imported_history_serves_reads_backtests_and_rules() {
    let app = App::new().await;
    // Imported two days ago: a new process finds rows older than CACHE_TTL.
    app.store
        .upsert_series(&imported(chrono::Duration::days(2)))
        .await
        .unwrap();

    let daily = app
        .send("GET", "/v1/stocks/ZZIMP/daily?days=4", None, None)
        .await;
    assert_eq!(daily.status, 200, "{}", daily.text());
    assert_eq!(daily.json()["source"], "import");
    assert_eq!(daily.json()["stale"], false);

    let ada = owner(&app, "ada@example.com").await;
    let rule = json!({"symbol": "ZZIMP", "kind": "crosses_up", "price": 10.75,
                      "frequency": "once", "channels": [ada.channel]});
    let dry = app
        .send(
            "POST",
            "/v1/alerts/backtest?from=2024-01-02",
            Some(&ada.token),
            Some(rule.clone()),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry = dry.json();
    assert_eq!(dry["source"], "import");
    assert_eq!(dry["bars"], 4);
    assert_eq!(dry["fires"][0]["date"], "2024-01-04", "{dry}");

    let created = app
        .send("POST", "/v1/alerts", Some(&ada.token), Some(rule))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
}
