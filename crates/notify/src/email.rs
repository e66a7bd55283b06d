//! Email over SMTP with lettre (tokio, rustls on aws-lc-rs).
//!
//! One plain-text message per notification: the subject, the text as body. Its `Message-ID` is
//! derived from the idempotency key, so every retry of one notification carries the same id
//! (mail systems that deduplicate on it drop the copies) and it is the provider message id.
//!
//! Classification: SMTP 5xx replies permanent (the relay refused this message or recipient),
//! except authentication failures (530, 534, 535, 538), which are the operator's configuration
//! and retryable so a fixed password still delivers; 4xx replies, timeouts, TLS and connection
//! failures retryable.

use std::str::FromStr;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{SmtpConfig, SmtpTls};
use crate::{Delivered, Notification, SendError};

/// SMTP replies that mean our login was refused.
const AUTH_FAILURES: [&str; 4] = ["530", "534", "535", "538"];

pub(crate) struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    password: Option<SecretString>,
    timeout: Duration,
    /// The domain part of `Message-ID`s: the sender address's domain.
    id_domain: String,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// A setting of the SMTP section that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    /// The sender mailbox does not parse.
    #[error(
        "smtp from: {0:?} is not a mailbox (write alerts@example.com or \"stockd <alerts@example.com>\")"
    )]
    From(String),
    /// A username without a password, or the reverse.
    #[error("smtp: username and password go together")]
    Credentials,
    /// lettre refused the TLS setup (e.g. the host is not a valid certificate name).
    #[error("smtp TLS for {host}: {detail}")]
    Tls {
        /// The relay host.
        host: String,
        /// lettre's reason.
        detail: String,
    },
}

impl EmailSender {
    pub(crate) fn new(config: SmtpConfig) -> Result<Self, SmtpConfigError> {
        let from = Mailbox::from_str(&config.from)
            .map_err(|_| SmtpConfigError::From(config.from.clone()))?;
        let tls_error = |err: lettre::transport::smtp::Error| SmtpConfigError::Tls {
            host: config.host.clone(),
            detail: err.to_string(),
        };
        let builder = match config.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(tls_error)?,
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(tls_error)?
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose_secret().to_owned(),
                ));
            }
            (None, None) => {}
            _ => return Err(SmtpConfigError::Credentials),
        }
        Ok(Self {
            transport: builder.build(),
            id_domain: from.email.domain().to_owned(),
            from,
            password: config.password,
            timeout: config.timeout,
        })
    }

    pub(crate) fn secret(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }

    pub(crate) async fn send(
        &self,
        address: &str,
        n: &Notification,
    ) -> Result<Delivered, SendError> {
        let to = Address::from_str(address.trim())
            .map_err(|_| SendError::permanent(format!("{address:?} is not an email address")))?;
        let message_id = message_id(&n.idempotency_key, &self.id_domain);
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(n.subject.clone())
            .message_id(Some(message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(n.text.clone())
            .map_err(|err| SendError::permanent(format!("the email cannot be built: {err}")))?;
        // lettre's own timeout covers connecting only; a relay that stops answering mid-session
        // would hold the dispatcher forever, so the whole exchange has the limit too.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(Delivered {
                provider_message_id: Some(message_id),
            }),
            Ok(Err(err)) => Err(classify(&err)),
            Err(_) => Err(SendError::retryable(format!(
                "smtp: no answer within {}",
                humantime::format_duration(self.timeout)
            ))),
        }
    }
}

fn classify(err: &lettre::transport::smtp::Error) -> SendError {
    let detail = format!("smtp: {err}");
    let code = err.status().map(|code| code.to_string());
    let auth_failure = code
        .as_deref()
        .is_some_and(|code| AUTH_FAILURES.contains(&code));
    if err.is_permanent() && !auth_failure {
        SendError::permanent(detail)
    } else {
        SendError::retryable(detail)
    }
}

/// `<key@domain>` with the key's characters outside `[A-Za-z0-9-_.]` written `=XX` (and `=`
/// itself), so distinct keys give distinct ids and the id is valid RFC 5322.
fn message_id(key: &str, domain: &str) -> String {
    let mut id = String::with_capacity(key.len() + domain.len() + 2);
    id.push('<');
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            id.push(char::from(byte));
        } else {
            id.push_str(&format!("={byte:02X}"));
        }
    }
    id.push('@');
    id.push_str(domain);
    id.push('>');
    id
}

/// Checks an email address for a channel (before anything is sent).
pub fn validate_email(address: &str) -> Result<(), String> {
    Address::from_str(address.trim())
        .map(|_| ())
        .map_err(|_| format!("{address:?} is not an email address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_injective_and_valid() {
        assert_eq!(
            message_id("alert:42/chan=7", "example.com"),
            "<alert=3A42=2Fchan=3D7@example.com>"
        );
        assert_ne!(message_id("a:b", "x"), message_id("a=3Ab", "x"));
    }

    #[test]
    fn configs_are_checked() {
        let mut config = SmtpConfig::new("smtp.example.com", "not a mailbox");
        assert!(matches!(
            EmailSender::new(config.clone()),
            Err(SmtpConfigError::From(_))
        ));
        config.from = "stockd <alerts@example.com>".into();
        config.username = Some("u".into());
        assert!(matches!(
            EmailSender::new(config.clone()),
            Err(SmtpConfigError::Credentials)
        ));
        config.password = Some(SecretString::from("p"));
        for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            config.tls = tls;
            let sender = EmailSender::new(config.clone()).unwrap();
            assert_eq!(sender.id_domain, "example.com");
        }
    }

    #[test]
    fn addresses_are_checked() {
        assert!(validate_email("ann@example.com").is_ok());
        assert!(validate_email("ann").is_err());
        assert!(validate_email("ann@").is_err());
    }
}
