//! The alert path in memory, for tests on a paused clock: the same rules as the SQL backends
//! under one lock. Foreign keys are not modelled: a channel deleted after a rule was written
//! still gets its outbox row here.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    AlertEvent, AlertStore, DeliveryAttempt, DeliveryOutcome, FinishedNotification, LastPrice,
    NewRule, Notification, NotificationStatus, RuleChange, RuleCheckpoint, RuleSetAside,
    RuleStatus, RulesFingerprint, SetAsideRecord, StoredRule, TriggerRecord, idempotency_key,
    new_id,
};
use crate::{MemoryStore, StoreError};

#[derive(Debug, Default)]
struct Tables {
    next_rule_id: i64,
    rules: Vec<StoredRule>,
    events: Vec<AlertEvent>,
    notifications: Vec<Notification>,
    attempts: Vec<DeliveryAttempt>,
    last_quotes: std::collections::HashMap<domain::Symbol, LastPrice>,
}

/// The alert tables of a [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct MemoryAlerts {
    tables: Mutex<Tables>,
}

impl MemoryAlerts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn due(n: &Notification, now: DateTime<Utc>) -> bool {
    match n.status {
        NotificationStatus::Pending => n.next_attempt_at <= now,
        NotificationStatus::Sending => n.lease_until.is_some_and(|lease| lease < now),
        NotificationStatus::Delivered | NotificationStatus::Failed => false,
    }
}

#[async_trait]
impl AlertStore for MemoryStore {
    async fn create_rule(
        &self,
        new: &NewRule,
        at: DateTime<Utc>,
    ) -> Result<StoredRule, StoreError> {
        let mut tables = self.alerts.lock();
        tables.next_rule_id += 1;
        let rule = new.stored(tables.next_rule_id, at);
        tables.rules.push(rule.clone());
        Ok(rule)
    }

    async fn rule(&self, user_id: &str, id: i64) -> Result<Option<StoredRule>, StoreError> {
        Ok(self
            .alerts
            .lock()
            .rules
            .iter()
            .find(|r| r.id == id && r.user_id == user_id)
            .cloned())
    }

    async fn rules(&self, user_id: &str) -> Result<Vec<StoredRule>, StoreError> {
        Ok(self
            .alerts
            .lock()
            .rules
            .iter()
            .filter(|r| r.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn change_rule(
        &self,
        user_id: &str,
        id: i64,
        change: &RuleChange,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredRule>, StoreError> {
        let mut tables = self.alerts.lock();
        let Some(rule) = tables
            .rules
            .iter_mut()
            .find(|r| r.id == id && r.user_id == user_id)
        else {
            return Ok(None);
        };
        if let Some(definition) = &change.definition {
            rule.definition = definition.clone();
        }
        if let Some(state) = &change.state {
            rule.state = state.clone();
        }
        if let Some(status) = change.status {
            rule.status = status;
        }
        rule.updated_at = at;
        rule.set_aside = None;
        Ok(Some(rule.clone()))
    }

    async fn delete_rule(&self, user_id: &str, id: i64) -> Result<bool, StoreError> {
        let mut tables = self.alerts.lock();
        let before = tables.rules.len();
        tables
            .rules
            .retain(|r| !(r.id == id && r.user_id == user_id));
        let deleted = tables.rules.len() < before;
        if deleted {
            let events: Vec<String> = tables
                .events
                .iter()
                .filter(|e| e.rule_id == id)
                .map(|e| e.id.clone())
                .collect();
            tables.events.retain(|e| e.rule_id != id);
            tables
                .notifications
                .retain(|n| !events.contains(&n.event_id));
        }
        Ok(deleted)
    }

    async fn active_rules(&self) -> Result<Vec<StoredRule>, StoreError> {
        Ok(self
            .alerts
            .lock()
            .rules
            .iter()
            .filter(|r| r.status == RuleStatus::Active && r.set_aside.is_none())
            .cloned()
            .collect())
    }

    async fn set_aside_rules(
        &self,
        rules: &[SetAsideRecord],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.alerts.lock();
        for record in rules {
            if let Some(rule) = tables.rules.iter_mut().find(|r| {
                r.id == record.rule_id
                    && r.updated_at == record.version
                    && r.status == RuleStatus::Active
                    && r.set_aside.is_none()
            }) {
                rule.set_aside = Some(RuleSetAside {
                    at,
                    reason: record.reason.clone(),
                });
            }
        }
        Ok(())
    }

    async fn checkpoint_rules(
        &self,
        checkpoints: &[RuleCheckpoint],
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.alerts.lock();
        for checkpoint in checkpoints {
            if let Some(rule) = tables.rules.iter_mut().find(|r| {
                r.id == checkpoint.rule_id
                    && r.status == RuleStatus::Active
                    && r.updated_at == checkpoint.version
            }) {
                rule.state = checkpoint.state.clone();
                rule.status = checkpoint.status;
            }
        }
        Ok(())
    }

    async fn record_triggers(
        &self,
        triggers: &[TriggerRecord],
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<AlertEvent>>, StoreError> {
        // One lock for the burst, as one transaction elsewhere.
        let mut tables = self.alerts.lock();
        Ok(triggers
            .iter()
            .map(|trigger| record_one(&mut tables, trigger, at))
            .collect())
    }

    async fn alert_events(&self, user_id: &str, limit: u32) -> Result<Vec<AlertEvent>, StoreError> {
        Ok(self
            .alerts
            .lock()
            .events
            .iter()
            .rev()
            .filter(|e| e.user_id == user_id)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn acknowledge_event(
        &self,
        user_id: &str,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.alerts.lock();
        let Some(event) = tables
            .events
            .iter_mut()
            .find(|e| e.id == event_id && e.user_id == user_id)
        else {
            return Ok(false);
        };
        event.acknowledged_at.get_or_insert(at);
        Ok(true)
    }

    async fn claim_notifications(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut tables = self.alerts.lock();
        let mut due_ids: Vec<(DateTime<Utc>, String)> = tables
            .notifications
            .iter()
            .filter(|n| due(n, now))
            .map(|n| (n.next_attempt_at, n.id.clone()))
            .collect();
        due_ids.sort();
        due_ids.truncate(limit as usize);
        let mut claimed = Vec::new();
        for (_, id) in due_ids {
            if let Some(n) = tables.notifications.iter_mut().find(|n| n.id == id) {
                n.status = NotificationStatus::Sending;
                n.attempts += 1;
                n.worker = Some(worker.to_owned());
                n.lease_until = Some(lease_until);
                n.updated_at = now;
                claimed.push(n.clone());
            }
        }
        Ok(claimed)
    }

    async fn finish_notifications(
        &self,
        worker: &str,
        finished: &[FinishedNotification],
    ) -> Result<Vec<bool>, StoreError> {
        // Under one lock: the batch is recorded whole, like the SQL backends' transaction.
        let mut tables = self.alerts.lock();
        let mut recorded = Vec::with_capacity(finished.len());
        for done in finished {
            let outcome = &done.outcome;
            let Some(n) = tables.notifications.iter_mut().find(|n| {
                n.id == done.id
                    && n.worker.as_deref() == Some(worker)
                    && n.status == NotificationStatus::Sending
            }) else {
                recorded.push(false);
                continue;
            };
            n.status = outcome.status();
            if let DeliveryOutcome::Retry { at, .. } = outcome {
                n.next_attempt_at = *at;
            }
            n.last_error = outcome.error().map(str::to_owned);
            if let Some(message_id) = outcome.provider_message_id() {
                n.provider_message_id = Some(message_id.to_owned());
            }
            n.lease_until = None;
            n.delivered_at = (outcome.status() == NotificationStatus::Delivered).then_some(done.at);
            n.updated_at = done.at;
            let attempt = DeliveryAttempt {
                notification_id: n.id.clone(),
                attempt: n.attempts,
                attempted_at: done.at,
                outcome: outcome.label().to_owned(),
                error: outcome.error().map(str::to_owned),
                provider_message_id: outcome.provider_message_id().map(str::to_owned),
            };
            tables.attempts.push(attempt);
            recorded.push(true);
        }
        Ok(recorded)
    }

    async fn notifications(
        &self,
        user_id: &str,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        Ok(self
            .alerts
            .lock()
            .notifications
            .iter()
            .rev()
            .filter(|n| n.user_id == user_id)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn save_last_quotes(&self, quotes: &[LastPrice]) -> Result<(), StoreError> {
        let mut tables = self.alerts.lock();
        for quote in quotes {
            let newer = tables
                .last_quotes
                .get(&quote.symbol)
                .is_none_or(|stored| stored.at <= quote.at);
            if newer {
                tables.last_quotes.insert(quote.symbol, *quote);
            }
        }
        Ok(())
    }

    async fn last_quotes(&self) -> Result<Vec<LastPrice>, StoreError> {
        Ok(self.alerts.lock().last_quotes.values().copied().collect())
    }

    async fn rules_fingerprint(&self) -> Result<RulesFingerprint, StoreError> {
        let tables = self.alerts.lock();
        Ok(RulesFingerprint {
            rules: tables.rules.len() as i64,
            active: tables
                .rules
                .iter()
                .filter(|r| r.status == RuleStatus::Active && r.set_aside.is_none())
                .count() as i64,
            set_aside: tables
                .rules
                .iter()
                .filter(|r| r.set_aside.is_some())
                .count() as i64,
            changed_at: tables.rules.iter().map(|r| r.updated_at).max(),
        })
    }

    async fn delivery_attempts(
        &self,
        user_id: &str,
        notification_id: &str,
    ) -> Result<Option<Vec<DeliveryAttempt>>, StoreError> {
        let tables = self.alerts.lock();
        let owned = tables
            .notifications
            .iter()
            .any(|n| n.id == notification_id && n.user_id == user_id);
        Ok(owned.then(|| {
            tables
                .attempts
                .iter()
                .filter(|a| a.notification_id == notification_id)
                .cloned()
                .collect()
        }))
    }

    async fn acknowledge_rule_events(
        &self,
        user_id: &str,
        rule_id: i64,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tables = self.alerts.lock();
        let mut acknowledged = 0;
        for event in tables
            .events
            .iter_mut()
            .filter(|e| e.rule_id == rule_id && e.user_id == user_id && e.acknowledged_at.is_none())
        {
            event.acknowledged_at = Some(at);
            acknowledged += 1;
        }
        Ok(acknowledged)
    }

    async fn active_rule_symbols(&self) -> Result<Vec<domain::Symbol>, StoreError> {
        let symbols: std::collections::BTreeSet<domain::Symbol> = self
            .alerts
            .lock()
            .rules
            .iter()
            .filter(|r| r.status == RuleStatus::Active && r.set_aside.is_none())
            .map(|r| r.symbol)
            .collect();
        Ok(symbols.into_iter().collect())
    }

    async fn watched_symbols(&self) -> Result<Vec<domain::Symbol>, StoreError> {
        Ok(self.accounts.watched_symbols().into_keys().collect())
    }
}

/// One firing of [`AlertStore::record_triggers`], under the tables' lock.
fn record_one(
    tables: &mut Tables,
    trigger: &TriggerRecord,
    at: DateTime<Utc>,
) -> Option<AlertEvent> {
    let current = tables.rules.iter().any(|r| {
        r.id == trigger.rule_id
            && r.status == RuleStatus::Active
            && r.updated_at == trigger.rule_version
    });
    if !current
        || tables
            .events
            .iter()
            .any(|e| e.dedupe_key == trigger.dedupe_key)
    {
        return None;
    }
    let event = AlertEvent {
        id: new_id(),
        rule_id: trigger.rule_id,
        user_id: trigger.user_id.clone(),
        symbol: trigger.symbol,
        price: trigger.price,
        quote_at: trigger.quote_at,
        dedupe_key: trigger.dedupe_key.clone(),
        message: trigger.message.clone(),
        created_at: at,
        acknowledged_at: None,
    };
    for channel_id in &trigger.channel_ids {
        tables.notifications.push(Notification {
            id: new_id(),
            event_id: event.id.clone(),
            user_id: trigger.user_id.clone(),
            channel_id: channel_id.clone(),
            idempotency_key: idempotency_key(&event.id, channel_id),
            payload: trigger.payload.clone(),
            status: NotificationStatus::Pending,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            worker: None,
            last_error: None,
            provider_message_id: None,
            created_at: at,
            updated_at: at,
            delivered_at: None,
        });
    }
    if let Some(rule) = tables.rules.iter_mut().find(|r| r.id == trigger.rule_id) {
        rule.state = trigger.state.clone();
        rule.status = trigger.status;
    }
    tables.events.push(event.clone());
    Some(event)
}
