//! The one harness of the binary's test files: the `stockd serve` command they all start from,
//! a running process that is killed when the test ends, waits on what the process shows (an
//! answer, an exit, a log line) with a deadline instead of fixed sleeps, and plain HTTP against
//! it (no client library, so a broken server shows as it is). [`serve`] adds the async side
//! the end-to-end tests drive: users, tokens and alerts.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod serve;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The NATS server of the integration tests (`STOCKD_TEST_NATS_URL`), or `None` (after a note)
/// when it is not set; in CI (`CI` set) a missing URL fails the test instead, so the scale-out
/// path is never skipped there.
pub fn nats_url() -> Option<String> {
    match std::env::var("STOCKD_TEST_NATS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| !matches!(ci.trim(), "" | "0" | "false")) => {
            panic!("CI is set but STOCKD_TEST_NATS_URL is not: the NATS path must be tested in CI")
        }
        _ => {
            eprintln!("note: STOCKD_TEST_NATS_URL is not set; skipping the NATS test");
            None
        }
    }
}

/// The Kafka brokers of the integration tests (`STOCKD_TEST_KAFKA_BROKERS`), with the same
/// rule as [`nats_url`]: unset skips after a note, except under CI.
#[cfg(feature = "kafka")]
pub fn kafka_brokers() -> Option<String> {
    match std::env::var("STOCKD_TEST_KAFKA_BROKERS") {
        Ok(brokers) if !brokers.trim().is_empty() => Some(brokers),
        _ if std::env::var("CI").is_ok_and(|ci| !matches!(ci.trim(), "" | "0" | "false")) => {
            panic!("CI is set but STOCKD_TEST_KAFKA_BROKERS is not: the Kafka path must be tested")
        }
        _ => {
            eprintln!("note: STOCKD_TEST_KAFKA_BROKERS is not set; skipping the Kafka test");
            None
        }
    }
}

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_stockd");

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(50);

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `stockd serve` on 127.0.0.1:`port` over the data in `dir`, offline: no provider key,
/// database URL, NATS server, admin token or sign-up mode from the caller's environment, so the
/// bundled sample answers. Output is discarded; [`Stockd::logging_to`] keeps it.
pub fn serve_command(dir: &Path, port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .env("STOCKD_DATA_DIR", dir)
        .env_remove("STOCKD_DATABASE_URL")
        .env_remove("STOCKD_NATS_URL")
        .env_remove("STOCKD_KAFKA_BROKERS")
        .env_remove("STOCKD_ADMIN_TOKEN")
        .env_remove("STOCKD_SIGNUP")
        .env_remove("APIKEY")
        .env_remove("STOCKD_ALPHAVANTAGE_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Polls `check` until it gives a value; panics naming `what` after `within`.
pub fn wait_until<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// Waits for `child` to exit; panics (after killing it) past `within`.
pub fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("stockd did not exit within {within:?}");
        }
        std::thread::sleep(POLL);
    }
}

/// A running `stockd serve`, killed (SIGKILL) when dropped, a failed assertion included.
pub struct Stockd {
    pub child: Child,
    pub port: u16,
    /// Where its output goes, when kept ([`Stockd::logging_to`]).
    pub log: Option<PathBuf>,
}

impl Stockd {
    /// Spawns `command` (from [`serve_command`] on `port`) and waits until `/health` answers.
    pub fn start(command: Command, port: u16) -> Self {
        Self::spawn(command, port, None)
    }

    /// Like [`Stockd::start`], with standard output and error both appended to `log`.
    pub fn logging_to(mut command: Command, port: u16, log: &Path) -> Self {
        let file = std::fs::File::create(log).unwrap();
        command.stdout(file.try_clone().unwrap()).stderr(file);
        Self::spawn(command, port, Some(log.to_owned()))
    }

    fn spawn(mut command: Command, port: u16, log: Option<PathBuf>) -> Self {
        let mut stockd = Self {
            child: command.spawn().unwrap(),
            port,
            log,
        };
        wait_until(Duration::from_secs(30), "stockd to answer /health", || {
            if let Some(status) = stockd.child.try_wait().unwrap() {
                panic!("stockd exited before listening: {status}");
            }
            http_get(port, "/health").filter(|r| r.starts_with("HTTP/1.1 200"))
        });
        stockd
    }

    /// `GET path`; panics when nothing answers.
    pub fn get(&self, path: &str) -> String {
        http_get(self.port, path).unwrap_or_else(|| panic!("no answer to GET {path}"))
    }

    /// What it has logged so far ("" when its output is not kept).
    pub fn logged(&self) -> String {
        self.log
            .as_ref()
            .and_then(|log| std::fs::read_to_string(log).ok())
            .unwrap_or_default()
    }

    /// Waits until its log has a line containing `text`.
    pub fn wait_for_log(&self, text: &str, within: Duration) {
        wait_until(within, &format!("a log line with {text:?}"), || {
            self.logged().contains(text).then_some(())
        });
    }

    /// Sends SIGTERM (a graceful stop) and waits for the exit.
    pub fn terminate(mut self, within: Duration) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        wait_exit(&mut self.child, within)
    }
}

impl Drop for Stockd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on 127.0.0.1:`port` with `Connection: close`; the raw response, or `None` when
/// nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    http(port, "GET", path, None, None)
}

/// `method path` on 127.0.0.1:`port` with an optional bearer token and JSON body; the raw
/// response, or `None` when nothing answers.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    json: Option<&str>,
) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let body = json.map_or(String::new(), |json| {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        )
    });
    let end = if json.is_some() { "" } else { "\r\n" };
    // One write: `write!` would send each formatted piece as a segment of its own.
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}{body}{end}"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}
