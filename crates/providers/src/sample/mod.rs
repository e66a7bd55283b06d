//! Real daily history bundled into the binary, so stockd answers with no key and no network.
//!
//! The data is `data/stocks.csv.gz`, public-domain Quandl WIKI prices for AAPL, FB, GOOG, IBM
//! and MSFT up to 2013-03-01, taken unchanged from the PyPI package bokeh-sampledata (origin,
//! licence and coverage in `data/README.md`). It is real but old: it is served as what it is,
//! with `source = "sample"`, and no price is ever invented for a symbol it does not hold.
//!
//! This module owns decoding that file (once, on first use) and answering [`MarketData`] calls
//! from it.

mod history;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Quote, Series, Symbol};

use crate::{MarketData, ProviderError};
use history::HISTORY;

/// The provider name used in provenance, metrics and errors.
const NAME: &str = "sample";

/// The bundled sample history as a provider.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    // Keeps construction going through `new`, so state can be added without breaking callers.
    _private: (),
}

impl Sample {
    /// The sample provider; the data is decoded on the first call that needs it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The symbols the sample holds, sorted.
    pub fn symbols(&self) -> Vec<Symbol> {
        HISTORY.keys().copied().collect()
    }

    fn bars(&self, symbol: Symbol) -> Result<&'static [domain::Bar], ProviderError> {
        if HISTORY.is_empty() {
            return Err(ProviderError::Upstream {
                provider: NAME,
                detail: "the bundled sample data could not be read; see the error log".to_owned(),
            });
        }
        match HISTORY.get(&symbol) {
            Some(bars) if !bars.is_empty() => Ok(bars),
            _ => Err(ProviderError::UnknownSymbol {
                symbol,
                detail: self.unknown_symbol_detail(),
            }),
        }
    }

    fn unknown_symbol_detail(&self) -> String {
        let symbols: Vec<&str> = HISTORY.keys().map(Symbol::as_str).collect();
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
        let bars = self.bars(symbol)?;
        Ok(Series::new(symbol, bars.to_vec(), NAME, Utc::now()))
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        let bars = self.bars(symbol)?;
        let (last, earlier) = bars.split_last().ok_or(ProviderError::NoData {
            provider: NAME,
            symbol,
        })?;
        Ok(Quote {
            symbol,
            price: last.close,
            previous_close: earlier.last().map(|bar| bar.close),
            trading_day: last.date,
            as_of: None,
            source: NAME.to_owned(),
            fetched_at: Utc::now(),
        })
    }
}
