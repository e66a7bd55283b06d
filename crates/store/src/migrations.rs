//! Versioned, reversible schema migrations per backend, embedded in the binary.
//!
//! Each backend has its own folder (`migrations/sqlite`, `migrations/postgres`) of
//! `<version>_<name>.up.sql` / `.down.sql` pairs; a migration is never edited once applied, a
//! change is a new version. sqlx records applied versions in `_sqlx_migrations`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::migrate::Migrator;

use crate::StoreError;
use crate::database::{Backend, Database};

/// The SQLite schema's migrations.
pub(crate) static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
/// The PostgreSQL schema's migrations.
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// One migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The version (the timestamp prefix of the file name).
    pub version: i64,
    /// What it does (the rest of the file name).
    pub description: String,
    /// When it was applied; `None` while pending.
    pub applied_at: Option<DateTime<Utc>>,
}

impl MigrationStatus {
    /// Whether the database has this migration.
    pub fn is_applied(&self) -> bool {
        self.applied_at.is_some()
    }
}

impl Database {
    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite(_) => &SQLITE,
            Backend::Postgres(_) => &POSTGRES,
        }
    }

    /// Every migration this build knows, oldest first, applied or pending. A version applied by
    /// a newer build is listed too, described as unknown.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let mut applied = self.applied_versions().await?;
        let mut status: Vec<MigrationStatus> = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied_at: applied.remove(&m.version),
            })
            .collect();
        status.extend(applied.into_iter().map(|(version, at)| MigrationStatus {
            version,
            description: "(unknown to this build of stockd)".into(),
            applied_at: Some(at),
        }));
        status.sort_by_key(|m| m.version);
        Ok(status)
    }

    /// Applies every pending migration; returns the ones it applied.
    pub async fn migrate_up(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let before = self.migration_status().await?;
        match &self.backend {
            Backend::Sqlite(store) => SQLITE.run(store.pool()).await?,
            Backend::Postgres(store) => POSTGRES.run(store.pool()).await?,
        }
        self.changed_since(&before, true).await
    }

    /// Reverts applied migrations newer than `target` (newest first), leaving `target` applied;
    /// `0` reverts all. Returns the ones it reverted.
    pub async fn migrate_down(&self, target: i64) -> Result<Vec<MigrationStatus>, StoreError> {
        if target != 0 && !self.migrator().version_exists(target) {
            let known: Vec<String> = self
                .migrator()
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .map(|m| m.version.to_string())
                .collect();
            return Err(StoreError::UnknownVersion {
                version: target,
                known: known.join(", "),
            });
        }
        let before = self.migration_status().await?;
        match &self.backend {
            Backend::Sqlite(store) => SQLITE.undo(store.pool(), target).await?,
            Backend::Postgres(store) => POSTGRES.undo(store.pool(), target).await?,
        }
        self.changed_since(&before, false).await
    }

    /// Migrations whose state flipped since `before`: newly applied (`applied`) or reverted.
    async fn changed_since(
        &self,
        before: &[MigrationStatus],
        applied: bool,
    ) -> Result<Vec<MigrationStatus>, StoreError> {
        let after = self.migration_status().await?;
        let was_applied: HashMap<i64, bool> =
            before.iter().map(|m| (m.version, m.is_applied())).collect();
        Ok(after
            .into_iter()
            .filter(|m| {
                m.is_applied() == applied
                    && was_applied.get(&m.version).copied().unwrap_or(false) != applied
            })
            .collect())
    }

    /// Applied versions and when, read without creating sqlx's bookkeeping table.
    async fn applied_versions(&self) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
        let rows = match &self.backend {
            Backend::Sqlite(store) => {
                let exists = sqlx::query(
                    "select 1 from sqlite_master where type = 'table' and name = '_sqlx_migrations'",
                )
                .fetch_optional(store.pool())
                .await?
                .is_some();
                if !exists {
                    return Ok(HashMap::new());
                }
                sqlx::query("select version, installed_on from _sqlx_migrations where success")
                    .fetch_all(store.pool())
                    .await?
                    .into_iter()
                    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            Backend::Postgres(store) => {
                let exists: bool =
                    sqlx::query("select to_regclass('_sqlx_migrations') is not null")
                        .fetch_one(store.pool())
                        .await?
                        .try_get(0)?;
                if !exists {
                    return Ok(HashMap::new());
                }
                sqlx::query("select version, installed_on from _sqlx_migrations where success")
                    .fetch_all(store.pool())
                    .await?
                    .into_iter()
                    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
        };
        Ok(rows.into_iter().collect())
    }
}
