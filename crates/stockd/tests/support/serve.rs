//! `stockd serve` as the end-to-end tests drive it: the real binary on a free loopback port,
//! a registered user calling the API with a bearer token, and an alert set-up the simulated
//! feed fires within seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::MockServer;

use super::{free_port, serve_command};

/// `stockd serve` on a free loopback port over `dir`, quotes every 200 ms, notifications
/// retried every second, the local receiver allowed.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Where its standard error (the log) goes: `stockd.log` in its data directory.
    pub log: std::path::PathBuf,
}

impl Server {
    /// Whether this replica's quote poller leads (its `stock_api_quote_poller_leader` gauge).
    pub async fn leads_quote_poller(&self) -> bool {
        let metrics = reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metrics
            .lines()
            .any(|line| line.trim() == "stock_api_quote_poller_leader 1")
    }

    pub async fn start(dir: &std::path::Path) -> Self {
        Self::start_with(dir, &[]).await
    }

    /// Like [`Server::start`], with extra environment (database, NATS, …).
    pub async fn start_with(dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        // Log lines go to stdout, startup failures to stderr: both kept.
        let log = std::fs::File::create(dir.join("stockd.log")).unwrap();
        let mut command = serve_command(dir, port);
        command
            .env("STOCKD_LOG", "warn")
            .env("STOCKD_QUOTE_INTERVAL", "200ms")
            .env("STOCKD_WEBHOOK_ALLOW", "127.0.0.1")
            .env(
                "STOCKD_NOTIFICATION_RETRY_SCHEDULE",
                "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
            )
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = command.spawn().unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log: dir.join("stockd.log"),
        };
        let health = format!("{}/health", server.base);
        wait_for(
            Duration::from_secs(30),
            "stockd to answer /health",
            || async { reqwest::get(&health).await.is_ok() },
        )
        .await;
        server
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed-in user of `server`.
pub struct User {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl User {
    pub async fn register(server: &Server, email: &str) -> Self {
        let client = reqwest::Client::new();
        let password = "correct horse battery";
        let registered = client
            .post(format!("{}/v1/auth/register", server.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            registered.status(),
            201,
            "{}",
            registered.text().await.unwrap()
        );
        let login: Value = client
            .post(format!("{}/v1/auth/login", server.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            client,
            base: server.base.clone(),
            token: login["access_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Watches MSFT, adds a webhook channel to `receiver` and two rules that the simulated feed
/// fires within seconds: crossing up through the walk's starting price, and a 0.1 % trailing
/// stop.
pub async fn set_up_alerts(user: &User, receiver: &MockServer) -> String {
    use reqwest::Method;
    let (status, _) = user.call(Method::PUT, "/v1/me/watchlist/MSFT", None).await;
    assert!(status == 200 || status == 201, "watchlist: {status}");
    let (status, channel) = user
        .call(
            Method::POST,
            "/v1/me/channels",
            Some(json!({"kind": "webhook", "url": format!("{}/hook", receiver.uri())})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let channel = channel["id"].as_str().unwrap().to_owned();
    let (_, quote) = user.call(Method::GET, "/v1/stocks/MSFT/quote", None).await;
    let start = quote["price"].as_f64().unwrap();
    for rule in [
        json!({"symbol": "MSFT", "kind": "crosses_up", "price": start, "frequency": "once",
               "channels": [channel]}),
        json!({"symbol": "MSFT", "kind": "trailing_stop", "percent": 0.1, "side": "long",
               "frequency": "once", "channels": [channel]}),
    ] {
        let (status, created) = user.call(Method::POST, "/v1/alerts", Some(rule)).await;
        assert_eq!(status, 201, "{created}");
    }
    channel
}

/// A webhook receiver on 127.0.0.1 that answers every POST with 200.
pub async fn accepting_receiver() -> MockServer {
    let receiver = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    receiver
}

pub async fn wait_for<F: Fn() -> Fut, Fut: Future<Output = bool>>(
    within: Duration,
    what: &str,
    check: F,
) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
