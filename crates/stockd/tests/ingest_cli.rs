//! `stockd ingest` as a user runs it, on SQLite and on PostgreSQL: a foreground backfill with
//! its summary, a second run that changes nothing, `stockd ingest status`, and a backfill
//! killed with SIGKILL mid-way that completes when started again — no duplicate bars, no lost
//! jobs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::{BIN, Stockd, free_port, serve_command, wait_exit, wait_until};

use domain::Symbol;

const YAHOO_CHART: &str = include_str!("../../providers/tests/fixtures/yahoo/chart_daily_ok.json");
/// Bars in that chart.
const CHART_BARS: usize = 3;

/// Where a run keeps its data: a SQLite file under a folder, or a fresh PostgreSQL database.
struct Backend {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    _postgres: Option<common::TestPostgres>,
}

impl Backend {
    fn name(&self) -> &'static str {
        if self.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("STOCKD_DATA_DIR", self.dir.path())
            .env("STOCKD_LOG", "warn")
            .env_remove("STOCKD_DATABASE_URL")
            .env_remove("APIKEY")
            .env_remove("STOCKD_ALPHAVANTAGE_API_KEY");
        if let Some(url) = &self.database_url {
            command.env("STOCKD_DATABASE_URL", url);
        }
        command
    }

    /// `stockd serve` on a free port over this backend's data, started and answering.
    fn serve(&self, role: Option<&str>) -> Stockd {
        let port = free_port();
        let mut command = serve_command(self.dir.path(), port);
        command.env("STOCKD_LOG", "info");
        if let Some(url) = &self.database_url {
            command.env("STOCKD_DATABASE_URL", url);
        }
        if let Some(role) = role {
            command.args(["--role", role]);
        }
        Stockd::logging_to(command, port, &self.dir.path().join("stockd.log"))
    }

    fn run(&self, args: &[&str]) -> (bool, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command(args).output().unwrap();
        let text = String::from_utf8(stdout).unwrap() + &String::from_utf8(stderr).unwrap();
        (status.success(), text)
    }

    async fn store(&self) -> std::sync::Arc<dyn store::Store> {
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| self.dir.path().join("stockd.db").display().to_string());
        store::open(&url).await.unwrap()
    }
}

async fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend {
        dir: tempfile::tempdir().unwrap(),
        database_url: None,
        _postgres: None,
    }];
    if let Some(admin_url) = common::postgres_admin_url() {
        let database = common::TestPostgres::create(&admin_url).await;
        backends.push(Backend {
            dir: tempfile::tempdir().unwrap(),
            database_url: Some(database.url.clone()),
            _postgres: Some(database),
        });
    }
    backends
}

#[tokio::test]
async fn a_backfill_runs_in_the_foreground_and_running_it_again_changes_nothing() {
    for backend in backends().await {
        let args = [
            "ingest",
            "--symbols",
            "MSFT,ZZZZ",
            "--from",
            "2012-01-01",
            "--to",
            "2012-12-31",
            "--quiet",
        ];
        let (ok, out) = backend.run(&args);
        assert!(ok, "{}: {out}", backend.name());
        // 2012 had 250 NYSE sessions; the bundled sample has every one of them for MSFT.
        assert!(out.contains("250 bars inserted or changed"), "{out}");
        assert!(out.contains("ZZZZ skipped: unknown symbol"), "{out}");

        let (ok, again) = backend.run(&args);
        assert!(ok, "{again}");
        assert!(
            again.contains("(3 done by an earlier run); 0 bars inserted"),
            "{again}"
        );

        let (ok, status) = backend.run(&["ingest", "status"]);
        assert!(ok, "{status}");
        assert!(status.contains("failed 0"), "{status}");
        assert!(
            status.contains("backfill:2012-01-01:2012-12-31:"),
            "{status}"
        );

        let stored = backend.store().await;
        let series = stored
            .load_series(Symbol::parse("MSFT").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(series.bars().len(), 250);
        assert!(
            series
                .bars()
                .iter()
                .all(|b| b.date.to_string().starts_with("2012"))
        );
    }
}

#[test]
fn a_bad_range_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args([
            "ingest",
            "--symbols",
            "MSFT",
            "--from",
            "2012-12-31",
            "--to",
            "2012-01-01",
        ])
        .env("STOCKD_DATA_DIR", dir.path())
        .env_remove("STOCKD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("--to 2012-01-01 is before --from 2012-12-31"),
        "{err}"
    );

    let output = Command::new(BIN)
        .args(["ingest", "--symbols", "MSFT"])
        .env("STOCKD_DATA_DIR", dir.path())
        .env_remove("STOCKD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("--symbols needs --from")
    );
}

/// A Yahoo chart endpoint on 127.0.0.1 that answers every symbol with the same chart after
/// `delay`, so a backfill is slow enough to be killed in the middle.
fn slow_yahoo(delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                std::thread::sleep(delay);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{YAHOO_CHART}",
                    YAHOO_CHART.len()
                );
            });
        }
    });
    port
}

fn backfill(backend: &Backend, yahoo_port: u16, symbols: &str) -> Command {
    let mut command = backend.command(&[
        "ingest",
        "--symbols",
        symbols,
        "--from",
        "2020-01-01",
        "--quiet",
    ]);
    command
        .env("STOCKD_DAILY_PROVIDERS", "yahoo")
        .env(
            "STOCKD_YAHOO_BASE_URL",
            format!("http://127.0.0.1:{yahoo_port}"),
        )
        .env("STOCKD_INGEST_WORKERS", "1")
        .env("STOCKD_INGEST_LEASE", "3s")
        .env("STOCKD_FEATURES__ARCHIVE", "false");
    command
}

fn succeeded_jobs(backend: &Backend) -> u64 {
    let (_, status) = backend.run(&["ingest", "status"]);
    status
        .lines()
        .next()
        .and_then(|line| line.split("succeeded ").nth(1))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_backfill_killed_midway_completes_when_run_again_without_duplicates() {
    let yahoo = slow_yahoo(Duration::from_millis(400));
    let symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"];
    let list = symbols.join(",");
    for backend in backends().await {
        // Migrated first, so the status polls below never race the backfill's own migration.
        let (ok, out) = backend.run(&["migrate", "up"]);
        assert!(ok, "{out}");
        let mut first = backfill(&backend, yahoo, &list)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until(Duration::from_secs(30), "two jobs to succeed", || {
            (succeeded_jobs(&backend) >= 2).then_some(())
        });
        // SIGKILL: no chance to hand its job back.
        first.kill().unwrap();
        first.wait().unwrap();
        let done_before_restart = succeeded_jobs(&backend);
        assert!(
            done_before_restart < symbols.len() as u64,
            "{}: killed before the end",
            backend.name()
        );

        let mut second = backfill(&backend, yahoo, &list)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_exit(&mut second, Duration::from_secs(60));
        let output = second.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(status.success(), "{}: {text}", backend.name());
        assert!(
            text.contains("6 jobs succeeded, 0 failed, 0 not finished"),
            "{text}"
        );
        assert!(
            text.contains(&format!("({done_before_restart} done by an earlier run)")),
            "the restart did not redo finished jobs: {text}"
        );

        let stored = backend.store().await;
        for symbol in symbols {
            let series = stored
                .load_series(Symbol::parse(symbol).unwrap())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{symbol} was lost"));
            assert_eq!(series.bars().len(), CHART_BARS, "{symbol}: every bar once");
            assert_eq!(series.source, "yahoo");
        }
        let jobs = stored.jobs(&store::JobFilter::default()).await.unwrap();
        assert_eq!(jobs.len(), symbols.len(), "no job enqueued twice");
        assert!(jobs.iter().all(|j| j.status == store::JobStatus::Succeeded));
    }
}

#[tokio::test]
async fn serve_ingests_the_tracked_symbols_of_the_latest_session_and_shows_the_queue() {
    for backend in backends().await {
        let (ok, out) = backend.run(&["symbols", "add", "MSFT", "IBM"]);
        assert!(ok, "{out}");
        let server = backend.serve(None);
        let body = wait_until(
            Duration::from_secs(30),
            &format!("{}: a scheduled job to finish", backend.name()),
            || {
                Some(server.get("/v1/ingest/jobs?status=succeeded"))
                    .filter(|jobs| jobs.contains("\"kind\":\"daily\""))
            },
        );
        assert!(body.contains("\"group\":\"daily:"), "{body}");
        assert!(body.contains("\"failed\":0"), "{body}");
        let status = server.terminate(Duration::from_secs(15));
        assert!(status.success(), "{}: {status:?}", backend.name());

        let stored = backend.store().await;
        for symbol in ["MSFT", "IBM"] {
            let series = stored
                .load_series(Symbol::parse(symbol).unwrap())
                .await
                .unwrap();
            assert!(
                series.is_some_and(|s| !s.is_empty()),
                "{symbol} was ingested"
            );
        }
    }
}

#[test]
fn an_api_only_replica_runs_no_ingestion_and_a_bad_role_is_refused() {
    let backend = Backend {
        dir: tempfile::tempdir().unwrap(),
        database_url: None,
        _postgres: None,
    };
    let (ok, out) = backend.run(&["symbols", "add", "MSFT"]);
    assert!(ok, "{out}");
    let (ok, out) = backend.run(&["serve", "--role", "bogus"]);
    assert!(!ok);
    assert!(out.contains("unknown role 'bogus'"), "{out}");

    let server = backend.serve(Some("api"));
    // Logged where a full replica starts its workers and the scheduler (whose catch-up run
    // enqueues at once): past it, this replica has decided.
    server.wait_for_log(
        "ingestion: not run by this replica",
        Duration::from_secs(10),
    );
    let jobs = server.get("/v1/ingest/jobs");
    assert!(
        jobs.contains("\"jobs\":[]"),
        "an api-only replica ran ingestion: {jobs}"
    );
}
