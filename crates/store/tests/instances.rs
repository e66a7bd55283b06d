//! Instance heartbeats on every backend: a heartbeat inserts then refreshes one row (keeping
//! when the process started), the list is newest-started first, and long-silent instances are
//! forgotten.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::backends;
use store::Instance;

fn at(seconds: i64) -> DateTime<Utc> {
    "2026-12-03T12:00:00.250Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(seconds)
}

fn instance(id: &str, started: i64, seen: i64) -> Instance {
    Instance {
        id: id.into(),
        role: "all".into(),
        version: "0.1.0".into(),
        started_at: at(started),
        last_seen: at(seen),
    }
}

#[tokio::test]
async fn heartbeats_refresh_one_row_per_instance_and_old_ones_are_forgotten() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        assert!(store.instances().await.unwrap().is_empty(), "{backend}");
        store.record_heartbeat(&instance("a", 0, 0)).await.unwrap();
        store.record_heartbeat(&instance("b", 5, 5)).await.unwrap();
        // A later heartbeat of `a`: last_seen and role move, started_at stays the first.
        let mut again = instance("a", 99, 30);
        again.role = "api".into();
        again.version = "0.2.0".into();
        store.record_heartbeat(&again).await.unwrap();

        let listed = store.instances().await.unwrap();
        assert_eq!(listed.len(), 2, "{backend}: one row per instance");
        assert_eq!(
            listed[0],
            instance("b", 5, 5),
            "{backend}: newest started first"
        );
        assert_eq!(
            listed[1],
            Instance {
                id: "a".into(),
                role: "api".into(),
                version: "0.2.0".into(),
                started_at: at(0),
                last_seen: at(30),
            },
            "{backend}"
        );

        assert_eq!(
            store.forget_instances(at(10)).await.unwrap(),
            1,
            "{backend}"
        );
        let left: Vec<String> = store
            .instances()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(left, ["a"], "{backend}: b was last seen before the cut");
        assert_eq!(
            store.forget_instances(at(10)).await.unwrap(),
            0,
            "{backend}"
        );
    }
}
