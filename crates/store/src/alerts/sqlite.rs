//! The alert path on SQLite: one writer, so claims run inside `begin immediate`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    ATTEMPT_COLUMNS, AlertEvent, AlertStore, DeliveryAttempt, DeliveryOutcome, EVENT_COLUMNS,
    FinishedNotification, LastPrice, NOTIFICATION_COLUMNS, NewRule, Notification,
    NotificationStatus, RULE_COLUMNS, RuleChange, RuleCheckpoint, RuleStatus, RulesFingerprint,
    SetAsideRecord, StoredRule, TriggerRecord, attempt, event, idempotency_key, json_text, new_id,
    notification, parse_symbol, rule,
};
use crate::{SqliteStore, StoreError};
use domain::{Price, Symbol};

sql_alert_store!(SqliteStore, {
    async fn checkpoint_rules(
        &self,
        checkpoints: &[RuleCheckpoint],
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for checkpoint in checkpoints {
            sqlx::query(
                "update alert_rules set state = ?, status = ? \
                 where id = ? and status = 'active' and updated_at = ?",
            )
            .bind(json_text(&checkpoint.state))
            .bind(checkpoint.status.as_str())
            .bind(checkpoint.rule_id)
            .bind(checkpoint.version)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_triggers(
        &self,
        triggers: &[TriggerRecord],
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<AlertEvent>>, StoreError> {
        if triggers.is_empty() {
            return Ok(Vec::new());
        }
        // SQLite's one write lock is taken once for the whole burst, and one commit makes it
        // durable: the first firing's notification is not kept waiting for fifty fsyncs.
        let mut tx = self.write_tx().await?;
        let mut recorded = Vec::with_capacity(triggers.len());
        for trigger in triggers {
            recorded.push(record_one(&mut tx, trigger, at).await?);
        }
        tx.commit().await?;
        Ok(recorded)
    }

    async fn finish_notifications(
        &self,
        worker: &str,
        finished: &[FinishedNotification],
    ) -> Result<Vec<bool>, StoreError> {
        if finished.is_empty() {
            return Ok(Vec::new());
        }
        // One `begin immediate` transaction for the whole batch: SQLite's single writer is
        // taken once, and a crash leaves none of it written.
        let mut tx = self.write_tx().await?;
        let mut recorded = Vec::with_capacity(finished.len());
        for done in finished {
            let outcome = &done.outcome;
            let retry_at = match outcome {
                DeliveryOutcome::Retry { at, .. } => Some(*at),
                _ => None,
            };
            let delivered_at =
                (outcome.status() == NotificationStatus::Delivered).then_some(done.at);
            let updated = sqlx::query(
                "update notifications set status = ?, \
                 next_attempt_at = coalesce(?, next_attempt_at), last_error = ?, \
                 provider_message_id = coalesce(?, provider_message_id), \
                 lease_until = null, delivered_at = ?, updated_at = ? \
                 where id = ? and worker = ? and status = 'sending'",
            )
            .bind(outcome.status().as_str())
            .bind(retry_at)
            .bind(outcome.error())
            .bind(outcome.provider_message_id())
            .bind(delivered_at)
            .bind(done.at)
            .bind(&done.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 1 {
                sqlx::query(
                    "insert into notification_attempts (notification_id, attempt, \
                     attempted_at, outcome, error, provider_message_id) \
                     select id, attempts, ?, ?, ?, ? from notifications where id = ? \
                     on conflict (notification_id, attempt) do nothing",
                )
                .bind(done.at)
                .bind(outcome.label())
                .bind(outcome.error())
                .bind(outcome.provider_message_id())
                .bind(&done.id)
                .execute(&mut *tx)
                .await?;
            }
            recorded.push(updated == 1);
        }
        tx.commit().await?;
        Ok(recorded)
    }

    async fn save_last_quotes(&self, quotes: &[LastPrice]) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for quote in quotes {
            sqlx::query(
                "insert into alert_last_quotes (symbol, price_e9, quote_at) values (?, ?, ?) \
                 on conflict (symbol) do update set price_e9 = excluded.price_e9, \
                 quote_at = excluded.quote_at where excluded.quote_at >= alert_last_quotes.quote_at",
            )
            .bind(quote.symbol.as_str())
            .bind(quote.price.raw())
            .bind(quote.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
});

/// One firing of [`AlertStore::record_triggers`], inside its transaction.
async fn record_one(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    trigger: &TriggerRecord,
    at: DateTime<Utc>,
) -> Result<Option<AlertEvent>, StoreError> {
    // The guard (the rule still active at the version the engine evaluated) and the event in
    // one statement, which hands the stored event back: a burst's transaction stays short.
    let event_id = new_id();
    let Some(row) = sqlx::query(AssertSqlSafe(format!(
        "insert into alert_events (id, rule_id, user_id, symbol, price_e9, quote_at, \
         dedupe_key, message, created_at) select ?, ?, ?, ?, ?, ?, ?, ?, ? \
         where exists (select 1 from alert_rules \
             where id = ? and status = 'active' and updated_at = ?) \
         on conflict (dedupe_key) do nothing returning {EVENT_COLUMNS}"
    )))
    .bind(&event_id)
    .bind(trigger.rule_id)
    .bind(&trigger.user_id)
    .bind(trigger.symbol.as_str())
    .bind(trigger.price.raw())
    .bind(trigger.quote_at)
    .bind(&trigger.dedupe_key)
    .bind(&trigger.message)
    .bind(at)
    .bind(trigger.rule_id)
    .bind(trigger.rule_version)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let payload = json_text(&trigger.payload);
    for channel_id in &trigger.channel_ids {
        // A channel deleted since the rule was written is skipped, not an error that
        // would lose the firing.
        sqlx::query(
            "insert into notifications (id, event_id, user_id, channel_id, \
             idempotency_key, payload, status, attempts, next_attempt_at, created_at, \
             updated_at) select ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ? \
             where exists (select 1 from channels where id = ? and user_id = ?)",
        )
        .bind(new_id())
        .bind(&event_id)
        .bind(&trigger.user_id)
        .bind(channel_id)
        .bind(idempotency_key(&event_id, channel_id))
        .bind(&payload)
        .bind(at)
        .bind(at)
        .bind(at)
        .bind(channel_id)
        .bind(&trigger.user_id)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("update alert_rules set state = ?, status = ? where id = ?")
        .bind(json_text(&trigger.state))
        .bind(trigger.status.as_str())
        .bind(trigger.rule_id)
        .execute(&mut **tx)
        .await?;
    event(&row).map(Some)
}
