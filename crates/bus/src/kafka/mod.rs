//! The Kafka bus (feature `kafka`): one topic per stream kind, named like the NATS subjects
//! (`<prefix>.quotes`, `<prefix>.alerts.fired`, …), each with `partitions` partitions, and a
//! consumer group per (stream kind, group): `<prefix>.<kind>.<group>`.
//!
//! - **Quotes** go to partition [`partition_of`](crate::partition_of) of their symbol (the same
//!   split as on NATS), keyed by the symbol. The group's assignment is the partition lease:
//!   the broker gives each partition to one member, moves a dead member's partitions after
//!   the session timeout (`partition_lease`), and spreads them over the members.
//! - **Other streams** are spread over their partitions round-robin, so a group's members
//!   share the work (one member per partition: `partitions` is the most that work at once).
//! - **One in flight per partition, acknowledged**: a member hands over a partition's next
//!   record only when the previous one was acked, and commits the offset after it then. An
//!   unacked record is delivered again after `ack_wait` (or at once on `nak`); a partition
//!   that moves to another member starts there from the last committed offset, so
//!   everything unacknowledged reaches the new owner (at-least-once).
//! - **New groups** start at the end: a subscription commits the current end offsets for a
//!   group that has none before it joins, so events published after `subscribe` returns are
//!   kept for the group even while the broker is still assigning partitions.
//!
//! Records are the events' JSON with `schema_version` (see `docs/events.md`).

mod assignment;
mod group;
mod leader;
mod watch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;

use crate::config::{BusConfig, BusError, KafkaConfig, validate_group};
use crate::delivery::Subscription;
use crate::event::{Event, StreamKind, encode, kind_subject, partition_of};
use crate::watch::Watch;
use crate::{Bus, Leadership, metrics};

/// How long a publish may wait for the brokers before it fails.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// See the module docs.
#[derive(Clone)]
pub struct KafkaBus {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) config: BusConfig,
    pub(crate) kafka: KafkaConfig,
    producer: FutureProducer,
    /// Where the next unkeyed event goes (round-robin over the partitions).
    next_partition: AtomicU32,
    pub(crate) registry: assignment::Registry,
}

impl KafkaBus {
    /// Connects (with `config.kafka`) and creates the topics that are missing (idempotent:
    /// replicas starting together, or a restart, find what the first one made).
    pub async fn connect(config: BusConfig) -> Result<Self, BusError> {
        config.validate()?;
        let Some(kafka) = config.kafka.clone() else {
            return Err(BusError::Config("no Kafka brokers configured".into()));
        };
        let producer: FutureProducer = client_config(&kafka)
            .set("acks", "all")
            .set("linger.ms", "0")
            .set(
                "message.timeout.ms",
                PUBLISH_TIMEOUT.as_millis().to_string(),
            )
            .create()
            .map_err(BusError::kafka)?;
        let inner = Inner {
            config,
            kafka,
            producer,
            next_partition: AtomicU32::new(0),
            registry: assignment::Registry::default(),
        };
        inner.create_topics().await?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub fn config(&self) -> &BusConfig {
        &self.inner.config
    }

    /// How many partitions each of this bus's members of (`kind`, `group`) holds, as the
    /// broker assigned them (member id → count; members holding none left out).
    pub fn assignment(&self, kind: StreamKind, group: &str) -> BTreeMap<String, usize> {
        self.inner
            .registry
            .shares(&self.inner.group_id(kind, group))
    }

    /// Which of this bus's claimants of `name` leads (its member id), if one does.
    pub fn leader(&self, name: &str) -> Option<String> {
        let shares = self
            .inner
            .registry
            .shares(&self.inner.leader_group_id(name));
        shares.into_keys().next()
    }

    /// Deletes this bus's topics (tests clean up with it).
    pub async fn destroy(&self) -> Result<(), BusError> {
        let admin = self.inner.admin()?;
        let topics = self.inner.topics();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        admin
            .delete_topics(&names, &AdminOptions::new())
            .await
            .map_err(BusError::kafka)?;
        Ok(())
    }
}

/// Drops a librdkafka client on a thread of its own: closing a consumer waits for the broker
/// (leaving its group), and librdkafka 2.3's destroy can then wait on its broker threads for
/// long after; nothing of ours needs to wait for either.
pub(crate) fn close_in_background<T: Send + 'static>(client: T) {
    let spawned = std::thread::Builder::new()
        .name("kafka-close".into())
        .spawn(move || drop(client));
    if let Err(error) = spawned {
        tracing::warn!(%error, "bus: cannot start a thread to close a Kafka client");
    }
}

/// librdkafka's settings for `kafka`: brokers, TLS and SASL.
pub(crate) fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", kafka.brokers.trim())
        .set("client.id", "stockd")
        .set(
            "security.protocol",
            kafka.security_protocol.to_ascii_lowercase(),
        );
    if let Some(mechanism) = &kafka.sasl_mechanism {
        config.set("sasl.mechanism", mechanism.to_ascii_uppercase());
    }
    if let Some(username) = &kafka.sasl_username {
        config.set("sasl.username", username);
    }
    if let Some(password) = &kafka.sasl_password {
        config.set("sasl.password", password);
    }
    if let Some(ca) = &kafka.ssl_ca_location {
        config.set("ssl.ca.location", ca);
    }
    config
}

impl Inner {
    /// The topic of `kind`.
    pub(crate) fn topic(&self, kind: StreamKind) -> String {
        kind_subject(&self.config.prefix, kind)
    }

    /// The topic whose single partition leaderships are assigned over.
    pub(crate) fn leader_topic(&self) -> String {
        format!("{}.leader", self.config.prefix)
    }

    fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = StreamKind::ALL.iter().map(|k| self.topic(*k)).collect();
        topics.push(self.leader_topic());
        topics
    }

    fn admin(&self) -> Result<AdminClient<DefaultClientContext>, BusError> {
        client_config(&self.kafka).create().map_err(BusError::kafka)
    }

    async fn create_topics(&self) -> Result<(), BusError> {
        let admin = self.admin()?;
        let retention = self.config.max_age.as_millis().to_string();
        let partitions = i32::from(self.config.partitions);
        let topics = self.topics();
        let leader = self.leader_topic();
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|name| {
                let count = if *name == leader { 1 } else { partitions };
                // -1: the cluster's default replication factor.
                NewTopic::new(name, count, TopicReplication::Fixed(-1))
                    .set("retention.ms", &retention)
            })
            .collect();
        let results = admin
            .create_topics(&new, &AdminOptions::new())
            .await
            .map_err(BusError::kafka)?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(BusError::Kafka(format!(
                        "cannot create topic {topic}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The consumer group of the claimants of leadership `name`.
    pub(crate) fn leader_group_id(&self, name: &str) -> String {
        format!("{}.leader.{name}", self.config.prefix)
    }

    /// The consumer group of (`kind`, `group`).
    pub(crate) fn group_id(&self, kind: StreamKind, group: &str) -> String {
        format!("{}.{}.{group}", self.config.prefix, kind.as_str())
    }
}

#[async_trait]
impl Bus for KafkaBus {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        let inner = &self.inner;
        let payload = encode(event)?;
        let topic = inner.topic(event.kind());
        let partitions = u32::from(inner.config.partitions);
        let (partition, key) = match event {
            Event::Quote(quote) => (
                u32::from(partition_of(&quote.symbol, inner.config.partitions)),
                Some(quote.symbol.as_str()),
            ),
            _ => (
                inner.next_partition.fetch_add(1, Ordering::Relaxed) % partitions,
                None,
            ),
        };
        let mut record = FutureRecord::<str, [u8]>::to(&topic)
            .payload(&payload)
            .partition(i32::try_from(partition).unwrap_or(0));
        if let Some(key) = key {
            record = record.key(key);
        }
        // `acks=all`: stored by the in-sync replicas when this returns.
        inner
            .producer
            .send(record, PUBLISH_TIMEOUT)
            .await
            .map_err(|(error, _)| BusError::kafka(error))?;
        metrics::published(event.kind());
        Ok(())
    }

    async fn subscribe(&self, kind: StreamKind, group: &str) -> Result<Subscription, BusError> {
        validate_group(group)?;
        let (mut subscription, feed) = Subscription::channel(kind, group);
        let member = group::Member::join(self.inner.clone(), kind, group).await?;
        subscription.push_task(tokio::spawn(member.run(feed)));
        Ok(subscription)
    }

    async fn watch(&self) -> Result<Watch, BusError> {
        watch::start(self.inner.clone()).await
    }

    async fn leadership(&self, name: &str) -> Result<Leadership, BusError> {
        validate_group(name)?;
        leader::claim(self.inner.clone(), name).await
    }
}
