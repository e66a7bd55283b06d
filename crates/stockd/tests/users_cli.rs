//! `stockd users`: an admin created from the command line (password piped on stdin, id
//! printed) is listed, can sign in to a running `stockd serve`, and may change the tracked
//! symbols over HTTP with its session; a second account for the same email is refused, and so
//! is a password that is easy to guess. An invitation made with `stockd users invite` lets one
//! person register with a server whose sign-up is invite-only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_stockd");
const PASSWORD: &str = "correct horse battery";

/// Runs `stockd users …` in `dir` with `stdin`; (success, stdout, stderr).
fn users(dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .arg("users")
        .args(args)
        .env("STOCKD_DATA_DIR", dir)
        .env_remove("STOCKD_DATABASE_URL")
        .env_remove("STOCKD_USER_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A port nothing listens on yet.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `stockd serve` on `port` over the data in `dir`, with extra environment.
fn serve(dir: &Path, port: u16, env: &[(&str, &str)]) -> std::process::Child {
    Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .env("STOCKD_DATA_DIR", dir)
        .env_remove("STOCKD_DATABASE_URL")
        .env_remove("STOCKD_ADMIN_TOKEN")
        .env_remove("STOCKD_SIGNUP")
        .env_remove("APIKEY")
        .env_remove("STOCKD_ALPHAVANTAGE_API_KEY")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The first answer to `method path` once the server listens (10 s at most).
fn first_answer(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    for _ in 0..100 {
        if let Some(answer) = http(port, method, path, None, body) {
            return Some(answer);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn an_admin_created_on_the_command_line_signs_in_and_may_track_symbols() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = users(
        dir.path(),
        &[
            "create",
            "--email",
            "Root@Example.com",
            "--admin",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{out}{err}");
    let id = out.trim();
    assert_eq!(id.len(), 36, "the id alone: {out}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));

    let (ok, out, err) = users(
        dir.path(),
        &["create", "--email", "root@example.com", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!ok && err.contains("exists already"), "{out}{err}");
    let (ok, _, err) = users(
        dir.path(),
        &["create", "--email", "short@example.com", "--password-stdin"],
        "short\n",
    );
    assert!(!ok && err.contains("at least 10"), "{err}");
    let (ok, _, err) = users(
        dir.path(),
        &["create", "--email", "weak@example.com", "--password-stdin"],
        "password12\n",
    );
    assert!(
        !ok && err.contains("password: too easy to guess") && err.contains("common"),
        "{err}"
    );
    let (ok, _, err) = users(dir.path(), &["create", "--email", "x@example.com"], "");
    assert!(!ok && err.contains("STOCKD_USER_PASSWORD"), "{err}");

    let (ok, out, _) = users(dir.path(), &["list"], "");
    assert!(ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("root@example.com") && line.contains("admin"),
        "{line}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");

    let port = free_port();
    let mut child = serve(dir.path(), port, &[]);
    let login_body = format!(r#"{{"email":"root@example.com","password":"{PASSWORD}"}}"#);
    let login = first_answer(port, "POST", "/v1/auth/login", &login_body);
    let outcome = (|| {
        let login = login.ok_or("stockd did not start listening")?;
        if !login.starts_with("HTTP/1.1 200") {
            return Err(format!("login: {login}"));
        }
        let token = login
            .split(r#""access_token":""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| format!("no token: {login}"))?
            .to_owned();
        let tracked = http(port, "PUT", "/v1/symbols/IBM", Some(&token), "")
            .ok_or("no answer to PUT /v1/symbols/IBM")?;
        if !tracked.starts_with("HTTP/1.1 201") {
            return Err(format!("admin session could not track: {tracked}"));
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap();
}

#[test]
fn an_invitation_from_the_command_line_lets_one_person_register_when_sign_up_is_invite_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = users(
        dir.path(),
        &["invite", "--valid-days", "2", "--note", "for Ada"],
        "",
    );
    assert!(ok, "{out}{err}");
    let code = out.trim().to_owned();
    assert!(
        code.starts_with("stk_inv_") && !code.contains(' '),
        "the code alone: {out}"
    );
    assert!(err.contains("valid until"), "{err}");
    let (ok, _, err) = users(dir.path(), &["invite", "--valid-days", "365"], "");
    assert!(!ok && err.contains("365"), "{err}");

    let port = free_port();
    let mut child = serve(dir.path(), port, &[("STOCKD_SIGNUP", "invite")]);
    let register = |invite: &str| {
        format!(r#"{{"email":"ada@example.com","password":"{PASSWORD}","invite":"{invite}"}}"#)
    };
    let without = first_answer(
        port,
        "POST",
        "/v1/auth/register",
        &format!(r#"{{"email":"ada@example.com","password":"{PASSWORD}"}}"#),
    );
    let outcome = (|| {
        let without = without.ok_or("stockd did not start listening")?;
        if !without.starts_with("HTTP/1.1 403") {
            return Err(format!("registration without an invitation: {without}"));
        }
        let with = http(port, "POST", "/v1/auth/register", None, &register(&code))
            .ok_or("no answer to the registration")?;
        if !with.starts_with("HTTP/1.1 201") {
            return Err(format!("registration with the invitation: {with}"));
        }
        let again = http(port, "POST", "/v1/auth/register", None, &register(&code))
            .ok_or("no answer to the second registration")?;
        if !again.starts_with("HTTP/1.1 403") {
            return Err(format!("the invitation worked twice: {again}"));
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap();
}
