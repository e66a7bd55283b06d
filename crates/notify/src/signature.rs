//! The webhook signature: how a receiver knows a POST came from this stockd and was not
//! replayed.
//!
//! Scheme (documented for receivers in the README, "Verifying webhooks"):
//!
//! ```text
//! X-Stockd-Timestamp: <unix seconds when the attempt was made>
//! X-Stockd-Signature: sha256=<lower-case hex of HMAC-SHA256(channel secret, timestamp + "." + body)>
//! ```
//!
//! The timestamp is inside the MAC so a captured request cannot be replayed later with a fresh
//! timestamp; receivers should reject timestamps far from their clock (5 minutes is usual) and
//! compare MACs in constant time, as [`verify`] does.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header carrying the signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Stockd-Signature";
/// The header carrying the unix time (seconds) that is signed with the body.
pub const TIMESTAMP_HEADER: &str = "X-Stockd-Timestamp";
/// The header carrying the notification's idempotency key: the same on every retry, so a
/// receiver can drop duplicates.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// The signature header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mac = mac(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * mac.len());
    out.push_str("sha256=");
    for byte in mac {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// Why [`verify`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp header is not an integer.
    #[error("the timestamp is not unix seconds")]
    BadTimestamp,
    /// The timestamp is further than the tolerance from now (a replay, or a skewed clock).
    #[error("the timestamp is outside the tolerance")]
    Stale,
    /// The signature header is not `sha256=<64 hex digits>`.
    #[error("the signature is not sha256=<hex>")]
    Malformed,
    /// The MAC does not match: wrong secret, or the body or timestamp was changed.
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a received webhook: the signature over `timestamp_header + "." + body` with `secret`,
/// compared in constant time, and the timestamp within `tolerance` of `now` (unix seconds).
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    body: &[u8],
    signature_header: &str,
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let hex = signature_header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::Malformed)?;
    let expected = decode_hex(hex).ok_or(VerifyError::Malformed)?;
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| VerifyError::Mismatch)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    hex.as_bytes()
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: Duration = Duration::from_secs(300);

    #[test]
    fn matches_a_known_vector() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            sign(b"s3cret", 1_700_000_000, br#"{"a":1}"#),
            "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }

    #[test]
    fn verifies_its_own_signatures_and_refuses_changes() {
        let body = br#"{"symbol":"MSFT"}"#;
        let header = sign(b"k", 1000, body);
        assert_eq!(verify(b"k", "1000", body, &header, 1100, TOLERANCE), Ok(()));
        assert_eq!(
            verify(b"other", "1000", body, &header, 1100, TOLERANCE),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"k", "1001", body, &header, 1100, TOLERANCE),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"k", "1000", b"{}", &header, 1100, TOLERANCE),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"k", "1000", body, &header, 2000, TOLERANCE),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(b"k", "1000", body, "md5=00", 1000, TOLERANCE),
            Err(VerifyError::Malformed)
        );
        assert_eq!(
            verify(b"k", "x", body, &header, 1000, TOLERANCE),
            Err(VerifyError::BadTimestamp)
        );
    }
}
