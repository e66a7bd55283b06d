//! Composite trading signals: one score in [-1, 1] and a [`SignalLabel`] per symbol per trading
//! day, with the components that produced it.
//!
//! Each [`SignalComponent`] (trend, momentum, mean reversion, volatility, sentiment) carries its
//! own sub-score, the weight it was given and the [`Evidence`] behind it (`{"rsi_14": 27.9,
//! "reading": "below 30: oversold"}`), so an answer can be explained. A component without data
//! (no sentiment source) is listed in [`Signal::missing`] and the others' weights are
//! renormalised ([`SignalWeights::renormalised`]).
//!
//! Every signal names the [`SignalMethod`] that computed it: a change of weights or thresholds
//! is a new method ([`SignalsConfig::method`]), so stored history is never rewritten under the
//! same name.
//!
//! Scores and weights are parsed into [`SignalScore`] and [`ComponentWeight`], which refuse NaN,
//! infinities and values out of range: past construction, every number in a signal is storable.

mod config;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Symbol;
use crate::channel::UnknownName;
pub use config::{SignalThresholds, SignalWeights, SignalsConfig, SignalsConfigError};

/// What a signal says to do, from most bearish to most bullish (the order `Ord` follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalLabel {
    StrongSell,
    Sell,
    Neutral,
    Buy,
    StrongBuy,
}

named!(SignalLabel, "signal label" {
    StrongSell => "strong_sell",
    Sell => "sell",
    Neutral => "neutral",
    Buy => "buy",
    StrongBuy => "strong_buy",
});

/// The parts a composite signal is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentName {
    Trend,
    Momentum,
    MeanReversion,
    Volatility,
    /// From news; absent until a news source is configured.
    Sentiment,
}

named!(ComponentName, "signal component" {
    Trend => "trend",
    Momentum => "momentum",
    MeanReversion => "mean_reversion",
    Volatility => "volatility",
    Sentiment => "sentiment",
});

/// A number a signal cannot hold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    #[error("a signal score must be a number from -1 to 1, got {0}")]
    Score(f64),
    #[error("a component weight must be a number from 0 to 1, got {0}")]
    Weight(f64),
    #[error(
        "a signal method must be 1 to 64 characters of a-z, 0-9, '.', '_', '+' or '-', got '{0}'"
    )]
    Method(String),
    #[error("none of the components present has a weight above 0")]
    NoWeight,
}

/// A score from -1 (most bearish) to 1 (most bullish); never NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct SignalScore(f64);

impl SignalScore {
    /// `value` when it is finite and within [-1, 1].
    pub fn new(value: f64) -> Result<Self, SignalError> {
        if value.is_finite() && (-1.0..=1.0).contains(&value) {
            // -0.0 compares equal to 0.0 but prints "-0": one zero is stored.
            Ok(Self(value + 0.0))
        } else {
            Err(SignalError::Score(value))
        }
    }

    /// The score as a number.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for SignalScore {
    type Error = SignalError;

    fn try_from(value: f64) -> Result<Self, SignalError> {
        Self::new(value)
    }
}

impl From<SignalScore> for f64 {
    fn from(score: SignalScore) -> f64 {
        score.0
    }
}

impl fmt::Display for SignalScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The share of the composite score a component was given: from 0 to 1, after renormalisation.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct ComponentWeight(f64);

impl ComponentWeight {
    /// `value` when it is finite and within [0, 1].
    pub fn new(value: f64) -> Result<Self, SignalError> {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            Ok(Self(value + 0.0))
        } else {
            Err(SignalError::Weight(value))
        }
    }

    /// The weight as a number.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for ComponentWeight {
    type Error = SignalError;

    fn try_from(value: f64) -> Result<Self, SignalError> {
        Self::new(value)
    }
}

impl From<ComponentWeight> for f64 {
    fn from(weight: ComponentWeight) -> f64 {
        weight.0
    }
}

/// Which computation produced a signal (`v1-3fa2c9d1`): signals of different methods are kept
/// apart, so changing the weights starts a new history instead of rewriting the old one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SignalMethod(String);

impl SignalMethod {
    /// `text` when it is 1 to 64 characters of `a-z 0-9 . _ + -` (it is a storage key and a
    /// URL query value).
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        let valid = (1..=64).contains(&text.len())
            && text.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'.' | b'_' | b'+' | b'-')
            });
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(SignalError::Method(text.to_owned()))
        }
    }

    /// The method's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SignalMethod {
    type Err = SignalError;

    fn from_str(text: &str) -> Result<Self, SignalError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for SignalMethod {
    type Error = SignalError;

    fn try_from(text: String) -> Result<Self, SignalError> {
        Self::parse(&text)
    }
}

impl From<SignalMethod> for String {
    fn from(method: SignalMethod) -> String {
        method.0
    }
}

impl fmt::Display for SignalMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The readings behind a component's score, in the order they were recorded; serialised as one
/// JSON object (`{"rsi_14": 27.9, "reading": "below 30: oversold"}`) whose keys keep that order.
///
/// Values are JSON, which has no NaN: a non-finite number recorded here becomes `null`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence(Vec<(String, Value)>);

impl Evidence {
    /// No readings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `key` (replacing an earlier reading of the same key in place).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// [`Evidence::insert`], by value, for building evidence in one expression.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// The reading recorded as `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The readings in the order they were recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EvidenceVisitor;

        impl<'de> Visitor<'de> for EvidenceVisitor {
            type Value = Evidence;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of readings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Evidence, A::Error> {
                let mut evidence = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if evidence.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!(
                            "evidence key '{key}' appears twice"
                        )));
                    }
                    evidence.push((key, value));
                }
                Ok(Evidence(evidence))
            }
        }

        deserializer.deserialize_map(EvidenceVisitor)
    }
}

/// One part of a composite signal: its own score, the weight it was given and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalComponent {
    pub name: ComponentName,
    pub score: SignalScore,
    /// The weight actually used: the configured one, renormalised over the components present.
    pub weight: ComponentWeight,
    pub evidence: Evidence,
}

/// A symbol's composite signal for one trading day, as one method computed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub symbol: Symbol,
    /// The trading day whose close the signal is computed at.
    pub day: NaiveDate,
    pub method: SignalMethod,
    /// The weighted sum of the components' scores.
    pub score: SignalScore,
    pub label: SignalLabel,
    /// The components used, each with its weight and evidence.
    pub components: Vec<SignalComponent>,
    /// Components left out for lack of data (their weight went to the others).
    #[serde(default)]
    pub missing: Vec<ComponentName>,
    pub computed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_order_from_most_bearish_to_most_bullish_and_round_trip_their_names() {
        let mut shuffled = vec![
            SignalLabel::Buy,
            SignalLabel::StrongSell,
            SignalLabel::StrongBuy,
            SignalLabel::Neutral,
            SignalLabel::Sell,
        ];
        shuffled.sort();
        assert_eq!(shuffled, SignalLabel::ALL);
        for label in SignalLabel::ALL {
            assert_eq!(label.as_str().parse::<SignalLabel>().unwrap(), *label);
            assert_eq!(
                serde_json::to_value(label).unwrap(),
                Value::from(label.as_str())
            );
        }
        let err = "hold".parse::<SignalLabel>().unwrap_err().to_string();
        assert!(
            err.contains("strong_sell, sell, neutral, buy, strong_buy"),
            "{err}"
        );
        assert_eq!(
            "mean_reversion".parse::<ComponentName>().unwrap(),
            ComponentName::MeanReversion
        );
    }

    #[test]
    fn scores_and_weights_refuse_nan_infinities_and_values_out_of_range() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.000_001, -1.5] {
            assert!(SignalScore::new(bad).is_err(), "{bad}");
        }
        assert_eq!(SignalScore::new(-1.0).unwrap().get(), -1.0);
        assert!(SignalScore::new(-0.0).unwrap().get().is_sign_positive());
        assert!(ComponentWeight::new(-0.1).is_err());
        assert!(ComponentWeight::new(f64::NAN).is_err());
        assert!(serde_json::from_str::<SignalScore>("1.5").is_err());
        assert_eq!(
            serde_json::from_str::<ComponentWeight>("0.25")
                .unwrap()
                .get(),
            0.25
        );
    }

    #[test]
    fn methods_are_short_lowercase_keys() {
        assert_eq!(
            SignalMethod::parse("v1-3fa2c9d1").unwrap().as_str(),
            "v1-3fa2c9d1"
        );
        for bad in ["", "V1", "v1 beta", "v1/2", &"x".repeat(65)] {
            assert!(SignalMethod::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<SignalMethod>(r#""no way""#).is_err());
    }

    #[test]
    fn evidence_serialises_as_one_object_in_recorded_order() {
        let evidence = Evidence::new()
            .with("rsi_14", 27.9)
            .with("reading", "below 30: oversold")
            .with("above_sma_200", true);
        let text = serde_json::to_string(&evidence).unwrap();
        assert_eq!(
            text,
            r#"{"rsi_14":27.9,"reading":"below 30: oversold","above_sma_200":true}"#
        );
        let back: Evidence = serde_json::from_str(&text).unwrap();
        assert_eq!(back, evidence);
        assert_eq!(back.get("rsi_14"), Some(&Value::from(27.9)));
        assert!(serde_json::from_str::<Evidence>(r#"{"a":1,"a":2}"#).is_err());
        assert_eq!(
            Evidence::new().with("x", f64::NAN).get("x"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn a_signal_reads_back_from_its_json() {
        let signal = Signal {
            symbol: Symbol::parse("MSFT").unwrap(),
            day: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            method: SignalMethod::parse("v1").unwrap(),
            score: SignalScore::new(0.42).unwrap(),
            label: SignalLabel::Buy,
            components: vec![SignalComponent {
                name: ComponentName::Momentum,
                score: SignalScore::new(0.8).unwrap(),
                weight: ComponentWeight::new(0.5).unwrap(),
                evidence: Evidence::new().with("rsi_14", 27.9),
            }],
            missing: vec![ComponentName::Sentiment],
            computed_at: "2026-11-27T22:00:00Z".parse().unwrap(),
        };
        let json = serde_json::to_value(&signal).unwrap();
        assert_eq!(json["label"], "buy");
        assert_eq!(json["missing"], serde_json::json!(["sentiment"]));
        assert_eq!(json["components"][0]["evidence"]["rsi_14"], 27.9);
        assert_eq!(serde_json::from_value::<Signal>(json).unwrap(), signal);
    }
}
