//! `stockd users`: an admin created from the command line (password piped on stdin, id
//! printed) is listed, can sign in to a running `stockd serve`, and may change the tracked
//! symbols over HTTP with its session; a second account for the same email is refused, and so
//! is a password that is easy to guess. An invitation made with `stockd users invite` lets one
//! person register with a server whose sign-up is invite-only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::{BIN, Stockd, free_port, http, serve_command};

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
    let _stockd = Stockd::start(serve_command(dir.path(), port), port);
    let login_body = format!(r#"{{"email":"root@example.com","password":"{PASSWORD}"}}"#);
    let login = http(port, "POST", "/v1/auth/login", None, Some(&login_body)).unwrap();
    assert!(login.starts_with("HTTP/1.1 200"), "login: {login}");
    let token = login
        .split(r#""access_token":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token: {login}"));
    let tracked = http(port, "PUT", "/v1/symbols/IBM", Some(token), Some("")).unwrap();
    assert!(
        tracked.starts_with("HTTP/1.1 201"),
        "admin session could not track: {tracked}"
    );
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
    let mut command = serve_command(dir.path(), port);
    command.env("STOCKD_SIGNUP", "invite");
    let _stockd = Stockd::start(command, port);
    let register = |invite: Option<&str>| {
        let invite = invite.map_or(String::new(), |code| format!(r#","invite":"{code}""#));
        let body = format!(r#"{{"email":"ada@example.com","password":"{PASSWORD}"{invite}}}"#);
        http(port, "POST", "/v1/auth/register", None, Some(&body)).unwrap()
    };
    let without = register(None);
    assert!(
        without.starts_with("HTTP/1.1 403"),
        "registration without an invitation: {without}"
    );
    let with = register(Some(&code));
    assert!(
        with.starts_with("HTTP/1.1 201"),
        "registration with the invitation: {with}"
    );
    let again = register(Some(&code));
    assert!(
        again.starts_with("HTTP/1.1 403"),
        "the invitation worked twice: {again}"
    );
}
