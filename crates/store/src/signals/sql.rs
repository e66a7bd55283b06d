//! Signals in SQLite and PostgreSQL: one set of statements for both, stamped out per store type
//! by [`sql_signal_store`]. A batch is written in one transaction ([`SqliteStore::write_tx`]
//! takes SQLite's write lock at its start), each row upserted on
//! `(method, symbol, day)` or, for [`SignalStore::insert_signals`], kept when already stored.

use async_trait::async_trait;
use chrono::NaiveDate;
use domain::{Signal, SignalMethod, Symbol};
use sqlx::AssertSqlSafe;

use super::{
    LatestLabel, LatestLabelRow, SIGNAL_COLUMNS, SignalRow, SignalStore, bounded, components_text,
    missing_text,
};
use crate::{PostgresStore, SqliteStore, StoreError};

/// The insert of one signal row; one of [`REPLACE`] and [`KEEP`] follows it.
const INSERT: &str = "insert into signals (method, symbol, day, score, label, components, \
                      missing, computed_at) values ($1, $2, $3, $4, $5, $6, $7, $8) \
                      on conflict (method, symbol, day) do ";

/// A stored day is replaced.
const REPLACE: &str = "update set score = excluded.score, label = excluded.label, \
                       components = excluded.components, missing = excluded.missing, \
                       computed_at = excluded.computed_at";

/// A stored day is kept as it is (and not counted).
const KEEP: &str = "nothing";

/// Writes `$batch` in one transaction of `$store`, each row's conflict resolved by `$conflict`;
/// evaluates to the rows written.
macro_rules! write_signals {
    ($store:expr, $batch:expr, $conflict:expr) => {{
        // Serialised before the transaction opens: nothing slow holds the write lock.
        let components = $batch
            .iter()
            .map(|signal| components_text(&signal.components))
            .collect::<Result<Vec<_>, _>>()?;
        let statement = format!("{INSERT}{}", $conflict);
        let mut tx = $store.write_tx().await?;
        let mut written = 0_u64;
        for (signal, components) in $batch.iter().zip(components) {
            written += sqlx::query(AssertSqlSafe(statement.as_str()))
                .bind(signal.method.as_str())
                .bind(signal.symbol.as_str())
                .bind(signal.day)
                .bind(signal.score.get())
                .bind(signal.label.as_str())
                .bind(components)
                .bind(missing_text(&signal.missing))
                .bind(signal.computed_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        written
    }};
}

/// `impl SignalStore for $store` over its `pool()` and `write_tx()`.
macro_rules! sql_signal_store {
    ($store:ty) => {
        #[async_trait]
        impl SignalStore for $store {
            async fn upsert_signals(&self, batch: &[Signal]) -> Result<u64, StoreError> {
                write_signals!(self, batch, REPLACE);
                Ok(batch.len() as u64)
            }

            async fn insert_signals(&self, batch: &[Signal]) -> Result<u64, StoreError> {
                Ok(write_signals!(self, batch, KEEP))
            }

            async fn signals(
                &self,
                symbol: Symbol,
                method: &SignalMethod,
                from: NaiveDate,
                to: NaiveDate,
                limit: u32,
            ) -> Result<Vec<Signal>, StoreError> {
                let rows: Vec<SignalRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {SIGNAL_COLUMNS} from signals \
                     where method = $1 and symbol = $2 and day >= $3 and day <= $4 \
                     order by day limit $5"
                )))
                .bind(method.as_str())
                .bind(symbol.as_str())
                .bind(from)
                .bind(to)
                .bind(bounded(limit))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(Signal::try_from).collect()
            }

            async fn latest_signal(
                &self,
                symbol: Symbol,
                method: &SignalMethod,
            ) -> Result<Option<Signal>, StoreError> {
                let row: Option<SignalRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {SIGNAL_COLUMNS} from signals where method = $1 and symbol = $2 \
                     order by day desc limit 1"
                )))
                .bind(method.as_str())
                .bind(symbol.as_str())
                .fetch_optional(self.pool())
                .await?;
                row.map(Signal::try_from).transpose()
            }

            async fn latest_labels(
                &self,
                method: &SignalMethod,
            ) -> Result<Vec<LatestLabel>, StoreError> {
                let rows: Vec<LatestLabelRow> = sqlx::query_as(
                    "select s.symbol, s.day, s.label, s.score from signals s \
                     join (select symbol, max(day) as day from signals where method = $1 \
                           group by symbol) latest \
                       on latest.symbol = s.symbol and latest.day = s.day \
                     where s.method = $1 order by s.symbol",
                )
                .bind(method.as_str())
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(LatestLabel::try_from).collect()
            }
        }
    };
}

sql_signal_store!(SqliteStore);
sql_signal_store!(PostgresStore);
