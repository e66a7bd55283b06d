//! Market-data providers: where prices come from.
//!
//! Every source sits behind the [`MarketData`] trait and answers in domain types
//! ([`Series`], [`Quote`]); vendor wire formats stay private to each vendor's module. Failures
//! are classified once, here, into [`ProviderError`] variants whose methods tell the read path
//! what to do: retry or not, count against the circuit breaker or not, which HTTP status a user
//! should see.
//!
//! - [`alphavantage`]: Alpha Vantage `TIME_SERIES_DAILY` and `GLOBAL_QUOTE`.
//! - [`finnhub`]: Finnhub `/quote` (latest quotes only; daily candles are premium, so `daily`
//!   answers [`ProviderError::NotSupported`] without a call).
//! - [`yahoo`]: the keyless Yahoo Finance v8 chart: decades of daily bars with adjusted closes,
//!   and quotes from the chart's metadata. Unofficial; a last-resort fallback.
//! - [`polygon`]: Polygon.io aggregates: about two years of daily bars in one call on a free
//!   key, and the previous session's close as a quote (not real-time).
//! - [`sample`]: real daily history bundled into the binary (public-domain Quandl WIKI data for
//!   AAPL, FB, GOOG, IBM and MSFT), so stockd answers with no key and no network.
//!
//! News sources sit behind a second trait, [`news::NewsSource`]: Finnhub, Alpha Vantage and
//! Polygon serve news with the same key as their prices (the same provider value implements
//! both traits), and [`news`] adds NewsAPI, RSS/Atom feeds and simulated headlines.
//!
//! This crate does no caching, retrying or breaking: that is the `market` crate's job.

pub mod alphavantage;
mod error;
pub mod finnhub;
mod http;
mod json_number;
pub mod news;
mod parse;
pub mod polygon;
pub mod sample;
pub mod sim;
pub mod yahoo;

use std::fmt::Debug;

use async_trait::async_trait;
use domain::{Quote, Series, Symbol};

pub use error::{ProviderError, RateLimit};

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
