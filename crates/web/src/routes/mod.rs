//! The HTTP routes, one module per resource; [`crate::router`] lists every URL.

pub mod accounts;
pub mod admin;
pub mod alerts;
pub mod channels;
pub(crate) mod closes;
pub mod history;
pub mod indicators;
pub mod ingest;
pub mod news;
pub mod notifications;
pub mod ops;
pub mod page;
pub mod seed;
pub mod sentiment;
pub mod signals;
pub mod signup;
pub mod stocks;
pub mod stream;
pub mod symbols;
pub mod system;
pub mod watchlist;
pub mod window;

use axum::http::HeaderName;

use crate::error::ApiError;

/// Header telling whether an answer came from the cache (`hit`), was loaded for this request
/// (`miss`) or is an older copy served because the upstream failed (`stale`).
/// A `HeaderName`, not text: a text key is parsed again on every insert (~570 instructions, 2 % of
/// the cached read path, under callgrind).
pub const CACHE_HEADER: HeaderName = HeaderName::from_static("x-stockd-cache");

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
