//! `POST /v1/me/channels/{id}/test`: one test notification through one of the caller's
//! channels, with the outcome in the answer (delivered, or the receiver's status and why);
//! another user's channel answers 404, a fourth test of a channel within a minute 429, and no
//! test touches the caller's notifications.

use serde_json::{Value, json};
use web::auth::AuthSettings;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::accounts::App;

/// An app whose webhooks may reach the local receivers.
async fn app() -> App {
    let settings = AuthSettings {
        webhook_allow: "127.0.0.1".parse().unwrap(),
        ..AuthSettings::default()
    };
    App::with_settings(settings, web::features::Features::default()).await
}

async fn channel(app: &App, token: &str, body: Value) -> String {
    let created = app
        .send("POST", "/v1/me/channels", Some(token), Some(body))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()["id"].as_str().unwrap().to_owned()
}

async fn test(app: &App, token: &str, id: &str) -> crate::helpers::TestResponse {
    app.send(
        "POST",
        &format!("/v1/me/channels/{id}/test"),
        Some(token),
        None,
    )
    .await
}

#[tokio::test]
async fn a_webhook_test_arrives_once_signed_and_says_delivered() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let app = app().await;
    let ada = app.user("ada@example.com").await;
    let id = channel(
        &app,
        &ada,
        json!({"kind": "webhook", "url": format!("{}/hook", receiver.uri())}),
    )
    .await;

    let answer = test(&app, &ada, &id).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let outcome = answer.json();
    assert_eq!(outcome["delivered"], true, "{outcome}");
    assert_eq!(outcome["channel_id"], id.as_str());
    assert_eq!(outcome["kind"], "webhook");
    assert!(outcome["duration_ms"].is_u64() && outcome["at"].is_string());
    assert!(outcome.get("error").is_none() && outcome.get("status").is_none());

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one test delivery");
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["source"], "test", "{body}");
    assert_eq!(body["rule_id"], 0);
    assert!(requests[0].headers.contains_key("x-stockd-signature"));
    // A test is not an alert: nothing in the caller's notifications.
    let listed = app.send("GET", "/v1/notifications", Some(&ada), None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["notifications"], json!([]));
}

#[tokio::test]
async fn a_failing_receiver_is_an_outcome_with_its_status_and_reason_not_an_error() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/private-path-503"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/private-path-404"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&receiver)
        .await;
    let app = app().await;
    let ada = app.user("ada@example.com").await;
    for (hook, status, permanent) in [
        ("private-path-503", 503, false),
        ("private-path-404", 404, true),
    ] {
        let id = channel(
            &app,
            &ada,
            json!({"kind": "webhook", "url": format!("{}/{hook}", receiver.uri())}),
        )
        .await;
        let answer = test(&app, &ada, &id).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let outcome = answer.json();
        assert_eq!(outcome["delivered"], false, "{outcome}");
        assert_eq!(outcome["status"], status, "{outcome}");
        assert_eq!(outcome["permanent"], permanent, "{outcome}");
        let error = outcome["error"].as_str().unwrap();
        assert!(error.contains(&status.to_string()), "{error}");
        assert!(error.contains("127.0.0.1"), "names the host: {error}");
        assert!(
            !error.contains("private-path"),
            "never the URL's path: {error}"
        );
    }
    let down = outcome_of_closed_port(&app, &ada).await;
    assert_eq!(down["delivered"], false, "{down}");
    assert!(down.get("status").is_none(), "nothing answered: {down}");
    assert!(
        down["error"].as_str().unwrap().contains("127.0.0.1"),
        "{down}"
    );

    // Email without an SMTP relay here: said so, not a 500.
    let email = channel(
        &app,
        &ada,
        json!({"kind": "email", "address": "ada@example.com"}),
    )
    .await;
    let outcome = test(&app, &ada, &email).await.json();
    assert_eq!(outcome["delivered"], false, "{outcome}");
    assert_eq!(outcome["permanent"], true);
    assert_eq!(
        outcome["error"],
        "email channels are not configured on this server"
    );
}

/// A webhook to a local port nothing listens on.
async fn outcome_of_closed_port(app: &App, token: &str) -> Value {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let id = channel(
        app,
        token,
        json!({"kind": "webhook", "url": format!("http://127.0.0.1:{port}/hook")}),
    )
    .await;
    let answer = test(app, token, &id).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

#[tokio::test]
async fn only_the_owner_may_test_a_channel_and_only_a_few_times_a_minute() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let app = app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let id = channel(
        &app,
        &ada,
        json!({"kind": "webhook", "url": format!("{}/hook", receiver.uri())}),
    )
    .await;

    let theirs = test(&app, &bob, &id).await;
    assert_eq!(theirs.status, 404, "{}", theirs.text());
    assert_eq!(test(&app, &bob, "no-such-channel").await.status, 404);
    let anonymous = app
        .send("POST", &format!("/v1/me/channels/{id}/test"), None, None)
        .await;
    assert_eq!(anonymous.status, 401);

    for _ in 0..service::channels::TESTS_PER_MINUTE {
        assert_eq!(test(&app, &ada, &id).await.json()["delivered"], true);
    }
    let limited = test(&app, &ada, &id).await;
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert!(limited.header("retry-after").is_some());
    assert!(
        limited.json()["detail"]
            .as_str()
            .unwrap()
            .contains("tested 3 times in the last minute"),
        "{}",
        limited.text()
    );
    assert_eq!(
        receiver.received_requests().await.unwrap().len(),
        service::channels::TESTS_PER_MINUTE,
        "nothing sent past the limit, nothing for bob"
    );
}

#[tokio::test]
async fn the_test_route_is_documented_with_examples() {
    let app = app().await;
    let doc = app.send("GET", "/openapi.json", None, None).await.json();
    let post = &doc["paths"]["/v1/me/channels/{id}/test"]["post"];
    assert!(post.is_object(), "{doc}");
    let examples = &post["responses"]["200"]["content"]["application/json"]["examples"];
    for name in ["delivered", "refused", "not_configured"] {
        assert!(examples[name]["value"].is_object(), "{name}: {post}");
    }
    for status in ["404", "429"] {
        assert!(post["responses"][status].is_object(), "{status}");
    }
}
