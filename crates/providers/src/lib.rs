//! Market-data providers: where prices come from.
//!
//! Every source sits behind the [`MarketData`] trait and answers in domain types
//! ([`Series`], [`Quote`]); vendor wire formats stay private to each vendor's module. Failures
//! are classified once, here, into [`ProviderError`] variants whose methods tell the read path
//! what to do: retry or not, count against the circuit breaker or not, which HTTP status a user
//! should see.
//!
//! - [`alphavantage`]: Alpha Vantage `TIME_SERIES_DAILY` and `GLOBAL_QUOTE`.
//! - [`sample`]: real daily history bundled into the binary (public-domain Quandl WIKI data for
//!   AAPL, FB, GOOG, IBM and MSFT), so stockd answers with no key and no network.
//!
//! This crate does no caching, retrying or breaking: that is the `market` crate's job.

pub mod alphavantage;
mod error;
mod parse;
pub mod sample;

use std::fmt::Debug;

use async_trait::async_trait;
use domain::{Quote, Series, Symbol};

pub use error::ProviderError;

/// A source of daily history and latest quotes.
#[async_trait]
pub trait MarketData: Send + Sync + Debug {
    /// The provider's stable name, used in provenance (`source`), metrics and config.
    fn name(&self) -> &'static str;

    /// The symbol's daily bars, as many as the provider gives in one call.
    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError>;

    /// The symbol's latest quote.
    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError>;
}
