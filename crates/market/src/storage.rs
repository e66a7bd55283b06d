//! The parts of the store the read path uses, and nothing more: [`Bars`] for what it serves
//! and refreshes, [`ProviderUsage`] for what its upstream chain spends.

use std::sync::Arc;

use store::{Bars, ProviderUsage, Store};

/// The read path's handles on the store: its bars and the providers' call counts and pauses.
///
/// Built from any store that has both parts (`Arc<dyn Store>`, `Arc<MemoryStore>`, …) with
/// `into()`, so [`crate::Market::new`] takes a whole store at the call site and keeps only these
/// two; [`MarketStore::new`] takes the parts separately (they may be different stores).
#[derive(Clone)]
pub struct MarketStore {
    pub(crate) bars: Arc<dyn Bars>,
    pub(crate) usage: Arc<dyn ProviderUsage>,
}

impl MarketStore {
    /// The read path over `bars`, counting provider calls in `usage`.
    pub fn new(bars: Arc<dyn Bars>, usage: Arc<dyn ProviderUsage>) -> Self {
        Self { bars, usage }
    }
}

impl std::fmt::Debug for MarketStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `ProviderUsage` is not `Debug`: a usage log has nothing worth printing.
        f.debug_struct("MarketStore")
            .field("bars", &self.bars)
            .finish_non_exhaustive()
    }
}

impl From<Arc<dyn Store>> for MarketStore {
    fn from(store: Arc<dyn Store>) -> Self {
        Self::new(store.clone(), store)
    }
}

impl<S: Bars + ProviderUsage + 'static> From<Arc<S>> for MarketStore {
    fn from(store: Arc<S>) -> Self {
        Self::new(store.clone(), store)
    }
}
