//! Call quotas per provider: the `[quotas.<provider>]` tables (`per_minute`, `per_day`; env
//! `STOCKD_QUOTAS__ALPHAVANTAGE__PER_DAY=…`), their defaults, and their check at load.
//!
//! The defaults are the free plans' published limits, so a fresh deployment never spends more
//! than a free key allows. A table given in the file or the environment is merged over its
//! default field by field: setting `per_day` keeps the default `per_minute`. 0 is unlimited.
//!
//! News-only sources have tables too: `newsapi` (100 a day, the Developer plan) and `rss`
//! (unlimited); news sources of market-data vendors share that vendor's table.
//!
//! `reserved_per_minute` / `reserved_per_day` keep part of a limited window for scheduled
//! ingestion of the tracked symbols: requests stop at the limit less the reserve.

use std::collections::BTreeMap;

use market::QuotaLimits;
use serde::{Deserialize, Serialize};

use super::news::NEWS_ONLY_QUOTAS;
use super::{ConfigError, ProviderName, Settings, invalid};

/// One provider's quota; 0 is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSetting {
    /// Calls per UTC minute.
    #[serde(default)]
    pub per_minute: u64,
    /// Calls per UTC day (the day starts at 00:00 UTC).
    #[serde(default)]
    pub per_day: u64,
    /// Of `per_minute`, the calls only scheduled ingestion may make.
    #[serde(default)]
    pub reserved_per_minute: u64,
    /// Of `per_day`, the calls only scheduled ingestion may make.
    #[serde(default)]
    pub reserved_per_day: u64,
}

impl ProviderName {
    /// The quota a free plan allows, and the part of it kept for scheduled ingestion.
    fn default_quota(self) -> QuotaSetting {
        let ((per_minute, per_day), (reserved_per_minute, reserved_per_day)) = match self {
            // Free keys: 25 requests a day; the per-minute cap of 5 is from the older terms
            // and still guards against a burst spending the day at once. Ingestion keeps one
            // call a minute and 10 a day: a nightly run of 10 tracked symbols, whatever
            // anonymous readers asked for.
            Self::AlphaVantage => ((5, 25), (1, 10)),
            // Free plan: 60 calls a minute (and 30 a second on every plan). No daily history
            // on the free plan, so ingestion has nothing to keep here.
            Self::Finnhub => ((60, 0), (0, 0)),
            // Free (Basic) plan: 5 calls a minute; one kept for ingestion.
            Self::Polygon => ((5, 0), (1, 0)),
            // Unofficial and unpublished, with aggressive 429s reported: one call a second
            // keeps a fallback well clear of them, and a 429 spends the minute anyway.
            Self::Yahoo => ((60, 0), (10, 0)),
            // Bundled data and a local simulation: no upstream to spare.
            Self::Sample | Self::Sim => ((0, 0), (0, 0)),
        };
        QuotaSetting {
            per_minute,
            per_day,
            reserved_per_minute,
            reserved_per_day,
        }
    }
}

/// Every provider's default quota, as `Settings::default` holds them (so `stockd config` prints
/// them and a partial table merges over them).
pub(super) fn defaults() -> BTreeMap<String, QuotaSetting> {
    let news_only = NEWS_ONLY_QUOTAS
        .into_iter()
        .map(|(name, per_minute, per_day)| {
            let quota = QuotaSetting {
                per_minute,
                per_day,
                reserved_per_minute: 0,
                reserved_per_day: 0,
            };
            (name.to_owned(), quota)
        });
    ProviderName::ALL
        .into_iter()
        .map(|name| (name.as_str().to_owned(), name.default_quota()))
        .chain(news_only)
        .collect()
}

impl Settings {
    /// The quota per provider name, for the read path; an unknown name was refused at load.
    pub(super) fn quota_limits(&self) -> BTreeMap<String, QuotaLimits> {
        self.quotas
            .iter()
            .filter_map(|(key, setting)| {
                let name = upstream_named(key)?;
                let limits = QuotaLimits {
                    per_minute: setting.per_minute,
                    per_day: setting.per_day,
                    reserved_per_minute: setting.reserved_per_minute,
                    reserved_per_day: setting.reserved_per_day,
                };
                Some((name.to_owned(), limits))
            })
            .collect()
    }

    /// Refuses a `[quotas.<name>]` table for a provider stockd does not know (a typo would
    /// otherwise leave the real provider at its default silently).
    /// A reserve larger than its limited window is refused too (requests would get nothing
    /// and ingestion no more than the limit); on an unlimited window it is ignored.
    pub(super) fn validate_quotas(&self) -> Result<(), ConfigError> {
        for (key, setting) in &self.quotas {
            if upstream_named(key).is_none() {
                let known: Vec<_> = upstream_names().collect();
                return Err(invalid(
                    "quotas",
                    format!("unknown provider '{key}'; known: {}", known.join(", ")),
                ));
            }
            for (window, limit, reserved) in [
                ("minute", setting.per_minute, setting.reserved_per_minute),
                ("day", setting.per_day, setting.reserved_per_day),
            ] {
                if limit > 0 && reserved > limit {
                    return Err(invalid(
                        "quotas",
                        format!(
                            "quotas.{key}.reserved_per_{window} ({reserved}) must be at most quotas.{key}.per_{window} ({limit})"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The provider a table key names, exactly (lower case, as the defaults are keyed: a table
/// `AlphaVantage` beside the default `alphavantage` would be two tables for one provider).
fn upstream_named(key: &str) -> Option<&'static str> {
    upstream_names().find(|name| *name == key)
}

/// Every upstream with a quota: the market-data providers, then the news-only sources.
fn upstream_names() -> impl Iterator<Item = &'static str> {
    ProviderName::ALL
        .into_iter()
        .map(ProviderName::as_str)
        .chain(NEWS_ONLY_QUOTAS.into_iter().map(|(name, _, _)| name))
}
