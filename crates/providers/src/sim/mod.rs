//! `sim`: simulated live quotes, so alerts can be tried on a laptop with no API key.
//!
//! Each symbol the bundled sample holds gets a seeded random walk starting from its last real
//! close; every `quote` call is one step (a log-normal move of `volatility`, zero drift). Quotes
//! are labelled `source: "sim"` and are never stored as history: `daily` answers "not supported",
//! so a chain like `quote_providers = sim` with `daily_providers = sample` keeps real bars and
//! simulated ticks apart. Symbols the sample does not hold are unknown here too — nothing is
//! invented for them. The same seed gives the same walk, so tests and demos repeat.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Price, Quote, Symbol};

use crate::sample::Sample;
use crate::{MarketData, ProviderError};

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "sim";

/// How the walk moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// Seeds every symbol's walk (mixed with the symbol).
    pub seed: u64,
    /// Standard deviation of one step's log return (0.002 = 0.2 %).
    pub volatility: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            volatility: 0.002,
        }
    }
}

/// One symbol's walk.
#[derive(Debug)]
struct Walk {
    rng: fastrand::Rng,
    start: Price,
    price: f64,
}

/// Simulated live quotes over the sample's symbols.
#[derive(Debug)]
pub struct Sim {
    sample: Sample,
    config: SimConfig,
    walks: Mutex<HashMap<Symbol, Walk>>,
}

impl Sim {
    /// A simulator with its own walks.
    pub fn new(config: SimConfig) -> Self {
        Self {
            sample: Sample::new(),
            config,
            walks: Mutex::new(HashMap::new()),
        }
    }

    fn seed_for(&self, symbol: Symbol) -> u64 {
        // FNV-1a of the symbol, mixed with the seed: stable across runs and Rust releases.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in symbol.as_str().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^ self.config.seed
    }

    /// A standard normal draw (Box–Muller).
    fn normal(rng: &mut fastrand::Rng) -> f64 {
        let u1 = rng.f64().max(f64::MIN_POSITIVE);
        let u2 = rng.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[async_trait]
impl MarketData for Sim {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn daily(&self, _symbol: Symbol) -> Result<domain::Series, ProviderError> {
        Err(ProviderError::NotSupported {
            provider: NAME,
            capability: "daily history (simulated ticks are never history)",
        })
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let last = self.sample.quote(symbol).await?;
        let mut walks = self.walks.lock().unwrap_or_else(|p| p.into_inner());
        let walk = walks.entry(symbol).or_insert_with(|| Walk {
            rng: fastrand::Rng::with_seed(self.seed_for(symbol)),
            start: last.price,
            price: last.price.to_f64(),
        });
        let step = self.config.volatility * Self::normal(&mut walk.rng);
        walk.price *= step.exp();
        // Rounded to the cent, as exchanges quote; never below one cent.
        let cents = (walk.price * 100.0).round().max(1.0) / 100.0;
        let price = Price::from_f64(cents).unwrap_or(walk.start);
        let now = Utc::now();
        Ok(Quote {
            symbol,
            price,
            previous_close: Some(walk.start),
            trading_day: now.date_naive(),
            as_of: Some(now),
            source: NAME.to_owned(),
            fetched_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn msft() -> Symbol {
        Symbol::parse("MSFT").unwrap()
    }

    async fn walk(sim: &Sim, steps: usize) -> Vec<Price> {
        let mut prices = Vec::new();
        for _ in 0..steps {
            prices.push(sim.quote(msft()).await.unwrap().price);
        }
        prices
    }

    #[tokio::test]
    async fn the_walk_starts_at_the_last_real_close_and_moves() {
        let sim = Sim::new(SimConfig::default());
        let real = Sample::new().quote(msft()).await.unwrap().price;
        let quote = sim.quote(msft()).await.unwrap();
        assert_eq!(quote.source, "sim");
        assert_eq!(quote.previous_close, Some(real));
        let first = quote.price.to_f64();
        assert!(
            (first / real.to_f64() - 1.0).abs() < 0.02,
            "{first} vs {real}"
        );
        let prices = walk(&sim, 200).await;
        assert!(prices.windows(2).any(|w| w[0] != w[1]), "it moves");
        assert!(prices.iter().all(|p| p.is_positive()));
    }

    #[tokio::test]
    async fn the_same_seed_walks_the_same_path() {
        let a = walk(&Sim::new(SimConfig::default()), 50).await;
        let b = walk(&Sim::new(SimConfig::default()), 50).await;
        assert_eq!(a, b);
        let other = SimConfig {
            seed: 7,
            ..SimConfig::default()
        };
        assert_ne!(a, walk(&Sim::new(other), 50).await);
    }

    #[tokio::test]
    async fn nothing_is_invented_for_unknown_symbols_and_no_history_is_simulated() {
        let sim = Sim::new(SimConfig::default());
        let err = sim.quote(Symbol::parse("ZZZZ").unwrap()).await.unwrap_err();
        assert!(matches!(err, ProviderError::UnknownSymbol { .. }), "{err}");
        let err = sim.daily(msft()).await.unwrap_err();
        assert!(matches!(err, ProviderError::NotSupported { .. }), "{err}");
    }
}
