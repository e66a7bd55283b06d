//! Real daily history bundled into the binary, so stockd answers with no key and no network.
//!
//! The data is `data/stocks.csv.gz`, public-domain Quandl WIKI prices for AAPL, FB, GOOG, IBM
//! and MSFT up to 2013-03-01, taken unchanged from the PyPI package bokeh-sampledata (origin,
//! licence and coverage in `data/README.md`). It is real but old: it is served as what it is,
//! with `source = "sample"`, and no price is ever invented for a symbol it does not hold.
//!
//! This module owns decoding that file (a symbol's history on each `daily` call, a summary of
//! every symbol once) and answering [`MarketData`] calls from it.

mod history;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Quote, Series, Symbol};

use crate::{MarketData, ProviderError};
use history::SUMMARY;

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "sample";

/// The bundled sample history as a provider.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    // Keeps construction going through `new`, so state can be added without breaking callers.
    _private: (),
}

impl Sample {
    /// The sample provider; the data is decoded when a call needs it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The symbols the sample holds, sorted.
    pub fn symbols(&self) -> Vec<Symbol> {
        SUMMARY.keys().copied().collect()
    }

    /// The summary of `symbol`, or why there is none.
    fn latest(&self, symbol: Symbol) -> Result<&'static history::Latest, ProviderError> {
        if SUMMARY.is_empty() {
            return Err(ProviderError::Upstream {
                provider: NAME,
                detail: "the bundled sample data could not be read; see the error log".to_owned(),
            });
        }
        SUMMARY
            .get(&symbol)
            .ok_or_else(|| ProviderError::UnknownSymbol {
                symbol,
                detail: self.unknown_symbol_detail(),
            })
    }

    fn unknown_symbol_detail(&self) -> String {
        let symbols: Vec<&str> = SUMMARY.keys().map(Symbol::as_str).collect();
        format!(
            "the bundled sample data has {}; set APIKEY=<your Alpha Vantage key> to serve live \
             data for any symbol",
            symbols.join(", ")
        )
    }
}

#[async_trait]
impl MarketData for Sample {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError> {
        self.latest(symbol)?;
        // Decoding is CPU work of a few milliseconds: off the async workers.
        let bars = tokio::task::spawn_blocking(move || history::bars_of(symbol))
            .await
            .map_err(|_| ProviderError::Upstream {
                provider: NAME,
                detail: "decoding the bundled sample data stopped unexpectedly".to_owned(),
            })?;
        Ok(Series::new(symbol, bars, NAME, Utc::now()))
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let latest = self.latest(symbol)?;
        Ok(Quote {
            symbol,
            price: latest.last.close,
            previous_close: latest.previous_close,
            trading_day: latest.last.date,
            as_of: None,
            source: NAME.to_owned(),
            fetched_at: Utc::now(),
        })
    }
}
