//! Storage failures.

/// A storage failure. Always an operational problem (the database is unreachable, full or
/// corrupt), never something the user's input caused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not open the database at {location}: {source}")]
    Open {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "unsupported database URL '{0}': use postgres://…, postgresql://…, sqlite://PATH or a file path"
    )]
    UnsupportedUrl(String),
    #[error("no migration has version {version} (known: {known}; 0 reverts all)")]
    UnknownVersion { version: i64, known: String },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}
