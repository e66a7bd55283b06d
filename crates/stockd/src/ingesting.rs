//! `stockd ingest`: fetch history now, in the foreground, through the same job queue the
//! scheduler feeds — so an interrupted or killed run resumes where it stopped when started
//! again (its jobs are found by their dedupe keys; finished ones are not redone; a killed
//! worker's job is reclaimed after its lease). `stockd ingest status` shows the queue.
//!
//! Also builds the [`Ingestor`] that `stockd serve` runs, with the Parquet archive as its
//! archiver when the `archive` feature and flag are on, and the signals hook
//! ([`crate::signalling`]) unless `signals.enabled` is false.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use domain::Symbol;
use indicatif::{ProgressBar, ProgressStyle};
use ingest::{Ingestor, Stop};
use store::{JobFilter, JobStatus};

use crate::app::{self, AppError};
use crate::cli::{IngestArgs, IngestCommand};
use crate::config::{Config, StoreSection};

/// How often the progress bar reads the queue.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The ingestor `stockd serve` and `stockd ingest` run: `config`'s settings over `market`,
/// computing signals after each fetch job unless `signals.enabled` is false (label changes go
/// on the bus: NATS or Kafka when configured, else in-process), and archiving finished runs when the
/// archive is built in and its flag is on.
///
/// `bus` is the process's bus when it has one (`stockd serve`: the same in-process bus the
/// alert engine and the live stream watch); without it one is connected here.
pub async fn ingestor(
    config: &Config,
    core: app::Core,
    bus: Option<Arc<dyn bus::Bus>>,
) -> Result<Ingestor, AppError> {
    let mut ingestor = Ingestor::new(
        core.market.clone(),
        core.store.clone(),
        config.ingest.workers.clone(),
    )
    .with_news(config.news.fetch.clone());
    let news = core.market.news_enabled();
    // One connection for both hooks, made only when one of them runs.
    let bus = if config.signals.enabled || news {
        Some(match bus {
            Some(bus) => bus,
            None => config.alerts.connect_bus().await?,
        })
    } else {
        None
    };
    if let Some(bus) = bus.clone().filter(|_| news) {
        ingestor = ingestor.with_after_news(Arc::new(crate::news::NewsAfterIngest::new(bus)));
    }
    if let Some(bus) = bus.filter(|_| config.signals.enabled) {
        let settings = service::Settings {
            signals: config.signals.config,
            // The signal's sentiment reads the scores of the configured chain, in its order.
            sentiment: core.sentiment.clone(),
            ..service::Settings::default()
        };
        let service = service::Service::new(core.store, core.market, settings);
        ingestor = ingestor.with_after_fetch(Arc::new(crate::signalling::SignalsAfterFetch::new(
            service, bus,
        )));
    }
    #[cfg(feature = "archive")]
    if config
        .web
        .features()
        .is_enabled(web::features::Feature::Archive)
    {
        let archive = crate::archiving::open(&config.archive).map_err(AppError::Archive)?;
        return Ok(ingestor.with_archiver(Arc::new(ParquetArchiver(archive))));
    }
    Ok(ingestor)
}

/// Finished runs written to the Parquet archive.
#[cfg(feature = "archive")]
#[derive(Debug)]
struct ParquetArchiver(archive::Archive);

#[cfg(feature = "archive")]
#[async_trait::async_trait]
impl ingest::Archiver for ParquetArchiver {
    async fn archive(
        &self,
        store: &dyn store::Bars,
        symbol: Symbol,
        years: std::ops::RangeInclusive<i32>,
    ) -> Result<u64, String> {
        self.0
            .archive_symbol(store, symbol, years)
            .await
            .map(|summary| summary.rows())
            .map_err(|err| err.to_string())
    }
}

/// Runs `stockd ingest`; returns the report to print, or an error (also when a job failed).
pub async fn run(config: &Config, args: IngestArgs) -> Result<String, String> {
    if let Some(IngestCommand::Status {
        status,
        group,
        limit,
    }) = args.command
    {
        return status_report(&config.store, status.as_deref(), group, limit).await;
    }
    let core = app::core(config).await.map_err(|err| err.to_string())?;
    let ingestor = ingestor(config, core, None)
        .await
        .map_err(|err| err.to_string())?;
    let run_started = Utc::now();
    let today = run_started.date_naive();
    let enqueued = match (args.from, args.symbols.is_empty()) {
        (Some(from), _) => {
            let to = check_range(from, args.to, today)?;
            let symbols = symbols_or_tracked(&ingestor, args.symbols).await?;
            ingestor.enqueue_backfill(&symbols, from, to).await
        }
        (None, true) => {
            let session = config.ingest.schedule.latest_closed_session(Utc::now());
            ingestor.enqueue_session(session).await
        }
        (None, false) => {
            return Err(
                "--symbols needs --from (e.g. --from 2010-01-01); without both, \
                        `stockd ingest` runs the latest session for the tracked symbols"
                    .into(),
            );
        }
    }
    .map_err(|err| err.to_string())?;
    drain(&ingestor, &enqueued.group, run_started, args.quiet).await
}

/// Checks `from..=to` and returns `to` (open when not given).
fn check_range(
    from: NaiveDate,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, String> {
    if from > today {
        return Err(format!("--from {from} is in the future"));
    }
    match to {
        Some(to) if to < from => Err(format!("--to {to} is before --from {from}")),
        other => Ok(other),
    }
}

pub(crate) async fn symbols_or_tracked(
    ingestor: &Ingestor,
    symbols: Vec<Symbol>,
) -> Result<Vec<Symbol>, String> {
    if !symbols.is_empty() {
        return Ok(symbols);
    }
    let tracked = ingestor
        .store()
        .tracked_symbols()
        .await
        .map_err(|err| err.to_string())?;
    if tracked.is_empty() {
        return Err("no symbols: pass --symbols MSFT,AAPL or track some with \
                    `stockd symbols add`"
            .into());
    }
    Ok(tracked.into_iter().map(|t| t.symbol).collect())
}

/// Runs workers until every job of `group` has finished, showing progress; Ctrl-C stops the
/// workers (their jobs go back to the queue) and leaves the rest for the next run.
pub(crate) async fn drain(
    ingestor: &Ingestor,
    group: &str,
    run_started: DateTime<Utc>,
    quiet: bool,
) -> Result<String, String> {
    let started = Instant::now();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} jobs  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut interrupted = false;
    // A worker finishing a run's last fetch enqueues the run's archive job just after: the
    // queue can look empty for a moment. So the workers are stopped (each finishes what it is
    // doing, enqueues included) and the queue looked at again before calling it done.
    loop {
        let (stop_sender, workers) = spawn_workers(ingestor);
        loop {
            let counts = ingestor
                .store()
                .job_counts(Some(group))
                .await
                .map_err(|err| err.to_string())?;
            bar.set_length(counts.total());
            bar.set_position(counts.succeeded + counts.failed);
            bar.set_message(format!(
                "{} running, {} queued, {} failed",
                counts.running, counts.queued, counts.failed
            ));
            if counts.pending() == 0 {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(PROGRESS_EVERY) => {}
                _ = tokio::signal::ctrl_c() => {
                    interrupted = true;
                    break;
                }
            }
        }
        let _ = stop_sender.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        let pending = ingestor
            .store()
            .job_counts(Some(group))
            .await
            .map_err(|err| err.to_string())?
            .pending();
        if interrupted || pending == 0 {
            break;
        }
    }
    bar.finish_and_clear();
    let report = summary(ingestor, group, run_started, started.elapsed(), interrupted).await?;
    let failed = ingestor
        .store()
        .job_counts(Some(group))
        .await
        .map_err(|err| err.to_string())?
        .failed;
    if failed > 0 || interrupted {
        Err(report.trim_end().to_owned())
    } else {
        Ok(report)
    }
}

/// Starts the configured number of workers (at least one); the sender stops them.
fn spawn_workers(
    ingestor: &Ingestor,
) -> (
    tokio::sync::watch::Sender<bool>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let (stop_sender, stop) = Stop::channel();
    let workers = (0..ingestor.config().workers.max(1))
        .map(|n| {
            let ingestor = ingestor.clone();
            let stop = stop.clone();
            let name = format!("{}-cli-{}-{n}", hostname(), std::process::id());
            tokio::spawn(async move { ingestor.run_worker(name, stop).await })
        })
        .collect();
    (stop_sender, workers)
}

async fn summary(
    ingestor: &Ingestor,
    group: &str,
    run_started: DateTime<Utc>,
    elapsed: Duration,
    interrupted: bool,
) -> Result<String, String> {
    let filter = JobFilter {
        group: Some(group.to_owned()),
        status: None,
        limit: u32::MAX,
    };
    let jobs = ingestor
        .store()
        .jobs(&filter)
        .await
        .map_err(|err| err.to_string())?;
    let count = |status| jobs.iter().filter(|j| j.status == status).count();
    // Jobs untouched since before this run were done by an earlier one (a resumed backfill).
    let (this_run, earlier): (Vec<_>, Vec<_>) =
        jobs.iter().partition(|j| j.updated_at >= run_started);
    let bars: u64 = this_run.iter().map(|j| j.bars_changed).sum();
    // News jobs store articles, not bars: their counts are in the metrics and the store.
    let stored = if jobs.iter().all(|j| j.kind == store::JobKind::News) {
        String::new()
    } else {
        format!("{bars} bars inserted or changed ")
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{group}: {} jobs succeeded, {} failed, {} not finished ({} done by an earlier run); \
         {stored}in {:.1}s",
        count(JobStatus::Succeeded),
        count(JobStatus::Failed),
        count(JobStatus::Queued) + count(JobStatus::Running),
        earlier.len(),
        elapsed.as_secs_f64()
    );
    for job in jobs.iter().rev() {
        if let Some(error) = &job.last_error {
            let _ = writeln!(out, "  job {} ({}): {error}", job.id, job.status);
        }
    }
    if interrupted {
        out.push_str("interrupted: run the same command again to resume\n");
    }
    Ok(out)
}

async fn status_report(
    config: &StoreSection,
    status: Option<&str>,
    group: Option<String>,
    limit: u32,
) -> Result<String, String> {
    let status = status
        .map(str::parse::<JobStatus>)
        .transpose()
        .map_err(|err| format!("--status: {err}"))?;
    let service = app::store_service(config)
        .await
        .map_err(|err| err.to_string())?;
    let filter = JobFilter {
        status,
        group,
        limit,
    };
    let (counts, jobs) = service.jobs(&filter).await.map_err(|err| err.to_string())?;
    let mut out = format!(
        "queued {}, running {}, succeeded {}, failed {}\n",
        counts.queued, counts.running, counts.succeeded, counts.failed
    );
    if jobs.is_empty() {
        out.push_str("no jobs\n");
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "{:>6}  {:<9} {:<9} {:>8}  {:<40} {:<20} LAST ERROR",
        "ID", "KIND", "STATUS", "ATTEMPTS", "GROUP", "UPDATED"
    );
    for job in jobs {
        let _ = writeln!(
            out,
            "{:>6}  {:<9} {:<9} {:>8}  {:<40} {:<20} {}",
            job.id,
            job.kind,
            job.status,
            format!("{}/{}", job.attempts, job.max_attempts),
            job.group,
            job.updated_at.format("%Y-%m-%d %H:%M:%S"),
            job.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(out)
}

/// This machine's name, so a job's `worker` says where it ran (`HOSTNAME` in containers).
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "stockd".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_range_must_be_in_order_and_not_in_the_future() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let today = d("2026-11-27");
        assert_eq!(check_range(d("2010-01-01"), None, today), Ok(None));
        assert_eq!(
            check_range(d("2010-01-01"), Some(d("2010-12-31")), today),
            Ok(Some(d("2010-12-31")))
        );
        let err = check_range(d("2010-01-01"), Some(d("2009-12-31")), today).unwrap_err();
        assert!(err.contains("before --from"), "{err}");
        let err = check_range(d("2027-01-01"), None, today).unwrap_err();
        assert!(err.contains("in the future"), "{err}");
    }
}
