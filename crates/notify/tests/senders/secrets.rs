//! Secrets (webhook secret, SMTP password, Twilio token) never reach an error detail, a log line
//! or a `Debug` rendering, even when a receiver echoes them back.

use notify::{ChannelTarget, NotifyConfig, SmtpConfig, TwilioConfig, WebhookFormat};
use secrecy::SecretString;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Captured, SmtpSink, notification, senders_allowing_loopback};
use crate::email::{PASSWORD, email, smtp};
use crate::sms::{TOKEN, error_body, twilio};

const WEBHOOK_SECRET: &str = "whsec-never-logged-4d2e";

#[tokio::test]
async fn secrets_stay_out_of_details_logs_and_debug() {
    let logs = Captured::get();

    // A webhook receiver that echoes the secret in its error body.
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500).set_body_string(format!("bad secret {WEBHOOK_SECRET}")),
        )
        .mount(&hook)
        .await;
    let target = ChannelTarget::Webhook {
        url: format!("{}/hook", hook.uri()),
        secret: SecretString::from(WEBHOOK_SECRET),
        format: WebhookFormat::Generic,
    };
    let err = senders_allowing_loopback(NotifyConfig::default())
        .send(&target, &notification())
        .await
        .unwrap_err();
    assert!(err.detail.contains("[redacted]"), "{err}");
    assert!(!err.detail.contains(WEBHOOK_SECRET), "{err}");

    // Twilio refusing the token, and echoing it.
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_body(
            20003,
            401,
            &format!("Authenticate: token {TOKEN} refused"),
        )))
        .mount(&api)
        .await;
    let sms = ChannelTarget::Sms {
        phone: "+15551234567".into(),
    };
    let err = twilio(&api).send(&sms, &notification()).await.unwrap_err();
    assert!(!err.detail.contains(TOKEN), "{err}");

    // SMTP refusing the password.
    if let Some(sink) = SmtpSink::start(Some(("stockd", "another-password"))) {
        let err = smtp(sink.port, Some(("stockd", PASSWORD)))
            .send(&email("ann@example.com"), &notification())
            .await
            .unwrap_err();
        assert!(!err.detail.contains(PASSWORD), "{err}");
    }

    let logged = logs.text();
    assert!(logged.contains("notification not delivered"), "{logged}");
    for secret in [WEBHOOK_SECRET, TOKEN, PASSWORD] {
        assert!(!logged.contains(secret), "{secret} logged:\n{logged}");
    }

    let mut smtp_config = SmtpConfig::new("smtp.example.com", "alerts@example.com");
    smtp_config.password = Some(SecretString::from(PASSWORD));
    let config = NotifyConfig {
        smtp: Some(smtp_config),
        twilio: Some(TwilioConfig::new(
            "AC1",
            SecretString::from(TOKEN),
            "+15557654321",
        )),
        ..NotifyConfig::default()
    };
    let debug = format!("{config:?} {target:?}");
    assert!(debug.contains("127.0.0.1"), "{debug}");
    assert!(
        !debug.contains("/hook"),
        "webhook paths stay out of Debug: {debug}"
    );
    for secret in [WEBHOOK_SECRET, TOKEN, PASSWORD] {
        assert!(!debug.contains(secret), "{debug}");
    }
}
