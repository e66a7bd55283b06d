//! `/v1/stocks/{symbol}/signal…`: a symbol's composite signal (latest, with components and
//! evidence), its history, and the evaluation of its labels against forward returns.
//!
//! Each answer names its method and says where its signals came from (`provenance`): stored
//! (after an ingest run, or brought up to the last daily bar by the read), or computed for this
//! request from the daily history when nothing is stored for the symbol under the current
//! method.

use std::collections::BTreeMap;

use ::signals::{Evaluation, Horizon};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Signal, Symbol};
use serde::{Deserialize, Serialize};
use service::signals::{SignalAnswer, SignalOrigin};
use utoipa::{IntoParams, ToSchema};

use super::window::parse_range;
use crate::AppState;
use crate::error::{ApiError, ReadErrors};
use crate::extract::{ApiPath, ApiQuery};
use crate::limits::PublicRead;

/// Where an answer's signals came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvenanceResponse {
    /// `stored`: computed and stored (after an ingest run, or by a read that found daily bars
    /// newer than the stored signals); `computed`: computed for this request from the daily
    /// history (nothing is stored for the symbol under this method).
    #[schema(example = "computed")]
    pub origin: &'static str,
    /// The provider of the history a computed answer was read from (`sample`, `import`, …).
    pub source: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
    /// True when the provider is failing and the daily history is an older copy, or when stored
    /// signals end before the last daily bar and its days could not be computed (the stored
    /// ones are served rather than an error).
    pub stale: bool,
}

impl From<&SignalOrigin> for ProvenanceResponse {
    fn from(origin: &SignalOrigin) -> Self {
        match origin {
            SignalOrigin::Stored { stale } => Self {
                origin: "stored",
                source: None,
                fetched_at: None,
                stale: *stale,
            },
            SignalOrigin::Computed {
                source,
                fetched_at,
                stale,
            } => Self {
                origin: "computed",
                source: Some(source.clone()),
                fetched_at: Some(*fetched_at),
                stale: *stale,
            },
        }
    }
}

/// One component of a signal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentResponse {
    /// `trend`, `momentum`, `mean_reversion`, `volatility` or `sentiment`.
    #[schema(example = "mean_reversion")]
    pub name: &'static str,
    /// The component's own score, from -1 (bearish) to 1 (bullish).
    pub score: f64,
    /// Its share of the composite, renormalised over the components present.
    pub weight: f64,
    /// The readings behind the score, e.g. `{"rsi_14": 27.9, "reading": "RSI below 30:
    /// oversold; …"}`.
    #[schema(value_type = Object)]
    pub evidence: domain::Evidence,
}

/// A symbol's composite signal for one trading day.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// The method (version and configuration fingerprint) that computed it.
    #[schema(example = "v1-f34f5ca0")]
    pub method: String,
    /// The trading day whose close it was computed at.
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// The weighted sum of the components' scores, from -1 to 1.
    pub score: f64,
    /// `strong_sell`, `sell`, `neutral`, `buy` or `strong_buy`.
    #[schema(example = "buy")]
    pub label: &'static str,
    pub components: Vec<ComponentResponse>,
    /// Components left out for lack of data (warming up, or no news source for sentiment);
    /// their weight went to the others.
    pub missing: Vec<&'static str>,
    pub computed_at: DateTime<Utc>,
    pub provenance: ProvenanceResponse,
}

/// The latest composite signal of a symbol, with every component's score, weight and evidence.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/signal", tag = "signals",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    responses((status = 200, description = "The latest signal (404 when the history is too short for one)", body = SignalResponse), ReadErrors))]
pub async fn latest_signal(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
) -> Result<Json<SignalResponse>, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let budget = state.upstream_budget(read);
    let answer = state.service().latest_signal(symbol, &budget).await?;
    let provenance = ProvenanceResponse::from(&answer.origin);
    let signal = answer.value;
    Ok(Json(SignalResponse {
        symbol,
        method: signal.method.to_string(),
        day: signal.day,
        score: signal.score.get(),
        label: signal.label.as_str(),
        missing: signal.missing.iter().map(|name| name.as_str()).collect(),
        computed_at: signal.computed_at,
        components: signal
            .components
            .into_iter()
            .map(|component| ComponentResponse {
                name: component.name.as_str(),
                score: component.score.get(),
                weight: component.weight.get(),
                evidence: component.evidence,
            })
            .collect(),
        provenance,
    }))
}

/// Which days of history to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignalHistoryQuery {
    /// First day to include, `YYYY-MM-DD`. Default: the first day with a signal.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day to include, `YYYY-MM-DD`. Default: the latest.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// One day of a signal history: the composite and each component's score (the evidence is on
/// `/signal`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalDayResponse {
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub score: f64,
    #[schema(example = "neutral")]
    pub label: &'static str,
    /// Each component's score by name.
    #[schema(value_type = Object, example = json!({"trend": 0.41, "momentum": 0.12}))]
    pub components: BTreeMap<&'static str, f64>,
    pub missing: Vec<&'static str>,
}

/// A symbol's signals over a range of days.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalHistoryResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[schema(example = "v1-f34f5ca0")]
    pub method: String,
    pub count: usize,
    /// Oldest first.
    pub signals: Vec<SignalDayResponse>,
    pub provenance: ProvenanceResponse,
}

/// The signals of a symbol from `from` to `to` (both optional), oldest first. A range without
/// signals is an empty answer; `from` after `to` is 400.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/signal/history", tag = "signals",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), SignalHistoryQuery),
    responses((status = 200, description = "The signals of the range", body = SignalHistoryResponse), ReadErrors))]
pub async fn signal_history(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<SignalHistoryQuery>,
) -> Result<Json<SignalHistoryResponse>, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let (from, to) = parse_range(query.from.as_deref(), query.to.as_deref())?;
    let budget = state.upstream_budget(read);
    let answer = state
        .service()
        .signal_history(symbol, from, to, &budget)
        .await?;
    let SignalAnswer {
        method,
        origin,
        value,
        ..
    } = answer;
    Ok(Json(SignalHistoryResponse {
        symbol,
        method: method.to_string(),
        count: value.len(),
        signals: value.iter().map(signal_day).collect(),
        provenance: ProvenanceResponse::from(&origin),
    }))
}

fn signal_day(signal: &Signal) -> SignalDayResponse {
    SignalDayResponse {
        day: signal.day,
        score: signal.score.get(),
        label: signal.label.as_str(),
        components: signal
            .components
            .iter()
            .map(|component| (component.name.as_str(), component.score.get()))
            .collect(),
        missing: signal.missing.iter().map(|name| name.as_str()).collect(),
    }
}

/// Which horizons to evaluate.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationQuery {
    /// Forward-return horizons in trading days, comma-separated without spaces: 1 to 252 each,
    /// at most 8. Default: `5,20`.
    #[param(value_type = Option<String>, pattern = "^([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-2])(,([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-2])){0,7}$", example = "5,20")]
    horizons: Option<String>,
}

/// Buy-and-hold at one horizon over every evaluated day. Returns are fractions (0.012 = 1.2 %).
#[derive(Debug, Serialize, ToSchema)]
pub struct BuyAndHoldResponse {
    pub horizon: u16,
    /// Signal days with `horizon` later bars.
    pub days: usize,
    pub mean_return: Option<f64>,
    pub median_return: Option<f64>,
    /// The share of those days whose forward return was above 0.
    pub positive_share: Option<f64>,
}

/// One label at one horizon. Returns are fractions (0.012 = 1.2 %).
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelHorizonResponse {
    pub horizon: u16,
    /// The label's days with `horizon` later bars.
    pub days: usize,
    pub mean_return: Option<f64>,
    pub median_return: Option<f64>,
    /// The share of days the label called right: a forward return above 0 for buy and
    /// strong_buy, below 0 for sell and strong_sell; `null` for neutral (no direction).
    pub hit_rate: Option<f64>,
    /// Buy-and-hold's mean return at this horizon over every evaluated day.
    pub buy_and_hold_mean_return: Option<f64>,
    /// `mean_return - buy_and_hold_mean_return`.
    pub excess_mean_return: Option<f64>,
}

/// One label's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelEvaluationResponse {
    #[schema(example = "buy")]
    pub label: &'static str,
    /// Days that carried the label.
    pub days: usize,
    pub horizons: Vec<LabelHorizonResponse>,
}

/// How a symbol's labels did over its signal history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[schema(example = "v1-f34f5ca0")]
    pub method: String,
    /// Signal days evaluated, whatever their label.
    pub days: usize,
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub buy_and_hold: Vec<BuyAndHoldResponse>,
    /// Every label, from strong_sell to strong_buy.
    pub labels: Vec<LabelEvaluationResponse>,
    pub provenance: ProvenanceResponse,
}

/// The evaluation of a symbol's labels: for each label and horizon, its days, the mean and
/// median forward return (adjusted close `horizon` trading days later over the signal day's),
/// its hit rate, and buy-and-hold over the same span. Each signal used only bars up to its day.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/signal/evaluation", tag = "signals",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), EvaluationQuery),
    responses((status = 200, description = "The evaluation of every label at each horizon", body = EvaluationResponse), ReadErrors))]
pub async fn signal_evaluation(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<EvaluationQuery>,
) -> Result<Json<EvaluationResponse>, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let horizons = Horizon::parse_list(query.horizons.as_deref().unwrap_or("5,20"))
        .map_err(|err| ApiError::BadRequest(format!("horizons: {err}")))?;
    let budget = state.upstream_budget(read);
    let answer = state
        .service()
        .signal_evaluation(symbol, &horizons, &budget)
        .await?;
    Ok(Json(evaluation_response(answer)))
}

fn evaluation_response(answer: SignalAnswer<Evaluation>) -> EvaluationResponse {
    let SignalAnswer {
        symbol,
        method,
        origin,
        value: evaluation,
    } = answer;
    let horizon = |h: Horizon| u16::try_from(h.days()).unwrap_or(u16::MAX);
    let round = |value: Option<f64>| value.map(|v| (v * 1e6).round() / 1e6 + 0.0);
    EvaluationResponse {
        symbol,
        method: method.to_string(),
        days: evaluation.days,
        from: evaluation.from,
        to: evaluation.to,
        buy_and_hold: evaluation
            .buy_and_hold
            .iter()
            .map(|b| BuyAndHoldResponse {
                horizon: horizon(b.horizon),
                days: b.days,
                mean_return: round(b.mean_return),
                median_return: round(b.median_return),
                positive_share: round(b.positive_share),
            })
            .collect(),
        labels: evaluation
            .labels
            .iter()
            .map(|l| LabelEvaluationResponse {
                label: l.label.as_str(),
                days: l.days,
                horizons: l
                    .horizons
                    .iter()
                    .map(|h| LabelHorizonResponse {
                        horizon: horizon(h.horizon),
                        days: h.days,
                        mean_return: round(h.mean_return),
                        median_return: round(h.median_return),
                        hit_rate: round(h.hit_rate),
                        buy_and_hold_mean_return: round(h.buy_and_hold_mean_return),
                        excess_mean_return: round(h.excess_mean_return),
                    })
                    .collect(),
            })
            .collect(),
        provenance: ProvenanceResponse::from(&origin),
    }
}
