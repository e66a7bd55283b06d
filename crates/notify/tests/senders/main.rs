//! The senders against real local servers: wiremock for webhooks and Twilio, aiosmtpd for SMTP.

// Setup helpers outside #[test] functions panic on failure, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod email;
mod secrets;
mod sms;
mod ssrf;
mod webhook;
