//! The seed-compatible routes: `/`, `/{symbol}`, `/{symbol}/{days}` answer
//! `{"symbol","ndays","prices":[{"date","close"}],"average"}` with prices newest first.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::extract::{Request, State};
use axum::http::header::{LOCATION, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::{Price, Symbol};
use serde::Serialize;
use utoipa::ToSchema;

use super::parse_days;
use crate::AppState;
use crate::error::{ApiError, ReadErrors};
use crate::json::json_response;
use crate::limits::PublicRead;

/// The last N closing prices of a symbol and their average. (Written by [`prices`] around
/// pre-rendered elements; this type documents the shape and checks it in tests.)
#[derive(Debug, Serialize, ToSchema)]
pub struct PricesResponse {
    /// The symbol, upper case.
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// Number of prices returned (fewer than asked when fewer trading days exist).
    pub ndays: usize,
    /// Closing prices, newest first.
    pub prices: Vec<ClosePrice>,
    /// Mean of the returned closes.
    #[schema(value_type = Option<f64>, example = 27.59)]
    pub average: Option<Price>,
}

/// One trading day's close.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosePrice {
    #[serde(serialize_with = "crate::json::date")]
    pub date: NaiveDate,
    #[schema(value_type = f64, example = 27.95)]
    pub close: Price,
}

/// The default symbol over the default number of days (`SYMBOL`, `NDAYS`). A browser (an
/// `Accept` that ranks `text/html` above `application/json`) is sent to the dashboard instead.
#[utoipa::path(get, path = "/", tag = "prices",
    responses(
        (status = 200, description = "Closing prices and their average", body = PricesResponse,
            headers(("x-stockd-cache" = String, description = "hit, miss or stale"))),
        (status = 303, description = "A browser (`Accept` prefers `text/html`): the dashboard is at `/app/`",
            headers(("location" = String, description = "/app/"))),
        ReadErrors,
    ))]
pub async fn default_prices(
    State(state): State<AppState>,
    headers: HeaderMap,
    read: PublicRead,
) -> Result<Response, ApiError> {
    // The answer depends on Accept, so caches must key on it.
    let vary = (VARY, HeaderValue::from_static("accept"));
    if crate::app::prefers_html(&headers) {
        return Ok((
            StatusCode::SEE_OTHER,
            [(LOCATION, HeaderValue::from_static("/app/")), vary],
        )
            .into_response());
    }
    let defaults = &state.config().defaults;
    let mut response = prices(&state, read, defaults.symbol, defaults.days as usize).await?;
    response.headers_mut().append(vary.0, vary.1);
    Ok(response)
}

/// A symbol over the default number of days (`NDAYS`).
#[utoipa::path(get, path = "/{symbol}", tag = "prices",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT (case-insensitive)")),
    responses(
        (status = 200, description = "Closing prices and their average", body = PricesResponse),
        ReadErrors,
    ))]
pub(crate) fn symbol_prices(
    request: Request,
    state: AppState,
    peer: Option<SocketAddr>,
) -> SeedAnswer {
    seed_read(request, state, peer)
}

/// A symbol over the last `days` trading days.
#[utoipa::path(get, path = "/{symbol}/{days}", tag = "prices",
    params(
        ("symbol" = String, Path, description = "Ticker, e.g. MSFT (case-insensitive)"),
        ("days" = u32, Path, description = "Trading days, 1 to the configured maximum (default 5000)"),
    ),
    responses(
        (status = 200, description = "Closing prices and their average", body = PricesResponse),
        ReadErrors,
    ))]
pub(crate) fn symbol_days_prices(
    request: Request,
    state: AppState,
    peer: Option<SocketAddr>,
) -> SeedAnswer {
    seed_read(request, state, peer)
}

/// A seed read's answer, as the router's fallback calls them (`router::fallback`).
pub(crate) type SeedAnswer = Pin<Box<dyn Future<Output = Response> + Send>>;

/// `/{symbol}` and `/{symbol}/{days}` (the path says which), from `peer` (the connection's
/// peer address, when known). What an axum handler's extractors would do, in their order (the
/// client's read allowance, then the path), only reads the request's head, so it is done
/// here, before the answer's future: the extractor chain of an axum handler (a future per
/// extractor, the request's parts moved between them) cost a cached read ~360 instructions
/// more (`bench/instructions.sh`).
fn seed_read(request: Request, state: AppState, peer: Option<SocketAddr>) -> SeedAnswer {
    let (parts, _body) = request.into_parts();
    let extracted = PublicRead::admit(&parts.headers, peer, &state)
        .and_then(|read| Ok((read, SeedPath::from_parts(&parts, &state)?)));
    Box::pin(async move {
        let answer = match extracted {
            Ok((read, SeedPath { symbol, days })) => prices(&state, read, symbol, days).await,
            Err(err) => Err(err),
        };
        answer.into_response()
    })
}

/// The symbol and days of `/{symbol}` and `/{symbol}/{days}`, read from the request's path
/// itself: the router matched its shape already, so the path is exactly those segments. This
/// is the hottest route, and axum's `Path<(String, String)>` allocates both segments and runs
/// serde over them; here a segment without `%` (nearly all) is parsed where it lies, and any
/// other is decoded as axum decodes it (percent-decoding, then UTF-8).
#[derive(Debug)]
struct SeedPath {
    symbol: Symbol,
    /// The default (`NDAYS`) on `/{symbol}`.
    days: usize,
}

impl SeedPath {
    fn from_parts(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        let path = parts.uri.path();
        let segments = path.strip_prefix('/').unwrap_or(path);
        // Bytes, not chars: `/` is one byte, so the position is a character boundary.
        let (symbol, days) = match segments.bytes().position(|byte| byte == b'/') {
            Some(at) => (&segments[..at], Some(&segments[at + 1..])),
            None => (segments, None),
        };
        let symbol = Symbol::parse(&decode_segment(symbol)?)?;
        let days = match days {
            Some(days) => parse_days(&decode_segment(days)?, state.config().max_days)?,
            None => state.config().defaults.days as usize,
        };
        Ok(Self { symbol, days })
    }
}

/// A path segment percent-decoded: itself when it holds no `%` (the URI is UTF-8 already).
fn decode_segment(segment: &str) -> Result<Cow<'_, str>, ApiError> {
    if !segment.as_bytes().contains(&b'%') {
        return Ok(Cow::Borrowed(segment));
    }
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "invalid path: the segment '{}' is not UTF-8 once percent-decoded",
                segment.chars().take(40).collect::<String>()
            ))
        })
}

async fn prices(
    state: &AppState,
    read: PublicRead,
    symbol: Symbol,
    days: usize,
) -> Result<Response, ApiError> {
    let budget = state.upstream_budget(read);
    let served = state.market().daily_with(symbol, &budget).await?;
    let body = state.closes().answer(&served.value, days);
    Ok(json_response(body, served.cache))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use domain::{Bar, Price, Series, Symbol};

    use super::{ClosePrice, PricesResponse};
    use crate::routes::closes::{MEMO_WINDOWS, RenderCache};

    fn series(closes: &[&str]) -> Arc<Series> {
        let start: chrono::NaiveDate = "2024-01-01".parse().unwrap();
        let bars = closes
            .iter()
            .enumerate()
            .map(|(i, close)| {
                let close: Price = close.parse().unwrap();
                Bar::new_checked(
                    start + chrono::Days::new(i as u64),
                    close,
                    close,
                    close,
                    close,
                    1,
                    None,
                )
                .unwrap()
            })
            .collect();
        Arc::new(Series::new(
            Symbol::parse("BRK.B").unwrap(),
            bars,
            "test",
            Utc::now(),
        ))
    }

    #[test]
    fn every_answer_equals_serialising_the_response_and_a_kept_one_stays_equal() {
        // Longer than the kept windows, so both kinds of answer are read.
        let mut closes = vec!["10", "10.5", "0.000000001", "123456.789", "27.95", "3"];
        closes.extend(std::iter::repeat_n("41.07", MEMO_WINDOWS + 4));
        let series = series(&closes);
        let cache = RenderCache::default();
        let days_asked = (1..=8).chain([MEMO_WINDOWS - 1, MEMO_WINDOWS, MEMO_WINDOWS + 1, 5000]);
        for days in days_asked {
            let window = series.last_days(days);
            let expected = PricesResponse {
                symbol: series.symbol,
                ndays: window.len(),
                prices: window
                    .iter()
                    .rev()
                    .map(|bar| ClosePrice {
                        date: bar.date,
                        close: bar.close,
                    })
                    .collect(),
                average: Series::average_close(window),
            };
            let expected = serde_json::to_string(&expected).unwrap();
            for asked in ["first", "again"] {
                let answer = String::from_utf8(cache.answer(&series, days)).unwrap();
                assert_eq!(answer, expected, "days = {days}, asked {asked}");
            }
        }
    }

    #[test]
    fn a_refreshed_series_is_answered_anew() {
        let cache = RenderCache::default();
        let first = series(&["1", "2"]);
        let answer = |series| String::from_utf8(cache.answer(series, 1)).unwrap();
        assert_eq!(
            answer(&first),
            r#"{"symbol":"BRK.B","ndays":1,"prices":[{"date":"2024-01-02","close":2.0}],"average":2.0}"#
        );
        // The same symbol, refreshed: its kept answer is not the old series'.
        let refreshed = series(&["1", "5"]);
        assert_eq!(
            answer(&refreshed),
            r#"{"symbol":"BRK.B","ndays":1,"prices":[{"date":"2024-01-02","close":5.0}],"average":5.0}"#
        );
    }
}
