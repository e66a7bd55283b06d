//! Alert rules, their events, dry runs and the delivery log over HTTP: every kind from the
//! issue's examples, 422s naming their field, the rule's live state, backtests over the bundled
//! MSFT history, and owner scoping (user B gets 404 for everything of user A's). Firings are
//! written straight into the store, as the engine would, so these tests need no engine.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use store::{DeliveryOutcome, RuleCheckpoint, RuleStatus, TriggerRecord};

use crate::accounts::{App, created_user_id};
use crate::helpers::csv_closes;

/// A signed-in user and one of their channels.
pub(crate) struct Owner {
    pub(crate) token: String,
    pub(crate) id: String,
    pub(crate) channel: String,
}

pub(crate) async fn owner(app: &App, email: &str) -> Owner {
    let token = app.user(email).await;
    let channel = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&token),
            Some(json!({"kind": "email", "address": email})),
        )
        .await;
    assert_eq!(channel.status, 201, "{}", channel.text());
    Owner {
        id: created_user_id(app, &token).await,
        channel: channel.json()["id"].as_str().unwrap().to_owned(),
        token,
    }
}

/// The issue's `crosses_up` example, on `channel`.
pub(crate) fn crosses_up(channel: &str) -> Value {
    json!({"symbol": "MSFT", "kind": "crosses_up", "price": 420.0, "frequency": "once", "channels": [channel]})
}

fn trailing(channel: &str, percent: u32) -> Value {
    json!({"symbol": "MSFT", "kind": "trailing_stop", "percent": percent, "activation_price": 450,
           "frequency": "once", "channels": [channel]})
}

pub(crate) async fn create(app: &App, who: &Owner, body: Value) -> Value {
    let created = app
        .send("POST", "/v1/alerts", Some(&who.token), Some(body.clone()))
        .await;
    assert_eq!(created.status, 201, "{body}: {}", created.text());
    created.json()
}

pub(crate) fn id(rule: &Value) -> i64 {
    rule["id"].as_i64().unwrap()
}

/// The rule's version (`updated_at`), which the engine's writes are guarded by.
fn version(rule: &Value) -> DateTime<Utc> {
    rule["updated_at"].as_str().unwrap().parse().unwrap()
}

/// A firing of `rule` as the engine records it (event + outbox row + new state at once).
fn firing(rule: &Value, who: &Owner, at: DateTime<Utc>) -> TriggerRecord {
    let rule_id = id(rule);
    TriggerRecord {
        rule_id,
        rule_version: version(rule),
        user_id: who.id.clone(),
        symbol: domain::Symbol::parse("MSFT").unwrap(),
        price: "421.30".parse().unwrap(),
        quote_at: at,
        dedupe_key: format!("r{rule_id}:{}", at.to_rfc3339()),
        message: "MSFT crossed above 420.00 (now 421.30)".into(),
        state: json!({"armed": false, "expired": false, "last_price": 421.3, "last_at": at,
                      "last_fired_at": at, "fired_day": null, "cooldown_until": null,
                      "activated": false, "extreme": null, "fire_count": 1}),
        status: RuleStatus::Disarmed,
        channel_ids: vec![who.channel.clone()],
        payload: json!({"symbol": "MSFT", "price": 421.3}),
    }
}

#[tokio::test]
async fn every_kind_of_the_issue_is_created_armed_and_listed() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;

    let rule = create(&app, &ada, crosses_up(&ada.channel)).await;
    assert_eq!(rule["symbol"], "MSFT");
    assert_eq!(rule["kind"], "crosses_up");
    assert_eq!(rule["price"], 420.0);
    assert_eq!(rule["frequency"], "once");
    assert_eq!(rule["channels"], json!([ada.channel]));
    assert_eq!(rule["status"], "active");
    assert_eq!(rule["state"]["armed"], true);
    assert_eq!(rule["state"]["fire_count"], 0);
    assert_eq!(rule["state"]["last_price"], Value::Null);
    assert_eq!(rule["state"]["trigger_level"], Value::Null);
    assert!(rule["created_at"].is_string() && rule["updated_at"].is_string());

    let moves = create(
        &app,
        &ada,
        json!({"symbol": "MSFT", "kind": "moves_down_pct", "percent": 5, "window_days": 3,
               "frequency": "once_per_day", "channels": [ada.channel]}),
    )
    .await;
    assert_eq!(moves["percent"], 5.0);
    assert_eq!(moves["window_days"], 3);
    let stop = create(&app, &ada, trailing(&ada.channel, 8)).await;
    assert_eq!(stop["activation_price"], 450.0);
    assert_eq!(stop["side"], "long");
    assert_eq!(stop["state"]["extreme"], Value::Null);
    let expires = (Utc::now() + Duration::days(30)).to_rfc3339();
    let every = create(
        &app,
        &ada,
        json!({"symbol": "IBM", "kind": "above", "price": 500, "frequency": "every_time",
               "cooldown": "15m", "channels": [], "expires_at": expires}),
    )
    .await;
    assert_eq!(every["cooldown"], "15m");
    assert!(every["expires_at"].is_string());
    for kind in ["below", "crosses_down", "crosses"] {
        create(
            &app,
            &ada,
            json!({"symbol": "MSFT", "kind": kind, "price": 30, "frequency": "once", "channels": []}),
        )
        .await;
    }
    create(
        &app,
        &ada,
        json!({"symbol": "MSFT", "kind": "moves_up_pct", "percent": 2.5, "vs_previous_close": true,
               "frequency": "once", "channels": []}),
    )
    .await;

    let list = app.send("GET", "/v1/alerts", Some(&ada.token), None).await;
    assert_eq!(list.status, 200);
    let kinds: Vec<Value> = list.json()["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "crosses_up",
            "moves_down_pct",
            "trailing_stop",
            "above",
            "below",
            "crosses_down",
            "crosses",
            "moves_up_pct"
        ]
    );
    let read = app
        .send(
            "GET",
            &format!("/v1/alerts/{}", id(&stop)),
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), stop);
}

#[tokio::test]
async fn invalid_rules_answer_422_naming_every_field_at_fault() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let bob = owner(&app, "bob@example.com").await;
    let rule = |extra: Value| {
        let mut body = crosses_up(&ada.channel);
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    for (body, expected) in [
        (
            json!({"symbol": "MSFT", "kind": "moves_down_pct", "percent": -5, "window_days": 3,
                   "frequency": "once", "channels": []}),
            vec!["percent"],
        ),
        (rule(json!({"price": 0})), vec!["price"]),
        (rule(json!({"price": -1.5})), vec!["price"]),
        (rule(json!({"symbol": "ZZZZ"})), vec!["symbol", "ZZZZ"]),
        (rule(json!({"channels": ["nope"]})), vec!["channels[0]"]),
        // Bob's channel is not Ada's.
        (
            rule(json!({"channels": [ada.channel, bob.channel]})),
            vec!["channels[1]"],
        ),
        (
            rule(json!({"kind": "pigeon"})),
            vec!["kind", "pigeon", "crosses_up", "trailing_stop"],
        ),
        (
            json!({"symbol": "MSFT", "price": 1, "frequency": "once"}),
            vec!["kind"],
        ),
        (rule(json!({"frequency": "every_time"})), vec!["cooldown"]),
        (rule(json!({"expires_at": past})), vec!["expires_at"]),
        // Values that do not parse are named too, with what to write instead.
        (
            rule(json!({"frequency": "every_time", "cooldown": "abc"})),
            vec!["cooldown: 'abc' is not a duration", "2h"],
        ),
        (
            json!({"symbol": "MSFT", "kind": "moves_up_pct", "percent": 5, "window": "soon",
                   "frequency": "once", "channels": []}),
            vec!["window: 'soon' is not a duration"],
        ),
        (
            rule(json!({"expires_at": "tomorrow"})),
            vec!["expires_at: ", "RFC 3339"],
        ),
        (
            json!({"symbol": "MSFT", "kind": "trailing_stop", "frequency": "once"}),
            vec!["percent"],
        ),
        // Every problem at once.
        (
            rule(json!({"price": -1, "channels": ["nope"], "symbol": "ZZZZ"})),
            vec!["price", "channels[0]", "symbol"],
        ),
    ] {
        let response = app
            .send("POST", "/v1/alerts", Some(&ada.token), Some(body.clone()))
            .await;
        let detail = response.problem(422);
        for word in expected {
            assert!(detail.contains(word), "{body}: {detail} lacks {word}");
        }
        // The dry run takes the same body and the same checks.
        let dry = app
            .send(
                "POST",
                "/v1/alerts/backtest",
                Some(&ada.token),
                Some(body.clone()),
            )
            .await;
        dry.problem(422);
    }
    let list = app.send("GET", "/v1/alerts", Some(&ada.token), None).await;
    assert_eq!(list.json()["alerts"], json!([]), "nothing was stored");
    app.send("GET", "/v1/alerts", None, None).await.problem(401);
    app.send("POST", "/v1/alerts", None, Some(crosses_up(&ada.channel)))
        .await
        .problem(401);
}

#[tokio::test]
async fn a_rule_notifies_at_most_twenty_channels() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let mut body = crosses_up(&ada.channel);
    body["channels"] = json!((0..1000).map(|i| format!("ch_{i}")).collect::<Vec<_>>());
    for path in ["/v1/alerts", "/v1/alerts/backtest"] {
        let response = app
            .send("POST", path, Some(&ada.token), Some(body.clone()))
            .await;
        let detail = response.problem(422);
        assert!(
            detail.contains("channels: at most 20 per rule (got 1000)"),
            "{path}: {detail}"
        );
        assert!(!detail.contains("channels[0]"), "{path}: {detail}");
    }
    let twenty: Vec<String> = (0..20).map(|i| format!("ch_{i}")).collect();
    body["channels"] = json!(twenty);
    let detail = app
        .send("POST", "/v1/alerts", Some(&ada.token), Some(body))
        .await
        .problem(422);
    assert!(!detail.contains("at most"), "{detail}");
    assert!(detail.contains("channels[19]"), "{detail}");
}

#[tokio::test]
async fn replace_keeps_state_unless_the_condition_changes_and_resume_rearms() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let stop = create(&app, &ada, trailing(&ada.channel, 8)).await;
    let uri = format!("/v1/alerts/{}", id(&stop));

    // What the engine would have checkpointed after MSFT reached 460.
    let seen = json!({"armed": true, "expired": false, "last_price": 455.0,
                      "last_at": "2026-11-27T15:30:00Z", "last_fired_at": null, "fired_day": null,
                      "cooldown_until": null, "activated": true, "extreme": 460.0, "fire_count": 0});
    app.store
        .checkpoint_rules(
            &[RuleCheckpoint {
                rule_id: id(&stop),
                version: version(&stop),
                state: seen,
                status: RuleStatus::Active,
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    let read = app.send("GET", &uri, Some(&ada.token), None).await.json();
    assert_eq!(read["state"]["extreme"], 460.0);
    assert_eq!(read["state"]["last_price"], 455.0);
    assert_eq!(read["state"]["activated"], true);
    assert_eq!(read["state"]["trigger_level"], 423.2, "8 % under 460");

    // A new frequency is not a new condition: the peak is kept.
    let mut body = trailing(&ada.channel, 8);
    body["frequency"] = json!("once_per_day");
    let replaced = app.send("PUT", &uri, Some(&ada.token), Some(body)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let replaced = replaced.json();
    assert_eq!(replaced["frequency"], "once_per_day");
    assert_eq!(replaced["state"]["extreme"], 460.0);
    assert_eq!(replaced["state"]["trigger_level"], 423.2);
    // A new percent is: the stop starts again.
    let replaced = app
        .send(
            "PUT",
            &uri,
            Some(&ada.token),
            Some(trailing(&ada.channel, 10)),
        )
        .await
        .json();
    assert_eq!(replaced["percent"], 10.0);
    assert_eq!(replaced["state"]["extreme"], Value::Null);
    assert_eq!(replaced["state"]["trigger_level"], Value::Null);
    let invalid = app
        .send(
            "PUT",
            &uri,
            Some(&ada.token),
            Some(trailing(&ada.channel, 0)),
        )
        .await;
    assert!(invalid.problem(422).contains("percent"));

    let paused = app
        .send("POST", &format!("{uri}/pause"), Some(&ada.token), None)
        .await;
    assert_eq!(paused.status, 200);
    assert_eq!(paused.json()["status"], "paused");
    let resumed = app
        .send("POST", &format!("{uri}/resume"), Some(&ada.token), None)
        .await
        .json();
    assert_eq!(resumed["status"], "active");

    // A `once` rule that fired is disarmed; resuming re-arms it from scratch.
    let rule = create(&app, &ada, crosses_up(&ada.channel)).await;
    let fired = app
        .store
        .record_trigger(&firing(&rule, &ada, Utc::now()), Utc::now())
        .await
        .unwrap();
    assert!(fired.is_some());
    let rule_uri = format!("/v1/alerts/{}", id(&rule));
    let read = app
        .send("GET", &rule_uri, Some(&ada.token), None)
        .await
        .json();
    assert_eq!(read["status"], "disarmed");
    assert_eq!(read["state"]["armed"], false);
    assert_eq!(read["state"]["fire_count"], 1);
    assert_eq!(read["state"]["last_price"], 421.3);
    assert!(read["state"]["last_fired_at"].is_string());
    let resumed = app
        .send(
            "POST",
            &format!("{rule_uri}/resume"),
            Some(&ada.token),
            None,
        )
        .await
        .json();
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["state"]["armed"], true);
    assert_eq!(resumed["state"]["fire_count"], 0);

    assert_eq!(
        app.send("DELETE", &uri, Some(&ada.token), None)
            .await
            .status,
        204
    );
    app.send("GET", &uri, Some(&ada.token), None)
        .await
        .problem(404);
    app.send("GET", "/v1/alerts/not-a-number", Some(&ada.token), None)
        .await
        .problem(404);
}

#[tokio::test]
async fn the_dry_run_replays_the_bundled_history() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    // MSFT's high first reached 28.10 on 2013-02-13 (28.11) after February began below it.
    let body = json!({"symbol": "MSFT", "kind": "crosses_up", "price": 28.10, "frequency": "once",
                      "channels": [ada.channel]});
    let dry = app
        .send(
            "POST",
            "/v1/alerts/backtest?from=2013-02-01",
            Some(&ada.token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry = dry.json();
    let february_on = csv_closes("MSFT")
        .iter()
        .filter(|(date, _)| date.as_str() >= "2013-02-01")
        .count();
    assert_eq!(dry["bars"], february_on);
    assert_eq!(dry["from"], "2013-02-01");
    assert_eq!(dry["source"], "sample");
    assert_eq!(dry["fires"].as_array().unwrap().len(), 1, "{dry}");
    assert_eq!(dry["fires"][0]["date"], "2013-02-13");
    assert_eq!(dry["fires"][0]["price"], 28.11);
    assert_eq!(
        dry["fires"][0]["message"],
        "MSFT crossed above 28.10 (now 28.11)"
    );
    // The bar closed up, so its high is the third tick (14:00 New York, 19:00 UTC in winter).
    assert_eq!(dry["fires"][0]["at"], "2013-02-13T19:00:00Z");
    // Before it, nothing; `every_time` fires again on later crossings.
    let none = app
        .send(
            "POST",
            "/v1/alerts/backtest?from=2013-02-01&to=2013-02-12",
            Some(&ada.token),
            Some(body.clone()),
        )
        .await
        .json();
    assert_eq!(none["fires"], json!([]));
    assert_eq!(none["to"], "2013-02-12");
    app.send(
        "POST",
        "/v1/alerts/backtest?from=2013-03-01&to=2013-02-01",
        Some(&ada.token),
        Some(body.clone()),
    )
    .await
    .problem(400);
    app.send(
        "POST",
        "/v1/alerts/backtest?from=yesterday",
        Some(&ada.token),
        Some(body.clone()),
    )
    .await
    .problem(400);
    let listed = app.send("GET", "/v1/alerts", Some(&ada.token), None).await;
    assert_eq!(
        listed.json()["alerts"],
        json!([]),
        "a dry run stores nothing"
    );

    // A stored rule's dry run gives the same answer.
    let rule = create(&app, &ada, body).await;
    let stored = app
        .send(
            "POST",
            &format!("/v1/alerts/{}/backtest?from=2013-02-01", id(&rule)),
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json()["fires"], dry["fires"]);
}

#[tokio::test]
async fn events_and_the_delivery_log_are_visible_and_acknowledged() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let rule = create(&app, &ada, crosses_up(&ada.channel)).await;
    let first = Utc::now() - Duration::minutes(5);
    let second = Utc::now();
    for at in [first, second] {
        let mut fired = firing(&rule, &ada, at);
        if at == first {
            // Stays armed (as an `every_time` rule would), so the rule can fire again: a
            // disarmed rule fires nothing.
            fired.status = RuleStatus::Active;
            fired.state["armed"] = json!(true);
        }
        app.store.record_trigger(&fired, at).await.unwrap().unwrap();
    }

    let events = app
        .send("GET", "/v1/alerts/events", Some(&ada.token), None)
        .await;
    assert_eq!(events.status, 200, "{}", events.text());
    let events = events.json()["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 2);
    assert_eq!(events[0]["rule_id"], id(&rule));
    assert_eq!(events[0]["symbol"], "MSFT");
    assert_eq!(events[0]["price"], 421.3);
    assert_eq!(
        events[0]["message"],
        "MSFT crossed above 420.00 (now 421.30)"
    );
    assert_eq!(events[0]["acknowledged_at"], Value::Null);
    let newest: DateTime<Utc> = events[0]["quote_at"].as_str().unwrap().parse().unwrap();
    let oldest: DateTime<Utc> = events[1]["quote_at"].as_str().unwrap().parse().unwrap();
    assert!(newest > oldest, "newest first");
    let limited = app
        .send("GET", "/v1/alerts/events?limit=1", Some(&ada.token), None)
        .await
        .json();
    assert_eq!(limited["events"].as_array().unwrap().len(), 1);
    app.send("GET", "/v1/alerts/events?limit=0", Some(&ada.token), None)
        .await
        .problem(400);

    // The dispatcher's first attempt at the newest failed and will be retried.
    let log = app
        .send("GET", "/v1/notifications", Some(&ada.token), None)
        .await;
    assert_eq!(log.status, 200, "{}", log.text());
    let log = log.json()["notifications"].clone();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[0]["channel_id"], ada.channel.as_str());
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["attempts"], 0);
    let notification = log[0]["id"].as_str().unwrap().to_owned();
    let attempts_uri = format!("/v1/notifications/{notification}/attempts");
    let none = app.send("GET", &attempts_uri, Some(&ada.token), None).await;
    assert_eq!(none.status, 200, "{}", none.text());
    assert_eq!(none.json()["attempts"], json!([]));

    let now = Utc::now();
    let claimed = app
        .store
        .claim_notifications("d1", now, now + Duration::seconds(30), 10)
        .await
        .unwrap();
    let retry = DeliveryOutcome::Retry {
        error: "HTTP 500 from the receiver".into(),
        at: now + Duration::minutes(1),
    };
    for claim in &claimed {
        assert!(
            app.store
                .finish_notification(&claim.id, "d1", &retry, now)
                .await
                .unwrap()
        );
    }
    let attempts = app
        .send("GET", &attempts_uri, Some(&ada.token), None)
        .await
        .json();
    assert_eq!(attempts["attempts"][0]["attempt"], 1);
    assert_eq!(attempts["attempts"][0]["outcome"], "retry");
    assert_eq!(
        attempts["attempts"][0]["error"],
        "HTTP 500 from the receiver"
    );
    let log = app
        .send("GET", "/v1/notifications", Some(&ada.token), None)
        .await
        .json();
    assert_eq!(log["notifications"][0]["attempts"], 1);
    assert_eq!(
        log["notifications"][0]["last_error"],
        "HTTP 500 from the receiver"
    );
    app.send(
        "GET",
        "/v1/notifications/no-such-id/attempts",
        Some(&ada.token),
        None,
    )
    .await
    .problem(404);

    // One event by its id, then the rest of the rule's.
    let event = events[0]["id"].as_str().unwrap();
    let acked = app
        .send(
            "POST",
            &format!("/v1/alerts/events/{event}/acknowledge"),
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(acked.status, 204, "{}", acked.text());
    let rest = app
        .send(
            "POST",
            &format!("/v1/alerts/{}/acknowledge", id(&rule)),
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(rest.status, 200, "{}", rest.text());
    assert_eq!(rest.json()["acknowledged"], 1);
    let events = app
        .send("GET", "/v1/alerts/events", Some(&ada.token), None)
        .await
        .json();
    for event in events["events"].as_array().unwrap() {
        assert!(event["acknowledged_at"].is_string(), "{event}");
    }
}

#[tokio::test]
async fn another_users_rules_events_and_deliveries_answer_404() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let bob = owner(&app, "bob@example.com").await;
    let rule = create(&app, &ada, trailing(&ada.channel, 8)).await;
    let event = app
        .store
        .record_trigger(&firing(&rule, &ada, Utc::now()), Utc::now())
        .await
        .unwrap()
        .unwrap();
    let notifications = app.store.notifications(&ada.id, 10).await.unwrap();
    let notification = &notifications[0].id;

    let uri = format!("/v1/alerts/{}", id(&rule));
    let bobs_body = trailing(&bob.channel, 5);
    for (method, path, body) in [
        ("GET", uri.clone(), None),
        ("PUT", uri.clone(), Some(bobs_body.clone())),
        ("POST", format!("{uri}/pause"), None),
        ("POST", format!("{uri}/resume"), None),
        ("POST", format!("{uri}/backtest"), None),
        ("POST", format!("{uri}/acknowledge"), None),
        (
            "POST",
            format!("/v1/alerts/events/{}/acknowledge", event.id),
            None,
        ),
        (
            "GET",
            format!("/v1/notifications/{notification}/attempts"),
            None,
        ),
        ("DELETE", uri.clone(), None),
    ] {
        let response = app.send(method, &path, Some(&bob.token), body).await;
        response.problem(404);
    }
    for (path, key) in [
        ("/v1/alerts", "alerts"),
        ("/v1/alerts/events", "events"),
        ("/v1/notifications", "notifications"),
    ] {
        let listed = app.send("GET", path, Some(&bob.token), None).await;
        assert_eq!(listed.status, 200, "{path}");
        assert_eq!(listed.json()[key], json!([]), "{path}");
    }

    // Ada's rule, event and delivery are untouched.
    let read = app.send("GET", &uri, Some(&ada.token), None).await.json();
    assert_eq!(read["percent"], 8.0);
    assert_eq!(read["status"], "disarmed");
    let events = app
        .send("GET", "/v1/alerts/events", Some(&ada.token), None)
        .await
        .json();
    assert_eq!(events["events"][0]["acknowledged_at"], Value::Null);
    assert_eq!(app.store.notifications(&ada.id, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_alerts_flag_switches_every_route_off_and_the_document_lists_them() {
    let app = App::new().await;
    let document = app.send("GET", "/openapi.json", None, None).await.json();
    for path in [
        "/v1/alerts",
        "/v1/alerts/{id}",
        "/v1/alerts/{id}/pause",
        "/v1/alerts/{id}/resume",
        "/v1/alerts/{id}/acknowledge",
        "/v1/alerts/{id}/backtest",
        "/v1/alerts/backtest",
        "/v1/alerts/events",
        "/v1/alerts/events/{event_id}/acknowledge",
        "/v1/notifications",
        "/v1/notifications/{id}/attempts",
    ] {
        let item = &document["paths"][path];
        assert!(item.is_object(), "{path} is not documented");
        let operation = item.as_object().unwrap().values().next().unwrap();
        assert_eq!(operation["tags"], json!(["alerts"]), "{path}");
        assert!(operation["security"].is_array(), "{path}");
    }
    assert!(document["components"]["schemas"]["RuleResponse"].is_object());

    let settings = std::collections::BTreeMap::from([("alerts".to_owned(), false)]);
    let off = App::with(
        web::auth::LoginLimits::default(),
        web::features::Features::from_settings(&settings).unwrap(),
    )
    .await;
    let token = off.user("ada@example.com").await;
    for (method, path) in [
        ("GET", "/v1/alerts"),
        ("POST", "/v1/alerts"),
        ("POST", "/v1/alerts/backtest"),
        ("DELETE", "/v1/alerts/1"),
        ("GET", "/v1/notifications"),
    ] {
        let response = off.send(method, path, Some(&token), None).await;
        assert!(response.problem(404).contains("alerts"), "{method} {path}");
    }
}

/// Every daily call fails as a provider that is down does.
#[derive(Debug)]
struct Down;

#[async_trait::async_trait]
impl providers::MarketData for Down {
    fn name(&self) -> &'static str {
        "down"
    }

    async fn daily(
        &self,
        _symbol: domain::Symbol,
    ) -> Result<domain::Series, providers::ProviderError> {
        Err(providers::ProviderError::Upstream {
            provider: "down",
            detail: "HTTP 500".into(),
        })
    }

    async fn quote(
        &self,
        _symbol: domain::Symbol,
    ) -> Result<domain::Quote, providers::ProviderError> {
        Err(providers::ProviderError::Upstream {
            provider: "down",
            detail: "HTTP 500".into(),
        })
    }
}

#[tokio::test]
async fn a_provider_that_is_down_does_not_block_rules_but_fails_the_dry_run() {
    let app = App::with_provider(
        std::sync::Arc::new(Down),
        web::auth::AuthSettings::default(),
        web::features::Features::default(),
    )
    .await;
    let ada = owner(&app, "ada@example.com").await;
    let rule = create(&app, &ada, crosses_up(&ada.channel)).await;
    assert_eq!(rule["status"], "active");
    let dry = app
        .send(
            "POST",
            "/v1/alerts/backtest",
            Some(&ada.token),
            Some(crosses_up(&ada.channel)),
        )
        .await;
    dry.problem(502);
}
