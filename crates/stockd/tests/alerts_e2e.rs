//! The alert path as a new user meets it, against the real binary: no configuration, register,
//! watch MSFT, add a webhook channel pointing at a local receiver, create a `crosses_up` and a
//! trailing rule, and see the webhooks arrive from the simulated feed. Then the crash case:
//! stockd killed with SIGKILL after a firing and before its delivery succeeded delivers it after
//! a restart, once per idempotency key. And one user's rule that cannot be evaluated (stored
//! before the API bounded its values) is set aside while every other user's rules fire.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::HashSet;
use std::time::Duration;
use support::nats_url;
use support::serve::{Server, User, accepting_receiver, set_up_alerts, wait_for};

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The idempotency keys of the requests `receiver` answered with `status`.
async fn keys(receiver: &MockServer) -> Vec<String> {
    receiver
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.headers.get("idempotency-key"))
        .map(|k| k.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_user_sees_crossing_and_trailing_alerts_arrive_from_the_simulated_feed() {
    let receiver = accepting_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let user = User::register(&server, "ann@example.com").await;
    set_up_alerts(&user, &receiver).await;

    wait_for(Duration::from_secs(60), "two webhooks", || async {
        receiver.received_requests().await.unwrap_or_default().len() >= 2
    })
    .await;
    let requests = receiver.received_requests().await.unwrap();
    let kinds: HashSet<String> = requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["symbol"], "MSFT");
            assert_eq!(body["source"], "sim", "the simulated feed is labelled");
            assert!(r.headers.contains_key("x-stockd-signature"));
            body["rule_id"].to_string()
        })
        .collect();
    assert_eq!(kinds.len(), 2, "both rules fired, each once");

    let (_, notifications) = user
        .call(reqwest::Method::GET, "/v1/notifications", None)
        .await;
    let notifications = notifications["notifications"].as_array().unwrap().clone();
    assert_eq!(notifications.len(), 2, "{notifications:?}");
    assert!(notifications.iter().all(|n| n["status"] == "delivered"));
}

#[tokio::test]
async fn a_firing_killed_before_delivery_is_delivered_after_a_restart_once_per_key() {
    let receiver = MockServer::start().await;
    // Down at first: the firing is stored and its delivery scheduled for retry.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .named("down")
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let user = User::register(&server, "ann@example.com").await;
    set_up_alerts(&user, &receiver).await;
    wait_for(
        Duration::from_secs(60),
        "a failed delivery attempt",
        || async { !keys(&receiver).await.is_empty() },
    )
    .await;
    // SIGKILL: no graceful anything.
    server.kill();
    let (_, events) = {
        let restarted = Server::start(dir.path()).await;
        receiver.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&receiver)
            .await;
        let user = User {
            base: restarted.base.clone(),
            ..user
        };
        wait_for(
            Duration::from_secs(60),
            "every notification delivered",
            || async {
                let (_, listed) = user
                    .call(reqwest::Method::GET, "/v1/notifications", None)
                    .await;
                listed["notifications"]
                    .as_array()
                    .is_some_and(|n| !n.is_empty() && n.iter().all(|n| n["status"] == "delivered"))
            },
        )
        .await;
        let events = user
            .call(reqwest::Method::GET, "/v1/alerts/events", None)
            .await;
        drop(restarted);
        events
    };
    let fired = events["events"].as_array().unwrap().len();
    let delivered = keys(&receiver).await;
    let unique: HashSet<&String> = delivered.iter().collect();
    assert_eq!(
        unique.len(),
        fired,
        "every firing reached the receiver after the restart"
    );
    assert_eq!(delivered.len(), unique.len(), "once per idempotency key");
}

#[tokio::test]
async fn two_replicas_on_postgres_and_nats_deliver_every_alert_once() {
    let (Some(admin_url), Some(nats)) = (common::postgres_admin_url(), nats_url()) else {
        return;
    };
    let prefix = format!("e2e{}", std::process::id());
    two_replicas_deliver_every_alert_once(
        &admin_url,
        &[
            ("STOCKD_NATS_URL", nats.as_str()),
            ("STOCKD_NATS_PREFIX", prefix.as_str()),
        ],
    )
    .await;
}

/// The same two replicas with Kafka as their bus (a build with `--features kafka`).
#[cfg(feature = "kafka")]
#[tokio::test]
async fn two_replicas_on_postgres_and_kafka_deliver_every_alert_once() {
    let (Some(admin_url), Some(brokers)) = (common::postgres_admin_url(), support::kafka_brokers())
    else {
        return;
    };
    let prefix = format!("e2ek{}", std::process::id());
    two_replicas_deliver_every_alert_once(
        &admin_url,
        &[
            ("STOCKD_KAFKA_BROKERS", brokers.as_str()),
            ("STOCKD_NATS_PREFIX", prefix.as_str()),
        ],
    )
    .await;
}

/// Two replicas on one PostgreSQL database and the bus `bus_env` sets: every alert is
/// delivered once, by one of the two dispatchers; one poller leads, and the other takes over
/// when its replica dies.
async fn two_replicas_deliver_every_alert_once(admin_url: &str, bus_env: &[(&str, &str)]) {
    let database = common::TestPostgres::create(admin_url).await;
    let receiver = accepting_receiver().await;
    let mut shared = vec![
        ("STOCKD_DATABASE_URL", database.url.as_str()),
        // The schedule's catch-up is not what this test is about.
        ("STOCKD_FEATURES__SCHEDULED_INGEST", "false"),
    ];
    shared.extend_from_slice(bus_env);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Both run a poller, as every alerts replica does in production: one leads at a time.
    let a = Server::start_with(dir_a.path(), &shared).await;
    let b = Server::start_with(dir_b.path(), &shared).await;

    let mut user = User::register(&b, "ann@example.com").await;
    let channel = set_up_alerts(&user, &receiver).await;
    wait_for(Duration::from_secs(90), "both alerts delivered", || {
        all_delivered(&user, 2)
    })
    .await;
    let keys_seen = keys(&receiver).await;
    let unique: HashSet<&String> = keys_seen.iter().collect();
    assert_eq!(unique.len(), 2, "two firings");
    assert_eq!(
        keys_seen.len(),
        2,
        "each delivered once, by one of the two dispatchers"
    );

    // Exactly one replica polls; when it dies the other takes the polling over.
    let (a_leads, b_leads) = (a.leads_quote_poller().await, b.leads_quote_poller().await);
    assert!(
        a_leads != b_leads,
        "one poller leads: a {a_leads}, b {b_leads}"
    );
    let survivor = if a_leads {
        a.kill();
        b
    } else {
        b.kill();
        a
    };
    user.base = survivor.base.clone();
    let (status, created) = user
        .call(
            reqwest::Method::POST,
            "/v1/alerts",
            Some(
                json!({"symbol": "MSFT", "kind": "trailing_stop", "percent": 0.1,
                        "side": "short", "frequency": "once", "channels": [channel]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    wait_for(
        Duration::from_secs(90),
        "an alert fired from the surviving replica's poller",
        || all_delivered(&user, 3),
    )
    .await;
    assert!(survivor.leads_quote_poller().await);
    assert_eq!(keys(&receiver).await.len(), 3);
}

/// Whether `user` has exactly `count` notifications, all delivered.
async fn all_delivered(user: &User, count: usize) -> bool {
    let (_, listed) = user
        .call(reqwest::Method::GET, "/v1/notifications", None)
        .await;
    listed["notifications"]
        .as_array()
        .is_some_and(|n| n.len() == count && n.iter().all(|n| n["status"] == "delivered"))
}

#[tokio::test]
async fn killed_during_evaluation_no_firing_is_lost_or_doubled() {
    use reqwest::Method;
    let receiver = accepting_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let user = User::register(&server, "ann@example.com").await;
    let (_, channel) = user
        .call(
            Method::POST,
            "/v1/me/channels",
            Some(json!({"kind": "webhook", "url": format!("{}/hook", receiver.uri())})),
        )
        .await;
    let (_, quote) = user.call(Method::GET, "/v1/stocks/MSFT/quote", None).await;
    // Fires on every crossing of the walk's start, at most once a second: many firings, each
    // one an event and a state change that must land together.
    let rule = json!({"symbol": "MSFT", "kind": "crosses", "price": quote["price"],
        "frequency": "every_time", "cooldown": "1s", "channels": [channel["id"]]});
    let (status, created) = user.call(Method::POST, "/v1/alerts", Some(rule)).await;
    assert_eq!(status, 201, "{created}");
    let rule_id = created["id"].as_i64().unwrap();

    // SIGKILL three times while ticks are being evaluated (right after a firing lands),
    // restarting each time.
    let (mut server, mut user) = (server, user);
    for round in 0..4 {
        let before = events_of(&user).await.len();
        wait_for(
            Duration::from_secs(60),
            &format!("a firing after start {round}"),
            || async { events_of(&user).await.len() > before },
        )
        .await;
        if round == 3 {
            // The last start fired too: evaluation resumed after every kill.
            break;
        }
        server.kill();
        server = Server::start(dir.path()).await;
        user = User {
            base: server.base.clone(),
            ..user
        };
    }
    // The rule keeps firing: compare a snapshot its fire count did not move across.
    let uri = format!("/v1/alerts/{rule_id}");
    let mut seen = Vec::new();
    let (rule, events) = loop {
        let (_, rule) = user.call(Method::GET, &uri, None).await;
        let events = events_of(&user).await;
        let (_, after) = user.call(Method::GET, &uri, None).await;
        if rule["state"]["fire_count"] == after["state"]["fire_count"] {
            break (rule, events);
        }
        seen.push(after["state"]["fire_count"].clone());
        assert!(seen.len() < 50, "the fire count never held still: {seen:?}");
    };
    drop(server);
    let keys: HashSet<String> = events
        .iter()
        .map(|e| format!("{}:{}", e["rule_id"], e["quote_at"]))
        .collect();
    assert!(!events.is_empty(), "the rule fired");
    assert_eq!(keys.len(), events.len(), "no tick fired twice");
    // The state's fire count is written in the same transaction as each event: equal counts
    // mean no firing was recorded without its state, or the other way round.
    assert_eq!(
        rule["state"]["fire_count"].as_u64().unwrap() as usize,
        events.len(),
        "{rule}"
    );
}

/// The caller's alert firings (up to 1000).
async fn events_of(user: &User) -> Vec<Value> {
    let (_, events) = user
        .call(reqwest::Method::GET, "/v1/alerts/events?limit=1000", None)
        .await;
    events["events"].as_array().cloned().unwrap_or_default()
}

/// The security report's rule (a cooldown of 99 999 999 999 days) panicked the evaluator at its
/// first fire, before and after every restart, while `/ready` said ready. Stored straight into
/// the database (as a build before the API bounded cooldowns accepted it), it is now set aside
/// with its reason and everyone else's alerts keep arriving.
#[tokio::test]
async fn a_rule_stored_out_of_range_is_set_aside_and_other_users_alerts_still_arrive() {
    use reqwest::Method;
    use store::{AlertStore, NewRule, RuleStatus};
    let receiver = accepting_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let mallory = User::register(&server, "mallory@example.com").await;
    let (_, me) = mallory.call(Method::GET, "/v1/me", None).await;
    let database = store::SqliteStore::open(&dir.path().join("stockd.db"))
        .await
        .unwrap();
    let rule = database
        .create_rule(
            &NewRule {
                user_id: me["id"].as_str().unwrap().to_owned(),
                symbol: domain::Symbol::parse("MSFT").unwrap(),
                definition: json!({"symbol": "MSFT", "kind": "above", "price": 5,
                    "frequency": "every_time", "cooldown": "99999999999d"}),
                state: json!({"armed": true, "last_price": null, "last_at": null,
                    "last_fired_at": null, "fired_day": null, "cooldown_until": null}),
                status: RuleStatus::Active,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();

    let ann = User::register(&server, "ann@example.com").await;
    set_up_alerts(&ann, &receiver).await;
    wait_for(Duration::from_secs(60), "Ann's two webhooks", || async {
        receiver.received_requests().await.unwrap_or_default().len() >= 2
    })
    .await;
    let uri = format!("/v1/alerts/{}", rule.id);
    let (_, read) = mallory.call(Method::GET, &uri, None).await;
    assert_eq!(read["status"], "set_aside", "{read}");
    assert!(
        read["error"].as_str().unwrap().starts_with("cooldown: "),
        "{read}"
    );
    let ready = reqwest::get(format!("{}/ready", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "the evaluator runs");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"stock_api_alert_rule_errors_total{reason="out_of_range"} 1"#),
        "{metrics}"
    );

    // After a restart the rule stays aside and nothing panics.
    server.kill();
    let restarted = Server::start(dir.path()).await;
    let mallory = User {
        base: restarted.base.clone(),
        ..mallory
    };
    wait_for(
        Duration::from_secs(30),
        "ready after the restart",
        || async {
            reqwest::get(format!("{}/ready", restarted.base))
                .await
                .is_ok_and(|r| r.status() == 200)
        },
    )
    .await;
    let (_, read) = mallory.call(Method::GET, &uri, None).await;
    assert_eq!(read["status"], "set_aside", "{read}");
}
