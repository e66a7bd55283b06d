//! `scripts/stress.sh` refuses what it must before sending anything: targets off this machine
//! (unless explicitly overridden) and unbounded runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn stress(env: &[(&str, &str)]) -> (i32, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/stress.sh");
    let output = Command::new("bash")
        .arg(script)
        .envs(env.iter().copied())
        .env_remove("STRESS_ALLOW_REMOTE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn a_target_off_this_machine_is_refused() {
    for target in [
        "http://10.0.0.1:8080",
        "https://stockd.example.com",
        "http://[2001:db8::1]:8080",
    ] {
        let (code, err) = stress(&[("TARGET", target)]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(err.contains("refusing non-loopback target"), "{err}");
    }
}

#[test]
fn runs_are_bounded_in_time_and_requests() {
    let (code, err) = stress(&[("TARGET", "http://127.0.0.1:1"), ("DURATION", "3600s")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("DURATION must be 1s to 300s"), "{err}");
    let (code, err) = stress(&[("TARGET", "http://127.0.0.1:1"), ("MAX_REQUESTS", "0")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("MAX_REQUESTS"), "{err}");
}
