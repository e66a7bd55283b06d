//! Composite signals on the bundled sample history: the latest with its components and
//! evidence, a history, the evaluation of the labels, bad queries, and stored signals after a
//! refresh answering the same as computed ones.

use serde_json::Value;

use crate::helpers::{TestApp, csv_closes};

const METHOD: &str = "v1-f34f5ca0";

#[tokio::test]
async fn a_new_user_gets_msft_s_latest_signal_with_components_and_evidence() {
    let app = TestApp::sample().await;
    let body = app.get("/v1/stocks/MSFT/signal").await.json();
    let last_day = csv_closes("MSFT").last().unwrap().0.clone();
    assert_eq!(body["symbol"], "MSFT");
    assert_eq!(body["method"], METHOD);
    assert_eq!(body["day"], last_day.as_str());
    let label = body["label"].as_str().unwrap();
    assert!(
        ["strong_sell", "sell", "neutral", "buy", "strong_buy"].contains(&label),
        "{label}"
    );
    let names: Vec<&str> = body["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["trend", "momentum", "mean_reversion", "volatility"]);
    assert_eq!(body["missing"], serde_json::json!(["sentiment"]));
    let mut weights = 0.0;
    let mut weighted = 0.0;
    for component in body["components"].as_array().unwrap() {
        let (score, weight) = (
            component["score"].as_f64().unwrap(),
            component["weight"].as_f64().unwrap(),
        );
        assert!((-1.0..=1.0).contains(&score), "{component}");
        weights += weight;
        weighted += score * weight;
        let reading = component["evidence"]["reading"].as_str().unwrap();
        assert!(!reading.is_empty(), "{component}");
    }
    assert!(
        (weights - 1.0).abs() < 1e-9,
        "renormalised without sentiment"
    );
    assert!((body["score"].as_f64().unwrap() - weighted).abs() < 1e-4);
    let mean_reversion = &body["components"][2]["evidence"];
    assert!(mean_reversion["rsi_14"].is_number(), "{mean_reversion}");
    assert_eq!(body["provenance"]["origin"], "computed");
    assert_eq!(body["provenance"]["source"], "sample");
}

#[tokio::test]
async fn the_history_has_one_signal_per_trading_day_of_the_range_ending_at_the_latest() {
    let app = TestApp::sample().await;
    let body = app
        .get("/v1/stocks/MSFT/signal/history?from=2013-01-01&to=2013-03-01")
        .await
        .json();
    let sessions: Vec<String> = csv_closes("MSFT")
        .into_iter()
        .map(|(date, _)| date)
        .filter(|date| date.as_str() >= "2013-01-01" && date.as_str() <= "2013-03-01")
        .collect();
    let days: Vec<&str> = body["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, sessions);
    assert_eq!(body["count"], sessions.len());
    assert_eq!(body["method"], METHOD);
    let latest = app.get("/v1/stocks/MSFT/signal").await.json();
    let last = body["signals"].as_array().unwrap().last().unwrap();
    assert_eq!(last["score"], latest["score"]);
    assert_eq!(last["label"], latest["label"]);
    assert_eq!(
        last["components"]["trend"],
        latest["components"][0]["score"]
    );
}

#[tokio::test]
async fn the_evaluation_reports_every_label_at_each_horizon_against_buy_and_hold() {
    let app = TestApp::sample().await;
    let body = app
        .get("/v1/stocks/MSFT/signal/evaluation?horizons=20,5")
        .await
        .json();
    assert_eq!(body["method"], METHOD);
    let horizons: Vec<u64> = body["buy_and_hold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["horizon"].as_u64().unwrap())
        .collect();
    assert_eq!(horizons, [5, 20], "sorted");
    let labels = body["labels"].as_array().unwrap();
    let names: Vec<&str> = labels
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["strong_sell", "sell", "neutral", "buy", "strong_buy"]
    );
    let total: u64 = labels.iter().map(|l| l["days"].as_u64().unwrap()).sum();
    assert_eq!(body["days"].as_u64().unwrap(), total);
    // Every bundled day from the 20th on has a signal; the last 5 have no 5-day return.
    let bars = csv_closes("MSFT").len() as u64;
    assert_eq!(total, bars - 19);
    assert_eq!(body["buy_and_hold"][0]["days"].as_u64().unwrap(), total - 5);
    for label in labels {
        let at_5 = &label["horizons"][0];
        if label["label"] == "neutral" {
            assert_eq!(at_5["hit_rate"], Value::Null);
        } else if at_5["days"].as_u64().unwrap() > 0 {
            let hit = at_5["hit_rate"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&hit), "{label}");
            let excess = at_5["excess_mean_return"].as_f64().unwrap();
            let expected = at_5["mean_return"].as_f64().unwrap()
                - body["buy_and_hold"][0]["mean_return"].as_f64().unwrap();
            assert!((excess - expected).abs() < 1e-5, "{label}");
        }
    }
    assert_eq!(body["provenance"]["origin"], "computed");
}

#[tokio::test]
async fn bad_horizons_ranges_and_symbols_are_refused_saying_what_to_fix() {
    let app = TestApp::sample().await;
    for (query, expected) in [
        ("horizons=0", "from 1 to 252"),
        ("horizons=5,x", "'x'"),
        ("horizons=300", "'300'"),
        ("horizons=1,2,3,4,5,6,7,8,9", "at most 8"),
        ("horizons=", "at least one"),
        ("horizons=5,%2020", "' 20'"),
    ] {
        let detail = app
            .get(&format!("/v1/stocks/MSFT/signal/evaluation?{query}"))
            .await
            .problem(400);
        assert!(detail.starts_with("horizons: "), "{query}: {detail}");
        assert!(detail.contains(expected), "{query}: {detail}");
    }
    let detail = app
        .get("/v1/stocks/MSFT/signal/history?from=2013-02-01&to=2013-01-01")
        .await
        .problem(400);
    assert!(detail.contains("swap them"), "{detail}");
    app.get("/v1/stocks/MSFT/signal/history?from=soon")
        .await
        .problem(400);
    app.get("/v1/stocks/NOPE/signal").await.problem(404);
    app.get("/v1/stocks/bad%20symbol/signal").await.problem(400);
}

#[tokio::test]
async fn stored_signals_are_served_once_refreshed_and_agree_with_computed_ones() {
    let app = TestApp::sample().await;
    let computed = app.get("/v1/stocks/MSFT/signal").await.json();
    let computed_history = app
        .get("/v1/stocks/MSFT/signal/history?from=2012-01-01")
        .await
        .json();
    let symbol = domain::Symbol::parse("MSFT").unwrap();
    let refresh = app
        .state
        .service()
        .refresh_signals(&[symbol])
        .await
        .unwrap();
    let bars = csv_closes("MSFT").len() as u64;
    assert_eq!(
        refresh.stored,
        bars - 19,
        "the whole history on the first refresh"
    );
    let [first] = refresh.changes.as_slice() else {
        panic!("one change from no label: {:?}", refresh.changes);
    };
    assert_eq!(first.previous, None);

    let stored = app.get("/v1/stocks/MSFT/signal").await.json();
    assert_eq!(stored["provenance"]["origin"], "stored");
    for field in ["day", "score", "label", "components", "missing", "method"] {
        assert_eq!(stored[field], computed[field], "{field}");
    }
    let stored_history = app
        .get("/v1/stocks/MSFT/signal/history?from=2012-01-01")
        .await
        .json();
    assert_eq!(stored_history["signals"], computed_history["signals"]);
    let evaluation = app.get("/v1/stocks/MSFT/signal/evaluation").await.json();
    assert_eq!(evaluation["provenance"]["origin"], "stored");
    assert_eq!(evaluation["days"].as_u64().unwrap(), bars - 19);

    let again = app
        .state
        .service()
        .refresh_signals(&[symbol])
        .await
        .unwrap();
    assert_eq!((again.stored, again.changes.len()), (0, 0), "nothing new");
}

#[tokio::test]
async fn with_the_signals_flag_off_each_route_answers_404_saying_so() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    let settings = BTreeMap::from([("signals".to_owned(), false)]);
    let features = web::features::Features::from_settings(&settings).unwrap();
    let app = TestApp::with_features(
        Arc::new(providers::sample::Sample::new()),
        crate::helpers::market_config(),
        features,
    )
    .await;
    for path in ["signal", "signal/history", "signal/evaluation"] {
        let detail = app
            .get(&format!("/v1/stocks/MSFT/{path}"))
            .await
            .problem(404);
        assert!(
            detail.contains("signals") && detail.contains("disabled"),
            "{detail}"
        );
    }
    assert_eq!(app.get("/v1/stocks/MSFT/daily").await.status, 200);
}

#[tokio::test]
async fn after_a_price_read_stores_a_newer_bar_the_stored_signal_is_of_that_bar_s_day() {
    use providers::MarketData;

    let app = TestApp::sample().await;
    let symbol = domain::Symbol::parse("MSFT").unwrap();
    let series = providers::sample::Sample::new()
        .daily(symbol)
        .await
        .unwrap();
    let bars = series.bars();
    let last_day = bars.last().unwrap().date.to_string();
    // An ingest run long ago stored every bar but the last, and their signals.
    let long_ago = "2020-01-02T22:00:00Z".parse().unwrap();
    let ingested = domain::Series::new(symbol, bars[..bars.len() - 1].to_vec(), "sample", long_ago);
    app.store.upsert_series(&ingested).await.unwrap();
    let refresh = app
        .state
        .service()
        .refresh_signals(&[symbol])
        .await
        .unwrap();
    assert_eq!(refresh.stored as usize, bars.len() - 20);

    // The user reads the prices (the read path fetches and stores the last bar), then the signal.
    let daily = app.get("/v1/stocks/MSFT/daily").await.json();
    let served = daily["bars"].as_array().unwrap().last().unwrap();
    assert_eq!(served["date"], last_day.as_str(), "oldest first");
    let signal = app.get("/v1/stocks/MSFT/signal").await.json();
    assert_eq!(signal["day"], last_day.as_str());
    assert_eq!(signal["provenance"]["origin"], "stored");
    assert_eq!(signal["provenance"]["stale"], false);
    let history = app.get("/v1/stocks/MSFT/signal/history").await.json();
    let days = history["signals"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["day"], last_day.as_str());
    assert_eq!(history["count"].as_u64().unwrap() as usize, bars.len() - 19);

    let again = app
        .state
        .service()
        .refresh_signals(&[symbol])
        .await
        .unwrap();
    assert_eq!((again.stored, again.changes.len()), (0, 0), "stored once");
}
