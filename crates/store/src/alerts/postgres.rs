//! The alert path on PostgreSQL: dispatchers claim outbox rows with `for update skip locked`,
//! so several replicas take different notifications without waiting on each other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    ATTEMPT_COLUMNS, AlertEvent, AlertStore, DeliveryAttempt, DeliveryOutcome, EVENT_COLUMNS,
    FinishedNotification, LastPrice, NOTIFICATION_COLUMNS, NewRule, Notification, RULE_COLUMNS,
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

    async fn record_triggers(
        &self,
        triggers: &[TriggerRecord],
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<AlertEvent>>, StoreError> {
        let layers = layers_by_rule(triggers);
        match layers.as_slice() {
            [] => Ok(Vec::new()),
            // One statement is its own transaction.
            [only] => record_burst(self.pool(), &pick(triggers, only), at).await,
            _ => {
                // A rule firing more than once (two quotes of its symbol): one statement per
                // layer, in one transaction, so its later firing sees what the earlier wrote
                // (one statement reads a single snapshot).
                let mut tx = self.pool().begin().await?;
                let mut recorded: Vec<Option<AlertEvent>> = vec![None; triggers.len()];
                for layer in &layers {
                    let written = record_burst(&mut *tx, &pick(triggers, layer), at).await?;
                    for (&index, event) in layer.iter().zip(written) {
                        recorded[index] = event;
                    }
                }
                tx.commit().await?;
                Ok(recorded)
            }
        }
    }

    async fn finish_notifications(
        &self,
        worker: &str,
        finished: &[FinishedNotification],
    ) -> Result<Vec<bool>, StoreError> {
        if finished.is_empty() {
            return Ok(Vec::new());
        }
        // One statement over arrays (one round trip, one implicit transaction): each outcome
        // updates its row if the worker still holds it, and each row updated logs its attempt.
        let ids: Vec<&str> = finished.iter().map(|f| f.id.as_str()).collect();
        let statuses: Vec<&str> = finished
            .iter()
            .map(|f| f.outcome.status().as_str())
            .collect();
        let labels: Vec<&str> = finished.iter().map(|f| f.outcome.label()).collect();
        let retry_at: Vec<Option<DateTime<Utc>>> = finished
            .iter()
            .map(|f| match &f.outcome {
                DeliveryOutcome::Retry { at, .. } => Some(*at),
                _ => None,
            })
            .collect();
        let errors: Vec<Option<&str>> = finished.iter().map(|f| f.outcome.error()).collect();
        let message_ids: Vec<Option<&str>> = finished
            .iter()
            .map(|f| f.outcome.provider_message_id())
            .collect();
        let times: Vec<DateTime<Utc>> = finished.iter().map(|f| f.at).collect();
        let done: Vec<String> = sqlx::query_scalar(
            "with v as ( \
                 select * from unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], \
                     $6::text[], $7::text[], $8::timestamptz[]) \
                     as v(id, status, outcome, retry_at, error, provider_message_id, at)), \
             done as ( \
                 update notifications n set status = v.status, \
                     next_attempt_at = coalesce(v.retry_at, n.next_attempt_at), \
                     last_error = v.error, \
                     provider_message_id = coalesce(v.provider_message_id, n.provider_message_id), \
                     lease_until = null, \
                     delivered_at = case when v.status = 'delivered' then v.at end, \
                     updated_at = v.at \
                 from v where n.id = v.id and n.worker = $1 and n.status = 'sending' \
                 returning n.id, n.attempts, v.outcome, v.error, v.provider_message_id, v.at), \
             logged as ( \
                 insert into notification_attempts (notification_id, attempt, attempted_at, \
                     outcome, error, provider_message_id) \
                 select id, attempts, at, outcome, error, provider_message_id from done \
                 on conflict (notification_id, attempt) do nothing) \
             select id from done",
        )
        .bind(worker)
        .bind(&ids)
        .bind(&statuses)
        .bind(&labels)
        .bind(&retry_at)
        .bind(&errors)
        .bind(&message_ids)
        .bind(&times)
        .fetch_all(self.pool())
        .await?;
        let done: std::collections::HashSet<&str> = done.iter().map(String::as_str).collect();
        Ok(finished
            .iter()
            .map(|f| done.contains(f.id.as_str()))
            .collect())
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

/// A burst split so that no layer holds two firings of one rule: each firing goes to the layer
/// after its rule's previous one. Usually one layer, the whole burst. A layer lists its
/// firings' indices in the burst, in burst order.
fn layers_by_rule(triggers: &[TriggerRecord]) -> Vec<Vec<usize>> {
    let mut layers: Vec<Vec<usize>> = Vec::new();
    let mut seen: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for (index, trigger) in triggers.iter().enumerate() {
        let depth = seen.entry(trigger.rule_id).or_insert(0);
        if layers.len() == *depth {
            layers.push(Vec::new());
        }
        layers[*depth].push(index);
        *depth += 1;
    }
    layers
}

/// The firings of one layer.
fn pick<'t>(triggers: &'t [TriggerRecord], layer: &[usize]) -> Vec<&'t TriggerRecord> {
    layer.iter().map(|&index| &triggers[index]).collect()
}

/// Firings of different rules in ONE statement over arrays (one round trip): for each, the guard
/// (the rule is still active and at the version the engine loaded, else nothing is written),
/// the event (unique dedupe key: a re-evaluated tick is a no-op), one outbox row per channel,
/// and the rule's new state. Answered in the order given: each firing's event, or `None`. Fifty
/// firings on one quote took fifty round trips as a statement each.
async fn record_burst<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    triggers: &[&TriggerRecord],
    at: DateTime<Utc>,
) -> Result<Vec<Option<AlertEvent>>, StoreError> {
    let event_ids: Vec<String> = triggers.iter().map(|_| new_id()).collect();
    let rule_ids: Vec<i64> = triggers.iter().map(|t| t.rule_id).collect();
    let versions: Vec<DateTime<Utc>> = triggers.iter().map(|t| t.rule_version).collect();
    let users: Vec<&str> = triggers.iter().map(|t| t.user_id.as_str()).collect();
    let symbols: Vec<&str> = triggers.iter().map(|t| t.symbol.as_str()).collect();
    let prices: Vec<i64> = triggers.iter().map(|t| t.price.raw()).collect();
    let quote_times: Vec<DateTime<Utc>> = triggers.iter().map(|t| t.quote_at).collect();
    let dedupe_keys: Vec<&str> = triggers.iter().map(|t| t.dedupe_key.as_str()).collect();
    let messages: Vec<&str> = triggers.iter().map(|t| t.message.as_str()).collect();
    let payloads: Vec<String> = triggers.iter().map(|t| json_text(&t.payload)).collect();
    let states: Vec<String> = triggers.iter().map(|t| json_text(&t.state)).collect();
    let statuses: Vec<&str> = triggers.iter().map(|t| t.status.as_str()).collect();
    // The channels, flattened: (the firing's event id, a channel id) per outbox row.
    let (target_events, target_channels): (Vec<&str>, Vec<&str>) = triggers
        .iter()
        .zip(&event_ids)
        .flat_map(|(trigger, event_id)| {
            trigger
                .channel_ids
                .iter()
                .map(move |channel| (event_id.as_str(), channel.as_str()))
        })
        .unzip();
    let rows = sqlx::query(AssertSqlSafe(format!(
        "with v as ( \
             select * from unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], \
                 $5::text[], $6::bigint[], $7::timestamptz[], $8::text[], $9::text[], \
                 $10::text[], $11::text[], $12::text[]) \
                 as v(event_id, rule_id, version, user_id, symbol, price_e9, quote_at, \
                     dedupe_key, message, payload, state, status)), \
         current_rule as ( \
             select v.* from v join alert_rules r on r.id = v.rule_id \
             and r.status = 'active' and r.updated_at = v.version), \
         event as ( \
             insert into alert_events (id, rule_id, user_id, symbol, price_e9, quote_at, \
                 dedupe_key, message, created_at) \
             select event_id, rule_id, user_id, symbol, price_e9, quote_at, dedupe_key, \
                 message, $13 from current_rule \
             on conflict (dedupe_key) do nothing \
             returning {EVENT_COLUMNS}), \
         outbox as ( \
             insert into notifications (id, event_id, user_id, channel_id, \
                 idempotency_key, payload, status, attempts, next_attempt_at, created_at, \
                 updated_at) \
             select gen_random_uuid()::text, event.id, event.user_id, c.id, \
                 event.id || ':' || c.id, v.payload, 'pending', 0, $13, $13, $13 \
             from event join v on v.event_id = event.id \
             join unnest($14::text[], $15::text[]) as t(event_id, channel_id) \
                 on t.event_id = event.id \
             join channels c on c.user_id = event.user_id and c.id = t.channel_id), \
         rule_state as ( \
             update alert_rules r set state = v.state, status = v.status \
             from event join v on v.event_id = event.id where r.id = event.rule_id) \
         select {EVENT_COLUMNS} from event"
    )))
    .bind(&event_ids)
    .bind(&rule_ids)
    .bind(&versions)
    .bind(&users)
    .bind(&symbols)
    .bind(&prices)
    .bind(&quote_times)
    .bind(&dedupe_keys)
    .bind(&messages)
    .bind(&payloads)
    .bind(&states)
    .bind(&statuses)
    .bind(at)
    .bind(&target_events)
    .bind(&target_channels)
    .fetch_all(executor)
    .await?;
    let mut written = rows
        .iter()
        .map(|row| event(row).map(|event| (event.id.clone(), event)))
        .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
    // Answered in the burst's order: each firing's event, or None where it was skipped.
    Ok(event_ids.iter().map(|id| written.remove(id)).collect())
}
