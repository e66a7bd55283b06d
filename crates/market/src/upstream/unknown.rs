//! Negative caching: the symbols each provider said it does not know, remembered for a while
//! so a bad ticker costs at most one call per provider per `unknown_symbol_ttl` (free keys with
//! 25 calls a day cannot afford a typo being asked for on every request).
//!
//! Expiry is judged on tokio's clock, like the read-through cache, so tests can pause and
//! advance it; an expired answer stays until a new one replaces it or the bound evicts it (an
//! entry is a few dozen bytes, so the bound is what limits memory).

use std::time::Duration;

use domain::Symbol;
use foldhash::quality::RandomState;
use providers::ProviderError;
use quick_cache::sync::Cache;
use tokio::time::Instant;

/// Remembered (provider, symbol) answers; at most this many are kept.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone)]
struct Remembered {
    answer: ProviderError,
    until: Instant,
}

/// Which providers said which symbols are unknown, until when.
pub(crate) struct UnknownSymbols {
    ttl: Duration,
    cache: Cache<(&'static str, Symbol), Remembered, quick_cache::UnitWeighter, RandomState>,
}

impl std::fmt::Debug for UnknownSymbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnknownSymbols")
            .field("ttl", &self.ttl)
            .field("entries", &self.cache.len())
            .finish()
    }
}

impl UnknownSymbols {
    /// Remembers answers for `ttl`; a zero `ttl` remembers nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            // Keys are (provider, symbol) pairs a client can choose: the seeded hasher.
            cache: Cache::with(
                CAPACITY,
                CAPACITY as u64,
                quick_cache::UnitWeighter,
                RandomState::default(),
                Default::default(),
            ),
        }
    }

    /// The provider's remembered "unknown symbol" answer, while it is still current.
    pub(crate) async fn recall(
        &self,
        provider: &'static str,
        symbol: Symbol,
    ) -> Option<ProviderError> {
        let remembered = self.cache.get(&(provider, symbol))?;
        (Instant::now() < remembered.until).then_some(remembered.answer)
    }

    /// Remembers `answer` if it says the provider does not know the symbol.
    pub(crate) async fn remember(
        &self,
        provider: &'static str,
        symbol: Symbol,
        answer: &ProviderError,
    ) {
        if self.ttl.is_zero() || !matches!(answer, ProviderError::UnknownSymbol { .. }) {
            return;
        }
        let remembered = Remembered {
            answer: answer.clone(),
            until: Instant::now() + self.ttl,
        };
        self.cache.insert((provider, symbol), remembered);
    }
}
