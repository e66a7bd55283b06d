//! `stockd symbols`: the global list of tracked symbols that ingestion keeps fresh.
//!
//! `add` tracks a symbol only once it is known: stored history exists, or a configured
//! provider answers for it (through the read path, so quotas and the memory of unknown
//! symbols apply). A symbol no provider knows, or one that could not be checked, is reported
//! and left out, and the command fails.

use std::fmt::Write as _;

use chrono::Utc;
use domain::Symbol;
use market::MarketError;
use providers::ProviderError;
use store::StoreError;

use crate::app::AppError;
use crate::cli::SymbolsCommand;
use crate::config::Config;

/// Why `stockd symbols` failed.
#[derive(Debug, thiserror::Error)]
pub enum SymbolsError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    App(#[from] AppError),
    /// Some symbols were not tracked; the report says which and why.
    #[error("{report}{refused} of the symbols were not tracked")]
    Refused { report: String, refused: usize },
}

/// Runs one symbols command against `config`'s database; returns the report to print.
pub async fn run(config: &Config, command: SymbolsCommand) -> Result<String, SymbolsError> {
    let store = store::open(config.store.url()).await?;
    let mut out = String::new();
    match command {
        SymbolsCommand::Add { symbols } => {
            let tracked = store.tracked_symbols().await?;
            let mut market = None;
            let mut refused = 0;
            for symbol in symbols {
                if !tracked.iter().any(|t| t.symbol == symbol) {
                    if market.is_none() {
                        market = Some(crate::app::market(config).await?);
                    }
                    if let Some(market) = &market
                        && let Err(why) = known(market, symbol).await
                    {
                        let _ = writeln!(out, "not tracked {symbol}: {why}");
                        refused += 1;
                        continue;
                    }
                }
                let (_, added) = store.track_symbol(symbol, Utc::now()).await?;
                let _ = writeln!(
                    out,
                    "{} {symbol}",
                    if added { "tracking" } else { "already tracked" }
                );
            }
            if refused > 0 {
                return Err(SymbolsError::Refused {
                    report: out,
                    refused,
                });
            }
        }
        SymbolsCommand::Remove { symbols } => {
            for symbol in symbols {
                let removed = store.untrack_symbol(symbol).await?;
                let _ = writeln!(
                    out,
                    "{} {symbol}",
                    if removed {
                        "untracked"
                    } else {
                        "was not tracked:"
                    }
                );
            }
        }
        SymbolsCommand::List => {
            let tracked = store.tracked_symbols().await?;
            if tracked.is_empty() {
                out.push_str("no tracked symbols (`stockd symbols add MSFT AAPL` adds some)\n");
            }
            for entry in tracked {
                let _ = writeln!(
                    out,
                    "{:<16} since {}",
                    entry.symbol,
                    entry.added_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
    }
    Ok(out)
}

/// Whether a stored history or a provider knows `symbol`; otherwise why it cannot be tracked.
async fn known(market: &market::Market, symbol: Symbol) -> Result<(), String> {
    match market.daily(symbol).await {
        Ok(_) => Ok(()),
        Err(MarketError::Provider(
            ProviderError::UnknownSymbol { .. } | ProviderError::NoData { .. },
        )) => Err("unknown symbol: nothing is stored for it and no configured provider has daily history for it".into()),
        Err(err) => Err(format!(
            "no provider could confirm it exists just now ({err}); try again later"
        )),
    }
}

/// Parses a symbol argument (clap value parser), with the domain's message on failure.
pub fn parse_symbol(text: &str) -> Result<Symbol, String> {
    Symbol::parse(text).map_err(|err| err.to_string())
}
