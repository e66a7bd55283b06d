//! Login rate limiting: failures counted in a sliding window per account (email) and per client
//! address, in memory (per replica: each replica limits on its own, which bounds guessing per
//! replica; a shared limit would need the database on every login).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How many failed logins are allowed, and over what window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_account: usize,
    pub per_ip: usize,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_ip: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Keys tracked before expired ones are swept, so a flood of distinct emails cannot grow the
/// map without bound between sweeps.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Default)]
struct Windows {
    accounts: HashMap<String, VecDeque<Instant>>,
    ips: HashMap<IpAddr, VecDeque<Instant>>,
}

/// Failed logins per account and per address.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    windows: Mutex<Windows>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            windows: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Windows> {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Some(retry after)` when the account or the address has spent its failures.
    pub fn check(&self, account: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let window = self.limits.window;
        let mut windows = self.lock();
        let account_wait = windows
            .accounts
            .get_mut(account)
            .and_then(|times| wait(times, now, window, self.limits.per_account));
        let ip_wait = ip.and_then(|ip| {
            windows
                .ips
                .get_mut(&ip)
                .and_then(|times| wait(times, now, window, self.limits.per_ip))
        });
        account_wait.into_iter().chain(ip_wait).max()
    }

    /// Counts a failed login.
    pub fn failed(&self, account: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let window = self.limits.window;
        let mut windows = self.lock();
        if windows.accounts.len() >= SWEEP_AT || windows.ips.len() >= SWEEP_AT {
            let live = |times: &mut VecDeque<Instant>| {
                prune(times, now, window);
                !times.is_empty()
            };
            windows.accounts.retain(|_, times| live(times));
            windows.ips.retain(|_, times| live(times));
        }
        windows
            .accounts
            .entry(account.to_owned())
            .or_default()
            .push_back(now);
        if let Some(ip) = ip {
            windows.ips.entry(ip).or_default().push_back(now);
        }
    }

    /// Forgets the account's failures (after a successful login). The address's stay: one
    /// good password must not unlock guessing at other accounts from the same address.
    pub fn succeeded(&self, account: &str) {
        self.lock().accounts.remove(account);
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// How long until one of `limit` failures leaves the window, if the limit is reached.
fn wait(
    times: &mut VecDeque<Instant>,
    now: Instant,
    window: Duration,
    limit: usize,
) -> Option<Duration> {
    prune(times, now, window);
    if times.len() < limit {
        return None;
    }
    let oldest = times.get(times.len() - limit)?;
    Some(window.saturating_sub(now.duration_since(*oldest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failures_block_until_they_leave_the_window() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_account: 2,
            per_ip: 3,
            window: Duration::from_secs(60),
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(limiter.check("a@x.test", Some(ip)), None);
        limiter.failed("a@x.test", Some(ip));
        tokio::time::advance(Duration::from_secs(10)).await;
        limiter.failed("a@x.test", Some(ip));
        assert_eq!(
            limiter.check("a@x.test", Some(ip)),
            Some(Duration::from_secs(50))
        );
        // Another account from the same address has one failure left there.
        assert_eq!(limiter.check("b@x.test", Some(ip)), None);
        limiter.failed("b@x.test", Some(ip));
        assert!(
            limiter.check("c@x.test", Some(ip)).is_some(),
            "address spent"
        );
        assert_eq!(limiter.check("c@x.test", None), None);
        tokio::time::advance(Duration::from_secs(51)).await;
        assert_eq!(limiter.check("a@x.test", None), None);
        limiter.failed("a@x.test", None);
        limiter.succeeded("a@x.test");
        assert_eq!(limiter.check("a@x.test", None), None);
    }
}
