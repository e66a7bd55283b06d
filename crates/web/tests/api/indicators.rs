//! Technical indicators over the bundled sample history: values computed over the whole history
//! whatever rows are asked for, warm-up nulls, refusals that list the catalogue.

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::Symbol;
use indicators::{Candle, Indicator};
use serde_json::Value;

use crate::helpers::TestApp;

/// `Indicator::batch` over the symbol's whole stored history: date → each output's value.
async fn whole_history(
    app: &TestApp,
    symbol: &str,
    indicator: &str,
) -> BTreeMap<String, Vec<Option<f64>>> {
    let served = app
        .state
        .market()
        .daily(Symbol::parse(symbol).unwrap())
        .await
        .unwrap();
    let bars = served.value.bars();
    let candles: Vec<Candle> = bars.iter().map(Candle::from_bar).collect();
    let outputs = indicator.parse::<Indicator>().unwrap().batch(&candles);
    bars.iter()
        .enumerate()
        .map(|(i, bar)| {
            let row = outputs.iter().map(|output| output[i]).collect();
            (bar.date.to_string(), row)
        })
        .collect()
}

/// The column named `name` of an answer, as date → value.
fn column(body: &Value, name: &str) -> BTreeMap<String, Option<f64>> {
    let series = body["series"].as_array().unwrap();
    let column = series
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name} in {series:?}"));
    let dates = body["dates"].as_array().unwrap();
    let values = column["values"].as_array().unwrap();
    assert_eq!(dates.len(), values.len(), "{name} is aligned on dates");
    dates
        .iter()
        .zip(values)
        .map(|(date, value)| (date.as_str().unwrap().to_owned(), value.as_f64()))
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

#[tokio::test]
async fn an_ema_asked_from_2012_equals_the_same_ema_asked_from_2000_on_the_same_dates() {
    let app = TestApp::sample().await;
    let series = "ema:20,macd:12:26:9.signal";
    let from_2000 = app
        .get(&format!(
            "/v1/stocks/MSFT/indicators?series={series}&from=2000-01-01&to=2013-12-31"
        ))
        .await
        .json();
    let from_2012 = app
        .get(&format!(
            "/v1/stocks/MSFT/indicators?series={series}&from=2012-01-01&to=2013-12-31"
        ))
        .await
        .json();
    assert_eq!(from_2000["history_bars"], from_2012["history_bars"]);
    assert_eq!(from_2012["dates"][0], "2012-01-03");
    let expected_ema = whole_history(&app, "MSFT", "ema:20").await;
    let expected_macd = whole_history(&app, "MSFT", "macd:12:26:9").await;
    for (name, expected, output) in [
        ("ema:20", &expected_ema, 0),
        ("macd:12:26:9.signal", &expected_macd, 1),
    ] {
        let early = column(&from_2000, name);
        let late = column(&from_2012, name);
        assert_eq!(early.len(), 3270, "the whole history");
        assert!(late.len() > 250 && late.len() < early.len());
        for (date, value) in &late {
            assert!(value.is_some(), "{name} {date} is past the warm-up");
            assert!(close(*value, early[date]), "{name} on {date}: {value:?}");
            assert!(
                close(*value, expected[date][output]),
                "{name} on {date} is Indicator::batch over the whole history"
            );
        }
    }
}

#[tokio::test]
async fn a_short_history_answers_nulls_with_the_warm_up_not_an_error() {
    let app = TestApp::sample().await;
    // FB's bundled history is 196 sessions: a 200-day SMA never has a value.
    let response = app
        .get("/v1/stocks/FB/indicators?series=sma:200,rsi:14&days=5000")
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["history_bars"], 196);
    assert_eq!(body["count"], 196);
    let sma = &body["series"][0];
    assert_eq!(sma["name"], "sma:200");
    assert_eq!(sma["warmup"], 199);
    assert_eq!(sma["first_date"], Value::Null);
    assert!(sma["values"].as_array().unwrap().iter().all(Value::is_null));
    // RSI warms up on the first 14 bars of the history, not of the rows asked for.
    let rsi = &body["series"][1];
    assert_eq!(rsi["warmup"], 14);
    let values = rsi["values"].as_array().unwrap();
    assert!(values[..14].iter().all(Value::is_null));
    assert!(values[14..].iter().all(Value::is_number));
    assert_eq!(rsi["first_date"], body["dates"][14]);
    // The first rows of MSFT's history, likewise.
    let body = app
        .get("/v1/stocks/MSFT/indicators?series=sma:5&to=2000-03-08")
        .await
        .json();
    assert_eq!(body["count"], 6);
    assert_eq!(body["history_start"], "2000-03-01");
    let values = body["series"][0]["values"].as_array().unwrap();
    assert_eq!(values.iter().filter(|v| v.is_null()).count(), 4);
}

#[tokio::test]
async fn the_rows_are_the_range_asked_for_aligned_with_the_daily_bars() {
    let app = TestApp::sample().await;
    let range = "from=2012-06-01&to=2012-06-30";
    let body = app
        .get(&format!("/v1/stocks/AAPL/indicators?series=sma:3&{range}"))
        .await
        .json();
    let bars = app
        .get(&format!("/v1/stocks/AAPL/daily?{range}"))
        .await
        .json();
    let bar_dates: Vec<&Value> = bars["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["date"])
        .collect();
    let dates: Vec<&Value> = body["dates"].as_array().unwrap().iter().collect();
    assert_eq!(dates, bar_dates);
    assert_eq!(body["count"], 21);
    assert_eq!(body["source"], "sample");
    assert_eq!(body["stale"], false);
    assert_eq!(body["adjusted"], true, "the sample carries adjusted closes");
    assert!(body["fetched_at"].is_string());
    // The SMA of adjusted closes, as `Candle::from_bar` reads them.
    let closes: Vec<f64> = bars["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["adj_close"].as_f64().unwrap())
        .collect();
    let last = body["series"][0]["values"][20].as_f64().unwrap();
    let expected = closes[18..].iter().sum::<f64>() / 3.0;
    assert!((last - expected).abs() < 1e-6, "{last} vs {expected}");
    // `days` keeps the newest rows of the range.
    let body = app
        .get(&format!(
            "/v1/stocks/AAPL/indicators?series=sma:3&{range}&days=2"
        ))
        .await
        .json();
    assert_eq!(
        body["dates"],
        serde_json::json!(["2012-06-28", "2012-06-29"])
    );
    assert_eq!(body["series"][0]["values"][1].as_f64(), Some(last));
    // A range without sessions is empty, not an error.
    let body = app
        .get("/v1/stocks/AAPL/indicators?series=sma:3&from=2012-12-25&to=2012-12-25")
        .await
        .json();
    assert_eq!(body["count"], 0);
    assert_eq!(body["series"][0]["values"], serde_json::json!([]));
}

#[tokio::test]
async fn a_multi_output_indicator_answers_every_output_unless_one_is_named() {
    let app = TestApp::sample().await;
    let body = app
        .get("/v1/stocks/MSFT/indicators?series=macd:12:26:9,bbands:20:2.upper,macd&days=30")
        .await
        .json();
    let names: Vec<&str> = body["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "macd:12:26:9.macd",
            "macd:12:26:9.signal",
            "macd:12:26:9.histogram",
            "bbands:20:2.upper",
        ],
        "`macd` is `macd:12:26:9`: asked twice, answered once"
    );
    assert_eq!(body["series"][2]["indicator"], "macd:12:26:9");
    assert_eq!(body["series"][2]["output"], "histogram");
    assert_eq!(body["series"][2]["warmup"], 33);
    let (line, signal, histogram) = (
        column(&body, "macd:12:26:9.macd"),
        column(&body, "macd:12:26:9.signal"),
        column(&body, "macd:12:26:9.histogram"),
    );
    for (date, value) in &histogram {
        let expected = line[date].unwrap() - signal[date].unwrap();
        assert!((value.unwrap() - expected).abs() < 1e-9, "{date}");
    }
    let body = app
        .get("/v1/stocks/MSFT/indicators?series=macd:12:26:9.histogram&days=30")
        .await
        .json();
    assert_eq!(body["series"].as_array().unwrap().len(), 1);
    assert_eq!(column(&body, "macd:12:26:9.histogram"), histogram);
}

#[tokio::test]
async fn a_bad_series_is_a_400_naming_it_and_listing_every_valid_indicator() {
    let app = TestApp::sample().await;
    for (series, named) in [
        ("sma:50,smaa:5", "unknown indicator `smaa`"),
        (
            "rsi:1",
            "`rsi` parameter `period` must be 2..=1000, got `1`",
        ),
        ("macd:26:12:9", "fast < slow"),
        ("sma:50,", "empty entry"),
        ("bbands:20:2.middel", "no output `middel`"),
    ] {
        let response = app
            .get(&format!("/v1/stocks/MSFT/indicators?series={series}"))
            .await;
        let detail = response.problem(400);
        assert!(detail.contains(named), "{series}: {detail}");
        let body = response.json();
        assert_eq!(body["type"], "urn:stockd:problem:bad-indicator");
        let catalogue = body["indicators"].as_array().unwrap();
        assert_eq!(catalogue.len(), Indicator::catalogue().len());
        let rsi = catalogue.iter().find(|i| i["name"] == "rsi").unwrap();
        assert_eq!(rsi["params"][0]["min"], 2.0);
        assert_eq!(rsi["params"][0]["max"], 1000.0);
        assert_eq!(rsi["params"][0]["default"], 14.0);
    }
    let detail = app
        .get("/v1/stocks/MSFT/indicators?series=sma:5:5")
        .await
        .problem(400);
    assert!(
        detail.contains("series `sma:5:5`") && detail.contains("volatility"),
        "names the entry and lists the valid names: {detail}"
    );
    let many = vec!["sma:5"; 17].join(",");
    let detail = app
        .get(&format!("/v1/stocks/MSFT/indicators?series={many}"))
        .await
        .problem(400);
    assert!(detail.contains("at most 16"), "{detail}");
    let response = app
        .get("/v1/stocks/MSFT/indicators?series=sma:5&from=2012-02-01&to=2012-01-01")
        .await;
    let detail = response.problem(400);
    assert!(detail.contains("swap them"), "{detail}");
    assert_eq!(response.json()["type"], "urn:stockd:problem:bad-request");
    assert_eq!(response.json()["indicators"], Value::Null, "no catalogue");
    app.get("/v1/stocks/NOPE/indicators?series=sma:5")
        .await
        .problem(404);
}

#[tokio::test]
async fn the_catalogue_lists_names_parameters_outputs_and_warm_ups() {
    let app = TestApp::sample().await;
    let body = app.get("/v1/indicators").await.json();
    let catalogue = body["indicators"].as_array().unwrap();
    let names: Vec<&str> = catalogue
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "sma",
            "ema",
            "wma",
            "rsi",
            "macd",
            "bbands",
            "atr",
            "stoch",
            "roc",
            "obv",
            "volatility"
        ]
    );
    let macd = &catalogue[4];
    assert_eq!(
        macd["outputs"],
        serde_json::json!(["macd", "signal", "histogram"])
    );
    assert_eq!(macd["default_series"], "macd:12:26:9");
    assert_eq!(macd["default_warmup"], 33);
    assert_eq!(macd["params"][2]["name"], "signal");
    assert_eq!(macd["params"][2]["min"], 1.0);
}

#[tokio::test]
async fn the_indicators_flag_switches_both_routes_off_and_the_document_lists_them() {
    let app = TestApp::sample().await;
    let doc = app.get("/openapi.json").await.json();
    let operation = &doc["paths"]["/v1/stocks/{symbol}/indicators"]["get"];
    for status in ["200", "400", "404", "429", "502", "503"] {
        assert!(
            operation["responses"][status].is_object(),
            "documents {status}"
        );
    }
    assert!(doc["paths"]["/v1/indicators"]["get"].is_object());
    let series = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "series")
        .unwrap();
    assert_eq!(series["required"], true);
    let pattern = series["schema"]["pattern"].as_str().unwrap();
    assert!(
        pattern.contains("macd") && pattern.contains("{0,15}"),
        "{pattern}"
    );

    let settings = BTreeMap::from([("indicators".to_owned(), false)]);
    let off = TestApp::with_features(
        Arc::new(providers::sample::Sample::new()),
        crate::helpers::market_config(),
        web::features::Features::from_settings(&settings).unwrap(),
    )
    .await;
    for path in ["/v1/stocks/MSFT/indicators?series=sma:5", "/v1/indicators"] {
        let detail = off.get(path).await.problem(404);
        assert!(
            detail.contains("'indicators' is disabled"),
            "{path}: {detail}"
        );
    }
    assert_eq!(off.get("/v1/stocks/MSFT/daily?days=5").await.status, 200);
}
