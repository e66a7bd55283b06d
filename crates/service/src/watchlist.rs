//! The caller's watched symbols. A watched symbol is tracked (ingestion keeps it fresh) while
//! anyone watches it: `Store::tracked_symbols` includes every watchlist. So a symbol is
//! watched only once it is known ([`Service::verify_known`]), and a user watches at most
//! `max_watched_symbols_per_user` of them.

use chrono::Utc;
use domain::Symbol;
use market::UpstreamBudget;
use store::{Capped, Owned, WatchedSymbol};

use crate::{Caller, Service, ServiceError, UserCaps};

/// The 409 of a full watchlist.
fn full(cap: u32) -> ServiceError {
    ServiceError::CapReached {
        setting: "max_watched_symbols_per_user",
        cap,
        detail: format!(
            "you watch {cap} symbols, the most one account may; remove one (DELETE /v1/me/watchlist/{{symbol}}) before adding another"
        ),
    }
}

impl Service {
    /// Up to `limit` of the caller's watched symbols after `after`, in symbol order.
    pub async fn watchlist(
        &self,
        caller: &Caller,
        after: Option<Symbol>,
        limit: u32,
    ) -> Result<Vec<WatchedSymbol>, ServiceError> {
        Ok(self
            .store()
            .watchlist_page(&caller.user.id, after, limit)
            .await?)
    }

    /// Watches `symbol` (checking it with the providers, charging `budget`, only when it is
    /// not watched yet and the list has room); whether it was added now.
    pub async fn watch(
        &self,
        caller: &Caller,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<(WatchedSymbol, bool), ServiceError> {
        let store = self.store();
        let user = &caller.user.id;
        if let Some(watched) = store.watched_symbol(user, symbol).await? {
            return Ok((watched, false));
        }
        let cap = UserCaps::of(self.settings().caps.watched_symbols);
        // Checked before the symbol is, so a full list spends no provider call; the insert
        // below checks again, under the owner's lock.
        if let Some(cap) = cap
            && store.count_owned(user, Owned::WatchedSymbols).await? >= u64::from(cap)
        {
            return Err(full(cap));
        }
        self.verify_known(symbol, budget).await?;
        match store.watch_within(user, symbol, Utc::now(), cap).await? {
            Capped::Created(outcome) => Ok(outcome),
            Capped::Full => Err(full(cap.unwrap_or_default())),
        }
    }

    /// Stops watching `symbol`.
    pub async fn unwatch(&self, caller: &Caller, symbol: Symbol) -> Result<(), ServiceError> {
        if self.store().unwatch(&caller.user.id, symbol).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!(
                "{symbol} is not on your watchlist"
            )))
        }
    }
}
