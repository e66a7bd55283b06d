//! One guarded call to a provider: circuit breaker, per-attempt timeout, retries with
//! exponential backoff and jitter for retryable failures only, and the external-call metrics.
//! [`chain`] walks an ordered list of such providers, falling back from one to the next.

pub(crate) mod chain;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use providers::{MarketData, ProviderError};
use tokio::time::Instant;
use tracing::Instrument;

use crate::MarketError;
use crate::breaker::CircuitBreaker;

/// Timeouts and retries for upstream calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Longest a single attempt may take.
    pub attempt_timeout: Duration,
    /// Retries after the first attempt (0 = no retry).
    pub max_retries: usize,
    /// Backoff before the first retry; doubles each time, with jitter.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff.
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_secs(10),
            max_retries: 2,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// A provider with its breaker and retry policy.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) provider: Arc<dyn MarketData>,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) retry: RetryConfig,
    /// Attempts that reached the provider (retries included), for `/v1/providers`.
    calls: AtomicU64,
    /// The last failed answer (key-free `ProviderError` text) and when it came.
    last_error: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl Upstream {
    /// A provider with a closed breaker of its own.
    pub(crate) fn new(provider: Arc<dyn MarketData>, config: &crate::MarketConfig) -> Self {
        Self {
            breaker: CircuitBreaker::new(provider.name(), config.breaker),
            provider,
            retry: config.retry,
            calls: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// Attempts made so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The last failure's text and time, if any.
    pub(crate) fn last_error(&self) -> Option<(String, DateTime<Utc>)> {
        // Every update is one assignment, so a poisoned lock still holds a whole value.
        self.last_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Runs `call` against the provider with every guard in place.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<T, MarketError>
    where
        F: Fn(Arc<dyn MarketData>) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.initial_backoff)
            .with_max_delay(self.retry.max_backoff)
            .with_max_times(self.retry.max_retries)
            .with_jitter();
        (|| self.attempt(operation, &call))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|err| matches!(err, MarketError::Provider(e) if e.is_retryable()))
            .notify(|err, backoff| {
                tracing::debug!(provider = self.provider.name(), operation, error = %err, ?backoff, "retrying upstream call");
            })
            .await
    }

    async fn attempt<T, F, Fut>(&self, operation: &'static str, call: &F) -> Result<T, MarketError>
    where
        F: Fn(Arc<dyn MarketData>) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let provider = self.provider.name();
        self.breaker
            .try_acquire()
            .map_err(|open| MarketError::BreakerOpen {
                provider,
                retry_after: open.retry_after,
            })?;
        // If this future is dropped mid-call (client went away), a half-open trial slot must not
        // stay taken forever.
        let mut trial_guard = TrialGuard {
            breaker: &self.breaker,
            armed: true,
        };
        self.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let span = tracing::info_span!("upstream_call", provider, operation);
        let guarded = tokio::time::timeout(self.retry.attempt_timeout, call(self.provider.clone()));
        let result = match guarded.instrument(span).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Timeout { provider }),
        };
        trial_guard.armed = false;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => error_outcome(err),
        };
        let elapsed = started.elapsed();
        metrics::counter!("stock_api_external_calls_total", "provider" => provider, "operation" => operation, "outcome" => outcome).increment(1);
        metrics::histogram!("stock_api_external_call_duration_seconds", "provider" => provider, "operation" => operation).record(elapsed.as_secs_f64());
        tracing::debug!(
            provider,
            operation,
            outcome,
            latency_ms = elapsed.as_millis() as u64,
            "upstream call"
        );
        if let Err(err) = &result {
            *self
                .last_error
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                Some((err.to_string(), Utc::now()));
        }
        match &result {
            Err(err) if err.is_provider_failure() => self.breaker.record_failure(&err.to_string()),
            _ => self.breaker.record_success(),
        }
        result.map_err(MarketError::Provider)
    }
}

struct TrialGuard<'a> {
    breaker: &'a CircuitBreaker,
    armed: bool,
}

impl Drop for TrialGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.breaker.release_trial();
        }
    }
}

/// A bounded label for the outcome of a failed call.
fn error_outcome(err: &ProviderError) -> &'static str {
    match err {
        ProviderError::UnknownSymbol { .. } => "unknown_symbol",
        ProviderError::NoData { .. } => "no_data",
        ProviderError::RateLimited { .. } => "rate_limited",
        ProviderError::PremiumOnly { .. } => "premium_only",
        ProviderError::NotSupported { .. } => "not_supported",
        ProviderError::Unauthorized { .. } => "unauthorized",
        ProviderError::Timeout { .. } => "timeout",
        ProviderError::Upstream { .. } => "error",
    }
}
