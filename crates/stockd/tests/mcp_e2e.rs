//! The MCP server as an agent meets it, against the real binary on the bundled sample data:
//! a real client (the Python `mcp` SDK, `tests/mcp/client.py`) drives `/mcp` over streamable
//! HTTP and `stockd mcp` over stdio, calls every tool and checks its answer against the REST
//! API's, finds another user's alert unreachable, and gets a tool error naming a bad argument.
//! Then `/mcp` refuses what the HTTP edge must refuse: no token, a session token, and a token
//! past its allowance. Once on SQLite, and on PostgreSQL when `STOCKD_TEST_POSTGRES_URL` is set.
//!
//! Without the Python module the test is skipped with a message, except under `CI=true`, where
//! `.ci/run` installs it and its absence fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use support::serve::{Server, User};

const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/client.py");

/// Whether the Python MCP SDK is importable; under CI its absence is a failure.
fn python_mcp() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import mcp.client.streamable_http"])
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Python `mcp` module is missing (pip install mcp==1.30.0, as .ci/run does)"
        );
        eprintln!("skipping: the Python `mcp` module is not installed (pip install mcp==1.30.0)");
    }
    found
}

/// A personal API token of `user`.
async fn api_token(user: &User) -> String {
    let (status, token) = user
        .call(
            Method::POST,
            "/v1/me/tokens",
            Some(json!({"name": "assistant"})),
        )
        .await;
    assert_eq!(status, 201, "{token}");
    token["token"].as_str().unwrap().to_owned()
}

/// Runs the client against `server` for a user with `token`; `env` is what `stockd mcp` needs
/// to open the same store.
fn run_client(server: &Server, token: &str, other_alert: i64, env: &[(&str, &str)]) {
    let mut command = Command::new("python3");
    command.args([
        CLIENT,
        "--base",
        &server.base,
        "--token",
        token,
        "--other-alert",
        &other_alert.to_string(),
        "--stockd",
        support::BIN,
    ]);
    for (name, value) in env {
        command.args(["--env", &format!("{name}={value}")]);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        output.status.success(),
        "the MCP client failed:\n{stdout}\n{stderr}\n--- stockd log:\n{log}"
    );
    assert!(stdout.contains("http: 21 tools checked"), "{stdout}");
    assert!(stdout.contains("stdio: 21 tools checked"), "{stdout}");
}

/// Two users on `server`: the one the client acts for, and the owner of an alert it must not
/// reach; returns the first one's API token and the other's alert id.
async fn users(server: &Server) -> (User, String, i64) {
    let user = User::register(server, "agent@example.com").await;
    let other = User::register(server, "other@example.com").await;
    let (status, alert) = other
        .call(
            Method::POST,
            "/v1/alerts",
            Some(json!({"symbol": "MSFT", "kind": "above", "price": 1000.0})),
        )
        .await;
    assert_eq!(status, 201, "{alert}");
    let token = api_token(&user).await;
    (user, token, alert["id"].as_i64().unwrap())
}

async fn post_mcp(server: &Server, bearer: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/mcp", server.base))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn every_tool_against_rest(dir: &Path, env: &[(&str, &str)]) {
    // The client sends about a hundred requests in a few seconds, above the default burst.
    let mut server_env = vec![
        ("STOCKD_LIMITS__MCP_REQUESTS_PER_MINUTE", "6000"),
        ("STOCKD_LIMITS__MCP_BURST", "1000"),
    ];
    server_env.extend_from_slice(env);
    let server = Server::start_with(dir, &server_env).await;
    let (user, token, other_alert) = users(&server).await;
    let mut stdio_env = vec![("STOCKD_DATA_DIR", dir.to_str().unwrap())];
    stdio_env.extend_from_slice(env);
    run_client(&server, &token, other_alert, &stdio_env);

    // The HTTP edge's own refusals.
    let (status, problem) = post_mcp(&server, None).await;
    assert_eq!(status, 401, "{problem}");
    let (status, problem) = post_mcp(&server, Some(&user.token)).await;
    assert_eq!(status, 403, "a session token: {problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("personal API token"),
        "{problem}"
    );
    // The other user's alert is still there, untouched by the client's attempts.
    let (status, listed) = post_mcp(&server, Some(&token)).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["result"]["tools"].as_array().unwrap().len(), 21);
    server.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_mcp_client_gets_the_rest_apis_answers_over_http_and_stdio() {
    if !python_mcp() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    every_tool_against_rest(dir.path(), &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_mcp_client_gets_the_rest_apis_answers_on_postgres() {
    let Some(admin_url) = common::postgres_admin_url() else {
        return;
    };
    if !python_mcp() {
        return;
    }
    let database = common::TestPostgres::create(&admin_url).await;
    let dir = tempfile::tempdir().unwrap();
    every_tool_against_rest(
        dir.path(),
        &[("STOCKD_DATABASE_URL", database.url.as_str())],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_requests_are_limited_per_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &[
            ("STOCKD_LIMITS__MCP_REQUESTS_PER_MINUTE", "2"),
            ("STOCKD_LIMITS__MCP_BURST", "2"),
        ],
    )
    .await;
    let (user, token, _) = users(&server).await;
    let second = api_token(&user).await;
    for _ in 0..2 {
        let (status, answer) = post_mcp(&server, Some(&token)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, problem) = post_mcp(&server, Some(&token)).await;
    assert_eq!(status, 429, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("limits.mcp_requests_per_minute"),
        "{problem}"
    );
    // Another token has its own allowance.
    let (status, answer) = post_mcp(&server, Some(&second)).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_is_a_feature_flag_and_stdio_refuses_a_wrong_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &[("STOCKD_FEATURES__MCP", "false")]).await;
    let (_, token, _) = users(&server).await;
    let (status, problem) = post_mcp(&server, Some(&token)).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["type"], "urn:stockd:problem:feature-disabled");
    server.kill();

    let output = Command::new(support::BIN)
        .arg("mcp")
        .env("STOCKD_DATA_DIR", dir.path())
        .env_remove("STOCKD_DATABASE_URL")
        .env("STOCKD_MCP_TOKEN", "stk_api_not-a-real-token")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("API token is not valid"), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout is the protocol's only");
    let output = Command::new(support::BIN)
        .arg("mcp")
        .env("STOCKD_DATA_DIR", dir.path())
        .env_remove("STOCKD_DATABASE_URL")
        .env("STOCKD_FEATURES__MCP", "false")
        .env("STOCKD_MCP_TOKEN", "stk_api_x")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'mcp' is disabled"), "{stderr}");
}
