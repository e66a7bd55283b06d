//! The dashboard under `/app/`: a browser opening `/` is sent there (API clients keep the
//! JSON), every app path answers the page with its strict CSP, and the embedded build's files
//! are served with their types, gzip and long caching.

use std::io::Read as _;

use axum::body::Body;
use axum::http::Request;

use crate::helpers::{TestApp, TestResponse, respond};

const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn get_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
    let request = headers
        .iter()
        .fold(Request::get(uri), |request, (name, value)| {
            request.header(*name, *value)
        });
    respond(&app.router, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn a_browser_opening_the_root_is_sent_to_the_dashboard_and_api_clients_keep_the_json() {
    let app = TestApp::sample().await;
    let browser = get_with(&app, "/", &[("accept", BROWSER_ACCEPT)]).await;
    assert_eq!(browser.status, 303);
    assert_eq!(browser.header("location"), Some("/app/"));
    assert_eq!(browser.header("vary"), Some("accept"));

    for accept in [None, Some("*/*"), Some("application/json")] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let api = get_with(&app, "/", &headers).await;
        assert_eq!(api.status, 200, "Accept {accept:?}");
        assert_eq!(api.json()["symbol"], "MSFT", "Accept {accept:?}");
        assert!(
            api.headers
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("accept")),
            "Accept {accept:?}: {:?}",
            api.headers
        );
    }
}

#[tokio::test]
async fn every_app_path_answers_the_page_with_a_strict_policy() {
    let app = TestApp::sample().await;
    let bare = app.get("/app").await;
    assert_eq!(bare.status, 308);
    assert_eq!(bare.header("location"), Some("/app/"));

    let page = app.get("/app/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let policy = page.header("content-security-policy").unwrap();
    assert_eq!(policy, web::app::APP_CSP);
    assert!(
        policy.starts_with("default-src 'none'; script-src 'self';"),
        "{policy}"
    );
    assert!(policy.contains("connect-src 'self';"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    // No inline script: every <script> has a src.
    let html = page.text();
    assert!(
        html.split("<script").skip(1).all(|tag| tag
            .split_once('>')
            .is_some_and(|(attributes, _)| attributes.contains("src="))),
        "{html}"
    );

    // The app's own pages (a reload, a shared link) answer the same page.
    for path in ["/app/symbols/MSFT", "/app/alerts", "/app/no/such/page"] {
        let deep = app.get(path).await;
        assert_eq!(deep.status, 200, "{path}");
        assert_eq!(deep.text(), html, "{path}");
        assert_eq!(
            deep.header("content-security-policy"),
            Some(policy),
            "{path}"
        );
    }
    // A missing build file is not answered with the page.
    app.get("/app/assets/index-0000.js").await.problem(404);

    if web::app::has_dashboard() {
        assert!(html.contains(r#"<div id="root">"#), "{html}");
    } else {
        assert!(
            html.contains("The dashboard is not in this build"),
            "{html}"
        );
        assert!(html.contains("npm"), "{html}");
    }
}

#[tokio::test]
async fn the_built_files_are_served_typed_gzipped_and_cached_for_a_year() {
    let app = TestApp::sample().await;
    let html = app.get("/app/").await.text();
    let Some(script) = html
        .split(r#"src="/app/"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
    else {
        // Built without npm: the fallback page has no files (checked above).
        assert!(!web::app::has_dashboard());
        return;
    };
    let uri = format!("/app/{script}");
    assert!(
        uri.starts_with("/app/assets/") && uri.ends_with(".js"),
        "{uri}"
    );

    let plain = app.get(&uri).await;
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        plain.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.body.len() > 10_000);

    let zipped = get_with(&app, &uri, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"));
    assert!(zipped.body.len() < plain.body.len() / 2);
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.body.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
}
