//! Rows to and from domain values, once for every SQL backend: the column names and types are
//! the same in both schemas, so each row is a `sqlx::FromRow` struct (generic over the driver)
//! and its conversion to the domain value checks what the database cannot (a symbol's syntax,
//! a non-negative volume).

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Price, Series, Symbol};
use sqlx::{FromRow, Row};

use crate::{StoreError, TrackedSymbol};

/// One stored bar with the provenance of the fetch that wrote it (each row keeps its own, so
/// a history assembled from several providers or an import says where every bar came from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBar {
    pub bar: Bar,
    /// The provider (or `import`) that wrote this row.
    pub source: String,
    /// When that provider was asked.
    pub fetched_at: DateTime<Utc>,
}

/// The columns of a `bars` row, as [`BarRow`] names them.
pub(crate) const BAR_COLUMNS: &str =
    "date, open_e9, high_e9, low_e9, close_e9, volume, adj_close_e9, source, fetched_at";

/// A `bars` row selected with [`BAR_COLUMNS`].
#[derive(FromRow)]
pub(crate) struct BarRow {
    date: NaiveDate,
    open_e9: i64,
    high_e9: i64,
    low_e9: i64,
    close_e9: i64,
    volume: i64,
    adj_close_e9: Option<i64>,
    source: String,
    fetched_at: DateTime<Utc>,
}

/// The bars of `symbol` these rows store.
pub(crate) fn stored_bars(rows: Vec<BarRow>, symbol: Symbol) -> Result<Vec<StoredBar>, StoreError> {
    rows.into_iter().map(|row| row.stored_bar(symbol)).collect()
}

impl BarRow {
    /// The bar of `symbol` this row stores.
    fn stored_bar(self, symbol: Symbol) -> Result<StoredBar, StoreError> {
        let date = self.date;
        let volume = u64::try_from(self.volume)
            .map_err(|_| StoreError::Corrupt(format!("negative volume for {symbol} on {date}")))?;
        Ok(StoredBar {
            bar: Bar {
                date,
                open: Price::from_raw(self.open_e9),
                high: Price::from_raw(self.high_e9),
                low: Price::from_raw(self.low_e9),
                close: Price::from_raw(self.close_e9),
                volume,
                adj_close: self.adj_close_e9.map(Price::from_raw),
            },
            source: self.source,
            fetched_at: self.fetched_at,
        })
    }
}

/// A `symbol_fetches` row (`source, fetched_at`): the last fetch of a symbol.
#[derive(FromRow)]
pub(crate) struct LastFetch {
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

/// Assembles a series from its stored bars and the symbol's last fetch record; bars without a
/// fetch record (e.g. imported) take the newest bar's provenance. `None` when there are no bars.
pub(crate) fn series(
    symbol: Symbol,
    stored: Vec<StoredBar>,
    last_fetch: Option<LastFetch>,
) -> Option<Series> {
    let newest = stored
        .iter()
        .max_by_key(|s| s.fetched_at)
        .map(|s| LastFetch {
            source: s.source.clone(),
            fetched_at: s.fetched_at,
        })?;
    let fetch = last_fetch.unwrap_or(newest);
    let bars = stored.into_iter().map(|s| s.bar).collect();
    Some(Series::new(symbol, bars, fetch.source, fetch.fetched_at))
}

/// A symbol and when it was added (`symbol, added_at`): a tracked or a watched symbol.
#[derive(FromRow)]
pub(crate) struct SymbolAdded {
    symbol: String,
    added_at: DateTime<Utc>,
}

impl TryFrom<SymbolAdded> for TrackedSymbol {
    type Error = StoreError;

    fn try_from(row: SymbolAdded) -> Result<Self, StoreError> {
        Ok(TrackedSymbol {
            symbol: stored_symbol(&row.symbol)?,
            added_at: row.added_at,
        })
    }
}

/// Reads a `symbol, added_at` row (of `tracked_symbols` or `watchlist`).
pub(crate) fn tracked_symbol<'r, R: Row>(row: &'r R) -> Result<TrackedSymbol, StoreError>
where
    SymbolAdded: FromRow<'r, R>,
{
    SymbolAdded::from_row(row)?.try_into()
}

/// A stored symbol's text, checked.
pub(crate) fn stored_symbol(text: &str) -> Result<Symbol, StoreError> {
    Symbol::parse(text).map_err(|err| StoreError::Corrupt(format!("stored symbol '{text}': {err}")))
}
