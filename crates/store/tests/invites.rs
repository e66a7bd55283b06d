//! Invitations on every backend (SQLite, memory, and PostgreSQL when
//! `STOCKD_TEST_POSTGRES_URL` is set): found by hash while unused and unexpired, spent exactly
//! once together with the user they make, left unspent when the email is taken, listed newest
//! first and deletable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use store::{InvitedSignup, NewInvite, NewUser, Store};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.to_owned(),
        display_name: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        is_admin: false,
    }
}

fn new_invite(code_hash: &str, expires_at: DateTime<Utc>) -> NewInvite {
    NewInvite {
        code_hash: code_hash.to_owned(),
        note: Some("for ada".into()),
        created_by: None,
        expires_at,
    }
}

#[tokio::test]
async fn an_invite_makes_one_user_and_is_spent() {
    let t0 = at("2026-12-01T10:00:00Z");
    for (_keep, store) in common::backends().await {
        let made = store
            .create_invite(&new_invite("hash-a", t0 + Duration::days(7)), t0)
            .await
            .unwrap();
        assert_eq!(made.note.as_deref(), Some("for ada"));
        let found = store.usable_invite("hash-a", t0).await.unwrap().unwrap();
        assert_eq!(found, made);
        assert!(store.usable_invite("hash-b", t0).await.unwrap().is_none());

        let signed_up = store
            .create_user_with_invite(&new_user("ada@example.com"), "hash-a", t0)
            .await
            .unwrap();
        let InvitedSignup::Created(ada) = signed_up else {
            panic!("{}: {signed_up:?}", store.backend());
        };
        assert_eq!(ada.email, "ada@example.com");
        assert!(store.usable_invite("hash-a", t0).await.unwrap().is_none());
        let listed = store.invites().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].used_at, Some(t0));
        assert_eq!(listed[0].used_by.as_deref(), Some(ada.id.as_str()));

        // Spent: a second registration with the same code makes no user.
        let again = store
            .create_user_with_invite(&new_user("bob@example.com"), "hash-a", t0)
            .await
            .unwrap();
        assert_eq!(again, InvitedSignup::InviteUnusable, "{}", store.backend());
        assert!(
            store
                .user_by_email("bob@example.com")
                .await
                .unwrap()
                .is_none()
        );

        // Deleting the user keeps the record of the spent code.
        assert!(store.delete_user(&ada.id).await.unwrap());
        let listed = store.invites().await.unwrap();
        assert!(listed[0].used_at.is_some() && listed[0].used_by.is_none());
    }
}

#[tokio::test]
async fn an_expired_invite_makes_no_user_and_a_taken_email_leaves_it_unspent() {
    let t0 = at("2026-12-01T10:00:00Z");
    for (_keep, store) in common::backends().await {
        store
            .create_invite(&new_invite("old", t0 + Duration::hours(1)), t0)
            .await
            .unwrap();
        let later = t0 + Duration::hours(2);
        assert!(store.usable_invite("old", later).await.unwrap().is_none());
        assert_eq!(
            store
                .create_user_with_invite(&new_user("ada@example.com"), "old", later)
                .await
                .unwrap(),
            InvitedSignup::InviteUnusable
        );
        assert!(
            store.users().await.unwrap().is_empty(),
            "{}",
            store.backend()
        );

        store
            .create_user(&new_user("ada@example.com"), t0)
            .await
            .unwrap()
            .unwrap();
        store
            .create_invite(&new_invite("fresh", t0 + Duration::days(1)), t0)
            .await
            .unwrap();
        assert_eq!(
            store
                .create_user_with_invite(&new_user("ADA@example.com"), "fresh", t0)
                .await
                .unwrap(),
            InvitedSignup::EmailTaken
        );
        assert!(store.usable_invite("fresh", t0).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn racing_registrations_spend_one_invite_once() {
    let t0 = at("2026-12-01T10:00:00Z");
    for (_keep, store) in common::backends().await {
        store
            .create_invite(&new_invite("race", t0 + Duration::days(1)), t0)
            .await
            .unwrap();
        let store: Arc<dyn Store> = store;
        let attempts = (0..8).map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_user_with_invite(&new_user(&format!("u{n}@example.com")), "race", t0)
                    .await
                    .unwrap()
            })
        });
        let mut created = 0;
        for attempt in attempts.collect::<Vec<_>>() {
            if matches!(attempt.await.unwrap(), InvitedSignup::Created(_)) {
                created += 1;
            }
        }
        assert_eq!(created, 1, "{}", store.backend());
        assert_eq!(store.users().await.unwrap().len(), 1, "{}", store.backend());
    }
}

#[tokio::test]
async fn invites_are_listed_newest_first_and_deleted_by_id() {
    let t0 = at("2026-12-01T10:00:00Z");
    for (_keep, store) in common::backends().await {
        let first = store
            .create_invite(&new_invite("one", t0 + Duration::days(1)), t0)
            .await
            .unwrap();
        let second = store
            .create_invite(&new_invite("two", t0 + Duration::days(1)), t0)
            .await
            .unwrap();
        let ids: Vec<String> = store
            .invites()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, [second.id.clone(), first.id.clone()]);
        assert!(store.delete_invite(&first.id).await.unwrap());
        assert!(!store.delete_invite(&first.id).await.unwrap());
        assert!(store.usable_invite("one", t0).await.unwrap().is_none());
        assert!(store.usable_invite("two", t0).await.unwrap().is_some());
    }
}
