//! `stockd import FILE.csv`: bulk-load daily bars from a CSV file.
//!
//! Columns (header required, names case-insensitive, any order, extra columns ignored):
//! `symbol` (or `ticker`), `date` (`YYYY-MM-DD`), `open`, `high`, `low`, `close`, `volume`, and
//! optionally `adj_close` (or `adj close`, `adjusted_close`). This also reads the bundled
//! sample's own format (`Ticker,Date,Open,High,Low,Close,Volume,Adj Close`).
//!
//! Every row is validated first (symbol, date, exact decimal prices, OHLC consistency,
//! duplicates). By default a file with any invalid row loads nothing and every problem is
//! reported with its line number; `--skip-invalid` loads the valid rows and lists the rejected
//! ones. Bars are upserted per symbol in one transaction with batched inserts, so re-importing
//! the same file changes nothing and an interrupted import leaves whole symbols, never halves.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{NaiveDate, Utc};
use domain::{Bar, Price, Series, Symbol};

use crate::config::Config;

/// The provenance recorded for imported bars.
const SOURCE: &str = "import";

/// Why an import did not load.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Header(String),
    #[error(
        "{count} invalid row(s); nothing was loaded (use --skip-invalid to load the valid rows):\n{report}"
    )]
    Invalid { count: usize, report: String },
    #[error("{0}")]
    Store(#[from] store::StoreError),
}

/// Column positions found in the header.
struct Columns {
    symbol: usize,
    date: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: usize,
    adj_close: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, ImportError> {
        let find = |names: &[&str]| {
            header.iter().position(|column| {
                let column = column.trim().to_ascii_lowercase();
                names.contains(&column.as_str())
            })
        };
        let required = |names: &[&str]| {
            find(names).ok_or_else(|| {
                ImportError::Header(format!(
                    "the header has no '{}' column; expected symbol,date,open,high,low,close,volume[,adj_close]",
                    names[0]
                ))
            })
        };
        Ok(Self {
            symbol: required(&["symbol", "ticker"])?,
            date: required(&["date"])?,
            open: required(&["open"])?,
            high: required(&["high"])?,
            low: required(&["low"])?,
            close: required(&["close"])?,
            volume: required(&["volume"])?,
            adj_close: find(&["adj_close", "adj close", "adjusted_close"]),
        })
    }

    /// Parses one record into a symbol and a checked bar.
    fn parse(&self, record: &csv::StringRecord) -> Result<(Symbol, Bar), String> {
        let field = |index: usize, name: &str| {
            record
                .get(index)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| format!("{name} is missing"))
        };
        let price = |index: usize, name: &str| -> Result<Price, String> {
            field(index, name)?
                .parse()
                .map_err(|err| format!("{name}: {err}"))
        };
        let symbol = Symbol::parse(field(self.symbol, "symbol")?).map_err(|err| err.to_string())?;
        let date_text = field(self.date, "date")?;
        let date: NaiveDate = date_text
            .parse()
            .map_err(|_| format!("date '{date_text}' is not YYYY-MM-DD"))?;
        let volume_text = field(self.volume, "volume")?;
        // Some exports write volumes as "1234.0"; anything with a real fraction is refused.
        let volume = volume_text
            .strip_suffix(".0")
            .unwrap_or(volume_text)
            .parse::<u64>()
            .map_err(|_| format!("volume '{volume_text}' is not a whole non-negative number"))?;
        let adj_close = match self.adj_close.and_then(|i| record.get(i)).map(str::trim) {
            Some(text) if !text.is_empty() => {
                Some(text.parse().map_err(|err| format!("adj_close: {err}"))?)
            }
            _ => None,
        };
        let bar = Bar::new_checked(
            date,
            price(self.open, "open")?,
            price(self.high, "high")?,
            price(self.low, "low")?,
            price(self.close, "close")?,
            volume,
            adj_close,
        )
        .map_err(|err| err.to_string())?;
        Ok((symbol, bar))
    }
}

/// A validated file: the valid bars per symbol, and each rejected line with its reason.
struct ReadFile {
    bars: BTreeMap<Symbol, Vec<Bar>>,
    rejected: Vec<(u64, String)>,
}

/// Reads and validates the whole file.
fn read(path: &Path) -> Result<ReadFile, ImportError> {
    let read_error = |reason: String| ImportError::Read {
        path: path.display().to_string(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|err| read_error(err.to_string()))?;
    let columns = Columns::from_header(
        reader
            .headers()
            .map_err(|err| read_error(err.to_string()))?,
    )?;
    let mut bars: BTreeMap<Symbol, Vec<Bar>> = BTreeMap::new();
    let mut seen: BTreeMap<(Symbol, NaiveDate), u64> = BTreeMap::new();
    let mut rejected = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| read_error(err.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        match columns.parse(&record) {
            Ok((symbol, bar)) => {
                if let Some(first) = seen.insert((symbol, bar.date), line) {
                    rejected.push((
                        line,
                        format!("{symbol} {} is already on line {first}", bar.date),
                    ));
                } else {
                    bars.entry(symbol).or_default().push(bar);
                }
            }
            Err(reason) => rejected.push((line, reason)),
        }
    }
    Ok(ReadFile { bars, rejected })
}

/// Runs `stockd import`; returns the report to print.
pub async fn run(config: &Config, file: &Path, skip_invalid: bool) -> Result<String, ImportError> {
    let ReadFile { bars, rejected } = read(file)?;
    let mut report = String::new();
    for (line, reason) in rejected.iter().take(50) {
        let _ = writeln!(report, "line {line}: {reason}");
    }
    if rejected.len() > 50 {
        let _ = writeln!(report, "… and {} more", rejected.len() - 50);
    }
    if !rejected.is_empty() && !skip_invalid {
        return Err(ImportError::Invalid {
            count: rejected.len(),
            report: report.trim_end().to_owned(),
        });
    }
    let store = store::open(&config.database_url()).await?;
    let fetched_at = Utc::now();
    let (mut rows, mut changed) = (0usize, 0u64);
    let mut out = String::new();
    for (symbol, symbol_bars) in bars {
        rows += symbol_bars.len();
        let count = symbol_bars.len();
        let series = Series::new(symbol, symbol_bars, SOURCE, fetched_at);
        let written = store.upsert_series(&series).await?;
        changed += written;
        let _ = writeln!(
            out,
            "{symbol:<16} {count:>7} rows, {written:>7} new or changed"
        );
    }
    let _ = writeln!(
        out,
        "loaded {rows} rows ({changed} new or changed) from {}",
        file.display()
    );
    if !rejected.is_empty() {
        let _ = writeln!(
            out,
            "skipped {} invalid row(s):\n{}",
            rejected.len(),
            report.trim_end()
        );
    }
    Ok(out)
}
