//! Twilio: the documented request, success and error bodies.

use std::time::Duration;

use notify::{ChannelTarget, NotifyConfig, Senders, TwilioConfig};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{basic_auth, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::notification;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "twilio-token-5e1f";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

pub fn twilio(server: &MockServer) -> Senders {
    let mut twilio = TwilioConfig::new(SID, SecretString::from(TOKEN), "+15557654321");
    twilio.base_url = server.uri();
    Senders::new(NotifyConfig {
        twilio: Some(twilio),
        ..NotifyConfig::default()
    })
    .unwrap()
}

fn sms() -> ChannelTarget {
    ChannelTarget::Sms {
        phone: "+15551234567".into(),
    }
}

/// Twilio's documented error body.
pub fn error_body(code: u32, status: u16, message: &str) -> serde_json::Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status
    })
}

#[tokio::test]
async fn messages_are_posted_as_forms_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(basic_auth(SID, TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("To=%2B15551234567"))
        .and(body_string_contains("From=%2B15557654321"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SM3f0c0e8a9b8c7d6e5f4a3b2c1d0e9f8a",
            "account_sid": SID,
            "messaging_service_sid": null,
            "from": "+15557654321",
            "to": "+15551234567",
            "body": "MSFT crossed above 420.00 (421.13) at 14:30 UTC",
            "status": "queued",
            "num_segments": "1",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": null,
            "price_unit": "USD",
            "error_code": null,
            "error_message": null,
            "date_created": "Fri, 05 Jan 2024 15:30:02 +0000",
            "date_updated": "Fri, 05 Jan 2024 15:30:02 +0000",
            "date_sent": null,
            "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM3f0c0e8a9b8c7d6e5f4a3b2c1d0e9f8a.json",
            "subresource_uris": {"media": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM3f0c0e8a9b8c7d6e5f4a3b2c1d0e9f8a/Media.json"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let delivered = twilio(&server).send(&sms(), &notification()).await.unwrap();
    assert_eq!(
        delivered.provider_message_id.as_deref(),
        Some("SM3f0c0e8a9b8c7d6e5f4a3b2c1d0e9f8a")
    );
    let request = server.received_requests().await.unwrap().remove(0);
    let form: Vec<(String, String)> = url_form(&request.body);
    assert!(form.contains(&("Body".into(), notification().text)));
}

#[tokio::test]
async fn long_bodies_are_cut_to_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM1"})))
        .mount(&server)
        .await;
    let mut n = notification();
    n.text = "MSFT moved. ".repeat(30);
    twilio(&server).send(&sms(), &n).await.unwrap();
    let request = server.received_requests().await.unwrap().remove(0);
    let body = url_form(&request.body)
        .into_iter()
        .find(|(k, _)| k == "Body")
        .unwrap()
        .1;
    assert!(body.chars().count() <= 160, "{body}");
    assert!(body.ends_with("..."), "{body}");
}

#[tokio::test]
async fn invalid_numbers_are_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            21211,
            400,
            "The 'To' number +15550000000 is not a valid phone number.",
        )))
        .mount(&server)
        .await;
    let err = twilio(&server)
        .send(&sms(), &notification())
        .await
        .unwrap_err();
    assert!(err.permanent, "{err}");
    assert!(err.detail.contains("21211"), "{err}");
    assert!(err.detail.contains("not a valid phone number"), "{err}");

    // A number that is not E.164 never reaches Twilio.
    let bad = ChannelTarget::Sms {
        phone: "555-1234".into(),
    };
    let err = twilio(&server)
        .send(&bad, &notification())
        .await
        .unwrap_err();
    assert!(err.permanent);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn throttling_server_errors_and_bad_credentials_are_retryable() {
    for (status, code) in [(429, 20429), (500, 20500), (503, 20503), (401, 20003)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("Retry-After", "30")
                    .set_body_json(error_body(code, status, "try later")),
            )
            .mount(&server)
            .await;
        let err = twilio(&server)
            .send(&sms(), &notification())
            .await
            .unwrap_err();
        assert!(!err.permanent, "{status}: {err}");
        assert_eq!(err.retry_after, Some(Duration::from_secs(30)));
        assert!(err.detail.contains(&code.to_string()), "{err}");
        assert!(!err.detail.contains(TOKEN));
    }
}

#[tokio::test]
async fn sms_without_twilio_is_not_configured() {
    let senders = Senders::new(NotifyConfig::default()).unwrap();
    assert!(!senders.supports(notify::ChannelKind::Sms));
    let err = senders.send(&sms(), &notification()).await.unwrap_err();
    assert!(err.permanent);
    assert!(err.detail.contains("not configured"), "{err}");
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn url_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}
