//! The one router: every path stockd serves, in one list. A path behind a feature flag sits in
//! its [`Feature`]'s group; with the flag off, each path of the group answers 404
//! `feature-disabled` (so it never falls through to another route, such as `/{symbol}/{days}`),
//! decided once when the router is built. Route modules hold handlers only; none of them lists
//! paths or imports another route module's routes.
//!
//! Every handler is added through [`Methods`], which wraps it in [`Observed`]: the request id,
//! metrics and security headers are part of listing a path, not a layer to remember, and the
//! path's template, known here, is the metrics' `route` label (so no request needs axum's
//! `MatchedPath`).
//!
//! The seed routes `/{symbol}` and `/{symbol}/{days}` are the router's fallback
//! ([`SeedRoutes`]): they are the catch-all shapes at the root, so every listed path is tried
//! first, as axum's matcher tried static segments before parameters. Listed as templates, each
//! cached read paid axum's path parameters (two percent-decoded segments, two `Arc<str>`
//! names and an extension: ~1,300 of its ~19,000 instructions) for values the seed handler
//! reads from the path itself.

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{self, MethodRouter};
use futures_util::future::Either;

use crate::features::{self, Feature, Features};
use crate::observe::{self, ObserveFuture, Observed};
use crate::routes::{
    accounts, admin, alerts, channels, history, indicators, ingest, news, notifications, ops, seed,
    sentiment, signals, signup, stocks, stream, symbols, system, watchlist,
};
use crate::{AppState, app, docs, error, mcp};

/// Which methods a disabled group still answers with "disabled" (the others fall to 405, as a
/// route of other methods would).
#[derive(Debug, Clone, Copy)]
enum Off {
    /// Only `GET` (the read endpoints, the docs).
    Get,
    /// Every method (the accounts and alerts APIs).
    Any,
}

type Paths = Vec<(&'static str, Methods)>;

/// Makes one method's observed route, given the router of the path so far and its template.
type AddMethod = Box<dyn FnOnce(MethodRouter<AppState>, &'static str) -> MethodRouter<AppState>>;

/// The handlers of one path, each wrapped in [`Observed`] (request id, metrics, security
/// headers, and the path's template as the `route` label) when the path is added. Paths take
/// this type rather than axum's `MethodRouter`, so a handler cannot be listed without its
/// observation.
struct Methods(Vec<AddMethod>);

impl Methods {
    fn with(
        mut self,
        add: impl FnOnce(MethodRouter<AppState>, &'static str) -> MethodRouter<AppState> + 'static,
    ) -> Self {
        self.0.push(Box::new(add));
        self
    }

    /// The method router of `route`, every handler observed under its template.
    fn at(self, route: &'static str) -> MethodRouter<AppState> {
        self.0
            .into_iter()
            .fold(MethodRouter::new(), |router, add| add(router, route))
    }
}

// A function per method a path starts with (and `any`), a chained method per method it adds:
// the ones the list below uses; a path needing another adds it here (axum's name, observed).
macro_rules! observed_methods {
    (paths: $($path_method:ident),*; chained: $($chained:ident),*) => {
        $(
            /// A path answering this method with `handler`, observed.
            fn $path_method<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
                Methods(Vec::new()).$path_method(handler)
            }
        )*

        impl Methods {
            $(
                /// This path also answers the method with `handler`, observed.
                fn $chained<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Self {
                    self.with(move |router, route| router.$chained(Observed::new(handler, route)))
                }
            )*
        }
    };
}

observed_methods!(
    paths: get, post, put, delete;
    chained: get, post, put, patch, delete
);

/// A path answering every method with `handler`, observed.
fn any<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
    Methods(Vec::new()).with(move |_, route| routing::any(Observed::new(handler, route)))
}

/// [`Router::route`] for [`Methods`].
trait RouteObserved {
    fn at(self, path: &'static str, methods: Methods) -> Self;
}

impl RouteObserved for Router<AppState> {
    fn at(self, path: &'static str, methods: Methods) -> Self {
        self.route(path, methods.at(path))
    }
}

/// The group's paths as given when `feature` is on, else each answering "disabled".
fn group(features: &Features, feature: Feature, off: Off, paths: Paths) -> Router<AppState> {
    let enabled = features.is_enabled(feature);
    paths
        .into_iter()
        .fold(Router::new(), |router, (path, route)| {
            let route = match (enabled, off) {
                (true, _) => route,
                (false, Off::Get) => {
                    get(move || async move { features::disabled_response(feature) })
                }
                (false, Off::Any) => {
                    any(move || async move { features::disabled_response(feature) })
                }
            };
            router.at(path, route)
        })
}

/// Every URL stockd serves.
pub fn router(state: AppState) -> Router {
    let features = state.config().features.clone();
    let gated = |feature, off, paths| group(&features, feature, off, paths);
    Router::new()
        // The seed-compatible routes: `/`, and `/{symbol}` and `/{symbol}/{days}` in the
        // fallback (see the module documentation).
        .at("/", get(seed::default_prices))
        // The dashboard (a browser opening `/` is sent there).
        .at("/app", get(app::app_root_redirect))
        .at("/app/", get(app::app_index))
        .at("/app/{*path}", get(app::app_path))
        // Market data.
        .merge(gated(
            Feature::DailyApi,
            Off::Get,
            vec![("/v1/stocks/{symbol}/daily", get(stocks::daily_bars))],
        ))
        .merge(gated(
            Feature::Quotes,
            Off::Get,
            vec![("/v1/stocks/{symbol}/quote", get(stocks::latest_quote))],
        ))
        .merge(gated(
            Feature::HistoryEod,
            Off::Get,
            vec![("/v1/stocks/{symbol}/eod", get(history::end_of_day))],
        ))
        .merge(gated(
            Feature::HistoryDelta,
            Off::Get,
            vec![("/v1/stocks/{symbol}/delta", get(history::price_delta))],
        ))
        .merge(gated(
            Feature::MultiDaily,
            Off::Get,
            vec![("/v1/daily", get(history::multi_daily))],
        ))
        .merge(gated(
            Feature::Indicators,
            Off::Get,
            vec![
                (
                    "/v1/stocks/{symbol}/indicators",
                    get(indicators::symbol_indicators),
                ),
                ("/v1/indicators", get(indicators::list_indicators)),
            ],
        ))
        .merge(gated(
            Feature::Signals,
            Off::Get,
            vec![
                ("/v1/stocks/{symbol}/signal", get(signals::latest_signal)),
                (
                    "/v1/stocks/{symbol}/signal/history",
                    get(signals::signal_history),
                ),
                (
                    "/v1/stocks/{symbol}/signal/evaluation",
                    get(signals::signal_evaluation),
                ),
            ],
        ))
        .merge(gated(
            Feature::News,
            Off::Get,
            vec![
                ("/v1/stocks/{symbol}/news", get(news::symbol_news)),
                ("/v1/news", get(news::search_news)),
                (
                    "/v1/stocks/{symbol}/sentiment",
                    get(sentiment::symbol_sentiment),
                ),
            ],
        ))
        // Tracked symbols and operations.
        .at("/v1/features", get(features::list_features))
        .at("/v1/symbols", get(symbols::list_symbols))
        .at(
            "/v1/symbols/{symbol}",
            put(symbols::track_symbol).delete(symbols::untrack_symbol),
        )
        .at("/health", get(ops::health))
        .at("/ready", get(ops::ready))
        .at("/metrics", get(ops::metrics))
        .at("/circuit-breaker", get(ops::circuit_breakers))
        .at("/v1/providers", get(ops::list_providers))
        .at("/v1/system/instances", get(system::list_instances))
        // Live updates.
        .merge(gated(
            Feature::Stream,
            Off::Get,
            vec![("/v1/stream", get(stream::open_stream))],
        ))
        .merge(gated(
            Feature::IngestApi,
            Off::Get,
            vec![("/v1/ingest/jobs", get(ingest::list_jobs))],
        ))
        .merge(gated(
            Feature::ApiDocs,
            Off::Get,
            vec![
                ("/docs", get(docs::docs_page)),
                ("/docs/scalar.js", get(docs::scalar_js)),
                ("/openapi.json", get(ops::openapi)),
            ],
        ))
        // Accounts.
        .merge(gated(
            Feature::Accounts,
            Off::Any,
            vec![
                ("/v1/auth/register", post(signup::register)),
                ("/v1/auth/login", post(accounts::login)),
                ("/v1/auth/logout", post(accounts::logout)),
                (
                    "/v1/me",
                    get(accounts::me)
                        .patch(accounts::update_me)
                        .delete(accounts::delete_me),
                ),
                (
                    "/v1/me/tokens",
                    get(accounts::list_tokens).post(accounts::create_token),
                ),
                ("/v1/me/tokens/{id}", delete(accounts::delete_token)),
                ("/v1/me/watchlist", get(watchlist::list_watchlist)),
                (
                    "/v1/me/watchlist/{symbol}",
                    put(watchlist::watch_symbol).delete(watchlist::unwatch_symbol),
                ),
                (
                    "/v1/me/channels",
                    get(channels::list_channels).post(channels::create_channel),
                ),
                (
                    "/v1/me/channels/{id}",
                    get(channels::get_channel)
                        .put(channels::replace_channel)
                        .delete(channels::delete_channel),
                ),
                ("/v1/me/channels/{id}/test", post(channels::test_channel)),
                ("/v1/admin/users", post(admin::create_user)),
                (
                    "/v1/admin/invites",
                    get(admin::list_invites).post(admin::create_invite),
                ),
                ("/v1/admin/invites/{id}", delete(admin::delete_invite)),
            ],
        ))
        // Alerts and their notifications.
        .merge(gated(
            Feature::Alerts,
            Off::Any,
            vec![
                (
                    "/v1/alerts",
                    get(alerts::list_rules).post(alerts::create_rule),
                ),
                ("/v1/alerts/backtest", post(alerts::backtest_body)),
                ("/v1/alerts/events", get(alerts::list_events)),
                (
                    "/v1/alerts/events/{event_id}/acknowledge",
                    post(alerts::acknowledge_event),
                ),
                (
                    "/v1/alerts/{id}",
                    get(alerts::get_rule)
                        .put(alerts::replace_rule)
                        .delete(alerts::delete_rule),
                ),
                ("/v1/alerts/{id}/pause", post(alerts::pause_rule)),
                ("/v1/alerts/{id}/resume", post(alerts::resume_rule)),
                (
                    "/v1/alerts/{id}/acknowledge",
                    post(alerts::acknowledge_rule),
                ),
                ("/v1/alerts/{id}/backtest", post(alerts::backtest_stored)),
                ("/v1/notifications", get(notifications::list_notifications)),
                (
                    "/v1/notifications/{id}/attempts",
                    get(notifications::list_attempts),
                ),
            ],
        ))
        // The Model Context Protocol server (streamable HTTP): POST carries the JSON-RPC
        // messages; GET and DELETE answer as the transport says (no sessions are kept).
        .merge(gated(
            Feature::Mcp,
            Off::Any,
            vec![("/mcp", any(mcp::mcp_endpoint))],
        ))
        // As a service with its state, so a request does not box the handler anew (as
        // `fallback(handler)` does, on every call of its method router's fallback).
        .fallback_service(SeedRoutes.with_state(state.clone()))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// What no listed path matched: `/{symbol}` or `/{symbol}/{days}` when the path has that
/// shape, else 404. The shapes are the ones axum's matcher gave those templates: one
/// non-empty segment, or two whose second is not empty (an empty symbol is the handler's 400).
#[derive(Debug, Clone, Copy)]
struct SeedRoutes;

/// A handler's boxed answer (axum boxes every function handler's future, and so does a seed
/// read).
type BoxedAnswer = seed::SeedAnswer;

impl Handler<(), AppState> for SeedRoutes {
    type Future = Either<ObserveFuture<BoxedAnswer>, BoxedAnswer>;

    fn call(self, request: Request, state: AppState) -> Self::Future {
        let head = request.method() == Method::HEAD;
        let answer = unlisted(request, state);
        if head {
            Either::Right(Box::pin(without_body(answer)))
        } else {
            answer
        }
    }
}

/// The answer to a request no listed path matched: the seed route's when the path has its
/// shape, else the 404 or 405 problem.
fn unlisted(request: Request, state: AppState) -> <SeedRoutes as Handler<(), AppState>>::Future {
    let Some(template) = seed_template(request.uri().path()) else {
        return Either::Right(Handler::call(not_found, request, state));
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return Either::Right(Handler::call(seed_method_not_allowed, request, state));
    }
    // Each template's documented operation (both read the path the same way).
    let read = match template {
        SYMBOL => SeedRead(seed::symbol_prices),
        _ => SeedRead(seed::symbol_days_prices),
    };
    Either::Left(Handler::call(Observed::new(read, template), request, state))
}

/// A seed read ([`seed::symbol_prices`], [`seed::symbol_days_prices`]) as a handler: its
/// extraction is its own (see `seed`).
#[derive(Debug, Clone, Copy)]
struct SeedRead(fn(Request, AppState) -> seed::SeedAnswer);

impl Handler<(), AppState> for SeedRead {
    type Future = seed::SeedAnswer;

    fn call(self, request: Request, state: AppState) -> Self::Future {
        (self.0)(request, state)
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

/// The seed template `path` has the shape of, if any.
fn seed_template(path: &str) -> Option<&'static str> {
    // Bytes: a `/` is one byte, and a byte search is cheaper than a `char` pattern's.
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

async fn method_not_allowed(request: Request) -> Response {
    let problem = error::problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not answer that method; see /docs for the API".into(),
        None,
    );
    observe::unmatched(&request, problem)
}
