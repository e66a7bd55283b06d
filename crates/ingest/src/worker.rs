//! A worker: claim a due job, do it while renewing its lease, record how it ended.
//!
//! Each symbol is fetched through the provider chain and upserted on its own, so a failure
//! loses nothing already stored, and a retry carries only the symbols that failed. Answers a
//! retry cannot change (unknown symbol, no data) are noted on the job and not retried. When
//! every provider says "later" (rate limit, spent quota, open breaker), the rest of the batch is
//! deferred instead of asking again for each symbol. A worker that loses its lease (it stalled
//! past it and another worker reclaimed the job) drops its work: the new owner redoes it, and
//! upserts make that harmless.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::Symbol;
use market::MarketError;
use providers::ProviderError;
use store::{Job, JobKind, JobOutcome, JobStatus, StoreError};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument;

use crate::Ingestor;
use crate::enqueue::years_of;
use crate::news::{NewsError, NewsIngested};

/// The longest error text kept on a job.
const MAX_ERROR_LEN: usize = 2_000;

/// Asks workers to stop: each finishes the symbol in hand, hands the rest of its job back to
/// the queue, and returns.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// A stop signal and the sender that raises it (`send(true)`).
    pub fn channel() -> (watch::Sender<bool>, Self) {
        let (sender, receiver) = watch::channel(false);
        (sender, Self(receiver))
    }

    /// Whether stopping was asked.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once stopping is asked (never, if the sender is gone without asking).
    pub async fn wait(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// How one claimed job ended, for logs and the backfill summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub id: i64,
    pub kind: JobKind,
    pub group: String,
    /// `Queued` when it will be retried; `Running` when this worker lost it to another.
    pub status: JobStatus,
    pub bars_changed: u64,
    pub error: Option<String>,
}

/// What processing a job's symbols gave.
#[derive(Debug, Default)]
struct Progress {
    bars_changed: u64,
    /// Permanent answers and remarks (unknown symbol, history starts later than asked).
    notes: Vec<String>,
    /// Symbols that failed in a way a retry can fix, with why.
    failed: Vec<(Symbol, String)>,
    /// Symbols not tried (deferred after a "retry later", or the worker is stopping).
    deferred: Vec<Symbol>,
    interrupted: bool,
}

impl Ingestor {
    /// [`Self::run_worker`] on an owned ingestor, for `tokio::spawn`.
    pub async fn run_worker_owned(self, name: String, stop: Stop) {
        self.run_worker(name, stop).await;
    }

    /// Runs one worker named `name` until `stop` is raised.
    pub async fn run_worker(&self, name: String, mut stop: Stop) {
        tracing::debug!(worker = %name, "ingest worker started");
        while !stop.requested() {
            // Registered before looking, so an enqueue between the look and the wait still
            // wakes this worker.
            let wake = self.wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            let idle = match self.run_next(&name, &stop).await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(err) => {
                    tracing::warn!(worker = %name, error = %err, "ingest worker could not reach the job queue");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut wake => {}
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                    () = stop.wait() => {}
                }
            }
        }
        tracing::debug!(worker = %name, "ingest worker stopped");
    }

    /// Claims the next due job, if any, and does it. `None` when nothing is due.
    pub async fn run_next(
        &self,
        worker: &str,
        stop: &Stop,
    ) -> Result<Option<JobReport>, StoreError> {
        let now = self.clock.now();
        let abandoned = self.store().fail_abandoned_jobs(now).await?;
        if abandoned > 0 {
            tracing::warn!(
                jobs = abandoned,
                "ingest jobs failed: their worker stopped on the last attempt"
            );
            metrics::counter!("stock_api_ingest_jobs_total", "kind" => "any", "outcome" => "abandoned")
                .increment(abandoned);
        }
        let Some(job) = self
            .store()
            .claim_job(worker, now, self.lease_from(now))
            .await?
        else {
            return Ok(None);
        };
        let started = Instant::now();
        let span = tracing::info_span!(
            "ingest_job",
            otel.status_code = tracing::field::Empty,
            id = job.id,
            kind = %job.kind,
            group = %job.group,
            attempt = job.attempts,
            symbols = job.symbols.len(),
            outcome = tracing::field::Empty,
        );
        let processed = async {
            tokio::select! {
                processed = self.process(&job, stop) => Some(processed),
                () = self.keep_lease(&job, worker) => None,
            }
        }
        .instrument(span.clone())
        .await;
        let (outcome, news) = match processed {
            Some((outcome, news)) => (Some(outcome), news),
            None => (None, None),
        };
        let finished = match &outcome {
            Some(outcome) => {
                self.store()
                    .finish_job(job.id, worker, outcome, self.clock.now())
                    .await?
            }
            None => false,
        };
        let report = report(&job, outcome.as_ref().filter(|_| finished));
        let outcome_label = match report.status {
            JobStatus::Succeeded => "succeeded",
            JobStatus::Queued => "retried",
            JobStatus::Failed => "failed",
            JobStatus::Running => "lost",
        };
        metrics::counter!("stock_api_ingest_jobs_total", "kind" => job.kind.as_str(), "outcome" => outcome_label)
            .increment(1);
        span.record("outcome", outcome_label);
        if report.status != JobStatus::Succeeded {
            span.record("otel.status_code", "ERROR");
        }
        metrics::histogram!("stock_api_ingest_job_duration_seconds", "kind" => job.kind.as_str())
            .record(started.elapsed().as_secs_f64());
        match report.status {
            JobStatus::Succeeded => tracing::info!(
                id = job.id, kind = %job.kind, group = %job.group, symbols = job.symbols.len(),
                bars_changed = report.bars_changed, note = report.error.as_deref(), "ingest job done"
            ),
            JobStatus::Running => tracing::warn!(
                id = job.id, group = %job.group,
                "ingest job lost: its lease passed and another worker took it over"
            ),
            _ => tracing::warn!(
                id = job.id, kind = %job.kind, group = %job.group, status = %report.status,
                attempt = job.attempts, error = report.error.as_deref(), "ingest job failed"
            ),
        }
        let fetch_job = matches!(job.kind, JobKind::Daily | JobKind::Backfill);
        if finished
            && fetch_job
            && let Some(hook) = &self.after_fetch
        {
            hook.fetched(&job.symbols).await;
        }
        if finished
            && let (Some(news), Some(hook)) = (&news, &self.after_news)
            && news.new_articles > 0
        {
            hook.ingested(news).await;
        }
        if matches!(report.status, JobStatus::Succeeded | JobStatus::Failed) && fetch_job {
            self.archive_when_run_finished(&job).await;
        }
        self.observe_queue().await;
        Ok(Some(report))
    }

    fn lease_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX)
    }

    /// Renews the job's lease every third of it; returns only when the lease is lost.
    async fn keep_lease(&self, job: &Job, worker: &str) {
        let every = (self.config.lease / 3).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let now = self.clock.now();
            match self
                .store()
                .renew_lease(job.id, worker, self.lease_from(now), now)
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                // The store may be back before the lease passes; if not, the next renewal
                // says the job is gone.
                Err(err) => {
                    tracing::warn!(id = job.id, error = %err, "could not renew an ingest job's lease")
                }
            }
        }
    }

    async fn process(&self, job: &Job, stop: &Stop) -> (JobOutcome, Option<NewsIngested>) {
        let (progress, news) = match job.kind {
            JobKind::Daily | JobKind::Backfill => (self.fetch(job, stop).await, None),
            JobKind::Archive => (self.archive(job, stop).await, None),
            JobKind::News => {
                let (progress, news) = self.fetch_news(job, stop).await;
                (progress, Some(news))
            }
        };
        (self.outcome(job, progress), news)
    }

    /// Ingests each symbol's news on its own ([`Ingestor::ingest_symbol_news`]), sorting the
    /// failures as [`Self::fetch`] does.
    async fn fetch_news(&self, job: &Job, stop: &Stop) -> (Progress, NewsIngested) {
        let mut progress = Progress::default();
        let mut ingested = NewsIngested {
            symbols: Vec::new(),
            new_articles: 0,
        };
        let mut symbols = job.symbols.iter().copied();
        while let Some(symbol) = symbols.next() {
            if stop.requested() {
                progress.interrupted = true;
                progress.deferred.push(symbol);
                progress.deferred.extend(symbols.by_ref());
                break;
            }
            match self.ingest_symbol_news(symbol).await {
                Ok(news) => {
                    metrics::counter!("stock_api_news_symbols_total", "outcome" => "ok")
                        .increment(1);
                    if news.new > 0 {
                        ingested.symbols.push(symbol);
                        ingested.new_articles += news.new;
                    }
                    if news.rejected > 0 {
                        progress.notes.push(format!(
                            "{symbol}: {} skipped {} item(s) whose URL is not an article's address",
                            news.provider.unwrap_or("news"),
                            news.rejected
                        ));
                    }
                }
                Err(NewsError::Market(err)) if is_permanent(&err) => {
                    metrics::counter!("stock_api_news_symbols_total", "outcome" => "skipped")
                        .increment(1);
                    progress.notes.push(format!("{symbol} news skipped: {err}"));
                }
                Err(err) => {
                    metrics::counter!("stock_api_news_symbols_total", "outcome" => "failed")
                        .increment(1);
                    let later = matches!(&err, NewsError::Market(err) if is_retry_later(err));
                    progress.failed.push((symbol, err.to_string()));
                    if later {
                        progress.deferred.extend(symbols.by_ref());
                        break;
                    }
                }
            }
        }
        (progress, ingested)
    }

    async fn fetch(&self, job: &Job, stop: &Stop) -> Progress {
        let mut progress = Progress::default();
        let mut symbols = job.symbols.iter().copied();
        while let Some(symbol) = symbols.next() {
            if stop.requested() {
                progress.interrupted = true;
                progress.deferred.push(symbol);
                progress.deferred.extend(symbols.by_ref());
                break;
            }
            match self.market.refresh_daily(symbol, job.from, job.to).await {
                Ok(refreshed) => {
                    metrics::counter!("stock_api_ingest_symbols_total", "outcome" => "ok")
                        .increment(1);
                    progress.bars_changed += refreshed.changed;
                    if refreshed.bars == 0 {
                        let covers = match (refreshed.first_available, refreshed.last_available) {
                            (Some(first), Some(last)) => format!("{first} to {last}"),
                            _ => "nothing".into(),
                        };
                        progress.notes.push(format!(
                            "{symbol}: {} has no bars in the range asked (its history covers {covers})",
                            refreshed.provider
                        ));
                    } else if let (Some(from), Some(first)) = (job.from, refreshed.first_available)
                        && first > from
                    {
                        progress.notes.push(format!(
                            "{symbol}: {} has history from {first} only",
                            refreshed.provider
                        ));
                    }
                }
                Err(err) if is_permanent(&err) => {
                    metrics::counter!("stock_api_ingest_symbols_total", "outcome" => "skipped")
                        .increment(1);
                    progress.notes.push(format!("{symbol} skipped: {err}"));
                }
                Err(err) => {
                    metrics::counter!("stock_api_ingest_symbols_total", "outcome" => "failed")
                        .increment(1);
                    let later = is_retry_later(&err);
                    progress.failed.push((symbol, err.to_string()));
                    if later {
                        // Every provider said "not now": asking for the next symbols would
                        // only spend quota on the same answer.
                        progress.deferred.extend(symbols.by_ref());
                        break;
                    }
                }
            }
        }
        progress
    }

    async fn archive(&self, job: &Job, stop: &Stop) -> Progress {
        let mut progress = Progress::default();
        let Some(archiver) = &self.archiver else {
            progress.notes.push("no archive is configured".into());
            return progress;
        };
        let years = years_of(job.from, job.to, self.clock.now().date_naive());
        let mut symbols = job.symbols.iter().copied();
        while let Some(symbol) = symbols.next() {
            if stop.requested() {
                progress.interrupted = true;
                progress.deferred.push(symbol);
                progress.deferred.extend(symbols.by_ref());
                break;
            }
            if let Err(err) = archiver
                .archive(self.store().as_ref(), symbol, years.clone())
                .await
            {
                progress.failed.push((symbol, err));
            }
        }
        progress
    }

    /// Turns a job's progress into its outcome: done, retried (with backoff, the failed and
    /// deferred symbols only) or failed for good.
    fn outcome(&self, job: &Job, progress: Progress) -> JobOutcome {
        let Progress {
            bars_changed,
            notes,
            failed,
            deferred,
            interrupted,
        } = progress;
        if failed.is_empty() && deferred.is_empty() {
            return JobOutcome::Succeeded {
                bars_changed,
                note: (!notes.is_empty()).then(|| truncate(notes.join("; "))),
            };
        }
        let now = self.clock.now();
        let mut symbols: Vec<Symbol> = failed.iter().map(|(symbol, _)| *symbol).collect();
        symbols.extend(&deferred);
        if failed.is_empty() && interrupted {
            // Handed back for another worker at once: stopping is not the job's fault.
            return JobOutcome::Retry {
                bars_changed,
                error: "interrupted: the worker was stopping".into(),
                symbols,
                run_at: now,
            };
        }
        let mut error = failed
            .iter()
            .map(|(symbol, err)| format!("{symbol}: {err}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !deferred.is_empty() {
            error.push_str(&format!("; {} more deferred", deferred.len()));
        }
        let error = truncate(error);
        if job.attempts >= job.max_attempts {
            JobOutcome::Failed {
                bars_changed,
                error,
            }
        } else {
            JobOutcome::Retry {
                bars_changed,
                error,
                symbols,
                run_at: now + self.backoff(job.attempts),
            }
        }
    }

    /// `retry_backoff × 2^(attempt − 1)`, capped at `max_backoff`.
    fn backoff(&self, attempt: u32) -> chrono::Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let backoff = self
            .config
            .retry_backoff
            .saturating_mul(factor)
            .min(self.config.max_backoff);
        chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::MAX)
    }

    /// Enqueues the archive of `job`'s run once none of the run's jobs is queued or running.
    async fn archive_when_run_finished(&self, job: &Job) {
        if self.archiver.is_none() {
            return;
        }
        let result = match self.store().job_counts(Some(&job.group)).await {
            Ok(counts) if counts.pending() == 0 => {
                self.enqueue_archive(&job.group, job.from, job.to).await
            }
            Ok(_) => return,
            Err(err) => Err(err),
        };
        if let Err(err) = result {
            tracing::warn!(group = %job.group, error = %err, "could not enqueue the run's archive job; `stockd archive` can write it");
        }
    }
}

fn report(job: &Job, outcome: Option<&JobOutcome>) -> JobReport {
    let (status, bars_changed, error) = match outcome {
        Some(JobOutcome::Succeeded { bars_changed, note }) => {
            (JobStatus::Succeeded, *bars_changed, note.clone())
        }
        Some(JobOutcome::Retry {
            bars_changed,
            error,
            ..
        }) => (JobStatus::Queued, *bars_changed, Some(error.clone())),
        Some(JobOutcome::Failed {
            bars_changed,
            error,
        }) => (JobStatus::Failed, *bars_changed, Some(error.clone())),
        None => (JobStatus::Running, 0, None),
    };
    JobReport {
        id: job.id,
        kind: job.kind,
        group: job.group.clone(),
        status,
        bars_changed,
        error,
    }
}

/// Answers about the symbol itself: asking again will not change them.
fn is_permanent(err: &MarketError) -> bool {
    matches!(
        err,
        MarketError::Provider(
            ProviderError::UnknownSymbol { .. }
                | ProviderError::NoData { .. }
                | ProviderError::NotSupported { .. }
        )
    )
}

/// "Not now" from the whole chain: the next symbol would get the same answer.
fn is_retry_later(err: &MarketError) -> bool {
    matches!(
        err,
        MarketError::BreakerOpen { .. }
            | MarketError::QuotaExhausted { .. }
            | MarketError::ProviderPaused { .. }
            | MarketError::Provider(ProviderError::RateLimited { .. })
    )
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}
