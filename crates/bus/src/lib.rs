//! stockd's event bus: quotes, alert events, notification status, outbox nudges and signal
//! label changes, as typed JSON events.
//!
//! [`connect`] picks the implementation: in-process tokio channels ([`MemoryBus`]) by default,
//! NATS JetStream ([`JetStreamBus`]) when a URL is given, or Kafka (`KafkaBus`, cargo feature
//! `kafka`) when brokers are, so several replicas split the work. All offer the same contract
//! (Kafka's differences are in the `kafka` module: assignment instead of leases, and watch
//! sequences per watcher):
//!
//! - **At-least-once.** A [`Delivery`] must be acked; one that is not acked within
//!   `ack_wait` is delivered again ([`Delivery::attempt`] counts). `nak` hands it back at once.
//!   Dropping it unacked: the in-process bus redelivers at once, JetStream after `ack_wait`.
//! - **Groups.** Subscribers of one `group` split the events (work queue); different groups
//!   each get every event (fan-out). A group exists from its first subscription on: events
//!   published before then are not delivered to it.
//! - **Quotes are partitioned by symbol** ([`partition_of`], `partitions` in [`BusConfig`]):
//!   within a group each partition has one owner at a time and its quotes arrive in order, one
//!   in flight. In process, the first subscriber owns every partition and the next takes over
//!   when it goes; on JetStream, partitions are leased and balanced across the group's
//!   subscribers (see the `partition` module), and a dead subscriber's partitions move after
//!   `partition_lease`.
//! - **Watching** ([`Bus::watch`]): every event from now on, in order, with a sequence that is
//!   the same on every replica (JetStream's stream sequence), for live views; best effort and
//!   unacknowledged.
//! - **Leadership** ([`Bus::leadership`]): a job only one replica may do at a time (the quote
//!   poller). In process the replica always leads; on JetStream one replica holds a lease key
//!   and another takes over within `partition_lease` of its death (see the `leader` module).
//!
//! Subjects are `<prefix>.quotes.p<k>.<SYMBOL>` (`.` in a symbol becomes `_`),
//! `<prefix>.alerts.fired`, `<prefix>.notifications.status`, `<prefix>.outbox.ready` and
//! `<prefix>.signals.label_changed`.
//! Metrics: `stock_api_bus_published_total{stream}`, `stock_api_bus_delivered_total{stream}`,
//! `stock_api_bus_redelivered_total{stream}`.

mod config;
mod delivery;
mod event;
mod jetstream;
#[cfg(feature = "kafka")]
mod kafka;
mod leader;
mod memory;
mod metrics;
mod partition;
mod watch;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

pub use config::{BusConfig, BusError, KafkaConfig};
pub use delivery::{Delivery, Subscription};
pub use event::{
    AlertFired, Event, NewsIngested, NotificationStatus, OutboxReady, QuoteEvent, SCHEMA_VERSION,
    SignalLabelChanged, StreamKind, partition_of, symbol_token,
};
pub use jetstream::{JetStreamBus, without_credentials};
#[cfg(feature = "kafka")]
pub use kafka::KafkaBus;
pub use leader::Leadership;
pub use memory::{MemoryBus, WATCH_CAPACITY};
pub use watch::{Watch, Watched};

/// Publishes events and subscribes groups to a stream of them.
#[async_trait]
pub trait Bus: Send + Sync + Debug {
    /// Publishes one event; on JetStream it is stored when this returns.
    async fn publish(&self, event: &Event) -> Result<(), BusError>;

    /// Subscribes to `kind` as a member of `group` (`[A-Za-z0-9_-]`, at most 32 characters).
    async fn subscribe(&self, kind: StreamKind, group: &str) -> Result<Subscription, BusError>;

    /// Watches every event published from now on, of every stream and every replica, with
    /// its sequence; nothing to acknowledge, nothing taken from any group (see [`Watch`]).
    async fn watch(&self) -> Result<Watch, BusError>;

    /// Claims the leadership `name` (`[A-Za-z0-9_-]`, at most 32 characters) for this replica:
    /// at most one claimant of a deployment leads at a time. In process: always the leader.
    async fn leadership(&self, name: &str) -> Result<Leadership, BusError> {
        config::validate_group(name)?;
        Ok(Leadership::always())
    }
}

/// The bus for a deployment: Kafka with `config.kafka` (topics created if missing), else
/// JetStream at `url` when given (stream and lease bucket created if missing), else in-process.
pub async fn connect(url: Option<&str>, config: BusConfig) -> Result<Arc<dyn Bus>, BusError> {
    let url = url.map(str::trim).filter(|url| !url.is_empty());
    match (url, &config.kafka) {
        (Some(_), Some(_)) => Err(BusError::Config(
            "both NATS and Kafka are configured: choose one bus".into(),
        )),
        (None, Some(_)) => connect_kafka(config).await,
        (Some(url), None) => Ok(Arc::new(JetStreamBus::connect(url, config).await?)),
        (None, None) => Ok(Arc::new(MemoryBus::new(config)?)),
    }
}

#[cfg(feature = "kafka")]
async fn connect_kafka(config: BusConfig) -> Result<Arc<dyn Bus>, BusError> {
    Ok(Arc::new(KafkaBus::connect(config).await?))
}

#[cfg(not(feature = "kafka"))]
async fn connect_kafka(_config: BusConfig) -> Result<Arc<dyn Bus>, BusError> {
    Err(BusError::Config(
        "Kafka brokers are configured, but this build has no Kafka bus (build with `--features kafka`)".into(),
    ))
}
