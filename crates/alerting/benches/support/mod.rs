//! What the alerting benches store before they measure: a user with a webhook channel and
//! `crosses` rules that fire on every crossing, and a scratch PostgreSQL database for a run.
//! Included by each bench with `mod support;`.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use alerts::RuleState;
use chrono::Utc;
use domain::Symbol;
use serde_json::json;
use store::{ChannelTarget, NewRule, NewUser, RuleStatus, Store};

/// A user with one generic webhook channel to `url`; returns (user id, channel id).
pub async fn user_with_webhook(store: &Arc<dyn Store>, url: &str) -> (String, String) {
    let user = store
        .create_user(
            &NewUser {
                email: "bench@example.com".into(),
                display_name: None,
                password_hash: "$argon2id$bench".into(),
                is_admin: false,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .unwrap()
        .id;
    let channel = store
        .create_channel(
            &user,
            &ChannelTarget::Webhook {
                url: url.into(),
                secret: "whsec_bench".into(),
                format: domain::WebhookFormat::Generic,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .id;
    (user, channel)
}

/// An active rule of `user` on `symbol` that fires every time the price crosses `price`,
/// either way, to `channel`; its 1 s cooldown ends before the benches' next crossing.
pub async fn crossing_rule(
    store: &Arc<dyn Store>,
    user: &str,
    channel: &str,
    symbol: &str,
    price: f64,
) {
    let definition = json!({"symbol": symbol, "kind": "crosses", "price": price,
        "frequency": "every_time", "cooldown": "1s", "channels": [channel]});
    store
        .create_rule(
            &NewRule {
                user_id: user.to_owned(),
                symbol: Symbol::parse(symbol).unwrap(),
                definition,
                state: serde_json::to_value(RuleState::armed()).unwrap(),
                status: RuleStatus::Active,
            },
            Utc::now(),
        )
        .await
        .unwrap();
}

/// A new database on the server of `admin` (a PostgreSQL URL ending in a database name) for
/// one run; returns its URL and name, for [`drop_database`].
#[allow(dead_code)] // Each bench includes this module; not every bench uses PostgreSQL.
pub async fn create_database(admin: &str, purpose: &str) -> (String, String) {
    let name = format!("stockd_bench_{purpose}_{}", std::process::id());
    let mut conn = PgConnection::connect(admin).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    (url, name)
}

/// Drops a database made by [`create_database`], closing its connections.
#[allow(dead_code)]
pub async fn drop_database(admin: &str, name: &str) {
    let mut conn = PgConnection::connect(admin).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("drop database {name} with (force)")))
        .execute(&mut conn)
        .await
        .unwrap();
}
