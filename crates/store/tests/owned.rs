//! A user's things a page at a time and within caps, on every backend (SQLite, memory, and
//! PostgreSQL when `STOCKD_TEST_POSTGRES_URL` is set): keyset pages that stay put while rows
//! are added, and caps that concurrent creates cannot pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::backends;
use domain::{Price, Symbol};
use serde_json::json;
use store::{
    After, Capped, ChannelTarget, NewRule, NewToken, NewUser, Owned, RuleStatus, Store, TokenKind,
    TriggerRecord,
};

fn t0() -> DateTime<Utc> {
    "2026-11-27T15:30:00Z".parse().unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
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

fn rule(user_id: &str, symbol: &str) -> NewRule {
    NewRule {
        user_id: user_id.into(),
        symbol: sym(symbol),
        definition: json!({"kind": "above", "price": 1.0}),
        state: json!({"armed": true}),
        status: RuleStatus::Active,
    }
}

fn email(n: usize) -> ChannelTarget {
    ChannelTarget::Email {
        address: format!("ada+{n}@example.com"),
    }
}

fn api_token(user_id: &str, n: usize) -> NewToken {
    NewToken {
        user_id: user_id.into(),
        kind: TokenKind::Api,
        name: Some(format!("script {n}")),
        token_hash: format!("{n:064x}"),
        expires_at: None,
    }
}

fn created<T: std::fmt::Debug>(capped: Capped<T>) -> T {
    match capped {
        Capped::Created(value) => value,
        Capped::Full => panic!("expected room under the cap"),
    }
}

#[tokio::test]
async fn concurrent_creates_never_pass_a_cap() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let ada = user(&store, "ada@example.com").await;
        let watches = (0..12).map(|n| {
            let (store, ada) = (store.clone(), ada.clone());
            tokio::spawn(async move {
                store
                    .watch_within(&ada, sym(&format!("S{n}")), t0(), Some(5))
                    .await
            })
        });
        let rules = (0..12).map(|_n| {
            let (store, ada) = (store.clone(), ada.clone());
            tokio::spawn(async move {
                let outcome = store
                    .create_rule_within(&rule(&ada, "MSFT"), t0(), Some(4))
                    .await;
                outcome.map(|c| matches!(c, Capped::Created(_)))
            })
        });
        let channels = (0..12).map(|n| {
            let (store, ada) = (store.clone(), ada.clone());
            tokio::spawn(async move {
                let outcome = store
                    .create_channel_within(&ada, &email(n), t0(), Some(3))
                    .await;
                outcome.map(|c| matches!(c, Capped::Created(_)))
            })
        });
        let rules: Vec<_> = rules.collect();
        let channels: Vec<_> = channels.collect();
        let mut watched = 0;
        for task in watches.collect::<Vec<_>>() {
            watched += usize::from(matches!(task.await.unwrap().unwrap(), Capped::Created(_)));
        }
        let mut made_rules = 0;
        for task in rules {
            made_rules += usize::from(task.await.unwrap().unwrap());
        }
        let mut made_channels = 0;
        for task in channels {
            made_channels += usize::from(task.await.unwrap().unwrap());
        }
        assert_eq!((watched, made_rules, made_channels), (5, 4, 3), "{backend}");
        for (what, count) in [
            (Owned::WatchedSymbols, 5),
            (Owned::Rules, 4),
            (Owned::Channels, 3),
        ] {
            assert_eq!(
                store.count_owned(&ada, what).await.unwrap(),
                count,
                "{backend}"
            );
        }

        // Already watched: answered as it is, whatever the cap.
        let again = store
            .watch_within(&ada, sym("S0"), t0(), Some(5))
            .await
            .unwrap();
        let watching_s0 = store
            .watched_symbol(&ada, sym("S0"))
            .await
            .unwrap()
            .is_some();
        match again {
            Capped::Created((entry, added)) => {
                assert!(
                    watching_s0 && !added && entry.symbol == sym("S0"),
                    "{backend}"
                )
            }
            Capped::Full => assert!(!watching_s0, "{backend}: S0 was one of the refused"),
        }

        // Another user has caps of their own; no cap means none.
        let bob = user(&store, "bob@example.com").await;
        for n in 0..6 {
            created(
                store
                    .watch_within(&bob, sym(&format!("B{n}")), t0(), None)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            store
                .count_owned(&bob, Owned::WatchedSymbols)
                .await
                .unwrap(),
            6
        );
    }
}

#[tokio::test]
async fn api_tokens_are_capped_and_sessions_are_not() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let ada = user(&store, "ada@example.com").await;
        for n in 0..2 {
            created(
                store
                    .create_token_within(&api_token(&ada, n), t0(), Some(2))
                    .await
                    .unwrap(),
            );
        }
        let third = store
            .create_token_within(&api_token(&ada, 2), t0(), Some(2))
            .await
            .unwrap();
        assert_eq!(third, Capped::Full, "{backend}");
        let session = NewToken {
            kind: TokenKind::Session,
            expires_at: Some(t0() + Duration::days(30)),
            ..api_token(&ada, 3)
        };
        created(
            store
                .create_token_within(&session, t0(), Some(2))
                .await
                .unwrap(),
        );
        assert_eq!(
            store.count_owned(&ada, Owned::ApiTokens).await.unwrap(),
            2,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats_while_rows_are_added() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let ada = user(&store, "ada@example.com").await;
        // Several rows share a creation time: the id breaks the tie.
        for n in 0..7 {
            let at = t0() + Duration::milliseconds(250 * (n / 2));
            created(
                store
                    .create_rule_within(&rule(&ada, "MSFT"), at, None)
                    .await
                    .unwrap(),
            );
            created(
                store
                    .create_channel_within(&ada, &email(n as usize), at, None)
                    .await
                    .unwrap(),
            );
            created(
                store
                    .create_token_within(&api_token(&ada, n as usize), at, None)
                    .await
                    .unwrap(),
            );
            created(
                store
                    .watch_within(&ada, sym(&format!("W{n}")), at, None)
                    .await
                    .unwrap(),
            );
        }
        let all_rules: Vec<i64> = store
            .rules(&ada)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();

        let first = store.rules_page(&ada, None, 3).await.unwrap();
        let after = |r: &store::StoredRule| After {
            created_at: r.created_at,
            id: r.id,
        };
        let second = store
            .rules_page(&ada, Some(&after(&first[2])), 3)
            .await
            .unwrap();
        // A rule added between two page reads lands after every page already read.
        let late = created(
            store
                .create_rule_within(&rule(&ada, "IBM"), t0() + Duration::hours(1), None)
                .await
                .unwrap(),
        );
        let third = store
            .rules_page(&ada, Some(&after(&second[2])), 3)
            .await
            .unwrap();
        let fourth = store
            .rules_page(&ada, Some(&after(&third[1])), 3)
            .await
            .unwrap();
        let paged: Vec<i64> = [first, second, third]
            .concat()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(paged[..7], all_rules[..], "{backend}");
        assert_eq!(paged[7], late.id, "{backend}");
        assert!(fourth.is_empty(), "{backend}");

        let channels = store.channels(&ada).await.unwrap();
        let page = store.channels_page(&ada, None, 4).await.unwrap();
        let key = |c: &store::Channel| After {
            created_at: c.created_at,
            id: c.id.clone(),
        };
        let rest = store
            .channels_page(&ada, Some(&key(&page[3])), 4)
            .await
            .unwrap();
        assert_eq!([page, rest].concat(), channels, "{backend}");

        let tokens = store.tokens(&ada, TokenKind::Api).await.unwrap();
        let page = store.api_tokens_page(&ada, None, 5).await.unwrap();
        let key = |t: &store::AuthToken| After {
            created_at: t.created_at,
            id: t.id.clone(),
        };
        let rest = store
            .api_tokens_page(&ada, Some(&key(&page[4])), 5)
            .await
            .unwrap();
        assert_eq!([page, rest].concat(), tokens, "{backend}");

        let page = store.watchlist_page(&ada, None, 4).await.unwrap();
        let rest = store
            .watchlist_page(&ada, Some(page[3].symbol), 4)
            .await
            .unwrap();
        let symbols: Vec<_> = [page, rest].concat().iter().map(|w| w.symbol).collect();
        let expected: Vec<_> = (0..7).map(|n| sym(&format!("W{n}"))).collect();
        assert_eq!(symbols, expected, "{backend}");

        // Another user's rows are never on a page.
        let bob = user(&store, "bob@example.com").await;
        assert!(store.rules_page(&bob, None, 10).await.unwrap().is_empty());
        assert!(
            store
                .watchlist_page(&bob, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn events_and_notifications_page_newest_first() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let ada = user(&store, "ada@example.com").await;
        let channel = created(
            store
                .create_channel_within(&ada, &email(0), t0(), None)
                .await
                .unwrap(),
        );
        let stored = created(
            store
                .create_rule_within(&rule(&ada, "MSFT"), t0(), None)
                .await
                .unwrap(),
        );
        for n in 0..5 {
            let quote_at = t0() + Duration::minutes(n);
            let trigger = TriggerRecord {
                rule_id: stored.id,
                rule_version: stored.updated_at,
                user_id: ada.clone(),
                symbol: sym("MSFT"),
                price: "421.30".parse::<Price>().unwrap(),
                quote_at,
                dedupe_key: format!("r{}:{n}", stored.id),
                message: format!("fire {n}"),
                state: json!({"armed": true}),
                status: RuleStatus::Active,
                channel_ids: vec![channel.id.clone()],
                payload: json!({"n": n}),
            };
            // Two firings share each creation time: the id breaks the tie.
            let at = t0() + Duration::seconds(n / 2);
            store.record_trigger(&trigger, at).await.unwrap().unwrap();
        }
        let events = store.alert_events(&ada, 100).await.unwrap();
        assert_eq!(events.len(), 5, "{backend}");
        let page = store.alert_events_page(&ada, None, 2).await.unwrap();
        let key = |e: &store::AlertEvent| After {
            created_at: e.created_at,
            id: e.id.clone(),
        };
        let next = store
            .alert_events_page(&ada, Some(&key(&page[1])), 2)
            .await
            .unwrap();
        let last = store
            .alert_events_page(&ada, Some(&key(&next[1])), 2)
            .await
            .unwrap();
        let paged: Vec<_> = [page, next, last].concat();
        assert_eq!(paged, events, "{backend}: the same rows in the same order");
        assert!(
            paged.windows(2).all(|w| w[0].created_at >= w[1].created_at),
            "{backend}: newest first"
        );

        let notifications = store.notifications(&ada, 100).await.unwrap();
        let page = store.notifications_page(&ada, None, 3).await.unwrap();
        let key = |n: &store::Notification| After {
            created_at: n.created_at,
            id: n.id.clone(),
        };
        let rest = store
            .notifications_page(&ada, Some(&key(&page[2])), 3)
            .await
            .unwrap();
        assert_eq!([page, rest].concat(), notifications, "{backend}");
    }
}
