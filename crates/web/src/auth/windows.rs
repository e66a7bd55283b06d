//! Sliding windows of attempt instants per key: the counting both rate limiters share (failed
//! logins, registrations). A key's window holds the instants of its counted attempts in the
//! last `window`; one is refused while `limit` are inside.
//!
//! Attempts are counted when they start (reserved), not when they finish, and a reservation
//! can be handed back, so concurrent requests cannot all pass a check made before any of them
//! is recorded.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// Keys tracked before expired ones are swept, so a flood of distinct keys cannot grow the map
/// without bound between sweeps.
const SWEEP_AT: usize = 10_000;

/// Attempt instants per key over one window length.
#[derive(Debug)]
pub(crate) struct Windows<K> {
    window: Duration,
    keys: HashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq> Windows<K> {
    pub(crate) fn new(window: Duration) -> Self {
        Self {
            window,
            keys: HashMap::new(),
        }
    }

    /// How long until `key` may try again, when `limit` attempts are inside its window.
    pub(crate) fn wait(&mut self, key: &K, now: Instant, limit: usize) -> Option<Duration> {
        let window = self.window;
        let times = self.keys.get_mut(key)?;
        prune(times, now, window);
        if times.len() < limit {
            return None;
        }
        let oldest = times.get(times.len() - limit)?;
        Some(window.saturating_sub(now.duration_since(*oldest)))
    }

    /// Counts an attempt of `key` at `now`.
    pub(crate) fn push(&mut self, key: K, now: Instant) {
        if self.keys.len() >= SWEEP_AT {
            let window = self.window;
            self.keys.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        self.keys.entry(key).or_default().push_back(now);
    }

    /// Hands back one attempt of `key` counted at `at`.
    pub(crate) fn remove(&mut self, key: &K, at: Instant) {
        if let Some(times) = self.keys.get_mut(key) {
            if let Some(position) = times.iter().rposition(|t| *t == at) {
                times.remove(position);
            }
            if times.is_empty() {
                self.keys.remove(key);
            }
        }
    }

    /// Forgets every attempt of `key`.
    pub(crate) fn clear(&mut self, key: &K) {
        self.keys.remove(key);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn attempts_block_until_they_leave_the_window_and_can_be_handed_back() {
        let mut windows = Windows::new(Duration::from_secs(60));
        let first = Instant::now();
        assert_eq!(windows.wait(&"a", first, 2), None);
        windows.push("a", first);
        tokio::time::advance(Duration::from_secs(10)).await;
        let second = Instant::now();
        windows.push("a", second);
        assert_eq!(windows.wait(&"a", second, 2), Some(Duration::from_secs(50)));
        assert_eq!(windows.wait(&"b", second, 2), None);
        windows.remove(&"a", second);
        assert_eq!(windows.wait(&"a", second, 2), None);
        windows.push("a", second);
        tokio::time::advance(Duration::from_secs(50)).await;
        assert_eq!(windows.wait(&"a", Instant::now(), 2), None, "first expired");
        windows.clear(&"a");
        assert_eq!(windows.wait(&"a", Instant::now(), 1), None);
    }
}
