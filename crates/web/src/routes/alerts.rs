//! `/v1/alerts/…`: the caller's price and series alert rules (create, read, replace, delete, pause,
//! resume), their firings (events, acknowledged by the user) and the dry run (backtests over
//! stored daily history).
//!
//! The body of a rule is exactly [`alerts::Rule`] (tagged by `kind`), parsed and checked by
//! `service::alerts` (the fields a kind takes, their ranges, the caller's channels, a known
//! symbol); this module parses the request, calls the use case and renders the stored rule. A
//! rule the engine set aside is answered with `status: set_aside` and the engine's reason.

use alerts::{Rule, RuleState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Price, Symbol};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service::alerts::{Backtest, parse_rule, rule_id};
use store::StoredRule;
use utoipa::{IntoParams, ToSchema};

use super::page::{cut, time_key};
use super::window::parse_range;
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageQuery};

/// An alert rule as `POST /v1/alerts` takes it; which fields apply depends on `kind`, and a
/// field the kind does not take is refused (422 naming it). (The wire shape of `alerts::Rule`,
/// written out for the OpenAPI document.)
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"symbol": "MSFT", "kind": "crosses_up", "price": 420.0, "frequency": "once", "channels": ["0192f5c4-7d1e-7a10-9b8e-3f2a1c0d4e5f"]}))]
pub struct RuleBody {
    #[schema(example = "MSFT")]
    pub symbol: String,
    /// `above`, `below`, `crosses_up`, `crosses_down`, `crosses` (need `price`, or `series`
    /// with `value` or, crossing kinds, `other`);
    /// `moves_up_pct`, `moves_down_pct` (need `percent` and one of `window_days`, `window`,
    /// `vs_previous_close`); `trailing_stop` (needs `percent` or `amount`).
    #[schema(example = "crosses_up")]
    pub kind: String,
    /// The level of the price kinds; greater than 0, at most 100000000. Not with `series`.
    pub price: Option<f64>,
    /// Level kinds only: watch an indicator line of the symbol's daily bars instead of the
    /// price: `name:params.output` (`"rsi:14"`, `"sma:50"`, `"macd:12:26:9.histogram"`,
    /// `"bbands:20:2.upper"`; omitted parameters take their defaults, the output defaults to
    /// the first; an unknown name or parameter is refused listing every indicator with its
    /// ranges); `"signal"`, the day's composite signal score in [-1, 1] (as
    /// `GET /v1/stocks/{symbol}/signal` computes it); or `"sentiment"`, the trading session's
    /// relevance-weighted news sentiment in [-1, 1] (the signal's sentiment component; a
    /// session without scored news has no value and never fires). The two scores compare with
    /// a `value` in [-1, 1] or cross each other, never an indicator line. Indicators of
    /// closes (`sma`, `ema`, `wma`, `rsi`, `macd`, `bbands`, `roc`, `volatility`) update
    /// intraday: the live price is the session's provisional close. Indicators of highs, lows
    /// or volumes (`atr`, `stoch`, `obv`), `signal` and `sentiment` update only at end of
    /// day, when the session's bar is stored (seen on the next session's first quote). A
    /// backtest evaluates each bar once, at its close, and a crossing compares consecutive
    /// bars; warm-up bars never fire.
    #[schema(example = "rsi:14")]
    pub series: Option<String>,
    /// With `series`: the level in the series' own unit (may be negative, e.g. for a MACD
    /// histogram), between -100000000 and 100000000; between -1 and 1 for `"signal"` and
    /// `"sentiment"`.
    pub value: Option<f64>,
    /// With `series`, crossing kinds only: a second series to cross instead of `value`
    /// (`"series": "sma:50", "other": "sma:200"` with `crosses_up` is a golden cross).
    #[schema(example = "sma:200")]
    pub other: Option<String>,
    /// Moves and trailing stops: greater than 0, at most 1000 (below 100 for a fall).
    pub percent: Option<f64>,
    /// Moves: versus the close this many stored daily bars back (1 to 260).
    pub window_days: Option<u32>,
    /// Moves: versus the extreme within this duration (`"90m"`, `"2h"`; 1s to 7d).
    pub window: Option<String>,
    /// Moves: versus the previous stored daily bar's close.
    pub vs_previous_close: Option<bool>,
    /// Trailing stops: a fall (or rise, short side) by this amount instead of a percent;
    /// greater than 0, at most 100000000.
    pub amount: Option<f64>,
    /// Trailing stops: trailing starts once the price reaches this; greater than 0, at most
    /// 100000000.
    pub activation_price: Option<f64>,
    /// Trailing stops: `long` (default; tracks the peak) or `short` (tracks the trough).
    pub side: Option<String>,
    /// `once` (then disarmed; the default), `once_per_day` (NYSE trading days) or
    /// `every_time` (with `cooldown`).
    #[schema(example = "once")]
    pub frequency: Option<String>,
    /// Quiet time after a fire (`"15m"`; 1s to 366d); required for, and only for,
    /// `every_time`.
    pub cooldown: Option<String>,
    /// Ids of the caller's channels (`/v1/me/channels`) to notify (default: none).
    pub channels: Option<Vec<String>>,
    /// After this instant the rule never fires again; in the future, at most 10 years ahead.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a rule's evaluation has seen so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleStateResponse {
    /// False once a `once` rule fired or the rule expired (resume re-arms it).
    pub armed: bool,
    pub expired: bool,
    /// The price of the last tick that changed the state (a fire, a new trailing extreme).
    #[schema(value_type = Option<f64>)]
    pub last_price: Option<Price>,
    pub last_at: Option<DateTime<Utc>>,
    pub last_fired_at: Option<DateTime<Utc>>,
    pub fire_count: u64,
    /// `every_time` rules are quiet until then.
    pub cooldown_until: Option<DateTime<Utc>>,
    /// Trailing stops: whether the activation price has been reached.
    pub activated: bool,
    /// Trailing stops: the peak (long) or trough (short) since activation.
    #[schema(value_type = Option<f64>)]
    pub extreme: Option<Price>,
    /// Trailing stops: the price at which the stop would fire now.
    #[schema(value_type = Option<f64>)]
    pub trigger_level: Option<Price>,
}

/// A stored rule: its id, the definition's fields as given, its status and its live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    pub id: i64,
    /// The rule's fields exactly as `POST /v1/alerts` takes them (as stored).
    #[serde(flatten)]
    #[schema(value_type = RuleBody)]
    pub rule: Map<String, Value>,
    /// `active`, `paused`, `disarmed` (a `once` rule that fired), `expired`, or `set_aside`:
    /// the alert engine cannot evaluate it (see `error`) and leaves it alone until it is
    /// replaced (`PUT`), resumed or deleted.
    #[schema(value_type = String, example = "active")]
    pub status: &'static str,
    /// Why the rule is set aside, naming the field at fault and its allowed range where there
    /// is one (only with `status: set_aside`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "cooldown: must be between 1s and 366d (got 273790700years 9months 8days 9h 36m)"
    )]
    pub error: Option<String>,
    /// When the rule was set aside (only with `status: set_aside`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_aside_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `null` when the stored state cannot be read: the rule is then set aside (see `error`)
    /// until it is replaced, which starts it again from a fresh state.
    pub state: Option<RuleStateResponse>,
}

/// The caller's rules, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesResponse {
    pub alerts: Vec<RuleResponse>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// One firing of a rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub id: String,
    pub rule_id: i64,
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[schema(value_type = f64)]
    pub price: Price,
    /// The time of the quote that fired the rule.
    pub quote_at: DateTime<Utc>,
    #[schema(example = "MSFT crossed above 420.00 (now 421.30)")]
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// The caller's events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsResponse {
    pub events: Vec<EventResponse>,
    /// The `cursor` of the next (older) page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// How many events an acknowledgement marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgedResponse {
    pub acknowledged: u64,
}

/// `?from=&to=` of the backtests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BacktestQuery {
    /// First trading day to replay, `YYYY-MM-DD` (default: the oldest stored bar).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) from: Option<String>,
    /// Last trading day to replay, `YYYY-MM-DD` (default: the newest stored bar).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) to: Option<String>,
}

/// When a rule would have fired.
#[derive(Debug, Serialize, ToSchema)]
pub struct BacktestResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// The bars replayed (each as four ticks: open, low/high, high/low, close).
    pub bars: usize,
    /// The first and last trading day replayed (absent when no bar was in range).
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// The provider the history came from.
    pub source: String,
    /// True when the provider is failing and the history is an older copy.
    pub stale: bool,
    pub fires: Vec<FireResponse>,
}

/// One simulated fire.
#[derive(Debug, Serialize, ToSchema)]
pub struct FireResponse {
    /// The trading day of the bar that fired.
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// The simulated time of the tick that fired (New York session times).
    pub at: DateTime<Utc>,
    #[schema(value_type = f64)]
    pub price: Price,
    pub message: String,
}

fn response(stored: StoredRule) -> Result<RuleResponse, ApiError> {
    // Shown as `null` when it does not parse: the engine sets such a rule aside (it does not
    // know whether the rule may fire again), and its owner must see it to replace it.
    let state: Option<RuleState> = serde_json::from_value(stored.state).ok();
    // Shown as stored, so that a rule set aside as unreadable is listed too.
    let rule: Option<Rule> = serde_json::from_value(stored.definition.clone()).ok();
    let fields = match stored.definition {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    let (status, error, set_aside_at) = match stored.set_aside {
        Some(aside) => ("set_aside", Some(aside.reason), Some(aside.at)),
        None => (stored.status.as_str(), None, None),
    };
    Ok(RuleResponse {
        id: stored.id,
        rule: fields,
        status,
        error,
        set_aside_at,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        state: state.map(|state| RuleStateResponse {
            armed: state.armed,
            expired: state.expired,
            last_price: state.last_price,
            last_at: state.last_at,
            last_fired_at: state.last_fired_at,
            fire_count: state.fire_count,
            cooldown_until: state.cooldown_until,
            activated: state.activated,
            extreme: state.extreme,
            trigger_level: rule.and_then(|rule| state.trigger_level(&rule)),
        }),
    })
}

/// Creates an alert rule: 201 with the rule, armed and active.
#[utoipa::path(post, path = "/v1/alerts", tag = "alerts",
    security(("bearer" = [])),
    request_body = RuleBody,
    responses(
        (status = 201, description = "Created, armed and active", body = RuleResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller has `max_rules_per_user` rules already (type `cap-reached`; the detail names the cap)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named in the detail with its allowed range (`price: must be greater than 0 and at most 100000000`, `cooldown: must be between 1s and 366d`, `channels[0]: …`, `symbol: unknown symbol …`, `kind: unknown kind …; known kinds: …`, `expires: unknown field; a rule of kind above takes …`, `series: unknown indicator …; valid indicators: …`, `other: applies only to kinds crosses_up, crosses_down and crosses …`). An unknown symbol is refused only when the providers say so: while they are down the rule is accepted", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let stored = state.service().create_rule(&caller, body).await?;
    Ok((StatusCode::CREATED, Json(response(stored)?)).into_response())
}

/// The caller's alert rules, oldest first.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's rules", body = RulesResponse),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_rules(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<RulesResponse>, ApiError> {
    let limit = page.limit()?;
    let after = page.after::<i64>("rules")?;
    let rows = state
        .service()
        .rules(&caller, after.as_ref(), limit + 1)
        .await?;
    let (rows, next_cursor) = cut(rows, limit, "rules", |r| time_key(r.created_at, r.id));
    Ok(Json(RulesResponse {
        alerts: rows.into_iter().map(response).collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// One of the caller's rules with its live state.
#[utoipa::path(get, path = "/v1/alerts/{id}", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "The rule", body = RuleResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RuleResponse>, ApiError> {
    let stored = state.service().rule(&caller, rule_id(&id)?).await?;
    Ok(Json(response(stored)?))
}

/// Replaces a rule's definition (same body and checks as creating one). Like the engine's own
/// update, the state is kept when the symbol and condition are unchanged (a new frequency,
/// channel list or expiry does not forget a trailing peak or a cooldown); otherwise the rule
/// starts again armed, and a disarmed or expired rule becomes active. A paused rule stays
/// paused.
#[utoipa::path(put, path = "/v1/alerts/{id}", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    request_body = RuleBody,
    responses(
        (status = 200, description = "Replaced", body = RuleResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or unknown fields, each named in the detail with its allowed range (the same checks as creating a rule)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<RuleResponse>, ApiError> {
    let stored = state
        .service()
        .replace_rule(&caller, rule_id(&id)?, body)
        .await?;
    Ok(Json(response(stored)?))
}

/// Deletes a rule with its events and notifications: 204, or 404.
#[utoipa::path(delete, path = "/v1/alerts/{id}", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.service().delete_rule(&caller, rule_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a rule: it is not evaluated until resumed (its state is kept).
#[utoipa::path(post, path = "/v1/alerts/{id}/pause", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "Paused", body = RuleResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn pause_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RuleResponse>, ApiError> {
    let stored = state.service().pause_rule(&caller, rule_id(&id)?).await?;
    Ok(Json(response(stored)?))
}

/// Resumes a rule: active again. A rule that is still armed (paused while armed) keeps its
/// state; a disarmed or expired one starts again with a fresh armed state. An expired rule whose
/// `expires_at` has passed cannot be resumed (409): replace it with a later expiry instead.
#[utoipa::path(post, path = "/v1/alerts/{id}/resume", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "Active (and armed)", body = RuleResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Its expiry has passed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resume_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RuleResponse>, ApiError> {
    let stored = state.service().resume_rule(&caller, rule_id(&id)?).await?;
    Ok(Json(response(stored)?))
}

/// Acknowledges every unacknowledged event of one of the caller's rules.
#[utoipa::path(post, path = "/v1/alerts/{id}/acknowledge", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "How many events were acknowledged now", body = AcknowledgedResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn acknowledge_rule(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AcknowledgedResponse>, ApiError> {
    let acknowledged = state
        .service()
        .acknowledge_rule(&caller, rule_id(&id)?)
        .await?;
    Ok(Json(AcknowledgedResponse { acknowledged }))
}

/// Acknowledges one of the caller's events: 204, or 404.
#[utoipa::path(post, path = "/v1/alerts/events/{event_id}/acknowledge", tag = "alerts",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "Event id")),
    responses(
        (status = 204, description = "Acknowledged"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn acknowledge_event(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(event_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service()
        .acknowledge_event(&caller, &event_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's alert events (firings), newest first.
#[utoipa::path(get, path = "/v1/alerts/events", tag = "alerts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's events", body = EventsResponse),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<EventsResponse>, ApiError> {
    let limit = page.limit()?;
    let before = page.after::<String>("events")?;
    let rows = state
        .service()
        .alert_events(&caller, before.as_ref(), limit + 1)
        .await?;
    let (events, next_cursor) = cut(rows, limit, "events", |e| time_key(e.created_at, &e.id));
    Ok(Json(EventsResponse {
        next_cursor,
        events: events
            .into_iter()
            .map(|event| EventResponse {
                id: event.id,
                rule_id: event.rule_id,
                symbol: event.symbol,
                price: event.price,
                quote_at: event.quote_at,
                message: event.message,
                created_at: event.created_at,
                acknowledged_at: event.acknowledged_at,
            })
            .collect(),
    }))
}

fn backtest_response(backtest: Backtest) -> BacktestResponse {
    BacktestResponse {
        symbol: backtest.symbol,
        bars: backtest.bars,
        from: backtest.from,
        to: backtest.to,
        source: backtest.source,
        stale: backtest.stale,
        fires: backtest
            .fires
            .into_iter()
            .map(|fire| FireResponse {
                date: fire.date,
                at: fire.at,
                price: fire.price,
                message: fire.message,
            })
            .collect(),
    }
}

/// The dry run: when the rule in the body (same body and checks as creating one; nothing is
/// stored) would have fired over the stored daily history, had it been created at `from`.
/// Each bar is replayed as four ticks through the live evaluator (open, low and high in the
/// likelier order, close), and fires at most once per bar; the bars before `from` warm it up
/// (the previous close, `window_days` closes). See the `alerts` crate for the model.
#[utoipa::path(post, path = "/v1/alerts/backtest", tag = "alerts",
    security(("bearer" = [])),
    params(BacktestQuery),
    request_body = RuleBody,
    responses(
        (status = 200, description = "The simulated fires, oldest first", body = BacktestResponse),
        (status = 400, description = "Malformed JSON or dates", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or unknown fields, each named in the detail with its allowed range (the same checks as creating a rule)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The upstream failed and nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The upstream is rate limited or its breaker open, and nothing is stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn backtest_body(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<BacktestQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<BacktestResponse>, ApiError> {
    let rule = parse_rule(body)?;
    // Malformed dates are the caller's to fix before any reading is done.
    let (from, to) = parse_range(query.from.as_deref(), query.to.as_deref())?;
    let backtest = state
        .service()
        .backtest_rule(&caller, &rule, from, to)
        .await?;
    Ok(Json(backtest_response(backtest)))
}

/// The dry run of one of the caller's stored rules (its definition, from a fresh armed state).
#[utoipa::path(post, path = "/v1/alerts/{id}/backtest", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id"), BacktestQuery),
    responses(
        (status = 200, description = "The simulated fires, oldest first", body = BacktestResponse),
        (status = 400, description = "Malformed dates", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule of the caller's, or no history for its symbol", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The rule's stored definition cannot be read: replace or delete it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value of the stored rule is out of range (stored before the ranges existed), each named with its range: replace the rule", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The upstream failed and nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The upstream is rate limited or its breaker open, and nothing is stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn backtest_stored(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<BacktestQuery>,
) -> Result<Json<BacktestResponse>, ApiError> {
    let rule = state
        .service()
        .rule_to_replay(&caller, rule_id(&id)?)
        .await?;
    let (from, to) = parse_range(query.from.as_deref(), query.to.as_deref())?;
    let backtest = state.service().backtest(&rule, from, to, None).await?;
    Ok(Json(backtest_response(backtest)))
}
