//! `/v1/daily`: several symbols in one call, each loaded concurrently; a failing symbol never
//! fails the others.
//!
//! When at least one symbol is served the answer is 200 with `results` and, beside them, each
//! failed symbol's `errors` entry (the status and detail it would have answered alone);
//! `x-stockd-cache` is `hit` only when every served series was. When none is served there is
//! nothing to call a success or a cache hit: the answer is the problem of the largest status
//! among them (e.g. 404 when every symbol is unknown, 503 when a provider's limit kept one
//! out), listing every symbol's error in `errors`, so a single-symbol call answers what
//! `/v1/stocks/{symbol}/daily` would.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Symbol;
use market::CacheStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ItemProblem, Problem};
use crate::extract::ApiQuery;
use crate::json::cached_json;
use crate::limits::PublicRead;
use crate::routes::stocks::DailyResponse;
use crate::routes::window::WindowQuery;

/// The most symbols one `/v1/daily` call may ask for.
pub const MAX_SYMBOLS_PER_CALL: usize = 20;

/// Several symbols at once.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MultiQuery {
    /// Comma-separated tickers, at most 20 (`MSFT,AAPL,IBM`).
    symbols: String,
    /// The last N trading days (of the `from`/`to` range when given); default `NDAYS`.
    #[param(value_type = Option<u32>, minimum = 1)]
    days: Option<String>,
    /// First trading day to include, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last trading day to include, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// One symbol that could not be served in a multi-symbol call.
#[derive(Debug, Serialize, ToSchema)]
pub struct SymbolError {
    pub symbol: String,
    /// The HTTP status this symbol alone would have answered.
    pub status: u16,
    pub detail: String,
}

/// Bars of several symbols; symbols that failed are listed with why.
#[derive(Debug, Serialize, ToSchema)]
pub struct MultiDailyResponse {
    pub results: Vec<DailyResponse>,
    pub errors: Vec<SymbolError>,
}

/// No symbol of a multi-symbol call could be served: a problem document (RFC 9457) whose
/// status is the largest of the symbols' own, with every symbol's error.
#[derive(Debug, Serialize, ToSchema)]
pub struct MultiDailyProblem {
    /// The type of the problem with the largest status (`urn:stockd:problem:unknown-symbol`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    /// Every symbol and why it failed.
    pub detail: String,
    /// Each symbol's error, in symbol order.
    pub errors: Vec<SymbolError>,
}

/// What `/v1/daily` answers besides 200.
#[derive(Debug, IntoResponses)]
pub enum MultiDailyErrors {
    /// Malformed symbols, days or dates; an empty or oversized list.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(#[to_schema] Problem),
    /// No symbol could be served and the largest status among them is 404 (unknown symbols).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] MultiDailyProblem),
    /// This client's reads that must ask a provider are spent (`Retry-After`), and no symbol
    /// was cached or stored.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(#[to_schema] MultiDailyProblem),
    /// No symbol could be served; the upstream failed for at least one.
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(#[to_schema] MultiDailyProblem),
    /// No symbol could be served; a provider's limit, a configured quota or an open breaker
    /// kept at least one out (`Retry-After`: the longest of theirs).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(#[to_schema] MultiDailyProblem),
}

/// Daily bars of several symbols in one call (fetched concurrently; one failing symbol does
/// not fail the others). When none can be served, the answer is the largest of their statuses
/// with each symbol's error.
#[utoipa::path(get, path = "/v1/daily", tag = "history",
    params(MultiQuery),
    responses((status = 200, description = "Per-symbol bars; symbols that failed listed in `errors`", body = MultiDailyResponse), MultiDailyErrors))]
pub async fn multi_daily(
    State(state): State<AppState>,
    read: PublicRead,
    ApiQuery(query): ApiQuery<MultiQuery>,
) -> Result<Response, ApiError> {
    let window = WindowQuery {
        days: query.days,
        limit: None,
        from: query.from,
        to: query.to,
    }
    .resolve(state.config())?;
    let mut symbols: Vec<Symbol> = query
        .symbols
        .split(',')
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(Symbol::parse)
        .collect::<Result<_, _>>()?;
    symbols.sort();
    symbols.dedup();
    if symbols.is_empty() || symbols.len() > MAX_SYMBOLS_PER_CALL {
        return Err(ApiError::BadRequest(format!(
            "symbols must list 1 to {MAX_SYMBOLS_PER_CALL} tickers separated by commas, got {}",
            symbols.len()
        )));
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut task_symbols = std::collections::HashMap::new();
    for symbol in symbols {
        let state = state.clone();
        let task = tasks.spawn(async move {
            let budget = state.upstream_budget(read);
            (symbol, state.market().daily_with(symbol, &budget).await)
        });
        task_symbols.insert(task.id(), symbol);
    }
    let (mut results, mut failed) = (Vec::new(), Vec::new());
    let mut cache = CacheStatus::Hit;
    while let Some(joined) = tasks.join_next().await {
        let (symbol, outcome) = match joined {
            Ok(done) => done,
            Err(panicked) => {
                // A load that panicked is a bug; its symbol is still reported, never dropped.
                tracing::error!(error = %panicked, "loading one symbol of a multi-symbol call failed");
                let symbol = task_symbols
                    .get(&panicked.id())
                    .map_or_else(String::new, Symbol::to_string);
                failed.push((
                    symbol,
                    ApiError::Internal("a symbol's load panicked").item_problem(),
                ));
                continue;
            }
        };
        match outcome {
            Ok(served) => {
                // The combined header: stale if any answer is, else miss if any was loaded.
                cache = match (cache, served.cache) {
                    (CacheStatus::Stale, _) | (_, CacheStatus::Stale) => CacheStatus::Stale,
                    (CacheStatus::Miss, _) | (_, CacheStatus::Miss) => CacheStatus::Miss,
                    _ => CacheStatus::Hit,
                };
                results.push(DailyResponse::new(
                    symbol,
                    &served,
                    window.select(&served.value),
                ));
            }
            Err(err) => failed.push((symbol.to_string(), ApiError::from(err).item_problem())),
        }
    }
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    if results.is_empty() {
        return Ok(none_served(failed));
    }
    results.sort_by_key(|r| r.symbol);
    let errors = failed.into_iter().map(symbol_error).collect();
    let size = 256 + results.iter().map(|r| 128 * r.bars.len()).sum::<usize>();
    cached_json(&MultiDailyResponse { results, errors }, size, cache)
}

fn symbol_error((symbol, problem): (String, ItemProblem)) -> SymbolError {
    SymbolError {
        symbol,
        status: problem.status.as_u16(),
        detail: problem.detail,
    }
}

/// The answer when every symbol failed (`failed` in symbol order): the problem of the largest
/// status (the first symbol's among equals), every symbol's error listed, and the longest
/// `Retry-After` any of them gave.
fn none_served(failed: Vec<(String, ItemProblem)>) -> Response {
    let worst = failed
        .iter()
        .rev()
        .max_by_key(|(_, problem)| problem.status)
        .map(|(_, problem)| (problem.status, problem.kind, problem.title));
    let (status, kind, title) = worst.unwrap_or((
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
    ));
    let retry_after: Option<Duration> = failed.iter().filter_map(|(_, p)| p.retry_after).max();
    let listed: Vec<String> = failed
        .iter()
        .map(|(symbol, problem)| {
            format!("{symbol} ({}): {}", problem.status.as_u16(), problem.detail)
        })
        .collect();
    let problem = MultiDailyProblem {
        kind: format!("urn:stockd:problem:{kind}"),
        title,
        status: status.as_u16(),
        detail: format!(
            "none of the {} symbols could be served: {}",
            failed.len(),
            listed.join("; ")
        ),
        errors: failed.into_iter().map(symbol_error).collect(),
    };
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), detail = %problem.detail, request_id = %crate::observe::current_request_id(), "no symbol of a multi-symbol call could be served");
    }
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(after) = retry_after {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(status: u16, kind: &'static str, retry_after: Option<u64>) -> ItemProblem {
        ItemProblem {
            status: StatusCode::from_u16(status).unwrap(),
            kind,
            title: "t",
            detail: format!("{kind} detail"),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn when_nothing_is_served_the_largest_status_answers_with_the_longest_retry_after() {
        let response = none_served(vec![
            ("AAA".into(), problem(404, "unknown-symbol", None)),
            (
                "BBB".into(),
                problem(503, "upstream-rate-limited", Some(7200)),
            ),
            (
                "CCC".into(),
                problem(503, "upstream-quota-exhausted", Some(30)),
            ),
        ]);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7200");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}
