//! The wall clock the read path counts provider quotas and the age of stored rows by.
//!
//! Quota windows are UTC minutes and days, and a stored row's age is measured from its UTC
//! `fetched_at`, so both need wall-clock time, while every other
//! timer in this crate runs on tokio's clock so tests can pause and advance it. [`Clock::Tokio`]
//! joins the two for tests: UTC time that starts at a chosen instant and moves with tokio's
//! clock, so a paused test can step over a minute or a midnight.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Where "now" comes from for quota windows and stored rows' freshness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system's UTC time (production).
    #[default]
    System,
    /// `utc` at tokio instant `at`, moving with tokio's clock (tests on a paused clock).
    Tokio { utc: DateTime<Utc>, at: Instant },
}

impl Clock {
    /// A clock reading `utc` now and moving with tokio's clock from here.
    pub fn tokio_from(utc: DateTime<Utc>) -> Self {
        Self::Tokio {
            utc,
            at: Instant::now(),
        }
    }

    /// The current UTC time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Tokio { utc, at } => {
                let elapsed =
                    chrono::Duration::from_std(at.elapsed()).unwrap_or(chrono::Duration::MAX);
                utc.checked_add_signed(elapsed).unwrap_or(*utc)
            }
        }
    }
}

/// How long from `now` until `then`, in whole seconds rounded up (a client told to come back
/// after the truncated number of seconds would arrive just before the reset) and at least one
/// (a `Retry-After` of 0 invites a spin).
pub(crate) fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    let left = (then - now).to_std().unwrap_or(Duration::ZERO);
    let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    Duration::from_secs(seconds.max(1))
}
