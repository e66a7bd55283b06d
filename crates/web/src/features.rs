//! Feature flags: named switches that turn endpoints off per environment.
//!
//! Flags are read once at startup (config `[features]` table or `STOCKD_FEATURES__<NAME>=false`)
//! and decide how the router is built, so a disabled endpoint costs nothing per request: its
//! route answers 404 problem+json saying the feature is disabled here. Every flag defaults to on.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::problem_response;

/// A switchable capability. Code names a flag by its variant, so a misspelt flag does not
/// compile; configuration names it by [`Feature::name`], and an unknown name is refused at
/// load ([`Feature::from_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    DailyApi,
    Quotes,
    HistoryEod,
    HistoryDelta,
    MultiDaily,
    Indicators,
    Signals,
    News,
    IngestApi,
    ScheduledIngest,
    Archive,
    Accounts,
    Alerts,
    Stream,
    ApiDocs,
    Mcp,
}

impl Feature {
    /// Every flag stockd knows, in the order `/v1/features` lists them.
    pub const ALL: [Self; 16] = [
        Self::DailyApi,
        Self::Quotes,
        Self::HistoryEod,
        Self::HistoryDelta,
        Self::MultiDaily,
        Self::Indicators,
        Self::Signals,
        Self::News,
        Self::IngestApi,
        Self::ScheduledIngest,
        Self::Archive,
        Self::Accounts,
        Self::Alerts,
        Self::Stream,
        Self::ApiDocs,
        Self::Mcp,
    ];

    /// The flag's name in configuration (`[features]`, `STOCKD_FEATURES__<NAME>`) and in
    /// `/v1/features`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::DailyApi => "daily_api",
            Self::Quotes => "quotes",
            Self::HistoryEod => "history_eod",
            Self::HistoryDelta => "history_delta",
            Self::MultiDaily => "multi_daily",
            Self::Indicators => "indicators",
            Self::Signals => "signals",
            Self::News => "news",
            Self::IngestApi => "ingest_api",
            Self::ScheduledIngest => "scheduled_ingest",
            Self::Archive => "archive",
            Self::Accounts => "accounts",
            Self::Alerts => "alerts",
            Self::Stream => "stream",
            Self::ApiDocs => "api_docs",
            Self::Mcp => "mcp",
        }
    }

    /// What the flag switches, for `/v1/features`.
    pub const fn description(self) -> &'static str {
        match self {
            Self::DailyApi => "GET /v1/stocks/{symbol}/daily: OHLCV bars with provenance",
            Self::Quotes => "GET /v1/stocks/{symbol}/quote: latest quote",
            Self::HistoryEod => "GET /v1/stocks/{symbol}/eod: end-of-day bar for a day",
            Self::HistoryDelta => "GET /v1/stocks/{symbol}/delta: change over a range",
            Self::MultiDaily => "GET /v1/daily: several symbols in one call",
            Self::Indicators => {
                "GET /v1/stocks/{symbol}/indicators: technical indicators as date-aligned columns; GET /v1/indicators: their catalogue"
            }
            Self::Signals => {
                "GET /v1/stocks/{symbol}/signal, /signal/history and /signal/evaluation: composite signals and how their labels did"
            }
            Self::News => {
                "GET /v1/stocks/{symbol}/news, /v1/news and /v1/stocks/{symbol}/sentiment: stored news, its search, and daily sentiment with citations"
            }
            Self::IngestApi => "GET /v1/ingest/jobs: the ingestion queue",
            Self::ScheduledIngest => {
                "The ingest schedule (a job, not an endpoint): enqueue tracked symbols after each session"
            }
            Self::Archive => "Archive each finished ingest run to Parquet (a job)",
            Self::Accounts => {
                "Users and auth: /v1/auth/… (register, login, logout) and /v1/me/… (profile, API tokens, watchlist, channels)"
            }
            Self::Alerts => {
                "Price alerts: /v1/alerts/… (rules, pause/resume, events, backtests) and /v1/notifications (the delivery log)"
            }
            Self::Stream => {
                "GET /v1/stream: live quotes, alerts, notifications and signal changes (Server-Sent Events)"
            }
            Self::ApiDocs => "GET /docs and GET /openapi.json",
            Self::Mcp => {
                "POST /mcp: the Model Context Protocol server (streamable HTTP) for AI agents, with a personal API token"
            }
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Feature {
    type Err = String;

    /// The flag with this configuration name; an unknown name is an error that lists the
    /// known ones.
    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|feature| feature.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown feature '{name}'; known features: {}",
                    known.join(", ")
                )
            })
    }
}

/// Which flags are switched off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    disabled: BTreeSet<Feature>,
}

impl Features {
    /// Reads `name = on/off` settings; an unknown name is an error that lists the known ones.
    pub fn from_settings(settings: &BTreeMap<String, bool>) -> Result<Self, String> {
        let mut disabled = BTreeSet::new();
        for (name, enabled) in settings {
            let feature: Feature = name.parse()?;
            if !enabled {
                disabled.insert(feature);
            }
        }
        Ok(Self { disabled })
    }

    /// True unless the flag was switched off.
    pub fn is_enabled(&self, feature: Feature) -> bool {
        !self.disabled.contains(&feature)
    }
}

/// One flag and its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureState {
    pub name: &'static str,
    pub enabled: bool,
    pub description: &'static str,
}

/// Every feature flag and whether it is on here.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeaturesResponse {
    pub features: Vec<FeatureState>,
}

/// The feature flags of this deployment.
#[utoipa::path(get, path = "/v1/features", tag = "operations",
    responses((status = 200, description = "Flags and their state", body = FeaturesResponse)))]
pub async fn list_features(State(state): State<AppState>) -> Json<FeaturesResponse> {
    let features = &state.config().features;
    Json(FeaturesResponse {
        features: Feature::ALL
            .into_iter()
            .map(|f| FeatureState {
                name: f.name(),
                enabled: features.is_enabled(f),
                description: f.description(),
            })
            .collect(),
    })
}

/// The answer of every route whose feature is off.
pub(crate) fn disabled_response(feature: Feature) -> Response {
    problem_response(
        StatusCode::NOT_FOUND,
        "feature-disabled",
        "Feature disabled",
        format!("the feature '{feature}' is disabled on this deployment (see /v1/features)"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_default_on_and_unknown_names_are_refused() {
        let settings = BTreeMap::from([
            ("history_delta".to_owned(), false),
            ("quotes".to_owned(), true),
        ]);
        let features = Features::from_settings(&settings).unwrap();
        assert!(!features.is_enabled(Feature::HistoryDelta));
        assert!(features.is_enabled(Feature::Quotes));
        assert!(features.is_enabled(Feature::HistoryEod));
        let err =
            Features::from_settings(&BTreeMap::from([("histroy".to_owned(), false)])).unwrap_err();
        assert!(err.contains("unknown feature 'histroy'"), "{err}");
        assert!(err.contains("history_delta"), "{err}");
    }

    #[test]
    fn every_flag_is_named_by_its_configuration_name() {
        for feature in Feature::ALL {
            assert_eq!(feature.name().parse::<Feature>(), Ok(feature));
        }
        assert!("Alerts".parse::<Feature>().is_err());
        assert!("".parse::<Feature>().is_err());
    }
}
