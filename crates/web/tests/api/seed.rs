//! The seed-compatible routes on the bundled sample data.

use axum::body::Body;
use axum::http::{Method, Request};

use crate::helpers::{TestApp, csv_closes};

#[tokio::test]
async fn symbol_and_days_return_the_seed_shape_with_an_exact_average() {
    let app = TestApp::sample().await;
    let response = app.get("/msft/7").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["average", "ndays", "prices", "symbol"]);
    assert_eq!(body["symbol"], "MSFT");
    assert_eq!(body["ndays"], 7);

    let expected: Vec<(String, String)> = csv_closes("MSFT").into_iter().rev().take(7).collect();
    let prices = body["prices"].as_array().unwrap();
    assert_eq!(prices.len(), 7);
    for (price, (date, close)) in prices.iter().zip(&expected) {
        assert_eq!(
            price.as_object().unwrap().len(),
            2,
            "each price is {{date, close}}"
        );
        assert_eq!(price["date"], date.as_str(), "newest first");
        assert_eq!(
            price["close"].as_f64().unwrap(),
            close.parse::<f64>().unwrap()
        );
    }
    let mean = expected
        .iter()
        .map(|(_, c)| c.parse::<f64>().unwrap())
        .sum::<f64>()
        / 7.0;
    let average = body["average"].as_f64().unwrap();
    assert!((average - mean).abs() < 1e-9, "average {average} vs {mean}");
}

#[tokio::test]
async fn the_root_serves_the_default_symbol_and_days() {
    let app = TestApp::sample().await;
    let body = app.get("/").await.json();
    assert_eq!(
        (body["symbol"].as_str(), body["ndays"].as_u64()),
        (Some("MSFT"), Some(7))
    );
    let body = app.get("/IBM").await.json();
    assert_eq!(
        (body["symbol"].as_str(), body["ndays"].as_u64()),
        (Some("IBM"), Some(7))
    );
}

#[tokio::test]
async fn asking_for_more_days_than_exist_returns_all_there_are() {
    let app = TestApp::sample().await;
    let body = app.get("/FB/5000").await.json();
    let available = csv_closes("FB").len();
    assert_eq!(body["ndays"].as_u64().unwrap() as usize, available);
    assert_eq!(body["prices"].as_array().unwrap().len(), available);
}

#[tokio::test]
async fn the_second_request_is_a_cache_hit_whatever_the_days() {
    let app = TestApp::sample().await;
    assert_eq!(
        app.get("/AAPL/5").await.header("x-stockd-cache"),
        Some("miss")
    );
    assert_eq!(
        app.get("/AAPL/30").await.header("x-stockd-cache"),
        Some("hit")
    );
    assert_eq!(app.get("/aapl").await.header("x-stockd-cache"), Some("hit"));
}

/// The seed templates are matched after every listed path, on the shapes a template gave:
/// what each path answers, as the routes listed as `/{symbol}` and `/{symbol}/{days}` did.
#[tokio::test]
async fn seed_paths_are_matched_after_every_listed_route_with_the_templates_shapes() {
    let app = TestApp::sample().await;
    let cases = [
        ("/MSFT/7", 200, None),
        ("/MSFT", 200, None),
        ("/MS%46T/7", 200, None),
        ("/MSFT/7?x=1", 200, None),
        ("/health", 200, None),
        // A listed path's first segment followed by something it does not list: a seed read.
        ("/v1/foo", 400, Some("bad-request")),
        ("/health/7", 404, Some("unknown-symbol")),
        ("/v1", 404, Some("unknown-symbol")),
        // An empty symbol is the handler's to refuse; other shapes are no route.
        ("//7", 400, Some("bad-request")),
        ("/MSFT/", 404, Some("not-found")),
        ("/MSFT/7/", 404, Some("not-found")),
        ("/MSFT//7", 404, Some("not-found")),
        ("/MSFT/7/8", 404, Some("not-found")),
        ("/v1/symbols/MSFT/x", 404, Some("not-found")),
    ];
    for (path, status, problem) in cases {
        let response = app.get(path).await;
        assert_eq!(response.status, status, "{path}: {}", response.text());
        if let Some(problem) = problem {
            response.problem(status);
            assert_eq!(
                response.json()["type"],
                format!("urn:stockd:problem:{problem}"),
                "{path}"
            );
        }
    }
    for (method, path) in [
        (Method::POST, "/MSFT/7"),
        (Method::PUT, "/MSFT/7"),
        (Method::DELETE, "/MSFT"),
        (Method::PATCH, "/v1/foo"),
    ] {
        let response = app
            .request(
                Request::builder()
                    .method(method.clone())
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        response.problem(405);
        assert_eq!(
            response.header("allow"),
            Some("GET,HEAD"),
            "{method} {path}"
        );
    }
    // HEAD: what GET declares, without the body, on a seed path and on no route alike.
    for (path, status) in [("/MSFT", 200), ("/MSFT/7/8", 404)] {
        let get = app.get(path).await;
        let head = app
            .request(Request::head(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(
            (get.status.as_u16(), head.status.as_u16()),
            (status, status),
            "{path}"
        );
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "{path}"
        );
    }
    // Each template is its own route label.
    let metrics = app.get("/metrics").await.text();
    for route in ["/{symbol}", "/{symbol}/{days}"] {
        let counted = metrics.lines().any(|line| {
            line.starts_with("stock_api_requests_total")
                && line.contains(&format!(r#"route="{route}""#))
                && line.contains(r#"status="200""#)
        });
        assert!(counted, "{route} in {metrics}");
    }
}

#[tokio::test]
async fn malformed_days_answer_400_saying_the_valid_range() {
    let app = TestApp::sample().await;
    for uri in [
        "/MSFT/0",
        "/MSFT/5001",
        "/MSFT/abc",
        "/MSFT/-3",
        "/MSFT/1.5",
    ] {
        let detail = app.get(uri).await.problem(400);
        assert!(detail.contains("from 1 to 5000"), "{uri}: {detail}");
    }
}

#[tokio::test]
async fn malformed_symbols_answer_400_saying_what_a_symbol_looks_like() {
    let app = TestApp::sample().await;
    for uri in ["/MS%20FT/7", "/ABCDEFGHIJKLMNOPQ", "/%C3%A9t%C3%A9/3"] {
        let detail = app.get(uri).await.problem(400);
        assert!(detail.contains("symbol"), "{uri}: {detail}");
    }
}

#[tokio::test]
async fn percent_encoded_path_segments_are_decoded_before_they_are_read() {
    let app = TestApp::sample().await;
    let plain = app.get("/MSFT/7").await.json();
    for uri in ["/MS%46T/7", "/%4d%53%46%54/%37", "/MS%46T"] {
        let response = app.get(uri).await;
        assert_eq!(response.status, 200, "{uri}: {}", response.text());
        assert_eq!(response.json()["symbol"], "MSFT", "{uri}");
    }
    assert_eq!(app.get("/%4d%53%46%54/%37").await.json(), plain);
    // Bytes that are not UTF-8 once decoded: a 400 naming the segment, in either place.
    for uri in ["/%FF%FE/7", "/MSFT/%FF", "/%C3%28"] {
        let detail = app.get(uri).await.problem(400);
        assert!(detail.contains("not UTF-8"), "{uri}: {detail}");
    }
}

#[tokio::test]
async fn unknown_symbols_answer_404_listing_the_sample_and_how_to_go_live() {
    let app = TestApp::sample().await;
    let detail = app.get("/TSLA/7").await.problem(404);
    for needle in ["AAPL", "FB", "GOOG", "IBM", "MSFT", "APIKEY"] {
        assert!(detail.contains(needle), "{detail}");
    }
}

#[tokio::test]
async fn daily_bars_carry_ohlcv_and_provenance() {
    let app = TestApp::sample().await;
    let response = app.get("/v1/stocks/ibm/daily?days=3").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["symbol"], "IBM");
    assert_eq!(body["source"], "sample");
    assert_eq!(body["stale"], false);
    assert!(body["fetched_at"].as_str().unwrap().ends_with('Z'));
    let bars = body["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 3);
    let expected = csv_closes("IBM");
    let last = &expected[expected.len() - 1];
    assert_eq!(bars[2]["date"], last.0.as_str(), "oldest first");
    for field in ["open", "high", "low", "close", "volume"] {
        assert!(bars[2][field].is_number(), "{field}");
    }
}

#[tokio::test]
async fn daily_bars_honour_a_date_range() {
    let app = TestApp::sample().await;
    let body = app
        .get("/v1/stocks/MSFT/daily?from=2013-02-25&to=2013-02-28")
        .await
        .json();
    let dates: Vec<&str> = body["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        ["2013-02-25", "2013-02-26", "2013-02-27", "2013-02-28"]
    );
    assert_eq!(body["count"], 4);
}

#[tokio::test]
async fn daily_bars_take_a_limit_within_a_range() {
    let app = TestApp::sample().await;
    let body = app
        .get("/v1/stocks/MSFT/daily?from=2013-02-01&to=2013-02-28&limit=2")
        .await
        .json();
    let dates: Vec<&str> = body["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        ["2013-02-27", "2013-02-28"],
        "the newest of the range"
    );
    let detail = app
        .get("/v1/stocks/MSFT/daily?days=2&limit=2")
        .await
        .problem(400);
    assert!(detail.contains("days or limit"), "{detail}");
}

#[tokio::test]
async fn bad_dates_and_inverted_ranges_answer_400() {
    let app = TestApp::sample().await;
    let detail = app
        .get("/v1/stocks/MSFT/daily?from=2013-02-30")
        .await
        .problem(400);
    assert!(detail.contains("YYYY-MM-DD"), "{detail}");
    let detail = app
        .get("/v1/stocks/MSFT/daily?from=2013-03-01&to=2013-02-01")
        .await
        .problem(400);
    assert!(detail.contains("after"), "{detail}");
    let detail = app.get("/v1/stocks/MSFT/daily?days=0").await.problem(400);
    assert!(detail.contains("days"), "{detail}");
}

#[tokio::test]
async fn the_quote_is_the_last_close_with_its_change() {
    let app = TestApp::sample().await;
    let body = app.get("/v1/stocks/MSFT/quote").await.json();
    let closes = csv_closes("MSFT");
    let (last_date, last) = &closes[closes.len() - 1];
    let previous: f64 = closes[closes.len() - 2].1.parse().unwrap();
    let last: f64 = last.parse().unwrap();
    assert_eq!(body["price"].as_f64().unwrap(), last);
    assert_eq!(body["previous_close"].as_f64().unwrap(), previous);
    assert_eq!(body["trading_day"], last_date.as_str());
    assert!((body["change"].as_f64().unwrap() - (last - previous)).abs() < 1e-9);
    assert_eq!(body["source"], "sample");
}

#[tokio::test]
async fn hostile_input_never_causes_a_server_error() {
    let app = TestApp::sample().await;
    let long = "A".repeat(10_000);
    let uris = [
        "/%00".to_owned(),
        "/%FF%FE/7".to_owned(),
        "/..%2F..%2Fetc%2Fpasswd".to_owned(),
        format!("/{long}"),
        format!("/MSFT/{long}"),
        "/MSFT/99999999999999999999999".to_owned(),
        "/MSFT/%F0%9F%92%A5".to_owned(),
        "/v1/stocks/MSFT/daily?days=%00".to_owned(),
        "/v1/stocks/MSFT/daily?from=9999999-01-01".to_owned(),
        "/v1/stocks/MSFT/daily?days=1&days=2".to_owned(),
        "/v1/stocks/%20/quote".to_owned(),
        "/v1/stocks/MSFT/daily?from=2013-01-01&to=2013-01-01".to_owned(),
    ];
    for uri in &uris {
        let response = app.get(uri).await;
        assert!(
            response.status.as_u16() < 500,
            "{uri} -> {}: {}",
            response.status,
            response.text()
        );
        if !response.status.is_success() {
            assert_eq!(
                response.header("content-type"),
                Some("application/problem+json"),
                "{uri}"
            );
        }
    }
}
