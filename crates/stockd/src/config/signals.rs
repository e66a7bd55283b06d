//! The `[signals]` table (env `STOCKD_SIGNALS__<NAME>`, `STOCKD_SIGNALS__WEIGHTS__<COMPONENT>`,
//! `STOCKD_SIGNALS__THRESHOLDS__<LABEL>`): whether composite trading signals are computed after
//! each ingest run, how their components are weighted and where their labels change. The
//! weights and thresholds are the domain's own types, checked by `domain::SignalsConfig`, so
//! the computation and this file agree on one definition and one set of defaults.

use domain::{SignalThresholds, SignalWeights, SignalsConfig};
use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings, invalid};

/// The `[signals]` settings as read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalsSetting {
    /// Compute and store signals for the tracked symbols after each ingest run.
    pub enabled: bool,
    /// Each component's weight (any non-negative numbers; a missing component's share goes to
    /// the others in proportion).
    pub weights: SignalWeights,
    /// The scores at which labels change.
    pub thresholds: SignalThresholds,
}

impl Default for SignalsSetting {
    fn default() -> Self {
        Self {
            enabled: true,
            weights: SignalWeights::default(),
            thresholds: SignalThresholds::default(),
        }
    }
}

impl Settings {
    /// The signals' weights and thresholds, checked; the error names the setting at fault.
    pub(super) fn signals_config(&self) -> Result<SignalsConfig, ConfigError> {
        SignalsConfig::new(self.signals.weights, self.signals.thresholds)
            .map_err(|err| invalid(err.setting, err.reason))
    }
}
