//! The alert path's storage on every backend: owner-scoped rules, one-transaction firings that
//! a repeated tick cannot double, the outbox claimed under a lease, and the delivery log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::backends;
use domain::{Price, Symbol};
use serde_json::json;
use store::{
    ChannelTarget, DeliveryOutcome, NewRule, NewUser, NotificationStatus, RuleChange,
    RuleCheckpoint, RuleSetAside, RuleStatus, SetAsideRecord, Store, StoredRule, TriggerRecord,
};

fn t0() -> DateTime<Utc> {
    "2026-11-27T15:30:00Z".parse().unwrap()
}

fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

async fn user(store: &Arc<dyn Store>, email: &str) -> String {
    let new = NewUser {
        email: email.into(),
        display_name: None,
        password_hash: "$argon2id$test".into(),
        is_admin: false,
    };
    store.create_user(&new, t0()).await.unwrap().unwrap().id
}

async fn webhook(store: &Arc<dyn Store>, user_id: &str) -> String {
    let target = ChannelTarget::Webhook {
        url: "https://hooks.example.com/stockd".into(),
        secret: "whsec".into(),
        format: domain::WebhookFormat::Generic,
    };
    store
        .create_channel(user_id, &target, t0())
        .await
        .unwrap()
        .id
}

fn crosses_up(user_id: &str) -> NewRule {
    NewRule {
        user_id: user_id.into(),
        symbol: msft(),
        definition: json!({"kind": "crosses_up", "price": 420.0, "frequency": "once"}),
        state: json!({"armed": true}),
        status: RuleStatus::Active,
    }
}

/// The same firing on its symbol's next quote, a second later.
fn on_the_next_quote(first: &TriggerRecord) -> TriggerRecord {
    let mut next = first.clone();
    next.quote_at = first.quote_at + Duration::seconds(1);
    next.dedupe_key = format!("{}:{}", first.rule_id, next.quote_at.to_rfc3339());
    next
}

fn trigger(rule: &StoredRule, user_id: &str, channels: Vec<String>) -> TriggerRecord {
    let rule_id = rule.id;
    TriggerRecord {
        rule_id,
        rule_version: rule.updated_at,
        user_id: user_id.into(),
        symbol: msft(),
        price: "421.30".parse::<Price>().unwrap(),
        quote_at: t0(),
        dedupe_key: format!("{rule_id}:{}", t0().to_rfc3339()),
        message: "MSFT crossed above 420.00 (now 421.30)".into(),
        state: json!({"armed": false, "last_price": 421.3}),
        status: RuleStatus::Disarmed,
        channel_ids: channels,
        payload: json!({"symbol": "MSFT", "price": 421.3}),
    }
}

#[tokio::test]
async fn rules_are_scoped_to_their_owner() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        assert_eq!(rule.definition["kind"], "crosses_up", "{}", store.backend());

        assert_eq!(
            store.rule(&alice, rule.id).await.unwrap(),
            Some(rule.clone())
        );
        assert_eq!(store.rule(&bob, rule.id).await.unwrap(), None);
        assert!(store.rules(&bob).await.unwrap().is_empty());
        let pause = RuleChange {
            status: Some(RuleStatus::Paused),
            ..RuleChange::default()
        };
        assert_eq!(
            store
                .change_rule(&bob, rule.id, &pause, t0())
                .await
                .unwrap(),
            None
        );
        assert!(!store.delete_rule(&bob, rule.id).await.unwrap());

        let later = t0() + Duration::minutes(1);
        let paused = store
            .change_rule(&alice, rule.id, &pause, later)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paused.status, RuleStatus::Paused);
        assert_eq!(paused.definition, rule.definition, "unchanged fields stay");
        assert_eq!(paused.updated_at, later);
        assert!(store.active_rules().await.unwrap().is_empty());
        assert!(store.delete_rule(&alice, rule.id).await.unwrap());
        assert!(store.rules(&alice).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_firing_writes_event_outbox_and_state_once_per_dedupe_key() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let fired = trigger(&rule, &alice, vec![channel.clone()]);

        let event = store.record_trigger(&fired, t0()).await.unwrap().unwrap();
        assert_eq!(event.price, fired.price, "{}", store.backend());
        assert_eq!(event.quote_at, t0());
        assert!(
            store.record_trigger(&fired, t0()).await.unwrap().is_none(),
            "the same tick evaluated again fires nothing"
        );
        assert_eq!(store.alert_events(&alice, 10).await.unwrap().len(), 1);
        let outbox = store.notifications(&alice, 10).await.unwrap();
        assert_eq!(outbox.len(), 1, "one row per channel, once");
        assert_eq!(outbox[0].channel_id, channel);
        assert_eq!(outbox[0].status, NotificationStatus::Pending);
        assert_eq!(outbox[0].payload["symbol"], "MSFT");
        assert_eq!(outbox[0].idempotency_key, format!("{}:{channel}", event.id));

        let stored = store.rule(&alice, rule.id).await.unwrap().unwrap();
        assert_eq!(stored.status, RuleStatus::Disarmed);
        assert_eq!(stored.state["armed"], false);
        assert!(store.active_rules().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_burst_of_firings_is_written_together_skipping_only_the_stale_ones() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        let mut burst = Vec::new();
        let mut rules = Vec::new();
        for n in 0..4 {
            let mut rule = crosses_up(&alice);
            rule.definition["price"] = json!(400 + n);
            let rule = store.create_rule(&rule, t0()).await.unwrap();
            burst.push(trigger(&rule, &alice, vec![channel.clone()]));
            rules.push(rule);
        }
        // Rule 1 was paused by its owner after the engine loaded it; rule 3's firing was
        // recorded before (a redelivered quote).
        let pause = RuleChange {
            status: Some(RuleStatus::Paused),
            ..RuleChange::default()
        };
        let later = t0() + Duration::seconds(1);
        store
            .change_rule(&alice, rules[1].id, &pause, later)
            .await
            .unwrap()
            .unwrap();
        let earlier = store
            .record_trigger(&burst[3], t0())
            .await
            .unwrap()
            .unwrap();

        let recorded = store.record_triggers(&burst, t0()).await.unwrap();
        let written: Vec<Option<i64>> = recorded
            .iter()
            .map(|event| event.as_ref().map(|e| e.rule_id))
            .collect();
        assert_eq!(
            written,
            vec![Some(rules[0].id), None, Some(rules[2].id), None],
            "{}: each firing answered in order",
            store.backend()
        );
        let events = store.alert_events(&alice, 10).await.unwrap();
        assert_eq!(events.len(), 3, "two new firings beside the earlier one");
        assert!(events.iter().any(|e| e.id == earlier.id));
        assert_eq!(store.notifications(&alice, 10).await.unwrap().len(), 3);
        let paused = store.rule(&alice, rules[1].id).await.unwrap().unwrap();
        assert_eq!(
            paused.status,
            RuleStatus::Paused,
            "the owner's change stands"
        );
        assert_eq!(paused.state, json!({"armed": true}));
        let fired = store.rule(&alice, rules[2].id).await.unwrap().unwrap();
        assert_eq!(
            fired.status,
            RuleStatus::Disarmed,
            "the firing's state is written"
        );
        assert!(store.record_triggers(&[], t0()).await.unwrap().is_empty());

        // One rule firing on two quotes of one burst: the first disarms it, so the second
        // (written after it, in the same transaction) finds it no longer active.
        let mut rule = crosses_up(&alice);
        rule.definition["price"] = json!(500);
        let rule = store.create_rule(&rule, t0()).await.unwrap();
        let first = trigger(&rule, &alice, vec![channel.clone()]);
        let second = on_the_next_quote(&first);
        let recorded = store.record_triggers(&[first, second], t0()).await.unwrap();
        assert_eq!(
            recorded.iter().map(Option::is_some).collect::<Vec<_>>(),
            vec![true, false],
            "{}: a disarmed rule fires once",
            store.backend()
        );

        // The same with another rule's firing between the two: each answer stays at its
        // firing's place in the burst.
        let mut twice = crosses_up(&alice);
        twice.definition["price"] = json!(600);
        let twice = store.create_rule(&twice, t0()).await.unwrap();
        let mut between = crosses_up(&alice);
        between.definition["price"] = json!(601);
        let between = store.create_rule(&between, t0()).await.unwrap();
        let first = trigger(&twice, &alice, vec![channel.clone()]);
        let second = on_the_next_quote(&first);
        let other = trigger(&between, &alice, vec![channel.clone()]);
        let recorded = store
            .record_triggers(&[first, other, second], t0())
            .await
            .unwrap();
        assert_eq!(
            recorded
                .iter()
                .map(|event| event.as_ref().map(|e| e.rule_id))
                .collect::<Vec<_>>(),
            vec![Some(twice.id), Some(between.id), None],
            "{}: answers in burst order around a rule firing twice",
            store.backend()
        );
    }
}

#[tokio::test]
async fn dispatchers_claim_each_notification_once_and_log_every_attempt() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        for n in 0..5 {
            let mut rule = crosses_up(&alice);
            rule.definition["price"] = json!(400 + n);
            let rule = store.create_rule(&rule, t0()).await.unwrap();
            store
                .record_trigger(&trigger(&rule, &alice, vec![channel.clone()]), t0())
                .await
                .unwrap();
        }
        // Longer than the test, so the other claims are not reclaimed as abandoned.
        let lease = t0() + Duration::hours(1);
        let (a, b) = tokio::join!(
            store.claim_notifications("d1", t0(), lease, 3),
            store.claim_notifications("d2", t0(), lease, 3)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let ids: HashSet<&str> = a.iter().chain(&b).map(|n| n.id.as_str()).collect();
        assert_eq!(a.len() + b.len(), 5, "{}", store.backend());
        assert_eq!(ids.len(), 5, "no notification claimed twice");

        let first = &a[0];
        let retry = DeliveryOutcome::Retry {
            error: "HTTP 500".into(),
            at: t0() + Duration::minutes(1),
        };
        assert!(
            !store
                .finish_notification(&first.id, "d2", &retry, t0())
                .await
                .unwrap(),
            "only its dispatcher may finish it"
        );
        assert!(
            store
                .finish_notification(&first.id, "d1", &retry, t0())
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_notifications("d1", t0(), lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "not before its retry time"
        );
        let later = t0() + Duration::minutes(1);
        let again = store
            .claim_notifications("d2", later, later + Duration::seconds(30), 10)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 2);
        let delivered = DeliveryOutcome::Delivered {
            provider_message_id: Some("msg-1".into()),
        };
        assert!(
            store
                .finish_notification(&first.id, "d2", &delivered, later)
                .await
                .unwrap()
        );
        let log = store
            .delivery_attempts(&alice, &first.id)
            .await
            .unwrap()
            .expect("alice's own notification");
        let outcomes: Vec<(u32, &str)> = log
            .iter()
            .map(|a| (a.attempt, a.outcome.as_str()))
            .collect();
        assert_eq!(outcomes, [(1, "retry"), (2, "delivered")]);
        assert_eq!(log[0].error.as_deref(), Some("HTTP 500"));
        let stored = store
            .notifications(&alice, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.id == first.id)
            .unwrap();
        assert_eq!(stored.status, NotificationStatus::Delivered);
        assert_eq!(stored.provider_message_id.as_deref(), Some("msg-1"));
        assert_eq!(stored.delivered_at, Some(later));
    }
}

#[tokio::test]
async fn a_batch_of_outcomes_is_recorded_in_one_write_with_each_attempt_logged() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        for n in 0..4 {
            let mut rule = crosses_up(&alice);
            rule.definition["price"] = json!(400 + n);
            let rule = store.create_rule(&rule, t0()).await.unwrap();
            store
                .record_trigger(&trigger(&rule, &alice, vec![channel.clone()]), t0())
                .await
                .unwrap();
        }
        let lease = t0() + Duration::seconds(30);
        let mine = store
            .claim_notifications("d1", t0(), lease, 3)
            .await
            .unwrap();
        let theirs = store
            .claim_notifications("d2", t0(), lease, 3)
            .await
            .unwrap();
        assert_eq!((mine.len(), theirs.len()), (3, 1), "{backend}");
        let sent = t0() + Duration::seconds(2);
        let retry_at = t0() + Duration::minutes(2);
        let finished = vec![
            store::FinishedNotification {
                id: mine[0].id.clone(),
                outcome: DeliveryOutcome::Delivered {
                    provider_message_id: Some("msg-0".into()),
                },
                at: sent,
            },
            // Another dispatcher's claim: left alone, the rest still recorded.
            store::FinishedNotification {
                id: theirs[0].id.clone(),
                outcome: DeliveryOutcome::Delivered {
                    provider_message_id: None,
                },
                at: sent,
            },
            store::FinishedNotification {
                id: mine[1].id.clone(),
                outcome: DeliveryOutcome::Retry {
                    error: "HTTP 503".into(),
                    at: retry_at,
                },
                at: sent + Duration::milliseconds(5),
            },
            store::FinishedNotification {
                id: mine[2].id.clone(),
                outcome: DeliveryOutcome::Failed {
                    error: "HTTP 410".into(),
                },
                at: sent,
            },
        ];
        assert_eq!(
            store.finish_notifications("d1", &finished).await.unwrap(),
            [true, false, true, true],
            "{backend}"
        );
        assert!(
            store
                .finish_notifications("d1", &[])
                .await
                .unwrap()
                .is_empty()
        );
        let stored: std::collections::HashMap<String, store::Notification> = store
            .notifications(&alice, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect();
        let delivered = &stored[&mine[0].id];
        assert_eq!(delivered.status, NotificationStatus::Delivered, "{backend}");
        assert_eq!(delivered.delivered_at, Some(sent));
        assert_eq!(delivered.provider_message_id.as_deref(), Some("msg-0"));
        assert_eq!(delivered.lease_until, None);
        let retrying = &stored[&mine[1].id];
        assert_eq!(retrying.status, NotificationStatus::Pending, "{backend}");
        assert_eq!(retrying.next_attempt_at, retry_at);
        assert_eq!(retrying.last_error.as_deref(), Some("HTTP 503"));
        assert_eq!(retrying.delivered_at, None);
        assert_eq!(stored[&mine[2].id].status, NotificationStatus::Failed);
        assert_eq!(
            stored[&theirs[0].id].status,
            NotificationStatus::Sending,
            "{backend}: still d2's"
        );
        let logged = |id: &str| {
            let store = store.clone();
            let alice = alice.clone();
            let id = id.to_owned();
            async move {
                store
                    .delivery_attempts(&alice, &id)
                    .await
                    .unwrap()
                    .unwrap()
                    .into_iter()
                    .map(|a| (a.attempt, a.outcome, a.error, a.attempted_at))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            logged(&mine[0].id).await,
            [(1, "delivered".to_owned(), None, sent)],
            "{backend}"
        );
        assert_eq!(
            logged(&mine[1].id).await,
            [(
                1,
                "retry".to_owned(),
                Some("HTTP 503".to_owned()),
                sent + Duration::milliseconds(5)
            )]
        );
        assert_eq!(
            logged(&mine[2].id).await,
            [(1, "failed".to_owned(), Some("HTTP 410".to_owned()), sent)]
        );
        assert!(logged(&theirs[0].id).await.is_empty(), "{backend}");
        // The batch again (a dispatcher repeating its write): nothing is its own any more.
        assert_eq!(
            store.finish_notifications("d1", &finished).await.unwrap(),
            [false; 4],
            "{backend}: recorded once"
        );
    }
}

#[tokio::test]
async fn a_dispatcher_that_died_loses_its_notifications_after_the_lease() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        store
            .record_trigger(&trigger(&rule, &alice, vec![channel]), t0())
            .await
            .unwrap();
        let lease = t0() + Duration::seconds(30);
        let claimed = store
            .claim_notifications("dead", t0(), lease, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let after = lease + Duration::seconds(1);
        let reclaimed = store
            .claim_notifications("d2", after, after + Duration::seconds(30), 10)
            .await
            .unwrap();
        assert_eq!(reclaimed.len(), 1, "{}", store.backend());
        assert_eq!(reclaimed[0].idempotency_key, claimed[0].idempotency_key);
        let delivered = DeliveryOutcome::Delivered {
            provider_message_id: None,
        };
        assert!(
            !store
                .finish_notification(&claimed[0].id, "dead", &delivered, after)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn other_users_see_no_events_notifications_or_attempts() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let channel = webhook(&store, &alice).await;
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let event = store
            .record_trigger(&trigger(&rule, &alice, vec![channel]), t0())
            .await
            .unwrap()
            .unwrap();
        let notification = store.notifications(&alice, 10).await.unwrap().remove(0);
        assert!(store.alert_events(&bob, 10).await.unwrap().is_empty());
        assert!(store.notifications(&bob, 10).await.unwrap().is_empty());
        assert!(
            store
                .delivery_attempts(&bob, &notification.id)
                .await
                .unwrap()
                .is_none(),
            "another user's notification is not found"
        );
        assert_eq!(
            store
                .acknowledge_rule_events(&bob, rule.id, t0())
                .await
                .unwrap(),
            0,
            "bob cannot acknowledge alice's events"
        );
        assert!(
            !store
                .acknowledge_event(&bob, &event.id, t0())
                .await
                .unwrap()
        );
        assert!(
            store
                .acknowledge_event(&alice, &event.id, t0())
                .await
                .unwrap()
        );
        let events = store.alert_events(&alice, 10).await.unwrap();
        assert_eq!(events[0].acknowledged_at, Some(t0()), "{}", store.backend());
    }
}

#[tokio::test]
async fn checkpoints_save_engine_state() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let checkpoint = RuleCheckpoint {
            rule_id: rule.id,
            version: rule.updated_at,
            state: json!({"armed": true, "last_price": 419.5, "peak": 425.0}),
            status: RuleStatus::Active,
        };
        store.checkpoint_rules(&[checkpoint], t0()).await.unwrap();
        let active = store.active_rules().await.unwrap();
        assert_eq!(active.len(), 1, "{}", store.backend());
        assert_eq!(store.active_rule_symbols().await.unwrap(), [msft()]);
        assert_eq!(active[0].state["peak"], 425.0);
    }
}

#[tokio::test]
async fn last_prices_keep_the_newest_and_the_fingerprint_follows_owner_changes_only() {
    for (_keep, store) in backends().await {
        let at = |s: i64| t0() + Duration::seconds(s);
        let quote = |price: &str, s| store::LastPrice {
            symbol: msft(),
            price: price.parse().unwrap(),
            at: at(s),
        };
        store.save_last_quotes(&[quote("420", 10)]).await.unwrap();
        store.save_last_quotes(&[quote("419", 5)]).await.unwrap();
        assert_eq!(
            store.last_quotes().await.unwrap(),
            [quote("420", 10)],
            "{}: an older quote never replaces a newer one",
            store.backend()
        );

        let alice = user(&store, "alice@example.com").await;
        let empty = store.rules_fingerprint().await.unwrap();
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let created = store.rules_fingerprint().await.unwrap();
        assert_ne!(created, empty);
        assert_eq!((created.rules, created.active), (1, 1));
        let checkpoint = RuleCheckpoint {
            rule_id: rule.id,
            version: rule.updated_at,
            state: json!({"armed": true, "last_price": 1.0}),
            status: RuleStatus::Active,
        };
        store.checkpoint_rules(&[checkpoint], at(60)).await.unwrap();
        assert_eq!(
            store.rules_fingerprint().await.unwrap(),
            created,
            "engine checkpoints are not owner changes"
        );
        let pause = RuleChange {
            status: Some(RuleStatus::Paused),
            ..RuleChange::default()
        };
        store
            .change_rule(&alice, rule.id, &pause, at(120))
            .await
            .unwrap();
        let paused = store.rules_fingerprint().await.unwrap();
        assert_eq!((paused.active, paused.changed_at), (0, Some(at(120))));
    }
}

#[tokio::test]
async fn an_engine_with_a_stale_view_cannot_undo_an_owner_change() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        let loaded = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let pause = RuleChange {
            status: Some(RuleStatus::Paused),
            ..RuleChange::default()
        };
        let later = t0() + Duration::seconds(5);
        store
            .change_rule(&alice, loaded.id, &pause, later)
            .await
            .unwrap()
            .unwrap();
        // The engine still holds the rule as it was loaded, armed and active.
        let checkpoint = RuleCheckpoint {
            rule_id: loaded.id,
            version: loaded.updated_at,
            state: json!({"armed": true, "last_price": 1.0}),
            status: RuleStatus::Active,
        };
        store.checkpoint_rules(&[checkpoint], later).await.unwrap();
        assert!(
            store
                .record_trigger(&trigger(&loaded, &alice, vec![channel]), later)
                .await
                .unwrap()
                .is_none(),
            "{}: a paused rule fires nothing",
            store.backend()
        );
        let stored = store.rule(&alice, loaded.id).await.unwrap().unwrap();
        assert_eq!(stored.status, RuleStatus::Paused, "the pause stands");
        assert_eq!(stored.state, json!({"armed": true}));
        assert!(store.alert_events(&alice, 10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn acknowledging_a_rule_marks_its_unacknowledged_events_once() {
    for (_keep, store) in backends().await {
        let alice = user(&store, "alice@example.com").await;
        let channel = webhook(&store, &alice).await;
        let rule = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        store
            .record_trigger(&trigger(&rule, &alice, vec![channel]), t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .acknowledge_rule_events(&alice, rule.id, t0())
                .await
                .unwrap(),
            1,
            "{}",
            store.backend()
        );
        assert_eq!(
            store
                .acknowledge_rule_events(&alice, rule.id, t0())
                .await
                .unwrap(),
            0,
            "already acknowledged"
        );
        let events = store.alert_events(&alice, 10).await.unwrap();
        assert_eq!(events[0].acknowledged_at, Some(t0()));
    }
}

#[tokio::test]
async fn a_rule_set_aside_is_not_loaded_shows_why_and_its_owners_change_clears_it() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let alice = user(&store, "alice@example.com").await;
        let bad = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let good = store.create_rule(&crosses_up(&alice), t0()).await.unwrap();
        let aside_at = t0() + Duration::seconds(30);
        let reason = "cooldown: must be between 1s and 366d (got 273790700years)";
        let record = |rule: &StoredRule, version| SetAsideRecord {
            rule_id: rule.id,
            version,
            reason: reason.into(),
        };
        store
            .set_aside_rules(&[record(&bad, bad.updated_at)], aside_at)
            .await
            .unwrap();
        let stored = store.rule(&alice, bad.id).await.unwrap().unwrap();
        assert_eq!(
            stored.set_aside,
            Some(RuleSetAside {
                at: aside_at,
                reason: reason.into()
            }),
            "{backend}"
        );
        assert_eq!(stored.status, RuleStatus::Active, "{backend}");
        assert_eq!(stored.updated_at, bad.updated_at, "not an owner change");
        let listed = store.rules(&alice).await.unwrap();
        assert_eq!(listed[0].set_aside, stored.set_aside, "{backend}");
        let active: Vec<i64> = store
            .active_rules()
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            active,
            [good.id],
            "{backend}: a rule set aside is not loaded"
        );
        let fingerprint = store.rules_fingerprint().await.unwrap();
        assert_eq!(
            (fingerprint.rules, fingerprint.active, fingerprint.set_aside),
            (2, 1, 1),
            "{backend}"
        );

        // An engine that loaded a rule before its owner changed it cannot set it aside.
        let pause = RuleChange {
            status: Some(RuleStatus::Paused),
            ..RuleChange::default()
        };
        let paused = store
            .change_rule(&alice, good.id, &pause, t0() + Duration::seconds(40))
            .await
            .unwrap()
            .unwrap();
        store
            .set_aside_rules(
                &[
                    record(&good, good.updated_at),
                    record(&good, paused.updated_at),
                ],
                aside_at,
            )
            .await
            .unwrap();
        let stored = store.rule(&alice, good.id).await.unwrap().unwrap();
        assert_eq!(stored.set_aside, None, "{backend}: stale or not active");

        // Any change by the owner (here a new definition) clears the mark: judged again.
        let replace = RuleChange {
            definition: Some(json!({"kind": "crosses_up", "price": 410.0, "frequency": "once"})),
            ..RuleChange::default()
        };
        let replaced = store
            .change_rule(&alice, bad.id, &replace, t0() + Duration::seconds(50))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(replaced.set_aside, None, "{backend}");
        let active: Vec<i64> = store
            .active_rules()
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(active, [bad.id], "{backend}");
        assert_eq!(store.rules_fingerprint().await.unwrap().set_aside, 0);
    }
}

/// What the quote poller polls besides rule symbols: every watched symbol, once, in order.
#[tokio::test]
async fn watched_symbols_are_every_users_watchlist_deduplicated() {
    let sym = |s: &str| Symbol::parse(s).unwrap();
    for (_keep, store) in backends().await {
        assert!(store.watched_symbols().await.unwrap().is_empty());
        let alice = user(&store, "alice@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        for (who, symbol) in [(&alice, "MSFT"), (&bob, "MSFT"), (&bob, "AAPL")] {
            store.watch(who, sym(symbol), t0()).await.unwrap();
        }
        assert_eq!(
            store.watched_symbols().await.unwrap(),
            [sym("AAPL"), sym("MSFT")],
            "{}",
            store.backend()
        );
        store.unwatch(&bob, sym("AAPL")).await.unwrap();
        assert_eq!(store.watched_symbols().await.unwrap(), [sym("MSFT")]);
    }
}
