//! Watching the bus: every event published from a moment on, in publish order, each with its
//! sequence, for live views (the SSE stream) that want everything and acknowledge nothing.
//!
//! A watch is not a group: it takes nothing from the work queues, keeps no state in NATS
//! (JetStream: an ephemeral ordered consumer, removed by the server when the watcher goes) and
//! sees events from every replica. Sequences are the bus's own: the JetStream stream sequence
//! (the same number on every replica, so an event id means the same event everywhere) or, in
//! process, a counter. They grow with every publish, of any stream, so they have gaps for a
//! watcher that keeps only some kinds. [`Watch::epoch`] names the sequence space: a sequence is
//! only comparable with one of the same epoch (a restarted in-process bus, or a recreated
//! stream, starts another).

use std::fmt;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::event::Event;

/// What a watch yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    /// The next event, with its sequence (greater than every one yielded before).
    Event { seq: u64, event: Event },
    /// Events were lost here (the watcher fell too far behind the in-process bus): what
    /// the watcher built from the events before cannot be trusted to be complete.
    Gap,
}

/// An event with its sequence, as the in-process bus's watchers' channel carries it (shared:
/// the channel allocates all its slots up front).
pub(crate) type Sequenced = (u64, Arc<Event>);

/// Every event published after [`Watch::after`], see the module docs.
pub struct Watch {
    epoch: String,
    after: u64,
    source: Source,
}

enum Source {
    Memory(broadcast::Receiver<Sequenced>),
    Remote {
        rx: mpsc::Receiver<Watched>,
        task: JoinHandle<()>,
    },
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("epoch", &self.epoch)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

impl Watch {
    pub(crate) fn memory(epoch: String, after: u64, rx: broadcast::Receiver<Sequenced>) -> Self {
        Self {
            epoch,
            after,
            source: Source::Memory(rx),
        }
    }

    pub(crate) fn remote(
        epoch: String,
        after: u64,
        rx: mpsc::Receiver<Watched>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            epoch,
            after,
            source: Source::Remote { rx, task },
        }
    }

    /// The sequence space (see the module docs).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The sequence of the last event published before the watch began: it yields the ones
    /// after it.
    pub fn after(&self) -> u64 {
        self.after
    }

    /// The next event or gap; `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Watched> {
        match &mut self.source {
            Source::Memory(rx) => match rx.recv().await {
                Ok((seq, event)) => Some(Watched::Event {
                    seq,
                    event: Arc::unwrap_or_clone(event),
                }),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(Watched::Gap),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            Source::Remote { rx, .. } => rx.recv().await,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Source::Remote { task, .. } = &self.source {
            task.abort();
        }
    }
}
