//! The configuration layers that come from outside a file: the environment (the seed's alias
//! names and `STOCKD_*`) and the command-line flags, each named so an error says where a bad
//! value came from.

use std::sync::OnceLock;

/// Seed variable names and the settings they set.
const ALIASES: &[(&str, &str)] = &[
    ("PORT", "port"),
    ("SYMBOL", "symbol"),
    ("NDAYS", "ndays"),
    ("APIKEY", "alphavantage_api_key"),
    ("CACHE_TTL", "cache_ttl"),
    ("CIRCUIT_BREAKER_TIMEOUT", "circuit_breaker_timeout"),
];

/// `STOCKD_*` variables that are read elsewhere: the config file flag, and a build-time
/// override of the docs bundle (`STOCKD_TEST_*` variables belong to the test suites).
const NOT_SETTINGS: &[&str] = &["config", "scalar_js"];

/// Every setting's name, read from `Settings`'s own serde description, so recognising `STOCKD_*`
/// variables can never drift from the struct (a field added there is a setting here).
fn setting_names() -> &'static [&'static str] {
    static NAMES: OnceLock<&'static [&'static str]> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut capture = FieldNames(&[]);
        // The capture fails on purpose once it has the names; nothing is deserialised.
        let _ = <super::Settings as serde::Deserialize>::deserialize(&mut capture);
        capture.0
    })
}

/// A deserializer that only records the field names a struct asks for.
struct FieldNames(&'static [&'static str]);

impl<'de> serde::Deserializer<'de> for &mut FieldNames {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom(
            "only a struct's field names are read",
        ))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(serde::de::Error::custom("field names captured"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Settings whose environment value is always text, even when it looks like a number (an API
/// key or a symbol may be all digits).
const TEXT_SETTINGS: &[&str] = &[
    "admin_token",
    "cors_allow_origins",
    "ingest_schedule",
    "ingest_time_zone",
    "nats_url",
    "nats_prefix",
    "kafka_brokers",
    "kafka_security_protocol",
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_ca_location",
    "roles",
    "alert_quote_providers",
    "webhook_allow",
    "notification_retry_schedule",
    "smtp_host",
    "smtp_tls",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "twilio_account_sid",
    "twilio_auth_token",
    "twilio_from",
    "twilio_base_url",
    "bind",
    "data_dir",
    "database_url",
    "archive_url",
    "provider",
    "daily_providers",
    "quote_providers",
    "symbol",
    "alphavantage_api_key",
    "alphavantage_base_url",
    "finnhub_api_key",
    "finnhub_base_url",
    "yahoo_base_url",
    "polygon_api_key",
    "polygon_base_url",
    "log_format",
    "log",
];

/// Settings inside tables whose environment value is always text (keys, which may be all
/// digits, URLs, model names, schedules, lists).
const NESTED_TEXT_SETTINGS: &[&str] = &[
    "news__sources",
    "news__newsapi_api_key",
    "news__newsapi_base_url",
    "news__rss_url",
    "news__schedule",
    "news__time_zone",
    "news__lookback",
    "sentiment__scorers",
    "sentiment__openai__base_url",
    "sentiment__openai__model",
    "sentiment__openai__api_key",
    "sentiment__openai__response_format",
    "sentiment__gemini__base_url",
    "sentiment__gemini__model",
    "sentiment__gemini__api_key",
];

/// Inserts `value` at the path `key` names, `__` separating tables.
fn insert_nested(values: &mut figment::value::Dict, key: &str, value: figment::value::Value) {
    match key.split_once("__") {
        Some((table, rest)) => {
            let entry = values
                .entry(table.to_owned())
                .or_insert_with(|| figment::value::Dict::new().into());
            if let figment::value::Value::Dict(_, dict) = entry {
                insert_nested(dict, rest, value);
            }
        }
        None => {
            values.insert(key.to_owned(), value);
        }
    }
}

/// A configuration layer with a name, so errors say where a bad value came from.
pub(super) struct NamedLayer {
    name: &'static str,
    values: figment::value::Dict,
}

impl NamedLayer {
    /// Environment values, parsed like figment's own `Env` provider does (`8080` is a number);
    /// that provider is not used because the seed aliases are exact, unprefixed names.
    fn env(name: &'static str, pairs: Vec<(String, String)>) -> Self {
        let mut values = figment::value::Dict::new();
        for (key, value) in pairs {
            let parsed = if TEXT_SETTINGS.contains(&key.as_str())
                || NESTED_TEXT_SETTINGS.contains(&key.as_str())
            {
                figment::value::Value::from(value)
            } else {
                value
                    .parse()
                    .unwrap_or_else(|_| figment::value::Value::from(value.clone()))
            };
            // `features__history_delta` sets `history_delta` inside the `features` table,
            // `quotas__alphavantage__per_day` sets `per_day` in `quotas.alphavantage`,
            // `limits__max_rules_per_user` sets it in `limits`, `signals__weights__trend` sets
            // `trend` in `signals.weights`.
            insert_nested(&mut values, &key, parsed);
        }
        Self { name, values }
    }

    /// The command-line flags that were given.
    pub(super) fn flags(overrides: &crate::cli::Overrides) -> Self {
        let values = match figment::value::Value::serialize(overrides) {
            Ok(figment::value::Value::Dict(_, dict)) => dict,
            _ => figment::value::Dict::new(),
        };
        Self {
            name: "command line",
            values,
        }
    }
}

impl figment::Provider for NamedLayer {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(self.name)
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.values.clone()))
    }
}

pub(super) fn describe_figment_error(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let setting = e.path.join(".");
            let origin = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if setting.is_empty() {
                format!("{}{origin}", e.kind)
            } else {
                format!("{setting}: {}{origin}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The environment's two layers: the seed's alias names, then the `STOCKD_*` names (which win).
pub(super) fn environment(env: &[(String, String)]) -> (NamedLayer, NamedLayer) {
    let aliases: Vec<(String, String)> = env
        .iter()
        .filter_map(|(name, value)| {
            ALIASES
                .iter()
                .find(|(alias, _)| alias == name)
                .map(|(_, key)| ((*key).to_owned(), value.clone()))
        })
        .collect();
    let prefixed: Vec<(String, String)> = env
        .iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("STOCKD_")?.to_ascii_lowercase();
            is_setting(&key).then(|| (key, value.clone()))
        })
        .collect();
    (
        NamedLayer::env("the environment", aliases),
        NamedLayer::env("the environment (STOCKD_*)", prefixed),
    )
}

/// Names of `STOCKD_*` variables that are not settings (typos, stale names).
pub(super) fn unknown_env_names(env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    env.into_iter()
        .filter_map(|(name, _)| {
            let key = name.strip_prefix("STOCKD_")?.to_ascii_lowercase();
            (!is_setting(&key)
                && !NOT_SETTINGS.contains(&key.as_str())
                && !key.starts_with("test_"))
            .then_some(name)
        })
        .collect()
}

fn is_setting(key: &str) -> bool {
    setting_names().contains(&key)
        || key.starts_with("features__")
        || key.starts_with("quotas__")
        || key.starts_with("limits__")
        || key.starts_with("signals__")
        || key.starts_with("news__")
        || key.starts_with("sentiment__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_field_is_a_setting_and_text_settings_are_settings() {
        let names = setting_names();
        for name in [
            "port",
            "symbol",
            "alphavantage_api_key",
            "database_url",
            "features",
            "log",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        for name in TEXT_SETTINGS {
            assert!(
                names.contains(name),
                "text setting {name} is not a Settings field"
            );
        }
        for (_, name) in ALIASES {
            assert!(
                names.contains(name),
                "alias target {name} is not a Settings field"
            );
        }
    }
}
