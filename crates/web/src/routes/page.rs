//! Pagination of the lists that grow (`?limit=&cursor=` in, `next_cursor` out).
//!
//! A cursor is the sort key of the last row of a page, opaque to clients (base64url of the
//! list's name, the row's creation time and id, or a symbol); the store reads the next page by
//! keyset, so rows added meanwhile never shift a page. A list's answer keeps its old fields and
//! gains `next_cursor`: `null` on the last page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use domain::Symbol;
use serde::Deserialize;
use store::After;
use utoipa::IntoParams;

use crate::error::ApiError;

/// Rows on a page when the query gives no `limit`.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most rows one page holds.
pub const MAX_LIMIT: u32 = 1000;

/// `?limit=&cursor=` of the paginated lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many rows (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<u32>,
    /// Where to go on from: the `next_cursor` of the page before. Absent: the first page.
    pub(crate) cursor: Option<String>,
}

impl PageQuery {
    /// The page size asked for.
    pub(crate) fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
            Some(limit) => Err(ApiError::BadRequest(format!(
                "limit must be from 1 to {MAX_LIMIT}, got {limit}"
            ))),
        }
    }

    /// The cursor's text for `list`, if one was given.
    fn cursor_text(&self, list: &str) -> Result<Option<String>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let bad = || {
            ApiError::BadRequest(format!(
                "cursor is not one this list ({list}) gave out; pass the `next_cursor` of its last page, or none to start again"
            ))
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let rest = text
            .strip_prefix(list)
            .and_then(|rest| rest.strip_prefix('\n'))
            .ok_or_else(bad)?;
        Ok(Some(rest.to_owned()))
    }

    /// A time-ordered list's cursor: the creation time and id of the last row shown.
    pub(crate) fn after<Id: std::str::FromStr>(
        &self,
        list: &str,
    ) -> Result<Option<After<Id>>, ApiError> {
        let Some(text) = self.cursor_text(list)? else {
            return Ok(None);
        };
        let bad = || {
            ApiError::BadRequest(format!(
                "cursor is not one this list ({list}) gave out; pass the `next_cursor` of its last page, or none to start again"
            ))
        };
        let (at, id) = text.split_once('\n').ok_or_else(bad)?;
        let created_at: DateTime<Utc> = at.parse().map_err(|_| bad())?;
        let id = id.parse().map_err(|_| bad())?;
        Ok(Some(After { created_at, id }))
    }

    /// The watchlist's cursor: the last symbol shown.
    pub(crate) fn after_symbol(&self, list: &str) -> Result<Option<Symbol>, ApiError> {
        self.cursor_text(list)?
            .map(|text| {
                Symbol::parse(&text).map_err(|_| {
                    ApiError::BadRequest(format!(
                        "cursor is not one this list ({list}) gave out; pass the `next_cursor` of its last page, or none to start again"
                    ))
                })
            })
            .transpose()
    }
}

/// The cursor naming `key` (a row's sort key, as [`time_key`] writes it) of `list`.
pub(crate) fn encode_cursor(list: &str, key: &str) -> String {
    encode(list, key)
}

fn encode(list: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}\n{key}"))
}

/// Cuts `rows` (read with `limit + 1`) to `limit`, and the cursor of the page after them, if
/// there is one.
pub(crate) fn cut<T>(
    mut rows: Vec<T>,
    limit: u32,
    list: &str,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows.last().map(|last| encode(list, &key(last)));
    (rows, next)
}

/// The key of a time-ordered row.
pub(crate) fn time_key(created_at: DateTime<Utc>, id: impl std::fmt::Display) -> String {
    format!(
        "{}\n{id}",
        created_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_belongs_to_its_list() {
        let at: DateTime<Utc> = "2026-11-28T10:00:00.123456Z".parse().unwrap();
        let rows = vec![(at, 7_i64), (at, 8), (at, 9)];
        let (page, next) = cut(rows, 2, "rules", |(at, id)| time_key(*at, id));
        assert_eq!(page.len(), 2);
        let query = PageQuery {
            limit: None,
            cursor: next,
        };
        let after: After<i64> = query.after("rules").unwrap().unwrap();
        assert_eq!((after.created_at, after.id), (at, 8));
        assert!(query.after::<i64>("channels").is_err(), "another list's");
        let junk = PageQuery {
            limit: Some(0),
            cursor: Some("not a cursor".into()),
        };
        assert!(junk.after::<i64>("rules").is_err());
        assert!(junk.limit().is_err());
    }
}
