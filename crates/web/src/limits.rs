//! The limits the HTTP edge enforces: per-client allowances of public reads
//! ([`reads::ReadLimiter`], answered with 429 and `Retry-After`) and per-user caps on what an
//! account may create ([`UserCaps`], answered with 409 naming the cap).

pub(crate) mod clients;
pub mod reads;

pub use reads::{PublicRead, ReadLimits};
/// Per-user caps are the use cases' (they enforce them): `service::UserCaps`.
pub use service::UserCaps;

/// Everything the edge limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub reads: ReadLimits,
    pub per_user: UserCaps,
}
