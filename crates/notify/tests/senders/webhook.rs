//! Webhooks: body shapes, signature, idempotency key, and how answers are classified.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notify::signature::{self, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use notify::{ChannelTarget, NotifyConfig, WebhookFormat};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{notification, senders_allowing_loopback};

const SECRET: &str = "whsec-test-7f3a9c";

fn target(server: &MockServer, format: WebhookFormat) -> ChannelTarget {
    ChannelTarget::Webhook {
        url: format!("{}/hooks/T0001/secret-path-token", server.uri()),
        secret: SecretString::from(SECRET),
        format,
    }
}

async fn answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn generic_webhooks_post_the_payload_signed_with_the_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/T0001/secret-path-token"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let senders = senders_allowing_loopback(NotifyConfig::default());
    let n = notification();

    let delivered = senders
        .send(&target(&server, WebhookFormat::Generic), &n)
        .await
        .unwrap();
    assert_eq!(delivered.provider_message_id, None);

    let request = server.received_requests().await.unwrap().remove(0);
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header(IDEMPOTENCY_HEADER), n.idempotency_key);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, serde_json::to_value(&n.payload).unwrap());
    assert_eq!(body["type"], "alert.fired");

    // A receiver checks the signature with the channel secret as the README describes.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let timestamp = header(TIMESTAMP_HEADER);
    let signed = header(SIGNATURE_HEADER);
    assert!(signed.starts_with("sha256="));
    signature::verify(
        SECRET.as_bytes(),
        &timestamp,
        &request.body,
        &signed,
        now,
        Duration::from_secs(300),
    )
    .unwrap();
    assert!(
        signature::verify(
            b"wrong",
            &timestamp,
            &request.body,
            &signed,
            now,
            Duration::from_secs(300)
        )
        .is_err()
    );
}

#[tokio::test]
async fn slack_and_discord_get_their_own_shapes() {
    let server = answering(200).await;
    let senders = senders_allowing_loopback(NotifyConfig::default());
    let n = notification();
    for format in [WebhookFormat::Slack, WebhookFormat::Discord] {
        senders.send(&target(&server, format), &n).await.unwrap();
    }
    let bodies: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [json!({"text": n.text}), json!({"content": n.text})]
    );
}

#[tokio::test]
async fn server_errors_and_throttling_are_retryable() {
    let senders = senders_allowing_loopback(NotifyConfig::default());
    for status in [500, 502, 503, 408, 429] {
        let server = answering(status).await;
        let err = senders
            .send(&target(&server, WebhookFormat::Generic), &notification())
            .await
            .unwrap_err();
        assert!(!err.permanent, "{status}: {err}");
        assert!(err.detail.contains(&status.to_string()), "{err}");
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .mount(&server)
        .await;
    let senders = senders_allowing_loopback(NotifyConfig::default());
    let err = senders
        .send(&target(&server, WebhookFormat::Generic), &notification())
        .await
        .unwrap_err();
    assert!(!err.permanent);
    assert_eq!(err.retry_after, Some(Duration::from_secs(120)));
    let schedule = notify::RetrySchedule::default();
    assert_eq!(
        schedule.after_failure(1, &err),
        Some(Duration::from_secs(120))
    );
}

#[tokio::test]
async fn refusals_are_permanent_and_name_the_host_not_the_path() {
    let senders = senders_allowing_loopback(NotifyConfig::default());
    for status in [400, 401, 403, 404, 410, 422] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string("channel_is_archived"))
            .mount(&server)
            .await;
        let err = senders
            .send(&target(&server, WebhookFormat::Slack), &notification())
            .await
            .unwrap_err();
        assert!(err.permanent, "{status}: {err}");
        assert!(err.detail.contains("127.0.0.1"), "{err}");
        assert!(err.detail.contains("channel_is_archived"), "{err}");
        assert!(!err.detail.contains("secret-path-token"), "{err}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/hooks/T0001/secret-path-token"))
        .respond_with(ResponseTemplate::new(307).insert_header("Location", "/elsewhere"))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let senders = senders_allowing_loopback(NotifyConfig::default());
    let err = senders
        .send(&target(&server, WebhookFormat::Generic), &notification())
        .await
        .unwrap_err();
    assert!(err.permanent, "{err}");
    assert!(err.detail.contains("redirects are not followed"), "{err}");
}

#[tokio::test]
async fn a_slow_receiver_times_out_retryably() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let mut config = NotifyConfig::default();
    config.webhook.timeout = Duration::from_millis(300);
    let senders = senders_allowing_loopback(config);
    let started = std::time::Instant::now();
    let err = senders
        .send(&target(&server, WebhookFormat::Generic), &notification())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!err.permanent, "{err}");
    assert!(err.detail.contains("did not answer within 300ms"), "{err}");
}

#[tokio::test]
async fn an_unreachable_receiver_is_retryable() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let senders = senders_allowing_loopback(NotifyConfig::default());
    let target = ChannelTarget::Webhook {
        url: format!("http://127.0.0.1:{port}/hook"),
        secret: SecretString::from(SECRET),
        format: WebhookFormat::Generic,
    };
    let err = senders.send(&target, &notification()).await.unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(err.detail.starts_with("webhook 127.0.0.1:"), "{err}");
}
