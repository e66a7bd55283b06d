//! Quote partitions on JetStream: who owns which partition of a group, and handing them over.
//!
//! Alert evaluation keeps per-symbol state in memory, so one partition's quotes must reach one
//! subscriber at a time, in order. Each (group, partition) has a durable consumer with
//! `max_ack_pending = 1` (the server releases the next quote only after the previous is
//! acked: order), and its owner is whoever holds the lease key `<group>.p<k>` in the KV bucket
//! `<prefix>-leases`:
//!
//! - acquire: KV `create` (succeeds only when the key is absent: compare-and-set on "none");
//! - renew: KV `update` with the revision last written (fails if anyone else wrote since);
//! - expire: the bucket's `max_age` is the lease, so the server removes a key its owner stopped
//!   renewing, on the server's clock;
//! - release (subscription closed or dropped): delete with the expected revision.
//!
//! Every third of the lease, a subscriber renews its presence key `<group>.m.<id>`, counts
//! the group's present members, renews its leases, sheds partitions beyond its fair share
//! (`ceil(partitions / members)`) and takes free ones up to it. A subscriber forwards a quote
//! only while its last renewal is younger than the lease (measured from before the renewal
//! was sent, so on the safe side of the server's clock); a quote it did not forward is not
//! acked, and reaches the next owner after `ack_wait`.
//!
//! Pinned-client priority groups (nats-server 2.11+) would do the ownership in the server, but
//! the machine's server is 2.9 and the lease also balances partitions across replicas, which
//! a pin (first puller wins everything) does not.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::config::BusError;
use crate::delivery::Feed;
use crate::event::{StreamKind, kind_subject};
use crate::jetstream::{Inner, Pull, pump};

/// One subscriber's partition ownership loop.
#[derive(Debug)]
pub(crate) struct Manager {
    inner: Arc<Inner>,
    group: String,
    member: String,
    consumers: Vec<consumer::PullConsumer>,
    feed: Feed,
    held: BTreeMap<u16, Held>,
}

#[derive(Debug)]
struct Held {
    revision: u64,
    valid_until: Arc<StdMutex<Instant>>,
    pump: AbortOnDrop,
}

/// Stops a pump when its partition is let go, or when the manager itself is aborted.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Manager {
    /// Creates the group's partition consumers (idempotent), so quotes published from now on
    /// are kept for the group even before a partition has an owner.
    pub(crate) async fn start(
        inner: Arc<Inner>,
        group: &str,
        feed: Feed,
    ) -> Result<Self, BusError> {
        let base = kind_subject(&inner.config.prefix, StreamKind::Quotes);
        let mut consumers = Vec::with_capacity(usize::from(inner.config.partitions));
        for k in 0..inner.config.partitions {
            consumers.push(
                inner
                    .consumer(format!("quotes-{group}-p{k}"), format!("{base}.p{k}.>"), 1)
                    .await?,
            );
        }
        Ok(Self {
            inner,
            group: group.to_owned(),
            member: uuid::Uuid::new_v4().simple().to_string(),
            consumers,
            feed,
            held: BTreeMap::new(),
        })
    }

    fn lease(&self) -> Duration {
        self.inner.config.partition_lease
    }

    fn lease_key(&self, partition: u16) -> String {
        format!("{}.p{partition}", self.group)
    }

    fn member_key(&self) -> String {
        format!("{}.m.{}", self.group, self.member)
    }

    pub(crate) async fn run(mut self) {
        let tick = self.lease() / 3;
        loop {
            if let Err(error) = self.round().await {
                tracing::warn!(group = %self.group, %error, "bus: partition lease round failed");
            }
            let mut feed = self.feed.clone();
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = feed.stopped() => break,
            }
        }
        self.release_all().await;
    }

    /// One renewal round (see the module docs).
    async fn round(&mut self) -> Result<(), BusError> {
        let inner = self.inner.clone();
        let leases = &inner.leases;
        leases
            .put(self.member_key(), self.member.clone().into())
            .await
            .map_err(BusError::nats)?;
        let members = self.members().await?.max(1);
        let partitions = usize::from(self.inner.config.partitions);
        let share = partitions.div_ceil(members);

        let held: Vec<u16> = self.held.keys().copied().collect();
        for partition in held {
            let sent = Instant::now();
            let Some(revision) = self.held.get(&partition).map(|h| h.revision) else {
                continue;
            };
            let renewed = leases
                .update(
                    self.lease_key(partition),
                    self.member.clone().into(),
                    revision,
                )
                .await;
            match renewed {
                Ok(revision) => {
                    let mut restart = false;
                    if let Some(held) = self.held.get_mut(&partition) {
                        held.revision = revision;
                        *held.valid_until.lock().unwrap_or_else(|e| e.into_inner()) =
                            sent + self.inner.config.partition_lease;
                        // Its pump stops when a renewal came too late to be sure of the lease;
                        // the key outlived that on the server, so pulling can go on.
                        restart = held.pump.0.is_finished();
                    }
                    if restart && let Some(held) = self.held.remove(&partition) {
                        self.take(partition, held.revision, sent + self.lease());
                    }
                }
                Err(error) => {
                    tracing::warn!(group = %self.group, partition, %error, "bus: partition lease lost");
                    self.held.remove(&partition);
                }
            }
        }

        while self.held.len() > share {
            let Some((partition, held)) = self.held.pop_last() else {
                break;
            };
            self.release(partition, held).await;
        }

        if self.held.len() < share {
            // Start at a member-specific offset so members starting together try different keys.
            let offset = self.member.bytes().map(usize::from).sum::<usize>();
            for i in 0..partitions {
                if self.held.len() >= share {
                    break;
                }
                let partition = ((offset + i) % partitions) as u16;
                if self.held.contains_key(&partition) {
                    continue;
                }
                let sent = Instant::now();
                if let Ok(revision) = leases
                    .create(self.lease_key(partition), self.member.clone().into())
                    .await
                {
                    tracing::info!(group = %self.group, partition, "bus: partition taken");
                    self.take(partition, revision, sent + self.lease());
                }
            }
        }
        Ok(())
    }

    /// The group's members whose presence key is alive.
    async fn members(&self) -> Result<usize, BusError> {
        let leases = &self.inner.leases;
        let filter = format!("{}{}.m.>", leases.prefix, self.group);
        let mut subjects = leases
            .stream
            .info_with_subjects(filter)
            .await
            .map_err(BusError::nats)?;
        let mut count = 0;
        while let Some(subject) = subjects.next().await {
            subject.map_err(BusError::nats)?;
            count += 1;
        }
        Ok(count)
    }

    fn take(&mut self, partition: u16, revision: u64, valid_until: Instant) {
        let Some(consumer) = self.consumers.get(usize::from(partition)).cloned() else {
            return;
        };
        let valid_until = Arc::new(StdMutex::new(valid_until));
        let pull = Pull {
            batch: 1,
            // Short pulls: a pull left on the server by a previous owner ends soon.
            expires: (self.lease() / 2).clamp(Duration::from_secs(1), Duration::from_secs(30)),
            lease: Some(valid_until.clone()),
        };
        let pump = tokio::spawn(pump(consumer, self.feed.clone(), StreamKind::Quotes, pull));
        self.held.insert(
            partition,
            Held {
                revision,
                valid_until,
                pump: AbortOnDrop(pump),
            },
        );
    }

    async fn release(&self, partition: u16, held: Held) {
        // Stop pulling before letting go, so two owners never pull at once.
        drop(held.pump);
        if let Err(error) = self
            .inner
            .leases
            .delete_expect_revision(self.lease_key(partition), Some(held.revision))
            .await
        {
            tracing::debug!(group = %self.group, partition, %error, "bus: lease already gone");
        }
        tracing::info!(group = %self.group, partition, "bus: partition handed back");
    }

    async fn release_all(&mut self) {
        let held = std::mem::take(&mut self.held);
        for (partition, held) in held {
            self.release(partition, held).await;
        }
        // Purged rather than deleted: a delete marker would still count as a member.
        let subject = format!("{}{}", self.inner.leases.prefix, self.member_key());
        let _ = self.inner.leases.stream.purge().filter(subject).await;
    }
}
