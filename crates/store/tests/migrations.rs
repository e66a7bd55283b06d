//! The migration API on every database backend: up, status, down to a version, and opening a
//! database created before the migrations were reversible.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Debug;

use chrono::Utc;
use domain::{Series, Symbol};
use store::{Database, MigrationStatus, StoreError};

/// Fresh, unmigrated databases of every available backend, with what keeps each alive.
async fn databases() -> Vec<(Box<dyn Debug + Send>, Database)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("stockd.db").display());
    let mut databases: Vec<(Box<dyn Debug + Send>, Database)> =
        vec![(Box::new(dir), Database::connect(&url).await.unwrap())];
    if let Some(admin_url) = common::postgres_admin_url() {
        let test_db = common::TestPostgres::create(&admin_url).await;
        let database = Database::connect(&test_db.url).await.unwrap();
        databases.push((Box::new(test_db), database));
    }
    databases
}

fn applied(status: &[MigrationStatus]) -> Vec<i64> {
    status
        .iter()
        .filter(|m| m.is_applied())
        .map(|m| m.version)
        .collect()
}

#[tokio::test]
async fn a_fresh_database_lists_every_migration_as_pending() {
    for (_keep, database) in databases().await {
        let status = database.migration_status().await.unwrap();
        assert!(!status.is_empty(), "backend {}", database.backend());
        assert!(applied(&status).is_empty());
        assert!(status.iter().any(|m| m.description == "bars"));
    }
}

#[tokio::test]
async fn up_applies_everything_and_status_lists_the_applied_versions() {
    for (_keep, database) in databases().await {
        let done = database.migrate_up().await.unwrap();
        let status = database.migration_status().await.unwrap();
        let all: Vec<i64> = status.iter().map(|m| m.version).collect();
        assert_eq!(applied(&done), all, "backend {}", database.backend());
        assert_eq!(applied(&status), all);
        let since = Utc::now() - chrono::Duration::hours(1);
        assert!(status.iter().all(|m| m.applied_at.unwrap() > since));
        assert!(
            database.migrate_up().await.unwrap().is_empty(),
            "nothing left"
        );
    }
}

#[tokio::test]
async fn down_to_the_first_version_keeps_it_and_up_reapplies_the_rest() {
    for (_keep, database) in databases().await {
        database.migrate_up().await.unwrap();
        let all: Vec<i64> = applied(&database.migration_status().await.unwrap());
        let first = all[0];
        let reverted = database.migrate_down(first).await.unwrap();
        let reverted: Vec<i64> = reverted.iter().map(|m| m.version).collect();
        assert_eq!(reverted, all[1..], "backend {}", database.backend());
        assert_eq!(
            applied(&database.migration_status().await.unwrap()),
            [first]
        );
        let reapplied = database.migrate_up().await.unwrap();
        assert_eq!(applied(&reapplied), all[1..]);
        assert_eq!(applied(&database.migration_status().await.unwrap()), all);
    }
}

#[tokio::test]
async fn down_to_zero_removes_the_schema_and_up_restores_a_working_store() {
    for (_keep, database) in databases().await {
        database.migrate_up().await.unwrap();
        let reverted = database.migrate_down(0).await.unwrap();
        assert!(!reverted.is_empty(), "backend {}", database.backend());
        assert!(
            applied(&database.migration_status().await.unwrap()).is_empty(),
            "everything pending again"
        );
        let store = database.clone().into_store();
        let symbol = Symbol::parse("MSFT").unwrap();
        assert!(
            store.load_series(symbol).await.is_err(),
            "the tables are gone"
        );

        database.migrate_up().await.unwrap();
        let series = Series::new(symbol, Vec::new(), "sample", Utc::now());
        store.upsert_series(&series).await.unwrap();
        assert!(store.load_series(symbol).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn down_to_an_unknown_version_is_refused_and_changes_nothing() {
    for (_keep, database) in databases().await {
        database.migrate_up().await.unwrap();
        let before = database.migration_status().await.unwrap();
        let err = database.migrate_down(42).await.unwrap_err();
        assert!(
            matches!(err, StoreError::UnknownVersion { version: 42, .. }),
            "{err}"
        );
        assert_eq!(database.migration_status().await.unwrap(), before);
    }
}

#[tokio::test]
async fn opening_by_url_migrates_and_picks_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let store = store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    store.ping().await.unwrap();
    let database = Database::connect(path.to_str().unwrap()).await.unwrap();
    assert!(
        database
            .migration_status()
            .await
            .unwrap()
            .iter()
            .all(MigrationStatus::is_applied)
    );
    assert!(matches!(
        store::open("mysql://localhost/stockd").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}

#[tokio::test]
async fn a_sqlite_file_migrated_before_the_migrations_were_reversible_still_opens() {
    // The first schema shipped as `20261122000001_bars.sql`; the reversible pair keeps its
    // content, so the recorded checksum still matches.
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite/20261122000001_bars.up.sql"
        ),
        old.join("20261122000001_bars.sql"),
    )
    .unwrap();
    let path = dir.path().join("stockd.db");
    let url = format!("sqlite://{}", path.display());
    {
        let database = Database::connect(&url).await.unwrap();
        let old_migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
        let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        old_migrator.run(&pool).await.unwrap();
        pool.close().await;
        drop(database);
    }
    let store = store::open(&url).await.unwrap();
    store.ping().await.unwrap();
}
