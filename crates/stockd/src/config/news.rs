//! The `[news]` table (env `STOCKD_NEWS__<NAME>`): which news sources are asked, in what
//! order, and when and how much news ingestion fetches.
//!
//! No source (the default) turns news off: nothing is built, scheduled or fetched. Sources of a
//! vendor that also serves market data (`finnhub`, `alphavantage`, `polygon`) use that
//! provider's key and base URL (`finnhub_api_key`, …) and share its quota; `newsapi` has its
//! own key and quota (100 requests a day by default), `rss` needs a feed URL template and
//! `sim` invents labelled articles for demos. Every key and URL here is printed redacted.
//!
//! The schedule is a cron expression (default every 30 minutes) in `time_zone`; with
//! `trading_days_only` (default) fires on dates the NYSE is closed run nothing, and the first
//! run of the next trading day fetches what appeared meanwhile from each source's cursor.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};

use super::{ConfigError, Settings, chain::non_empty, invalid, redact};
use crate::duration;

/// The default news schedule: every 30 minutes.
pub const DEFAULT_SCHEDULE: &str = "*/30 * * * *";

/// A news source stockd can build, by its configuration name (also its quota table's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewsSourceName {
    Finnhub,
    NewsApi,
    AlphaVantage,
    Polygon,
    Rss,
    Sim,
}

impl NewsSourceName {
    /// Every source, in the order names are listed in errors.
    pub const ALL: [Self; 6] = [
        Self::Finnhub,
        Self::NewsApi,
        Self::AlphaVantage,
        Self::Polygon,
        Self::Rss,
        Self::Sim,
    ];

    /// The name used in settings, quotas and the source's own `provider`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finnhub => "finnhub",
            Self::NewsApi => "newsapi",
            Self::AlphaVantage => "alphavantage",
            Self::Polygon => "polygon",
            Self::Rss => "rss",
            Self::Sim => "sim",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// The `[news]` settings as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewsSetting {
    /// Sources asked for a symbol's news, in order (the first that answers wins): an array or
    /// a comma-separated list of `finnhub`, `newsapi`, `alphavantage`, `polygon`, `rss`,
    /// `sim`. Empty: news is off.
    #[serde(deserialize_with = "list")]
    pub sources: Vec<String>,
    /// NewsAPI key (secret), for the `newsapi` source.
    #[serde(serialize_with = "redact", default)]
    pub newsapi_api_key: Option<SecretString>,
    /// NewsAPI base URL (point it at a mock or a proxy).
    #[serde(serialize_with = "super::redact::url")]
    pub newsapi_base_url: String,
    /// The `rss` source's feed URL per symbol, with `{symbol}` where the symbol goes
    /// (`https://feeds.example.com/rss?s={symbol}`). Printed redacted: it may carry a token.
    #[serde(serialize_with = "super::redact::optional_url", default)]
    pub rss_url: Option<String>,
    /// When news ingestion runs: a cron expression (5 fields, or 6 with seconds).
    pub schedule: String,
    /// The schedule's IANA time zone.
    pub time_zone: String,
    /// Run only on dates the NYSE trades (by the New York date of the fire).
    pub trading_days_only: bool,
    /// Articles asked of a source per symbol and fetch (1 to 100).
    pub limit: u32,
    /// How far back a source is read for a symbol it has no cursor for yet.
    #[serde(with = "duration")]
    pub lookback: Duration,
}

impl Default for NewsSetting {
    fn default() -> Self {
        let fetch = ingest::NewsIngestConfig::default();
        Self {
            sources: Vec::new(),
            newsapi_api_key: None,
            newsapi_base_url: providers::news::newsapi::DEFAULT_BASE_URL.into(),
            rss_url: None,
            schedule: DEFAULT_SCHEDULE.into(),
            time_zone: ingest::schedule::DEFAULT_TIME_ZONE.into(),
            trading_days_only: true,
            limit: fetch.limit,
            lookback: fetch.lookback,
        }
    }
}

/// A list written as an array or as one comma-separated string (the environment's form).
fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Many(Vec<String>),
        One(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::Many(items) => items,
        Raw::One(text) => text.split(',').map(str::to_owned).collect(),
    }
    .into_iter()
    .map(|item| item.trim().to_owned())
    .filter(|item| !item.is_empty())
    .collect())
}

/// News: the sources to build, in order, what they need, and the ingestion schedule.
#[derive(Debug, Clone)]
pub struct NewsSection {
    /// In the order they are asked; empty: news is off.
    pub sources: Vec<NewsSourceName>,
    pub newsapi_key: Option<SecretString>,
    pub newsapi_base_url: String,
    /// The `rss` source's URL template (secret: it may carry a token).
    pub rss_url: Option<SecretString>,
    pub schedule: ingest::NewsSchedule,
    pub fetch: ingest::NewsIngestConfig,
}

impl NewsSection {
    /// Whether any source is configured.
    pub fn enabled(&self) -> bool {
        !self.sources.is_empty()
    }
}

/// Quota tables for upstreams that only serve news, with their free plans' defaults: NewsAPI's
/// Developer plan allows 100 requests a day; a feed has no published limit.
pub(super) const NEWS_ONLY_QUOTAS: [(&str, u64, u64); 2] = [("newsapi", 0, 100), ("rss", 0, 0)];

impl Settings {
    /// The news section, checked; the error names the setting at fault.
    pub(super) fn news(&self) -> Result<NewsSection, ConfigError> {
        let news = &self.news;
        let mut sources = Vec::new();
        for item in &news.sources {
            let name = NewsSourceName::parse(item).ok_or_else(|| {
                let known: Vec<_> = NewsSourceName::ALL.iter().map(|n| n.as_str()).collect();
                invalid(
                    "news.sources",
                    format!("unknown news source '{item}'; known: {}", known.join(", ")),
                )
            })?;
            if sources.contains(&name) {
                return Err(invalid("news.sources", format!("{item} is listed twice")));
            }
            if let Some(setting) = self.missing_news_key(name) {
                return Err(invalid(
                    "news.sources",
                    format!("{} needs an API key: set {setting}", name.as_str()),
                ));
            }
            sources.push(name);
        }
        if !(news.newsapi_base_url.starts_with("http://")
            || news.newsapi_base_url.starts_with("https://"))
        {
            return Err(invalid(
                "news.newsapi_base_url",
                format!(
                    "must be an http:// or https:// URL, got '{}'",
                    super::redact_url(&news.newsapi_base_url)
                ),
            ));
        }
        let rss_url = news
            .rss_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty());
        match rss_url {
            Some(template) => providers::news::rss::check_template(template).map_err(|err| {
                invalid(
                    "news.rss_url",
                    format!("{err} (got '{}')", super::redact_url(template)),
                )
            })?,
            None if sources.contains(&NewsSourceName::Rss) => {
                return Err(invalid(
                    "news.sources",
                    "rss needs a feed URL template: set news.rss_url, e.g. https://feeds.example.com/rss?s={symbol}",
                ));
            }
            None => {}
        }
        if !(1..=providers::news::MAX_LIMIT).contains(&news.limit) {
            return Err(invalid(
                "news.limit",
                format!("must be from 1 to {}", providers::news::MAX_LIMIT),
            ));
        }
        if !(Duration::from_secs(60)..=Duration::from_secs(90 * 24 * 3600)).contains(&news.lookback)
        {
            return Err(invalid("news.lookback", "must be from 1 minute to 90 days"));
        }
        let schedule = ingest::Schedule::new(&news.schedule, &news.time_zone).map_err(|err| {
            let setting = match err {
                ingest::ScheduleError::Cron { .. } => "news.schedule",
                ingest::ScheduleError::TimeZone(_) => "news.time_zone",
            };
            invalid(setting, err.to_string().replace("ingest_", "news."))
        })?;
        Ok(NewsSection {
            sources,
            newsapi_key: self.newsapi_key().cloned(),
            newsapi_base_url: news.newsapi_base_url.clone(),
            rss_url: rss_url.map(|url| SecretString::from(url.to_owned())),
            schedule: ingest::NewsSchedule {
                schedule,
                trading_days_only: news.trading_days_only,
            },
            fetch: ingest::NewsIngestConfig {
                limit: news.limit,
                lookback: news.lookback,
            },
        })
    }

    /// The NewsAPI key, if any (an empty value counts as unset).
    fn newsapi_key(&self) -> Option<&SecretString> {
        non_empty(self.news.newsapi_api_key.as_ref())
    }

    /// The setting to set when `name` needs a key that is not set.
    fn missing_news_key(&self, name: NewsSourceName) -> Option<&'static str> {
        let (setting, key) = match name {
            NewsSourceName::Finnhub => ("finnhub_api_key", self.finnhub_key()),
            NewsSourceName::AlphaVantage => ("alphavantage_api_key (APIKEY)", self.api_key()),
            NewsSourceName::Polygon => ("polygon_api_key", self.polygon_key()),
            NewsSourceName::NewsApi => ("news.newsapi_api_key", self.newsapi_key()),
            NewsSourceName::Rss | NewsSourceName::Sim => return None,
        };
        key.filter(|key| !key.expose_secret().trim().is_empty())
            .is_none()
            .then_some(setting)
    }
}
