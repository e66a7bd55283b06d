//! Feature flags: named switches that turn endpoints off per environment.
//!
//! Flags are read once at startup (config `[features]` table or `STOCKD_FEATURES__<NAME>=false`)
//! and decide how the router is built, so a disabled endpoint costs nothing per request: its
//! route answers 404 problem+json saying the feature is disabled here. Every flag defaults to on.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::problem_response;

/// A switchable capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub name: &'static str,
    pub description: &'static str,
}

/// Every flag stockd knows, in the order `/v1/features` lists them.
pub const FEATURES: &[Feature] = &[
    Feature {
        name: "daily_api",
        description: "GET /v1/stocks/{symbol}/daily: OHLCV bars with provenance",
    },
    Feature {
        name: "quotes",
        description: "GET /v1/stocks/{symbol}/quote: latest quote",
    },
    Feature {
        name: "history_eod",
        description: "GET /v1/stocks/{symbol}/eod: end-of-day bar for a day",
    },
    Feature {
        name: "history_delta",
        description: "GET /v1/stocks/{symbol}/delta: change over a range",
    },
    Feature {
        name: "multi_daily",
        description: "GET /v1/daily: several symbols in one call",
    },
    Feature {
        name: "ingest_api",
        description: "GET /v1/ingest/jobs: the ingestion queue",
    },
    Feature {
        name: "scheduled_ingest",
        description: "The ingest schedule (a job, not an endpoint): enqueue tracked symbols after each session",
    },
    Feature {
        name: "archive",
        description: "Archive each finished ingest run to Parquet (a job)",
    },
    Feature {
        name: "accounts",
        description: "Users and auth: /v1/auth/… (register, login, logout) and /v1/me/… (profile, API tokens, watchlist, channels)",
    },
    Feature {
        name: "alerts",
        description: "Price alerts: /v1/alerts/… (rules, pause/resume, events, backtests) and /v1/notifications (the delivery log)",
    },
    Feature {
        name: "api_docs",
        description: "GET /docs and GET /openapi.json",
    },
];

/// Which flags are switched off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    disabled: BTreeSet<&'static str>,
}

impl Features {
    /// Reads `name = on/off` settings; an unknown name is an error that lists the known ones.
    pub fn from_settings(settings: &BTreeMap<String, bool>) -> Result<Self, String> {
        let mut disabled = BTreeSet::new();
        for (name, enabled) in settings {
            let feature = FEATURES.iter().find(|f| f.name == name).ok_or_else(|| {
                let known: Vec<&str> = FEATURES.iter().map(|f| f.name).collect();
                format!(
                    "unknown feature '{name}'; known features: {}",
                    known.join(", ")
                )
            })?;
            if !enabled {
                disabled.insert(feature.name);
            }
        }
        Ok(Self { disabled })
    }

    /// True unless the flag was switched off.
    pub fn is_enabled(&self, name: &str) -> bool {
        !self.disabled.contains(name)
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
        features: FEATURES
            .iter()
            .map(|f| FeatureState {
                name: f.name,
                enabled: features.is_enabled(f.name),
                description: f.description,
            })
            .collect(),
    })
}

/// The answer of every route whose feature is off.
pub(crate) fn disabled_response(name: &'static str) -> Response {
    problem_response(
        StatusCode::NOT_FOUND,
        "feature-disabled",
        "Feature disabled",
        format!("the feature '{name}' is disabled on this deployment (see /v1/features)"),
        None,
    )
}

/// The routes of one feature: as given when `enabled`, else every path answering 404
/// `feature-disabled` whatever the method (so a disabled path never falls through to another
/// route, such as `/{symbol}/{days}`).
pub(crate) fn feature_routes(
    feature: &'static str,
    enabled: bool,
    paths: impl IntoIterator<Item = (&'static str, axum::routing::MethodRouter<AppState>)>,
) -> axum::Router<AppState> {
    paths
        .into_iter()
        .fold(axum::Router::new(), |router, (path, route)| {
            if enabled {
                router.route(path, route)
            } else {
                router.route(
                    path,
                    axum::routing::any(move || async move { disabled_response(feature) }),
                )
            }
        })
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
        assert!(!features.is_enabled("history_delta"));
        assert!(features.is_enabled("quotes"));
        assert!(features.is_enabled("history_eod"));
        let err =
            Features::from_settings(&BTreeMap::from([("histroy".to_owned(), false)])).unwrap_err();
        assert!(err.contains("history_delta"), "{err}");
    }
}
