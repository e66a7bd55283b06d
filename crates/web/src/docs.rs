//! The offline interactive API reference: `GET /docs` (an HTML page) and
//! `GET /docs/scalar.js` (the Scalar API reference bundle it loads).
//!
//! The page renders the OpenAPI document served at `/openapi.json` with
//! [Scalar](https://github.com/scalar/scalar) (`@scalar/api-reference`, MIT).
//! Its browser bundle is fetched from npm at build time by `build.rs` and
//! embedded in the binary, so the page needs no network: it references no
//! external host, and Scalar's options that would reach one (its hosted
//! fonts, the AI agent, the developer-tools/registry toolbar, telemetry) are
//! turned off. When the build could not get the bundle, a small fallback
//! script is embedded instead, which shows a link to `/openapi.json`.

use std::sync::LazyLock;

use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    HeaderValue, VARY,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Version of `@scalar/api-reference` pinned in `assets/scalar/package.json`.
pub const SCALAR_VERSION: &str = env!("STOCKD_SCALAR_VERSION");

/// `scalar` when the real bundle is embedded, `fallback` when the build could not get it.
pub const SCALAR_BUNDLE: &str = env!("STOCKD_SCALAR_BUNDLE");

const SCALAR_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scalar-standalone.js"));
const SCALAR_JS_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scalar-standalone.js.gz"));

/// The `/docs` page's one inline script (a macro, so the page and its CSP hash use the very
/// same bytes).
macro_rules! init_script {
    () => {
        r#"
  Scalar.createApiReference('#app', {
    url: '/openapi.json',
    // Scalar would load its fonts from its own CDN: use the system fonts.
    withDefaultFonts: false,
    // Scalar's AI agent, MCP and developer-tools/registry toolbar talk to scalar.com.
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: 'never',
    // The standalone API client button. "Test Request" stays: it sends requests to
    // the servers in /openapi.json, i.e. to stockd, without any proxy (proxyUrl unset).
    hideClientButton: true,
    telemetry: false,
  })
"#
    };
}

/// The `/docs` page. Everything it loads is served by stockd itself; the
/// `?v=` query only busts browser caches when the pinned version changes.
const DOCS_HTML: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Scalar API Reference "#,
    env!("STOCKD_SCALAR_VERSION"),
    r#"">
<title>stockd API</title>
<link rel="icon" href="data:,">
</head>
<body>
<noscript>
<p>The interactive API reference needs JavaScript. The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</p>
</noscript>
<div id="app"></div>
<script src="/docs/scalar.js?v="#,
    env!("STOCKD_SCALAR_VERSION"),
    r#""></script>
<script>"#,
    init_script!(),
    r#"</script>
</body>
</html>
"#
);

/// The page's Content-Security-Policy: stockd's own script files plus the inline script by
/// its hash (see [`crate::security::html_policy`]).
static DOCS_CSP: LazyLock<HeaderValue> =
    LazyLock::new(|| crate::security::html_policy(init_script!()));

/// The `/docs` routes alone (the application router lists them with every other path).
#[cfg(test)]
fn routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    use axum::routing::get;
    axum::Router::new()
        .route("/docs", get(docs_page))
        .route("/docs/scalar.js", get(scalar_js))
}

/// `GET /docs`: the Scalar page.
pub(crate) async fn docs_page() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, DOCS_CSP.clone()),
        ],
        DOCS_HTML,
    )
        .into_response()
}

/// `GET /docs/scalar.js`: the embedded bundle, gzipped when the client takes it.
pub(crate) async fn scalar_js(headers: HeaderMap) -> Response {
    let common = [
        (
            CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        ),
        (
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        ),
        // The body depends on accept-encoding either way, so caches must key on it.
        (VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if accepts_gzip(&headers) {
        (
            StatusCode::OK,
            common,
            [(CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            SCALAR_JS_GZ,
        )
            .into_response()
    } else {
        (StatusCode::OK, common, SCALAR_JS).into_response()
    }
}

/// Whether any `accept-encoding` header lists `gzip` (or `x-gzip`) without `q=0`.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip"))
                && !refused
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use std::io::Read;
    use tower::ServiceExt;

    async fn get_path(
        path: &str,
        accept_encoding: Option<&str>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut request = Request::get(path);
        if let Some(value) = accept_encoding {
            request = request.header(ACCEPT_ENCODING, value);
        }
        let response = routes::<()>()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    #[tokio::test]
    async fn docs_page_is_self_contained_html() {
        let (status, headers, body) = get_path("/docs", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
        let html = String::from_utf8(body).unwrap();
        assert!(html.contains(r#"<script src="/docs/scalar.js"#), "{html}");
        assert!(html.contains("url: '/openapi.json'"), "{html}");
        assert!(html.contains("withDefaultFonts: false"), "{html}");
        assert!(html.contains("<title>stockd API</title>"), "{html}");
        assert!(html.contains(SCALAR_VERSION), "{html}");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{html}"
        );
        assert!(
            !html.contains("//cdn") && !html.contains("src=\"//"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn scalar_js_is_served_uncompressed_by_default() {
        let (status, headers, body) = get_path("/docs/scalar.js", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
        assert_eq!(headers[CACHE_CONTROL], "public, max-age=86400");
        assert!(headers.get(CONTENT_ENCODING).is_none());
        assert!(!body.is_empty());
        assert_eq!(body, SCALAR_JS);
        // Either bundle provides the entry point the page calls.
        let js = String::from_utf8_lossy(&body);
        assert!(js.contains("createApiReference"));
        if SCALAR_BUNDLE == "scalar" {
            assert!(body.len() > 1_000_000, "{} bytes", body.len());
            assert!(!js.contains("sourceMappingURL=standalone"));
        }
    }

    #[tokio::test]
    async fn scalar_js_is_gzipped_when_accepted() {
        let (status, headers, body) =
            get_path("/docs/scalar.js", Some("br;q=1.0, gzip;q=0.8, *;q=0.1")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_ENCODING], "gzip");
        assert_eq!(headers[VARY], "accept-encoding");
        assert_eq!(
            headers[CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
        assert!(body.starts_with(&[0x1f, 0x8b]), "not gzip");
        assert!(body.len() < SCALAR_JS.len());
        let mut js = Vec::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_end(&mut js)
            .unwrap();
        assert_eq!(js, SCALAR_JS);
    }

    #[tokio::test]
    async fn head_request_gets_headers_only() {
        let response = routes::<()>()
            .oneshot(
                Request::head("/docs/scalar.js")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(body.is_empty());
    }

    #[test]
    fn gzip_negotiation() {
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            accepts_gzip(&headers)
        };
        assert!(accepts("gzip"));
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("deflate, GZIP;q=0.5"));
        assert!(accepts("x-gzip"));
        assert!(!accepts("identity"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("gzip; q=0.000"));
        assert!(!accepts(""));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
