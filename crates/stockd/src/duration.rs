//! Durations in configuration: a number of seconds (`30`, `"30"`) or a human duration
//! (`"30s"`, `"5m"`, `"1h 30m"`), as the seed's `CIRCUIT_BREAKER_TIMEOUT=30s` and
//! `CACHE_TTL=300` both expect.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Reads seconds or a human duration.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Seconds(seconds) => Ok(Duration::from_secs(seconds)),
        Raw::Text(text) => parse(&text).map_err(serde::de::Error::custom),
    }
}

/// Writes a human duration (`5m`, `30s`).
pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&humantime::format_duration(*duration).to_string())
}

/// Parses `"30"` as seconds, anything else as a human duration.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|err| {
        format!("'{text}' is not a duration ({err}); use seconds (30) or a unit (30s, 5m, 1h)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_are_seconds_and_units_are_understood() {
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn garbage_says_what_a_duration_looks_like() {
        let err = parse("soon").unwrap_err();
        assert!(err.contains("30s"), "{err}");
        assert!(parse("-5").is_err());
    }
}
