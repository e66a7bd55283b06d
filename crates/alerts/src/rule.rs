//! The alert rule: what a user asks to be told about, exactly as `POST /v1/alerts` carries it.
//!
//! ```json
//! {"symbol":"MSFT","kind":"crosses_up","price":420.0,"frequency":"once","channels":["ch_12"]}
//! {"symbol":"MSFT","kind":"moves_down_pct","percent":5,"window_days":3,"frequency":"once_per_day","channels":["ch_12"]}
//! {"symbol":"MSFT","kind":"trailing_stop","percent":8,"activation_price":450,"side":"long","frequency":"once","channels":["ch_12"]}
//! {"symbol":"MSFT","kind":"above","price":500,"frequency":"every_time","cooldown":"15m","channels":["ch_12"],"expires_at":"2026-12-31T21:00:00Z"}
//! {"symbol":"MSFT","kind":"below","series":"rsi:14","value":30,"frequency":"once_per_day","channels":["ch_12"]}
//! {"symbol":"MSFT","kind":"crosses_up","series":"sma:50","other":"sma:200","frequency":"once","channels":["ch_12"]}
//! ```
//!
//! The last two watch a [series](crate::SeriesSpec) instead of the price: the level kinds
//! (`above`, `below`, `crosses_up`, `crosses_down`, `crosses`) compare it with `value` (a
//! number in the series' own unit, which may be negative: an RSI of 30 is not a price), and
//! the crossing kinds may compare it with a second series, `other`. A price rule has neither
//! field, and its wire form is exactly what it was before series existed.
//!
//! Deserialising checks only the shape; [`Rule::validate`](crate::Rule::validate) checks the
//! values, so a client gets every problem named at once instead of the first serde error.
//! Deserialising also ignores keys it does not know (the condition is flattened, and serde's
//! `deny_unknown_fields` does not work with `flatten`): a caller refuses them first with
//! [`Rule::unknown_fields`](crate::Rule::unknown_fields).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use domain::{Price, Symbol};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::series::SeriesSpec;

/// A rule's id, as the store numbers it.
pub type RuleId = i64;

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub symbol: Symbol,
    /// What to watch for; its fields sit beside `kind` on the wire.
    #[serde(flatten)]
    pub condition: Condition,
    /// The series the level kinds compare instead of the price (`"rsi:14"`); the price when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesSpec>,
    /// A series rule's level, in the series' own unit (may be negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Price>,
    /// For the crossing kinds of a series rule: the second series it crosses (`"sma:200"`
    /// against a `series` of `"sma:50"` is a golden cross), instead of `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<SeriesSpec>,
    /// `once` when not given, as on TradingView.
    #[serde(default)]
    pub frequency: Frequency,
    /// Quiet time after a fire; required for (and only for) `every_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<Span>,
    /// Notification channel ids (the user's own, as `/v1/me/channels` names them; checked by the
    /// caller, opaque here).
    #[serde(default)]
    pub channels: Vec<String>,
    /// After this instant the rule never fires again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a rule watches for, tagged by `kind` on the wire.
///
/// The level kinds read "the price" and `price` here; a rule with a `series` reads them as the
/// series and its `value` (or, crossing kinds, its `other` series), with the same meanings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// Fires while the price is strictly above `price`.
    Above {
        #[serde(default, skip_serializing_if = "unset")]
        price: Price,
    },
    /// Fires while the price is strictly below `price`.
    Below {
        #[serde(default, skip_serializing_if = "unset")]
        price: Price,
    },
    /// Fires when the previous price was at or below `price` and this one is above it.
    CrossesUp {
        #[serde(default, skip_serializing_if = "unset")]
        price: Price,
    },
    /// Fires when the previous price was at or above `price` and this one is below it.
    CrossesDown {
        #[serde(default, skip_serializing_if = "unset")]
        price: Price,
    },
    /// Either crossing.
    Crosses {
        #[serde(default, skip_serializing_if = "unset")]
        price: Price,
    },
    /// Fires when the price is up `percent` or more versus its basis.
    MovesUpPct(Move),
    /// Fires when the price is down `percent` or more versus its basis.
    MovesDownPct(Move),
    /// Fires when the price gives back `percent` (or `amount`) from its best since armed.
    TrailingStop(Trail),
}

/// A level kind's `price` is optional on the wire: a series rule has none (its level is
/// `value` or `other`), and is then stored without one. A price rule without it is refused by
/// validation (a level must be greater than 0), naming `price`.
fn unset(price: &Price) -> bool {
    *price == Price::ZERO
}

impl Rule {
    /// Whether two rules watch the same thing (symbol, condition and series): when they do,
    /// replacing one by the other keeps its state.
    pub fn same_watch(&self, other: &Rule) -> bool {
        self.symbol == other.symbol
            && self.condition == other.condition
            && self.series == other.series
            && self.value == other.value
            && self.other == other.other
    }
}

/// A percent move and what it is measured against (exactly one of the three bases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub percent: Percent,
    /// Versus the close of the daily bar this many stored bars before the tick's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
    /// Versus the lowest (up moves) or highest (down moves) tick within this duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Span>,
    /// Versus the previous stored bar's close (`window_days: 1`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub vs_previous_close: bool,
}

/// What a [`Move`] compares the price with, once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveBasis {
    /// The close this many stored daily bars back (1 is the previous close).
    Sessions(u32),
    /// The extreme tick within this duration.
    Window(Span),
}

impl Move {
    /// The basis, or `None` unless exactly one of `window_days`, `window` and
    /// `vs_previous_close` is given.
    pub fn basis(&self) -> Option<MoveBasis> {
        match (self.window_days, self.window, self.vs_previous_close) {
            (Some(days), None, false) => Some(MoveBasis::Sessions(days)),
            (None, Some(window), false) => Some(MoveBasis::Window(window)),
            (None, None, true) => Some(MoveBasis::Sessions(1)),
            _ => None,
        }
    }
}

/// A trailing stop: `percent` or `amount` (exactly one), optional activation, a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Percent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Price>,
    /// Trailing starts only once the price reaches this (at or above for long, at or below
    /// for short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_price: Option<Price>,
    #[serde(default)]
    pub side: Side,
}

/// Which way a trailing stop protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Tracks the highest price, fires on a fall from it.
    #[default]
    Long,
    /// Tracks the lowest price, fires on a rise from it.
    Short,
}

/// How often a rule may fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Fires once, then is disarmed (the default).
    #[default]
    Once,
    /// At most once per NYSE trading day (New York date).
    OncePerDay,
    /// Every time the condition holds, with `cooldown` between fires.
    EveryTime,
}

/// A percentage, exact: the same fixed point as [`Price`] (`5`, `2.5`, `0.125`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(pub Price);

impl Percent {
    /// Whole percents, for tests and constants.
    pub const fn from_units(units: i64) -> Self {
        Self(Price::from_units(units))
    }

    /// The raw 1e-9 units (5 % is `5_000_000_000`).
    pub const fn raw(self) -> i64 {
        self.0.raw()
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// A duration written like `"90s"`, `"15m"`, `"2h"`, `"1d 12h"` (or a number of seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(Duration);

impl Span {
    /// A span of whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// The span as a std duration.
    pub const fn duration(self) -> Duration {
        self.0
    }

    /// The span for chrono arithmetic (saturating at chrono's maximum).
    pub fn delta(self) -> TimeDelta {
        TimeDelta::from_std(self.0).unwrap_or(TimeDelta::MAX)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpanVisitor;
        impl serde::de::Visitor<'_> for SpanVisitor {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"15m\" or \"2h\", or a number of seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Span, E> {
                humantime::parse_duration(v).map(Span).map_err(|e| {
                    E::custom(format!("'{v}' is not a duration ({e}); use e.g. 15m or 2h"))
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Span, E> {
                Ok(Span::from_secs(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Span, E> {
                u64::try_from(v)
                    .map(Span::from_secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
        }
        deserializer.deserialize_any(SpanVisitor)
    }
}
