//! `/v1/stocks/{symbol}/indicators` (technical indicators as date-aligned columns with the
//! history's provenance) and `/v1/indicators` (the catalogue of names, parameters and outputs).
//!
//! The columns come from `service::indicators`, which computes every indicator over the whole
//! stored history before cutting the rows asked for; this module parses the query, calls it and
//! renders. A series that cannot be parsed is 400 `bad-indicator`, whose body carries the
//! catalogue as `indicators` beside the usual problem members.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Symbol;
use indicators::Indicator;
use serde::{Deserialize, Serialize};
use service::indicators::{IndicatorTable, Rows};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::window::WindowQuery;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};
use crate::json::cached_json;
use crate::limits::PublicRead;

/// Which series, over which rows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsQuery {
    /// Comma-separated series, at most 16 entries, duplicates dropped: `name[:param…][.output]`,
    /// e.g. `sma:50,ema:20,rsi:14,macd:12:26:9,bbands:20:2`. Parameters left out take their
    /// defaults. An entry without `.output` stands for every output of its indicator (MACD's
    /// `macd`, `signal`, `histogram`); `macd:12:26:9.histogram` is that one column.
    /// `GET /v1/indicators` lists the names, parameter ranges and outputs.
    series: String,
    /// The last N trading days (of the `from`/`to` range when given). Default: `NDAYS` when no
    /// range is given, the whole range otherwise.
    #[param(value_type = Option<u32>, minimum = 1)]
    days: Option<String>,
    /// First trading day to answer, `YYYY-MM-DD` (values are computed over the whole history
    /// all the same).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last trading day to answer, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// One column: an output line of an indicator, one value per date.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesColumn {
    /// The canonical name: `sma:50`, `macd:12:26:9.histogram` (the output is named when the
    /// indicator has several).
    pub name: String,
    /// The indicator with every parameter written (`macd:12:26:9`).
    pub indicator: String,
    /// The output line (`value` for single-output indicators).
    pub output: &'static str,
    /// Bars of history the indicator needs before its first value: the first `warmup` bars of
    /// the whole history have none.
    pub warmup: usize,
    /// The first date with a value over the whole history; null when the history is shorter
    /// than the warm-up.
    #[schema(value_type = Option<String>, format = Date)]
    pub first_date: Option<NaiveDate>,
    /// One value per entry of `dates`, null during the warm-up (never NaN).
    pub values: Vec<Option<f64>>,
}

/// Technical indicators of one symbol as columns aligned on `dates`, with provenance.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorsResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// The provider the history came from (`sample`, `alphavantage`, …).
    pub source: String,
    /// When stockd fetched the history from that provider.
    pub fetched_at: DateTime<Utc>,
    /// True when the provider is failing and the history is an older copy.
    pub stale: bool,
    /// True when every bar carried a split- and dividend-adjusted close, so the indicators
    /// were computed on adjusted prices (open, high and low scaled alike, volume inversely);
    /// false when they were computed on prices as traded.
    pub adjusted: bool,
    /// Bars of the whole history the indicators were computed over (before the rows were cut).
    pub history_bars: usize,
    /// The first date of that history.
    #[schema(value_type = Option<String>, format = Date)]
    pub history_start: Option<NaiveDate>,
    /// Number of rows (dates) returned.
    pub count: usize,
    /// The trading day of each row, oldest first.
    #[schema(value_type = Vec<String>)]
    pub dates: Vec<NaiveDate>,
    /// One column per requested output line, in the order asked.
    pub series: Vec<SeriesColumn>,
}

impl From<IndicatorTable> for IndicatorsResponse {
    fn from(table: IndicatorTable) -> Self {
        Self {
            symbol: table.symbol,
            source: table.source,
            fetched_at: table.fetched_at,
            stale: table.stale,
            adjusted: table.adjusted,
            history_bars: table.history_bars,
            history_start: table.history_start,
            count: table.dates.len(),
            dates: table.dates,
            series: table
                .columns
                .into_iter()
                .map(|column| SeriesColumn {
                    name: column.line.to_string(),
                    indicator: column.line.indicator.to_string(),
                    output: column.line.output_name(),
                    warmup: column.warmup,
                    first_date: column.first_date,
                    values: column.values,
                })
                .collect(),
        }
    }
}

/// One parameter of an indicator.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParamResponse {
    pub name: &'static str,
    /// Smallest value accepted (inclusive).
    pub min: f64,
    /// Largest value accepted (inclusive).
    pub max: f64,
    /// The value taken when the parameter is left out.
    pub default: f64,
}

/// One indicator of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorInfoResponse {
    /// The name a series starts with (`macd`).
    pub name: &'static str,
    /// Parameters in the order they are written after the name, separated by `:`.
    pub params: Vec<ParamResponse>,
    /// Output lines, in column order; the suffix after `.` picks one.
    pub outputs: &'static [&'static str],
    pub description: &'static str,
    /// The indicator with its default parameters (`macd:12:26:9`).
    pub default_series: String,
    /// Bars of warm-up at the default parameters (see each answer's `warmup` for others).
    pub default_warmup: usize,
}

/// Every indicator stockd computes.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueResponse {
    pub indicators: Vec<IndicatorInfoResponse>,
}

/// A 400 of the indicators route: the problem document, with the catalogue when a series
/// could not be parsed.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorProblem {
    /// `urn:stockd:problem:bad-indicator`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    /// The entry at fault, why, and the valid indicators with their parameters' ranges.
    pub detail: String,
    /// Every valid indicator, as `GET /v1/indicators` lists them: on `bad-indicator` problems
    /// (a malformed symbol or date is a plain `bad-request` problem without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicators: Option<Vec<IndicatorInfoResponse>>,
}

/// What `/v1/stocks/{symbol}/indicators` answers besides 200.
#[derive(Debug, IntoResponses)]
pub enum IndicatorsErrors {
    /// An unknown indicator or output, a parameter out of range, an empty or oversized series
    /// list (type `bad-indicator`, with the catalogue as `indicators`); a malformed symbol,
    /// days or dates, `from` after `to` (type `bad-request`).
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(#[to_schema] IndicatorProblem),
    /// Unknown symbol, or no data for it.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] Problem),
    /// This client's reads that must be fetched from a provider are spent for now, or it sent
    /// too many reads; `Retry-After` says when to come back.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(#[to_schema] Problem),
    /// The upstream failed and nothing is stored.
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(#[to_schema] Problem),
    /// A provider's limit, a configured quota or an open breaker, and nothing is stored;
    /// `Retry-After` says when to come back.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(#[to_schema] Problem),
}

/// Technical indicators of a symbol as columns aligned on dates. Each is computed over the
/// symbol's whole stored daily history (split-adjusted when the bars carry adjusted closes)
/// and then cut to the rows asked for, so a value never depends on `from`, `to` or `days`. Too
/// little history is not an error: the column is null there and says its `warmup`.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/indicators", tag = "indicators",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), IndicatorsQuery),
    responses((status = 200, description = "Date-aligned columns with provenance", body = IndicatorsResponse), IndicatorsErrors))]
pub async fn symbol_indicators(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<IndicatorsQuery>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let lines = service::indicators::parse_series(&query.series)?;
    let (days, from, to) = WindowQuery {
        days: query.days,
        limit: None,
        from: query.from,
        to: query.to,
    }
    .resolve(state.config())?
    .parts();
    let budget = state.upstream_budget(read);
    let rows = Rows {
        from,
        to,
        last: days,
    };
    let table = state
        .service()
        .indicators(symbol, &lines, rows, &budget)
        .await?;
    let cache = table.cache;
    let size_hint = 256 + table.dates.len() * (14 + 20 * table.columns.len());
    cached_json(&IndicatorsResponse::from(table), size_hint, cache)
}

/// The indicators stockd computes: names, parameters with their ranges and defaults, outputs.
#[utoipa::path(get, path = "/v1/indicators", tag = "indicators",
    responses((status = 200, description = "The catalogue", body = CatalogueResponse)))]
pub async fn list_indicators() -> Json<CatalogueResponse> {
    Json(CatalogueResponse {
        indicators: catalogue(),
    })
}

/// The catalogue as the API renders it (here and in `bad-indicator` problems).
pub(crate) fn catalogue() -> Vec<IndicatorInfoResponse> {
    Indicator::catalogue()
        .iter()
        .map(|info| {
            // Every name parses alone, taking its defaults; the fallback is never reached.
            let default = info.name.parse::<Indicator>().ok();
            IndicatorInfoResponse {
                name: info.name,
                params: info
                    .params
                    .iter()
                    .map(|param| ParamResponse {
                        name: param.name,
                        min: param.min,
                        max: param.max,
                        default: param.default,
                    })
                    .collect(),
                outputs: info.outputs,
                description: info.description,
                default_series: default.map_or_else(|| info.name.to_owned(), |i| i.to_string()),
                default_warmup: default.map_or(0, |i| i.warmup()),
            }
        })
        .collect()
}
