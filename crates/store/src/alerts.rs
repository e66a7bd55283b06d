//! Alert rules, their firings and the notifications they owe: the storage half of the alert
//! path.
//!
//! A rule's definition and its engine state are JSON documents owned by the `alerts` crate; the
//! store keeps them whole (so the rule language grows without migrations) and indexes only what
//! it queries by: owner, symbol, status. Every read and change a user can make is scoped to the
//! owner: another user's id is "not found", never their data.
//!
//! A rule the engine cannot evaluate is *set aside* ([`AlertStore::set_aside_rules`]): it keeps
//! its status, gains a reason and a time, and leaves [`AlertStore::active_rules`] until its owner
//! changes it (any [`AlertStore::change_rule`] clears the mark) or deletes it.
//!
//! [`AlertStore::record_triggers`] is the one write of a quote's firings: in ONE transaction it
//! inserts, for each, the event (unique dedupe key: rule + quote time, so a re-evaluated tick is
//! a no-op), one outbox row per channel, and the rule's new state. Nothing is sent there; dispatchers claim
//! outbox rows ([`AlertStore::claim_notifications`]) under a lease, like ingest jobs, and record
//! every attempt in the delivery log, a claimed batch's outcomes in one write
//! ([`AlertStore::finish_notifications`]).

mod memory;
#[macro_use]
mod sql;
mod postgres;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Price, Symbol};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::StoreError;
pub(crate) use memory::MemoryAlerts;

/// The columns of a rule row, in the order [`rule`] reads them.
pub(crate) const RULE_COLUMNS: &str = "id, user_id, symbol, definition, state, status, created_at, \
    updated_at, set_aside_at, set_aside_reason";
/// The columns of an event row.
pub(crate) const EVENT_COLUMNS: &str = "id, rule_id, user_id, symbol, price_e9, quote_at, dedupe_key, \
    message, created_at, acknowledged_at";
/// The columns of a notification row.
pub(crate) const NOTIFICATION_COLUMNS: &str = "id, event_id, user_id, channel_id, idempotency_key, payload, \
    status, attempts, next_attempt_at, lease_until, worker, last_error, provider_message_id, \
    created_at, updated_at, delivered_at";
/// The columns of an attempt row.
const ATTEMPT_COLUMNS: &str =
    "notification_id, attempt, attempted_at, outcome, error, provider_message_id";

/// Whether a rule is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Evaluated on every quote of its symbol.
    Active,
    /// Paused by its owner.
    Paused,
    /// Fired under `once`; resuming re-arms it.
    Disarmed,
    /// Past its expiry.
    Expired,
}

text_enum!(RuleStatus {
    Active => "active",
    Paused => "paused",
    Disarmed => "disarmed",
    Expired => "expired",
});

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Waiting for a dispatcher (new, or waiting for its retry time).
    Pending,
    /// Claimed by a dispatcher that holds its lease.
    Sending,
    Delivered,
    /// Out of attempts, or refused for good by the receiver.
    Failed,
}

text_enum!(NotificationStatus {
    Pending => "pending",
    Sending => "sending",
    Delivered => "delivered",
    Failed => "failed",
});

/// A rule to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRule {
    pub user_id: String,
    pub symbol: Symbol,
    pub definition: serde_json::Value,
    pub state: serde_json::Value,
    pub status: RuleStatus,
}

impl NewRule {
    /// The rule as stored with `id` at `at`.
    pub(crate) fn stored(&self, id: i64, at: DateTime<Utc>) -> StoredRule {
        StoredRule {
            id,
            user_id: self.user_id.clone(),
            symbol: self.symbol,
            definition: self.definition.clone(),
            state: self.state.clone(),
            status: self.status,
            created_at: at,
            updated_at: at,
            set_aside: None,
        }
    }
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRule {
    pub id: i64,
    pub user_id: String,
    pub symbol: Symbol,
    pub definition: serde_json::Value,
    /// The engine's state as stored; `null` when the stored text is not JSON.
    pub state: serde_json::Value,
    pub status: RuleStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the engine could not evaluate the rule; cleared by any change of its owner's.
    pub set_aside: Option<RuleSetAside>,
}

/// Why and when the engine set a rule aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetAside {
    pub at: DateTime<Utc>,
    /// What is wrong, for the owner (`cooldown: must be between 1s and 366d (got …)`).
    pub reason: String,
}

/// A rule the engine cannot evaluate, to set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAsideRecord {
    pub rule_id: i64,
    /// The rule's `updated_at` when the engine loaded it: a rule its owner changed since is
    /// judged again at the next load, not set aside on the old definition's account.
    pub version: DateTime<Utc>,
    pub reason: String,
}

/// A change of a rule by its owner; `None` fields stay as they are. Any change clears a
/// set-aside mark: the engine judges the rule again when it next loads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleChange {
    pub definition: Option<serde_json::Value>,
    pub state: Option<serde_json::Value>,
    pub status: Option<RuleStatus>,
}

/// A rule's state after evaluation, to checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCheckpoint {
    pub rule_id: i64,
    /// The rule's `updated_at` when the engine loaded it: a rule its owner changed (or paused)
    /// since is not overwritten with the engine's stale view.
    pub version: DateTime<Utc>,
    pub state: serde_json::Value,
    pub status: RuleStatus,
}

/// One firing, as the engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerRecord {
    pub rule_id: i64,
    /// The rule's `updated_at` when the engine loaded it: a rule paused, replaced or deleted by
    /// its owner since fires nothing.
    pub rule_version: DateTime<Utc>,
    pub user_id: String,
    pub symbol: Symbol,
    pub price: Price,
    pub quote_at: DateTime<Utc>,
    /// Rule + quote time: the same tick evaluated twice fires once.
    pub dedupe_key: String,
    pub message: String,
    /// The rule's state and status after the firing, written in the same transaction.
    pub state: serde_json::Value,
    pub status: RuleStatus,
    /// The channels to notify: one outbox row each.
    pub channel_ids: Vec<String>,
    /// The JSON each channel is sent (the event, as receivers see it).
    pub payload: serde_json::Value,
}

/// A stored firing.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    pub id: String,
    pub rule_id: i64,
    pub user_id: String,
    pub symbol: Symbol,
    pub price: Price,
    pub quote_at: DateTime<Utc>,
    pub dedupe_key: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// An outbox row and its delivery state.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub event_id: String,
    pub user_id: String,
    pub channel_id: String,
    /// Sent with every attempt, so the receiver can drop repeats.
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub status: NotificationStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub provider_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A symbol's last accepted price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPrice {
    pub symbol: Symbol,
    pub price: Price,
    pub at: DateTime<Utc>,
}

/// See [`AlertStore::rules_fingerprint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RulesFingerprint {
    pub rules: i64,
    /// Active rules that are not set aside: the ones the engine evaluates.
    pub active: i64,
    /// Rules set aside.
    pub set_aside: i64,
    pub changed_at: Option<DateTime<Utc>>,
}

/// One delivery attempt, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub notification_id: String,
    pub attempt: u32,
    pub attempted_at: DateTime<Utc>,
    /// `delivered`, `retry` or `failed`.
    pub outcome: String,
    pub error: Option<String>,
    pub provider_message_id: Option<String>,
}

/// How one of a dispatcher's attempts ended, to record with
/// [`AlertStore::finish_notifications`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedNotification {
    /// The notification.
    pub id: String,
    pub outcome: DeliveryOutcome,
    /// When the attempt ended: the attempt's time in the log, and `delivered_at` when delivered.
    pub at: DateTime<Utc>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        provider_message_id: Option<String>,
    },
    /// Try again at `at`.
    Retry {
        error: String,
        at: DateTime<Utc>,
    },
    /// Failed for good (refused by the receiver, or out of attempts).
    Failed {
        error: String,
    },
}

impl DeliveryOutcome {
    fn label(&self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::Retry { .. } => "retry",
            Self::Failed { .. } => "failed",
        }
    }

    fn status(&self) -> NotificationStatus {
        match self {
            Self::Delivered { .. } => NotificationStatus::Delivered,
            Self::Retry { .. } => NotificationStatus::Pending,
            Self::Failed { .. } => NotificationStatus::Failed,
        }
    }

    fn error(&self) -> Option<&str> {
        match self {
            Self::Delivered { .. } => None,
            Self::Retry { error, .. } | Self::Failed { error } => Some(error),
        }
    }

    fn provider_message_id(&self) -> Option<&str> {
        match self {
            Self::Delivered {
                provider_message_id,
            } => provider_message_id.as_deref(),
            _ => None,
        }
    }
}

/// The alert path's storage.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores a rule; the store numbers it.
    async fn create_rule(&self, new: &NewRule, at: DateTime<Utc>)
    -> Result<StoredRule, StoreError>;

    /// The owner's rule with this id.
    async fn rule(&self, user_id: &str, id: i64) -> Result<Option<StoredRule>, StoreError>;

    /// The owner's rules, oldest first.
    async fn rules(&self, user_id: &str) -> Result<Vec<StoredRule>, StoreError>;

    /// Changes the owner's rule (clearing a set-aside mark); `None` when the owner has no rule
    /// with this id.
    async fn change_rule(
        &self,
        user_id: &str,
        id: i64,
        change: &RuleChange,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredRule>, StoreError>;

    /// Deletes the owner's rule (its events and notifications with it); `false` when the owner
    /// has no rule with this id.
    async fn delete_rule(&self, user_id: &str, id: i64) -> Result<bool, StoreError>;

    /// Every active rule of every user that is not set aside (what the engine loads), oldest
    /// first.
    async fn active_rules(&self) -> Result<Vec<StoredRule>, StoreError>;

    /// Sets rules aside (one transaction) with their reason, at `at`: they leave
    /// [`AlertStore::active_rules`] and their owners see why. A rule no longer active, or changed
    /// by its owner since the record's version, is left alone.
    async fn set_aside_rules(
        &self,
        rules: &[SetAsideRecord],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Saves rules' states after evaluation (one transaction); `updated_at` is left alone (it
    /// tracks changes by the owner). A rule no longer active, or changed by its owner since the
    /// checkpoint's version, keeps what the owner wrote.
    async fn checkpoint_rules(
        &self,
        checkpoints: &[RuleCheckpoint],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Writes a firing: the event, an outbox row per channel and the rule's new state, in one
    /// transaction. `None` (and nothing written) when an event with the same dedupe key exists,
    /// or when the rule is no longer active at `rule_version` (its owner paused, changed or
    /// deleted it after the engine loaded it). One firing of [`AlertStore::record_triggers`].
    async fn record_trigger(
        &self,
        trigger: &TriggerRecord,
        at: DateTime<Utc>,
    ) -> Result<Option<AlertEvent>, StoreError> {
        let mut recorded = self
            .record_triggers(std::slice::from_ref(trigger), at)
            .await?;
        Ok(recorded.pop().flatten())
    }

    /// Writes the firings of one quote, each as [`AlertStore::record_trigger`] describes, all in
    /// ONE transaction: a burst of firings costs one commit (one fsync), not one per firing, and
    /// a crash leaves none of them half-written. Returns, in `triggers`' order, each firing's
    /// event, or `None` for one that was not written (a dedupe key seen before, a rule no
    /// longer current); the others are written regardless.
    async fn record_triggers(
        &self,
        triggers: &[TriggerRecord],
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<AlertEvent>>, StoreError>;

    /// The owner's events, newest first.
    async fn alert_events(&self, user_id: &str, limit: u32) -> Result<Vec<AlertEvent>, StoreError>;

    /// Marks the owner's event as seen; `false` when the owner has no event with this id.
    async fn acknowledge_event(
        &self,
        user_id: &str,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Claims up to `limit` due notifications for `worker` until `lease_until`: pending ones
    /// whose time has come, or sending ones whose dispatcher's lease passed. Counts an attempt.
    async fn claim_notifications(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Records how `worker`'s attempt at notification `id` ended, and logs the attempt; `false`
    /// (nothing written) when the notification is no longer its own. One attempt of
    /// [`AlertStore::finish_notifications`].
    async fn finish_notification(
        &self,
        id: &str,
        worker: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let finished = FinishedNotification {
            id: id.to_owned(),
            outcome: outcome.clone(),
            at: now,
        };
        let recorded = self
            .finish_notifications(worker, std::slice::from_ref(&finished))
            .await?;
        Ok(recorded.first().copied().unwrap_or(false))
    }

    /// Records how `worker`'s attempts ended — a claimed batch's outcomes — and logs each
    /// attempt, all in one write (one transaction; one statement on PostgreSQL): a dispatcher
    /// that dies before it leaves every claim of the batch to expire and be sent again with the
    /// same idempotency key, none half-recorded. Returns, in `finished`'s order, whether each
    /// was recorded: `false` (nothing written for it) when that notification is no longer the
    /// worker's (its lease passed and another dispatcher claimed it). Each id appears once.
    async fn finish_notifications(
        &self,
        worker: &str,
        finished: &[FinishedNotification],
    ) -> Result<Vec<bool>, StoreError>;

    /// The owner's notifications, newest first.
    async fn notifications(
        &self,
        user_id: &str,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Saves symbols' last accepted prices (upserts).
    async fn save_last_quotes(&self, quotes: &[LastPrice]) -> Result<(), StoreError>;

    /// Every saved last price.
    async fn last_quotes(&self) -> Result<Vec<LastPrice>, StoreError>;

    /// A cheap fingerprint of the rule set (active count, latest change by an owner): it changes
    /// whenever a rule is created, changed, paused or deleted — not when the engine checkpoints
    /// state — so an engine knows when to reload.
    async fn rules_fingerprint(&self) -> Result<RulesFingerprint, StoreError>;

    /// The attempts of the owner's notification, oldest first; `None` when the owner has no
    /// notification with this id (another user's is "not found", like a missing one).
    async fn delivery_attempts(
        &self,
        user_id: &str,
        notification_id: &str,
    ) -> Result<Option<Vec<DeliveryAttempt>>, StoreError>;

    /// Acknowledges every unacknowledged event of the owner's rule `rule_id`; returns how many.
    async fn acknowledge_rule_events(
        &self,
        user_id: &str,
        rule_id: i64,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// The distinct symbols of the active rules not set aside (what the quote poller asks for),
    /// in order.
    async fn active_rule_symbols(&self) -> Result<Vec<Symbol>, StoreError>;

    /// The distinct symbols on anyone's watchlist, in order: the quote poller polls these too,
    /// so watchlist cards get live quotes for symbols no rule watches.
    async fn watched_symbols(&self) -> Result<Vec<Symbol>, StoreError>;
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

fn parse_json(column: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|err| StoreError::Corrupt(format!("{column} is not JSON: {err}")))
}

fn parse_symbol(text: &str) -> Result<Symbol, StoreError> {
    Symbol::parse(text).map_err(|err| StoreError::Corrupt(format!("symbol '{text}': {err}")))
}

fn count(value: i32, column: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} {value}")))
}

/// The outbox row id and idempotency key of `event_id`'s notification to `channel_id`.
fn idempotency_key(event_id: &str, channel_id: &str) -> String {
    format!("{event_id}:{channel_id}")
}

/// Reads an `alert_rules` row selected with [`RULE_COLUMNS`].
pub(crate) fn rule<'r, R>(row: &'r R) -> Result<StoredRule, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |column: &'r str| -> Result<String, StoreError> { Ok(row.try_get(column)?) };
    let set_aside_at: Option<DateTime<Utc>> = row.try_get("set_aside_at")?;
    let set_aside_reason: Option<String> = row.try_get("set_aside_reason")?;
    Ok(StoredRule {
        id: row.try_get("id")?,
        user_id: text("user_id")?,
        symbol: parse_symbol(&text("symbol")?)?,
        // A definition or state that is not JSON reads as `null`, which no rule or engine state
        // decodes from: the engine sets that one rule aside (and its owner sees it listed, to
        // replace or delete), where an error would stop every rule from loading.
        definition: parse_json("definition", &text("definition")?)
            .unwrap_or(serde_json::Value::Null),
        state: parse_json("state", &text("state")?).unwrap_or(serde_json::Value::Null),
        status: text("status")?.parse().map_err(StoreError::Corrupt)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        set_aside: set_aside_at.map(|at| RuleSetAside {
            at,
            reason: set_aside_reason.unwrap_or_default(),
        }),
    })
}

/// Reads an `alert_events` row selected with [`EVENT_COLUMNS`].
pub(crate) fn event<'r, R>(row: &'r R) -> Result<AlertEvent, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |column: &'r str| -> Result<String, StoreError> { Ok(row.try_get(column)?) };
    Ok(AlertEvent {
        id: text("id")?,
        rule_id: row.try_get("rule_id")?,
        user_id: text("user_id")?,
        symbol: parse_symbol(&text("symbol")?)?,
        price: Price::from_raw(row.try_get("price_e9")?),
        quote_at: row.try_get("quote_at")?,
        dedupe_key: text("dedupe_key")?,
        message: text("message")?,
        created_at: row.try_get("created_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
    })
}

/// Reads a `notifications` row selected with [`NOTIFICATION_COLUMNS`].
pub(crate) fn notification<'r, R>(row: &'r R) -> Result<Notification, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |column: &'r str| -> Result<String, StoreError> { Ok(row.try_get(column)?) };
    Ok(Notification {
        id: text("id")?,
        event_id: text("event_id")?,
        user_id: text("user_id")?,
        channel_id: text("channel_id")?,
        idempotency_key: text("idempotency_key")?,
        payload: parse_json("payload", &text("payload")?)?,
        status: text("status")?.parse().map_err(StoreError::Corrupt)?,
        attempts: count(row.try_get("attempts")?, "attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        lease_until: row.try_get("lease_until")?,
        worker: row.try_get("worker")?,
        last_error: row.try_get("last_error")?,
        provider_message_id: row.try_get("provider_message_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

/// Reads a `notification_attempts` row selected with [`ATTEMPT_COLUMNS`].
fn attempt<'r, R>(row: &'r R) -> Result<DeliveryAttempt, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(DeliveryAttempt {
        notification_id: row.try_get("notification_id")?,
        attempt: count(row.try_get("attempt")?, "attempt")?,
        attempted_at: row.try_get("attempted_at")?,
        outcome: row.try_get("outcome")?,
        error: row.try_get("error")?,
        provider_message_id: row.try_get("provider_message_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_names() {
        for status in [
            RuleStatus::Active,
            RuleStatus::Paused,
            RuleStatus::Disarmed,
            RuleStatus::Expired,
        ] {
            assert_eq!(status.as_str().parse::<RuleStatus>(), Ok(status));
        }
        for status in [
            NotificationStatus::Pending,
            NotificationStatus::Sending,
            NotificationStatus::Delivered,
            NotificationStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<NotificationStatus>(), Ok(status));
        }
    }
}
