//! The in-process bus: tokio channels with JetStream's semantics as far as one process has them.
//!
//! Each (stream, group) has queues, created by its first subscription: one per quote
//! partition, one for the other streams. A publish copies the event into every group of its
//! stream (fan-out); within a group each event goes to one subscriber (work queue). A
//! subscriber has one event in flight per queue: the next is taken only when it is acked, and
//! one that is nakked, dropped, or not acked within `ack_wait` goes back to the head of its
//! queue. A quote partition's queue is held by one subscriber for its whole life (a mutex
//! owned by its pump task), so quotes of a symbol reach one subscriber, in order; when that
//! subscriber goes away, the next one waiting takes the partition over.
//!
//! Nothing is kept for a group before its first subscription, and nothing survives the process.
//!
//! Watchers ([`Bus::watch`]) share one broadcast channel: each publish takes the next sequence
//! and is sent to it under one lock, so sequences follow publish order. A watcher more than
//! [`WATCH_CAPACITY`] events behind loses the oldest and sees a gap.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast, mpsc, oneshot};

use crate::config::{BusConfig, BusError, validate_group};
use crate::delivery::{Acker, Delivery, Feed, Subscription};
use crate::event::{Event, StreamKind, partition_of};
use crate::watch::{Sequenced, Watch};
use crate::{Bus, metrics};

/// How many events a watcher may fall behind before it loses some.
pub const WATCH_CAPACITY: usize = 4096;

/// See the module docs.
#[derive(Debug)]
pub struct MemoryBus {
    config: BusConfig,
    groups: StdMutex<HashMap<(StreamKind, String), Arc<Group>>>,
    /// The last sequence given and the watchers' channel, under one lock (publish order).
    /// Events are shared (`Arc`): the channel allocates all its slots up front, and an
    /// inline event would make them ~5x larger.
    watchers: StdMutex<(u64, broadcast::Sender<Sequenced>)>,
    /// This bus's sequence space: random per process.
    epoch: String,
}

#[derive(Debug)]
struct Group {
    queues: Vec<Queue>,
}

#[derive(Debug)]
struct Queue {
    tx: mpsc::UnboundedSender<Envelope>,
    state: Arc<Mutex<QueueState>>,
}

/// Events handed back (redelivered first, in their order) and the queue's fresh events.
#[derive(Debug)]
struct QueueState {
    returned: VecDeque<Envelope>,
    rx: mpsc::UnboundedReceiver<Envelope>,
}

impl QueueState {
    async fn take(&mut self) -> Option<Envelope> {
        match self.returned.pop_front() {
            Some(envelope) => Some(envelope),
            None => self.rx.recv().await,
        }
    }
}

#[derive(Debug, Clone)]
struct Envelope {
    event: Event,
    attempt: u64,
}

impl MemoryBus {
    pub fn new(config: BusConfig) -> Result<Self, BusError> {
        config.validate()?;
        let (watchers, _) = broadcast::channel(WATCH_CAPACITY);
        Ok(Self {
            config,
            groups: StdMutex::new(HashMap::new()),
            watchers: StdMutex::new((0, watchers)),
            epoch: format!("m{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        })
    }

    fn group(&self, kind: StreamKind, name: &str) -> Arc<Group> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups
            .entry((kind, name.to_owned()))
            .or_insert_with(|| {
                let count = if kind.is_partitioned() {
                    usize::from(self.config.partitions)
                } else {
                    1
                };
                Arc::new(Group {
                    queues: (0..count)
                        .map(|_| {
                            let (tx, rx) = mpsc::unbounded_channel();
                            Queue {
                                tx,
                                state: Arc::new(Mutex::new(QueueState {
                                    returned: VecDeque::new(),
                                    rx,
                                })),
                            }
                        })
                        .collect(),
                })
            })
            .clone()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        let kind = event.kind();
        let targets: Vec<Arc<Group>> = {
            let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            groups
                .iter()
                .filter(|((k, _), _)| *k == kind)
                .map(|(_, group)| group.clone())
                .collect()
        };
        for group in targets {
            let index = match event {
                Event::Quote(quote) => {
                    usize::from(partition_of(&quote.symbol, self.config.partitions))
                }
                _ => 0,
            };
            if let Some(queue) = group.queues.get(index) {
                // The receiver lives as long as the group (held in its state), so this succeeds.
                let _ = queue.tx.send(Envelope {
                    event: event.clone(),
                    attempt: 1,
                });
            }
        }
        {
            let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
            watchers.0 += 1;
            let seq = watchers.0;
            // No watcher (no live stream in this process): no copy to make. A watcher
            // subscribes under this lock, so none can appear between the check and the send.
            if watchers.1.receiver_count() > 0 {
                let _ = watchers.1.send((seq, Arc::new(event.clone())));
            }
        }
        metrics::published(kind);
        Ok(())
    }

    async fn watch(&self) -> Result<Watch, BusError> {
        let watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Watch::memory(
            self.epoch.clone(),
            watchers.0,
            watchers.1.subscribe(),
        ))
    }

    async fn subscribe(&self, kind: StreamKind, group: &str) -> Result<Subscription, BusError> {
        validate_group(group)?;
        let shared = self.group(kind, group);
        let (mut subscription, feed) = Subscription::channel(kind, group);
        for queue in &shared.queues {
            let state = queue.state.clone();
            let feed = feed.clone();
            let ack_wait = self.config.ack_wait;
            let exclusive = kind.is_partitioned();
            subscription.push_task(tokio::spawn(pump(state, feed, kind, ack_wait, exclusive)));
        }
        Ok(subscription)
    }
}

/// Moves events from one queue to one subscriber, one in flight at a time. `exclusive` holds
/// the queue for the pump's whole life (partition ownership); otherwise the queue is locked
/// only to take an event, so the group's subscribers take turns.
async fn pump(
    state: Arc<Mutex<QueueState>>,
    mut feed: Feed,
    kind: StreamKind,
    ack_wait: Duration,
    exclusive: bool,
) {
    let mut owned: Option<OwnedMutexGuard<QueueState>> = None;
    if exclusive {
        tokio::select! {
            guard = state.clone().lock_owned() => owned = Some(guard),
            () = feed.stopped() => return,
        }
    }
    loop {
        let envelope = {
            let taken = match owned.as_mut() {
                Some(guard) => tokio::select! {
                    biased;
                    () = feed.stopped() => return,
                    envelope = guard.take() => envelope,
                },
                None => tokio::select! {
                    biased;
                    () = feed.stopped() => return,
                    envelope = async { state.lock().await.take().await } => envelope,
                },
            };
            match taken {
                Some(envelope) => envelope,
                None => return,
            }
        };
        let (settle_tx, settle_rx) = oneshot::channel();
        let acker = MemoryAcker {
            settle: StdMutex::new(Some(settle_tx)),
        };
        let delivery = Delivery::new(envelope.event.clone(), envelope.attempt, Box::new(acker));
        if feed.tx.send(delivery).await.is_err() {
            // The subscriber is gone; the event was never seen, so its attempt stays.
            hand_back(&state, owned.as_mut(), envelope).await;
            return;
        }
        metrics::delivered(kind, envelope.attempt);
        let settled = tokio::time::timeout(ack_wait, settle_rx).await;
        if !matches!(settled, Ok(Ok(Settle::Ack))) {
            let again = Envelope {
                event: envelope.event,
                attempt: envelope.attempt + 1,
            };
            hand_back(&state, owned.as_mut(), again).await;
        }
    }
}

/// Puts an event back at the head of its queue, for whoever takes from it next.
async fn hand_back(
    state: &Mutex<QueueState>,
    owned: Option<&mut OwnedMutexGuard<QueueState>>,
    envelope: Envelope,
) {
    match owned {
        Some(guard) => guard.returned.push_front(envelope),
        None => state.lock().await.returned.push_front(envelope),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Settle {
    Ack,
    Nak,
}

/// Reports the outcome to the pump; dropped unsettled, the pump sees the sender gone and
/// redelivers at once.
#[derive(Debug)]
struct MemoryAcker {
    settle: StdMutex<Option<oneshot::Sender<Settle>>>,
}

impl MemoryAcker {
    fn send(&self, outcome: Settle) {
        if let Some(tx) = self.settle.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // The pump stopped waiting (ack_wait passed): the event is already back in queue.
            let _ = tx.send(outcome);
        }
    }
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        self.send(Settle::Ack);
        Ok(())
    }

    async fn nak(self: Box<Self>) -> Result<(), BusError> {
        self.send(Settle::Nak);
        Ok(())
    }
}
