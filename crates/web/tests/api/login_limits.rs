//! Login throttling under attack: concurrent guesses are counted before they are checked, and
//! failures from other addresses never lock an account's owner out of their own address.

use std::time::Duration;

use serde_json::json;
use web::auth::LoginLimits;

use crate::accounts::{App, PASSWORD};
use crate::helpers::TestResponse;

async fn login_from(app: &App, peer: &str, email: &str, password: &str) -> TestResponse {
    app.send_from(
        peer,
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

fn count(responses: &[TestResponse], status: u16) -> usize {
    responses
        .iter()
        .filter(|r| r.status.as_u16() == status)
        .count()
}

#[tokio::test]
async fn forty_wrong_passwords_sent_at_once_are_checked_at_most_the_limit() {
    let app = App::new().await;
    app.register("ada@example.com").await;
    let limit = LoginLimits::default().per_account_address;
    let guesses = (0..40).map(|n| {
        let app = &app;
        async move {
            login_from(
                app,
                "192.0.2.1:4000",
                "ada@example.com",
                &format!("guess number {n}"),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    assert_eq!(count(&answers, 401), limit, "checked");
    assert_eq!(count(&answers, 429), 40 - limit, "refused unchecked");
    for refused in answers.iter().filter(|r| r.status.as_u16() == 429) {
        refused.problem(429);
        assert!(refused.header("retry-after").is_some());
    }
    // The right password is refused too from this address until the window passes…
    login_from(&app, "192.0.2.1:4000", "ada@example.com", PASSWORD)
        .await
        .problem(429);
}

#[tokio::test]
async fn failures_from_other_addresses_never_lock_the_owner_out_of_their_address() {
    let limits = LoginLimits {
        per_account: 12,
        ..LoginLimits::default()
    };
    let app = App::with(limits, web::features::Features::default()).await;
    app.register("ada@example.com").await;
    let owner = "203.0.113.7:5000";
    // Below the account's ceiling: three addresses spend their five guesses each at Ada…
    for n in 1..=2 {
        for _ in 0..limits.per_account_address {
            let attacker = format!("198.51.100.{n}:1");
            login_from(&app, &attacker, "ada@example.com", "wrong password!")
                .await
                .problem(401);
        }
    }
    // …and Ada signs in from her address, never used before.
    let first = login_from(&app, owner, "ada@example.com", PASSWORD).await;
    assert_eq!(first.status, 200, "{}", first.text());

    // Past the ceiling, a new address waits, but Ada's own address still signs her in.
    for n in 3..=4 {
        for _ in 0..limits.per_account_address {
            let attacker = format!("198.51.100.{n}:1");
            let answer = login_from(&app, &attacker, "ada@example.com", "wrong password!").await;
            assert!(
                matches!(answer.status.as_u16(), 401 | 429),
                "{}",
                answer.text()
            );
        }
    }
    let stranger = login_from(&app, "198.51.100.99:1", "ada@example.com", PASSWORD).await;
    stranger.problem(429);
    let retry: u64 = stranger.header("retry-after").unwrap().parse().unwrap();
    assert!(retry <= Duration::from_secs(900).as_secs(), "{retry}");
    let again = login_from(&app, owner, "ada@example.com", PASSWORD).await;
    assert_eq!(again.status, 200, "{}", again.text());
}
