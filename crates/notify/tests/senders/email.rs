//! Email against a real local SMTP server (aiosmtpd).

use std::time::Duration;

use notify::{ChannelTarget, NotifyConfig, Senders, SmtpConfig, SmtpTls};
use secrecy::SecretString;

use crate::common::{SmtpSink, notification};

pub const PASSWORD: &str = "smtp-pass-91b2";

pub fn smtp(port: u16, login: Option<(&str, &str)>) -> Senders {
    let mut smtp = SmtpConfig::new("127.0.0.1", "stockd alerts <alerts@stockd.example>");
    smtp.port = port;
    smtp.tls = SmtpTls::None;
    smtp.timeout = Duration::from_secs(5);
    if let Some((user, password)) = login {
        smtp.username = Some(user.to_owned());
        smtp.password = Some(SecretString::from(password));
    }
    Senders::new(NotifyConfig {
        smtp: Some(smtp),
        ..NotifyConfig::default()
    })
    .unwrap()
}

pub fn email(address: &str) -> ChannelTarget {
    ChannelTarget::Email {
        address: address.to_owned(),
    }
}

#[tokio::test]
async fn mail_arrives_with_subject_body_and_message_id() {
    let Some(sink) = SmtpSink::start(None) else {
        return;
    };
    let senders = smtp(sink.port, None);
    let n = notification();
    let delivered = senders.send(&email("ann@example.com"), &n).await.unwrap();
    let message_id = delivered.provider_message_id.unwrap();
    assert!(message_id.ends_with("@stockd.example>"), "{message_id}");

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert!(
        mail.starts_with("X-Sink-Rcpt: ann@example.com\r\n"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: MSFT crossed above 420.00\r\n"),
        "{mail}"
    );
    assert!(mail.contains("To: ann@example.com\r\n"), "{mail}");
    assert!(
        mail.contains("From: \"stockd alerts\" <alerts@stockd.example>"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!("Message-ID: {message_id}")),
        "{mail}"
    );
    assert!(mail.contains(&n.text), "{mail}");

    // A retry of the same notification carries the same Message-ID.
    let again = senders.send(&email("ann@example.com"), &n).await.unwrap();
    assert_eq!(
        again.provider_message_id.as_deref(),
        Some(message_id.as_str())
    );
}

#[tokio::test]
async fn credentials_are_used_and_a_refused_login_is_retryable() {
    let Some(sink) = SmtpSink::start(Some(("stockd", PASSWORD))) else {
        return;
    };
    smtp(sink.port, Some(("stockd", PASSWORD)))
        .send(&email("ann@example.com"), &notification())
        .await
        .unwrap();
    assert_eq!(sink.wait_for(1).await.len(), 1);

    let wrong = "wrong-pass-c0ffee";
    let err = smtp(sink.port, Some(("stockd", wrong)))
        .send(&email("ann@example.com"), &notification())
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(err.detail.contains("535"), "{err}");
    assert!(!err.detail.contains(wrong), "{err}");
}

#[tokio::test]
async fn refused_recipients_are_permanent_and_busy_ones_retryable() {
    let Some(sink) = SmtpSink::start(None) else {
        return;
    };
    let senders = smtp(sink.port, None);
    let err = senders
        .send(&email("reject@example.com"), &notification())
        .await
        .unwrap_err();
    assert!(err.permanent, "{err}");
    assert!(err.detail.contains("550"), "{err}");

    let err = senders
        .send(&email("busy@example.com"), &notification())
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(err.detail.contains("451"), "{err}");
    assert!(sink.messages().is_empty());

    let err = senders
        .send(&email("not-an-address"), &notification())
        .await
        .unwrap_err();
    assert!(err.permanent, "{err}");
}

#[tokio::test]
async fn an_unreachable_relay_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = smtp(port, None)
        .send(&email("ann@example.com"), &notification())
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
}

#[tokio::test]
async fn a_silent_relay_times_out_retryably() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let mut config = SmtpConfig::new("127.0.0.1", "alerts@stockd.example");
    config.port = port;
    config.tls = SmtpTls::None;
    config.timeout = Duration::from_millis(300);
    let senders = Senders::new(NotifyConfig {
        smtp: Some(config),
        ..NotifyConfig::default()
    })
    .unwrap();
    let err = senders
        .send(&email("ann@example.com"), &notification())
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(err.detail.contains("no answer within 300ms"), "{err}");
    held.abort();
}
