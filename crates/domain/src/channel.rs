//! Where a user's notifications go: a channel's target, one type from the API through the
//! store to the senders.
//!
//! Names are parsed, never guessed: a kind or webhook format this build does not know is an
//! error (at the API a 422, in a stored row a channel that waits for its owner), not a silent
//! fallback to some other shape. `Debug` never shows a webhook's secret nor more of its URL
//! than the host: Slack and Discord URLs carry credentials in their path, and targets get
//! logged.

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// How a webhook body is shaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// The notification's JSON payload as it is.
    #[default]
    Generic,
    /// A Slack incoming webhook: `{"text": …}`.
    Slack,
    /// A Discord webhook: `{"content": …}` (at most 2000 characters).
    Discord,
}

/// The kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// [`ChannelTarget::Webhook`].
    Webhook,
    /// [`ChannelTarget::Email`].
    Email,
    /// [`ChannelTarget::Sms`].
    Sms,
}

/// A name that is none of the known ones (`"teams"` as a webhook format).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{name}' (expected one of: {})", expected.join(", "))]
pub struct UnknownName {
    // Crate-visible for `named!`, which the signal module's enums use too.
    pub(crate) what: &'static str,
    pub(crate) name: String,
    pub(crate) expected: &'static [&'static str],
}

/// `as_str`, `Display` and a `FromStr` that refuses unknown names, from one table.
macro_rules! named {
    ($ty:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name the API, the store and metric labels use.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(name: &str) -> Result<Self, UnknownName> {
                match name {
                    $($text => Ok($ty::$variant),)+
                    other => Err(UnknownName {
                        what: $what,
                        name: other.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

named!(WebhookFormat, "webhook format" {
    Generic => "generic",
    Slack => "slack",
    Discord => "discord",
});

named!(ChannelKind, "channel kind" {
    Webhook => "webhook",
    Email => "email",
    Sms => "sms",
});

/// Where one notification goes: a user's channel.
#[derive(Clone)]
pub enum ChannelTarget {
    /// A JSON POST signed with `secret` (HMAC-SHA256), in `format`.
    Webhook {
        /// `http(s)://…`, checked against the SSRF policy at every send.
        url: String,
        /// The channel's HMAC key.
        secret: SecretString,
        /// Body shape.
        format: WebhookFormat,
    },
    /// An email to one address.
    Email {
        /// `ann@example.com`.
        address: String,
    },
    /// An SMS to one number.
    Sms {
        /// E.164: `+15551234567`.
        phone: String,
    },
}

impl ChannelTarget {
    /// This target's kind.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Webhook { .. } => ChannelKind::Webhook,
            Self::Email { .. } => ChannelKind::Email,
            Self::Sms { .. } => ChannelKind::Sms,
        }
    }

    /// A webhook's secret; `None` for other kinds.
    pub fn secret(&self) -> Option<&SecretString> {
        match self {
            Self::Webhook { secret, .. } => Some(secret),
            _ => None,
        }
    }
}

/// Equal targets send the same thing to the same place (secrets compared too).
impl PartialEq for ChannelTarget {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Webhook {
                    url,
                    secret,
                    format,
                },
                Self::Webhook {
                    url: other_url,
                    secret: other_secret,
                    format: other_format,
                },
            ) => {
                url == other_url
                    && format == other_format
                    && secret.expose_secret() == other_secret.expose_secret()
            }
            (Self::Email { address }, Self::Email { address: other }) => address == other,
            (Self::Sms { phone }, Self::Sms { phone: other }) => phone == other,
            _ => false,
        }
    }
}

impl Eq for ChannelTarget {}

impl fmt::Debug for ChannelTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Webhook { url, format, .. } => f
                .debug_struct("Webhook")
                .field("host", &host_of(url))
                .field("format", format)
                .finish_non_exhaustive(),
            Self::Email { address } => f.debug_struct("Email").field("address", address).finish(),
            Self::Sms { phone } => f.debug_struct("Sms").field("phone", phone).finish(),
        }
    }
}

/// The host (and port) of a URL: no user-info, path, query or fragment. Cut by hand rather
/// than parsed: this crate stays free of a URL parser, and a `Debug` needs no validation (the
/// API checked the URL when it was stored).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for format in WebhookFormat::ALL {
            assert_eq!(format.as_str().parse::<WebhookFormat>(), Ok(*format));
            let json = serde_json::to_string(format).unwrap();
            assert_eq!(json, format!("\"{format}\""));
        }
        for kind in ChannelKind::ALL {
            assert_eq!(kind.as_str().parse::<ChannelKind>(), Ok(*kind));
        }
        let err = "teams".parse::<WebhookFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown webhook format 'teams' (expected one of: generic, slack, discord)"
        );
        assert!("Slack".parse::<WebhookFormat>().is_err(), "names are exact");
        assert!(serde_json::from_str::<WebhookFormat>("\"teams\"").is_err());
        assert!("pager".parse::<ChannelKind>().is_err());
    }

    #[test]
    fn debug_shows_a_webhook_s_host_only() {
        let target = ChannelTarget::Webhook {
            url: "https://bot:pa55@hooks.slack.com:8443/services/T0/B0/XyZsecretpath?token=q1#f"
                .into(),
            secret: SecretString::from("whsec_never_shown_0123"),
            format: WebhookFormat::Slack,
        };
        let debug = format!("{target:?}");
        assert!(debug.contains("hooks.slack.com:8443"), "{debug}");
        for hidden in [
            "whsec_never_shown_0123",
            "pa55",
            "bot",
            "XyZsecretpath",
            "q1",
        ] {
            assert!(!debug.contains(hidden), "{hidden} in {debug}");
        }
        let pretty = format!("{target:#?}");
        assert!(!pretty.contains("whsec_never_shown_0123"), "{pretty}");
    }

    #[test]
    fn targets_compare_by_what_they_send_and_where() {
        let hook = |secret: &str| ChannelTarget::Webhook {
            url: "https://example.com/h".into(),
            secret: SecretString::from(secret),
            format: WebhookFormat::Generic,
        };
        assert_eq!(hook("a-secret"), hook("a-secret"));
        assert_ne!(hook("a-secret"), hook("another"));
        let email = ChannelTarget::Email {
            address: "a@example.com".into(),
        };
        assert_ne!(hook("a-secret"), email);
        assert_eq!(email.kind(), ChannelKind::Email);
        assert!(email.secret().is_none());
    }
}
