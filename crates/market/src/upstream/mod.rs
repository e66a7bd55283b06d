//! One guarded call to a provider: circuit breaker, the provider's own limit (a pause after
//! it said "rate limited", [`pause`]), call quota, per-attempt timeout, retries with exponential
//! backoff and jitter for retryable failures only, and the external-call metrics. [`chain`]
//! walks an ordered list of such providers, falling back from one to the next, skipping those
//! that said a symbol is unknown ([`unknown`]).

pub(crate) mod chain;
pub(crate) mod pause;
pub(crate) mod quota;
pub(crate) mod unknown;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use providers::news::NewsSource;
use providers::{MarketData, ProviderError};
use store::ProviderUsage;
use tokio::time::Instant;
use tracing::Instrument;

use crate::MarketError;
use crate::breaker::CircuitBreaker;
use crate::clock::{self, Clock};
use pause::PauseStatus;
use quota::{Purpose, Quota, Refusal};

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

/// Longest a call waits for the store to record it (or to read or write a pause): a slow
/// database must not hold up reads for long, and a call not recorded is still counted in memory.
const RECORD_TIMEOUT: Duration = Duration::from_secs(2);

/// The part of the store the upstream uses: call counts and pauses, nothing else.
struct UsageLog(Arc<dyn ProviderUsage>);

impl std::ops::Deref for UsageLog {
    type Target = dyn ProviderUsage;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl std::fmt::Debug for UsageLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderUsage")
    }
}

/// A provider with its breaker, quota and retry policy.
///
/// One provider name is one upstream, whatever it serves: a vendor whose key serves both prices
/// and news (Alpha Vantage, Finnhub, Polygon) has one breaker, one quota and one pause for both.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) name: &'static str,
    /// The market-data side, when the provider serves prices.
    pub(crate) market: Option<Arc<dyn MarketData>>,
    /// The news side, when the provider serves news.
    pub(crate) news: Option<Arc<dyn NewsSource>>,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) retry: RetryConfig,
    pub(crate) quota: Quota,
    /// Where calls are recorded, so quota use survives restarts and is shared by replicas.
    store: UsageLog,
    clock: Clock,
    /// Attempts that reached the provider (retries included), for `/v1/providers`.
    calls: AtomicU64,
    /// The last failed answer (key-free `ProviderError` text) and when it came.
    last_error: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl Upstream {
    /// A provider with a closed breaker of its own and the quota configured for its name
    /// (unlimited when none is).
    /// Its sides (`market`, `news`) are set by the caller.
    pub(crate) fn new(
        name: &'static str,
        store: Arc<dyn ProviderUsage>,
        config: &crate::MarketConfig,
    ) -> Self {
        let limits = config.quotas.get(name).copied().unwrap_or_default();
        Self {
            name,
            market: None,
            news: None,
            breaker: CircuitBreaker::new(name, config.breaker),
            quota: Quota::new(name, limits, config.clock.now()),
            retry: config.retry,
            store: UsageLog(store),
            clock: config.clock,
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

    /// Runs `call` on `side` (the provider's market-data or news side) with every guard in
    /// place, spending the share of the quota `purpose` may use.
    pub(crate) async fn call<P, T, F, Fut>(
        &self,
        side: &P,
        operation: &'static str,
        purpose: Purpose,
        call: F,
    ) -> Result<T, MarketError>
    where
        P: Clone,
        F: Fn(P) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.initial_backoff)
            .with_max_delay(self.retry.max_backoff)
            .with_max_times(self.retry.max_retries)
            .with_jitter();
        (|| self.attempt(side, operation, purpose, &call))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|err| matches!(err, MarketError::Provider(e) if e.is_retryable()))
            .notify(|err, backoff| {
                tracing::debug!(provider = self.name, operation, error = %err, ?backoff, "retrying upstream call");
            })
            .await
    }

    async fn attempt<P, T, F, Fut>(
        &self,
        side: &P,
        operation: &'static str,
        purpose: Purpose,
        call: &F,
    ) -> Result<T, MarketError>
    where
        P: Clone,
        F: Fn(P) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let provider = self.name;
        self.breaker.try_acquire().map_err(|open| {
            count_skipped(provider, "breaker_open");
            MarketError::BreakerOpen {
                provider,
                retry_after: open.retry_after,
            }
        })?;
        // If this future is dropped mid-call (client went away) or the quota refuses the call,
        // a half-open trial slot must not stay taken.
        let mut trial_guard = TrialGuard {
            breaker: &self.breaker,
            armed: true,
        };
        let now = self.clock.now();
        let refused = |refusal| self.refused(refusal, now);
        // Another replica (or this process before a restart) may have paused it meanwhile.
        self.take_stored_pause(now).await;
        self.quota.take(now, purpose).map_err(refused)?;
        self.record_call(now, purpose)
            .await
            .map_err(|spent| refused(Refusal::Spent(spent)))?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let span = tracing::info_span!(
            "upstream_call",
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            provider,
            operation,
            outcome = tracing::field::Empty,
        );
        let guarded = tokio::time::timeout(self.retry.attempt_timeout, call(side.clone()));
        let result = match guarded.instrument(span.clone()).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Timeout { provider }),
        };
        trial_guard.armed = false;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => error_outcome(err),
        };
        let elapsed = started.elapsed();
        span.record("outcome", outcome);
        if result
            .as_ref()
            .is_err_and(ProviderError::is_provider_failure)
        {
            span.record("otel.status_code", "ERROR");
        }
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
                Some((err.to_string(), self.clock.now()));
        }
        match &result {
            Err(err) if err.is_provider_failure() => self.breaker.record_failure(&err.to_string()),
            _ => self.breaker.record_success(),
        }
        if let Err(ProviderError::RateLimited {
            detail,
            retry_after,
            limit,
            ..
        }) = &result
        {
            // The provider knows its limits better than our counts: no call until it resets.
            let now = self.clock.now();
            let pause = PauseStatus::after_answer(now, *limit, *retry_after, detail);
            self.quota.pause(pause.clone(), now);
            self.store_pause(&pause).await;
            return Err(paused(provider, &pause, now));
        }
        result.map_err(MarketError::Provider)
    }

    /// The error for a call refused before it was made, counted as skipped.
    fn refused(&self, refusal: Refusal, now: DateTime<Utc>) -> MarketError {
        let provider = self.name;
        match refusal {
            Refusal::Spent(spent) => {
                count_skipped(provider, "quota");
                MarketError::QuotaExhausted {
                    provider,
                    window: spent.window,
                    limit: spent.limit,
                    resets_at: spent.resets_at,
                    retry_after: spent.retry_after,
                    reserved: spent.reserved,
                }
            }
            Refusal::Paused(pause) => {
                count_skipped(provider, "paused");
                paused(provider, &pause, now)
            }
        }
    }

    /// Takes in a pause the store holds for this provider (another replica's, or this
    /// process's before a restart). A store failure is logged: the pause this process knows
    /// still holds.
    async fn take_stored_pause(&self, now: DateTime<Utc>) {
        let provider = self.name;
        let read = self.store.provider_pause(provider, now);
        match tokio::time::timeout(RECORD_TIMEOUT, read).await {
            Ok(Ok(Some(stored))) => self.quota.pause(PauseStatus::from_stored(stored), now),
            Ok(Ok(None)) => {}
            Ok(Err(err)) => {
                tracing::warn!(provider, error = %err, "could not read the provider's stored pause; going by this process's");
            }
            Err(_) => {
                tracing::warn!(
                    provider,
                    "reading the provider's stored pause timed out; going by this process's"
                );
            }
        }
    }

    /// Records a pause in the store, so a restart or another replica does not call the
    /// provider before it ends. A store failure is logged: this process still holds it.
    async fn store_pause(&self, pause: &PauseStatus) {
        let provider = self.name;
        tracing::warn!(provider, limit = pause.limit.as_str(), until = %pause.until, "provider reported its own limit reached; not calling it until then");
        let stored = pause.to_stored();
        let write = self.store.pause_provider(provider, &stored);
        match tokio::time::timeout(RECORD_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(provider, error = %err, "could not store the provider's pause; only this process knows it");
            }
            Err(_) => {
                tracing::warn!(
                    provider,
                    "storing the provider's pause timed out; only this process knows it"
                );
            }
        }
    }

    /// Records one call in the store and takes in what the store has counted (other replicas'
    /// calls included); refuses the call when that shows another replica took the window's
    /// last one meanwhile. A store failure or timeout is logged and the call goes ahead: quota
    /// accounting must never fail a request, and the in-memory count still holds.
    async fn record_call(&self, now: DateTime<Utc>, purpose: Purpose) -> Result<(), quota::Spent> {
        if !self.quota.limits().is_limited() {
            // Nothing to enforce, so nothing worth a write per call.
            return Ok(());
        }
        let provider = self.name;
        let record = self.store.record_provider_calls(provider, 1, now);
        match tokio::time::timeout(RECORD_TIMEOUT, record).await {
            Ok(Ok(stored)) => {
                self.quota.merge(stored, now);
                self.quota
                    .overdrawn(stored, now, purpose)
                    .map_or(Ok(()), Err)
            }
            Ok(Err(err)) => {
                tracing::warn!(provider, error = %err, "could not record a provider call in the store; counting it in memory only");
                Ok(())
            }
            Err(_) => {
                tracing::warn!(
                    provider,
                    "recording a provider call in the store timed out; counting it in memory only"
                );
                Ok(())
            }
        }
    }

    /// Loads the quota use and any pause the store remembers (e.g. from before a restart).
    pub(crate) async fn restore_usage(&self) {
        let provider = self.name;
        let now = self.clock.now();
        match self.store.provider_usage(provider, now).await {
            Ok(stored) => self.quota.merge(stored, now),
            Err(err) => {
                tracing::warn!(provider, error = %err, "could not read the provider's recorded quota use; starting from zero");
            }
        }
        self.take_stored_pause(now).await;
    }

    /// The pause in force now, if the provider reported its own limit reached.
    pub(crate) fn paused(&self) -> Option<PauseStatus> {
        self.quota.paused(self.clock.now())
    }

    /// The quota's use and limits now.
    pub(crate) fn quota_status(&self) -> quota::QuotaStatus {
        self.quota.status(self.clock.now())
    }

    /// Refreshes the quota gauges (a window that rolled over without a call still reads full).
    pub(crate) fn publish_quota(&self) {
        self.quota.publish(self.clock.now());
    }
}

/// The error for a provider paused by its own limit until `pause.until`.
fn paused(provider: &'static str, pause: &PauseStatus, now: DateTime<Utc>) -> MarketError {
    MarketError::ProviderPaused {
        provider,
        limit: pause.limit,
        until: pause.until,
        retry_after: clock::until(now, pause.until),
    }
}

/// Counts a call not made, by why: `breaker_open`, `quota`, `paused` or `unknown_symbol`.
pub(crate) fn count_skipped(provider: &'static str, reason: &'static str) {
    metrics::counter!("stock_api_provider_calls_skipped_total", "provider" => provider, "reason" => reason)
        .increment(1);
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
