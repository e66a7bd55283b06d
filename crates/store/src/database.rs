//! Choosing a backend from a database URL, and opening it with or without migrating.
//!
//! `postgres://` and `postgresql://` URLs select PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
//! plain path select a SQLite file; `sqlite::memory:` a private in-memory SQLite database.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{PostgresStore, SqliteStore, Store, StoreError};

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A private in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL server, as a `postgres://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads `url`; an unknown `scheme://` is refused rather than taken for a file name.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(Self::SqliteMemory);
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            // sqlx-style options (`?mode=rwc`) are not supported: the store sets its own.
            let path = path.split('?').next().unwrap_or(path);
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.is_empty() || url.contains("://") {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }
}

/// `url` with its password (in the user info or a `password=` parameter) replaced by
/// `[redacted]`, for logs and `stockd config`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://").map(|i| i + 3) {
        let authority_end = out[scheme_end..]
            .find(['/', '?'])
            .map_or(out.len(), |i| scheme_end + i);
        if let Some(at) = out[scheme_end..authority_end].rfind('@') {
            let user_info = &out[scheme_end..scheme_end + at];
            if let Some(colon) = user_info.find(':') {
                out.replace_range(scheme_end + colon + 1..scheme_end + at, "[redacted]");
            }
        }
    }
    if let Some(query_start) = out.find('?') {
        let (base, query) = out.split_at(query_start + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                    format!("{key}=[redacted]")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}{}", query.join("&"));
    }
    out
}

/// A database opened by URL, with its schema as it is: what `stockd migrate` works on.
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) backend: Backend,
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Database {
    /// Connects to the database at `url` without applying migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                Backend::Sqlite(SqliteStore::open_unmigrated(&path).await?)
            }
            DatabaseUrl::SqliteMemory => {
                Backend::Sqlite(SqliteStore::in_memory_unmigrated().await?)
            }
            DatabaseUrl::Postgres(url) => {
                Backend::Postgres(PostgresStore::connect_unmigrated(&url).await?)
            }
        };
        Ok(Self { backend })
    }

    /// The backend's name (`sqlite`, `postgres`).
    pub fn backend(&self) -> &'static str {
        self.store_ref().backend()
    }

    /// The database as a [`Store`] (its schema must be migrated first).
    pub fn into_store(self) -> Arc<dyn Store> {
        match self.backend {
            Backend::Sqlite(store) => Arc::new(store),
            Backend::Postgres(store) => Arc::new(store),
        }
    }

    fn store_ref(&self) -> &dyn Store {
        match &self.backend {
            Backend::Sqlite(store) => store,
            Backend::Postgres(store) => store,
        }
    }
}

/// Opens the database at `url` (backend chosen by [`DatabaseUrl::parse`]) and applies pending
/// migrations: what `stockd serve` starts with.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let database = Database::connect(url).await?;
    database.migrate_up().await?;
    Ok(database.into_store())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend() {
        let parse = |url| DatabaseUrl::parse(url).unwrap();
        assert!(matches!(
            parse("postgres://u@h/db"),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            parse("postgresql://u@h/db"),
            DatabaseUrl::Postgres(_)
        ));
        assert_eq!(
            parse("sqlite://data/x.db"),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            parse("sqlite:x.db?mode=rwc"),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert_eq!(
            parse("./data/stockd.db"),
            DatabaseUrl::Sqlite("./data/stockd.db".into())
        );
        assert_eq!(parse("sqlite::memory:"), DatabaseUrl::SqliteMemory);
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn passwords_are_redacted_from_urls_and_nothing_else() {
        assert_eq!(
            redact_url("postgres://app:s3cr:et@db.internal:5432/stockd"),
            "postgres://app:[redacted]@db.internal:5432/stockd"
        );
        assert_eq!(
            redact_url("postgres://db/stockd?user=app&password=hunter2&sslmode=require"),
            "postgres://db/stockd?user=app&password=[redacted]&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://app@db/stockd"),
            "postgres://app@db/stockd"
        );
        assert_eq!(redact_url("./data/stockd.db"), "./data/stockd.db");
    }
}
