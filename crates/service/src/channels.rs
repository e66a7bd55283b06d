//! The caller's notification channels (a webhook, an email address, a phone number for SMS).
//!
//! A webhook's signing secret is generated when none is given and shown once, in the answer
//! that created (or replaced) the channel. It is stored as it is, because the dispatcher needs
//! it to sign each delivery (HMAC-SHA256); no answer carries it again.
//!
//! **Channel tests** ([`Service::test_channel`]) send one test notification through one of the
//! caller's channels, at once, with the senders the dispatcher uses (the same SSRF policy and
//! allow-list, signature, SMTP and Twilio set-up), and answer what came of it. A test is not an
//! alert: no alert event, no outbox row, no retry, no delivery-log entry (that log belongs to
//! notifications of alert events); it is logged and counted in
//! `stock_api_channel_tests_total{kind,outcome}`. Its payload is an [`AlertNotice`] with
//! `rule_id` 0, symbol `TEST` and source `test`, so a receiver can tell it apart. Each channel
//! may be tested [`TESTS_PER_MINUTE`] times a minute on each replica (429 past it), so the
//! endpoint cannot be used to flood someone's URL, mailbox or phone.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{AlertNotice, ChannelKind, WebhookFormat};
use secrecy::{ExposeSecret, SecretString};
use store::{After, Capped, Channel, ChannelTarget};
use tokio::time::Instant;

use crate::accounts::normalize_email;
use crate::{Caller, Service, ServiceError, UserCaps, auth};

/// Prefix of generated webhook secrets.
const SECRET_PREFIX: &str = "whsec_";

/// A channel as the caller describes it, before it is checked. `Debug` shows no secret nor
/// webhook path.
pub enum ChannelSpec {
    /// A JSON POST to `url`, signed with `secret` (generated when `None`) in `format`
    /// (`generic` when `None`).
    Webhook {
        url: String,
        secret: Option<String>,
        format: Option<WebhookFormat>,
    },
    Email {
        address: String,
    },
    /// An E.164 phone number.
    Sms {
        phone: String,
    },
}

impl std::fmt::Debug for ChannelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // As the channel it asks for shows itself.
            Self::Webhook {
                url,
                secret,
                format,
            } => ChannelTarget::Webhook {
                url: url.clone(),
                secret: SecretString::from(secret.clone().unwrap_or_default()),
                format: format.unwrap_or_default(),
            }
            .fmt(f),
            Self::Email { address } => f.debug_struct("Email").field("address", address).finish(),
            Self::Sms { phone } => f.debug_struct("Sms").field("phone", phone).finish(),
        }
    }
}

/// A stored channel, and whether its webhook secret is new (to be shown this once).
#[derive(Debug)]
pub struct Saved {
    pub channel: Channel,
    pub new_secret: bool,
}

/// Checks a webhook URL: absolute http(s) with a host and no credentials.
fn check_url(text: &str) -> Result<String, ServiceError> {
    let invalid = |why: &str| ServiceError::Unprocessable(format!("url: {why}"));
    if text.len() > 2048 {
        return Err(invalid("must be at most 2048 characters"));
    }
    let url = url::Url::parse(text.trim())
        .map_err(|err| invalid(&format!("not an absolute URL ({err})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry credentials; authenticate with the signature header instead",
        ));
    }
    Ok(url.to_string())
}

/// Checks an E.164 number: `+`, then 8 to 15 digits, the first not 0.
fn check_phone(text: &str) -> Result<String, ServiceError> {
    let phone = text.trim();
    let digits = phone.strip_prefix('+').unwrap_or("");
    let valid = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(phone.to_owned())
    } else {
        Err(ServiceError::Unprocessable(
            "phone: must be an E.164 number: + then country code and number, 8 to 15 digits (e.g. +15551234567)".into(),
        ))
    }
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("you have no channel with this id".into())
}

/// Test sends one channel may make per minute, on each replica.
pub const TESTS_PER_MINUTE: usize = 3;

/// The window [`TESTS_PER_MINUTE`] counts in.
const TEST_WINDOW: Duration = Duration::from_secs(60);

/// Channels whose recent tests are remembered at most (the oldest windows are swept first);
/// a bound so the limiter cannot grow memory without end.
const TEST_KEYS: usize = 10_000;

/// The recent test sends of each channel: a sliding window on tokio's clock.
#[derive(Debug, Default)]
pub(crate) struct TestLimiter(Mutex<HashMap<String, VecDeque<Instant>>>);

impl TestLimiter {
    /// Counts one test of `channel_id` now, or says how long until one is allowed.
    fn admit(&self, channel_id: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut recent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= TEST_KEYS && !recent.contains_key(channel_id) {
            recent.retain(|_, sent| sent.back().is_some_and(|t| now - *t < TEST_WINDOW));
            if recent.len() >= TEST_KEYS {
                // Every remembered channel tested within the minute: refuse rather than forget.
                return Err(TEST_WINDOW);
            }
        }
        let sent = recent.entry(channel_id.to_owned()).or_default();
        while sent.front().is_some_and(|t| now - *t >= TEST_WINDOW) {
            sent.pop_front();
        }
        if sent.len() >= TESTS_PER_MINUTE {
            let oldest = sent.front().copied().unwrap_or(now);
            return Err(TEST_WINDOW
                .saturating_sub(now - oldest)
                .max(Duration::from_secs(1)));
        }
        sent.push_back(now);
        Ok(())
    }
}

/// The senders channel tests use, in `Debug`-able form.
#[derive(Clone)]
pub(crate) struct TestSenders(pub(crate) Arc<dyn notify::Notifier>);

impl std::fmt::Debug for TestSenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestSenders")
    }
}

/// What a test send came to.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub channel_id: String,
    pub kind: ChannelKind,
    /// Whether the receiver accepted the test notification.
    pub delivered: bool,
    /// The receiver's HTTP status when it answered with a failure (webhooks, Twilio).
    pub status: Option<u16>,
    /// Why it failed, in words (the receiver's host, never a full webhook URL or a secret).
    pub error: Option<String>,
    /// Whether a failure is one retrying would not fix (the receiver refused, the destination
    /// is not allowed, the channel kind is not configured here).
    pub permanent: Option<bool>,
    /// The provider's message id, when it gives one (Twilio's `sid`, the email `Message-ID`).
    pub provider_message_id: Option<String>,
    /// When the test was sent, and how long the attempt took.
    pub at: DateTime<Utc>,
    pub duration: Duration,
}

/// The test notification for `channel_id`: a fixed notice a receiver can tell from an alert.
fn test_notification(channel_id: &str, at: DateTime<Utc>) -> notify::Notification {
    let message = "stockd test notification: this channel works. No alert fired.".to_owned();
    let key = format!("test:{channel_id}:{}", uuid::Uuid::now_v7());
    notify::Notification {
        idempotency_key: key.clone(),
        subject: "stockd test notification".into(),
        text: message.clone(),
        payload: AlertNotice {
            rule_id: 0,
            symbol: domain::Symbol::parse("TEST").unwrap_or_else(|_| unreachable!()),
            price: domain::Price::ZERO,
            at,
            source: "test".into(),
            message,
            dedupe_key: key,
        },
    }
}

impl Service {
    /// The checked target of `spec`. `keep_secret` is the secret of the webhook being
    /// replaced, reused when the spec gives none.
    async fn target(
        &self,
        spec: ChannelSpec,
        keep_secret: Option<SecretString>,
    ) -> Result<ChannelTarget, ServiceError> {
        Ok(match spec {
            ChannelSpec::Webhook {
                url,
                secret,
                format,
            } => {
                let url = check_url(&url)?;
                // The SSRF policy at once, so a refused destination is a 422 now rather than a
                // failed delivery later. A host that does not resolve (DNS down, a name not yet
                // published) is accepted: the sender's guarded resolver vets it at every
                // delivery.
                match notify::validate_webhook_url(&url, &self.settings().webhook_allow).await {
                    Ok(_) | Err(notify::UrlRefused::Unresolved { .. }) => {}
                    Err(refused) => {
                        return Err(ServiceError::Unprocessable(format!("url: {refused}")));
                    }
                }
                let secret = match secret {
                    Some(secret) => {
                        let chars = secret.chars().count();
                        if !(16..=256).contains(&chars) {
                            return Err(ServiceError::Unprocessable(
                                "secret: must be 16 to 256 characters (or leave it out to have one generated)".into(),
                            ));
                        }
                        SecretString::from(secret)
                    }
                    None => match keep_secret {
                        Some(kept) => kept,
                        None => SecretString::from(auth::new_token(SECRET_PREFIX)?),
                    },
                };
                ChannelTarget::Webhook {
                    url,
                    secret,
                    format: format.unwrap_or_default(),
                }
            }
            ChannelSpec::Email { address } => ChannelTarget::Email {
                address: normalize_email(&address, "address")?,
            },
            ChannelSpec::Sms { phone } => ChannelTarget::Sms {
                phone: check_phone(&phone)?,
            },
        })
    }

    /// Adds a channel, within `max_channels_per_user`.
    pub async fn create_channel(
        &self,
        caller: &Caller,
        spec: ChannelSpec,
    ) -> Result<Channel, ServiceError> {
        let target = self.target(spec, None).await?;
        let cap = UserCaps::of(self.settings().caps.channels);
        let created = self
            .store()
            .create_channel_within(&caller.user.id, &target, Utc::now(), cap)
            .await?;
        let Capped::Created(channel) = created else {
            let cap = cap.unwrap_or_default();
            return Err(ServiceError::CapReached {
                setting: "max_channels_per_user",
                cap,
                detail: format!(
                    "you have {cap} notification channels, the most one account may; delete one (DELETE /v1/me/channels/{{id}}) or reuse it"
                ),
            });
        };
        Ok(channel)
    }

    /// Up to `limit` of the caller's channels after `after`, oldest first.
    pub async fn channels(
        &self,
        caller: &Caller,
        after: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<Channel>, ServiceError> {
        Ok(self
            .store()
            .channels_page(&caller.user.id, after, limit)
            .await?)
    }

    /// One of the caller's channels.
    pub async fn channel(&self, caller: &Caller, id: &str) -> Result<Channel, ServiceError> {
        self.store()
            .channel(&caller.user.id, id)
            .await?
            .ok_or_else(not_found)
    }

    /// Replaces one of the caller's channels. A webhook keeps its secret when the spec gives
    /// none; a stored channel this server cannot read keeps nothing (a new secret is generated
    /// if none is given).
    pub async fn replace_channel(
        &self,
        caller: &Caller,
        id: &str,
        spec: ChannelSpec,
    ) -> Result<Saved, ServiceError> {
        let current = self.channel(caller, id).await?;
        let kept = current
            .target
            .ok()
            .and_then(|target| target.secret().cloned());
        let secret_given = matches!(
            spec,
            ChannelSpec::Webhook {
                secret: Some(_),
                ..
            }
        );
        let target = self.target(spec, kept.clone()).await?;
        let new_secret = target.secret().is_some_and(|secret| {
            secret_given
                || kept.as_ref().map(ExposeSecret::expose_secret) != Some(secret.expose_secret())
        });
        let channel = self
            .store()
            .update_channel(&caller.user.id, id, &target)
            .await?
            .ok_or_else(not_found)?;
        Ok(Saved {
            channel,
            new_secret,
        })
    }

    /// Uses `senders` for channel tests (the binary's, with its SMTP and Twilio set-up); a
    /// second call is ignored. Without it, tests use webhook-only senders with the configured
    /// allow-list.
    pub fn set_senders(&self, senders: Arc<dyn notify::Notifier>) {
        let _ = self.0.senders.set(TestSenders(senders));
    }

    fn test_senders(&self) -> Result<TestSenders, ServiceError> {
        if let Some(senders) = self.0.senders.get() {
            return Ok(senders.clone());
        }
        let config = notify::NotifyConfig {
            webhook: notify::WebhookConfig {
                allow: self.settings().webhook_allow.clone(),
                ..notify::WebhookConfig::default()
            },
            ..notify::NotifyConfig::default()
        };
        let senders = notify::Senders::new(config).map_err(|err| {
            tracing::error!(error = %err, "channel tests: the senders could not be built");
            ServiceError::Internal("the notification senders could not be built")
        })?;
        Ok(self
            .0
            .senders
            .get_or_init(|| TestSenders(Arc::new(senders)))
            .clone())
    }

    /// Sends one test notification through one of the caller's channels and answers what came
    /// of it (see the module docs). A failed send is an outcome, not an error: the errors are
    /// 404 (no such channel of the caller's), 422 (a stored channel this server cannot read)
    /// and 429 (tested too often).
    pub async fn test_channel(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<TestOutcome, ServiceError> {
        let channel = self.channel(caller, id).await?;
        let target = channel.target.map_err(|unreadable| {
            ServiceError::Unprocessable(format!(
                "this server cannot read the stored channel ({}); replace it (PUT /v1/me/channels/{}) or delete it",
                unreadable.reason, channel.id
            ))
        })?;
        let kind = target.kind();
        if let Err(wait) = self.0.channel_tests.admit(&channel.id) {
            metrics::counter!("stock_api_channel_tests_total", "kind" => kind.as_str(), "outcome" => "limited").increment(1);
            return Err(ServiceError::TooManyRequests {
                detail: format!(
                    "this channel was tested {TESTS_PER_MINUTE} times in the last minute, the most allowed; try again in {} s",
                    wait.as_secs().max(1)
                ),
                retry_after: wait,
            });
        }
        let senders = self.test_senders()?;
        let at = Utc::now();
        let notification = test_notification(&channel.id, at);
        let started = Instant::now();
        let sent = senders.0.send(&target, &notification).await;
        let duration = started.elapsed();
        let mut outcome = TestOutcome {
            channel_id: channel.id,
            kind,
            delivered: sent.is_ok(),
            status: None,
            error: None,
            permanent: None,
            provider_message_id: None,
            at,
            duration,
        };
        match sent {
            Ok(delivered) => outcome.provider_message_id = delivered.provider_message_id,
            Err(failed) => {
                outcome.status = failed.status;
                outcome.permanent = Some(failed.permanent);
                outcome.error = Some(failed.detail);
            }
        }
        let result = if outcome.delivered {
            "delivered"
        } else {
            "failed"
        };
        metrics::counter!("stock_api_channel_tests_total", "kind" => kind.as_str(), "outcome" => result).increment(1);
        tracing::info!(
            user_id = %caller.user.id,
            channel_id = %outcome.channel_id,
            kind = kind.as_str(),
            outcome = result,
            status = outcome.status,
            error = outcome.error.as_deref(),
            "channel test sent"
        );
        Ok(outcome)
    }

    /// Deletes one of the caller's channels.
    pub async fn delete_channel(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        if self.store().delete_channel(&caller.user.id, id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_neither_a_secret_nor_a_webhook_path() {
        let secret = "whsec_never_in_debug_0123";
        let spec = ChannelSpec::Webhook {
            url: "https://hooks.slack.com/services/T0/B0/pathsecret".into(),
            secret: Some(secret.into()),
            format: Some(WebhookFormat::Slack),
        };
        let debug = format!("{spec:?}");
        assert!(debug.contains("hooks.slack.com"), "{debug}");
        assert!(
            !debug.contains(secret) && !debug.contains("pathsecret"),
            "{debug}"
        );
    }
}
