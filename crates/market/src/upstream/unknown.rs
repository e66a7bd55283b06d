//! Negative caching: the symbols each provider said it does not know, remembered for a while
//! so a bad ticker costs at most one call per provider per `unknown_symbol_ttl` (free keys with
//! 25 calls a day cannot afford a typo being asked for on every request).
//!
//! Expiry is judged on tokio's clock, like the read-through cache, so tests can pause and
//! advance it; moka's own time-to-live (real time) only bounds how long memory is held.

use std::time::Duration;

use domain::Symbol;
use moka::future::Cache;
use providers::ProviderError;
use tokio::time::Instant;

/// Remembered (provider, symbol) answers; at most this many are kept.
const CAPACITY: u64 = 100_000;

#[derive(Debug, Clone)]
struct Remembered {
    answer: ProviderError,
    until: Instant,
}

/// Which providers said which symbols are unknown, until when.
pub(crate) struct UnknownSymbols {
    ttl: Duration,
    cache: Cache<(&'static str, Symbol), Remembered>,
}

impl std::fmt::Debug for UnknownSymbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnknownSymbols")
            .field("ttl", &self.ttl)
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

impl UnknownSymbols {
    /// Remembers answers for `ttl`; a zero `ttl` remembers nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        let mut builder = Cache::builder().max_capacity(CAPACITY);
        if !ttl.is_zero() {
            builder = builder.time_to_live(ttl);
        }
        Self {
            ttl,
            cache: builder.build(),
        }
    }

    /// The provider's remembered "unknown symbol" answer, while it is still current.
    pub(crate) async fn recall(
        &self,
        provider: &'static str,
        symbol: Symbol,
    ) -> Option<ProviderError> {
        let remembered = self.cache.get(&(provider, symbol)).await?;
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
        self.cache.insert((provider, symbol), remembered).await;
    }
}
