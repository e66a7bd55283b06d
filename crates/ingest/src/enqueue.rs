//! Putting work on the queue, idempotently.
//!
//! A job's dedupe key names its run and its symbols (`daily:2026-11-27:AAPL,MSFT`), so the
//! same work enqueued again — by another replica's scheduler, a restart's catch-up, a backfill
//! run twice — is found instead of added. A scheduled run only enqueues the tracked symbols no
//! job of that session covers yet, so a symbol tracked later in the day is still ingested.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use domain::Symbol;
use store::{JobFilter, JobKind, NewJob, StoreError};

use crate::Ingestor;

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// The run the jobs belong to (`daily:2026-11-27`, `backfill:…`).
    pub group: String,
    /// Jobs added now.
    pub added: usize,
    /// Jobs that were already queued or done (same dedupe key).
    pub existing: usize,
}

/// The group of a backfill of `symbols` over `from..=to`: the same request always maps to the
/// same group (so a restarted backfill resumes its own jobs), different requests to different
/// groups.
pub fn backfill_group(symbols: &[Symbol], from: NaiveDate, to: Option<NaiveDate>) -> String {
    let set: BTreeSet<&str> = symbols.iter().map(Symbol::as_str).collect();
    // FNV-1a: a stable, dependency-free hash (std's hasher may change between Rust releases,
    // and the key must survive an upgrade to resume a backfill).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in set.iter().flat_map(|s| s.bytes().chain([b','])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let to = to.map_or_else(|| "latest".to_owned(), |to| to.to_string());
    format!("backfill:{from}:{to}:{hash:016x}")
}

impl Ingestor {
    /// Enqueues the tracked symbols of `session` in batches, skipping symbols a job of this
    /// session already covers.
    pub async fn enqueue_session(&self, session: NaiveDate) -> Result<Enqueued, StoreError> {
        let group = format!("daily:{session}");
        let covered = self.covered_symbols(&group).await?;
        let tracked: Vec<Symbol> = self
            .store()
            .tracked_symbols()
            .await?
            .into_iter()
            .map(|t| t.symbol)
            .filter(|symbol| !covered.contains(symbol))
            .collect();
        let jobs = tracked
            .chunks(self.config.batch_size.max(1))
            .map(|batch| self.new_job(JobKind::Daily, &group, batch, None, Some(session)))
            .collect();
        self.enqueue(group, jobs).await
    }

    /// Enqueues one job per symbol for the history of `from..=to` (`to` open: up to the latest).
    pub async fn enqueue_backfill(
        &self,
        symbols: &[Symbol],
        from: NaiveDate,
        to: Option<NaiveDate>,
    ) -> Result<Enqueued, StoreError> {
        let group = backfill_group(symbols, from, to);
        let unique: BTreeSet<Symbol> = symbols.iter().copied().collect();
        let jobs = unique
            .iter()
            .map(|symbol| {
                self.new_job(
                    JobKind::Backfill,
                    &group,
                    std::slice::from_ref(symbol),
                    Some(from),
                    to,
                )
            })
            .collect();
        self.enqueue(group, jobs).await
    }

    /// Enqueues the archive job of a run whose jobs have all finished: every symbol of the run,
    /// over the run's dates.
    pub(crate) async fn enqueue_archive(
        &self,
        group: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Enqueued, StoreError> {
        let symbols: Vec<Symbol> = self.covered_symbols(group).await?.into_iter().collect();
        if symbols.is_empty() {
            return Ok(Enqueued {
                group: group.to_owned(),
                added: 0,
                existing: 0,
            });
        }
        let mut job = self.new_job(JobKind::Archive, group, &symbols, from, to);
        job.dedupe_key = format!("archive:{group}");
        self.enqueue(group.to_owned(), vec![job]).await
    }

    /// The symbols the fetch jobs of `group` were enqueued with (read from their dedupe keys,
    /// which keep the original list when a retry narrows a job's symbols).
    pub(crate) async fn covered_symbols(
        &self,
        group: &str,
    ) -> Result<BTreeSet<Symbol>, StoreError> {
        let filter = JobFilter {
            group: Some(group.to_owned()),
            status: None,
            limit: u32::MAX,
        };
        let prefix = format!("{group}:");
        Ok(self
            .store()
            .jobs(&filter)
            .await?
            .iter()
            .filter(|job| job.kind != JobKind::Archive)
            .filter_map(|job| job.dedupe_key.strip_prefix(&prefix))
            .flat_map(|list| list.split(','))
            .filter_map(|text| Symbol::parse(text).ok())
            .collect())
    }

    pub(crate) fn new_job(
        &self,
        kind: JobKind,
        group: &str,
        symbols: &[Symbol],
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> NewJob {
        let list: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
        NewJob {
            kind,
            group: group.to_owned(),
            dedupe_key: format!("{group}:{}", list.join(",")),
            symbols: symbols.to_vec(),
            from,
            to,
            max_attempts: self.config.max_attempts,
            run_at: self.clock.now(),
        }
    }

    pub(crate) async fn enqueue(
        &self,
        group: String,
        jobs: Vec<NewJob>,
    ) -> Result<Enqueued, StoreError> {
        let now = self.clock.now();
        let (mut added, mut existing) = (0, 0);
        for job in &jobs {
            match self.store().enqueue_job(job, now).await? {
                (_, true) => added += 1,
                (_, false) => existing += 1,
            }
        }
        if added > 0 {
            self.wake.notify_waiters();
        }
        Ok(Enqueued {
            group,
            added,
            existing,
        })
    }
}

/// The calendar years `from..=to` cover (`from` open: `to`'s year only; `to` open: up to
/// `today`).
pub(crate) fn years_of(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> std::ops::RangeInclusive<i32> {
    let last = to.unwrap_or(today).year();
    let first = from.map_or(last, |from| from.year());
    first.min(last)..=last
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn symbols(list: &[&str]) -> Vec<Symbol> {
        list.iter().map(|s| Symbol::parse(s).unwrap()).collect()
    }

    #[test]
    fn a_backfill_group_depends_on_the_request_not_on_symbol_order() {
        let from = "2010-01-01".parse().unwrap();
        let a = backfill_group(&symbols(&["MSFT", "AAPL"]), from, None);
        assert_eq!(
            a,
            backfill_group(&symbols(&["AAPL", "MSFT", "AAPL"]), from, None)
        );
        assert!(a.starts_with("backfill:2010-01-01:latest:"), "{a}");
        assert_ne!(a, backfill_group(&symbols(&["MSFT"]), from, None));
        assert_ne!(
            a,
            backfill_group(
                &symbols(&["MSFT", "AAPL"]),
                from,
                Some("2020-01-01".parse().unwrap())
            )
        );
    }

    #[test]
    fn archive_years_cover_the_run() {
        let today = "2026-11-27".parse().unwrap();
        let d = |s: &str| Some(s.parse().unwrap());
        assert_eq!(years_of(None, d("2026-11-27"), today), 2026..=2026);
        assert_eq!(years_of(d("2010-01-01"), None, today), 2010..=2026);
        assert_eq!(
            years_of(d("2010-01-01"), d("2012-06-30"), today),
            2010..=2012
        );
    }
}
