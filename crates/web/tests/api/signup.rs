//! Sign-up under load and under the operator's control: registrations limited per address,
//! password hashing in a bounded pool (503 when its queue is full), the `open` / `invite` /
//! `closed` modes with admin-made invitations and users, and the new-password policy.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use providers::sample::Sample;
use serde_json::{Value, json};
use web::auth::{AuthSettings, HashPoolSize, PasswordHasher, SignupMode};

use crate::accounts::{App, PASSWORD};
use crate::helpers::TestResponse;

const ADMIN_TOKEN: &str = "operator-s3cret";

async fn app_with(settings: AuthSettings) -> App {
    let settings = AuthSettings {
        hasher: PasswordHasher::fast_for_tests(),
        ..settings
    };
    App::build(
        Arc::new(Sample::new()),
        settings,
        web::features::Features::default(),
        Some(ADMIN_TOKEN),
    )
    .await
}

async fn register_from(app: &App, peer: &str, body: Value) -> TestResponse {
    app.send_from(peer, "POST", "/v1/auth/register", None, Some(body))
        .await
}

/// A request with the operator's admin token, sent with a lowercase `bearer` scheme.
async fn as_operator(app: &App, method: &str, uri: &str, body: Option<Value>) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("bearer {ADMIN_TOKEN}"));
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    app.request_from("192.0.2.50:1", request.body(body).unwrap())
        .await
}

#[tokio::test]
async fn registrations_from_one_address_are_limited_and_refused_passwords_do_not_count() {
    let app = app_with(AuthSettings {
        signups_per_address: 2,
        ..AuthSettings::default()
    })
    .await;
    let here = "192.0.2.1:4000";
    let weak = register_from(
        &app,
        here,
        json!({"email": "a0@example.com", "password": "password12"}),
    )
    .await;
    weak.problem(422);
    for n in 1..=2 {
        let made = register_from(
            &app,
            here,
            json!({"email": format!("a{n}@example.com"), "password": PASSWORD}),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.text());
    }
    let refused = register_from(
        &app,
        here,
        json!({"email": "a3@example.com", "password": PASSWORD}),
    )
    .await;
    let detail = refused.problem(429);
    assert!(detail.contains("registrations"), "{detail}");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // Another address is not affected.
    let elsewhere = register_from(
        &app,
        "198.51.100.1:1",
        json!({"email": "a3@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text());
}

#[tokio::test]
async fn a_full_password_queue_answers_503_with_retry_after_and_counts_no_failure() {
    // One worker, no queue, argon2's real cost: the first hash holds the worker for far
    // longer than the router takes to reach the pool for the other requests.
    let app = App::build(
        Arc::new(Sample::new()),
        AuthSettings {
            hasher: PasswordHasher::default().with_pool(HashPoolSize {
                workers: 1,
                queue: 0,
            }),
            ..AuthSettings::default()
        },
        web::features::Features::default(),
        None,
    )
    .await;
    let first = register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    );
    let second = register_from(
        &app,
        "192.0.2.2:1",
        json!({"email": "bob@example.com", "password": PASSWORD}),
    );
    let login = app.send_from(
        "192.0.2.3:1",
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({"email": "eve@example.com", "password": PASSWORD})),
    );
    let (first, second, login) = tokio::join!(first, second, login);
    assert_eq!(first.status, 201, "{}", first.text());
    for busy in [&second, &login] {
        let detail = busy.problem(503);
        assert!(detail.contains("busy"), "{detail}");
        assert_eq!(busy.header("retry-after"), Some("1"));
    }
    // The pool is free again; the refused login was not counted as a failure.
    let retried = register_from(
        &app,
        "192.0.2.2:1",
        json!({"email": "bob@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(retried.status, 201, "{}", retried.text());
    let signed_in = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text());
}

#[tokio::test]
async fn closed_sign_up_refuses_registration_and_admins_make_accounts() {
    let app = app_with(AuthSettings {
        signup: SignupMode::Closed,
        ..AuthSettings::default()
    })
    .await;
    let refused = register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    let detail = refused.problem(403);
    assert!(
        detail.contains("closed") && detail.contains("stockd users create"),
        "{detail}"
    );

    let made = as_operator(
        &app,
        "POST",
        "/v1/admin/users",
        Some(json!({"email": "Ada@Example.com", "password": PASSWORD, "display_name": "Ada"})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.json()["email"], "ada@example.com");
    assert_eq!(made.json()["is_admin"], false);
    let signed_in = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text());

    // Admin-made accounts follow the same password policy, and only admins make them.
    let weak = as_operator(
        &app,
        "POST",
        "/v1/admin/users",
        Some(json!({"email": "bob@example.com", "password": "aaaaaaaaaa"})),
    )
    .await;
    assert!(weak.problem(422).starts_with("password"));
    let ada = signed_in.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send(
        "POST",
        "/v1/admin/users",
        Some(&ada),
        Some(json!({"email": "bob@example.com", "password": PASSWORD})),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn invite_only_sign_up_needs_an_unused_invitation_from_an_admin() {
    let app = app_with(AuthSettings {
        signup: SignupMode::Invite,
        ..AuthSettings::default()
    })
    .await;
    let without = register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    assert!(without.problem(403).contains("invit"));
    let forged = register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "ada@example.com", "password": PASSWORD, "invite": "stk_inv_made_up"}),
    )
    .await;
    assert!(forged.problem(403).starts_with("invite"));

    let made = as_operator(
        &app,
        "POST",
        "/v1/admin/invites",
        Some(json!({"valid_days": 3, "note": "for Ada"})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let invite = made.json();
    let code = invite["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("stk_inv_"), "{code}");
    assert_eq!(invite["status"], "usable");
    assert!(
        invite["created_by"].is_null(),
        "made with the operator's token"
    );

    let registered = register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "ada@example.com", "password": PASSWORD, "invite": code}),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let ada_id = registered.json()["id"].as_str().unwrap().to_owned();
    let reused = register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "bob@example.com", "password": PASSWORD, "invite": code}),
    )
    .await;
    assert!(reused.problem(403).contains("used"));

    let listed = as_operator(&app, "GET", "/v1/admin/invites", None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed["invites"][0]["status"], "used");
    assert_eq!(listed["invites"][0]["used_by"], ada_id.as_str());
    assert_eq!(listed["invites"][0]["note"], "for Ada");
    assert!(
        listed["invites"][0].get("code").is_none(),
        "shown once only"
    );

    // An unused invitation can be revoked; then it registers nobody.
    let spare = as_operator(&app, "POST", "/v1/admin/invites", Some(json!({}))).await;
    let spare = spare.json();
    let spare_id = spare["id"].as_str().unwrap();
    let removed = as_operator(
        &app,
        "DELETE",
        &format!("/v1/admin/invites/{spare_id}"),
        None,
    )
    .await;
    assert_eq!(removed.status, 204, "{}", removed.text());
    as_operator(
        &app,
        "DELETE",
        &format!("/v1/admin/invites/{spare_id}"),
        None,
    )
    .await
    .problem(404);
    register_from(
        &app,
        "192.0.2.1:1",
        json!({"email": "bob@example.com", "password": PASSWORD, "invite": spare["code"]}),
    )
    .await
    .problem(403);

    // Bad requests name their field; users who are not admins are refused.
    let long = as_operator(
        &app,
        "POST",
        "/v1/admin/invites",
        Some(json!({"valid_days": 400})),
    )
    .await;
    assert!(long.problem(422).starts_with("valid_days"));
    let ada = app.login("ada@example.com", PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send("POST", "/v1/admin/invites", Some(&ada), Some(json!({})))
        .await
        .problem(403);
    app.send("GET", "/v1/admin/invites", None, None)
        .await
        .problem(401);
}

#[tokio::test]
async fn weak_passwords_are_refused_with_advice_and_a_strong_passphrase_is_accepted() {
    let app = App::new().await;
    for (password, why) in [
        ("          ", "only spaces"),
        ("aaaaaaaaaa", "Repeats"),
        ("password12", "common password"),
        ("ada@example.com", "email"),
        ("\0\0\0\0\0\0\0\0\0\0", "control characters"),
    ] {
        let refused = app
            .send(
                "POST",
                "/v1/auth/register",
                None,
                Some(json!({"email": "ada@example.com", "password": password})),
            )
            .await;
        let detail = refused.problem(422);
        assert!(detail.starts_with("password: "), "{password:?}: {detail}");
        assert!(detail.contains(why), "{password:?}: {detail}");
    }
    let too_long = "plum orbit lantern fjord ".repeat(6);
    let refused = app
        .send(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "ada@example.com", "password": too_long})),
        )
        .await;
    assert!(refused.problem(422).contains("at most 128"));
    let accepted = app
        .send(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "ada@example.com", "password": "plum orbit lantern fjord"})),
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.text());

    // A new password is held to the same rules.
    let session = app
        .login("ada@example.com", "plum orbit lantern fjord")
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let weak_change = app
        .send(
            "PATCH",
            "/v1/me",
            Some(&session),
            Some(json!({"password": "ada@example.com1", "current_password": "plum orbit lantern fjord"})),
        )
        .await;
    assert!(
        weak_change
            .problem(422)
            .starts_with("password: too easy to guess")
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_admin_routes_and_the_new_answers() {
    let app = App::new().await;
    let doc = app.send("GET", "/openapi.json", None, None).await.json();
    for path in [
        "/v1/admin/users",
        "/v1/admin/invites",
        "/v1/admin/invites/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    let register = &doc["paths"]["/v1/auth/register"]["post"]["responses"];
    for status in ["403", "429", "503"] {
        assert!(register[status].is_object(), "register {status}");
    }
    assert!(doc["paths"]["/v1/auth/login"]["post"]["responses"]["503"].is_object());
    assert!(doc["components"]["schemas"]["RegisterRequest"]["properties"]["invite"].is_object());
}
