//! SMS through the Twilio Messages API.
//!
//! `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`, `Body`,
//! basic auth with the account SID and auth token. A 201 carries the message `sid` (the
//! provider message id); errors carry `{"code", "message", "more_info", "status"}`.
//!
//! Classification: 429 (Twilio's concurrency limit, code 20429) and 5xx retryable; 401 (code
//! 20003, our credentials) retryable too, because it is the operator's configuration that is
//! wrong, not this message, and a fixed token should still deliver it; every other 4xx
//! (invalid or unreachable number, opted out) permanent. Twilio has no idempotency key on
//! create, so a retry after a timeout may send twice; the dispatcher stores the `sid` it got.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::TwilioConfig;
use crate::outcome::{parse_retry_after, root_cause, snippet};
use crate::sms_text::fit;
use crate::{Delivered, Notification, SendError};

#[derive(Debug)]
pub(crate) struct SmsSender {
    client: reqwest::Client,
    config: TwilioConfig,
    endpoint: String,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct TwilioError {
    code: Option<u32>,
    message: Option<String>,
}

impl SmsSender {
    pub(crate) fn new(config: TwilioConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .build()?;
        let endpoint = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            config.base_url.trim_end_matches('/'),
            config.account_sid
        );
        Ok(Self {
            client,
            config,
            endpoint,
        })
    }

    pub(crate) fn secret(&self) -> &SecretString {
        &self.config.auth_token
    }

    pub(crate) async fn send(&self, phone: &str, n: &Notification) -> Result<Delivered, SendError> {
        validate_phone(phone).map_err(SendError::permanent)?;
        let body = fit(&n.text, self.config.max_segments);
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose_secret()),
            )
            .form(&[
                ("To", phone),
                ("From", self.config.from.as_str()),
                ("Body", body.as_str()),
            ])
            .send()
            .await
            .map_err(|err| {
                let err = err.without_url();
                if err.is_timeout() {
                    SendError::retryable("twilio did not answer in time")
                } else {
                    SendError::retryable(format!("twilio unreachable: {}", root_cause(&err)))
                }
            })?;

        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return match serde_json::from_str::<Created>(&text) {
                Ok(created) => Ok(Delivered {
                    provider_message_id: Some(created.sid),
                }),
                // Accepted but unreadable: retrying could send twice, so record it as sent.
                Err(_) => Ok(Delivered {
                    provider_message_id: None,
                }),
            };
        }
        let detail = match serde_json::from_str::<TwilioError>(&text) {
            Ok(TwilioError {
                code: Some(code),
                message,
            }) => format!(
                "twilio answered {status} (error {code}): {}",
                snippet(message.as_deref().unwrap_or(""), 300)
            ),
            _ => format!("twilio answered {status}: {}", snippet(&text, 300)),
        };
        let error = match status.as_u16() {
            401 | 429 | 500..=599 => SendError::retryable(detail),
            _ => SendError::permanent(detail),
        };
        Err(error
            .with_retry_after(retry_after)
            .with_status(status.as_u16()))
    }
}

/// Checks an E.164 number: `+`, then 8 to 15 digits, the first not 0.
pub fn validate_phone(phone: &str) -> Result<(), String> {
    let digits = phone
        .strip_prefix('+')
        .ok_or_else(|| "phone numbers are written in E.164 form, e.g. +15551234567".to_owned())?;
    let valid = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{phone:?} is not an E.164 phone number (+, country code, number: 8 to 15 digits)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164() {
        assert!(validate_phone("+15551234567").is_ok());
        assert!(validate_phone("+447911123456").is_ok());
        assert!(validate_phone("15551234567").is_err());
        assert!(validate_phone("+0555123456").is_err());
        assert!(validate_phone("+1555").is_err());
        assert!(validate_phone("+1 555 123 4567").is_err());
    }
}
