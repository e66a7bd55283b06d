//! Operational endpoints, docs, unknown routes and request ids.

use axum::body::Body;
use axum::http::Request;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_ready_answer_without_calling_any_provider() {
    let app = TestApp::sample().await;
    let health = app.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["store"], "sqlite");
    assert_eq!(app.state.market().breakers()[0].consecutive_failures, 0);
    assert_eq!(
        app.state.market().providers()[0].calls,
        0,
        "neither probe may spend upstream quota"
    );
}

#[tokio::test]
async fn providers_list_their_order_breaker_calls_and_last_error() {
    let app = TestApp::sample().await;
    let before = app.get("/v1/providers").await;
    assert_eq!(before.status, 200);
    let provider = &before.json()["providers"][0];
    assert_eq!(provider["name"], "sample");
    assert_eq!(
        provider["capabilities"],
        serde_json::json!([
            {"capability": "daily", "position": 1},
            {"capability": "quote", "position": 1},
        ])
    );
    assert_eq!(provider["breaker"], "closed");
    assert_eq!(provider["calls"], 0);
    assert!(provider["last_error"].is_null());

    app.get("/GOOG/3").await;
    app.get("/NOPE/3").await;
    let after = app.get("/v1/providers").await.json();
    let provider = &after["providers"][0];
    assert_eq!(provider["calls"], 2);
    assert!(
        provider["last_error"].as_str().unwrap().contains("NOPE"),
        "{provider}"
    );
    assert!(provider["last_error_at"].is_string());
}

#[tokio::test]
async fn metrics_use_the_documented_names_with_bounded_labels() {
    let app = TestApp::sample().await;
    app.get("/GOOG/3").await;
    app.get("/GOOG/4").await;
    app.get("/NOPE/4").await;
    let text = app.get("/metrics").await.text();
    for name in [
        "stock_api_requests_total",
        "stock_api_request_duration_seconds_bucket",
        "stock_api_cache_hits_total",
        "stock_api_cache_misses_total",
        "stock_api_circuit_breaker_state",
        "stock_api_external_calls_total",
        "stock_api_external_call_duration_seconds_bucket",
        "stock_api_bars_upserted_total",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
    assert!(
        text.contains(r#"route="/{symbol}/{days}""#),
        "routes are templates"
    );
    assert!(
        !text.contains("GOOG") && !text.contains("NOPE"),
        "no raw symbols in labels"
    );
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_every_route() {
    let app = TestApp::sample().await;
    let doc = app.get("/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for route in [
        "/",
        "/{symbol}",
        "/{symbol}/{days}",
        "/v1/stocks/{symbol}/daily",
        "/v1/stocks/{symbol}/quote",
        "/health",
        "/ready",
        "/metrics",
        "/circuit-breaker",
        "/v1/providers",
    ] {
        assert!(doc["paths"][route].is_object(), "missing {route}");
    }
    let responses = &doc["paths"]["/{symbol}/{days}"]["get"]["responses"];
    for status in ["200", "400", "404", "502", "503"] {
        assert!(
            responses[status].is_object(),
            "/{{symbol}}/{{days}} documents {status}"
        );
    }
    assert!(
        responses["404"]["content"]["application/problem+json"].is_object(),
        "errors are documented as problem+json"
    );
}

#[tokio::test]
async fn the_docs_page_references_no_external_host() {
    let app = TestApp::sample().await;
    let page = app.get("/docs").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("/docs/scalar.js") && html.contains("/openapi.json"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let script = app.get("/docs/scalar.js").await;
    assert_eq!(script.status, 200);
    assert!(script.body.len() > 1000);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problem_json() {
    let app = TestApp::sample().await;
    let detail = app.get("/a/b/c/d/e").await.problem(404);
    assert!(detail.contains("/docs"));
    let response = app
        .request(Request::post("/MSFT/7").body(Body::empty()).unwrap())
        .await;
    response.problem(405);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_clients() {
    let app = TestApp::sample().await;
    let first = app.get("/health").await;
    let second = app.get("/MSFT/1").await;
    let not_found = app.get("/no/such/route/here").await;
    let ids: Vec<&str> = [&first, &second, &not_found]
        .iter()
        .map(|r| r.header("x-request-id").expect("every response has an id"))
        .collect();
    assert!(ids.iter().all(|id| id.len() >= 16), "{ids:?}");
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2],
        "ids are unique: {ids:?}"
    );
    // A handler's own answer, and a cached price answer (whose headers start from a template
    // holding a placeholder id): the client's id, once.
    for path in ["/health", "/MSFT/7"] {
        let echoed = app
            .request(
                Request::get(path)
                    .header("x-request-id", "trace-me-123")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            echoed.header("x-request-id"),
            Some("trace-me-123"),
            "{path}"
        );
        assert_eq!(
            echoed.headers.get_all("x-request-id").iter().count(),
            1,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_price_answer_declares_its_own_length_on_get_and_head() {
    let app = TestApp::sample().await;
    for days in ["1", "7", "250"] {
        let get = app.get(&format!("/MSFT/{days}")).await;
        assert_eq!(
            get.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "GET /MSFT/{days}"
        );
        let head = app
            .request(
                Request::head(format!("/MSFT/{days}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-length"),
            get.header("content-length"),
            "HEAD /MSFT/{days} says what GET sends"
        );
    }
}

#[tokio::test]
async fn a_disabled_feature_answers_404_saying_so_and_is_listed_as_off() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    let settings = BTreeMap::from([
        ("history_delta".to_owned(), false),
        ("api_docs".to_owned(), false),
    ]);
    let features = web::features::Features::from_settings(&settings).unwrap();
    let app = TestApp::with_features(
        Arc::new(providers::sample::Sample::new()),
        crate::helpers::market_config(),
        features,
    )
    .await;
    let response = app.get("/v1/stocks/MSFT/delta?days=5").await;
    let detail = response.problem(404);
    assert!(
        detail.contains("history_delta") && detail.contains("disabled"),
        "{detail}"
    );
    assert_eq!(
        response.json()["type"],
        "urn:stockd:problem:feature-disabled"
    );
    app.get("/openapi.json").await.problem(404);
    let detail = app.get("/docs/scalar.js").await.problem(404);
    assert!(detail.contains("api_docs"), "{detail}");
    assert_eq!(
        app.get("/v1/stocks/MSFT/eod").await.status,
        200,
        "other features stay on"
    );

    let listed = app.get("/v1/features").await.json();
    let delta = listed["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "history_delta")
        .unwrap();
    assert_eq!(delta["enabled"], false);
    let eod = listed["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "history_eod")
        .unwrap();
    assert_eq!(eod["enabled"], true);
}

#[tokio::test]
async fn ready_answers_503_naming_a_loop_that_stopped_while_health_stays_200() {
    let app = TestApp::sample().await;
    let loops = app.state.loops();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = loops.spawn("notification dispatcher", async move {
        let _ = stopped.await;
    });
    let evaluator = loops.spawn("alert evaluator", std::future::pending());
    assert_eq!(app.get("/ready").await.status, 200, "both loops run");

    // The evaluator's task ends (aborted here; a panic is the next test).
    evaluator.abort();
    let _ = evaluator.await;
    let detail = app.get("/ready").await.problem(503);
    assert!(detail.contains("alert evaluator"), "{detail}");
    assert!(!detail.contains("dispatcher"), "{detail}");
    assert_eq!(app.get("/health").await.status, 200, "the process is up");

    // A loop that returns is as dead as one that panicked.
    stop.send(()).unwrap();
    dispatcher.await.unwrap();
    let detail = app.get("/ready").await.problem(503);
    assert!(
        detail.contains("alert evaluator") && detail.contains("notification dispatcher"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_loop_that_panics_is_reported_dead() {
    let app = TestApp::sample().await;
    let loops = app.state.loops();
    let task = loops.spawn("alert evaluator", async {
        panic!("DateTime + TimeDelta overflowed");
    });
    assert!(task.await.unwrap_err().is_panic());
    let detail = app.get("/ready").await.problem(503);
    assert!(detail.contains("the alert evaluator stopped"), "{detail}");
}
