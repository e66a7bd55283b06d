//! `stockd import FILE.csv`: bulk-load daily bars from a CSV file.
//!
//! Columns (header required, names case-insensitive, any order, extra columns ignored):
//! `symbol` (or `ticker`), `date` (`YYYY-MM-DD`), `open`, `high`, `low`, `close`, `volume`, and
//! optionally `adj_close` (or `adj close`, `adjusted_close`). This also reads the bundled
//! sample's own format (`Ticker,Date,Open,High,Low,Close,Volume,Adj Close`).
//!
//! Every row is validated first (symbol, date, exact decimal prices, OHLC consistency,
//! duplicates, and for US listings a date the NYSE traded: a bar dated on a weekend or an NYSE
//! holiday is refused, see [`TradingCalendar::of_symbol`] for which symbols that is; other
//! markets' bars are not checked against a calendar stockd does not have). By default a file with any invalid row loads nothing and every problem is
//! reported with its line number; `--skip-invalid` loads the valid rows and lists the rejected
//! ones. The valid bars are handed to the import use case ([`service::Service::import_bars`]),
//! which writes them in batches of whole symbols, one transaction per batch (several at once on
//! PostgreSQL), so re-importing the same file changes nothing and an interrupted import leaves
//! whole symbols, never halves. This module reads, checks and reports; it never touches the
//! store.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use domain::{Bar, Closure, Price, Symbol, TradingCalendar};
use service::ServiceError;
use service::history::ImportedSymbol;

use crate::app::AppError;
use crate::config::StoreSection;

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
    App(#[from] AppError),
    #[error("{0}")]
    Service(#[from] ServiceError),
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
        let date =
            parse_date(date_text).ok_or_else(|| format!("date '{date_text}' is not YYYY-MM-DD"))?;
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

/// `YYYY-MM-DD` read directly, the form of nearly every row; anything else (or an impossible
/// day) goes through chrono's parser, so what is accepted is exactly what chrono accepts. A
/// million rows spent more time in chrono's general parser than in the rest of their checks.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let fast = || {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |digits: &[u8]| {
            digits.iter().try_fold(0u32, |value, digit| {
                digit
                    .is_ascii_digit()
                    .then(|| value * 10 + u32::from(digit - b'0'))
            })
        };
        let year = i32::try_from(number(&bytes[..4])?).ok()?;
        NaiveDate::from_ymd_opt(year, number(&bytes[5..7])?, number(&bytes[8..])?)
    };
    fast().or_else(|| text.parse().ok())
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
    // Each symbol's valid bars with their lines, in file order; duplicates are found per symbol
    // afterwards (usually a check that dates only grow), not with a map of every (symbol, date).
    let mut by_symbol: HashMap<Symbol, Vec<(Bar, u64)>> = HashMap::new();
    let mut rejected = Vec::new();
    // One record reused for every row, instead of an allocation per row.
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|err| read_error(err.to_string()))?
    {
        let line = record.position().map_or(0, |p| p.line());
        match columns.parse(&record) {
            Ok((symbol, bar)) => by_symbol.entry(symbol).or_default().push((bar, line)),
            Err(reason) => rejected.push((line, reason)),
        }
    }
    let mut bars = BTreeMap::new();
    let mut sessions = Sessions::default();
    for (symbol, mut rows) in by_symbol {
        if let Some(calendar) = TradingCalendar::of_symbol(symbol) {
            rows.retain(|(bar, line)| match sessions.closure(calendar, bar.date) {
                None => true,
                Some(closure) => {
                    rejected.push((*line, not_a_session(symbol, bar.date, closure)));
                    false
                }
            });
        }
        if !rows.windows(2).all(|pair| pair[0].0.date < pair[1].0.date) {
            // A stable sort keeps equal dates in line order: the first one is kept.
            rows.sort_by_key(|(bar, _)| bar.date);
            let mut kept: Vec<(Bar, u64)> = Vec::with_capacity(rows.len());
            for (bar, line) in rows {
                match kept.last() {
                    Some((first, first_line)) if first.date == bar.date => rejected.push((
                        line,
                        format!("{symbol} {} is already on line {first_line}", bar.date),
                    )),
                    _ => kept.push((bar, line)),
                }
            }
            rows = kept;
        }
        bars.insert(symbol, rows.into_iter().map(|(bar, _)| bar).collect());
    }
    rejected.sort_by_key(|(line, _)| *line);
    Ok(ReadFile { bars, rejected })
}

/// Whether each date is a session, asked of the calendar once per date (a long file repeats
/// the same few thousand dates for every symbol).
#[derive(Default)]
struct Sessions {
    nyse: HashMap<NaiveDate, Option<Closure>>,
}

impl Sessions {
    fn closure(&mut self, calendar: TradingCalendar, date: NaiveDate) -> Option<Closure> {
        *self
            .nyse
            .entry(date)
            .or_insert_with(|| calendar.closure(date))
    }
}

/// Why a bar dated on a day its exchange did not trade is refused.
fn not_a_session(symbol: Symbol, date: NaiveDate, closure: Closure) -> String {
    let why = match closure {
        Closure::Weekend => format!("a {}", date.format("%A")),
        Closure::Holiday(name) => name.to_owned(),
    };
    format!(
        "{symbol} {date} is not an NYSE session ({why}); a bar on a day the exchange was \
         closed would count as a session in `window_days` alerts"
    )
}

/// Runs `stockd import`; returns the report to print.
pub async fn run(
    config: &StoreSection,
    file: &Path,
    skip_invalid: bool,
) -> Result<String, ImportError> {
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
    let service = crate::app::store_service(config).await?;
    let (mut rows, mut changed) = (0usize, 0u64);
    let mut out = String::new();
    for ImportedSymbol {
        symbol,
        rows: count,
        changed: written,
    } in service.import_bars(bars).await?
    {
        rows += count;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn dates_read_fast_exactly_as_chrono_reads_them() {
        for text in [
            "2016-01-04",
            "0000-01-01",
            "2024-02-29",
            "2023-02-29",
            "2016-1-4",
            "2016-13-01",
            "20160104",
            "2016/01/04",
            "+2016-01-04",
            "2016-01-0x",
        ] {
            assert_eq!(parse_date(text), text.parse().ok(), "{text}");
        }
    }

    #[test]
    fn duplicates_are_reported_against_their_first_line_in_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bars.csv");
        std::fs::write(
            &path,
            "symbol,date,open,high,low,close,volume\n\
             MSFT,2024-01-03,1,1,1,1,1\n\
             IBM,2024-01-02,1,1,1,1,1\n\
             MSFT,2024-01-02,1,1,1,1,1\n\
             MSFT,2024-01-03,2,2,2,2,2\n\
             IBM,2024-01-03,1,1,1,1,1\n\
             MSFT,2024-01-03,3,3,3,3,3\n\
             MSFT,bad,1,1,1,1,1\n",
        )
        .unwrap();
        let ReadFile { bars, rejected } = read(&path).unwrap();
        assert_eq!(
            rejected,
            [
                (5, "MSFT 2024-01-03 is already on line 2".to_owned()),
                (7, "MSFT 2024-01-03 is already on line 2".to_owned()),
                (8, "date 'bad' is not YYYY-MM-DD".to_owned()),
            ]
        );
        let msft = &bars[&Symbol::parse("MSFT").unwrap()];
        let dates: Vec<String> = msft.iter().map(|bar| bar.date.to_string()).collect();
        assert_eq!(dates, ["2024-01-02", "2024-01-03"]);
        assert_eq!(msft[1].volume, 1, "the first row of a date is kept");
        assert_eq!(bars[&Symbol::parse("IBM").unwrap()].len(), 2);
    }
}
