//! What a subscriber receives: deliveries to acknowledge, from a subscription that stops its
//! background work when dropped.

use std::fmt;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::BusError;
use crate::event::{Event, StreamKind};

/// How one implementation settles a delivered message.
#[async_trait]
pub(crate) trait Acker: Send + fmt::Debug {
    /// Done: never deliver it again.
    async fn ack(self: Box<Self>) -> Result<(), BusError>;
    /// Not done: deliver it again now.
    async fn nak(self: Box<Self>) -> Result<(), BusError>;
}

/// One delivered event. At-least-once: call [`Delivery::ack`] once it is handled; an event
/// that is not acked within the bus's `ack_wait` is delivered again (see the crate docs for
/// what dropping it does on each implementation).
#[derive(Debug)]
pub struct Delivery {
    event: Event,
    attempt: u64,
    acker: Box<dyn Acker>,
}

impl Delivery {
    pub(crate) fn new(event: Event, attempt: u64, acker: Box<dyn Acker>) -> Self {
        Self {
            event,
            attempt,
            acker,
        }
    }

    pub fn event(&self) -> &Event {
        &self.event
    }

    /// 1 on the first delivery, more when redelivered.
    pub fn attempt(&self) -> u64 {
        self.attempt
    }

    pub async fn ack(self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    /// Hands the event back for immediate redelivery (to this or another subscriber).
    pub async fn nak(self) -> Result<(), BusError> {
        self.acker.nak().await
    }
}

/// A stream of deliveries for one (stream, group). Dropping it stops its background tasks and,
/// on JetStream, hands its quote partitions back at once.
pub struct Subscription {
    kind: StreamKind,
    group: String,
    rx: mpsc::Receiver<Delivery>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("kind", &self.kind)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// The sending half the implementations' tasks use.
#[derive(Debug, Clone)]
pub(crate) struct Feed {
    pub(crate) tx: mpsc::Sender<Delivery>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Feed {
    /// Resolves when the subscription is closed or dropped.
    pub(crate) async fn stopped(&mut self) {
        // Either the flag is set, or the sender is gone (subscription dropped).
        let _ = self.shutdown.wait_for(|stop| *stop).await;
    }
}

impl Subscription {
    /// A subscription and the feed its tasks write to. A buffer of one keeps work from piling
    /// up in one subscriber while another of its group is idle.
    pub(crate) fn channel(kind: StreamKind, group: &str) -> (Self, Feed) {
        let (tx, rx) = mpsc::channel(1);
        let (shutdown, shutdown_rx) = watch::channel(false);
        (
            Self {
                kind,
                group: group.to_owned(),
                rx,
                shutdown,
                tasks: Vec::new(),
            },
            Feed {
                tx,
                shutdown: shutdown_rx,
            },
        )
    }

    pub(crate) fn push_task(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }

    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    /// The next delivery; `None` once the subscription's tasks have stopped.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// Stops receiving and waits until the background tasks have finished (on JetStream:
    /// quote partitions are handed back, so another subscriber takes them over at once).
    pub async fn close(mut self) {
        let _ = self.shutdown.send(true);
        self.rx.close();
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }

    /// Stops at once without handing anything back, as a crashed process would: partitions
    /// stay owned until their lease runs out. For failover tests.
    #[doc(hidden)]
    pub fn kill(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The tasks see the flag and finish on their own (releasing what they hold).
        let _ = self.shutdown.send(true);
    }
}
