//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::error::Problem;
use crate::routes::{
    accounts, admin, alerts, channels, history, ingest, notifications, ops, seed, signup, stocks,
    symbols, watchlist,
};

/// stockd's API description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "stockd",
        description = "Self-hosted stock market data: daily prices with averages, OHLCV history and \
                       latest quotes, with provenance on every series. Errors are RFC 9457 \
                       problem+json documents whose `detail` says what to fix.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        seed::default_prices,
        seed::symbol_prices,
        seed::symbol_days_prices,
        stocks::daily_bars,
        stocks::latest_quote,
        history::end_of_day,
        history::price_delta,
        history::multi_daily,
        ops::health,
        ops::ready,
        ops::metrics,
        ops::circuit_breakers,
        ops::list_providers,
        crate::features::list_features,
        symbols::list_symbols,
        symbols::track_symbol,
        symbols::untrack_symbol,
        ingest::list_jobs,
        signup::register,
        accounts::login,
        accounts::logout,
        accounts::me,
        accounts::update_me,
        accounts::delete_me,
        accounts::create_token,
        accounts::list_tokens,
        accounts::delete_token,
        admin::create_user,
        admin::create_invite,
        admin::list_invites,
        admin::delete_invite,
        watchlist::list_watchlist,
        watchlist::watch_symbol,
        watchlist::unwatch_symbol,
        channels::create_channel,
        channels::list_channels,
        channels::get_channel,
        channels::replace_channel,
        channels::delete_channel,
        alerts::create_rule,
        alerts::list_rules,
        alerts::get_rule,
        alerts::replace_rule,
        alerts::delete_rule,
        alerts::pause_rule,
        alerts::resume_rule,
        alerts::acknowledge_rule,
        alerts::acknowledge_event,
        alerts::list_events,
        alerts::backtest_body,
        alerts::backtest_stored,
        notifications::list_notifications,
        notifications::list_attempts,
    ),
    components(schemas(
        Problem,
        seed::PricesResponse,
        seed::ClosePrice,
        stocks::DailyResponse,
        stocks::BarResponse,
        stocks::QuoteResponse,
        history::EodResponse,
        history::DeltaResponse,
        history::MultiDailyResponse,
        history::SymbolError,
        history::MultiDailyProblem,
        ops::HealthResponse,
        ops::BreakersResponse,
        ops::ProvidersResponse,
        ops::ProviderResponse,
        ops::CapabilityPosition,
        ops::QuotaResponse,
        ops::QuotaWindowResponse,
        ops::PauseResponse,
        crate::features::FeaturesResponse,
        symbols::TrackedSymbolResponse,
        symbols::TrackedSymbolsResponse,
        crate::features::FeatureState,
        ingest::JobsResponse,
        ingest::JobResponse,
        ingest::JobCountsResponse,
        accounts::UserResponse,
        signup::RegisterRequest,
        accounts::LoginRequest,
        accounts::LoginResponse,
        accounts::UpdateMeRequest,
        accounts::CreateTokenRequest,
        accounts::TokenResponse,
        accounts::TokensResponse,
        admin::CreateUserRequest,
        admin::CreateInviteRequest,
        admin::InviteResponse,
        admin::InvitesResponse,
        watchlist::WatchedSymbolResponse,
        watchlist::WatchlistResponse,
        channels::ChannelRequest,
        channels::ChannelResponse,
        channels::ChannelsResponse,
        alerts::RuleBody,
        alerts::RuleResponse,
        alerts::RuleStateResponse,
        alerts::RulesResponse,
        alerts::EventResponse,
        alerts::EventsResponse,
        alerts::AcknowledgedResponse,
        alerts::BacktestResponse,
        alerts::FireResponse,
        notifications::NotificationResponse,
        notifications::NotificationsResponse,
        notifications::AttemptResponse,
        notifications::AttemptsResponse,
    )),
    modifiers(&AdminTokenScheme),
    tags(
        (name = "prices", description = "Seed-compatible N-day closing prices with their average"),
        (name = "stocks", description = "Daily bars and quotes with provenance"),
        (name = "history", description = "End-of-day lookups, changes over a range, several symbols at once"),
        (name = "symbols", description = "The tracked symbols that ingestion keeps fresh"),
        (name = "ingestion", description = "The ingestion job queue: scheduled runs, backfills, archives"),
        (name = "accounts", description = "Users and auth: registration, sessions, API tokens, the caller's watchlist and notification channels"),
        (name = "admin", description = "Making users and invitation codes for invite-only sign-up (an admin user's token or the operator's admin token)"),
        (name = "alerts", description = "Price alert rules, their firings, dry runs over stored history, and the delivery log of their notifications"),
        (name = "operations", description = "Health, readiness, metrics, circuit breakers and providers"),
    )
)]
pub struct ApiDoc;

/// The document as JSON text.
pub fn document_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|err| {
        format!(r#"{{"error":"could not render the OpenAPI document: {err}"}}"#)
    })
}

/// Declares the admin bearer token used by the symbol-changing routes.
struct AdminTokenScheme;

impl utoipa::Modify for AdminTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // A user's session token (`POST /v1/auth/login`) or personal API token.
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}
