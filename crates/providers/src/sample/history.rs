//! Decoding the bundled `stocks.csv.gz` into bars, on each use, keeping only a summary.
//!
//! The file is `Ticker,Date,Open,High,Low,Close,Volume,Adj Close`, one row per ticker and day
//! (see `data/README.md`). Prices are parsed from the CSV text straight into [`Price`]; the CSV
//! reader is used on raw records, not through serde, because its type-guessing deserializer
//! would hand numbers over as `f64`.
//!
//! Only [`SUMMARY`] (each symbol's last bar and the close before it, which every simulated
//! tick asks for) stays in memory. A symbol's whole history is decoded again when asked for
//! (a few milliseconds): the read path asks once and stores it, and keeping all 12,154 bars
//! decoded cost ~1 MiB for the life of every process (bench/memory.sh).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::LazyLock;

use csv::StringRecord;
use domain::{Bar, Price, Symbol};

use crate::parse::parse_volume;

/// The gzip-compressed CSV, embedded in the binary.
const STOCKS_CSV_GZ: &[u8] = include_bytes!("../../data/stocks.csv.gz");

const HEADER: [&str; 8] = [
    "Ticker",
    "Date",
    "Open",
    "High",
    "Low",
    "Close",
    "Volume",
    "Adj Close",
];

/// Each sample symbol's bars, oldest first.
pub(super) type History = BTreeMap<Symbol, Vec<Bar>>;

/// What is kept of a symbol between calls.
#[derive(Debug, Clone, Copy)]
pub(super) struct Latest {
    /// The most recent bar.
    pub(super) last: Bar,
    /// The close of the bar before it, if any.
    pub(super) previous_close: Option<Price>,
}

/// Each symbol's latest bar, from one decode on first use. Empty if the embedded file is
/// corrupt, which would be a build bug; the error is logged rather than taking the server down.
pub(super) static SUMMARY: LazyLock<BTreeMap<Symbol, Latest>> = LazyLock::new(|| {
    let history = decode(STOCKS_CSV_GZ, |_| true).unwrap_or_else(|reason| {
        tracing::error!(
            provider = "sample",
            reason,
            "the bundled sample data could not be read"
        );
        History::new()
    });
    history
        .into_iter()
        .filter_map(|(symbol, bars)| {
            let (last, earlier) = bars.split_last()?;
            let latest = Latest {
                last: *last,
                previous_close: earlier.last().map(|bar| bar.close),
            };
            Some((symbol, latest))
        })
        .collect()
});

/// `symbol`'s whole history, oldest first (empty if the file cannot be read; see [`SUMMARY`]).
pub(super) fn bars_of(symbol: Symbol) -> Vec<Bar> {
    decode(STOCKS_CSV_GZ, |ticker| ticker == symbol.as_str())
        .ok()
        .and_then(|mut history| history.remove(&symbol))
        .unwrap_or_default()
}

/// Decodes the rows of a gzip-compressed sample CSV whose ticker `wanted` accepts. Rows that are
/// not valid bars are logged and skipped; an unreadable file or an unexpected header is an
/// error.
pub(super) fn decode(gzipped: &[u8], wanted: impl Fn(&str) -> bool) -> Result<History, String> {
    // The whole text is read up front so a broken gzip stream is one clear error, not a CSV
    // error in the middle of the rows.
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzipped)
        .read_to_string(&mut text)
        .map_err(|error| format!("cannot decompress: {error}"))?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|error| format!("cannot read the header: {error}"))?;
    if header.iter().ne(HEADER) {
        return Err(format!("unexpected header {header:?}, expected {HEADER:?}"));
    }
    let mut history = History::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| format!("cannot read row {}: {error}", index + 1))?;
        if !wanted(record.get(0).unwrap_or_default()) {
            continue;
        }
        match parse_row(&record) {
            Ok((symbol, bar)) => history.entry(symbol).or_default().push(bar),
            Err(reason) => {
                tracing::error!(
                    provider = "sample",
                    row = index + 1,
                    reason,
                    "skipping invalid sample row"
                );
            }
        }
    }
    for bars in history.values_mut() {
        bars.sort_by_key(|bar| bar.date);
    }
    Ok(history)
}

fn parse_row(record: &StringRecord) -> Result<(Symbol, Bar), String> {
    let field = |index: usize| record.get(index).unwrap_or_default();
    let price = |index: usize| {
        field(index)
            .parse::<Price>()
            .map_err(|error| format!("{}: {error}", HEADER[index]))
    };
    let symbol = Symbol::parse(field(0)).map_err(|error| error.to_string())?;
    let date = field(1)
        .parse()
        .map_err(|_| format!("date '{}' is not YYYY-MM-DD", field(1)))?;
    let volume = parse_volume(field(6))
        .ok_or_else(|| format!("volume '{}' is not a whole number", field(6)))?;
    let bar = Bar::new_checked(
        date,
        price(2)?,
        price(3)?,
        price(4)?,
        price(5)?,
        volume,
        Some(price(7)?),
    )
    .map_err(|error| error.to_string())?;
    Ok((symbol, bar))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Write;

    use super::*;

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    const HEAD: &str = "Ticker,Date,Open,High,Low,Close,Volume,Adj Close\n";

    #[test]
    fn rows_become_exact_bars_sorted_by_date() {
        let csv = format!(
            "{HEAD}ZZZ,2000-03-02,2.0,2.5,1.5,2.25,200.0,1.125\nZZZ,2000-03-01,1.0,1.1,0.9,1.05,100,0.525\n"
        );
        let history = decode(&gzip(&csv), |_| true).unwrap();
        let bars = &history[&Symbol::parse("ZZZ").unwrap()];
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].date.to_string(), "2000-03-01");
        assert_eq!(bars[1].close, "2.25".parse().unwrap());
        assert_eq!(bars[1].volume, 200);
        assert_eq!(bars[1].adj_close, Some("1.125".parse().unwrap()));
    }

    #[test]
    fn invalid_rows_are_skipped_and_the_rest_kept() {
        let csv = format!(
            "{HEAD}ZZZ,2000-03-01,1,1,1,1,1,1\nZZZ,2000-03-02,1,1,2,1,1,1\nZZZ,not-a-date,1,1,1,1,1,1\n\
             ZZZ,2000-03-03,1,1,1,1,1.5,1\nZZZ,2000-03-06,abc,1,1,1,1,1\n"
        );
        let history = decode(&gzip(&csv), |_| true).unwrap();
        assert_eq!(history[&Symbol::parse("ZZZ").unwrap()].len(), 1);
    }

    #[test]
    fn corrupt_or_unexpected_files_are_errors_not_panics() {
        let all = |_: &str| true;
        assert!(decode(b"not gzip at all", all).is_err());
        assert!(decode(&STOCKS_CSV_GZ[..STOCKS_CSV_GZ.len() / 2], all).is_err());
        assert!(decode(&gzip("Date,Close\n2000-03-01,1\n"), all).is_err());
        assert!(decode(&gzip(""), all).is_err());
        assert!(decode(&gzip(&format!("{HEAD}ZZZ,2000-03-01\n")), all).is_err());
    }

    #[test]
    fn the_embedded_file_decodes_without_skipping_any_row() {
        let history = decode(STOCKS_CSV_GZ, |_| true).unwrap();
        assert_eq!(history.values().map(Vec::len).sum::<usize>(), 12_154);
    }

    #[test]
    fn one_symbols_bars_are_its_share_of_the_whole_file() {
        let whole = decode(STOCKS_CSV_GZ, |_| true).unwrap();
        let msft = Symbol::parse("MSFT").unwrap();
        assert_eq!(bars_of(msft), whole[&msft]);
        assert!(bars_of(Symbol::parse("ZZZZ").unwrap()).is_empty());
        let latest = SUMMARY[&msft];
        assert_eq!(latest.last, *whole[&msft].last().unwrap());
        assert_eq!(
            latest.previous_close,
            Some(whole[&msft][whole[&msft].len() - 2].close)
        );
    }
}
