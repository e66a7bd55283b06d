//! Login rate limiting, in memory per replica (each replica limits on its own, which bounds
//! guessing per replica; a shared limit would need the database on every login).
//!
//! Three counts, each over the same sliding window (15 minutes by default):
//! - per account and address (5): what one address may guess at one account;
//! - per address (20): what one address may guess across accounts;
//! - per account (100): a ceiling on distributed guessing at one account from many addresses.
//!   It does not apply to an address the account signed in from before (within
//!   [`LoginLimits::known_address_for`]), so failures from elsewhere never lock the owner out
//!   of an address they use; only new addresses wait while an account is under such an attack.
//!
//! An attempt is counted when it starts ([`LoginLimiter::begin`] checks and reserves under one
//! lock), so N concurrent guesses cannot all pass a check made before any was recorded. A
//! failure keeps its reservation; a success clears the account's count at this address and
//! hands its own reservation back elsewhere; an attempt that was never decided (the request
//! ended before the password was checked) hands it back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::windows::Windows;

/// How many failed logins are allowed, and over what window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures per account from one address.
    pub per_account_address: usize,
    /// Failures per address, whatever the account.
    pub per_address: usize,
    /// Failures per account from addresses it never signed in from; 0: no ceiling.
    pub per_account: usize,
    pub window: Duration,
    /// How long an address an account signed in from stays exempt from `per_account`.
    pub known_address_for: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account_address: 5,
            per_address: 20,
            per_account: 100,
            window: Duration::from_secs(15 * 60),
            known_address_for: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Known (account, address) pairs kept at most: past this, new ones are not remembered until
/// old ones expire (they only relax the per-account ceiling, so forgetting is safe).
const KNOWN_MAX: usize = 100_000;

type Pair = (String, Option<IpAddr>);

#[derive(Debug)]
struct Counts {
    pairs: Windows<Pair>,
    addresses: Windows<IpAddr>,
    accounts: Windows<String>,
    /// When each account last signed in from each address.
    known: HashMap<(String, IpAddr), Instant>,
}

/// Failed logins per account and address, per address, and per account.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    counts: Mutex<Counts>,
}

/// A login attempt counted against the limits until it is decided; dropping it undecided hands
/// the reservation back.
#[derive(Debug)]
#[must_use = "decide the attempt with `failed` or `succeeded`"]
pub struct LoginAttempt<'a> {
    limiter: &'a LoginLimiter,
    account: String,
    ip: Option<IpAddr>,
    at: Instant,
    decided: bool,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            counts: Mutex::new(Counts {
                pairs: Windows::new(limits.window),
                addresses: Windows::new(limits.window),
                accounts: Windows::new(limits.window),
                known: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a login attempt of `account` from `ip`, or says how long to wait when a limit is
    /// spent. The check and the count are one step.
    pub fn begin(&self, account: &str, ip: Option<IpAddr>) -> Result<LoginAttempt<'_>, Duration> {
        let now = Instant::now();
        let limits = self.limits;
        let mut counts = self.lock();
        let pair: Pair = (account.to_owned(), ip);
        let known = ip.is_some_and(|ip| {
            counts
                .known
                .get(&(account.to_owned(), ip))
                .is_some_and(|at| now.duration_since(*at) < limits.known_address_for)
        });
        let waits = [
            counts.pairs.wait(&pair, now, limits.per_account_address),
            ip.and_then(|ip| counts.addresses.wait(&ip, now, limits.per_address)),
            (limits.per_account > 0 && !known)
                .then(|| counts.accounts.wait(&pair.0, now, limits.per_account))
                .flatten(),
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            return Err(wait);
        }
        counts.pairs.push(pair, now);
        if let Some(ip) = ip {
            counts.addresses.push(ip, now);
        }
        counts.accounts.push(account.to_owned(), now);
        Ok(LoginAttempt {
            limiter: self,
            account: account.to_owned(),
            ip,
            at: now,
            decided: false,
        })
    }

    fn hand_back(&self, attempt: &LoginAttempt<'_>, counts: &mut Counts) {
        counts
            .pairs
            .remove(&(attempt.account.clone(), attempt.ip), attempt.at);
        if let Some(ip) = attempt.ip {
            counts.addresses.remove(&ip, attempt.at);
        }
        counts.accounts.remove(&attempt.account, attempt.at);
    }
}

impl LoginAttempt<'_> {
    /// The password was wrong (or the account unknown): the attempt stays counted.
    pub fn failed(mut self) {
        self.decided = true;
    }

    /// The password was right: the account's failures from this address are forgotten and the
    /// address is remembered as the account's. Failures from other addresses stay counted,
    /// and so do this address's failures at other accounts: one good password must not unlock
    /// guessing elsewhere.
    pub fn succeeded(mut self) {
        self.decided = true;
        let limiter = self.limiter;
        let mut counts = limiter.lock();
        limiter.hand_back(&self, &mut counts);
        counts.pairs.clear(&(self.account.clone(), self.ip));
        if let Some(ip) = self.ip {
            let now = Instant::now();
            let keep_for = limiter.limits.known_address_for;
            if counts.known.len() >= KNOWN_MAX {
                counts
                    .known
                    .retain(|_, at| now.duration_since(*at) < keep_for);
            }
            let key = (std::mem::take(&mut self.account), ip);
            if counts.known.len() < KNOWN_MAX || counts.known.contains_key(&key) {
                counts.known.insert(key, now);
            }
        }
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.decided {
            let limiter = self.limiter;
            let mut counts = limiter.lock();
            limiter.hand_back(self, &mut counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            per_account_address: 2,
            per_address: 3,
            per_account: 4,
            window: Duration::from_secs(60),
            known_address_for: Duration::from_secs(3600),
        }
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn failures_block_the_pair_and_the_address_until_they_leave_the_window() {
        let limiter = LoginLimiter::new(limits());
        limiter.begin("a@x.test", ip("192.0.2.1")).unwrap().failed();
        tokio::time::advance(Duration::from_secs(10)).await;
        limiter.begin("a@x.test", ip("192.0.2.1")).unwrap().failed();
        assert_eq!(
            limiter.begin("a@x.test", ip("192.0.2.1")).unwrap_err(),
            Duration::from_secs(50)
        );
        // The same account from another address is not blocked by these.
        limiter.begin("a@x.test", ip("192.0.2.2")).unwrap().failed();
        // Another account from the first address has the address's last failure.
        limiter.begin("b@x.test", ip("192.0.2.1")).unwrap().failed();
        assert!(
            limiter.begin("c@x.test", ip("192.0.2.1")).is_err(),
            "address spent"
        );
        tokio::time::advance(Duration::from_secs(51)).await;
        limiter.begin("a@x.test", ip("192.0.2.1")).unwrap().failed();
    }

    #[tokio::test(start_paused = true)]
    async fn an_undecided_attempt_is_handed_back_and_a_success_clears_the_pair() {
        let limiter = LoginLimiter::new(limits());
        drop(limiter.begin("a@x.test", ip("192.0.2.1")).unwrap());
        drop(limiter.begin("a@x.test", ip("192.0.2.1")).unwrap());
        limiter.begin("a@x.test", ip("192.0.2.1")).unwrap().failed();
        limiter
            .begin("a@x.test", ip("192.0.2.1"))
            .unwrap()
            .succeeded();
        limiter.begin("a@x.test", ip("192.0.2.1")).unwrap().failed();
        limiter.begin("a@x.test", ip("192.0.2.1")).unwrap().failed();
        assert!(limiter.begin("a@x.test", ip("192.0.2.1")).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn the_account_ceiling_spares_addresses_the_account_signed_in_from() {
        let limiter = LoginLimiter::new(limits());
        limiter
            .begin("a@x.test", ip("203.0.113.7"))
            .unwrap()
            .succeeded();
        for n in 1..=2 {
            for _ in 0..2 {
                let from = ip(&format!("198.51.100.{n}"));
                limiter.begin("a@x.test", from).unwrap().failed();
            }
        }
        // Four failures from two addresses: the ceiling is reached for new addresses…
        assert!(limiter.begin("a@x.test", ip("198.51.100.9")).is_err());
        // …but not for the owner's.
        limiter
            .begin("a@x.test", ip("203.0.113.7"))
            .unwrap()
            .succeeded();
        // The owner's address stays known only for a while.
        tokio::time::advance(Duration::from_secs(3600)).await;
        for n in 1..=2 {
            for _ in 0..2 {
                let from = ip(&format!("198.51.100.{n}"));
                limiter.begin("a@x.test", from).unwrap().failed();
            }
        }
        assert!(limiter.begin("a@x.test", ip("203.0.113.7")).is_err());
    }
}
