//! Rules that could stop alerting for everyone: every value a rule carries is bounded (422
//! naming the field and its range) on create, replace and both dry runs; a field a rule does
//! not take is refused; a rule the engine set aside is shown with its reason until its owner
//! replaces or deletes it. The engine's verdict is written straight into the store, as the
//! evaluator would, so these tests need no evaluator.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use store::{NewRule, RuleStatus, SetAsideRecord, StoredRule};

use crate::accounts::App;
use crate::alerts::{Owner, create, crosses_up, id, owner};

/// The body of the security report: accepted before, it panicked the evaluator at its first
/// fire and no rule of any user fired again; the dry runs answered 500.
fn reported(channel: &str) -> Value {
    json!({"symbol": "MSFT", "kind": "above", "price": 5, "frequency": "every_time",
           "cooldown": "99999999999d", "channels": [channel]})
}

/// Stores `definition` as it is, past the API's checks (as a build before them did).
async fn stored_unchecked(app: &App, who: &Owner, definition: Value) -> StoredRule {
    let new = NewRule {
        user_id: who.id.clone(),
        symbol: domain::Symbol::parse("MSFT").unwrap(),
        definition,
        state: serde_json::to_value(alerts::RuleState::armed()).unwrap(),
        status: RuleStatus::Active,
    };
    app.store.create_rule(&new, Utc::now()).await.unwrap()
}

/// Sets `rule` aside with the reason the alert engine gives when loading it.
async fn set_aside_as_the_engine_would(app: &App, rule: &StoredRule) -> String {
    let mut engine = alerts::Engine::new();
    let parsed: alerts::Rule = serde_json::from_value(rule.definition.clone()).unwrap();
    engine.insert(rule.id, parsed, alerts::RuleState::armed());
    let reason = engine.take_set_aside().remove(0).reason;
    let record = SetAsideRecord {
        rule_id: rule.id,
        version: rule.updated_at,
        reason: reason.clone(),
    };
    app.store
        .set_aside_rules(&[record], Utc::now())
        .await
        .unwrap();
    reason
}

/// Replaces the rule at `uri` with a valid one: 200 and active again.
async fn replaced_with_a_valid_rule(app: &App, who: &Owner, uri: &str) -> Value {
    let replaced = app
        .send("PUT", uri, Some(&who.token), Some(crosses_up(&who.channel)))
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let replaced = replaced.json();
    assert_eq!(replaced["status"], "active");
    replaced
}

#[tokio::test]
async fn the_reported_rule_is_refused_on_create_replace_and_both_dry_runs() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let body = reported(&ada.channel);
    let valid = create(&app, &ada, crosses_up(&ada.channel)).await;
    let rule_uri = format!("/v1/alerts/{}", id(&valid));
    for (method, uri) in [
        ("POST", "/v1/alerts"),
        ("PUT", rule_uri.as_str()),
        ("POST", "/v1/alerts/backtest"),
    ] {
        let detail = app
            .send(method, uri, Some(&ada.token), Some(body.clone()))
            .await
            .problem(422);
        assert!(detail.starts_with("cooldown: "), "{method} {uri}: {detail}");
        assert!(
            detail.contains("between 1s and 366d"),
            "{method} {uri}: {detail}"
        );
    }
    let listed = app
        .send("GET", "/v1/alerts", Some(&ada.token), None)
        .await
        .json();
    assert_eq!(listed["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["alerts"][0]["kind"], "crosses_up",
        "the PUT changed nothing"
    );

    // The same rule stored before the bounds existed: its dry run names the field too.
    let old = stored_unchecked(&app, &ada, body).await;
    let detail = app
        .send(
            "POST",
            &format!("/v1/alerts/{}/backtest", old.id),
            Some(&ada.token),
            None,
        )
        .await
        .problem(422);
    assert!(detail.starts_with("cooldown: "), "{detail}");
    assert!(
        detail.contains(&format!("PUT /v1/alerts/{}", old.id)),
        "{detail}"
    );
}

#[tokio::test]
async fn every_value_a_rule_carries_is_bounded_and_named_with_its_range() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let far = (Utc::now() + Duration::days(11 * 366)).to_rfc3339();
    let cases = [
        (
            json!({"symbol": "MSFT", "kind": "above", "price": 1_000_000_000, "frequency": "every_time",
                   "cooldown": "367d", "expires_at": far}),
            vec![
                ("price", "at most 100000000"),
                ("cooldown", "between 1s and 366d"),
                ("expires_at", "at most 10 years ahead"),
            ],
        ),
        (
            json!({"symbol": "MSFT", "kind": "moves_up_pct", "percent": 5, "window": "30d",
                   "frequency": "once"}),
            vec![("window", "between 1s and 7d")],
        ),
        (
            json!({"symbol": "MSFT", "kind": "moves_down_pct", "percent": 5, "window_days": 100000,
                   "frequency": "once"}),
            vec![("window_days", "between 1 and 260")],
        ),
        (
            json!({"symbol": "MSFT", "kind": "trailing_stop", "amount": 900_000_000,
                   "activation_price": 9_000_000_000.0, "frequency": "once"}),
            vec![
                ("amount", "at most 100000000"),
                ("activation_price", "at most 100000000"),
            ],
        ),
    ];
    for (body, expected) in cases {
        for path in ["/v1/alerts", "/v1/alerts/backtest"] {
            let detail = app
                .send("POST", path, Some(&ada.token), Some(body.clone()))
                .await
                .problem(422);
            for (field, range) in &expected {
                let named = detail.split("; ").any(|problem| {
                    problem.starts_with(&format!("{field}: ")) && problem.contains(range)
                });
                assert!(named, "{path} {body}: {detail} lacks {field} ({range})");
            }
        }
    }
    let listed = app
        .send("GET", "/v1/alerts", Some(&ada.token), None)
        .await
        .json();
    assert_eq!(listed["alerts"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn a_field_the_rule_does_not_take_is_refused_by_name() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let valid = create(&app, &ada, crosses_up(&ada.channel)).await;
    let rule_uri = format!("/v1/alerts/{}", id(&valid));
    let expires = (Utc::now() + Duration::days(30)).to_rfc3339();
    // A misspelt `expires_at` used to be dropped: the rule never expired.
    let mut misspelt = crosses_up(&ada.channel);
    misspelt["expires"] = json!(expires);
    // `window` is a field of moves, not of crossings.
    let mut foreign = crosses_up(&ada.channel);
    foreign["window"] = json!("2h");
    for (body, field) in [(misspelt, "expires"), (foreign, "window")] {
        for (method, uri) in [
            ("POST", "/v1/alerts"),
            ("PUT", rule_uri.as_str()),
            ("POST", "/v1/alerts/backtest"),
        ] {
            let detail = app
                .send(method, uri, Some(&ada.token), Some(body.clone()))
                .await
                .problem(422);
            assert!(
                detail.starts_with(&format!("{field}: unknown field")),
                "{method} {uri}: {detail}"
            );
            // The fields it does take are listed, so the typo is easy to fix.
            assert!(detail.contains("expires_at"), "{detail}");
            assert!(detail.contains("price"), "{detail}");
        }
    }
    let read = app
        .send("GET", &rule_uri, Some(&ada.token), None)
        .await
        .json();
    assert_eq!(read, valid, "the refused PUTs changed nothing");
}

#[tokio::test]
async fn a_rule_set_aside_shows_why_until_its_owner_replaces_or_deletes_it() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let healthy = create(&app, &ada, crosses_up(&ada.channel)).await;
    let old = stored_unchecked(&app, &ada, reported(&ada.channel)).await;
    let reason = set_aside_as_the_engine_would(&app, &old).await;
    assert!(reason.starts_with("cooldown: "), "{reason}");
    let uri = format!("/v1/alerts/{}", old.id);

    let read = app.send("GET", &uri, Some(&ada.token), None).await;
    assert_eq!(read.status, 200, "{}", read.text());
    let read = read.json();
    assert_eq!(read["status"], "set_aside");
    assert_eq!(read["error"], reason.as_str());
    assert!(read["set_aside_at"].is_string());
    assert_eq!(
        read["cooldown"], old.definition["cooldown"],
        "shown as stored"
    );
    let listed = app
        .send("GET", "/v1/alerts", Some(&ada.token), None)
        .await
        .json();
    let statuses: Vec<&Value> = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| &rule["status"])
        .collect();
    assert_eq!(statuses, ["active", "set_aside"]);
    assert_eq!(listed["alerts"][0]["id"], id(&healthy));
    assert!(listed["alerts"][0].get("error").is_none());

    // Replacing it with values in range clears the mark: it is evaluated again.
    let mut fixed = reported(&ada.channel);
    fixed["cooldown"] = json!("15m");
    let replaced = app.send("PUT", &uri, Some(&ada.token), Some(fixed)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let replaced = replaced.json();
    assert_eq!(replaced["status"], "active");
    assert!(replaced.get("error").is_none() && replaced.get("set_aside_at").is_none());
    let loaded: Vec<i64> = app
        .store
        .active_rules()
        .await
        .unwrap()
        .iter()
        .map(|rule| rule.id)
        .collect();
    assert_eq!(loaded, [id(&healthy), old.id]);

    // Set aside again, it can be deleted like any rule.
    let again = app.store.rule(&ada.id, old.id).await.unwrap().unwrap();
    app.store
        .set_aside_rules(
            &[SetAsideRecord {
                rule_id: again.id,
                version: again.updated_at,
                reason: "its evaluation failed (a bug)".into(),
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        app.send("GET", &uri, Some(&ada.token), None).await.json()["status"],
        "set_aside"
    );
    assert_eq!(
        app.send("DELETE", &uri, Some(&ada.token), None)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn a_rule_whose_stored_definition_cannot_be_read_is_listed_and_can_be_replaced() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let unreadable =
        stored_unchecked(&app, &ada, json!({"symbol": "MSFT", "kind": "pigeon"})).await;
    app.store
        .set_aside_rules(
            &[SetAsideRecord {
                rule_id: unreadable.id,
                version: unreadable.updated_at,
                reason: "its stored definition does not parse".into(),
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    let listed = app.send("GET", "/v1/alerts", Some(&ada.token), None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed["alerts"][0]["status"], "set_aside");
    assert_eq!(listed["alerts"][0]["kind"], "pigeon");
    let uri = format!("/v1/alerts/{}", unreadable.id);
    app.send("POST", &format!("{uri}/backtest"), Some(&ada.token), None)
        .await
        .problem(409);
    replaced_with_a_valid_rule(&app, &ada, &uri).await;
}

#[tokio::test]
async fn a_rule_whose_stored_state_cannot_be_read_needs_its_owner_and_is_never_re_armed_by_resume()
{
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    // A `once` rule that fired, whose state no longer reads (a manual edit, a bad migration).
    let new = NewRule {
        user_id: ada.id.clone(),
        symbol: domain::Symbol::parse("MSFT").unwrap(),
        definition: crosses_up(&ada.channel),
        state: json!({"armed": "perhaps", "fire_count": 1}),
        status: RuleStatus::Active,
    };
    let rule = app.store.create_rule(&new, Utc::now()).await.unwrap();
    // What the evaluator writes when it loads it.
    let reason = "its stored state does not parse (invalid type); replace it";
    app.store
        .set_aside_rules(
            &[SetAsideRecord {
                rule_id: rule.id,
                version: rule.updated_at,
                reason: reason.into(),
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    let uri = format!("/v1/alerts/{}", rule.id);

    let read = app.send("GET", &uri, Some(&ada.token), None).await;
    assert_eq!(read.status, 200, "{}", read.text());
    let read = read.json();
    assert_eq!(read["status"], "set_aside", "{read}");
    assert_eq!(read["error"], reason);
    assert_eq!(read["state"], Value::Null, "{read}");
    let listed = app.send("GET", "/v1/alerts", Some(&ada.token), None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["alerts"][0]["status"], "set_aside");

    // Resuming cannot know whether the rule already fired: refused, nothing re-armed.
    let resumed = app
        .send("POST", &format!("{uri}/resume"), Some(&ada.token), None)
        .await;
    resumed.problem(409);
    let detail = resumed.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("stored state"), "{detail}");
    let stored = app.store.rule(&ada.id, rule.id).await.unwrap().unwrap();
    assert_eq!(stored.state, new.state, "the state is left as it was");
    assert!(stored.set_aside.is_some());

    // Replacing it starts it again from a fresh, armed state.
    let replaced = replaced_with_a_valid_rule(&app, &ada, &uri).await;
    assert_eq!(replaced["state"]["armed"], true, "{replaced}");
}
