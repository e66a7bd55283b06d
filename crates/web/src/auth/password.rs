//! argon2id password hashing on a blocking thread (a hash takes tens of milliseconds of CPU,
//! which must not stall the async workers), and a login check that spends the same time for an
//! unknown email as for a wrong password.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;

/// argon2id with a chosen cost. The default is argon2's own default, which is OWASP's
/// recommendation (19 MiB, 2 passes, 1 lane); tests may lower it.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password with the same cost, checked when the email is unknown so
    /// that "no such user" and "wrong password" take the same time.
    dummy: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::with_params(Params::default())
    }
}

impl PasswordHasher {
    /// argon2id with these costs.
    pub fn with_params(params: Params) -> Self {
        Self {
            params,
            dummy: Default::default(),
        }
    }

    /// The cheapest costs argon2 allows: for tests only.
    pub fn fast_for_tests() -> Self {
        Self::with_params(Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or_default())
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string of `password`, computed on a blocking thread.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || hasher.hash_now(&password))
            .await
            .map_err(|_| ApiError::Internal("the password hashing task failed"))?
    }

    fn hash_now(&self, password: &str) -> Result<String, ApiError> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|_| ApiError::Internal("argon2 could not hash the password"))
    }

    /// Whether `password` matches `stored` (a PHC string); with `None` (unknown user) a hash of
    /// the same cost is checked and `false` returned. On a blocking thread.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let phc = match stored {
                Some(phc) => phc,
                None => hasher.dummy_hash()?,
            };
            // The parameters come from the stored PHC string, so old hashes keep verifying
            // after the configured cost changes.
            let matches = hasher
                .argon2()
                .verify_password(password.as_bytes(), phc.as_str())
                .is_ok();
            Ok(known && matches)
        })
        .await
        .map_err(|_| ApiError::Internal("the password check task failed"))?
    }

    fn dummy_hash(&self) -> Result<String, ApiError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash.clone());
        }
        let random = crate::auth::new_token("")?;
        let hash = self.hash_now(&random)?;
        Ok(self.dummy.get_or_init(|| hash).clone())
    }
}

/// Hashes `password` with the default cost, on the calling thread (for the CLI).
pub fn hash_password_blocking(password: &str) -> Result<String, String> {
    PasswordHasher::default()
        .hash_now(password)
        .map_err(|_| "argon2 could not hash the password".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = PasswordHasher::fast_for_tests();
        let a = hasher.hash("correct horse battery".into()).await.unwrap();
        let b = hasher.hash("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery".into(), Some(a))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("correct horse battery".into(), None)
                .await
                .unwrap()
        );
    }
}
