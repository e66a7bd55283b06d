//! The caller's notification channels (a webhook, an email address, a phone number for SMS).
//!
//! A webhook's signing secret is generated when none is given and shown once, in the answer
//! that created (or replaced) the channel. It is stored as it is, because the dispatcher needs
//! it to sign each delivery (HMAC-SHA256); no answer carries it again.

use chrono::Utc;
use domain::WebhookFormat;
use secrecy::{ExposeSecret, SecretString};
use store::{After, Capped, Channel, ChannelTarget};

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
