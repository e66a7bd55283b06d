//! `GET /v1/ingest/jobs`: the queue as operators see it.

use std::sync::Arc;

use chrono::{Duration, Utc};
use domain::Symbol;
use store::{JobKind, JobOutcome, NewJob};

use crate::helpers::{TestApp, market_config};

fn job(key: &str, symbols: &[&str]) -> NewJob {
    NewJob {
        kind: JobKind::Daily,
        group: "daily:2026-11-27".into(),
        dedupe_key: key.into(),
        symbols: symbols.iter().map(|s| Symbol::parse(s).unwrap()).collect(),
        from: None,
        to: Some("2026-11-27".parse().unwrap()),
        max_attempts: 1,
        run_at: Utc::now() - Duration::seconds(1),
    }
}

#[tokio::test]
async fn the_queue_lists_counts_and_jobs_with_their_last_error() {
    let app = TestApp::sample().await;
    let store = app.store.clone();
    let now = Utc::now();
    store.enqueue_job(&job("a", &["MSFT"]), now).await.unwrap();
    store
        .enqueue_job(&job("b", &["IBM", "AAPL"]), now)
        .await
        .unwrap();
    let claimed = store
        .claim_job("w1", now, now + Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    let failed = JobOutcome::Failed {
        bars_changed: 0,
        error: "MSFT: alphavantage is rate limited".into(),
    };
    assert!(
        store
            .finish_job(claimed.id, "w1", &failed, now)
            .await
            .unwrap()
    );

    let all = app.get("/v1/ingest/jobs").await;
    assert_eq!(all.status, 200, "{}", all.text());
    let body = all.json();
    assert_eq!(body["counts"]["queued"], 1);
    assert_eq!(body["counts"]["failed"], 1);
    assert_eq!(body["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(
        body["jobs"][0]["symbols"],
        serde_json::json!(["IBM", "AAPL"])
    );

    let only_failed = app
        .get("/v1/ingest/jobs?status=failed&limit=5")
        .await
        .json();
    let jobs = only_failed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["status"], "failed");
    assert_eq!(jobs[0]["kind"], "daily");
    assert_eq!(jobs[0]["attempts"], 1);
    assert_eq!(jobs[0]["last_error"], "MSFT: alphavantage is rate limited");
    assert!(jobs[0]["finished_at"].is_string());

    let other_group = app
        .get("/v1/ingest/jobs?group=daily:2020-01-02")
        .await
        .json();
    assert_eq!(other_group["jobs"].as_array().unwrap().len(), 0);
    assert_eq!(other_group["counts"]["failed"], 0);
}

#[tokio::test]
async fn bad_filters_say_what_to_write() {
    let app = TestApp::sample().await;
    let status = app.get("/v1/ingest/jobs?status=paused").await;
    assert!(
        status
            .problem(400)
            .contains("queued, running, succeeded, failed"),
        "{}",
        status.text()
    );
    let limit = app.get("/v1/ingest/jobs?limit=0").await;
    assert!(limit.problem(400).contains("limit"), "{}", limit.text());
}

#[tokio::test]
async fn the_queue_can_be_switched_off() {
    let mut settings = std::collections::BTreeMap::new();
    settings.insert("ingest_api".to_owned(), false);
    let features = web::features::Features::from_settings(&settings).unwrap();
    let app = TestApp::with_features(
        Arc::new(providers::sample::Sample::new()),
        market_config(),
        features,
    )
    .await;
    let off = app.get("/v1/ingest/jobs").await;
    assert!(off.problem(404).contains("ingest_api"), "{}", off.text());
}
