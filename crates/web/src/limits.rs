//! The limits the HTTP edge enforces: per-client allowances of public reads
//! ([`reads::ReadLimiter`], answered with 429 and `Retry-After`) and per-user caps on what an
//! account may create ([`UserCaps`], answered with 409 naming the cap).

pub(crate) mod clients;
pub mod reads;

pub use reads::{PublicRead, ReadLimits};

/// Everything the edge limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub reads: ReadLimits,
    pub per_user: UserCaps,
}

/// The most of each thing one user may have; 0 turns a cap off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserCaps {
    /// Alert rules (`max_rules_per_user`).
    pub rules: u32,
    /// Notification channels (`max_channels_per_user`).
    pub channels: u32,
    /// Symbols on the watchlist (`max_watched_symbols_per_user`); each is tracked, so each
    /// costs upstream calls every scheduled ingest.
    pub watched_symbols: u32,
    /// Personal API tokens (`max_tokens_per_user`).
    pub tokens: u32,
}

impl Default for UserCaps {
    fn default() -> Self {
        Self {
            rules: 100,
            channels: 20,
            watched_symbols: 50,
            tokens: 20,
        }
    }
}

impl UserCaps {
    /// The cap as the store takes it: `None` when off.
    pub(crate) fn of(cap: u32) -> Option<u32> {
        (cap > 0).then_some(cap)
    }
}
