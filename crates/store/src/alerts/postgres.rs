//! The alert path on PostgreSQL: dispatchers claim outbox rows with `for update skip locked`,
//! so several replicas take different notifications without waiting on each other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    ATTEMPT_COLUMNS, AlertEvent, AlertStore, DeliveryAttempt, DeliveryOutcome, EVENT_COLUMNS,
    LastPrice, NOTIFICATION_COLUMNS, NewRule, Notification, NotificationStatus, RULE_COLUMNS,
    RuleChange, RuleCheckpoint, RuleStatus, RulesFingerprint, SetAsideRecord, StoredRule,
    TriggerRecord, attempt, event, json_text, new_id, notification, parse_symbol, rule,
};
use crate::{PostgresStore, StoreError};
use domain::{Price, Symbol};

sql_alert_store!(PostgresStore, {
    async fn checkpoint_rules(
        &self,
        checkpoints: &[RuleCheckpoint],
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if checkpoints.is_empty() {
            return Ok(());
        }
        // One statement over arrays: one round trip whatever the number of rules.
        let ids: Vec<i64> = checkpoints.iter().map(|c| c.rule_id).collect();
        let versions: Vec<DateTime<Utc>> = checkpoints.iter().map(|c| c.version).collect();
        let states: Vec<String> = checkpoints.iter().map(|c| json_text(&c.state)).collect();
        let statuses: Vec<&str> = checkpoints.iter().map(|c| c.status.as_str()).collect();
        sqlx::query(
            "update alert_rules r set state = v.state, status = v.status \
             from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[]) \
                 as v(id, version, state, status) \
             where r.id = v.id and r.status = 'active' and r.updated_at = v.version",
        )
        .bind(&ids)
        .bind(&versions)
        .bind(&states)
        .bind(&statuses)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn record_trigger(
        &self,
        trigger: &TriggerRecord,
        at: DateTime<Utc>,
    ) -> Result<Option<AlertEvent>, StoreError> {
        // One statement, so one round trip and one implicit transaction: the guard, the event,
        // its outbox rows (channels deleted since are skipped) and the rule's new state are
        // written together or not at all. This is the tick→outbox latency of every firing.
        let row = sqlx::query(AssertSqlSafe(format!(
            "with current_rule as ( \
                 select id from alert_rules \
                 where id = $1 and status = 'active' and updated_at = $2), \
             event as ( \
                 insert into alert_events (id, rule_id, user_id, symbol, price_e9, quote_at, \
                     dedupe_key, message, created_at) \
                 select $3, $1, $4, $5, $6, $7, $8, $9, $10 from current_rule \
                 on conflict (dedupe_key) do nothing \
                 returning {EVENT_COLUMNS}), \
             outbox as ( \
                 insert into notifications (id, event_id, user_id, channel_id, \
                     idempotency_key, payload, status, attempts, next_attempt_at, created_at, \
                     updated_at) \
                 select gen_random_uuid()::text, event.id, $4, c.id, event.id || ':' || c.id, \
                     $11, 'pending', 0, $10, $10, $10 \
                 from event join channels c on c.user_id = $4 and c.id = any($12::text[])), \
             rule_state as ( \
                 update alert_rules set state = $13, status = $14 \
                 where id = (select rule_id from event)) \
             select {EVENT_COLUMNS} from event"
        )))
        .bind(trigger.rule_id)
        .bind(trigger.rule_version)
        .bind(new_id())
        .bind(&trigger.user_id)
        .bind(trigger.symbol.as_str())
        .bind(trigger.price.raw())
        .bind(trigger.quote_at)
        .bind(&trigger.dedupe_key)
        .bind(&trigger.message)
        .bind(at)
        .bind(json_text(&trigger.payload))
        .bind(&trigger.channel_ids)
        .bind(json_text(&trigger.state))
        .bind(trigger.status.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(event).transpose()
    }

    async fn claim_notifications(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "update notifications set status = 'sending', attempts = attempts + 1, \
             worker = $1, lease_until = $2, updated_at = $3 \
             where id in (select id from notifications \
                 where (status = 'pending' and next_attempt_at <= $4) \
                    or (status = 'sending' and lease_until < $5) \
                 order by next_attempt_at, id limit $6 for update skip locked) \
             returning {NOTIFICATION_COLUMNS}"
        )))
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(notification).collect()
    }

    async fn finish_notification(
        &self,
        id: &str,
        worker: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let retry_at = match outcome {
            DeliveryOutcome::Retry { at, .. } => Some(*at),
            _ => None,
        };
        let delivered_at = (outcome.status() == NotificationStatus::Delivered).then_some(now);
        let updated = sqlx::query(
            "update notifications set status = $1, next_attempt_at = coalesce($2, next_attempt_at), \
             last_error = $3, provider_message_id = coalesce($4, provider_message_id), \
             lease_until = null, delivered_at = $5, updated_at = $6 \
             where id = $7 and worker = $8 and status = 'sending'",
        )
        .bind(outcome.status().as_str())
        .bind(retry_at)
        .bind(outcome.error())
        .bind(outcome.provider_message_id())
        .bind(delivered_at)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 1 {
            sqlx::query(
                "insert into notification_attempts (notification_id, attempt, attempted_at, \
                 outcome, error, provider_message_id) \
                 select id, attempts, $1, $2, $3, $4 from notifications where id = $5 \
                 on conflict (notification_id, attempt) do nothing",
            )
            .bind(now)
            .bind(outcome.label())
            .bind(outcome.error())
            .bind(outcome.provider_message_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(updated == 1)
    }

    async fn save_last_quotes(&self, quotes: &[LastPrice]) -> Result<(), StoreError> {
        if quotes.is_empty() {
            return Ok(());
        }
        let symbols: Vec<&str> = quotes.iter().map(|q| q.symbol.as_str()).collect();
        let prices: Vec<i64> = quotes.iter().map(|q| q.price.raw()).collect();
        let times: Vec<DateTime<Utc>> = quotes.iter().map(|q| q.at).collect();
        sqlx::query(
            "insert into alert_last_quotes (symbol, price_e9, quote_at) \
             select * from unnest($1::text[], $2::bigint[], $3::timestamptz[]) \
             on conflict (symbol) do update set price_e9 = excluded.price_e9, \
             quote_at = excluded.quote_at where excluded.quote_at >= alert_last_quotes.quote_at",
        )
        .bind(&symbols)
        .bind(&prices)
        .bind(&times)
        .execute(self.pool())
        .await?;
        Ok(())
    }
});
