//! Webhook delivery: a signed JSON POST to a user's URL, through the SSRF guard.
//!
//! Bodies: the notification's JSON payload (`generic`), `{"text": …}` (Slack incoming
//! webhooks) or `{"content": …}` (Discord, which caps content at 2000 characters). Headers:
//! `Idempotency-Key`, `X-Stockd-Timestamp`, `X-Stockd-Signature` (see [`crate::signature`]).
//!
//! Classification: 2xx delivered; 408, 429, 5xx, timeouts and connection failures retryable
//! (with `Retry-After` when given); redirects and every other 4xx permanent (the receiver said
//! no, and will say it again); refused destinations permanent.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::config::WebhookConfig;
use crate::outcome::{parse_retry_after, root_cause, snippet};
use crate::signature::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use crate::ssrf::{GuardedResolver, Lookup, check_url, refusal_in};
use crate::{Delivered, Notification, SendError, WebhookFormat};

/// Discord refuses messages whose `content` is longer.
const DISCORD_MAX_CHARS: usize = 2000;

/// Sends webhooks on one HTTP client whose resolver is the SSRF guard.
#[derive(Debug)]
pub(crate) struct WebhookSender {
    client: reqwest::Client,
    config: WebhookConfig,
}

impl WebhookSender {
    pub(crate) fn new(
        config: WebhookConfig,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, reqwest::Error> {
        let resolver = GuardedResolver {
            allow: config.allow.clone(),
            lookup,
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            // A public URL redirecting to a private one would walk around the guard.
            .redirect(reqwest::redirect::Policy::none())
            // Through a proxy, the proxy would resolve the host, not the guard.
            .no_proxy()
            .timeout(config.timeout)
            .build()?;
        Ok(Self { client, config })
    }

    pub(crate) async fn send(
        &self,
        url: &str,
        secret: &SecretString,
        format: WebhookFormat,
        n: &Notification,
    ) -> Result<Delivered, SendError> {
        let (url, _) = check_url(url, &self.config.allow)
            .map_err(|refused| SendError::permanent(refused.to_string()))?;
        // Details name the host only: webhook paths are often credentials (Slack, Discord).
        let host = url.host_str().unwrap_or_default().to_owned();
        let body = body(format, n);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let signature = sign(secret.expose_secret().as_bytes(), timestamp, &body);
        let idempotency_key = HeaderValue::from_str(&n.idempotency_key)
            .map_err(|_| SendError::permanent("the idempotency key is not a valid header value"))?;

        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("stockd/", env!("CARGO_PKG_VERSION")))
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|err| self.transport_error(&host, err))?;

        let status = response.status();
        if status.is_success() {
            return Ok(Delivered {
                provider_message_id: None,
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = read_start(response, 300).await;
        let mut detail = format!("webhook {host} answered {status}");
        if !text.is_empty() {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        Err(classify(status, detail)
            .with_retry_after(retry_after)
            .with_status(status.as_u16()))
    }

    fn transport_error(&self, host: &str, err: reqwest::Error) -> SendError {
        // Without the URL: its path may be a credential.
        let err = err.without_url();
        if let Some(refused) = refusal_in(&err) {
            return SendError::permanent(refused.to_string());
        }
        if err.is_timeout() {
            return SendError::retryable(format!(
                "webhook {host} did not answer within {}",
                humantime::format_duration(self.config.timeout)
            ));
        }
        SendError::retryable(format!("webhook {host}: {}", root_cause(&err)))
    }
}

/// Permanent or not, by status (1xx and 2xx never reach this).
fn classify(status: StatusCode, detail: String) -> SendError {
    match status.as_u16() {
        408 | 429 | 500..=599 => SendError::retryable(detail),
        300..=399 => SendError::permanent(format!("{detail} (redirects are not followed)")),
        _ => SendError::permanent(detail),
    }
}

/// The request body for `format`.
fn body(format: WebhookFormat, n: &Notification) -> Vec<u8> {
    let value = match format {
        WebhookFormat::Generic => return serde_json::to_vec(&n.payload).unwrap_or_default(),
        WebhookFormat::Slack => json!({ "text": n.text }),
        WebhookFormat::Discord => json!({ "content": cut(&n.text, DISCORD_MAX_CHARS) }),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// `text` in at most `max` characters, ending in "…" when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The first `max` characters of an error body, without waiting for (or buffering) the rest.
async fn read_start(mut response: reqwest::Response, max: usize) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < max * 4 {
        match tokio::time::timeout(Duration::from_secs(1), response.chunk()).await {
            Ok(Ok(Some(chunk))) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    snippet(&String::from_utf8_lossy(&bytes), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        for code in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(!classify(status, String::new()).permanent, "{code}");
        }
        for code in [301, 302, 400, 401, 403, 404, 410, 413, 422] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(classify(status, String::new()).permanent, "{code}");
        }
    }

    #[test]
    fn discord_content_is_cut_to_its_limit() {
        let long = "x".repeat(2500);
        let n = Notification {
            idempotency_key: "k".into(),
            subject: "s".into(),
            text: long.clone(),
            payload: crate::AlertNotice {
                rule_id: 1,
                symbol: "MSFT".parse().unwrap(),
                price: "1".parse().unwrap(),
                at: "2026-11-28T14:30:00Z".parse().unwrap(),
                source: "test".into(),
                message: long,
                dedupe_key: "1:0".into(),
            },
        };
        let body: serde_json::Value =
            serde_json::from_slice(&body(WebhookFormat::Discord, &n)).unwrap();
        let content = body["content"].as_str().unwrap();
        assert_eq!(content.chars().count(), 2000);
        assert!(content.ends_with('…'));
    }
}
