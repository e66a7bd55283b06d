//! The real binary: `stockd config` and `stockd serve` from a clean data dir, offline, with a
//! graceful stop on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;
use support::{BIN, Stockd, free_port, http_get, serve_command};

#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let output = Command::new(BIN)
        .args(["config", "--format", "json"])
        .env("APIKEY", "LEAKY-KEY-000")
        .env("NDAYS", "9")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["ndays"], 9);
    assert_eq!(json["alphavantage_api_key"], "[redacted]");
    assert!(!text.contains("LEAKY-KEY-000"));
}

#[test]
fn config_prints_url_settings_without_their_credentials() {
    let output = Command::new(BIN)
        .args(["config"])
        .env(
            "STOCKD_ALPHAVANTAGE_BASE_URL",
            "https://proxy-user:PROXY-PASSWORD@proxy.example/av?apikey=QUERY-KEY",
        )
        .env("STOCKD_NATS_URL", "nats://NATS-TOKEN@nats:4222")
        .env(
            "STOCKD_DATABASE_URL",
            "postgres://stockd:DB-PASSWORD@db:5432/stockd?sslpassword=SSL-PASSWORD",
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for secret in [
        "PROXY-PASSWORD",
        "QUERY-KEY",
        "NATS-TOKEN",
        "DB-PASSWORD",
        "SSL-PASSWORD",
    ] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    assert!(
        text.contains("https://proxy-user:[redacted]@proxy.example/av?apikey=[redacted]"),
        "{text}"
    );
}

#[test]
fn version_names_the_crate_version_and_the_commit() {
    let output = Command::new(BIN).arg("--version").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = format!("stockd {} (", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    // `git describe` output, STOCKD_GIT_COMMIT, or `unknown` outside a repository.
    let commit = text.trim_end().strip_prefix(&expected).unwrap();
    let commit = commit.strip_suffix(')').unwrap();
    assert!(
        !commit.is_empty()
            && commit
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+/".contains(c)),
        "{text}"
    );
}

#[test]
fn invalid_configuration_exits_with_a_message_naming_the_setting() {
    let output = Command::new(BIN)
        .arg("config")
        .env("NDAYS", "-1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ndays"));
}

#[test]
fn serve_answers_from_the_bundled_sample_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let stockd = Stockd::start(serve_command(dir.path(), port), port);
    let response = stockd.get("/MSFT/7");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#""symbol":"MSFT","ndays":7"#),
        "{response}"
    );
    assert!(
        dir.path().join("stockd.db").exists(),
        "the SQLite file lives in the data dir"
    );
    let metrics = http_get(port, "/metrics").unwrap();
    let version = format!(r#"version="{}""#, env!("CARGO_PKG_VERSION"));
    assert!(
        metrics.lines().any(|l| l.starts_with("stockd_build_info{")
            && l.contains(&version)
            && l.ends_with(" 1")),
        "{metrics}"
    );
    // The container HEALTHCHECK: the binary probes its own /health on the configured port.
    let healthcheck = |port: u16| {
        Command::new(BIN)
            .args(["healthcheck", "--port", &port.to_string()])
            .env("STOCKD_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let up = healthcheck(port);
    assert!(up.status.success(), "{up:?}");

    let exit = stockd.terminate(Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");
    let down = healthcheck(port);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("cannot connect"),
        "{down:?}"
    );
}

#[test]
fn migrate_lists_applies_and_reverts_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = |args: &[&str]| {
        let mut argv = vec!["migrate"];
        argv.extend_from_slice(args);
        stockd_in(dir.path(), &argv)
    };
    let (ok, text) = migrate(&["status"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("(sqlite)") && text.contains("pending"),
        "{text}"
    );
    let (ok, text) = migrate(&["up"]);
    assert!(
        ok && text.contains("applied  20261122000001  bars"),
        "{text}"
    );
    assert!(
        text.contains("applied  20261122000002  tracked symbols"),
        "{text}"
    );
    assert!(
        text.contains("applied  20261128000001  provider usage"),
        "{text}"
    );
    // Counted from the build's own list, so a new migration does not break this test.
    let all = text.matches("applied  2026").count();
    let (ok, text) = migrate(&["status"]);
    assert!(
        ok && text.contains(&format!("{all} applied, 0 pending")),
        "{text}"
    );
    let (ok, text) = migrate(&["down", "--to", "20261122000001"]);
    assert!(
        ok && text.contains("reverted 20261122000002") && text.contains("reverted 20261128000001"),
        "{text}"
    );
    let (ok, text) = migrate(&["status"]);
    assert!(
        ok && text.contains(&format!("1 applied, {} pending", all - 1)),
        "{text}"
    );
    let (ok, text) = migrate(&["down", "--to", "0"]);
    assert!(ok && text.contains("reverted 20261122000001"), "{text}");
    let (ok, text) = migrate(&["down", "--to", "7"]);
    assert!(!ok && text.contains("no migration has version 7"), "{text}");
}

#[test]
fn symbols_are_tracked_listed_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let symbols = |args: &[&str]| {
        let mut argv = vec!["symbols"];
        argv.extend_from_slice(args);
        stockd_in(dir.path(), &argv)
    };
    let (ok, text) = symbols(&["add", "msft", "AAPL"]);
    assert!(
        ok && text.contains("tracking MSFT") && text.contains("tracking AAPL"),
        "{text}"
    );
    let (ok, text) = symbols(&["add", "MSFT"]);
    assert!(ok && text.contains("already tracked MSFT"), "{text}");
    let (ok, text) = symbols(&["list"]);
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(ok && listed == ["AAPL", "MSFT"], "{text}");
    let (ok, text) = symbols(&["remove", "AAPL"]);
    assert!(ok && text.contains("untracked AAPL"), "{text}");
    let (ok, text) = symbols(&["add", "NOT VALID"]);
    assert!(!ok && text.contains("letters, digits"), "{text}");
}

#[test]
fn a_symbol_no_provider_knows_is_not_tracked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = stockd_in(dir.path(), &["symbols", "add", "ibm", "ZZZZ9"]);
    assert!(!ok, "{text}");
    assert!(text.contains("tracking IBM"), "{text}");
    assert!(
        text.contains("not tracked ZZZZ9") && text.contains("unknown symbol"),
        "{text}"
    );
    let (ok, text) = stockd_in(dir.path(), &["symbols", "list"]);
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(ok && listed == ["IBM"], "{text}");
}

fn stockd_in(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("STOCKD_DATA_DIR", dir)
        .env_remove("STOCKD_DATABASE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap();
    (output.status.success(), text)
}

#[test]
fn importing_the_bundled_history_loads_every_row_once() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("stocks.csv");
    let gz = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../providers/data/stocks.csv.gz"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let rows = text.lines().count() - 1;
    std::fs::write(&csv_path, &text).unwrap();
    let csv = csv_path.to_str().unwrap();

    let (ok, out) = stockd_in(dir.path(), &["import", csv]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("loaded {rows} rows ({rows} new or changed)")),
        "{out}"
    );
    let (ok, out) = stockd_in(dir.path(), &["import", csv]);
    assert!(
        ok && out.contains(&format!("loaded {rows} rows (0 new or changed)")),
        "re-import changes nothing: {out}"
    );
}

#[test]
fn an_invalid_csv_loads_nothing_and_names_the_lines_unless_told_to_skip_them() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("bars.csv");
    std::fs::write(
        &csv_path,
        "symbol,date,open,high,low,close,volume\n\
         MSFT,2024-01-02,10,11,9,10.5,100\n\
         MSFT,2024-01-03,10,9,11,10,100\n\
         IBM,2024-13-01,1,1,1,1,1\n\
         MSFT,2024-01-02,10,11,9,10.5,100\n\
         IBM,2024-01-02,161.5,162,160,161.41,3963700\n",
    )
    .unwrap();
    let csv = csv_path.to_str().unwrap();
    let (ok, out) = stockd_in(dir.path(), &["import", csv]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("3 invalid row(s); nothing was loaded"),
        "{out}"
    );
    assert!(
        out.contains("line 3:") && out.contains("line 4:") && out.contains("line 5:"),
        "{out}"
    );
    let (ok, out) = stockd_in(dir.path(), &["import", "--skip-invalid", csv]);
    assert!(
        ok && out.contains("loaded 2 rows (2 new or changed)"),
        "{out}"
    );
    assert!(out.contains("skipped 3 invalid row(s)"), "{out}");

    let (ok, out) = stockd_in(dir.path(), &["import", "/nonexistent.csv"]);
    assert!(!ok && out.contains("cannot read"), "{out}");
    std::fs::write(&csv_path, "when,price\n2024-01-02,1\n").unwrap();
    let (ok, out) = stockd_in(dir.path(), &["import", csv]);
    assert!(!ok && out.contains("no 'symbol' column"), "{out}");
}

#[test]
fn bars_dated_when_the_nyse_was_closed_are_refused_for_us_listings_only() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("bars.csv");
    std::fs::write(
        &csv_path,
        "symbol,date,open,high,low,close,volume\n\
         MSFT,2021-01-15,99,99,99,99,100\n\
         MSFT,2021-01-18,94,94,94,94,100\n\
         BRK.B,2021-01-16,1,1,1,1,1\n\
         TSCO.L,2021-01-18,2,2,2,2,1\n\
         EURUSD=X,2021-01-17,1.2,1.2,1.2,1.2,0\n",
    )
    .unwrap();
    let csv = csv_path.to_str().unwrap();
    let (ok, out) = stockd_in(dir.path(), &["import", csv]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("2 invalid row(s); nothing was loaded"),
        "{out}"
    );
    assert!(
        out.contains("line 3: MSFT 2021-01-18 is not an NYSE session (Martin Luther King Jr. Day)"),
        "{out}"
    );
    assert!(
        out.contains("line 4: BRK.B 2021-01-16 is not an NYSE session (a Saturday)"),
        "{out}"
    );
    // London's and the currency's own days are not NYSE's to judge.
    let (ok, out) = stockd_in(dir.path(), &["import", "--skip-invalid", csv]);
    assert!(
        ok && out.contains("loaded 3 rows (3 new or changed)"),
        "{out}"
    );
    assert!(out.contains("skipped 2 invalid row(s)"), "{out}");
}

/// `stockd archive` with the archive kept inside `dir` (an ambient STOCKD_ARCHIVE_URL must not
/// send a test's files elsewhere).
fn archive_in(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .arg("archive")
        .args(args)
        .env("STOCKD_DATA_DIR", dir)
        .env_remove("STOCKD_DATABASE_URL")
        .env_remove("STOCKD_ARCHIVE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap();
    (output.status.success(), text)
}

#[cfg(feature = "archive")]
#[test]
fn imported_bars_are_archived_as_parquet_partitions_per_symbol_and_year() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("bars.csv");
    std::fs::write(
        &csv_path,
        "symbol,date,open,high,low,close,volume,adj_close\n\
         MSFT,2023-12-29,375.37,376.46,374.16,376.04,18723000,374.1\n\
         MSFT,2024-01-02,373.86,375.9,366.77,370.87,25258600,\n\
         MSFT,2024-01-03,369.01,373.26,368.51,370.6,23083500,\n\
         IBM,2024-01-02,161.5,162,160,161.41,3963700,\n",
    )
    .unwrap();
    let (ok, out) = stockd_in(dir.path(), &["import", csv_path.to_str().unwrap()]);
    assert!(ok, "{out}");

    // Nothing tracked and no --symbols: every stored symbol is archived.
    let (ok, out) = archive_in(dir.path(), &[]);
    assert!(ok, "{out}");
    assert!(
        out.contains("archived 3 partition(s), 4 rows,") && out.contains("/archive in "),
        "{out}"
    );
    let root = dir.path().join("archive");
    for partition in [
        "symbol=MSFT/year=2023/bars.parquet",
        "symbol=MSFT/year=2024/bars.parquet",
        "symbol=IBM/year=2024/bars.parquet",
    ] {
        let file = root.join(partition);
        let bytes = std::fs::read(&file).unwrap_or_else(|err| panic!("{partition}: {err}"));
        // Parquet files begin and end with the magic "PAR1".
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{partition}"
        );
    }

    // --from picks the years written (2024 only, whole), tracked or not; --symbols narrows.
    let (ok, out) = stockd_in(dir.path(), &["symbols", "add", "MSFT"]);
    assert!(ok, "{out}");
    let (ok, out) = archive_in(dir.path(), &["--from", "2024-01-03"]);
    assert!(ok, "{out}");
    assert!(out.contains("archived 2 partition(s), 3 rows,"), "{out}");
    let (ok, out) = archive_in(dir.path(), &["--symbols", "MSFT", "--from", "2024-01-03"]);
    assert!(ok, "{out}");
    assert!(out.contains("archived 1 partition(s), 2 rows,"), "{out}");

    // An empty store archives nothing, and says so.
    let empty = tempfile::tempdir().unwrap();
    let (ok, out) = archive_in(empty.path(), &[]);
    assert!(ok && out.contains("no stored bars to archive"), "{out}");
}

#[cfg(not(feature = "archive"))]
#[test]
fn archive_says_it_was_left_out_of_this_build() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = archive_in(dir.path(), &["--symbols", "MSFT"]);
    assert!(
        !ok && out.contains("without the `archive` feature"),
        "{out}"
    );
}

#[test]
fn sigterm_stops_within_the_shutdown_grace_while_a_client_is_stalled() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = serve_command(dir.path(), port);
    command
        .env("STOCKD_SHUTDOWN_GRACE", "1s")
        // Longer than the test: only the shutdown bound may close the stalled client.
        .env("STOCKD_HTTP_HEADER_READ_TIMEOUT", "10m")
        .env("STOCKD_HTTP_IDLE_TIMEOUT", "10m");
    let stockd = Stockd::start(command, port);
    // Half a request head, then nothing.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled.write_all(b"GET /health HTTP/1.1\r\nHo").unwrap();
    // The request has reached the server once it has been read: a second connection's
    // complete request is answered after it.
    assert!(http_get(port, "/health").is_some());

    // A failure guard, well past the 1 s grace plus the loops' 5 s.
    let exit = stockd.terminate(Duration::from_secs(30));
    assert!(exit.success(), "{exit:?}");
    // The stalled client was disconnected, without an answer.
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}
