//! One member of a Kafka consumer group: the partitions the broker assigns it, one delivery in
//! flight per partition, commits after acks, redelivery after `ack_wait` (see the parent
//! module's docs for the guarantees).
//!
//! librdkafka keeps fetching while deliveries wait for their acks; a partition whose records
//! pile up beyond [`BACKLOG`] is paused at the broker until its backlog drains.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::assignment::{Assignment, GroupContext};
use super::{Inner, client_config, close_in_background};
use crate::config::BusError;
use crate::delivery::{Acker, Delivery, Feed};
use crate::event::{Event, StreamKind};
use crate::metrics;

/// Records held per partition before it is paused.
const BACKLOG: usize = 64;
/// How long blocking group calls (offsets, metadata) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) type GroupConsumer = StreamConsumer<GroupContext>;

/// A consumer in group `group_id` with offsets committed by hand; `lease` is the session
/// timeout (how long until a silent member's partitions move).
pub(crate) fn group_consumer(
    inner: &Inner,
    group_id: &str,
    assignment: Arc<Assignment>,
) -> Result<GroupConsumer, BusError> {
    let lease = inner.config.partition_lease.as_millis();
    client_config(&inner.kafka)
        .set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Only partitions without a committed offset; `seed_offsets` commits one first.
        .set("auto.offset.reset", "earliest")
        // Sticky: a member keeps its partitions (and a leader its leadership) when others
        // join; cooperative: the others go on consuming during a rebalance.
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", lease.to_string())
        .set("heartbeat.interval.ms", (lease / 3).to_string())
        // The member loop always polls; a member that stops (crashed) leaves after a lease.
        .set("max.poll.interval.ms", lease.to_string())
        // Bounds the wait for the next record when a broker holds fetches open.
        .set("fetch.wait.max.ms", "100")
        .create_with_context(GroupContext { assignment })
        .map_err(BusError::kafka)
}

/// Commits the end offsets of `topic`'s partitions that have no committed offset in the
/// consumer's group: a new group starts with events published from now on.
pub(crate) fn seed_offsets(consumer: &GroupConsumer, topic: &str) -> Result<(), KafkaError> {
    let metadata = consumer.fetch_metadata(Some(topic), CALL_TIMEOUT)?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len());
    let mut all = TopicPartitionList::new();
    for partition in 0..partitions {
        all.add_partition(topic, i32::try_from(partition).unwrap_or(i32::MAX));
    }
    let committed = consumer.committed_offsets(all, CALL_TIMEOUT)?;
    let mut seed = TopicPartitionList::new();
    for element in committed.elements() {
        if matches!(element.offset(), Offset::Offset(_)) {
            continue;
        }
        let (_, high) = consumer.fetch_watermarks(topic, element.partition(), CALL_TIMEOUT)?;
        seed.add_partition_offset(topic, element.partition(), Offset::Offset(high))?;
    }
    if seed.count() > 0 {
        consumer.commit(&seed, CommitMode::Sync)?;
    }
    Ok(())
}

/// A partition's record being delivered: handed out and waiting for its ack (`due` set), or
/// waiting to be handed out again (`due` unset: new, nakked, or its ack is overdue).
struct Current {
    offset: i64,
    event: Event,
    /// Deliveries so far.
    attempts: u64,
    /// Tells this delivery's settlement from an earlier one's of the same record.
    token: u64,
    due: Option<Instant>,
}

#[derive(Default)]
struct PartitionState {
    backlog: VecDeque<(i64, Event)>,
    current: Option<Current>,
    paused: bool,
}

impl PartitionState {
    fn ready(&self) -> bool {
        match &self.current {
            Some(current) => current.due.is_none(),
            None => !self.backlog.is_empty(),
        }
    }
}

/// How a subscriber settled a delivery.
#[derive(Debug)]
struct Settled {
    partition: i32,
    token: u64,
    acked: bool,
}

#[derive(Debug)]
struct KafkaAcker {
    settled: mpsc::UnboundedSender<Settled>,
    partition: i32,
    token: u64,
}

#[async_trait]
impl Acker for KafkaAcker {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        self.settle(true)
    }

    async fn nak(self: Box<Self>) -> Result<(), BusError> {
        self.settle(false)
    }
}

impl KafkaAcker {
    fn settle(&self, acked: bool) -> Result<(), BusError> {
        self.settled
            .send(Settled {
                partition: self.partition,
                token: self.token,
                acked,
            })
            .map_err(|_| BusError::Closed)
    }
}

/// One subscription's group membership.
pub(crate) struct Member {
    /// `None` once the member left its group.
    consumer: Option<Arc<GroupConsumer>>,
    assignment: Arc<Assignment>,
    topic: String,
    kind: StreamKind,
    ack_wait: Duration,
    partitions: BTreeMap<i32, PartitionState>,
    next_token: u64,
    /// Where the next delivery search starts, so partitions take turns.
    turn: i32,
}

impl Member {
    /// Creates the consumer, seeds a new group's offsets and joins.
    pub(crate) async fn join(
        inner: Arc<Inner>,
        kind: StreamKind,
        group: &str,
    ) -> Result<Self, BusError> {
        let group_id = inner.group_id(kind, group);
        let assignment = inner.registry.join(&group_id);
        let consumer = Arc::new(group_consumer(&inner, &group_id, assignment.clone())?);
        let topic = inner.topic(kind);
        let joining = consumer.clone();
        let seeded_topic = topic.clone();
        tokio::task::spawn_blocking(move || {
            seed_offsets(&joining, &seeded_topic)?;
            joining.subscribe(&[&seeded_topic])
        })
        .await
        .map_err(|e| BusError::Kafka(e.to_string()))?
        .map_err(BusError::kafka)?;
        Ok(Self {
            consumer: Some(consumer),
            assignment,
            topic,
            kind,
            ack_wait: inner.config.ack_wait,
            partitions: BTreeMap::new(),
            next_token: 0,
            turn: 0,
        })
    }

    pub(crate) async fn run(mut self, feed: Feed) {
        let (settled_tx, mut settled_rx) = mpsc::unbounded_channel();
        let Some(consumer) = self.consumer.clone() else {
            return;
        };
        let assignment = self.assignment.clone();
        let mut stop = feed.clone();
        loop {
            self.apply_assignment();
            let ready = self.has_ready();
            let next_redelivery = self.next_redelivery();
            tokio::select! {
                () = stop.stopped() => break,
                received = consumer.recv() => match received {
                    Ok(message) => self.received(&message),
                    Err(error) => {
                        tracing::warn!(stream = self.kind.as_str(), %error, "bus: Kafka receive failed");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                },
                () = assignment.changed.notified() => {}
                Some(settled) = settled_rx.recv() => self.settle(settled),
                () = sleep_until(next_redelivery), if next_redelivery.is_some() => self.expire(),
                permit = feed.tx.reserve(), if ready => match permit {
                    Ok(permit) => {
                        if let Some(delivery) = self.next_delivery(&settled_tx) {
                            permit.send(delivery);
                        }
                    }
                    Err(_) => break,
                },
            }
        }
        // Acks that arrived before the close still count.
        while let Ok(settled) = settled_rx.try_recv() {
            self.settle(settled);
        }
        // Leaves the group: the broker hands the partitions on at once.
        self.assignment.stopped();
        drop(consumer);
        if let Some(consumer) = self.consumer.take() {
            close_in_background(consumer);
        }
    }

    fn apply_assignment(&mut self) {
        for (partition, assigned) in self.assignment.take() {
            if assigned {
                tracing::info!(
                    stream = self.kind.as_str(),
                    partition,
                    "bus: partition assigned"
                );
                self.partitions.entry(partition).or_default();
            } else {
                // An unacked delivery of it is the next owner's now (from the committed offset).
                tracing::info!(
                    stream = self.kind.as_str(),
                    partition,
                    "bus: partition revoked"
                );
                self.partitions.remove(&partition);
            }
        }
    }

    fn received(&mut self, message: &BorrowedMessage<'_>) {
        // The poll that returned this record may have run the rebalance that assigned its
        // partition: without the change applied it would be skipped, and committed past later.
        self.apply_assignment();
        let partition = message.partition();
        let Some(state) = self.partitions.get_mut(&partition) else {
            return;
        };
        match message.payload().map(serde_json::from_slice::<Event>) {
            Some(Ok(event)) => state.backlog.push_back((message.offset(), event)),
            other => {
                // A record no version of stockd can read would block its partition forever.
                let error = match other {
                    Some(Err(error)) => error.to_string(),
                    _ => "empty record".into(),
                };
                tracing::warn!(topic = %self.topic, partition, offset = message.offset(), %error,
                    "bus: undecodable event skipped");
                if state.current.is_none() && state.backlog.is_empty() {
                    self.commit(partition, message.offset() + 1);
                }
                return;
            }
        }
        if state.backlog.len() >= BACKLOG && !state.paused {
            state.paused = true;
            self.pause(partition, true);
        }
    }

    fn has_ready(&self) -> bool {
        self.partitions.values().any(PartitionState::ready)
    }

    fn next_redelivery(&self) -> Option<Instant> {
        self.partitions
            .values()
            .filter_map(|p| p.current.as_ref().and_then(|c| c.due))
            .min()
    }

    /// The next delivery of a partition that has one ready, taking turns.
    fn next_delivery(&mut self, settled: &mpsc::UnboundedSender<Settled>) -> Option<Delivery> {
        let partition = self
            .partitions
            .range(self.turn..)
            .chain(self.partitions.range(..self.turn))
            .find(|(_, p)| p.ready())
            .map(|(k, _)| *k)?;
        self.turn = partition + 1;
        let token = self.next_token;
        self.next_token += 1;
        let due = Instant::now() + self.ack_wait;
        let state = self.partitions.get_mut(&partition)?;
        let mut resume = false;
        if state.current.is_none() {
            let (offset, event) = state.backlog.pop_front()?;
            resume = state.paused && state.backlog.len() <= BACKLOG / 4;
            state.paused &= !resume;
            state.current = Some(Current {
                offset,
                event,
                attempts: 0,
                token,
                due: None,
            });
        }
        let current = state.current.as_mut()?;
        current.attempts += 1;
        current.token = token;
        current.due = Some(due);
        let (event, attempt) = (current.event.clone(), current.attempts);
        if resume {
            self.pause(partition, false);
        }
        metrics::delivered(self.kind, attempt);
        Some(Delivery::new(
            event,
            attempt,
            Box::new(KafkaAcker {
                settled: settled.clone(),
                partition,
                token,
            }),
        ))
    }

    fn settle(&mut self, settled: Settled) {
        // Revoked meanwhile, or an earlier delivery's: the record is someone else's or was
        // handed out again already.
        let Some(state) = self.partitions.get_mut(&settled.partition) else {
            return;
        };
        let Some(current) = state
            .current
            .as_mut()
            .filter(|c| c.token == settled.token && c.due.is_some())
        else {
            return;
        };
        if settled.acked {
            let offset = current.offset;
            state.current = None;
            self.commit(settled.partition, offset + 1);
        } else {
            current.due = None;
        }
    }

    /// Deliveries whose ack did not come within `ack_wait` are handed out again.
    fn expire(&mut self) {
        let now = Instant::now();
        for state in self.partitions.values_mut() {
            if let Some(current) = &mut state.current
                && current.due.is_some_and(|due| due <= now)
            {
                current.due = None;
            }
        }
    }

    fn commit(&self, partition: i32, next_offset: i64) {
        let Some(consumer) = &self.consumer else {
            return;
        };
        let mut list = TopicPartitionList::new();
        if list
            .add_partition_offset(&self.topic, partition, Offset::Offset(next_offset))
            .is_ok()
            && let Err(error) = consumer.commit(&list, CommitMode::Async)
        {
            tracing::warn!(topic = %self.topic, partition, %error, "bus: Kafka commit failed");
        }
    }

    fn pause(&self, partition: i32, pause: bool) {
        let Some(consumer) = &self.consumer else {
            return;
        };
        let mut list = TopicPartitionList::new();
        list.add_partition(&self.topic, partition);
        let result = if pause {
            consumer.pause(&list)
        } else {
            consumer.resume(&list)
        };
        if let Err(error) = result {
            tracing::debug!(topic = %self.topic, partition, %error, "bus: Kafka pause/resume failed");
        }
    }
}

impl Drop for Member {
    /// Still in its group here only when its task was aborted (`Subscription::kill`): it is
    /// left as a crashed process leaves it, silent and never closed, so the broker moves its
    /// partitions after the lease (librdkafka's poll interval) and not at once.
    fn drop(&mut self) {
        self.assignment.stopped();
        if let Some(consumer) = self.consumer.take() {
            std::mem::forget(consumer);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
