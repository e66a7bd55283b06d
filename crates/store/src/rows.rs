//! Rows to and from domain values, once for every SQL backend: the column names and types are
//! the same in both schemas, so the mapping is generic over the driver's row and database types.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Price, Series, Symbol};
use sqlx::{ColumnIndex, Decode, Row, Type};

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

/// Reads a `bars` row (`date, open_e9, high_e9, low_e9, close_e9, volume, adj_close_e9, source,
/// fetched_at`).
pub(crate) fn stored_bar<'r, R>(row: &'r R, symbol: Symbol) -> Result<StoredBar, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    NaiveDate: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    let date: NaiveDate = row.try_get("date")?;
    let volume: i64 = row.try_get("volume")?;
    let bar = Bar {
        date,
        open: Price::from_raw(row.try_get("open_e9")?),
        high: Price::from_raw(row.try_get("high_e9")?),
        low: Price::from_raw(row.try_get("low_e9")?),
        close: Price::from_raw(row.try_get("close_e9")?),
        volume: u64::try_from(volume)
            .map_err(|_| StoreError::Corrupt(format!("negative volume for {symbol} on {date}")))?,
        adj_close: row
            .try_get::<Option<i64>, _>("adj_close_e9")?
            .map(Price::from_raw),
    };
    Ok(StoredBar {
        bar,
        fetched_at: row.try_get("fetched_at")?,
        source: row.try_get("source")?,
    })
}

/// Assembles a series from its stored bars and the symbol's last fetch record; bars without a
/// fetch record (e.g. imported) take the newest bar's provenance. `None` when there are no bars.
pub(crate) fn series(
    symbol: Symbol,
    stored: Vec<StoredBar>,
    last_fetch: Option<(DateTime<Utc>, String)>,
) -> Option<Series> {
    let newest = stored
        .iter()
        .max_by_key(|s| s.fetched_at)
        .map(|s| (s.fetched_at, s.source.clone()))?;
    let (fetched_at, source) = last_fetch.unwrap_or(newest);
    let bars = stored.into_iter().map(|s| s.bar).collect();
    Some(Series::new(symbol, bars, source, fetched_at))
}

/// Reads a `symbol_fetches` row (`fetched_at, source`).
pub(crate) fn last_fetch<'r, R>(row: &'r R) -> Result<(DateTime<Utc>, String), StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok((row.try_get("fetched_at")?, row.try_get("source")?))
}

/// Reads a `tracked_symbols` row (`symbol, added_at`).
pub(crate) fn tracked_symbol<'r, R>(row: &'r R) -> Result<TrackedSymbol, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    let text: String = row.try_get("symbol")?;
    let symbol = Symbol::parse(&text)
        .map_err(|err| StoreError::Corrupt(format!("tracked symbol '{text}': {err}")))?;
    Ok(TrackedSymbol {
        symbol,
        added_at: row.try_get("added_at")?,
    })
}

/// Reads the `symbol` column of a row listing stored symbols.
pub(crate) fn stored_symbol<'r, R>(row: &'r R) -> Result<Symbol, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let text: String = row.try_get("symbol")?;
    Symbol::parse(&text)
        .map_err(|err| StoreError::Corrupt(format!("stored symbol '{text}': {err}")))
}
