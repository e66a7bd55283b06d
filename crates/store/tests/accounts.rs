//! Accounts on every backend (SQLite, memory, and PostgreSQL when `STOCKD_TEST_POSTGRES_URL`
//! is set): users with case-insensitive unique emails, tokens found by hash until they expire,
//! per-user watchlists that feed the tracked symbols, channels scoped to their owner, and a
//! user's deletion taking everything they own with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use domain::Symbol;
use store::{ChannelTarget, NewToken, NewUser, Store, TokenKind, UserUpdate, UserUpdated};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.to_owned(),
        display_name: Some("Ada".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        is_admin: false,
    }
}

async fn user(store: &dyn Store, email: &str) -> store::User {
    store
        .create_user(&new_user(email), at("2026-11-28T10:00:00Z"))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn emails_are_unique_without_regard_to_case() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let ada = user(&*store, "ada@example.com").await;
        assert_eq!(ada.email, "ada@example.com");
        assert!(!ada.is_admin);
        assert_eq!(ada.created_at, at("2026-11-28T10:00:00Z"), "{backend}");
        let again = store
            .create_user(&new_user("ADA@Example.com"), Utc::now())
            .await
            .unwrap();
        assert_eq!(
            again, None,
            "{backend}: a second account for the same email"
        );
        let found = store.user_by_email("Ada@EXAMPLE.com").await.unwrap();
        assert_eq!(found.as_ref(), Some(&ada), "{backend}");
        assert_eq!(store.user(&ada.id).await.unwrap(), Some(ada.clone()));
        assert_eq!(store.user("nobody").await.unwrap(), None);
        let bob = user(&*store, "bob@example.com").await;
        let ids: Vec<String> = store
            .users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(ids.len(), 2, "{backend}");
        assert!(ids.contains(&ada.id) && ids.contains(&bob.id));
    }
}

#[tokio::test]
async fn updates_change_only_what_is_given_and_refuse_a_taken_email() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let ada = user(&*store, "ada@example.com").await;
        user(&*store, "bob@example.com").await;
        let later = at("2026-11-28T11:00:00Z");
        let update = UserUpdate {
            display_name: Some(None),
            password_hash: Some("new-hash".into()),
            ..UserUpdate::default()
        };
        let UserUpdated::Updated(updated) =
            store.update_user(&ada.id, &update, later).await.unwrap()
        else {
            panic!("{backend}: not updated");
        };
        assert_eq!(updated.display_name, None, "{backend}");
        assert_eq!(updated.password_hash, "new-hash");
        assert_eq!(updated.email, "ada@example.com");
        assert_eq!(updated.updated_at, later);
        let taken = UserUpdate {
            email: Some("bob@example.com".into()),
            ..UserUpdate::default()
        };
        assert_eq!(
            store.update_user(&ada.id, &taken, later).await.unwrap(),
            UserUpdated::EmailTaken,
            "{backend}"
        );
        assert_eq!(
            store.update_user("nobody", &update, later).await.unwrap(),
            UserUpdated::NotFound
        );
    }
}

#[tokio::test]
async fn tokens_are_found_by_hash_until_they_expire_and_deleted_only_by_their_owner() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let ada = user(&*store, "ada@example.com").await;
        let bob = user(&*store, "bob@example.com").await;
        let now = at("2026-11-28T10:00:00Z");
        let session = store
            .create_token(
                &NewToken {
                    user_id: ada.id.clone(),
                    kind: TokenKind::Session,
                    name: None,
                    token_hash: "aa".repeat(32),
                    expires_at: Some(now + Duration::days(30)),
                },
                now,
            )
            .await
            .unwrap();
        let api = store
            .create_token(
                &NewToken {
                    user_id: ada.id.clone(),
                    kind: TokenKind::Api,
                    name: Some("backup".into()),
                    token_hash: "bb".repeat(32),
                    expires_at: None,
                },
                now,
            )
            .await
            .unwrap();
        let (found, owner) = store
            .token_by_hash(&"aa".repeat(32), now + Duration::days(29))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, session, "{backend}");
        assert_eq!(owner.id, ada.id);
        assert_eq!(
            store
                .token_by_hash(&"aa".repeat(32), now + Duration::days(30))
                .await
                .unwrap(),
            None,
            "{backend}: expired"
        );
        assert!(
            store
                .token_by_hash(&"bb".repeat(32), now + Duration::days(3650))
                .await
                .unwrap()
                .is_some(),
            "{backend}: API tokens do not expire"
        );
        assert_eq!(
            store.token_by_hash(&"cc".repeat(32), now).await.unwrap(),
            None
        );
        assert_eq!(
            store.tokens(&ada.id, TokenKind::Api).await.unwrap(),
            vec![api.clone()]
        );
        assert_eq!(
            store.tokens(&ada.id, TokenKind::Session).await.unwrap(),
            vec![session.clone()]
        );
        assert!(
            store
                .tokens(&bob.id, TokenKind::Api)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !store.delete_token(&bob.id, &api.id).await.unwrap(),
            "{backend}: not Bob's token"
        );
        assert!(store.delete_token(&ada.id, &api.id).await.unwrap());
        assert!(!store.delete_token(&ada.id, &api.id).await.unwrap());
        assert_eq!(
            store
                .delete_expired_tokens(now + Duration::days(31))
                .await
                .unwrap(),
            1,
            "{backend}"
        );
        assert!(
            store
                .tokens(&ada.id, TokenKind::Session)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn watched_symbols_are_tracked_while_anyone_watches_them() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let ada = user(&*store, "ada@example.com").await;
        let bob = user(&*store, "bob@example.com").await;
        store
            .track_symbol(sym("IBM"), at("2026-11-28T09:00:00Z"))
            .await
            .unwrap();
        let (watched, added) = store
            .watch(&ada.id, sym("MSFT"), at("2026-11-28T10:00:00Z"))
            .await
            .unwrap();
        assert!(added);
        assert_eq!(watched.added_at, at("2026-11-28T10:00:00Z"));
        let (again, added) = store
            .watch(&ada.id, sym("MSFT"), at("2026-11-28T12:00:00Z"))
            .await
            .unwrap();
        assert!(!added, "{backend}");
        assert_eq!(
            again.added_at,
            at("2026-11-28T10:00:00Z"),
            "the first add kept"
        );
        store
            .watch(&bob.id, sym("MSFT"), at("2026-11-28T08:00:00Z"))
            .await
            .unwrap();
        store
            .watch(&bob.id, sym("AAPL"), at("2026-11-28T11:00:00Z"))
            .await
            .unwrap();
        let list: Vec<String> = store
            .watchlist(&bob.id)
            .await
            .unwrap()
            .iter()
            .map(|w| w.symbol.to_string())
            .collect();
        assert_eq!(list, ["AAPL", "MSFT"], "{backend}");

        let tracked = store.tracked_symbols().await.unwrap();
        let names: Vec<String> = tracked.iter().map(|t| t.symbol.to_string()).collect();
        assert_eq!(names, ["AAPL", "IBM", "MSFT"], "{backend}");
        let msft = tracked.iter().find(|t| t.symbol == sym("MSFT")).unwrap();
        assert_eq!(
            msft.added_at,
            at("2026-11-28T08:00:00Z"),
            "{backend}: earliest watcher"
        );

        assert!(store.unwatch(&bob.id, sym("MSFT")).await.unwrap());
        assert!(!store.unwatch(&bob.id, sym("MSFT")).await.unwrap());
        let names: Vec<String> = store
            .tracked_symbols()
            .await
            .unwrap()
            .iter()
            .map(|t| t.symbol.to_string())
            .collect();
        assert_eq!(
            names,
            ["AAPL", "IBM", "MSFT"],
            "{backend}: Ada still watches MSFT"
        );
        assert!(store.unwatch(&ada.id, sym("MSFT")).await.unwrap());
        store.unwatch(&bob.id, sym("AAPL")).await.unwrap();
        let names: Vec<String> = store
            .tracked_symbols()
            .await
            .unwrap()
            .iter()
            .map(|t| t.symbol.to_string())
            .collect();
        assert_eq!(names, ["IBM"], "{backend}: nobody watches MSFT any more");
    }
}

#[tokio::test]
async fn channels_belong_to_their_owner() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let ada = user(&*store, "ada@example.com").await;
        let bob = user(&*store, "bob@example.com").await;
        let now = at("2026-11-28T10:00:00Z");
        let hook = ChannelTarget::Webhook {
            url: "https://hooks.example.com/a".into(),
            secret: "whsec_0123456789abcdef".into(),
            format: domain::WebhookFormat::Slack,
        };
        let webhook = store.create_channel(&ada.id, &hook, now).await.unwrap();
        let sms = store
            .create_channel(
                &ada.id,
                &ChannelTarget::Sms {
                    phone: "+15551234567".into(),
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(
            webhook.target,
            Ok(hook.clone()),
            "{backend}: the secret is kept for the dispatcher"
        );
        assert_eq!(
            store.channel(&ada.id, &webhook.id).await.unwrap().as_ref(),
            Some(&webhook),
            "{backend}"
        );
        assert_eq!(store.channels(&ada.id).await.unwrap().len(), 2);
        assert!(store.channels(&bob.id).await.unwrap().is_empty());
        assert_eq!(
            store.channel(&bob.id, &webhook.id).await.unwrap(),
            None,
            "{backend}"
        );
        let email = ChannelTarget::Email {
            address: "ada@example.com".into(),
        };
        assert_eq!(
            store
                .update_channel(&bob.id, &webhook.id, &email)
                .await
                .unwrap(),
            None,
            "{backend}: Bob cannot change Ada's channel"
        );
        assert!(!store.delete_channel(&bob.id, &webhook.id).await.unwrap());
        let changed = store
            .update_channel(&ada.id, &sms.id, &email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(changed.target, Ok(email), "{backend}");
        assert_eq!(
            store
                .channel(&ada.id, &webhook.id)
                .await
                .unwrap()
                .unwrap()
                .target,
            Ok(hook)
        );
        assert!(store.delete_channel(&ada.id, &webhook.id).await.unwrap());
        assert_eq!(store.channels(&ada.id).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn deleting_a_user_deletes_everything_they_own() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let ada = user(&*store, "ada@example.com").await;
        let bob = user(&*store, "bob@example.com").await;
        let now = at("2026-11-28T10:00:00Z");
        for (owner, hash) in [(&ada, "aa"), (&bob, "bb")] {
            store
                .create_token(
                    &NewToken {
                        user_id: owner.id.clone(),
                        kind: TokenKind::Api,
                        name: None,
                        token_hash: hash.repeat(32),
                        expires_at: None,
                    },
                    now,
                )
                .await
                .unwrap();
            store.watch(&owner.id, sym("MSFT"), now).await.unwrap();
            store
                .create_channel(
                    &owner.id,
                    &ChannelTarget::Email {
                        address: owner.email.clone(),
                    },
                    now,
                )
                .await
                .unwrap();
        }
        store.watch(&ada.id, sym("GOOG"), now).await.unwrap();
        assert!(store.delete_user(&ada.id).await.unwrap(), "{backend}");
        assert!(!store.delete_user(&ada.id).await.unwrap());
        assert_eq!(store.user(&ada.id).await.unwrap(), None);
        assert_eq!(
            store.token_by_hash(&"aa".repeat(32), now).await.unwrap(),
            None,
            "{backend}"
        );
        assert!(
            store
                .tokens(&ada.id, TokenKind::Api)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store.watchlist(&ada.id).await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(
            store.channels(&ada.id).await.unwrap().is_empty(),
            "{backend}"
        );
        // Bob's data is untouched, and GOOG is no longer tracked.
        assert!(
            store
                .token_by_hash(&"bb".repeat(32), now)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(store.channels(&bob.id).await.unwrap().len(), 1);
        let tracked: Vec<String> = store
            .tracked_symbols()
            .await
            .unwrap()
            .iter()
            .map(|t| t.symbol.to_string())
            .collect();
        assert_eq!(tracked, ["MSFT"], "{backend}");
        // The email is free again.
        assert!(
            store
                .create_user(&new_user("ada@example.com"), now)
                .await
                .unwrap()
                .is_some()
        );
    }
}
