//! JSON responses for the hot path: serialised once into a buffer sized up front, with the
//! cache-status header, and dates written as `YYYY-MM-DD` without going through `fmt`.

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use market::CacheStatus;
use serde::{Serialize, Serializer};

use crate::error::ApiError;
use crate::observe::REQUEST_ID;
use crate::routes::CACHE_HEADER;

/// A JSON response carrying `x-stockd-cache`. `size_hint` is the expected body length, so the
/// buffer is allocated once.
pub(crate) fn cached_json(
    body: &impl Serialize,
    size_hint: usize,
    cache: CacheStatus,
) -> Result<Response, ApiError> {
    let mut buffer = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut buffer, body)
        .map_err(|_| ApiError::Internal("a response could not be serialised"))?;
    Ok(json_response(buffer, cache))
}

/// A response of already-serialised JSON carrying `x-stockd-cache`.
pub(crate) fn json_response(body: Vec<u8>, cache: CacheStatus) -> Response {
    let mut headers = headers_for(cache);
    let length = HeaderValue::from(body.len());
    // The template's placeholder, found by walking its few entries rather than by hashing.
    match headers
        .iter_mut()
        .find(|(name, _)| *name == header::CONTENT_LENGTH)
    {
        Some((_, placeholder)) => *placeholder = length,
        None => {
            headers.insert(header::CONTENT_LENGTH, length);
        }
    }
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = headers;
    response
}

/// The headers a JSON answer leaves with: the content type, the cache status, the security
/// headers, and the two set per answer (its length, here; its request id, by `observe`). Built
/// once per cache status and cloned: a clone is two allocations and a copy, where inserting
/// them one by one hashed and probed five times (~700 instructions of the cached read path,
/// under callgrind). The per-answer two are placeholders in the template, overwritten in
/// place (found by walking the entries, not by hashing their names): a clone holds exactly
/// the template's entries, so a new key would grow (reallocate) it.
fn headers_for(cache: CacheStatus) -> HeaderMap {
    static BUILT: LazyLock<[HeaderMap; 3]> = LazyLock::new(|| {
        [CacheStatus::Hit, CacheStatus::Miss, CacheStatus::Stale].map(|cache| {
            let mut headers = HeaderMap::with_capacity(8);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(CACHE_HEADER, HeaderValue::from_static(cache.as_str()));
            crate::security::add_headers(&mut headers);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            headers.insert(REQUEST_ID, HeaderValue::from_static("-"));
            headers
        })
    });
    let built = match cache {
        CacheStatus::Hit => &BUILT[0],
        CacheStatus::Miss => &BUILT[1],
        CacheStatus::Stale => &BUILT[2],
    };
    built.clone()
}

/// Serialises a date as `YYYY-MM-DD` (years 0 to 9999, which covers every trading day).
pub(crate) fn date<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    let (year, month, day) = (date.year(), date.month(), date.day());
    if !(0..=9999).contains(&year) {
        return serializer.collect_str(date);
    }
    let year = year as u32;
    let digits = [
        year / 1000,
        year / 100 % 10,
        year / 10 % 10,
        year % 10,
        10,
        month / 10,
        month % 10,
        10,
        day / 10,
        day % 10,
    ];
    let text = digits.map(|d| if d == 10 { b'-' } else { b'0' + d as u8 });
    serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Dated(#[serde(serialize_with = "date")] NaiveDate);

    #[test]
    fn dates_match_chronos_own_formatting() {
        for text in ["2013-03-01", "2000-12-31", "0999-01-09", "9999-12-31"] {
            let day: NaiveDate = text.parse().unwrap();
            assert_eq!(
                serde_json::to_string(&Dated(day)).unwrap(),
                format!("\"{day}\"")
            );
        }
    }
}
