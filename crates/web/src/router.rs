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
//! ([`fallback`]): they are the catch-all shapes at the root, so every listed path is tried
//! first, as axum's matcher tried static segments before parameters. Listed as templates, each
//! cached read paid axum's path parameters (two percent-decoded segments, two `Arc<str>`
//! names and an extension: ~1,300 of its ~19,000 instructions) for values the seed handler
//! reads from the path itself. [`Routes`] is what the server calls: the router, and the
//! fallback's answer for the paths the router could only hand to it.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{self, MethodRouter};

use crate::features::{self, Feature, Features};
use crate::observe::Observed;
use crate::routes::{
    accounts, admin, alerts, channels, history, indicators, ingest, news, notifications, ops, seed,
    sentiment, signals, signup, stocks, stream, symbols, system, watchlist,
};
use crate::{AppState, CorsOrigins, app, docs, mcp};

mod fallback;

pub(crate) use fallback::{UnlistedAnswer, UnlistedPaths};

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

/// The router as it is listed, and the paths listed in it so far.
struct Listing {
    router: Router<AppState>,
    paths: Vec<&'static str>,
    features: Features,
}

impl Listing {
    fn new(features: Features) -> Self {
        Self {
            router: Router::new(),
            paths: Vec::new(),
            features,
        }
    }

    /// [`Router::route`] for [`Methods`].
    fn at(mut self, path: &'static str, methods: Methods) -> Self {
        self.router = self.router.route(path, methods.at(path));
        self.paths.push(path);
        self
    }

    /// The group's paths as given when `feature` is on, else each answering "disabled".
    fn gated(self, feature: Feature, off: Off, paths: Paths) -> Self {
        let enabled = self.features.is_enabled(feature);
        paths.into_iter().fold(self, |listing, (path, route)| {
            let route = match (enabled, off) {
                (true, _) => route,
                (false, Off::Get) => {
                    get(move || async move { features::disabled_response(feature) })
                }
                (false, Off::Any) => {
                    any(move || async move { features::disabled_response(feature) })
                }
            };
            listing.at(path, route)
        })
    }
}

/// Every URL stockd serves, as the server calls it: the [`router`], and the paths no listed
/// path can match, which the server hands to the router's fallback itself (see [`fallback`]).
#[derive(Debug, Clone)]
pub struct Routes {
    router: Router,
    unlisted: Option<UnlistedPaths>,
}

impl Routes {
    /// Every request through `router` (a router that is not [`routes`]'s, or one with a layer
    /// that must see every request, such as CORS); outside this module, `Routes::from`.
    fn through(router: Router) -> Self {
        Self {
            router,
            unlisted: None,
        }
    }

    /// The router itself.
    pub(crate) fn router(&self) -> &Router {
        &self.router
    }

    /// These routes answering cross-origin requests from `origins`: with an allow-list, every
    /// request goes through the router, which the CORS layer wraps.
    pub fn with_cors(self, origins: &CorsOrigins) -> Self {
        match origins {
            CorsOrigins::Off => self,
            _ => Self::through(crate::cors::with_cors(self.router, origins)),
        }
    }

    /// The paths the router's fallback answers without it, when known.
    pub(crate) fn unlisted(&self) -> Option<&UnlistedPaths> {
        self.unlisted.as_ref()
    }
}

impl From<Router> for Routes {
    fn from(router: Router) -> Self {
        Self::through(router)
    }
}

/// Every URL stockd serves, as a router.
pub fn router(state: AppState) -> Router {
    listing(state).0
}

/// Every URL stockd serves, as the server calls it (see [`Routes`]).
pub fn routes(state: AppState) -> Routes {
    let (router, paths) = listing(state.clone());
    Routes {
        router,
        unlisted: UnlistedPaths::new(state, &paths),
    }
}

/// The router of every URL stockd serves, and the paths it lists.
fn listing(state: AppState) -> (Router, Vec<&'static str>) {
    let listing = Listing::new(state.config().features.clone())
        // The seed-compatible routes: `/`, and `/{symbol}` and `/{symbol}/{days}` in the
        // fallback (see the module documentation).
        .at("/", get(seed::default_prices))
        // The dashboard (a browser opening `/` is sent there).
        .at("/app", get(app::app_root_redirect))
        .at("/app/", get(app::app_index))
        .at("/app/{*path}", get(app::app_path))
        // Market data.
        .gated(
            Feature::DailyApi,
            Off::Get,
            vec![("/v1/stocks/{symbol}/daily", get(stocks::daily_bars))],
        )
        .gated(
            Feature::Quotes,
            Off::Get,
            vec![("/v1/stocks/{symbol}/quote", get(stocks::latest_quote))],
        )
        .gated(
            Feature::HistoryEod,
            Off::Get,
            vec![("/v1/stocks/{symbol}/eod", get(history::end_of_day))],
        )
        .gated(
            Feature::HistoryDelta,
            Off::Get,
            vec![("/v1/stocks/{symbol}/delta", get(history::price_delta))],
        )
        .gated(
            Feature::MultiDaily,
            Off::Get,
            vec![("/v1/daily", get(history::multi_daily))],
        )
        .gated(
            Feature::Indicators,
            Off::Get,
            vec![
                (
                    "/v1/stocks/{symbol}/indicators",
                    get(indicators::symbol_indicators),
                ),
                ("/v1/indicators", get(indicators::list_indicators)),
            ],
        )
        .gated(
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
        )
        .gated(
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
        )
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
        .gated(
            Feature::Stream,
            Off::Get,
            vec![("/v1/stream", get(stream::open_stream))],
        )
        .gated(
            Feature::IngestApi,
            Off::Get,
            vec![("/v1/ingest/jobs", get(ingest::list_jobs))],
        )
        .gated(
            Feature::ApiDocs,
            Off::Get,
            vec![
                ("/docs", get(docs::docs_page)),
                ("/docs/scalar.js", get(docs::scalar_js)),
                ("/openapi.json", get(ops::openapi)),
            ],
        )
        // Accounts.
        .gated(
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
        )
        // Alerts and their notifications.
        .gated(
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
        )
        // The Model Context Protocol server (streamable HTTP): POST carries the JSON-RPC
        // messages; GET and DELETE answer as the transport says (no sessions are kept).
        .gated(
            Feature::Mcp,
            Off::Any,
            vec![("/mcp", any(mcp::mcp_endpoint))],
        );
    let router = listing
        .router
        // As a service with its state, so a request does not box the handler anew (as
        // `fallback(handler)` does, on every call of its method router's fallback).
        .fallback_service(fallback::SeedRoutes.with_state(state.clone()))
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .with_state(state);
    (router, listing.paths)
}
