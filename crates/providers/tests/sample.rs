//! The bundled sample provider, checked against the raw CSV read independently here (plain
//! text splitting, no code shared with the provider).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Read;

use domain::{Price, Symbol};
use providers::sample::Sample;
use providers::{MarketData, ProviderError};

/// The CSV's data lines grouped by ticker, in file order, each split into its 8 fields.
fn raw_rows() -> BTreeMap<String, Vec<Vec<String>>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/stocks.csv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Ticker,Date,Open,High,Low,Close,Volume,Adj Close")
    );
    let mut rows: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for line in lines {
        let fields: Vec<String> = line.split(',').map(str::to_owned).collect();
        assert_eq!(fields.len(), 8, "{line}");
        rows.entry(fields[0].clone()).or_default().push(fields);
    }
    rows
}

fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

#[tokio::test]
async fn msft_has_its_full_history_from_2000_to_2013() {
    let series = Sample::new().daily(symbol("MSFT")).await.unwrap();
    assert_eq!(series.bars().len(), 3_270);
    assert_eq!(series.bars()[0].date.to_string(), "2000-03-01");
    let last = series.latest().unwrap();
    assert_eq!(last.date.to_string(), "2013-03-01");
    assert_eq!(last.close, price("27.95"));
    assert_eq!(series.source, "sample");
    assert_eq!(series.symbol, symbol("MSFT"));
}

#[tokio::test]
async fn every_bar_of_every_symbol_matches_the_csv_text_exactly() {
    let sample = Sample::new();
    let raw = raw_rows();
    let expected_symbols: Vec<Symbol> = raw.keys().map(|ticker| symbol(ticker)).collect();
    assert_eq!(sample.symbols(), expected_symbols);
    assert_eq!(raw.values().map(Vec::len).sum::<usize>(), 12_154);

    for (ticker, rows) in &raw {
        let series = sample.daily(symbol(ticker)).await.unwrap();
        assert_eq!(series.bars().len(), rows.len(), "{ticker}");
        for (bar, row) in series.bars().iter().zip(rows) {
            assert_eq!(bar.date.to_string(), row[1], "{ticker}");
            assert_eq!(bar.open, price(&row[2]), "{ticker} {}", row[1]);
            assert_eq!(bar.high, price(&row[3]), "{ticker} {}", row[1]);
            assert_eq!(bar.low, price(&row[4]), "{ticker} {}", row[1]);
            assert_eq!(bar.close, price(&row[5]), "{ticker} {}", row[1]);
            assert_eq!(bar.volume.to_string(), row[6], "{ticker} {}", row[1]);
            assert_eq!(bar.adj_close, Some(price(&row[7])), "{ticker} {}", row[1]);
        }
    }
}

#[tokio::test]
async fn the_quote_is_the_last_close_against_the_close_before_it() {
    let raw = raw_rows();
    let msft = &raw["MSFT"];
    let (last, previous) = (&msft[msft.len() - 1], &msft[msft.len() - 2]);

    let quote = Sample::new().quote(symbol("MSFT")).await.unwrap();

    assert_eq!(quote.price, price(&last[5]));
    assert_eq!(quote.price, price("27.95"));
    assert_eq!(quote.previous_close, Some(price(&previous[5])));
    assert_eq!(quote.trading_day.to_string(), last[1]);
    assert_eq!(quote.as_of, None);
    assert_eq!(quote.source, "sample");
}

#[tokio::test]
async fn lower_case_symbols_are_served() {
    let sample = Sample::new();
    let quote = sample.quote(symbol("goog")).await.unwrap();
    assert_eq!(quote.symbol, symbol("GOOG"));
    let series = sample.daily(symbol("fb")).await.unwrap();
    assert_eq!(series.bars()[0].date.to_string(), "2012-05-18");
}

#[tokio::test]
async fn an_unknown_symbol_lists_the_sample_and_says_how_to_go_live() {
    let sample = Sample::new();
    for error in [
        sample.daily(symbol("TSLA")).await.unwrap_err(),
        sample.quote(symbol("TSLA")).await.unwrap_err(),
    ] {
        let ProviderError::UnknownSymbol {
            symbol: got,
            detail,
        } = &error
        else {
            panic!("expected UnknownSymbol, got {error:?}");
        };
        assert_eq!(*got, symbol("TSLA"));
        assert!(detail.contains("AAPL, FB, GOOG, IBM, MSFT"), "{detail}");
        assert!(detail.contains("APIKEY"), "{detail}");
        assert!(!error.is_provider_failure());
    }
}

#[test]
fn the_sample_is_named_sample() {
    assert_eq!(Sample::new().name(), "sample");
}
