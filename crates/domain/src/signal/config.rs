//! How signals are weighted and labelled: the `[signals]` settings as one checked value, shared
//! by the computation and the binary that reads the configuration.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{ComponentName, ComponentWeight, SignalError, SignalLabel, SignalMethod};

/// The weight of each component before renormalisation (any non-negative numbers; only their
/// ratios matter). `sentiment` counts only when a news source gives one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalWeights {
    pub trend: f64,
    pub momentum: f64,
    pub mean_reversion: f64,
    pub volatility: f64,
    pub sentiment: f64,
}

impl Default for SignalWeights {
    fn default() -> Self {
        Self {
            trend: 0.35,
            momentum: 0.25,
            mean_reversion: 0.2,
            volatility: 0.2,
            sentiment: 0.25,
        }
    }
}

impl SignalWeights {
    /// The configured weight of `name`.
    pub fn of(&self, name: ComponentName) -> f64 {
        match name {
            ComponentName::Trend => self.trend,
            ComponentName::Momentum => self.momentum,
            ComponentName::MeanReversion => self.mean_reversion,
            ComponentName::Volatility => self.volatility,
            ComponentName::Sentiment => self.sentiment,
        }
    }

    /// The weights of the components `present`, scaled to sum to 1 (a missing component's share
    /// goes to the others in proportion), in the order given. [`SignalError::NoWeight`] when
    /// every present component weighs 0.
    pub fn renormalised(
        &self,
        present: &[ComponentName],
    ) -> Result<Vec<(ComponentName, ComponentWeight)>, SignalError> {
        let total: f64 = present.iter().map(|name| self.of(*name)).sum();
        if !(total.is_finite() && total > 0.0) {
            return Err(SignalError::NoWeight);
        }
        present
            .iter()
            .map(|name| {
                // Rounding may leave a lone weight at 1 + ε: clamp into the valid range.
                let share = (self.of(*name) / total).clamp(0.0, 1.0);
                Ok((*name, ComponentWeight::new(share)?))
            })
            .collect()
    }
}

/// The scores at which labels change: at or above `strong_buy` is strong_buy, at or above `buy`
/// is buy, at or below `strong_sell` strong_sell, at or below `sell` sell, and between them
/// neutral.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalThresholds {
    pub strong_buy: f64,
    pub buy: f64,
    pub sell: f64,
    pub strong_sell: f64,
}

impl Default for SignalThresholds {
    fn default() -> Self {
        Self {
            strong_buy: 0.6,
            buy: 0.2,
            sell: -0.2,
            strong_sell: -0.6,
        }
    }
}

/// A `[signals]` setting that cannot be used; `setting` names it as the configuration file does
/// (`signals.weights.trend`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct SignalsConfigError {
    pub setting: &'static str,
    pub reason: String,
}

fn refuse(setting: &'static str, reason: impl Into<String>) -> SignalsConfigError {
    SignalsConfigError {
        setting,
        reason: reason.into(),
    }
}

/// Checked weights and thresholds: every weight finite and at least 0, not all 0; thresholds
/// within [-1, 1] and ordered `strong_sell ≤ sell < buy ≤ strong_buy`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SignalsConfig {
    weights: SignalWeights,
    thresholds: SignalThresholds,
}

impl SignalsConfig {
    /// Checks `weights` and `thresholds`; the error names the first setting at fault.
    pub fn new(
        weights: SignalWeights,
        thresholds: SignalThresholds,
    ) -> Result<Self, SignalsConfigError> {
        let named_weights = [
            ("signals.weights.trend", weights.trend),
            ("signals.weights.momentum", weights.momentum),
            ("signals.weights.mean_reversion", weights.mean_reversion),
            ("signals.weights.volatility", weights.volatility),
            ("signals.weights.sentiment", weights.sentiment),
        ];
        for (setting, weight) in named_weights {
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(refuse(
                    setting,
                    format!("must be a number of at least 0, got {weight}"),
                ));
            }
        }
        if named_weights.iter().all(|(_, weight)| *weight == 0.0) {
            return Err(refuse(
                "signals.weights",
                "at least one component must weigh more than 0",
            ));
        }
        let named_thresholds = [
            ("signals.thresholds.strong_sell", thresholds.strong_sell),
            ("signals.thresholds.sell", thresholds.sell),
            ("signals.thresholds.buy", thresholds.buy),
            ("signals.thresholds.strong_buy", thresholds.strong_buy),
        ];
        for (setting, threshold) in named_thresholds {
            if !(threshold.is_finite() && (-1.0..=1.0).contains(&threshold)) {
                return Err(refuse(
                    setting,
                    format!("must be a number from -1 to 1, got {threshold}"),
                ));
            }
        }
        if thresholds.strong_sell > thresholds.sell {
            return Err(refuse(
                "signals.thresholds.strong_sell",
                format!(
                    "must be at most signals.thresholds.sell ({}), got {}",
                    thresholds.sell, thresholds.strong_sell
                ),
            ));
        }
        if thresholds.sell >= thresholds.buy {
            return Err(refuse(
                "signals.thresholds.sell",
                format!(
                    "must be below signals.thresholds.buy ({}), got {}",
                    thresholds.buy, thresholds.sell
                ),
            ));
        }
        if thresholds.buy > thresholds.strong_buy {
            return Err(refuse(
                "signals.thresholds.strong_buy",
                format!(
                    "must be at least signals.thresholds.buy ({}), got {}",
                    thresholds.buy, thresholds.strong_buy
                ),
            ));
        }
        Ok(Self {
            weights,
            thresholds,
        })
    }

    pub fn weights(&self) -> &SignalWeights {
        &self.weights
    }

    pub fn thresholds(&self) -> &SignalThresholds {
        &self.thresholds
    }

    /// The label of a composite `score` under these thresholds.
    pub fn label_for(&self, score: f64) -> SignalLabel {
        let t = &self.thresholds;
        if score >= t.strong_buy {
            SignalLabel::StrongBuy
        } else if score >= t.buy {
            SignalLabel::Buy
        } else if score <= t.strong_sell {
            SignalLabel::StrongSell
        } else if score <= t.sell {
            SignalLabel::Sell
        } else {
            SignalLabel::Neutral
        }
    }

    /// The method name of `algorithm` (the computation's own version, e.g. `v1`) run with these
    /// weights and thresholds: `<algorithm>-<8 hex digits>`, the digits a fingerprint of every
    /// number, so that changing one names a new method and never rewrites stored signals.
    ///
    /// The fingerprint is FNV-1a over the numbers' shortest round-trip text: the same in every
    /// build and on every replica (std's hasher is seeded per process).
    pub fn method(&self, algorithm: &str) -> Result<SignalMethod, SignalError> {
        let (w, t) = (&self.weights, &self.thresholds);
        let mut canonical = String::new();
        for value in [
            w.trend,
            w.momentum,
            w.mean_reversion,
            w.volatility,
            w.sentiment,
            t.strong_buy,
            t.buy,
            t.sell,
            t.strong_sell,
        ] {
            // `+ 0.0` prints -0 as 0: equal settings, one name.
            let _ = write!(canonical, "{};", value + 0.0);
        }
        let mut hash: u32 = 0x811c_9dc5;
        for byte in canonical.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        SignalMethod::parse(&format!("{algorithm}-{hash:08x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_default_thresholds_inclusively() {
        let config = SignalsConfig::default();
        let cases = [
            (1.0, SignalLabel::StrongBuy),
            (0.6, SignalLabel::StrongBuy),
            (0.59, SignalLabel::Buy),
            (0.2, SignalLabel::Buy),
            (0.19, SignalLabel::Neutral),
            (0.0, SignalLabel::Neutral),
            (-0.19, SignalLabel::Neutral),
            (-0.2, SignalLabel::Sell),
            (-0.59, SignalLabel::Sell),
            (-0.6, SignalLabel::StrongSell),
            (-1.0, SignalLabel::StrongSell),
        ];
        for (score, label) in cases {
            assert_eq!(config.label_for(score), label, "{score}");
        }
    }

    #[test]
    fn defaults_are_the_documented_ones_and_pass_their_own_checks() {
        let weights = SignalWeights::default();
        assert_eq!(
            [
                weights.trend,
                weights.momentum,
                weights.mean_reversion,
                weights.volatility,
                weights.sentiment
            ],
            [0.35, 0.25, 0.2, 0.2, 0.25]
        );
        let config = SignalsConfig::new(weights, SignalThresholds::default()).unwrap();
        assert_eq!(config, SignalsConfig::default());
    }

    #[test]
    fn a_missing_component_gives_its_weight_to_the_others_in_proportion() {
        let weights = SignalWeights::default();
        let without_sentiment = [
            ComponentName::Trend,
            ComponentName::Momentum,
            ComponentName::MeanReversion,
            ComponentName::Volatility,
        ];
        let shares = weights.renormalised(&without_sentiment).unwrap();
        let sum: f64 = shares.iter().map(|(_, w)| w.get()).sum();
        assert!((sum - 1.0).abs() < 1e-12, "{sum}");
        assert_eq!(shares[0].0, ComponentName::Trend);
        assert!(
            (shares[0].1.get() - 0.35).abs() < 1e-12,
            "1 = 0.35+0.25+0.2+0.2"
        );

        let zero_trend = SignalWeights {
            trend: 0.0,
            ..weights
        };
        assert_eq!(
            zero_trend.renormalised(&[ComponentName::Trend]),
            Err(SignalError::NoWeight)
        );
        assert_eq!(weights.renormalised(&[]), Err(SignalError::NoWeight));
    }

    #[test]
    fn bad_weights_and_thresholds_are_refused_naming_the_setting() {
        let thresholds = SignalThresholds::default();
        let negative = SignalWeights {
            momentum: -0.1,
            ..SignalWeights::default()
        };
        let err = SignalsConfig::new(negative, thresholds).unwrap_err();
        assert_eq!(err.setting, "signals.weights.momentum");
        let nan = SignalWeights {
            volatility: f64::NAN,
            ..SignalWeights::default()
        };
        assert_eq!(
            SignalsConfig::new(nan, thresholds).unwrap_err().setting,
            "signals.weights.volatility"
        );
        let zero = SignalWeights {
            trend: 0.0,
            momentum: 0.0,
            mean_reversion: 0.0,
            volatility: 0.0,
            sentiment: 0.0,
        };
        assert_eq!(
            SignalsConfig::new(zero, thresholds).unwrap_err().setting,
            "signals.weights"
        );

        let weights = SignalWeights::default();
        let cases = [
            (
                SignalThresholds {
                    strong_buy: 1.5,
                    ..thresholds
                },
                "signals.thresholds.strong_buy",
            ),
            (
                SignalThresholds {
                    strong_sell: -0.1,
                    ..thresholds
                },
                "signals.thresholds.strong_sell",
            ),
            (
                SignalThresholds {
                    sell: 0.3,
                    ..thresholds
                },
                "signals.thresholds.sell",
            ),
            (
                SignalThresholds {
                    buy: 0.7,
                    ..thresholds
                },
                "signals.thresholds.strong_buy",
            ),
        ];
        for (bad, setting) in cases {
            let err = SignalsConfig::new(weights, bad).unwrap_err();
            assert_eq!(err.setting, setting, "{err}");
        }
    }

    #[test]
    fn a_change_of_any_number_names_a_new_method() {
        let default = SignalsConfig::default();
        let method = default.method("v1").unwrap();
        // A fixed value: a change here renames every deployment's default method, and their
        // stored signals would stop being the latest.
        assert_eq!(method.as_str(), "v1-f34f5ca0");
        assert_eq!(default.method("v1").unwrap(), method, "stable");
        assert_ne!(default.method("v2").unwrap(), method);
        let reweighted = SignalsConfig::new(
            SignalWeights {
                trend: 0.4,
                ..SignalWeights::default()
            },
            SignalThresholds::default(),
        )
        .unwrap();
        assert_ne!(reweighted.method("v1").unwrap(), method);
        let relabelled = SignalsConfig::new(
            SignalWeights::default(),
            SignalThresholds {
                buy: 0.25,
                ..SignalThresholds::default()
            },
        )
        .unwrap();
        assert_ne!(relabelled.method("v1").unwrap(), method);
        assert!(default.method("V1").is_err());
    }
}
