//! stockd's notification senders: one notification, over one channel, classified.
//!
//! This crate owns the sending half of notifications: a signed JSON webhook (generic, Slack or
//! Discord shaped) behind an SSRF guard, email over SMTP, SMS through Twilio, and the
//! [`RetrySchedule`]. It does not own the outbox, its tables or the dispatcher loop: a
//! dispatcher claims a row, calls [`Senders::send`] (or any [`Notifier`]), records the outcome
//! and, for a [`SendError`] that is not permanent, asks the schedule when to try again.
//!
//! Every failure is reduced to [`SendError`]: `permanent` (stop: the receiver refused this
//! notification, or the destination is not allowed), or retryable with the receiver's
//! `Retry-After` when it gave one. Details never carry a secret (channel secret, SMTP password,
//! Twilio token) nor a full webhook URL, whose path is often a credential itself.
//!
//! ```no_run
//! # async fn demo(attempts: u32) -> Result<(), notify::BuildError> {
//! use notify::{
//!     AlertNotice, ChannelTarget, Notification, NotifyConfig, RetrySchedule, Senders, WebhookFormat,
//! };
//!
//! let senders = Senders::new(NotifyConfig::default())?;
//! let target = ChannelTarget::Webhook {
//!     url: "https://hooks.example.com/stockd".into(),
//!     secret: "whsec_from_the_channel_row".into(),
//!     format: WebhookFormat::Generic,
//! };
//! let n = Notification {
//!     idempotency_key: "r42:2026-11-28T14:30:00Z:c7".into(),
//!     subject: "MSFT crossed above 420.00".into(),
//!     text: "MSFT crossed above 420.00 (421.13)".into(),
//!     payload: AlertNotice {
//!         rule_id: 42,
//!         symbol: "MSFT".parse().unwrap(),
//!         price: "421.13".parse().unwrap(),
//!         at: "2026-11-28T14:30:00Z".parse().unwrap(),
//!         source: "finnhub".into(),
//!         message: "MSFT crossed above 420.00 (421.13)".into(),
//!         dedupe_key: "42:2026-11-28T14:30:00Z".into(),
//!     },
//! };
//! match senders.send(&target, &n).await {
//!     Ok(delivered) => { /* record delivered.provider_message_id */ }
//!     Err(error) => match RetrySchedule::default().after_failure(attempts, &error) {
//!         Some(wait) => { /* due again in `wait`; log error.detail */ }
//!         None => { /* failed for good */ }
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Modules: `webhook` (signed POSTs), [`ssrf`] (the destination policy and its allow-list),
//! [`signature`] (the HMAC scheme, with a verifier receivers can use), `email` (lettre), `sms`
//! and [`sms_text`] (Twilio, bodies cut to fit SMS segments), [`retry`].

mod config;
mod email;
mod outcome;
pub mod retry;
pub mod signature;
mod sms;
pub mod sms_text;
pub mod ssrf;
mod webhook;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

pub use config::{NotifyConfig, SmtpConfig, SmtpTls, TWILIO_BASE_URL, TwilioConfig, WebhookConfig};
/// A channel's target and an alert's notice are the domain's: one type each from where they
/// are made (the API, the evaluator) through the store to here.
pub use domain::{AlertNotice, ChannelKind, ChannelTarget, WebhookFormat};
pub use email::{SmtpConfigError, validate_email};
pub use outcome::{Delivered, SendError};
pub use retry::{MAX_RETRY_AFTER, RetrySchedule};
pub use sms::validate_phone;
pub use ssrf::{AllowList, Lookup, SystemLookup, UrlRefused, validate_webhook_url};

use email::EmailSender;
use sms::SmsSender;
use webhook::WebhookSender;

/// One notification, rendered for every channel kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The same on every attempt of this notification: the webhook `Idempotency-Key` header and
    /// the email `Message-ID`, so receivers can drop duplicates of a retried delivery.
    pub idempotency_key: String,
    /// One line: the email subject.
    pub subject: String,
    /// Plain human text: the email body, the SMS body (cut to fit), the Slack / Discord message.
    pub text: String,
    /// The firing itself, posted as it is (its JSON) to generic webhooks.
    pub payload: AlertNotice,
}

/// Anything that sends one notification to one target: [`Senders`] in production, a fake in a
/// dispatcher's tests.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// One attempt; never retries by itself.
    async fn send(&self, target: &ChannelTarget, n: &Notification) -> Result<Delivered, SendError>;
}

/// Building [`Senders`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The SMTP section cannot work.
    #[error(transparent)]
    Smtp(#[from] SmtpConfigError),
    /// An HTTP client could not be built (the TLS setup failed).
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The configured senders; cheap to share (`Arc`) between dispatcher tasks.
#[derive(Debug)]
pub struct Senders {
    webhook: WebhookSender,
    email: Option<EmailSender>,
    sms: Option<SmsSender>,
    allow: AllowList,
    lookup: Arc<dyn Lookup>,
}

impl Senders {
    /// Builds every configured sender, resolving webhook hosts with the system resolver.
    pub fn new(config: NotifyConfig) -> Result<Self, BuildError> {
        Self::with_lookup(config, Arc::new(SystemLookup))
    }

    /// The same with another resolver for webhook hosts (tests map names to local servers).
    pub fn with_lookup(config: NotifyConfig, lookup: Arc<dyn Lookup>) -> Result<Self, BuildError> {
        Ok(Self {
            allow: config.webhook.allow.clone(),
            webhook: WebhookSender::new(config.webhook, Arc::clone(&lookup))?,
            email: config.smtp.map(EmailSender::new).transpose()?,
            sms: config.twilio.map(SmsSender::new).transpose()?,
            lookup,
        })
    }

    /// Whether channels of `kind` can be delivered here (webhooks always; email with an SMTP
    /// section; SMS with a Twilio section).
    pub fn supports(&self, kind: ChannelKind) -> bool {
        match kind {
            ChannelKind::Webhook => true,
            ChannelKind::Email => self.email.is_some(),
            ChannelKind::Sms => self.sms.is_some(),
        }
    }

    /// Checks a target when a user creates or changes a channel, so a bad one is refused at once
    /// (HTTP 422) rather than failing later: the channel kind is configured, the address or
    /// number is well formed, the webhook URL passes the SSRF policy (its host is resolved).
    pub async fn validate(&self, target: &ChannelTarget) -> Result<(), String> {
        let kind = target.kind();
        if !self.supports(kind) {
            return Err(format!(
                "{} channels are not configured on this server",
                kind.as_str()
            ));
        }
        match target {
            ChannelTarget::Webhook { url, .. } => {
                ssrf::validate_with(url, &self.allow, &*self.lookup)
                    .await
                    .map(|_| ())
                    .map_err(|refused| refused.to_string())
            }
            ChannelTarget::Email { address } => validate_email(address),
            ChannelTarget::Sms { phone } => validate_phone(phone),
        }
    }

    /// One delivery attempt of `n` to `target`.
    pub async fn send(
        &self,
        target: &ChannelTarget,
        n: &Notification,
    ) -> Result<Delivered, SendError> {
        let kind = target.kind();
        let outcome = match target {
            ChannelTarget::Webhook {
                url,
                secret,
                format,
            } => self
                .webhook
                .send(url, secret, *format, n)
                .await
                .map_err(|err| err.scrub(secret.expose_secret())),
            ChannelTarget::Email { address } => match &self.email {
                Some(email) => email
                    .send(address, n)
                    .await
                    .map_err(|err| match email.secret() {
                        Some(password) => err.scrub(password.expose_secret()),
                        None => err,
                    }),
                None => Err(not_configured(kind)),
            },
            ChannelTarget::Sms { phone } => match &self.sms {
                Some(sms) => sms
                    .send(phone, n)
                    .await
                    .map_err(|err| err.scrub(sms.secret().expose_secret())),
                None => Err(not_configured(kind)),
            },
        };
        match &outcome {
            Ok(delivered) => tracing::debug!(
                channel = kind.as_str(),
                provider_message_id = delivered.provider_message_id.as_deref(),
                "notification delivered"
            ),
            Err(err) => tracing::debug!(
                channel = kind.as_str(),
                permanent = err.permanent,
                detail = %err.detail,
                "notification not delivered"
            ),
        }
        outcome
    }
}

#[async_trait]
impl Notifier for Senders {
    async fn send(&self, target: &ChannelTarget, n: &Notification) -> Result<Delivered, SendError> {
        Senders::send(self, target, n).await
    }
}

fn not_configured(kind: ChannelKind) -> SendError {
    SendError::permanent(format!(
        "{} channels are not configured on this server",
        kind.as_str()
    ))
}
