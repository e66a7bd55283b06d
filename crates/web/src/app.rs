//! The dashboard: `GET /app/…` serves the React app built from `ui/` by `build.rs` and embedded
//! in the binary, and `GET /` sends a browser there (see [`prefers_html`]).
//!
//! - A file of the build (`/app/assets/index-3f2a1c.js`) is served with its type, gzipped
//!   when the client takes it, and, as its name carries a content hash, cached for a year;
//!   `index.html` is never cached, so a new binary's app is picked up on the next load.
//! - Any other path under `/app/` is the app's own (a page such as `/app/symbols/MSFT`) and
//!   answers `index.html`; only a missing file under `/app/assets/` is a 404 (a stale hashed
//!   name must not be answered with HTML).
//! - HTML carries a strict Content-Security-Policy: scripts, styles, fonts and requests to
//!   stockd only, no inline script, one inline style by its hash, no framing ([`APP_CSP`]).
//! - A binary built without npm has no app: every page answers [`FALLBACK_HTML`], which says
//!   how to get one.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// One file of the dashboard's build.
#[derive(Debug)]
pub struct Asset {
    /// Relative to `/app/`, e.g. `assets/index-3f2a1c.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    /// The same bytes gzip-compressed, when that is smaller.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The Content-Security-Policy of the dashboard's HTML. The app is one script file and one
/// style sheet from `/app/assets/`: no inline script at all. The one inline style is the
/// `<style>` element lightweight-charts adds for its TradingView attribution logo, allowed by
/// its SHA-256 ([`CHART_LOGO_STYLE_HASH`]); React and the chart set every other style through
/// the CSSOM, which the policy does not restrict. `img-src data:` is the page's empty favicon;
/// `connect-src 'self'` keeps every request (the API calls, the live stream) on this origin.
pub const APP_CSP: &str = concat!(
    "default-src 'none'; script-src 'self'; style-src 'self' '",
    "sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY=",
    "'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
);

/// The SHA-256 of the attribution logo's `<style>` text in lightweight-charts 5.2.1 (the
/// `a#tv-attr-logo{…}` rule). A new version that changes it shows as a CSP violation in the
/// browser test (`crates/web/ui/tests/e2e.mjs`), which fails on any.
pub const CHART_LOGO_STYLE_HASH: &str = "sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY=";

/// Served for every page when the binary was built without the dashboard.
pub const FALLBACK_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stockd dashboard not built</title>
</head>
<body>
<main>
<h1>The dashboard is not in this build</h1>
<p>This stockd binary was compiled without Node.js and npm, so the web dashboard was not built into it.
The API works as usual: see <a href="/docs">/docs</a> and <a href="/openapi.json">/openapi.json</a>.</p>
<p>To get the dashboard, install Node.js (18 or newer) with npm and rebuild stockd
(<code>cargo build --release -p stockd</code>): the build runs <code>npm ci</code> and
<code>vite build</code> in <code>crates/web/ui</code> and embeds the result. Or build the app
yourself (<code>npm ci &amp;&amp; npm run build</code> in <code>crates/web/ui</code>) and rebuild
stockd with <code>STOCKD_UI_DIST=crates/web/ui/dist</code>.</p>
</main>
</body>
</html>
"#;

/// Whether this binary carries the built dashboard (rather than the fallback page).
pub fn has_dashboard() -> bool {
    UI_BUNDLE == "dashboard"
}

fn find(path: &str) -> Option<&'static Asset> {
    UI_ASSETS.iter().find(|asset| asset.path == path)
}

/// `GET /app`: to `/app/`, so the app's relative URLs resolve.
pub(crate) async fn app_root_redirect() -> Redirect {
    Redirect::permanent("/app/")
}

/// `GET /app/`: the app's page.
pub(crate) async fn app_index(headers: HeaderMap) -> Response {
    index(&headers)
}

/// `GET /app/{*path}`: a file of the build, or the app's page for any other path.
pub(crate) async fn app_path(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match find(&path) {
        Some(asset) if asset.path != "index.html" => file(asset, &headers),
        Some(_) => index(&headers),
        None if path.starts_with("assets/") => crate::error::problem_response(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "no such file of the dashboard (a page built by another version?); reload /app/".into(),
            None,
        ),
        None => index(&headers),
    }
}

fn index(headers: &HeaderMap) -> Response {
    let mut response = match find("index.html") {
        Some(asset) => file(asset, headers),
        None => ([(CONTENT_TYPE, "text/html; charset=utf-8")], FALLBACK_HTML).into_response(),
    };
    let h = response.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(APP_CSP));
    response
}

fn file(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let cache = if asset.path.starts_with("assets/") {
        // Hashed names: a changed file gets a new name.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = match asset.gzip {
        Some(gz) if crate::docs::accepts_gzip(headers) => {
            ([(CONTENT_ENCODING, HeaderValue::from_static("gzip"))], gz).into_response()
        }
        _ => asset.body.into_response(),
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if asset.gzip.is_some() {
        h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether a request's `Accept` ranks `text/html` above `application/json`: a browser's
/// navigation does (`text/html,…,*/*;q=0.8`), while curl (`*/*`), API clients
/// (`application/json`) and requests without the header keep the JSON.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = 0.0f32;
    let mut json = 0.0f32;
    // Specific types win over wildcards, whatever the order.
    let (mut html_exact, mut json_exact) = (false, false);
    for item in headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .filter(|q| q.is_finite())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        match media.as_str() {
            "text/html" => (html, html_exact) = (q, true),
            "application/json" => (json, json_exact) = (q, true),
            "text/*" if !html_exact => html = html.max(q),
            "application/*" if !json_exact => json = json.max(q),
            "*/*" => {
                if !html_exact {
                    html = html.max(q);
                }
                if !json_exact {
                    json = json.max(q);
                }
            }
            _ => {}
        }
    }
    html > json
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_policy_allows_the_chart_logo_style_and_nothing_inline_else() {
        assert!(APP_CSP.contains(&format!("style-src 'self' '{CHART_LOGO_STYLE_HASH}';")));
        assert!(APP_CSP.contains("script-src 'self';"));
        assert!(APP_CSP.contains("connect-src 'self';"));
        assert!(!APP_CSP.contains("unsafe"));
        assert!(!APP_CSP.contains("http"));
    }

    #[test]
    fn browsers_prefer_html_and_api_clients_do_not() {
        // Chromium's and Firefox's navigation requests.
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
        )));
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        // curl, fetch() and API clients.
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("application/json, text/html;q=0.5")));
        assert!(!prefers_html(&accept("text/html;q=0.5, */*")));
        assert!(!prefers_html(&HeaderMap::new()));
        // Equal preference keeps the JSON.
        assert!(!prefers_html(&accept("text/html, application/json")));
    }
}
