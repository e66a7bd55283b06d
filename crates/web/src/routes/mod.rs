//! The HTTP routes, one module per resource; [`crate::router`] lists every URL.

pub mod ops;
pub mod seed;
pub mod stocks;

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use market::CacheStatus;

use crate::error::ApiError;

/// Header telling whether an answer came from the cache (`hit`), was loaded for this request
/// (`miss`) or is an older copy served because the upstream failed (`stale`).
pub const CACHE_HEADER: &str = "x-stockd-cache";

/// Parses a number of trading days, 1 to `max`.
pub(crate) fn parse_days(text: &str, max: u32) -> Result<usize, ApiError> {
    match text.trim().parse::<u32>() {
        Ok(days) if (1..=max).contains(&days) => Ok(days as usize),
        _ => Err(ApiError::BadRequest(format!(
            "days must be a whole number from 1 to {max}, got '{}'",
            text.chars().take(20).collect::<String>()
        ))),
    }
}

/// Adds the cache-status header to a response.
pub(crate) fn with_cache_status(body: impl IntoResponse, cache: CacheStatus) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(CACHE_HEADER, HeaderValue::from_static(cache.as_str()));
    response
}
