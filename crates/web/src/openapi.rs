//! The OpenAPI 3.1 document, generated from the handlers' annotations.

mod edge;

use utoipa::OpenApi;

use crate::error::Problem;
use crate::routes::{
    accounts, admin, alerts, channels, history, indicators, ingest, news, notifications, ops, seed,
    sentiment, signals, signup, stocks, stream, symbols, system, watchlist,
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
        indicators::symbol_indicators,
        indicators::list_indicators,
        signals::latest_signal,
        signals::signal_history,
        signals::signal_evaluation,
        news::symbol_news,
        news::search_news,
        sentiment::symbol_sentiment,
        ops::health,
        ops::ready,
        ops::metrics,
        ops::circuit_breakers,
        ops::list_providers,
        crate::features::list_features,
        crate::mcp::mcp_endpoint,
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
        channels::test_channel,
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
        stream::open_stream,
        system::list_instances,
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
        indicators::IndicatorsResponse,
        indicators::SeriesColumn,
        indicators::CatalogueResponse,
        indicators::IndicatorInfoResponse,
        indicators::ParamResponse,
        indicators::IndicatorProblem,
        news::ArticleResponse,
        news::NewsResponse,
        sentiment::ScorerResponse,
        sentiment::SourceSentimentResponse,
        sentiment::CitationResponse,
        sentiment::PendingResponse,
        sentiment::SentimentDayResponse,
        sentiment::SentimentResponse,
        signals::ProvenanceResponse,
        signals::ComponentResponse,
        signals::SignalResponse,
        signals::SignalDayResponse,
        signals::SignalHistoryResponse,
        signals::BuyAndHoldResponse,
        signals::LabelHorizonResponse,
        signals::LabelEvaluationResponse,
        signals::EvaluationResponse,
        ops::HealthResponse,
        ops::BreakersResponse,
        ops::ProvidersResponse,
        ops::ProviderResponse,
        ops::SentimentBudgetResponse,
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
        channels::ChannelTestResponse,
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
        system::InstanceResponse,
        system::InstancesResponse,
    )),
    modifiers(&AdminTokenScheme),
    tags(
        (name = "prices", description = "Seed-compatible N-day closing prices with their average"),
        (name = "stocks", description = "Daily bars and quotes with provenance"),
        (name = "history", description = "End-of-day lookups, changes over a range, several symbols at once"),
        (name = "indicators", description = "Technical indicators (SMA, EMA, RSI, MACD, Bollinger Bands, …) over a symbol's whole daily history, as date-aligned columns"),
        (name = "signals", description = "Composite trading signals (trend, momentum, mean reversion, volatility) with their evidence, their history, and how their labels did"),
        (name = "news", description = "Stored news articles, their full-text search, and daily news sentiment with the citations behind every number"),
        (name = "symbols", description = "The tracked symbols that ingestion keeps fresh"),
        (name = "ingestion", description = "The ingestion job queue: scheduled runs, backfills, archives"),
        (name = "accounts", description = "Users and auth: registration, sessions, API tokens, the caller's watchlist and notification channels"),
        (name = "admin", description = "Making users and invitation codes for invite-only sign-up (an admin user's token or the operator's admin token)"),
        (name = "alerts", description = "Price alert rules, their firings, dry runs over stored history, and the delivery log of their notifications"),
        (name = "live", description = "Live updates as Server-Sent Events: quotes, the caller's alerts and notifications, signal label changes"),
        (name = "mcp", description = "The Model Context Protocol server for AI agents (streamable HTTP): the same market data, watchlist, alerts and notifications as tools, resources and prompts, with a personal API token"),
        (name = "operations", description = "Health, readiness, metrics, circuit breakers, providers and the running instances"),
    )
)]
pub struct ApiDoc;

/// The document, completed with what the HTTP layer answers whatever the handler (see
/// [`edge`]) and this deployment's largest `days`.
pub fn document(max_days: u32) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    edge::complete(&mut doc, max_days);
    doc
}

/// The document as JSON text.
pub fn document_json(max_days: u32) -> String {
    document(max_days).to_pretty_json().unwrap_or_else(|err| {
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::document;

    fn doc(max_days: u32) -> Value {
        serde_json::to_value(document(max_days)).unwrap()
    }

    fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no parameters"))
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
    }

    /// The constraints the server enforces stay in the document: losing one lets clients (and
    /// `scripts/api-contract.sh`) send what the server refuses.
    #[test]
    fn the_document_states_the_constraints_the_server_enforces() {
        let doc = doc(5000);
        let symbol = "^[A-Za-z0-9.^=-]{1,15}$";
        for (path, method) in [
            ("/{symbol}", "get"),
            ("/{symbol}/{days}", "get"),
            ("/v1/stocks/{symbol}/daily", "get"),
            ("/v1/stocks/{symbol}/quote", "get"),
            ("/v1/stocks/{symbol}/eod", "get"),
            ("/v1/stocks/{symbol}/delta", "get"),
            ("/v1/symbols/{symbol}", "put"),
            ("/v1/me/watchlist/{symbol}", "put"),
        ] {
            let schema = &parameter(&doc, path, method, "symbol")["schema"];
            assert_eq!(schema["pattern"], symbol, "{method} {path}");
        }
        let symbols = &parameter(&doc, "/v1/daily", "get", "symbols")["schema"];
        assert_eq!(
            symbols["pattern"],
            format!("^{0}(,{0}){{0,19}}$", &symbol[1..symbol.len() - 1]),
            "1 to 20 symbols"
        );
        for (path, name) in [
            ("/{symbol}/{days}", "days"),
            ("/v1/stocks/{symbol}/daily", "days"),
            ("/v1/stocks/{symbol}/daily", "limit"),
            ("/v1/daily", "days"),
        ] {
            let schema = &parameter(&doc, path, "get", name)["schema"];
            assert_eq!(schema["maximum"], 5000, "{name} of {path}");
            assert_eq!(schema["minimum"], 1, "{name} of {path}");
        }
        let narrow = super::tests::doc(250);
        let days = &parameter(&narrow, "/{symbol}/{days}", "get", "days")["schema"];
        assert_eq!(days["maximum"], 250, "the configured max_days");
        let sentiment = &parameter(&doc, "/v1/stocks/{symbol}/sentiment", "get", "days")["schema"];
        assert_eq!(
            sentiment["maximum"], 90,
            "the sentiment's own bound is kept"
        );
        let news_symbols = &parameter(&doc, "/v1/news", "get", "symbols")["schema"];
        assert_eq!(
            news_symbols["pattern"], symbols["pattern"],
            "1 to 20 symbols"
        );
        for path in [
            "/v1/alerts",
            "/v1/me/channels",
            "/v1/me/tokens",
            "/v1/notifications",
        ] {
            let limit = &parameter(&doc, path, "get", "limit")["schema"];
            assert_eq!(limit["maximum"], 1000, "limit of {path}");
        }
        let status = &parameter(&doc, "/v1/ingest/jobs", "get", "status")["schema"];
        assert_eq!(
            status["enum"],
            serde_json::json!(["queued", "running", "succeeded", "failed"])
        );

        let schemas = &doc["components"]["schemas"];
        for body in [
            "RuleBody",
            "RegisterRequest",
            "LoginRequest",
            "UpdateMeRequest",
            "CreateTokenRequest",
            "CreateUserRequest",
            "CreateInviteRequest",
        ] {
            assert_eq!(
                schemas[body]["additionalProperties"], false,
                "{body} refuses unknown fields"
            );
        }
        for body in ["RegisterRequest", "CreateUserRequest"] {
            let password = &schemas[body]["properties"]["password"];
            assert_eq!(password["minLength"], 10, "{body}");
            assert_eq!(password["maxLength"], 128, "{body}");
        }
        for variant in schemas["ChannelRequest"]["oneOf"].as_array().unwrap() {
            assert_eq!(variant["additionalProperties"], false, "{variant}");
        }
        // The response embedding a rule's fields does not inherit the body's refusal.
        let rule = serde_json::to_string(&schemas["RuleResponse"]).unwrap();
        assert!(!rule.contains("additionalProperties"), "{rule}");
    }

    /// Every JSON body can be refused as malformed (400), too slow (408), not JSON (415) or of
    /// the wrong shape (422), whatever the handler's own annotation says.
    #[test]
    fn every_json_body_documents_the_extractors_answers() {
        let doc = doc(5000);
        let mut bodies = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if operation["requestBody"].is_null() {
                    continue;
                }
                bodies += 1;
                for status in ["400", "408", "415", "422"] {
                    let response = &operation["responses"][status];
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} documents {status}"
                    );
                }
            }
        }
        assert!(bodies >= 10, "{bodies} operations with a body");
    }
}
