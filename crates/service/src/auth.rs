//! Credentials: argon2id password hashes in a bounded pool ([`PasswordHasher`]), the
//! new-password policy ([`policy`]), and opaque tokens.
//!
//! Tokens are 32 random bytes, base64url, behind a greppable prefix (`stk_sess_` for sessions,
//! `stk_api_` for personal API tokens, `stk_inv_` for invitation codes). Only their SHA-256 is
//! stored, so a database leak does not hand out working tokens; a token is found by looking its
//! hash up (an index lookup, no byte-by-byte comparison of secrets).

mod password;
pub mod policy;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::ServiceError;

pub use password::{HashPoolSize, PasswordHasher};

/// Prefix of session tokens.
pub const SESSION_PREFIX: &str = "stk_sess_";
/// Prefix of personal API tokens.
pub const API_TOKEN_PREFIX: &str = "stk_api_";
/// Prefix of invitation codes.
pub const INVITE_PREFIX: &str = "stk_inv_";

/// A new random token with `prefix`: 32 bytes from the OS, base64url.
pub fn new_token(prefix: &str) -> Result<String, ServiceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|_| ServiceError::Internal("the OS gave no random bytes"))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed_to_hex() {
        let a = new_token(API_TOKEN_PREFIX).unwrap();
        let b = new_token(API_TOKEN_PREFIX).unwrap();
        assert!(a.starts_with("stk_api_"));
        assert_eq!(a.len(), "stk_api_".len() + 43);
        assert_ne!(a, b);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token_hash(&b));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
