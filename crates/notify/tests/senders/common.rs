//! Shared test helpers: notifications, senders pointed at local servers, a local SMTP server
//! (Python aiosmtpd, skipped with a note when missing except under CI) and a log capture.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use notify::{AlertNotice, AllowList, Notification, NotifyConfig, Senders};

/// A notification with a recognisable key, subject and text.
pub fn notification() -> Notification {
    Notification {
        idempotency_key: "alert-42:channel-7:2026-11-28T14:30:00Z".into(),
        subject: "MSFT crossed above 420.00".into(),
        text: "MSFT crossed above 420.00 (421.13) at 14:30 UTC".into(),
        payload: AlertNotice {
            rule_id: 42,
            symbol: "MSFT".parse().unwrap(),
            price: "421.13".parse().unwrap(),
            at: "2026-11-28T14:30:00Z".parse().unwrap(),
            source: "finnhub".into(),
            message: "MSFT crossed above 420.00 (421.13)".into(),
            dedupe_key: "42:2026-11-28T14:30:00Z".into(),
        },
    }
}

/// Senders whose webhooks may reach 127.0.0.1 (where the mock servers listen).
pub fn senders_allowing_loopback(config: NotifyConfig) -> Senders {
    let mut config = config;
    config.webhook.allow = "127.0.0.1".parse::<AllowList>().unwrap();
    Senders::new(config).unwrap()
}

/// Whether the tests run under CI (`CI` set to anything but empty, `0` or `false`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !matches!(ci.trim(), "" | "0" | "false"))
}

/// A local SMTP server (tests/support/smtp_sink.py) writing each message it accepts to a folder.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the server, with AUTH when `login` is given; `None` (after a note) when Python or
    /// aiosmtpd is missing and `CI` is not set. Under CI a missing server fails the test.
    pub fn start(login: Option<(&str, &str)>) -> Option<Self> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !available {
            assert!(
                !in_ci(),
                "CI is set but python3 with aiosmtpd is not available: the SMTP tests must run \
                 in CI (python3 -m pip install aiosmtpd==1.4.6)"
            );
            eprintln!(
                "note: python3 with aiosmtpd not found; skipping the SMTP test \
                 (python3 -m pip install aiosmtpd==1.4.6)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut command = Command::new("python3");
        command.arg(script).arg(dir.path());
        if let Some((user, password)) = login {
            command.args([user, password]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the SMTP sink did not print its port: {line:?}"));
        Some(Self { child, port, dir })
    }

    /// The messages received so far, oldest first, as text.
    pub fn messages(&self) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        paths.sort_by_key(|path| {
            path.file_stem()
                .and_then(|stem| stem.to_str())
                .and_then(|stem| stem.parse::<u32>().ok())
        });
        paths
            .iter()
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect()
    }

    /// Waits (briefly) until `count` messages have arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..100 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every log line of this test binary, TRACE and up (one global subscriber, installed once).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The binary's capture, installing it on first use.
    pub fn get() -> Self {
        static CAPTURED: OnceLock<Captured> = OnceLock::new();
        CAPTURED
            .get_or_init(|| {
                let captured = Captured::default();
                let sink = captured.clone();
                let subscriber = tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::TRACE)
                    .with_ansi(false)
                    .with_writer(move || sink.clone())
                    .finish();
                tracing::subscriber::set_global_default(subscriber).unwrap();
                captured
            })
            .clone()
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
