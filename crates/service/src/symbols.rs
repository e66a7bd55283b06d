//! Tracked symbols: the ones scheduled ingestion keeps fresh (with every watched symbol). A
//! symbol is taken on only once it is known: stored history exists, or a provider answers
//! for it.

use chrono::Utc;
use domain::Symbol;
use market::{MarketError, UpstreamBudget};
use providers::ProviderError;
use store::TrackedSymbol;

use crate::{Service, ServiceError};

impl Service {
    /// Every tracked symbol, in symbol order.
    pub async fn tracked_symbols(&self) -> Result<Vec<TrackedSymbol>, ServiceError> {
        Ok(self.store().tracked_symbols().await?)
    }

    /// Tracks `symbol` once it is known; whether it was added now.
    pub async fn track_symbol(
        &self,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<(TrackedSymbol, bool), ServiceError> {
        self.verify_known(symbol, budget).await?;
        Ok(self.store().track_symbol(symbol, Utc::now()).await?)
    }

    /// Stops tracking `symbol` (its stored history stays).
    pub async fn untrack_symbol(&self, symbol: Symbol) -> Result<(), ServiceError> {
        if self.store().untrack_symbol(symbol).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("{symbol} is not tracked")))
        }
    }

    /// Whether `symbol` may be tracked: stored history exists or a provider knows it (the read
    /// path asks them, charging `budget` if it must). 422 when every provider that answered
    /// said it does not; when none could answer (quota spent, breaker open, failures) the
    /// symbol is not taken on trust: the caller hears why, with the provider's `Retry-After`.
    pub async fn verify_known(
        &self,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<(), ServiceError> {
        match self.market().daily_with(symbol, budget).await {
            Ok(_) => Ok(()),
            Err(MarketError::Provider(
                ProviderError::UnknownSymbol { .. } | ProviderError::NoData { .. },
            )) => Err(ServiceError::Unprocessable(format!(
                "symbol: {symbol} is unknown: nothing is stored for it and no provider has daily history for it; check the ticker"
            ))),
            Err(cause) => Err(ServiceError::SymbolUnverified { symbol, cause }),
        }
    }
}
