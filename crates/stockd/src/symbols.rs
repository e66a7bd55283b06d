//! `stockd symbols`: the global list of tracked symbols that ingestion keeps fresh.

use std::fmt::Write as _;

use chrono::Utc;
use domain::Symbol;
use store::StoreError;

use crate::cli::SymbolsCommand;
use crate::config::Config;

/// Runs one symbols command against `config`'s database; returns the report to print.
pub async fn run(config: &Config, command: SymbolsCommand) -> Result<String, StoreError> {
    let store = store::open(&config.database_url()).await?;
    let mut out = String::new();
    match command {
        SymbolsCommand::Add { symbols } => {
            for symbol in symbols {
                let (_, added) = store.track_symbol(symbol, Utc::now()).await?;
                let _ = writeln!(
                    out,
                    "{} {symbol}",
                    if added { "tracking" } else { "already tracked" }
                );
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

/// Parses a symbol argument (clap value parser), with the domain's message on failure.
pub fn parse_symbol(text: &str) -> Result<Symbol, String> {
    Symbol::parse(text).map_err(|err| err.to_string())
}
