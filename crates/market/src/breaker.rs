//! A three-state circuit breaker per provider.
//!
//! Closed: calls pass; `failure_threshold` consecutive provider failures open it. Open: calls
//! are refused at once until `open_for` has passed. Half-open: one trial call passes; success
//! closes the breaker, failure opens it again. Only [`ProviderError::is_provider_failure`]
//! outcomes count; an unknown symbol is a healthy provider giving a definite answer.
//!
//! Hand-written (about a hundred lines) rather than taken from a crate because it must run on
//! tokio's clock, so tests can pause and advance time, and must expose its state for
//! `/circuit-breaker` and the `stock_api_circuit_breaker_state` gauge.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::time::Instant;

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive provider failures that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before letting a trial through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// The breaker's state, with the numbers the `stock_api_circuit_breaker_state` gauge uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// A call was refused because the breaker is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerOpen {
    /// Time until the breaker lets a trial call through.
    pub retry_after: Duration,
}

/// A point-in-time view of one breaker, for `/circuit-breaker`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerSnapshot {
    pub provider: &'static str,
    pub state: BreakerState,
    pub consecutive_failures: u32,
    pub failure_threshold: u32,
    pub open_for_seconds: u64,
    /// When an open breaker will let a trial call through.
    pub half_opens_at: Option<DateTime<Utc>>,
    pub times_opened: u64,
    pub last_failure: Option<String>,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    consecutive_failures: u32,
    times_opened: u64,
    last_failure: Option<String>,
}

/// A circuit breaker for one provider.
#[derive(Debug)]
pub struct CircuitBreaker {
    provider: &'static str,
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(provider: &'static str, config: BreakerConfig) -> Self {
        let breaker = Self {
            provider,
            config,
            inner: Mutex::new(Inner {
                phase: Phase::Closed,
                consecutive_failures: 0,
                times_opened: 0,
                last_failure: None,
            }),
        };
        breaker.publish(BreakerState::Closed);
        breaker
    }

    /// Asks to make a call. Refused while open, and in half-open while the trial call is out.
    pub fn try_acquire(&self) -> Result<(), BreakerOpen> {
        let mut inner = self.lock();
        let now = Instant::now();
        match inner.phase {
            Phase::Closed => Ok(()),
            Phase::Open { until } if now < until => Err(BreakerOpen {
                retry_after: until - now,
            }),
            Phase::Open { .. }
            | Phase::HalfOpen {
                trial_in_flight: false,
            } => {
                inner.phase = Phase::HalfOpen {
                    trial_in_flight: true,
                };
                self.publish(BreakerState::HalfOpen);
                Ok(())
            }
            Phase::HalfOpen {
                trial_in_flight: true,
            } => Err(BreakerOpen {
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// Records a call that reached the provider and got a healthy answer.
    pub fn record_success(&self) {
        let mut inner = self.lock();
        inner.consecutive_failures = 0;
        if !matches!(inner.phase, Phase::Closed) {
            inner.phase = Phase::Closed;
            self.publish(BreakerState::Closed);
            tracing::info!(provider = self.provider, "circuit breaker closed");
        }
    }

    /// Records a provider failure; may open the breaker.
    pub fn record_failure(&self, reason: &str) {
        let mut inner = self.lock();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        inner.last_failure = Some(reason.to_owned());
        let trips = match inner.phase {
            Phase::HalfOpen { .. } => true,
            Phase::Closed => inner.consecutive_failures >= self.config.failure_threshold,
            Phase::Open { .. } => false,
        };
        if trips {
            inner.phase = Phase::Open {
                until: Instant::now() + self.config.open_for,
            };
            inner.times_opened += 1;
            self.publish(BreakerState::Open);
            tracing::warn!(
                provider = self.provider,
                failures = inner.consecutive_failures,
                reason,
                "circuit breaker opened"
            );
        }
    }

    /// Gives back a half-open trial permit whose call ended without an answer (cancelled), so
    /// the breaker does not wait forever for a verdict.
    pub fn release_trial(&self) {
        let mut inner = self.lock();
        if let Phase::HalfOpen {
            trial_in_flight: true,
        } = inner.phase
        {
            inner.phase = Phase::HalfOpen {
                trial_in_flight: false,
            };
        }
    }

    /// The breaker's current state (an expired open period reads as half-open).
    pub fn state(&self) -> BreakerState {
        Self::state_of(&self.lock().phase)
    }

    fn state_of(phase: &Phase) -> BreakerState {
        match phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if Instant::now() < *until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// A view of the breaker for the API.
    pub fn snapshot(&self) -> BreakerSnapshot {
        let inner = self.lock();
        let now = Instant::now();
        let half_opens_at = match inner.phase {
            Phase::Open { until } if now < until => chrono::Duration::from_std(until - now)
                .ok()
                .map(|left| Utc::now() + left),
            _ => None,
        };
        BreakerSnapshot {
            provider: self.provider,
            state: Self::state_of(&inner.phase),
            consecutive_failures: inner.consecutive_failures,
            failure_threshold: self.config.failure_threshold,
            open_for_seconds: self.config.open_for.as_secs(),
            half_opens_at,
            times_opened: inner.times_opened,
            last_failure: inner.last_failure.clone(),
        }
    }

    fn publish(&self, state: BreakerState) {
        metrics::gauge!("stock_api_circuit_breaker_state", "provider" => self.provider)
            .set(state as u8 as f64);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the state half-written (every update is a
        // single assignment), so a poisoned lock is still safe to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(
            "test",
            BreakerConfig {
                failure_threshold: 3,
                open_for: Duration::from_secs(30),
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_the_threshold_and_half_opens_after_the_timeout() {
        let breaker = breaker();
        for _ in 0..2 {
            breaker.try_acquire().unwrap();
            breaker.record_failure("boom");
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.try_acquire().unwrap();
        breaker.record_failure("boom");
        assert_eq!(breaker.state(), BreakerState::Open);
        let refused = breaker.try_acquire().unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(30));

        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(
            breaker.try_acquire().is_err(),
            "still open before the timeout"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        breaker.try_acquire().unwrap();
        assert!(
            breaker.try_acquire().is_err(),
            "only one trial call in half-open"
        );
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.snapshot().times_opened, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_trial_reopens_for_a_full_period() {
        let breaker = breaker();
        for _ in 0..3 {
            breaker.record_failure("boom");
        }
        tokio::time::advance(Duration::from_secs(30)).await;
        breaker.try_acquire().unwrap();
        breaker.record_failure("still down");
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(
            breaker.try_acquire().unwrap_err().retry_after,
            Duration::from_secs(30)
        );
        assert_eq!(
            breaker.snapshot().last_failure.as_deref(),
            Some("still down")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_failure_count() {
        let breaker = breaker();
        breaker.record_failure("a");
        breaker.record_failure("b");
        breaker.record_success();
        breaker.record_failure("c");
        breaker.record_failure("d");
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_trial_frees_the_half_open_slot() {
        let breaker = breaker();
        for _ in 0..3 {
            breaker.record_failure("boom");
        }
        tokio::time::advance(Duration::from_secs(31)).await;
        breaker.try_acquire().unwrap();
        breaker.release_trial();
        assert!(breaker.try_acquire().is_ok());
    }
}
