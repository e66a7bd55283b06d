//! Per-client GCRA allowances (governor's algorithm) over a key store of bounded size.
//!
//! governor decides; this module keeps one state (a 64-bit theoretical arrival time) per client
//! in a [`DashMap`] that never holds more than `capacity` clients: when a new client finds it
//! full, keys whose state is indistinguishable from a fresh one are swept (at most once a
//! second), and clients that still find no room share one overflow allowance. A flood of distinct addresses
//! therefore costs bounded memory and throttles newcomers together, while clients already
//! known keep their own allowance. Time is tokio's clock, so tests can pause and advance it.

use std::hash::Hash;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

/// Time since the limiter was made, on tokio's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// One state per key, at most `capacity` keys, then one shared overflow state.
#[derive(Debug)]
pub(crate) struct BoundedKeys<K: Hash + Eq> {
    /// Keyed by client address, which clients choose: foldhash's seeded `quality` hasher
    /// (SipHash cost more than the rest of the check).
    states: DashMap<K, AtomicU64, foldhash::quality::RandomState>,
    capacity: usize,
    clock: TokioClock,
    overflow: AtomicU64,
    /// When the last sweep ran (nanoseconds on the limiter's clock), so a full map is swept at
    /// most once a second.
    last_sweep: AtomicU64,
}

impl<K: Hash + Eq> BoundedKeys<K> {
    /// Drops states no different from a fresh one, at most once a second; `true` when that
    /// made room for another key.
    fn swept(&self) -> bool {
        let now = u64::try_from(self.clock.now().as_nanos()).unwrap_or(u64::MAX);
        let last = self.last_sweep.load(Ordering::Relaxed);
        let swept_recently = last != 0 && now.saturating_sub(last) < 1_000_000_000;
        if swept_recently
            || self
                .last_sweep
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        // A state whose theoretical arrival time has passed allows a whole burst again: the
        // same as no state at all.
        self.states
            .retain(|_, state| state.load(Ordering::Relaxed) > now);
        self.states.len() < self.capacity
    }
}

/// Runs governor's decision `decide` against one stored state (0: never used), replacing it
/// only if no other thread changed it meanwhile.
fn measure<T, E>(
    state: &AtomicU64,
    decide: impl Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
) -> Result<T, E> {
    let mut previous = state.load(Ordering::Acquire);
    loop {
        let (outcome, next) = decide(NonZeroU64::new(previous).map(|n| Nanos::from(n.get())))?;
        match state.compare_exchange_weak(
            previous,
            next.as_u64(),
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(_) => return Ok(outcome),
            Err(current) => previous = current,
        }
    }
}

impl<K: Hash + Eq + Clone> StateStore for BoundedKeys<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if let Some(state) = self.states.get(key) {
            return measure(&state, decide);
        }
        if self.states.len() >= self.capacity && !self.swept() {
            return measure(&self.overflow, decide);
        }
        let state = self.states.entry(key.clone()).or_default();
        measure(&state, decide)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for BoundedKeys<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.states
            .retain(|_, state| state.load(Ordering::Relaxed) > drop_below.as_u64());
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

/// A per-key allowance: `quota`, for at most `capacity` keys at once.
#[derive(Debug)]
pub(crate) struct KeyedAllowance<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, BoundedKeys<K>, TokioClock, NoOpMiddleware<Duration>>,
    clock: TokioClock,
}

impl<K: Hash + Eq + Clone> KeyedAllowance<K> {
    pub(crate) fn new(quota: Quota, capacity: usize) -> Self {
        let clock = TokioClock {
            origin: Instant::now(),
        };
        let keys = BoundedKeys {
            states: DashMap::default(),
            capacity: capacity.max(1),
            clock,
            overflow: AtomicU64::new(0),
            last_sweep: AtomicU64::new(0),
        };
        Self {
            limiter: RateLimiter::new(quota, keys, clock),
            clock,
        }
    }

    /// Spends one unit of `key`'s allowance, or says how long until one is free.
    pub(crate) fn check(&self, key: &K) -> Result<(), Duration> {
        match self.limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => Err(round_up(not_until.wait_time_from(self.clock.now()))),
        }
    }

    /// Clients with a state of their own now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

/// Whole seconds, rounded up: `Retry-After` must not send a client back too early.
fn round_up(wait: Duration) -> Duration {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Duration::from_secs(whole.max(1))
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn allowance(per_minute: u32, capacity: usize) -> KeyedAllowance<u32> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap());
        KeyedAllowance::new(quota, capacity)
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_gets_its_burst_then_waits_for_the_next_cell() {
        let limiter = allowance(3, 10);
        for _ in 0..3 {
            limiter.check(&1).unwrap();
        }
        assert_eq!(limiter.check(&1), Err(Duration::from_secs(20)));
        limiter
            .check(&2)
            .expect("another client has its own allowance");
        tokio::time::advance(Duration::from_millis(19_500)).await;
        assert_eq!(limiter.check(&1), Err(Duration::from_secs(1)), "rounded up");
        tokio::time::advance(Duration::from_millis(500)).await;
        limiter.check(&1).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_new_clients_shares_one_allowance_and_memory_stays_bounded() {
        let limiter = allowance(1, 100);
        for client in 0..100 {
            limiter.check(&client).unwrap();
        }
        assert_eq!(limiter.tracked(), 100);
        // The store is full and nobody's state is stale yet: newcomers share the overflow.
        limiter.check(&1_000).unwrap();
        assert!(limiter.check(&1_001).is_err(), "shares 1_000's allowance");
        assert_eq!(limiter.tracked(), 100);
        // Known clients keep their own.
        assert!(limiter.check(&5).is_err());
        limiter.check(&5).unwrap_err();

        // Once the states are stale, the next newcomer sweeps them and gets its own.
        tokio::time::advance(Duration::from_secs(61)).await;
        limiter.check(&2_000).unwrap();
        assert_eq!(limiter.tracked(), 1);
    }
}
