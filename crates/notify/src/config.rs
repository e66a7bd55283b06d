//! The typed configuration of the senders; the binary fills it from its settings.

use std::time::Duration;

use secrecy::SecretString;

use crate::ssrf::AllowList;

/// Everything the senders need. A channel kind whose section is `None` is not offered:
/// [`crate::Senders::supports`] says so, and sending to it fails permanently.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// The SMTP relay for email channels.
    pub smtp: Option<SmtpConfig>,
    /// The Twilio account for SMS channels.
    pub twilio: Option<TwilioConfig>,
    /// Webhook delivery: timeout and the SSRF allow-list.
    pub webhook: WebhookConfig,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text. Only for a relay on the same host or a test sink.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

/// An SMTP relay.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The server's host name (also the name its certificate is checked against).
    pub host: String,
    /// Usually 587 for STARTTLS, 465 for TLS, 25 for plain relays.
    pub port: u16,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// Login, when the relay wants one (with `password`).
    pub username: Option<String>,
    /// Password of `username`; never logged, never in an error detail.
    pub password: Option<SecretString>,
    /// The sender mailbox, e.g. `stockd <alerts@example.com>`; its domain also names the
    /// `Message-ID`s.
    pub from: String,
    /// Limit for one whole send, connecting to the relay's last reply.
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A STARTTLS relay on port 587, without login, with a 30 s timeout.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: None,
            password: None,
            from: from.into(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Where Twilio serves its REST API.
pub const TWILIO_BASE_URL: &str = "https://api.twilio.com";

/// A Twilio account sending SMS.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// The account SID (`AC…`), also the basic-auth user.
    pub account_sid: String,
    /// The auth token (or API key secret); never logged, never in an error detail.
    pub auth_token: SecretString,
    /// The sending number (E.164), short code or alphanumeric sender id.
    pub from: String,
    /// Scheme and host without a path; tests point it at a local mock.
    pub base_url: String,
    /// Limit for one API call.
    pub timeout: Duration,
    /// How many SMS segments a message may use (each billed as one SMS): 1 keeps messages to
    /// 160 GSM-7 or 70 UCS-2 characters; longer texts are cut to fit, ending in an ellipsis.
    pub max_segments: u8,
}

impl TwilioConfig {
    /// An account on the public API, single-segment messages, 10 s timeout.
    pub fn new(
        account_sid: impl Into<String>,
        auth_token: SecretString,
        from: impl Into<String>,
    ) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token,
            from: from.into(),
            base_url: TWILIO_BASE_URL.to_owned(),
            timeout: Duration::from_secs(10),
            max_segments: 1,
        }
    }
}

/// Webhook delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Limit for one POST, connect to last byte (3 s by default: a receiver should queue
    /// work and answer at once).
    pub timeout: Duration,
    /// Non-public networks and hosts webhooks may reach anyway (see [`crate::ssrf`]).
    pub allow: AllowList,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3),
            allow: AllowList::default(),
        }
    }
}
