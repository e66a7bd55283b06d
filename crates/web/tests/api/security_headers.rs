//! Security headers on every kind of answer, the docs page's Content-Security-Policy, and the
//! CORS allow-list.

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use web::CorsOrigins;

use crate::helpers::{TestApp, TestResponse, respond};

fn assert_security_headers(response: &TestResponse) {
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn json_problem_and_html_answers_carry_the_security_headers() {
    let app = TestApp::sample().await;
    let json = app.get("/MSFT/7").await;
    assert_eq!(json.status, 200);
    assert_security_headers(&json);

    let unknown_symbol = app.get("/v1/stocks/NOPE/daily").await;
    unknown_symbol.problem(404);
    assert_security_headers(&unknown_symbol);
    let no_route = app.get("/v1/no/such/route/here").await;
    no_route.problem(404);
    assert_security_headers(&no_route);
    let wrong_method = app
        .request(Request::post("/health").body(Body::empty()).unwrap())
        .await;
    wrong_method.problem(405);
    assert_security_headers(&wrong_method);

    let html = app.get("/docs").await;
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_security_headers(&html);
}

/// The text of the page's inline scripts (those without `src`).
fn inline_scripts(html: &str) -> Vec<&str> {
    html.split("<script")
        .skip(1)
        .filter_map(|tag| {
            let (attributes, rest) = tag.split_once('>')?;
            (!attributes.contains("src="))
                .then(|| rest.split_once("</script>").map(|(js, _)| js))?
        })
        .collect()
}

#[tokio::test]
async fn the_docs_page_allows_only_its_own_scripts_and_no_framing() {
    let app = TestApp::sample().await;
    let page = app.get("/docs").await;
    let policy = page
        .header("content-security-policy")
        .expect("a CSP")
        .to_owned();
    let directive = |name: &str| {
        policy
            .split(';')
            .map(str::trim)
            .find(|d| d.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
            .to_owned()
    };
    assert_eq!(directive("default-src"), "default-src 'none'");
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
    assert_eq!(directive("connect-src"), "connect-src 'self'");
    let scripts = directive("script-src");
    assert!(
        !scripts.contains("unsafe-inline") && !scripts.contains("unsafe-eval"),
        "{scripts}"
    );
    assert!(scripts.contains("'self'"), "{scripts}");
    // Every inline script the page has is allowed by its hash, and nothing else inline is.
    let html = page.text();
    let inline = inline_scripts(&html);
    assert_eq!(inline.len(), 1, "{html}");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(inline[0]));
    assert!(scripts.contains(&format!("'sha256-{hash}'")), "{scripts}");
    assert_eq!(scripts.matches("'sha256-").count(), 1, "{scripts}");
    // The script the page loads is stockd's own.
    assert!(html.contains(r#"<script src="/docs/scalar.js"#), "{html}");
}

#[tokio::test]
async fn without_an_allow_list_no_origin_gets_cors_headers() {
    let app = TestApp::sample().await;
    let router = web::with_cors(app.router.clone(), &CorsOrigins::Off);
    let response = respond(
        &router,
        Request::get("/MSFT/7")
            .header("origin", "https://app.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(response.header("access-control-allow-origin").is_none());
    assert_eq!(CorsOrigins::default(), CorsOrigins::Off);
}

#[tokio::test]
async fn listed_origins_may_read_answers_and_others_may_not() {
    let app = TestApp::sample().await;
    let origins: CorsOrigins = "https://app.example.com, http://localhost:3000"
        .parse()
        .unwrap();
    let router = web::with_cors(app.router.clone(), &origins);
    for origin in ["https://app.example.com", "http://localhost:3000"] {
        let response = respond(
            &router,
            Request::get("/MSFT/7")
                .header("origin", origin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(response.status, 200);
        assert_eq!(response.header("access-control-allow-origin"), Some(origin));
        assert!(
            response
                .header("access-control-allow-credentials")
                .is_none()
        );
        let exposed = response
            .header("access-control-expose-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            exposed.contains("x-request-id") && exposed.contains("retry-after"),
            "{exposed}"
        );
        assert_security_headers(&response);
    }
    for origin in [
        "https://evil.example.com",
        "https://app.example.com.evil.example",
        "null",
    ] {
        let response = respond(
            &router,
            Request::get("/MSFT/7")
                .header("origin", origin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            response.header("access-control-allow-origin").is_none(),
            "{origin} was allowed"
        );
    }
}

#[tokio::test]
async fn a_preflight_from_a_listed_origin_is_answered_with_what_may_be_sent() {
    let app = TestApp::sample().await;
    let origins: CorsOrigins = "https://app.example.com".parse().unwrap();
    let router = web::with_cors(app.router.clone(), &origins);
    let preflight = |origin: &str| {
        Request::options("/v1/me")
            .header("origin", origin)
            .header("access-control-request-method", "DELETE")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed = respond(&router, preflight("https://app.example.com")).await;
    assert!(allowed.status.is_success(), "{}", allowed.status);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let methods = allowed.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("DELETE") && methods.contains("POST"),
        "{methods}"
    );
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(allowed.header("access-control-max-age").is_some());
    assert!(allowed.header("access-control-allow-credentials").is_none());
    // The seed routes (the router's fallback) are behind the same layer.
    let seed = respond(
        &router,
        Request::options("/MSFT/7")
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "GET")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(seed.status.is_success(), "{}", seed.status);
    assert_eq!(
        seed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );

    let refused = respond(&router, preflight("https://evil.example.com")).await;
    assert!(refused.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn any_origin_is_allowed_only_when_chosen_and_never_with_credentials() {
    let app = TestApp::sample().await;
    let router = web::with_cors(app.router.clone(), &"*".parse().unwrap());
    let response = respond(
        &router,
        Request::get("/health")
            .header("origin", "https://anywhere.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert!(
        response
            .header("access-control-allow-credentials")
            .is_none()
    );
    assert!("*,https://app.example.com".parse::<CorsOrigins>().is_err());
}
