//! What one send attempt came to: [`Delivered`] or a classified [`SendError`].
//!
//! The classification (permanent or retryable, and how long the receiver asked us to wait) is
//! what the dispatcher acts on, so every sender reduces its transport's errors to it here rather
//! than handing raw errors upward.

use std::fmt;
use std::time::{Duration, SystemTime};

/// A notification the receiving side accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The provider's id for the message when it gives one: the Twilio message `sid`, the
    /// email's `Message-ID`. Webhooks have none.
    pub provider_message_id: Option<String>,
}

/// A failed send attempt, classified.
///
/// `detail` is written for the delivery log and for logs: it names the destination host (never
/// a full URL, whose path may be a credential, as in Slack webhook URLs) and never contains a
/// channel secret, SMTP password or Twilio token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// `true` when retrying cannot help (the receiver refused this notification, the
    /// destination is not allowed, the address is malformed): the dispatcher stops early.
    pub permanent: bool,
    /// How long the receiver asked us to wait (`Retry-After`), when it said.
    pub retry_after: Option<Duration>,
    /// What happened, in words.
    pub detail: String,
    /// The receiver's HTTP status when it answered (a webhook, Twilio), for people reading
    /// the outcome of a test send.
    pub status: Option<u16>,
}

impl SendError {
    /// A failure that no retry can fix.
    pub fn permanent(detail: impl Into<String>) -> Self {
        Self {
            permanent: true,
            retry_after: None,
            detail: detail.into(),
            status: None,
        }
    }

    /// A failure worth retrying on schedule.
    pub fn retryable(detail: impl Into<String>) -> Self {
        Self {
            permanent: false,
            retry_after: None,
            detail: detail.into(),
            status: None,
        }
    }

    /// The same failure with the receiver's requested wait.
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The same failure with the receiver's HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Replaces every occurrence of `secret` in the detail (belt and braces: no sender puts a
    /// secret there, but a receiver could echo one back in its error text).
    pub(crate) fn scrub(mut self, secret: &str) -> Self {
        if !secret.is_empty() && self.detail.contains(secret) {
            self.detail = self.detail.replace(secret, "[redacted]");
        }
        self
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.permanent {
            "permanent"
        } else {
            "retryable"
        };
        write!(f, "{kind} failure: {}", self.detail)
    }
}

impl std::error::Error for SendError {}

/// Reads a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the
/// past means "now"; anything unreadable is ignored.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The start of an error body for a detail: at most `max` characters, on one line.
pub(crate) fn snippet(body: &str, max: usize) -> String {
    let mut out: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if body.chars().count() > max {
        out.push('…');
    }
    out.trim().to_owned()
}

/// The innermost error's message: reqwest's outer layers only say "error sending request".
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
        let wait = parse_retry_after(&later).unwrap();
        assert!(wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn snippets_are_short_single_lines() {
        assert_eq!(snippet("gone\nfor good", 100), "gone for good");
        assert_eq!(snippet("abcdef", 3), "abc…");
    }

    #[test]
    fn scrub_removes_secrets() {
        let err = SendError::retryable("echo: hunter2 hunter2").scrub("hunter2");
        assert_eq!(err.detail, "echo: [redacted] [redacted]");
    }
}
