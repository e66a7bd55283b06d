//! What no listed path matches: the seed routes `/{symbol}` and `/{symbol}/{days}` when the
//! path has one of their shapes, else 404 (or 405 for a seed shape asked with another method).
//!
//! The router hands it every request it did not match ([`SeedRoutes`], its fallback service).
//! The server may hand it a request directly ([`UnlistedPaths`]): a path whose first segment
//! is no listed path's first segment cannot match a listed path, so the router would only try
//! its listed paths, then its fallback's catch-all (and insert that catch-all's path
//! parameter), box-clone the fallback and move the request through two futures before reaching
//! this module: with the `ConnectInfo` extension the router's handlers read the peer from,
//! ~3,000 of a cached read's ~17,500 instructions (`bench/instructions.sh`). Both ways run the
//! same code below, so they give the same answer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::future::Either;

use crate::observe::{self, ObserveFuture, Observed};
use crate::routes::seed;
use crate::{AppState, auth, error};

/// The router's fallback service (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(super) struct SeedRoutes;

/// A handler's boxed answer (axum boxes every function handler's future, and so does a seed
/// read).
type BoxedAnswer = seed::SeedAnswer;

/// The answer to a request no listed path matched.
pub(crate) type UnlistedAnswer = Either<ObserveFuture<BoxedAnswer>, BoxedAnswer>;

impl Handler<(), AppState> for SeedRoutes {
    type Future = UnlistedAnswer;

    fn call(self, request: Request, state: AppState) -> Self::Future {
        let peer = auth::peer(request.extensions());
        answer(request, state, peer)
    }
}

/// Paths the server may answer here without the router: those whose first segment no listed
/// path starts with.
#[derive(Debug, Clone)]
pub(crate) struct UnlistedPaths {
    state: AppState,
    /// The first segment of every listed path, once each (a dozen: a scan of them is cheaper
    /// than a hash).
    listed_first_segments: Arc<[&'static str]>,
}

impl UnlistedPaths {
    /// `None` when a listed path's first segment holds a parameter (it could match segments
    /// that are not its text).
    pub(super) fn new(state: AppState, listed: &[&'static str]) -> Option<Self> {
        Some(Self {
            state,
            listed_first_segments: first_segments(listed)?.into(),
        })
    }

    /// Whether no listed path can match `path`.
    pub(crate) fn holds(&self, path: &str) -> bool {
        let first = first_segment(path);
        !self.listed_first_segments.contains(&first)
    }

    /// The answer to `request`, whose path this [`holds`](Self::holds), from `peer`: what the
    /// router's fallback would answer.
    pub(crate) fn answer(&self, request: Request, peer: SocketAddr) -> UnlistedAnswer {
        answer(request, self.state.clone(), Some(peer))
    }
}

/// The distinct first segments of `paths` (most of the ~60 listed paths start with `v1`, so
/// each request compares a dozen), or `None` when one holds a parameter.
fn first_segments(paths: &[&'static str]) -> Option<Vec<&'static str>> {
    let mut firsts: Vec<&'static str> = paths.iter().map(|path| first_segment(path)).collect();
    if firsts.iter().any(|first| first.contains('{')) {
        return None;
    }
    firsts.sort_unstable();
    firsts.dedup();
    Some(firsts)
}

/// The first segment of a path (empty for `/`).
fn first_segment(path: &str) -> &str {
    let segments = path.strip_prefix('/').unwrap_or(path);
    // Bytes: a `/` is one byte, and a byte search is cheaper than a `char` pattern's.
    let end = segments
        .bytes()
        .position(|byte| byte == b'/')
        .unwrap_or(segments.len());
    &segments[..end]
}

/// The answer to a request no listed path matches; `HEAD` as `GET` without the body.
fn answer(request: Request, state: AppState, peer: Option<SocketAddr>) -> UnlistedAnswer {
    let head = request.method() == Method::HEAD;
    let answer = unlisted(request, state, peer);
    if head {
        Either::Right(Box::pin(without_body(answer)))
    } else {
        answer
    }
}

/// The seed route's answer when the path has its shape, else the 404 or 405 problem.
fn unlisted(request: Request, state: AppState, peer: Option<SocketAddr>) -> UnlistedAnswer {
    let Some(template) = seed_template(request.uri().path()) else {
        return Either::Right(Handler::call(not_found, request, state));
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return Either::Right(Handler::call(seed_method_not_allowed, request, state));
    }
    // Each template's documented operation (both read the path the same way: utoipa documents
    // a function, and each template is its own operation).
    let read = match template {
        SYMBOL => seed::symbol_prices,
        _ => seed::symbol_days_prices,
    };
    Either::Left(Handler::call(
        Observed::new(SeedRead { read, peer }, template),
        request,
        state,
    ))
}

/// A seed read ([`seed::symbol_prices`], [`seed::symbol_days_prices`]) from `peer` as a
/// handler: its extraction is its own (see `seed`).
#[derive(Debug, Clone, Copy)]
struct SeedRead {
    read: fn(Request, AppState, Option<SocketAddr>) -> seed::SeedAnswer,
    peer: Option<SocketAddr>,
}

impl Handler<(), AppState> for SeedRead {
    type Future = seed::SeedAnswer;

    fn call(self, request: Request, state: AppState) -> Self::Future {
        (self.read)(request, state, self.peer)
    }
}

/// The answer to `HEAD`: `GET`'s, its length declared and its body dropped, as axum answers
/// `HEAD` on a listed route (it leaves a fallback service's answers as they are; on the wire
/// hyper drops the body too, this keeps the router's own answer the same).
async fn without_body(answer: impl Future<Output = Response>) -> Response {
    let mut response = answer.await;
    if !response.headers().contains_key(CONTENT_LENGTH)
        && let Some(length) = http_body::Body::size_hint(response.body()).exact()
    {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    *response.body_mut() = Body::empty();
    response
}

const SYMBOL: &str = "/{symbol}";
const SYMBOL_DAYS: &str = "/{symbol}/{days}";

/// The seed template `path` has the shape of, if any: the shapes axum's matcher gave those
/// templates, one non-empty segment, or two whose second is not empty (an empty symbol is the
/// handler's 400).
fn seed_template(path: &str) -> Option<&'static str> {
    let segments = path.strip_prefix('/')?.as_bytes();
    match segments.iter().position(|&byte| byte == b'/') {
        None if !segments.is_empty() => Some(SYMBOL),
        Some(at) => {
            let days = &segments[at + 1..];
            (!days.is_empty() && !days.contains(&b'/')).then_some(SYMBOL_DAYS)
        }
        None => None,
    }
}

/// A seed path asked with a method other than `GET` or `HEAD`: 405 with `Allow`, as a listed
/// `GET` route answers.
async fn seed_method_not_allowed(request: Request) -> Response {
    let mut response = method_not_allowed(request).await;
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET,HEAD"));
    response
}

async fn not_found(request: Request) -> Response {
    let problem = error::problem_response(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "no such route; see /docs for the API".into(),
        None,
    );
    observe::unmatched(&request, problem)
}

/// A listed path asked with a method it does not answer (the router's
/// `method_not_allowed_fallback`).
pub(super) async fn method_not_allowed(request: Request) -> Response {
    let problem = error::problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not answer that method; see /docs for the API".into(),
        None,
    );
    observe::unmatched(&request, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_segments_are_what_precedes_the_second_slash() {
        assert_eq!(first_segment("/"), "");
        assert_eq!(first_segment("/MSFT"), "MSFT");
        assert_eq!(first_segment("/MSFT/7"), "MSFT");
        assert_eq!(first_segment("//7"), "");
        assert_eq!(first_segment("/v1/stocks/{symbol}/daily"), "v1");
        assert_eq!(first_segment("/app/{*path}"), "app");
    }

    #[test]
    fn listed_first_segments_are_distinct_and_a_parameter_in_one_matches_anything() {
        let listed = [
            "/",
            "/v1/daily",
            "/v1/stocks/{symbol}/quote",
            "/health",
            "/v1/me",
        ];
        assert_eq!(first_segments(&listed), Some(vec!["", "health", "v1"]));
        assert_eq!(first_segments(&["/health", "/{symbol}/news"]), None);
        assert_eq!(first_segments(&["/files-{name}"]), None);
    }
}
