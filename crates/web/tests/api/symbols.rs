//! The tracked-symbols list over HTTP: public reads, writes behind the admin token.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;

use crate::helpers::{TestApp, market_config};

async fn app(admin_token: Option<&str>) -> TestApp {
    TestApp::with_web(
        Arc::new(providers::sample::Sample::new()),
        market_config(),
        web::features::Features::default(),
        admin_token,
    )
    .await
}

fn request(method: &str, uri: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_admin_token_tracks_and_untracks_symbols() {
    let app = app(Some("s3cret")).await;
    let created = app
        .request(request("PUT", "/v1/symbols/msft", Some("s3cret")))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["symbol"], "MSFT");
    let again = app
        .request(request("PUT", "/v1/symbols/MSFT", Some("s3cret")))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["added_at"], created.json()["added_at"]);

    let listed = app.get("/v1/symbols").await.json();
    assert_eq!(listed["symbols"][0]["symbol"], "MSFT");

    let removed = app
        .request(request("DELETE", "/v1/symbols/MSFT", Some("s3cret")))
        .await;
    assert_eq!(removed.status, 204);
    app.request(request("DELETE", "/v1/symbols/MSFT", Some("s3cret")))
        .await
        .problem(404);
    assert!(
        app.get("/v1/symbols").await.json()["symbols"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn writes_without_the_right_token_are_refused() {
    let app = app(Some("s3cret")).await;
    let missing = app.request(request("PUT", "/v1/symbols/MSFT", None)).await;
    missing.problem(401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    app.request(request("PUT", "/v1/symbols/MSFT", Some("guess")))
        .await
        .problem(403);
    app.request(request(
        "DELETE",
        "/v1/symbols/MSFT",
        Some("s3cret-and-more"),
    ))
    .await
    .problem(403);
    assert!(
        app.get("/v1/symbols").await.json()["symbols"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn without_a_configured_token_http_writes_are_disabled() {
    let app = app(None).await;
    let detail = app
        .request(request("PUT", "/v1/symbols/MSFT", Some("anything")))
        .await
        .problem(403);
    assert!(detail.contains("STOCKD_ADMIN_TOKEN"), "{detail}");
}

#[tokio::test]
async fn a_malformed_symbol_is_a_400() {
    let app = app(Some("s3cret")).await;
    app.request(request("PUT", "/v1/symbols/BAD%20ONE", Some("s3cret")))
        .await
        .problem(400);
}

#[tokio::test]
async fn a_symbol_no_provider_knows_is_not_tracked() {
    let app = app(Some("s3cret")).await;
    let refused = app
        .request(request("PUT", "/v1/symbols/ZZZZ9", Some("s3cret")))
        .await;
    let detail = refused.problem(422);
    assert!(
        detail.contains("ZZZZ9") && detail.contains("unknown"),
        "{detail}"
    );
    let listed = app.get("/v1/symbols").await.json();
    assert_eq!(listed["symbols"], serde_json::json!([]));
}

/// RFC 9110: the auth scheme is case-insensitive, for the admin token as for user tokens.
#[tokio::test]
async fn the_admin_token_is_accepted_whatever_the_case_of_the_bearer_scheme() {
    let app = app(Some("s3cret")).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let tracked = app
            .request(
                Request::builder()
                    .method("PUT")
                    .uri("/v1/symbols/IBM")
                    .header("authorization", format!("{scheme} s3cret"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(
            tracked.status == 201 || tracked.status == 200,
            "{scheme}: {}",
            tracked.text()
        );
    }
    let wrong_scheme = app
        .request(
            Request::builder()
                .method("PUT")
                .uri("/v1/symbols/IBM")
                .header("authorization", "Basic s3cret")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    wrong_scheme.problem(401);
}
