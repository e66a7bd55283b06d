//! The `days` / `from` / `to` query every history route shares, parsed once into a [`Window`].

use chrono::NaiveDate;
use domain::{Bar, Series};
use serde::Deserialize;
use utoipa::IntoParams;

use super::parse_days;
use crate::WebConfig;
use crate::error::ApiError;

/// Which bars to use: the last `days` trading days, optionally within `from`..=`to`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// The last N trading days (of the `from`/`to` range when given). Default: `NDAYS` when no
    /// range is given, the whole range otherwise.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub(crate) days: Option<String>,
    /// Another name for `days` (at most this many bars, the newest of the range); give one of
    /// the two.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub(crate) limit: Option<String>,
    /// First trading day to include, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) from: Option<String>,
    /// Last trading day to include, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) to: Option<String>,
}

/// A validated window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    days: usize,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl WindowQuery {
    /// Validates the query: days from 1 to the maximum, real dates, `from` not after `to`.
    pub(crate) fn resolve(&self, config: &WebConfig) -> Result<Window, ApiError> {
        let days = match (&self.days, &self.limit) {
            (Some(_), Some(_)) => {
                return Err(ApiError::BadRequest(
                    "give days or limit, not both (they mean the same)".into(),
                ));
            }
            (days, limit) => days
                .as_deref()
                .or(limit.as_deref())
                .map(|d| parse_days(d, config.max_days))
                .transpose()?,
        };
        let (from, to) = parse_range(self.from.as_deref(), self.to.as_deref())?;
        let ranged = from.is_some() || to.is_some();
        let default_days = if ranged {
            config.max_days
        } else {
            config.defaults.days
        };
        Ok(Window {
            days: days.unwrap_or(default_days as usize),
            from,
            to,
        })
    }
}

impl Window {
    /// The number of rows (the newest of the range), and the range's ends.
    pub(crate) fn parts(self) -> (usize, Option<NaiveDate>, Option<NaiveDate>) {
        (self.days, self.from, self.to)
    }

    /// The bars of `series` in this window, oldest first.
    pub(crate) fn select(self, series: &Series) -> &[Bar] {
        let range = series.between(self.from, self.to);
        &range[range.len().saturating_sub(self.days)..]
    }
}

/// Parses optional `from` / `to` query values: real dates, `from` not after `to`.
pub(crate) fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
    let from = from.map(|d| parse_date("from", d)).transpose()?;
    let to = to.map(|d| parse_date("to", d)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::BadRequest(format!(
            "from ({from}) is after to ({to}); swap them"
        )));
    }
    Ok((from, to))
}

/// Parses a `YYYY-MM-DD` query value named `name`.
pub(crate) fn parse_date(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    text.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "{name} must be a date as YYYY-MM-DD (for example 2024-01-05), got '{}'",
            text.chars().take(20).collect::<String>()
        ))
    })
}
