//! Security headers: what every answer carries, and the Content-Security-Policy of the HTML
//! page.
//!
//! Every response (JSON, problem+json, HTML, the docs bundle) gets:
//!
//! - `X-Content-Type-Options: nosniff`: a browser never guesses a type other than the one
//!   declared (a JSON body is never run as script or rendered as HTML);
//! - `Referrer-Policy: no-referrer`: nothing of a stockd URL leaks to another site;
//! - `X-Frame-Options: DENY`: no page may frame stockd (clickjacking); the HTML page says the
//!   same in its CSP (`frame-ancestors 'none'`), which newer browsers read instead.
//!
//! They are static values inserted by [`crate::observe`] into each response that does not
//! have them yet, so they cost a few map inserts per request and no allocation; the cached
//! read path's answers start from a pre-built header map that holds them (`json`), which
//! `observe` recognises without a lookup.

use axum::http::header::{REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use sha2::{Digest, Sha256};

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const DENY: HeaderValue = HeaderValue::from_static("DENY");

/// Adds the headers every answer carries (the same on every answer: no handler sets its
/// own).
#[inline]
pub(crate) fn add_headers(headers: &mut HeaderMap) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    headers.insert(REFERRER_POLICY, NO_REFERRER);
    headers.insert(X_FRAME_OPTIONS, DENY);
}

/// The Content-Security-Policy of an HTML page whose only inline script is `inline_script`.
///
/// - scripts: stockd's own files (`'self'`, the embedded Scalar bundle) and the one inline
///   script by its SHA-256; no `'unsafe-inline'`, no `'unsafe-eval'` (the bundle needs
///   neither);
/// - styles: `'self'` and `'unsafe-inline'`, because the Scalar bundle injects `<style>`
///   elements and `style` attributes at run time that carry no nonce it could be given;
///   styles cannot run code;
/// - images: `'self'` and `data:` (the bundle inlines its icons); fonts: `'self'` (the page
///   asks Scalar for the system fonts);
/// - requests (`connect-src`): stockd only (`/openapi.json` and "Test Request");
/// - no plugins, no `<base>`, forms only to stockd, and no framing.
pub(crate) fn html_policy(inline_script: &str) -> HeaderValue {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(inline_script));
    let policy = format!(
        "default-src 'none'; script-src 'self' 'sha256-{hash}'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
}
