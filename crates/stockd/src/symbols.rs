//! `stockd symbols`: the global list of tracked symbols that ingestion keeps fresh.
//!
//! `add` tracks a symbol only once it is known: stored history exists, or a configured
//! provider answers for it (through the read path, so quotas and the memory of unknown
//! symbols apply). A symbol no provider knows, or one that could not be checked, is reported
//! and left out, and the command fails.

use std::fmt::Write as _;

use domain::Symbol;
use service::ServiceError;
use store::StoreError;

use crate::app::AppError;
use crate::cli::SymbolsCommand;
use crate::config::Config;

/// Why `stockd symbols` failed.
#[derive(Debug, thiserror::Error)]
pub enum SymbolsError {
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A use case failed otherwise (a bug: tracking only fails for the symbol or the store).
    #[error("{0}")]
    Service(String),
    #[error("{0}")]
    App(#[from] AppError),
    /// Some symbols were not tracked; the report says which and why.
    #[error("{report}{refused} of the symbols were not tracked")]
    Refused { report: String, refused: usize },
}

/// Runs one symbols command against `config`'s database; returns the report to print.
pub async fn run(config: &Config, command: SymbolsCommand) -> Result<String, SymbolsError> {
    let service = crate::app::store_service(&config.store).await?;
    let mut out = String::new();
    match command {
        SymbolsCommand::Add { symbols } => {
            let tracked = service.tracked_symbols().await.map_err(store_failure)?;
            // The providers are built only when a symbol must be checked with them.
            let mut checking = None;
            let mut refused = 0;
            for symbol in symbols {
                if tracked.iter().any(|t| t.symbol == symbol) {
                    let _ = writeln!(out, "already tracked {symbol}");
                    continue;
                }
                if checking.is_none() {
                    checking = Some(crate::app::provider_service(config).await?);
                }
                let Some(checking) = &checking else { continue };
                match checking.track_symbol(symbol, &market::Unmetered).await {
                    Ok((_, added)) => {
                        let _ = writeln!(
                            out,
                            "{} {symbol}",
                            if added { "tracking" } else { "already tracked" }
                        );
                    }
                    Err(ServiceError::Unprocessable(_)) => {
                        let _ = writeln!(
                            out,
                            "not tracked {symbol}: unknown symbol: nothing is stored for it and no configured provider has daily history for it"
                        );
                        refused += 1;
                    }
                    Err(ServiceError::SymbolUnverified { cause, .. }) => {
                        let _ = writeln!(
                            out,
                            "not tracked {symbol}: no provider could confirm it exists just now ({cause}); try again later"
                        );
                        refused += 1;
                    }
                    Err(other) => return Err(store_failure(other)),
                }
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
                let removed = match service.untrack_symbol(symbol).await {
                    Ok(()) => true,
                    Err(ServiceError::NotFound(_)) => false,
                    Err(other) => return Err(store_failure(other)),
                };
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
            let tracked = service.tracked_symbols().await.map_err(store_failure)?;
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

/// A use case's failure that is not about the symbol: the database's.
fn store_failure(err: ServiceError) -> SymbolsError {
    match err {
        ServiceError::Store(err) => SymbolsError::Store(err),
        other => SymbolsError::Service(other.to_string()),
    }
}

/// Parses a symbol argument (clap value parser), with the domain's message on failure.
pub fn parse_symbol(text: &str) -> Result<Symbol, String> {
    Symbol::parse(text).map_err(|err| err.to_string())
}
