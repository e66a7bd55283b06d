//! Who may sign up: the operator's [`SignupMode`], and the per-address registration limit.
//!
//! A registration costs an argon2 hash (19 MiB and tens of milliseconds of CPU), so it is
//! counted per client address over an hour, in memory per replica. It is counted when it
//! starts and handed back if it ends before a hash was spent (a weak password, a full hashing
//! pool), so a person retrying a refused password is not locked out by it.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::windows::Windows;

/// Whether `POST /v1/auth/register` is open to anyone, needs an admin's invitation, or is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignupMode {
    /// Anyone may register.
    #[default]
    Open,
    /// A registration must carry an unused, unexpired invitation code made by an admin.
    Invite,
    /// Only admins make accounts (`stockd users create`, `POST /v1/admin/users`).
    Closed,
}

impl SignupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

impl FromStr for SignupMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            other => Err(format!(
                "'{other}' is not a sign-up mode: use open, invite or closed"
            )),
        }
    }
}

/// How long registrations are counted per address.
pub const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);

/// Registrations per client address per [`SIGNUP_WINDOW`].
#[derive(Debug)]
pub struct SignupLimiter {
    per_address: usize,
    windows: Mutex<Windows<Option<IpAddr>>>,
}

/// A counted registration; dropping it without [`SignupSlot::spent`] hands it back.
#[derive(Debug)]
#[must_use = "call `spent` once the registration cost a hash"]
pub struct SignupSlot<'a> {
    limiter: &'a SignupLimiter,
    ip: Option<IpAddr>,
    at: Instant,
    spent: bool,
}

impl SignupLimiter {
    /// At most `per_address` registrations per address an hour; 0: unlimited.
    pub fn new(per_address: usize) -> Self {
        Self {
            per_address,
            windows: Mutex::new(Windows::new(SIGNUP_WINDOW)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Windows<Option<IpAddr>>> {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a registration from `ip`, or says how long to wait.
    pub fn begin(&self, ip: Option<IpAddr>) -> Result<SignupSlot<'_>, Duration> {
        let now = Instant::now();
        let mut windows = self.lock();
        if self.per_address > 0 {
            if let Some(wait) = windows.wait(&ip, now, self.per_address) {
                return Err(wait);
            }
            windows.push(ip, now);
        }
        Ok(SignupSlot {
            limiter: self,
            ip,
            at: now,
            spent: self.per_address == 0,
        })
    }
}

impl SignupSlot<'_> {
    /// The registration cost a hash: it stays counted.
    pub fn spent(mut self) {
        self.spent = true;
    }
}

impl Drop for SignupSlot<'_> {
    fn drop(&mut self) {
        if !self.spent {
            self.limiter.lock().remove(&self.ip, self.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn registrations_are_limited_per_address_and_unspent_ones_handed_back() {
        let limiter = SignupLimiter::new(2);
        let here = Some("192.0.2.1".parse().unwrap());
        limiter.begin(here).unwrap().spent();
        drop(limiter.begin(here).unwrap());
        limiter.begin(here).unwrap().spent();
        assert_eq!(limiter.begin(here).unwrap_err(), SIGNUP_WINDOW);
        assert!(limiter.begin(Some("192.0.2.2".parse().unwrap())).is_ok());
        tokio::time::advance(SIGNUP_WINDOW).await;
        assert!(limiter.begin(here).is_ok());
        let unlimited = SignupLimiter::new(0);
        for _ in 0..100 {
            unlimited.begin(here).unwrap().spent();
        }
    }

    #[test]
    fn modes_parse_without_regard_to_case() {
        assert_eq!("Invite".parse::<SignupMode>(), Ok(SignupMode::Invite));
        assert!(
            "sometimes"
                .parse::<SignupMode>()
                .unwrap_err()
                .contains("open, invite or closed")
        );
    }
}
