//! What every provider test binary shares: fixtures, the mock server, log capture and the
//! checks that an API key never leaks. Each binary's `main.rs` includes it with
//! `#[path = "../common/mod.rs"] mod common;` and adds its provider's own set-up in `helpers.rs`.

#![allow(dead_code, reason = "each test binary uses its own subset")]

use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{Price, Symbol};
use providers::{MarketData, ProviderError};
use wiremock::{MockBuilder, MockServer, Request, ResponseTemplate};

/// The timeout of providers that are not meant to time out.
pub const PATIENT: Duration = Duration::from_secs(5);

/// The text of `tests/fixtures/<provider>/<name>`.
pub fn fixture(provider: &str, name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/{provider}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// An answer with `status` and the fixture `tests/fixtures/<provider>/<name>` as JSON body.
pub fn json_fixture(status: u16, provider: &str, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(provider, name), "application/json")
}

pub fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

pub fn price(text: &str) -> Price {
    text.parse().unwrap()
}

/// A mock server on 127.0.0.1 and the provider `at` builds from its URI.
pub async fn start<P>(at: impl FnOnce(&str) -> P) -> (MockServer, P) {
    let server = MockServer::start().await;
    let provider = at(&server.uri());
    (server, provider)
}

/// A base URL on 127.0.0.1 where nothing listens, so connecting is refused.
pub fn refused_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// A failure as (case, Display, Debug), for the checks that no text shows the key.
pub type Failure = (String, String, String);

pub fn failure(case: &str, error: &ProviderError) -> Failure {
    (case.to_owned(), error.to_string(), format!("{error:?}"))
}

/// The two transport failures of a quote of `symbol`: a timeout (a server that matches `call`
/// and sends `answer` after 2 s, asked with a 200 ms limit) and a refused connection. `at`
/// builds the provider for a base URL and timeout.
pub async fn transport_failures<P: MarketData>(
    at: impl Fn(&str, Duration) -> P,
    call: MockBuilder,
    answer: ResponseTemplate,
    symbol: Symbol,
) -> [Failure; 2] {
    let slow = MockServer::start().await;
    call.respond_with(answer.set_delay(Duration::from_secs(2)))
        .mount(&slow)
        .await;
    let impatient = at(&slow.uri(), Duration::from_millis(200));
    let timeout = impatient.quote(symbol).await.unwrap_err();
    assert!(
        matches!(timeout, ProviderError::Timeout { .. }),
        "the slow server must time out, got {timeout:?}"
    );
    let unreachable = at(&refused_url(), Duration::from_secs(2));
    let refused = unreachable.quote(symbol).await.unwrap_err();
    [
        failure("timeout", &timeout),
        failure("connection refused", &refused),
    ]
}

/// No failure's `Display` or `Debug` contains `key`.
pub fn assert_no_failure_shows(failures: &[Failure], key: &str) {
    for (case, display, debug) in failures {
        assert!(!display.contains(key), "{case}: {display}");
        assert!(!debug.contains(key), "{case}: {debug}");
    }
}

/// `value`'s `Debug` text, asserted not to contain `key`.
pub fn debug_without(value: &impl Debug, key: &str) -> String {
    let text = format!("{value:?}");
    assert!(!text.contains(key), "{text}");
    text
}

/// The `Debug` of a provider that `at` builds for 127.0.0.1:1 shows its base URL and
/// `REDACTED`, never `key`.
pub fn assert_provider_debug_redacts<P: Debug>(at: impl Fn(&str, Duration) -> P, key: &str) {
    let provider = at("http://127.0.0.1:1", Duration::from_secs(1));
    let text = debug_without(&provider, key);
    assert!(text.contains("REDACTED"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
}

/// The one request `server` received, asserted not to carry `key` in its URL.
pub async fn only_request_without_key_in_url(server: &MockServer, key: &str) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = requests.remove(0);
    assert!(!request.url.as_str().contains(key), "{}", request.url);
    request
}

/// A log sink shared between the subscriber and the test.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Installs a global subscriber writing every event, TRACE and up, into a new sink.
    ///
    /// Global rather than thread-local: tracing caches per-callsite interest across threads,
    /// so a thread-local subscriber misses events whose callsites other tests hit first. As a
    /// bonus the sink also sees the logs of tests running concurrently, all checked for the key.
    pub fn install() -> Self {
        let captured = Self::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    }

    /// Asserts that the logs so far do not contain `key` and do contain each of `expected`.
    pub fn assert_logged(&self, key: &str, expected: &[&str]) {
        let logs = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        assert!(!logs.contains(key), "{logs}");
        for expected in expected {
            assert!(logs.contains(expected), "logs lack {expected:?}:\n{logs}");
        }
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
