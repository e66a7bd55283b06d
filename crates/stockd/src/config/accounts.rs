//! The accounts settings: sessions, who may sign up, the registration limit and the password
//! hashing pool, composed into `web::auth::AuthSettings`.

use notify::AllowList;
use web::auth::{AuthSettings, HashPoolSize, PasswordHasher, SignupMode};

use super::{ConfigError, Settings, invalid};

/// The most password jobs run at once (each holds 19 MiB while it runs).
const MAX_HASH_WORKERS: usize = 256;
/// The most password jobs that may wait.
const MAX_HASH_QUEUE: usize = 10_000;

impl Settings {
    pub(super) fn validate_accounts(&self) -> Result<(), ConfigError> {
        if let Some(workers) = self.password_hash_workers
            && !(1..=MAX_HASH_WORKERS).contains(&workers)
        {
            return Err(invalid(
                "password_hash_workers",
                format!("must be from 1 to {MAX_HASH_WORKERS}, got {workers}"),
            ));
        }
        if let Some(queue) = self.password_hash_queue
            && queue > MAX_HASH_QUEUE
        {
            return Err(invalid(
                "password_hash_queue",
                format!("must be from 0 to {MAX_HASH_QUEUE}, got {queue}"),
            ));
        }
        Ok(())
    }

    /// Who may register (`signup`).
    fn signup_mode(&self) -> Result<SignupMode, ConfigError> {
        self.signup
            .parse()
            .map_err(|reason: String| invalid("signup", reason))
    }

    /// The size of the password hashing pool: one worker per core and 8 waiting per worker
    /// unless set.
    fn hash_pool(&self) -> HashPoolSize {
        let default = HashPoolSize::default();
        let workers = self.password_hash_workers.unwrap_or(default.workers);
        HashPoolSize {
            workers,
            queue: self.password_hash_queue.unwrap_or(8 * workers),
        }
    }

    /// The HTTP edge's authentication section, checking webhook targets against
    /// `webhook_allow` (parsed once, for the notifications too).
    pub(super) fn auth(&self, webhook_allow: AllowList) -> Result<AuthSettings, ConfigError> {
        Ok(AuthSettings {
            session_ttl: self.session_ttl,
            signup: self.signup_mode()?,
            signups_per_address: self.signups_per_address,
            trust_forwarded_for: self.trust_forwarded_for,
            hasher: PasswordHasher::default().with_pool(self.hash_pool()),
            webhook_allow,
            ..AuthSettings::default()
        })
    }
}
