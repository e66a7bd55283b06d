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
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}
