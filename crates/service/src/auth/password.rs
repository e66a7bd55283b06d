//! argon2id password hashing in a bounded pool, and a login check that spends the same time for
//! an unknown email as for a wrong password.
//!
//! A hash takes tens of milliseconds of CPU and 19 MiB: unbounded, a burst of registrations or
//! logins runs hundreds at once and the process grows by gigabytes. Every password job (hash,
//! verify, strength estimate) therefore runs on a blocking thread under a semaphore sized to
//! the cores, with a small bounded queue in front; when the queue is full the request is
//! refused at once with 503 and `Retry-After` instead of piling up. A job whose request went
//! away keeps its place until it finishes, so the bound holds for the CPU really in use.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::ServiceError;

/// How long a client refused by a full pool is told to wait: the queue drains in well under
/// a second at the default cost.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How many password jobs run at once and how many may wait for a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPoolSize {
    /// Jobs running at once; the default is the number of cores.
    pub workers: usize,
    /// Jobs waiting; beyond this, 503.
    pub queue: usize,
}

impl Default for HashPoolSize {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            workers,
            queue: 8 * workers,
        }
    }
}

#[derive(Debug)]
struct Pool {
    size: HashPoolSize,
    /// Running plus waiting jobs.
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl Pool {
    fn new(size: HashPoolSize) -> Self {
        let workers = size.workers.max(1);
        Self {
            size,
            admitted: Arc::new(Semaphore::new(workers + size.queue)),
            running: Arc::new(Semaphore::new(workers)),
        }
    }
}

/// argon2id with a chosen cost, run in a bounded pool. The default cost is argon2's own
/// default, which is OWASP's recommendation (19 MiB, 2 passes, 1 lane); tests may lower it.
/// Clones share the pool.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    pool: Arc<Pool>,
    /// A hash of a random password with the same cost, checked when the email is unknown so
    /// that "no such user" and "wrong password" take the same time.
    dummy: Arc<std::sync::OnceLock<String>>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::with_params(Params::default())
    }
}

impl PasswordHasher {
    /// argon2id with these costs, in a pool of the default size.
    pub fn with_params(params: Params) -> Self {
        Self {
            params,
            pool: Arc::new(Pool::new(HashPoolSize::default())),
            dummy: Default::default(),
        }
    }

    /// The same costs in a pool of this size.
    #[must_use]
    pub fn with_pool(self, size: HashPoolSize) -> Self {
        Self {
            pool: Arc::new(Pool::new(size)),
            ..self
        }
    }

    /// The pool's size.
    pub fn pool_size(&self) -> HashPoolSize {
        self.pool.size
    }

    /// The cheapest costs argon2 allows: for tests only.
    pub fn fast_for_tests() -> Self {
        Self::with_params(Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or_default())
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Runs `job` on a blocking thread once the pool has room; 503 when its queue is full.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Self) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let admitted = self
            .pool
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                metrics::counter!("stock_api_auth_throttled_total", "reason" => "hash_pool_full")
                    .increment(1);
                ServiceError::Busy {
                    detail: "the server is busy checking passwords; try again in a moment".into(),
                    retry_after: BUSY_RETRY_AFTER,
                }
            })?;
        let running = self
            .pool
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::Internal("the password pool was closed"))?;
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || {
            // Held until the work is done, even if the request has gone away meanwhile.
            let _turn = (admitted, running);
            job(&hasher)
        })
        .await
        .map_err(|_| ServiceError::Internal("the password task failed"))?
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.run(move |hasher| hasher.hash_now(&password)).await
    }

    /// The PHC string of a new `password` for the user with `email`, after
    /// [`super::policy::check_guessability`] (422 naming `field` when it is too easy to guess).
    /// Both in one pool job.
    pub async fn hash_new(
        &self,
        password: String,
        email: String,
        display_name: Option<String>,
        field: &'static str,
    ) -> Result<String, ServiceError> {
        self.run(move |hasher| {
            super::policy::check_guessability(&password, &email, display_name.as_deref(), field)
                .map_err(ServiceError::Unprocessable)?;
            hasher.hash_now(&password)
        })
        .await
    }

    fn hash_now(&self, password: &str) -> Result<String, ServiceError> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|_| ServiceError::Internal("argon2 could not hash the password"))
    }

    /// Whether `password` matches `stored` (a PHC string); with `None` (unknown user) a hash of
    /// the same cost is checked and `false` returned.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, ServiceError> {
        self.run(move |hasher| {
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
    }

    fn dummy_hash(&self) -> Result<String, ServiceError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash.clone());
        }
        let random = crate::auth::new_token("")?;
        let hash = self.hash_now(&random)?;
        Ok(self.dummy.get_or_init(|| hash).clone())
    }
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

    #[tokio::test]
    async fn a_full_pool_refuses_at_once_with_a_retry_after() {
        let hasher = PasswordHasher::fast_for_tests().with_pool(HashPoolSize {
            workers: 1,
            queue: 1,
        });
        // Hold the only worker and the only queue place.
        let gate = Arc::new(std::sync::Barrier::new(2));
        let held = gate.clone();
        let running = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.run(move |_| Ok(held.wait())).await }
        });
        while hasher.pool.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let waiting = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.hash("plum orbit lantern fjord".into()).await }
        });
        while hasher.pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = hasher.hash("plum orbit lantern fjord".into()).await;
        let Err(ServiceError::Busy { retry_after, .. }) = refused else {
            panic!("expected Busy, got {refused:?}");
        };
        assert!(retry_after >= Duration::from_secs(1));
        gate.wait();
        running.await.unwrap().unwrap();
        assert!(waiting.await.unwrap().unwrap().starts_with("$argon2id$"));
        // With the pool free again, hashing works.
        hasher
            .hash("plum orbit lantern fjord".into())
            .await
            .unwrap();
    }
}
