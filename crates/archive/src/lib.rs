//! The history archive: stored daily bars written as Parquet, partitioned Hive-style by symbol
//! and year, into a folder or an object store (S3, Azure, GCS).
//!
//! ```text
//! <archive>/symbol=MSFT/year=2024/bars.parquet
//! <archive>/symbol=MSFT/year=2025/bars.parquet
//! <archive>/symbol=%5EGSPC/year=2024/bars.parquet      (^GSPC: values are %-escaped)
//! ```
//!
//! Each partition is one file holding that symbol's whole year, written with a single put of
//! the complete file: re-archiving a year rewrites the same object (a reader sees the old file
//! or the new one, never half, never both), so archiving is idempotent and never appends.
//! The columns are described in `file.rs` (prices are exact `decimal(19, 9)`). Read it with
//! DuckDB:
//!
//! ```sql
//! select * from read_parquet('archive/symbol=*/year=*/*.parquet', hive_partitioning = true);
//! ```
//!
//! # Use
//!
//! - [`Archive::open`] / [`Archive::open_with_options`]: a path or `file://` URL (created when
//!   missing), `memory://` (tests), and with the crate's features `aws` (`s3://`, `s3a://`,
//!   `https://…amazonaws.com`), `azure` (`az://`, `abfss://`, `https://….windows.net`), `gcp`
//!   (`gs://`). A cloud scheme that is not compiled in is refused naming the feature.
//! - [`Archive::archive_symbol`]: every year of a symbol in a range that has stored bars.
//! - [`Archive::archive_days`]: **the call for ingestion after each day** — given the symbols
//!   and the days just stored, it rewrites the year partitions those days fall in:
//!   `archive.archive_days(store.as_ref(), &symbols, &[today]).await?`.
//! - [`Archive::write_year`] / [`Archive::read_year`]: one partition, for tools and tests.
//!
//! Cloud credentials are object_store's configuration keys, passed as options (their names are
//! the usual environment variables, `AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AZURE_STORAGE_ACCOUNT_KEY`,
//! `GOOGLE_SERVICE_ACCOUNT`, …); this crate reads no environment itself. URLs are printed only
//! through [`redact_url`].

mod file;
mod location;
mod partition;

use std::collections::BTreeSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use domain::Symbol;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use store::{Bars, StoreError, StoredBar};

pub use location::redact_url;
pub use partition::FILE_NAME;

/// Why archiving (or reading back) failed. Messages carry URLs only redacted.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive URL '{url}': {reason}")]
    Url { url: String, reason: String },
    #[error(
        "archive URL '{url}': {scheme} needs the archive crate's `{feature}` feature \
         (build stockd with `--features archive-{feature}`)"
    )]
    NotCompiled {
        url: String,
        scheme: &'static str,
        feature: &'static str,
    },
    #[error("{symbol} {year}: {reason}")]
    Bars {
        symbol: Symbol,
        year: i32,
        reason: String,
    },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// One partition file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub symbol: Symbol,
    pub year: i32,
    /// Its path inside the archive (`symbol=MSFT/year=2024/bars.parquet`).
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What an archive run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub partitions: Vec<Partition>,
}

impl Summary {
    /// Bars written, over every partition.
    pub fn rows(&self) -> u64 {
        self.partitions.iter().map(|p| p.rows).sum()
    }

    /// Bytes written, over every partition.
    pub fn bytes(&self) -> u64 {
        self.partitions.iter().map(|p| p.bytes).sum()
    }

    fn extend(&mut self, other: Summary) {
        self.partitions.extend(other.partitions);
    }
}

/// An opened archive.
#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    url: String,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Archive").field("url", &self.url).finish()
    }
}

impl Archive {
    /// Opens the archive at `url` (a folder path, `file://`, `memory://`, or a cloud URL with
    /// its feature compiled in and credentials from the platform).
    pub fn open(url: &str) -> Result<Self, ArchiveError> {
        Self::open_with_options(url, std::iter::empty::<(String, String)>())
    }

    /// Opens the archive with object_store configuration `options` for a cloud backend, e.g.
    /// the process's `AWS_*` / `AZURE_*` / `GOOGLE_*` variables (names are case-insensitive;
    /// unknown ones are ignored).
    pub fn open_with_options<I, K, V>(url: &str, options: I) -> Result<Self, ArchiveError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let location = location::open(url, options)?;
        Ok(Self {
            store: location.store,
            prefix: location.prefix,
            url: redact_url(url),
        })
    }

    /// The archive's URL, redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Writes `bars` (all of `symbol`, all dated in `year`, any order, one per date) as the
    /// partition `symbol=…/year=…/bars.parquet`, replacing any earlier file whole.
    pub async fn write_year(
        &self,
        symbol: Symbol,
        year: i32,
        bars: &[StoredBar],
    ) -> Result<Partition, ArchiveError> {
        let refuse = |reason: String| ArchiveError::Bars {
            symbol,
            year,
            reason,
        };
        if bars.is_empty() {
            return Err(refuse("no bars to write".into()));
        }
        if let Some(stray) = bars.iter().find(|b| b.bar.date.year() != year) {
            return Err(refuse(format!("a bar is dated {}", stray.bar.date)));
        }
        let mut sorted = bars.to_vec();
        sorted.sort_by_key(|b| b.bar.date);
        if let Some(pair) = sorted.windows(2).find(|w| w[0].bar.date == w[1].bar.date) {
            return Err(refuse(format!("two bars for {}", pair[0].bar.date)));
        }
        let bytes = file::encode(symbol, &sorted).map_err(|err| refuse(err.to_string()))?;
        let path = partition::file_path(&self.prefix, symbol, year);
        let size = bytes.len() as u64;
        // One put of the whole file: object stores replace an object atomically, and the local
        // store writes a staging file and renames it, so a re-run rewrites, never appends.
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|err| ArchiveError::Write {
                path: path.to_string(),
                reason: err.to_string(),
            })?;
        tracing::debug!(%symbol, year, rows = sorted.len(), bytes = size, path = %path, "archived a partition");
        Ok(Partition {
            symbol,
            year,
            path: path.to_string(),
            rows: sorted.len() as u64,
            bytes: size,
        })
    }

    /// The bars of one partition, oldest first; `None` when it was never written.
    pub async fn read_year(
        &self,
        symbol: Symbol,
        year: i32,
    ) -> Result<Option<Vec<StoredBar>>, ArchiveError> {
        let path = partition::file_path(&self.prefix, symbol, year);
        let read_error = |reason: String| ArchiveError::Read {
            path: path.to_string(),
            reason,
        };
        let bytes = match self.store.get(&path).await {
            Ok(object) => object
                .bytes()
                .await
                .map_err(|err| read_error(err.to_string()))?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(read_error(err.to_string())),
        };
        file::decode(symbol, bytes)
            .map(Some)
            .map_err(|err| read_error(err.to_string()))
    }

    /// Archives `symbol`'s stored bars of every year in `years` that has any: one partition
    /// per year, each holding that whole year as the store has it now.
    pub async fn archive_symbol(
        &self,
        store: &dyn Bars,
        symbol: Symbol,
        years: RangeInclusive<i32>,
    ) -> Result<Summary, ArchiveError> {
        let bars = store.stored_years(symbol, years).await?;
        self.archive_bars(symbol, &bars).await
    }

    /// Writes `bars` (all of `symbol`, oldest first, as [`Bars::stored_years`] reads them) as
    /// one partition per year they fall in, each replaced whole: the bars of a year must be
    /// the whole year as stored, or the rest of it is lost from the archive.
    pub async fn archive_bars(
        &self,
        symbol: Symbol,
        bars: &[StoredBar],
    ) -> Result<Summary, ArchiveError> {
        let mut summary = Summary::default();
        for year_bars in bars.chunk_by(|a, b| a.bar.date.year() == b.bar.date.year()) {
            let year = year_bars[0].bar.date.year();
            summary
                .partitions
                .push(self.write_year(symbol, year, year_bars).await?);
        }
        Ok(summary)
    }

    /// Rewrites, for each of `symbols`, the year partitions that `days` fall in (from the
    /// store's current bars): what ingestion calls after storing a day, so the archive follows
    /// the store, corrections included.
    pub async fn archive_days(
        &self,
        store: &dyn Bars,
        symbols: &[Symbol],
        days: &[NaiveDate],
    ) -> Result<Summary, ArchiveError> {
        let years: BTreeSet<i32> = days.iter().map(Datelike::year).collect();
        let mut summary = Summary::default();
        for &symbol in symbols {
            for &year in &years {
                summary.extend(self.archive_symbol(store, symbol, year..=year).await?);
            }
        }
        Ok(summary)
    }
}
