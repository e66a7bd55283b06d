//! The job queue's contract on every backend: idempotent enqueue, claims that never hand one
//! job to two workers, leases that expire and are reclaimed, retries and recorded outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::backends;
use domain::Symbol;
use store::{JobFilter, JobKind, JobOutcome, JobStatus, NewJob, Store};

fn t0() -> DateTime<Utc> {
    "2026-11-27T22:00:00Z".parse().unwrap()
}

fn symbols(list: &[&str]) -> Vec<Symbol> {
    list.iter().map(|s| Symbol::parse(s).unwrap()).collect()
}

fn new_job(key: &str, list: &[&str], run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: JobKind::Daily,
        group: "daily:2026-11-27".into(),
        dedupe_key: key.into(),
        symbols: symbols(list),
        from: None,
        to: Some("2026-11-27".parse().unwrap()),
        max_attempts: 3,
        run_at,
    }
}

fn lease(at: DateTime<Utc>) -> DateTime<Utc> {
    at + Duration::seconds(30)
}

#[tokio::test]
async fn enqueueing_the_same_key_twice_keeps_one_job() {
    for (_keep, store) in backends().await {
        let (first, added) = store
            .enqueue_job(&new_job("k1", &["MSFT", "BRK.B"], t0()), t0())
            .await
            .unwrap();
        assert!(added, "{}", store.backend());
        assert_eq!(first.status, JobStatus::Queued);
        assert_eq!(first.symbols, symbols(&["MSFT", "BRK.B"]));
        assert_eq!(first.to, Some("2026-11-27".parse().unwrap()));
        assert_eq!(first.attempts, 0);

        let mut again = new_job("k1", &["AAPL"], t0());
        again.max_attempts = 9;
        let (second, added) = store.enqueue_job(&again, t0()).await.unwrap();
        assert!(!added);
        assert_eq!(second, first, "the first job stands, unchanged");
        assert_eq!(store.job_counts(None).await.unwrap().total(), 1);
    }
}

#[tokio::test]
async fn workers_claim_due_jobs_oldest_first_and_never_early() {
    for (_keep, store) in backends().await {
        let later = t0() + Duration::minutes(5);
        store
            .enqueue_job(&new_job("later", &["AAPL"], later), t0())
            .await
            .unwrap();
        store
            .enqueue_job(&new_job("now", &["MSFT"], t0()), t0())
            .await
            .unwrap();

        // A lease outlasting the test, so the first job is not reclaimed as abandoned.
        let long_lease = t0() + Duration::hours(1);
        let claimed = store.claim_job("w1", t0(), long_lease).await.unwrap();
        let claimed = claimed.expect("the due job");
        assert_eq!(claimed.dedupe_key, "now", "{}", store.backend());
        assert_eq!(claimed.status, JobStatus::Running);
        assert_eq!(claimed.attempts, 1);
        assert_eq!(claimed.worker.as_deref(), Some("w1"));
        assert_eq!(claimed.lease_until, Some(long_lease));

        assert!(
            store
                .claim_job("w2", t0(), lease(t0()))
                .await
                .unwrap()
                .is_none(),
            "the other job is not due yet"
        );
        let claimed = store.claim_job("w2", later, lease(later)).await.unwrap();
        assert_eq!(claimed.unwrap().dedupe_key, "later");
    }
}

#[tokio::test]
async fn concurrent_claims_never_hand_one_job_to_two_workers() {
    for (_keep, store) in backends().await {
        for n in 0..24 {
            store
                .enqueue_job(&new_job(&format!("job-{n}"), &["MSFT"], t0()), t0())
                .await
                .unwrap();
        }
        let mut workers = Vec::new();
        for w in 0..6 {
            let store: Arc<dyn Store> = store.clone();
            workers.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                let worker = format!("w{w}");
                while let Some(job) = store.claim_job(&worker, t0(), lease(t0())).await.unwrap() {
                    ids.push(job.id);
                }
                ids
            }));
        }
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        let unique: HashSet<_> = all.iter().collect();
        assert_eq!(all.len(), 24, "{}: every job claimed once", store.backend());
        assert_eq!(unique.len(), 24, "no job claimed twice");
        assert_eq!(store.job_counts(None).await.unwrap().running, 24);
    }
}

#[tokio::test]
async fn a_finished_job_records_its_outcome_and_only_its_worker_may_finish_it() {
    for (_keep, store) in backends().await {
        store
            .enqueue_job(&new_job("k", &["MSFT", "ZZZZ"], t0()), t0())
            .await
            .unwrap();
        let job = store
            .claim_job("w1", t0(), lease(t0()))
            .await
            .unwrap()
            .unwrap();
        let done = JobOutcome::Succeeded {
            bars_changed: 42,
            note: Some("skipped ZZZZ: unknown symbol".into()),
        };
        assert!(
            !store.finish_job(job.id, "w2", &done, t0()).await.unwrap(),
            "{}: another worker cannot finish it",
            store.backend()
        );
        let at = t0() + Duration::seconds(3);
        assert!(store.finish_job(job.id, "w1", &done, at).await.unwrap());
        let stored = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(stored.status, JobStatus::Succeeded);
        assert_eq!(stored.bars_changed, 42);
        assert_eq!(
            stored.last_error.as_deref(),
            Some("skipped ZZZZ: unknown symbol")
        );
        assert_eq!(stored.finished_at, Some(at));
        assert_eq!(stored.lease_until, None);
        assert!(
            !store.finish_job(job.id, "w1", &done, at).await.unwrap(),
            "a finished job cannot be finished again"
        );
        assert!(
            store
                .claim_job("w1", at, lease(at))
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_retried_job_waits_for_its_backoff_and_keeps_only_the_failed_symbols() {
    for (_keep, store) in backends().await {
        store
            .enqueue_job(&new_job("k", &["MSFT", "AAPL", "IBM"], t0()), t0())
            .await
            .unwrap();
        let job = store
            .claim_job("w1", t0(), lease(t0()))
            .await
            .unwrap()
            .unwrap();
        let retry_at = t0() + Duration::minutes(2);
        let retry = JobOutcome::Retry {
            bars_changed: 10,
            error: "alphavantage: rate limited".into(),
            symbols: symbols(&["AAPL"]),
            run_at: retry_at,
        };
        assert!(store.finish_job(job.id, "w1", &retry, t0()).await.unwrap());
        let queued = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(queued.status, JobStatus::Queued, "{}", store.backend());
        assert_eq!(queued.symbols, symbols(&["AAPL"]));
        assert_eq!(queued.run_at, retry_at);
        assert_eq!(
            queued.last_error.as_deref(),
            Some("alphavantage: rate limited")
        );
        assert_eq!(queued.finished_at, None);

        let early = retry_at - Duration::seconds(1);
        assert!(
            store
                .claim_job("w1", early, lease(early))
                .await
                .unwrap()
                .is_none()
        );
        let again = store
            .claim_job("w2", retry_at, lease(retry_at))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, job.id);
        assert_eq!(again.attempts, 2);
        let failed = JobOutcome::Failed {
            bars_changed: 0,
            error: "out of attempts".into(),
        };
        assert!(
            store
                .finish_job(job.id, "w2", &failed, retry_at)
                .await
                .unwrap()
        );
        let stored = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(stored.status, JobStatus::Failed);
        assert_eq!(stored.bars_changed, 10, "bars of every attempt add up");
        assert_eq!(stored.last_error.as_deref(), Some("out of attempts"));
    }
}

#[tokio::test]
async fn a_job_whose_worker_died_is_reclaimed_after_its_lease_and_the_dead_worker_loses_it() {
    for (_keep, store) in backends().await {
        store
            .enqueue_job(&new_job("k", &["MSFT"], t0()), t0())
            .await
            .unwrap();
        let job = store
            .claim_job("dead", t0(), lease(t0()))
            .await
            .unwrap()
            .unwrap();
        let renewed_until = lease(t0()) + Duration::seconds(30);
        assert!(
            store
                .renew_lease(job.id, "dead", renewed_until, t0())
                .await
                .unwrap()
        );
        let before = renewed_until - Duration::seconds(1);
        assert!(
            store
                .claim_job("w2", before, lease(before))
                .await
                .unwrap()
                .is_none(),
            "{}: a held lease is respected",
            store.backend()
        );
        let after = renewed_until + Duration::seconds(1);
        let reclaimed = store
            .claim_job("w2", after, lease(after))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reclaimed.id, job.id);
        assert_eq!(reclaimed.attempts, 2);
        assert_eq!(reclaimed.worker.as_deref(), Some("w2"));

        let done = JobOutcome::Succeeded {
            bars_changed: 1,
            note: None,
        };
        assert!(
            !store
                .renew_lease(job.id, "dead", after, after)
                .await
                .unwrap()
        );
        assert!(
            !store
                .finish_job(job.id, "dead", &done, after)
                .await
                .unwrap()
        );
        assert!(store.finish_job(job.id, "w2", &done, after).await.unwrap());
        assert_eq!(store.job_counts(None).await.unwrap().succeeded, 1);
    }
}

#[tokio::test]
async fn a_job_abandoned_on_its_last_attempt_is_failed_not_retried_forever() {
    for (_keep, store) in backends().await {
        let mut last_chance = new_job("k", &["MSFT"], t0());
        last_chance.max_attempts = 1;
        store.enqueue_job(&last_chance, t0()).await.unwrap();
        let job = store
            .claim_job("dead", t0(), lease(t0()))
            .await
            .unwrap()
            .unwrap();
        let after = lease(t0()) + Duration::seconds(1);
        assert_eq!(
            store.fail_abandoned_jobs(t0()).await.unwrap(),
            0,
            "{}: its lease still holds",
            store.backend()
        );
        assert!(
            store
                .claim_job("w2", after, lease(after))
                .await
                .unwrap()
                .is_none(),
            "no attempts left: not reclaimed"
        );
        assert_eq!(store.fail_abandoned_jobs(after).await.unwrap(), 1);
        let stored = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(stored.status, JobStatus::Failed);
        assert!(
            stored.last_error.unwrap().contains("lease expired"),
            "the error says what happened"
        );
        assert_eq!(stored.finished_at, Some(after));
    }
}

#[tokio::test]
async fn jobs_are_listed_newest_first_and_counted_by_status_and_group() {
    for (_keep, store) in backends().await {
        for n in 0..3 {
            store
                .enqueue_job(&new_job(&format!("d{n}"), &["MSFT"], t0()), t0())
                .await
                .unwrap();
        }
        let mut backfill = new_job("b0", &["AAPL"], t0());
        backfill.kind = JobKind::Backfill;
        backfill.group = "backfill:x".into();
        backfill.from = Some("2010-01-04".parse().unwrap());
        store.enqueue_job(&backfill, t0()).await.unwrap();
        store
            .claim_job("w1", t0(), lease(t0()))
            .await
            .unwrap()
            .unwrap();

        let all = store.jobs(&JobFilter::default()).await.unwrap();
        let keys: Vec<&str> = all.iter().map(|j| j.dedupe_key.as_str()).collect();
        assert_eq!(keys, ["b0", "d2", "d1", "d0"], "{}", store.backend());
        assert_eq!(all[0].kind, JobKind::Backfill);
        assert_eq!(all[0].from, Some("2010-01-04".parse().unwrap()));

        let running = JobFilter {
            status: Some(JobStatus::Running),
            ..JobFilter::default()
        };
        let running = store.jobs(&running).await.unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].dedupe_key, "d0");
        let limited = JobFilter {
            group: Some("daily:2026-11-27".into()),
            limit: 2,
            ..JobFilter::default()
        };
        assert_eq!(store.jobs(&limited).await.unwrap().len(), 2);

        let counts = store.job_counts(None).await.unwrap();
        assert_eq!((counts.queued, counts.running), (3, 1));
        let backfill = store.job_counts(Some("backfill:x")).await.unwrap();
        assert_eq!((backfill.queued, backfill.pending()), (1, 1));
    }
}
