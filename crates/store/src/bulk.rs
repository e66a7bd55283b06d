//! The write path of both SQL backends: upserting many bars fast, with the same contract as one.
//!
//! Both backends upsert on `(symbol, date)` and rewrite a row only when a value changed, so the
//! returned count is real changes and a repeated write of identical history changes nothing but
//! the fetch record (`symbol_fetches`), written in the same transaction as its bars.
//!
//! How the bars travel is what differs, and what makes an import of a million rows take seconds
//! instead of a minute (bench/BENCHMARKS.md, "Bulk import"):
//!
//! - **PostgreSQL**: ten arrays per statement (`unnest($1::text[], $2::date[], …)`), tens of
//!   thousands of rows each, instead of a `values` list of ten parameters per row. The server
//!   plans one small statement instead of a thousand-row one, and there are few round trips:
//!   sqlx 0.9 leaves Nagle's algorithm on (no `TCP_NODELAY`), so every request larger than a
//!   TCP segment can wait up to 40 ms for a delayed ACK, and a thousand-row statement per
//!   request cost more in those waits than in work.
//! - **SQLite**: one statement per 3,000 bars instead of 1,000, with the values that are the
//!   same on every row (symbol, source, fetch time) formatted once and bound as shared text, and
//!   the date written without chrono's general formatter: before, every row allocated a copy of
//!   each and formatted two timestamps. Parameters stay anonymous (`?`): with numbered ones
//!   (`?1` reused on every row) sqlx looks each parameter's name up, a linear search in SQLite,
//!   which made a statement of thousands of rows quadratic.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use domain::{Bar, Price, Series};
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, PgConnection, Row, Sqlite, SqliteConnection};

use crate::StoreError;

/// SQLite binds at most 32,766 parameters per statement; 10 per bar leaves room for 3,276 bars,
/// and 3,000 fits a 10-year daily series in one statement.
const SQLITE_BARS_PER_STATEMENT: usize = 3_000;

/// The longest upsert (in bars) left in a connection's statement cache after a one-series
/// write.
const SQLITE_CACHED_BARS_MAX: usize = 100;

/// PostgreSQL arrays have no parameter limit; this bounds one request to a few megabytes.
const POSTGRES_BARS_PER_STATEMENT: usize = 25_000;

/// The `on conflict` clause of SQLite: rewrite only a row where a value changed (`is not` is
/// SQLite's null-safe comparison).
const SQLITE_ON_CONFLICT: &str = " on conflict (symbol, date) do update set \
     open_e9 = excluded.open_e9, high_e9 = excluded.high_e9, low_e9 = excluded.low_e9, \
     close_e9 = excluded.close_e9, volume = excluded.volume, \
     adj_close_e9 = excluded.adj_close_e9, source = excluded.source, \
     fetched_at = excluded.fetched_at \
     where (bars.open_e9, bars.high_e9, bars.low_e9, bars.close_e9, bars.volume, \
     bars.source) is not (excluded.open_e9, excluded.high_e9, excluded.low_e9, \
     excluded.close_e9, excluded.volume, excluded.source) \
     or bars.adj_close_e9 is not excluded.adj_close_e9";

/// Upserts every series of `batch` on `conn` (inside the caller's transaction) and records each
/// fetch; returns the changed count of each series, in order.
pub(crate) async fn sqlite(
    conn: &mut SqliteConnection,
    batch: &[Series],
) -> Result<Vec<u64>, StoreError> {
    let shared: Vec<SharedText> = batch.iter().map(SharedText::of).collect();
    let statements: Vec<(usize, &[Bar])> = batch
        .iter()
        .enumerate()
        .flat_map(|(index, series)| {
            series
                .bars()
                .chunks(SQLITE_BARS_PER_STATEMENT)
                .map(move |chunk| (index, chunk))
        })
        .collect();
    let mut counts = vec![0; batch.len()];
    let mut next = statements
        .first()
        .map(|(index, chunk)| sqlite_bars_query(&shared[*index], chunk));
    for (position, (index, _)) in statements.iter().enumerate() {
        let Some(query) = next.take() else { break };
        // Binding thousands of values is CPU work on this task; SQLite runs a statement on
        // sqlx's worker thread. Preparing the next statement while this one runs keeps both
        // busy.
        let (result, prepared) = tokio::join!(query.execute(&mut *conn), async {
            statements
                .get(position + 1)
                .map(|(index, chunk)| sqlite_bars_query(&shared[*index], chunk))
        });
        counts[*index] += result?.rows_affected();
        next = prepared;
    }
    for series in batch {
        sqlx::query(
            "insert into symbol_fetches (symbol, source, fetched_at, bar_count) values (?, ?, ?, ?) \
             on conflict (symbol) do update set source = excluded.source, \
             fetched_at = excluded.fetched_at, bar_count = excluded.bar_count",
        )
        .bind(series.symbol.as_str())
        .bind(series.source.as_str())
        .bind(series.fetched_at)
        .bind(bar_count(series))
        .execute(&mut *conn)
        .await?;
    }
    // A prepared statement of thousands of rows holds ~1 MiB of SQLite program. An import
    // writes batches of many series, mostly of one length, and keeps it for the next batch
    // (re-preparing it per batch made a re-import ~9 % slower); a write of one series (a
    // provider fetch, the first read of a symbol) drops it, so every connection that ever
    // fetched a long history does not hold one (bench/memory.sh, "after the first /MSFT/7").
    // Re-preparing the small statements the cache also held is cheap.
    if batch.len() == 1
        && statements
            .iter()
            .any(|(_, chunk)| chunk.len() > SQLITE_CACHED_BARS_MAX)
    {
        sqlx::Connection::clear_cached_statements(&mut *conn).await?;
    }
    Ok(counts)
}

/// The values every row of a series repeats, formatted once and shared: sqlx binds an
/// `Arc<str>` without copying it.
struct SharedText {
    symbol: Arc<str>,
    source: Arc<str>,
    /// The text sqlx writes for a `DateTime<Utc>`, so stored rows read back the same.
    fetched_at: Arc<str>,
}

impl SharedText {
    fn of(series: &Series) -> Self {
        Self {
            symbol: series.symbol.as_str().into(),
            source: series.source.as_str().into(),
            fetched_at: series
                .fetched_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
                .into(),
        }
    }
}

/// The upsert of `chunk`, every value bound.
fn sqlite_bars_query(
    shared: &SharedText,
    chunk: &[Bar],
) -> sqlx::query::Query<'static, Sqlite, SqliteArguments> {
    // Safe to build: the text holds only placeholders, every value is bound.
    let mut query = sqlx::query(AssertSqlSafe(sqlite_insert(chunk.len())));
    for bar in chunk {
        query = query
            .bind(Arc::clone(&shared.symbol))
            .bind(date_text(bar.date))
            .bind(bar.open.raw())
            .bind(bar.high.raw())
            .bind(bar.low.raw())
            .bind(bar.close.raw())
            .bind(volume(bar))
            .bind(bar.adj_close.map(Price::raw))
            .bind(Arc::clone(&shared.source))
            .bind(Arc::clone(&shared.fetched_at));
    }
    query
}

/// `insert into bars (…) values (?, …), …` for `rows` bars, with SQLite's `on conflict`.
fn sqlite_insert(rows: usize) -> String {
    const ROW: &str = "(?,?,?,?,?,?,?,?,?,?)";
    let mut sql = String::with_capacity(160 + rows * (ROW.len() + 1) + SQLITE_ON_CONFLICT.len());
    sql.push_str(
        "insert into bars (symbol, date, open_e9, high_e9, low_e9, close_e9, volume, \
         adj_close_e9, source, fetched_at) values ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(ROW);
    }
    sql.push_str(SQLITE_ON_CONFLICT);
    sql
}

/// `YYYY-MM-DD`, the stored form of a date in SQLite, without chrono's general formatter.
fn date_text(date: NaiveDate) -> String {
    let (year, month, day) = (date.year(), date.month(), date.day());
    if (0..=9999).contains(&year) {
        let mut text = String::with_capacity(10);
        let _ = write!(text, "{year:04}-{month:02}-{day:02}");
        text
    } else {
        // Outside four-digit years, the same text sqlx would bind (chrono's `%F`).
        date.format("%F").to_string()
    }
}

fn volume(bar: &Bar) -> i64 {
    i64::try_from(bar.volume).unwrap_or(i64::MAX)
}

fn bar_count(series: &Series) -> i64 {
    i64::try_from(series.bars().len()).unwrap_or(i64::MAX)
}

/// The upsert of PostgreSQL: every column an array, unnested into rows. Returns the symbol of
/// each row written, counted per symbol, because one statement carries several series.
const POSTGRES_UPSERT: &str = "with written as ( \
     insert into bars (symbol, date, open_e9, high_e9, low_e9, close_e9, volume, adj_close_e9, \
     source, fetched_at) \
     select * from unnest($1::text[], $2::date[], $3::int8[], $4::int8[], $5::int8[], \
     $6::int8[], $7::int8[], $8::int8[], $9::text[], $10::timestamptz[]) \
     on conflict (symbol, date) do update set open_e9 = excluded.open_e9, \
     high_e9 = excluded.high_e9, low_e9 = excluded.low_e9, close_e9 = excluded.close_e9, \
     volume = excluded.volume, adj_close_e9 = excluded.adj_close_e9, source = excluded.source, \
     fetched_at = excluded.fetched_at \
     where (bars.open_e9, bars.high_e9, bars.low_e9, bars.close_e9, bars.volume, \
     bars.adj_close_e9, bars.source) is distinct from (excluded.open_e9, excluded.high_e9, \
     excluded.low_e9, excluded.close_e9, excluded.volume, excluded.adj_close_e9, \
     excluded.source) \
     returning symbol) \
     select symbol, count(*) as changed from written group by symbol";

/// Columns of bars on their way to PostgreSQL, one array per column.
struct Columns<'a> {
    symbol: Vec<&'a str>,
    date: Vec<NaiveDate>,
    open: Vec<i64>,
    high: Vec<i64>,
    low: Vec<i64>,
    close: Vec<i64>,
    volume: Vec<i64>,
    adj_close: Vec<Option<i64>>,
    source: Vec<&'a str>,
    fetched_at: Vec<DateTime<Utc>>,
}

impl<'a> Columns<'a> {
    fn with_capacity(rows: usize) -> Self {
        Self {
            symbol: Vec::with_capacity(rows),
            date: Vec::with_capacity(rows),
            open: Vec::with_capacity(rows),
            high: Vec::with_capacity(rows),
            low: Vec::with_capacity(rows),
            close: Vec::with_capacity(rows),
            volume: Vec::with_capacity(rows),
            adj_close: Vec::with_capacity(rows),
            source: Vec::with_capacity(rows),
            fetched_at: Vec::with_capacity(rows),
        }
    }

    fn push(&mut self, series: &'a Series, bar: &Bar) {
        self.symbol.push(series.symbol.as_str());
        self.date.push(bar.date);
        self.open.push(bar.open.raw());
        self.high.push(bar.high.raw());
        self.low.push(bar.low.raw());
        self.close.push(bar.close.raw());
        self.volume.push(volume(bar));
        self.adj_close.push(bar.adj_close.map(Price::raw));
        self.source.push(series.source.as_str());
        self.fetched_at.push(series.fetched_at);
    }

    fn len(&self) -> usize {
        self.date.len()
    }

    fn is_empty(&self) -> bool {
        self.date.is_empty()
    }

    /// Runs the upsert and adds each symbol's changed rows to `changed`.
    async fn write(
        self,
        conn: &mut PgConnection,
        changed: &mut HashMap<String, u64>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(POSTGRES_UPSERT)
            .bind(self.symbol)
            .bind(self.date)
            .bind(self.open)
            .bind(self.high)
            .bind(self.low)
            .bind(self.close)
            .bind(self.volume)
            .bind(self.adj_close)
            .bind(self.source)
            .bind(self.fetched_at)
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            let count: i64 = row.try_get("changed")?;
            *changed.entry(row.try_get("symbol")?).or_default() += u64::try_from(count)
                .map_err(|_| StoreError::Corrupt(format!("negative row count {count}")))?;
        }
        Ok(())
    }
}

/// Upserts every series of `batch` on `conn` (inside the caller's transaction) and records each
/// fetch; returns the changed count of each series, in order.
pub(crate) async fn postgres(
    conn: &mut PgConnection,
    batch: &[Series],
) -> Result<Vec<u64>, StoreError> {
    let mut counts = Vec::with_capacity(batch.len());
    // One statement must not touch a row twice (`on conflict do update` refuses it), so a batch
    // that names a symbol again is written in groups of distinct symbols, one after the other.
    for group in distinct_symbol_groups(batch) {
        let mut changed = HashMap::new();
        let rows: usize = group.iter().map(|series| series.bars().len()).sum();
        let mut columns = Columns::with_capacity(rows.min(POSTGRES_BARS_PER_STATEMENT));
        for series in group {
            for bar in series.bars() {
                columns.push(series, bar);
                if columns.len() == POSTGRES_BARS_PER_STATEMENT {
                    let full = std::mem::replace(
                        &mut columns,
                        Columns::with_capacity(POSTGRES_BARS_PER_STATEMENT),
                    );
                    full.write(conn, &mut changed).await?;
                }
            }
        }
        if !columns.is_empty() {
            columns.write(conn, &mut changed).await?;
        }
        sqlx::query(
            "insert into symbol_fetches (symbol, source, fetched_at, bar_count) \
             select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::int8[]) \
             on conflict (symbol) do update set source = excluded.source, \
             fetched_at = excluded.fetched_at, bar_count = excluded.bar_count",
        )
        .bind(group.iter().map(|s| s.symbol.as_str()).collect::<Vec<_>>())
        .bind(group.iter().map(|s| s.source.as_str()).collect::<Vec<_>>())
        .bind(group.iter().map(|s| s.fetched_at).collect::<Vec<_>>())
        .bind(group.iter().map(bar_count).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
        counts.extend(
            group
                .iter()
                .map(|series| changed.get(series.symbol.as_str()).copied().unwrap_or(0)),
        );
    }
    Ok(counts)
}

/// Splits `batch` into consecutive runs in which no symbol appears twice.
fn distinct_symbol_groups(batch: &[Series]) -> Vec<&[Series]> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut seen = HashSet::new();
    for (index, series) in batch.iter().enumerate() {
        if !seen.insert(series.symbol) {
            groups.push(&batch[start..index]);
            start = index;
            seen.clear();
            seen.insert(series.symbol);
        }
    }
    if start < batch.len() {
        groups.push(&batch[start..]);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Symbol;

    fn series(symbol: &str) -> Series {
        Series::new(
            Symbol::parse(symbol).unwrap_or_else(|err| panic!("{err}")),
            Vec::new(),
            "test",
            Utc::now(),
        )
    }

    #[test]
    fn groups_never_name_a_symbol_twice() {
        let batch = [
            series("A"),
            series("B"),
            series("A"),
            series("C"),
            series("C"),
        ];
        let groups: Vec<Vec<&str>> = distinct_symbol_groups(&batch)
            .iter()
            .map(|group| group.iter().map(|s| s.symbol.as_str()).collect())
            .collect();
        assert_eq!(groups, [vec!["A", "B"], vec!["A", "C"], vec!["C"]]);
        assert!(distinct_symbol_groups(&[]).is_empty());
    }

    #[test]
    fn dates_are_written_as_sqlite_stores_them() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(date_text(date(2016, 1, 4)), "2016-01-04");
        assert_eq!(date_text(date(987, 12, 31)), "0987-12-31");
        assert_eq!(
            date_text(date(12_345, 6, 7)),
            date(12_345, 6, 7).format("%F").to_string()
        );
    }

    #[test]
    fn sqlite_statements_have_ten_placeholders_per_bar() {
        let sql = sqlite_insert(2);
        assert_eq!(sql.matches('?').count(), 20);
        assert!(sql.contains("values (?,?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?,?) on conflict"));
    }
}
