//! The series a rule can watch instead of the price: one line of a technical indicator over
//! the symbol's daily bars (`"rsi:14"`, `"sma:50"`, `"macd:12:26:9.histogram"`), as the
//! `series` and `other` fields of a rule name it.
//!
//! # When a series moves
//!
//! - **Intraday** (indicators of closes only: `sma`, `ema`, `wma`, `rsi`, `macd`, `bbands`,
//!   `roc`, `volatility`): on every live quote, the indicator is computed over the stored
//!   bars before the quote's session plus a provisional bar for the session whose close is the
//!   live price. The value therefore moves with the price during the day, and at the session's
//!   end it is the day's value once the bar is stored.
//! - **End of day** (indicators that read the high, low or volume: `atr`, `stoch`, `obv`;
//!   `signal`, the composite signal score; and `sentiment`, the session's news sentiment): a
//!   live quote carries no day's high, low or volume (and the signal and the sentiment are
//!   computed per whole session), so the value is the last stored bar's.
//!   It changes once a session, on the first quote of the session after a new bar was stored;
//!   a crossing is then the last stored bar's value against the bar's before it.
//!
//! A backtest evaluates every series once per bar, at that bar's own value (the whole bar), and
//! a crossing compares consecutive bars. A bar still warming up (the indicator has no value
//! yet) never fires and is never the "previous value" of a crossing.
//!
//! # The composite signal
//!
//! `"signal"` is the day's composite signal score in [-1, 1] (`signals::Method` v1 over the
//! same bars, under the configured weights and thresholds, with the session's news sentiment
//! when the caller gives it: the value `GET /v1/stocks/{symbol}/signal` answers for a stored
//! bar's day). A day without a signal (fewer bars than any component needs) has no value.
//!
//! # News sentiment
//!
//! `"sentiment"` is the session's news sentiment in [-1, 1]: the relevance-weighted mean of
//! the scores of the news that trading session's signal reads (`signals::news::session_series`:
//! news published after a close counts for the next session), the number the signal's
//! sentiment component uses. The caller gives it with the bars; a session without scored news
//! has no value, so it never fires and is never the previous value of a crossing.
//!
//! # Scores
//!
//! `signal` and `sentiment` are scores: compared with a `value` in [-1, 1], and crossed only
//! with each other (crossing a score with an indicator line, a price or an RSI, compares
//! numbers of different units and is refused).
//!
//! # Extension point
//!
//! A new kind of series is a new [`SeriesSpec`] variant with its parse, its
//! [`SeriesSpec::intraday`] answer and its values in [`crate::engine`]'s feed. A name listed in
//! [`RESERVED_SERIES`] is refused with a message saying it is not available yet, so no rule
//! can be stored that this build would have to ignore.

use std::fmt;
use std::str::FromStr;

use indicators::{Indicator, Line, SpecError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Names the series grammar reserves for series this build cannot compute yet.
pub const RESERVED_SERIES: &[&str] = &[];

/// The name of the composite signal score series.
pub const SIGNAL_SERIES: &str = "signal";

/// The name of the session news sentiment series.
pub const SENTIMENT_SERIES: &str = "sentiment";

/// A series a rule watches, as `series` / `other` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesSpec {
    /// One output line of an indicator over the symbol's (split-adjusted) daily bars.
    Indicator(Line),
    /// The composite signal's score for the day, in [-1, 1].
    Signal,
    /// The session's relevance-weighted news sentiment, in [-1, 1].
    Sentiment,
}

/// Why a series name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    #[error(
        "`{0}` cannot be watched yet: this build has no {0} series; watch an indicator line \
         instead, e.g. \"rsi:14\", \"sma:50\", \"macd:12:26:9.histogram\", \"signal\" or \"sentiment\""
    )]
    Unavailable(&'static str),
    #[error("{0}")]
    Indicator(#[from] SpecError),
}

impl SeriesSpec {
    /// Whether the series moves with live quotes (see the module docs); `false` for series
    /// that change only when a new daily bar is stored.
    pub fn intraday(&self) -> bool {
        match self {
            Self::Indicator(line) => !matches!(
                line.indicator,
                Indicator::Atr { .. } | Indicator::Stoch { .. } | Indicator::Obv
            ),
            Self::Signal | Self::Sentiment => false,
        }
    }

    /// The indicator line behind the series; `None` for the scores (signal, sentiment).
    pub fn line(&self) -> Option<Line> {
        match self {
            Self::Indicator(line) => Some(*line),
            Self::Signal | Self::Sentiment => None,
        }
    }

    /// Whether the series is a score in [-1, 1] (the composite signal, the news sentiment),
    /// which only compares with values and other scores in that range.
    pub fn is_score(&self) -> bool {
        matches!(self, Self::Signal | Self::Sentiment)
    }
}

impl FromStr for SeriesSpec {
    type Err = SeriesError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim();
        if let Some(reserved) = RESERVED_SERIES
            .iter()
            .find(|reserved| reserved.eq_ignore_ascii_case(name))
        {
            return Err(SeriesError::Unavailable(reserved));
        }
        if name.eq_ignore_ascii_case(SIGNAL_SERIES) {
            return Ok(Self::Signal);
        }
        if name.eq_ignore_ascii_case(SENTIMENT_SERIES) {
            return Ok(Self::Sentiment);
        }
        Ok(Self::Indicator(name.parse()?))
    }
}

impl fmt::Display for SeriesSpec {
    /// The canonical form: `"rsi:14"`, `"macd:12:26:9.histogram"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Indicator(line) => write!(f, "{line}"),
            Self::Signal => f.write_str(SIGNAL_SERIES),
            Self::Sentiment => f.write_str(SENTIMENT_SERIES),
        }
    }
}

impl Serialize for SeriesSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SeriesSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A series value as messages show it: two decimals, four below 1 in magnitude.
pub(crate) fn shown(value: f64) -> String {
    if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_lines_parse_to_their_canonical_names() {
        let spec: SeriesSpec = "rsi".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.to_string(), "rsi:14");
        let spec: SeriesSpec = "macd:12:26:9.histogram"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.to_string(), "macd:12:26:9.histogram");
        assert!(spec.intraday());
        let atr: SeriesSpec = "atr:14".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(!atr.intraday());
    }

    #[test]
    fn signal_is_an_end_of_day_score_series() {
        let spec: SeriesSpec = " Signal ".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec, SeriesSpec::Signal);
        assert_eq!(spec.to_string(), "signal");
        assert!(!spec.intraday());
        assert!(spec.is_score());
        assert_eq!(spec.line(), None);
    }

    #[test]
    fn sentiment_is_an_end_of_day_score_series() {
        let spec: SeriesSpec = "SENTIMENT".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec, SeriesSpec::Sentiment);
        assert_eq!(spec.to_string(), "sentiment");
        assert!(!spec.intraday());
        assert!(spec.is_score());
        assert_eq!(spec.line(), None);
    }

    #[test]
    fn unknown_names_are_refused_with_what_is_valid() {
        let err = "rsx:14".parse::<SeriesSpec>().unwrap_err().to_string();
        assert!(err.contains("unknown indicator `rsx`"), "{err}");
        assert!(err.contains("rsi[:period 2..=1000"), "{err}");
    }
}
