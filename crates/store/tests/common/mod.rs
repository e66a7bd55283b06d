//! Fresh databases for the store tests: a temporary SQLite file, or a uniquely named
//! PostgreSQL database created through `STOCKD_TEST_POSTGRES_URL` and dropped afterwards.
//!
//! Without `STOCKD_TEST_POSTGRES_URL` the PostgreSQL backend is skipped with a note, except
//! under CI (`CI` set), where a missing variable or an unreachable server fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use store::{MemoryStore, SqliteStore, Store};

/// The admin URL of the test server, or `None` (after a note) when Postgres tests are skipped.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("STOCKD_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if in_ci() => panic!(
            "CI is set but STOCKD_TEST_POSTGRES_URL is not: the PostgreSQL backend must be \
             tested in CI (e.g. postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => {
            eprintln!(
                "note: STOCKD_TEST_POSTGRES_URL is not set; skipping the PostgreSQL backend \
                 (e.g. STOCKD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// Whether the tests run under CI (`CI` set to anything but empty, `0` or `false`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !matches!(ci.trim(), "" | "0" | "false"))
}

/// A database created for one test; dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub struct TestPostgres {
    admin_url: String,
    name: String,
    /// The URL of the fresh database.
    pub url: String,
}

impl TestPostgres {
    /// Creates an empty, uniquely named database on the server at `admin_url`.
    pub async fn create(admin_url: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        // The process id keeps concurrent test binaries apart, the counter this binary's tests.
        let name = format!(
            "stockd_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|err| {
                panic!("STOCKD_TEST_POSTGRES_URL: cannot connect to the PostgreSQL server: {err}")
            });
        sqlx::query(AssertSqlSafe(format!("create database {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        Self {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread with its own
        // runtime does the cleanup. `with (force)` closes the pool's remaining connections.
        let admin_url = self.admin_url.clone();
        let sql = format!("drop database if exists {} with (force)", self.name);
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::query(AssertSqlSafe(sql)).execute(&mut admin).await?;
                admin.close().await
            })
        });
        if let Ok(Err(err)) = cleanup.join() {
            eprintln!("could not drop test database {}: {err}", self.name);
        }
    }
}

/// `url` with its database (the path) replaced by `name`, keeping any `?parameters`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").unwrap() + 3;
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// What keeps a backend's database alive (a temporary folder, a test database) until dropped.
pub type Keep = Box<dyn Debug + Send>;

/// Fresh stores of every available backend.
pub async fn backends() -> Vec<(Keep, Arc<dyn Store>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("nested/stockd.db"))
        .await
        .unwrap();
    let mut stores: Vec<(Keep, Arc<dyn Store>)> = vec![
        (Box::new(dir), Arc::new(sqlite)),
        (Box::new(()), Arc::new(MemoryStore::new())),
    ];
    if let Some(admin_url) = postgres_admin_url() {
        let database = TestPostgres::create(&admin_url).await;
        let postgres = store::open(&database.url).await.unwrap();
        assert_eq!(postgres.backend(), "postgres");
        stores.push((Box::new(database), postgres));
    }
    stores
}
