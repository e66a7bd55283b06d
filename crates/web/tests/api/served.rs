//! What the server answers without the router (paths no listed path can match, handed to the
//! router's fallback directly) is what the router answers: compared over loopback TCP, byte
//! for byte but the date, between `web::routes` (as `stockd serve` serves) and the same app's
//! router alone.

use std::sync::Arc;

use providers::sample::Sample;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use web::limits::{Limits, ReadLimits};

use crate::helpers::{TestApp, market_config};
use crate::server::{Running, patient};

/// `request` (its head, without the final blank line) sent on a new connection, which it
/// closes: the whole answer, `Date` left out and the other headers sorted.
async fn answer(server: &Running, request: &str) -> String {
    answer_with_body(server, request, "").await
}

/// [`answer`], the request carrying `body`.
async fn answer_with_body(server: &Running, request: &str, body: &str) -> String {
    let mut client = server.connect().await;
    let length = match body.len() {
        0 => String::new(),
        n => format!("Content-Length: {n}\r\n"),
    };
    let sent = format!("{request}\r\nHost: stockd\r\nConnection: close\r\n{length}\r\n{body}");
    client.write_all(sent.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    client.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let mut headers: Vec<String> = lines
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .map(str::to_owned)
        .collect();
    headers.sort();
    format!("{status}\n{}\n\n{body}", headers.join("\n"))
}

#[tokio::test]
async fn unlisted_paths_are_answered_as_the_router_answers_them() {
    let app = TestApp::sample().await;
    let served = Running::router(web::routes(app.state.clone()), patient()).await;
    let routed = Running::router(app.router.clone(), patient()).await;
    // Warm the cache, so both answers are hits.
    answer(&routed, "GET /MSFT/7 HTTP/1.1").await;
    answer(&routed, "GET /MSFT HTTP/1.1").await;
    let requests = [
        "GET /MSFT/7 HTTP/1.1",
        "GET /msft/7?x=1 HTTP/1.1",
        "GET /MSFT HTTP/1.1",
        "GET /MS%46T/7 HTTP/1.1",
        "HEAD /MSFT/7 HTTP/1.1",
        "GET /MSFT/0 HTTP/1.1",
        "GET /MSFT/x HTTP/1.1",
        "GET /NOPE/7 HTTP/1.1",
        "GET /%FF/7 HTTP/1.1",
        "GET //7 HTTP/1.1",
        "GET /MSFT/7/ HTTP/1.1",
        "GET /MSFT//7 HTTP/1.1",
        "GET /MSFT/7/8 HTTP/1.1",
        "HEAD /MSFT/7/8 HTTP/1.1",
        "POST /MSFT/7 HTTP/1.1",
        "DELETE /MSFT HTTP/1.1",
        "OPTIONS /MSFT/7 HTTP/1.1",
        // Through the router on both: listed paths, a listed path's first segment, a body.
        "GET / HTTP/1.1",
        "GET /health HTTP/1.1",
        "GET /v1/stocks/MSFT/daily HTTP/1.1",
        "GET /v1/foo HTTP/1.1",
        "GET /health/7 HTTP/1.1",
        "PUT /MSFT/7 HTTP/1.1",
    ];
    for request in requests {
        // The client's request id is echoed by both, so the whole answer compares.
        let request = format!("{request}\r\nX-Request-Id: compare-1");
        let body = if request.starts_with("PUT") { "{}" } else { "" };
        let (direct, through) = (
            answer_with_body(&served, &request, body).await,
            answer_with_body(&routed, &request, body).await,
        );
        assert_eq!(direct, through, "{request}");
        assert!(direct.contains("x-request-id: compare-1"), "{direct}");
    }
    let hit = answer(&served, "GET /MSFT/7 HTTP/1.1").await;
    assert!(hit.starts_with("HTTP/1.1 200 OK\n"), "{hit}");
    assert!(hit.contains("x-stockd-cache: hit"), "{hit}");
    assert!(hit.contains(r#""symbol":"MSFT","ndays":7"#), "{hit}");
}

#[tokio::test]
async fn reads_answered_without_the_router_count_against_the_clients_allowance() {
    let limits = Limits {
        reads: ReadLimits {
            per_second: 1,
            burst: 2,
            ..ReadLimits::default()
        },
        ..Limits::default()
    };
    let app = TestApp::in_memory(Arc::new(Sample::new()), market_config(), limits);
    // Loaded in-process first (no peer, so not counted): the three reads below are quick
    // cache hits, well inside the second that would give one back.
    assert_eq!(app.get("/MSFT/7").await.status, 200);
    let served = Running::router(web::routes(app.state.clone()), patient()).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let answer = answer(&served, "GET /MSFT/7 HTTP/1.1").await;
        statuses.push(answer.split(' ').nth(1).unwrap().to_owned());
    }
    assert_eq!(statuses, ["200", "200", "429"]);
    // The same client through the router: already over its allowance.
    let routed = Running::router(app.router.clone(), patient()).await;
    let through = answer(&routed, "GET /MSFT HTTP/1.1").await;
    assert!(through.starts_with("HTTP/1.1 429"), "{through}");
    assert!(through.contains("retry-after: "), "{through}");
}

#[tokio::test]
async fn with_an_allow_list_unlisted_paths_carry_cors_headers() {
    let app = TestApp::sample().await;
    let origins: web::CorsOrigins = "https://app.example.com".parse().unwrap();
    let served = Running::router(
        web::routes(app.state.clone()).with_cors(&origins),
        patient(),
    )
    .await;
    let answer = answer(
        &served,
        "GET /MSFT/7 HTTP/1.1\r\nOrigin: https://app.example.com",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\n"), "{answer}");
    assert!(
        answer.contains("access-control-allow-origin: https://app.example.com"),
        "{answer}"
    );
}
