//! The process's one watcher of the bus and its fan-out to open streams.
//!
//! One task reads the bus watch ([`bus::Bus::watch`]), turns each event into a [`Frame`]
//! (rendered once), keeps it in the replay buffer and offers it to every connection it is for
//! with `try_send`: the task never waits on a connection. A connection whose queue is full is
//! a slow client: it is removed at once and told why, so it can neither grow memory nor hold
//! up the others. The lock is held only to push and offer, never across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bus::{Bus, BusError, Watch, Watched};
use tokio::sync::{mpsc, oneshot, watch};

use super::frame::Frame;
use super::{CloseReason, Connection, Item, StreamSettings, Topics, metrics};
use crate::{Caller, ServiceError};
use store::Store;

/// See the module docs. Clones share the hub.
#[derive(Debug, Clone)]
pub struct Hub(pub(crate) Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: StreamSettings,
    state: Mutex<State>,
    stop: watch::Sender<bool>,
    /// Where each connection checks, every heartbeat, that its token still lives (set by
    /// [`crate::Service::attach_stream`]; unset: never checked).
    pub(crate) tokens: OnceLock<Arc<dyn Store>>,
}

#[derive(Debug)]
struct State {
    epoch: String,
    /// Events with a sequence up to here may be missing from `replay`: a resume from before
    /// it cannot be served.
    floor: u64,
    /// The latest sequence seen.
    latest: u64,
    /// Events were lost; the next one seen sets the floor.
    gap: bool,
    replay: VecDeque<Arc<Frame>>,
    subscribers: HashMap<u64, Subscriber>,
    per_user: HashMap<String, u32>,
    next_id: u64,
    closed: bool,
}

#[derive(Debug)]
struct Subscriber {
    user_id: String,
    /// The session or API token the stream was opened with.
    token_id: String,
    token_kind: store::TokenKind,
    topics: Arc<Topics>,
    tx: mpsc::Sender<Item>,
    close: oneshot::Sender<CloseReason>,
}

/// Where a resume starts, decided at open.
pub(crate) enum Resume {
    /// Replay these, then live events after `skip_through`.
    From {
        backlog: Vec<Arc<Frame>>,
        skip_through: u64,
    },
    /// The id cannot be resumed from (`reason`); the client refetches. `at` is the position
    /// now, the reset's own id.
    Reset { reason: &'static str, at: u64 },
}

impl Hub {
    /// Starts watching `bus`; the hub runs until [`Hub::shut_down`] or the bus goes away.
    pub async fn start(bus: &dyn Bus, settings: StreamSettings) -> Result<Self, BusError> {
        let watch = bus.watch().await?;
        let (stop, stopped) = watch::channel(false);
        let hub = Hub(Arc::new(Shared {
            settings,
            state: Mutex::new(State {
                epoch: watch.epoch().to_owned(),
                floor: watch.after(),
                latest: watch.after(),
                gap: false,
                replay: VecDeque::new(),
                subscribers: HashMap::new(),
                per_user: HashMap::new(),
                next_id: 0,
                closed: false,
            }),
            stop,
            tokens: OnceLock::new(),
        }));
        tokio::spawn(hub.clone().run(watch, stopped));
        Ok(hub)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn run(self, mut watch: Watch, mut stopped: watch::Receiver<bool>) {
        loop {
            let next = tokio::select! {
                next = watch.next() => next,
                _ = stopped.wait_for(|stop| *stop) => return,
            };
            match next {
                Some(Watched::Event { seq, event }) => self.publish(seq, &event),
                Some(Watched::Gap) => self.lost(),
                None => {
                    tracing::warn!("stream: the bus closed; open streams end");
                    self.shut_down();
                    return;
                }
            }
        }
    }

    /// Keeps one event for replay and offers it to every connection it is for.
    fn publish(&self, seq: u64, event: &bus::Event) {
        let mut state = self.state();
        if state.gap {
            state.gap = false;
            state.replay.clear();
            state.floor = seq.saturating_sub(1);
        }
        state.latest = state.latest.max(seq);
        let Some(frame) = Frame::of(seq, event) else {
            return;
        };
        let frame = Arc::new(frame);
        state.replay.push_back(frame.clone());
        while state.replay.len() > self.0.settings.replay.max(1) {
            if let Some(evicted) = state.replay.pop_front() {
                state.floor = evicted.seq;
            }
        }
        let mut slow = Vec::new();
        for (id, subscriber) in &state.subscribers {
            if !frame.is_for(&subscriber.user_id, &subscriber.topics) {
                continue;
            }
            if let Err(mpsc::error::TrySendError::Full(_)) =
                subscriber.tx.try_send(Item::Frame(frame.clone()))
            {
                slow.push(*id);
            }
        }
        for id in slow {
            remove(&mut state, id, CloseReason::SlowConsumer);
        }
    }

    /// Events were lost on the way here: every open stream is told to refetch.
    fn lost(&self) {
        let mut state = self.state();
        state.gap = true;
        let at = state.latest;
        let mut slow = Vec::new();
        for (id, subscriber) in &state.subscribers {
            if subscriber
                .tx
                .try_send(Item::Reset {
                    reason: "events_lost",
                    at,
                })
                .is_err()
            {
                slow.push(*id);
            }
        }
        for id in slow {
            remove(&mut state, id, CloseReason::SlowConsumer);
        }
        tracing::warn!(
            "stream: events were lost between the bus and the streams; clients are told to refetch"
        );
    }

    /// Opens a stream for `caller` on `topics`, resuming after `last_event_id` when given.
    ///
    /// 429 past the per-user limit of open streams, 400 for an id this stream never sends,
    /// 503 while shutting down.
    pub fn open(
        &self,
        caller: &Caller,
        topics: Topics,
        last_event_id: Option<&str>,
    ) -> Result<Connection, ServiceError> {
        let last = last_event_id
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(parse_id)
            .transpose()?;
        let user_id = caller.user.id.clone();
        let settings = &self.0.settings;
        let (tx, rx) = mpsc::channel(settings.queue.max(1));
        let (close_tx, close_rx) = oneshot::channel();
        let topics = Arc::new(topics);
        let mut state = self.state();
        if state.closed {
            return Err(ServiceError::Busy {
                detail: "the server is shutting down; reconnect (to another replica)".into(),
                retry_after: std::time::Duration::from_secs(1),
            });
        }
        let open = state.per_user.get(&user_id).copied().unwrap_or(0);
        if settings.per_user > 0 && open >= settings.per_user {
            metrics::refused("per_user_limit");
            return Err(ServiceError::TooManyRequests {
                detail: format!(
                    "you have {open} live streams open, the most one user may \
                     (stream_max_per_user = {}); close one (a stream can carry every topic)",
                    settings.per_user
                ),
                retry_after: std::time::Duration::from_secs(5),
            });
        }
        let resume = match last {
            None => Resume::From {
                backlog: Vec::new(),
                skip_through: 0,
            },
            Some((epoch, seq)) if epoch == state.epoch && seq >= state.floor => Resume::From {
                backlog: state
                    .replay
                    .iter()
                    .filter(|f| f.seq > seq && f.is_for(&user_id, &topics))
                    .cloned()
                    .collect(),
                skip_through: seq,
            },
            Some((epoch, _)) => Resume::Reset {
                reason: if epoch == state.epoch {
                    "too_old"
                } else {
                    "unknown_epoch"
                },
                at: state.latest,
            },
        };
        state.next_id += 1;
        let id = state.next_id;
        *state.per_user.entry(user_id.clone()).or_insert(0) += 1;
        state.subscribers.insert(
            id,
            Subscriber {
                user_id: user_id.clone(),
                token_id: caller.token.id.clone(),
                token_kind: caller.token.kind,
                topics,
                tx,
                close: close_tx,
            },
        );
        let epoch = state.epoch.clone();
        drop(state);
        metrics::opened();
        Ok(Connection::new(
            self.clone(),
            id,
            caller,
            epoch,
            resume,
            rx,
            close_rx,
        ))
    }

    /// Ends, with a `closing` message (reason `revoked`), the streams of `user_id` opened
    /// with the tokens `which` names: a sign-out or a token's deletion on this replica ends
    /// its streams here at once (other replicas' streams end at their next token check).
    /// Returns how many ended.
    pub(crate) fn revoke(&self, user_id: &str, which: Revoked<'_>) -> usize {
        let mut state = self.state();
        let ids: Vec<u64> = state
            .subscribers
            .iter()
            .filter(|(_, s)| s.user_id == user_id && which.covers(&s.token_id, s.token_kind))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            remove(&mut state, *id, CloseReason::Revoked);
        }
        ids.len()
    }

    /// Ends every open stream (each is told `shutdown`) and refuses new ones.
    pub fn shut_down(&self) {
        let mut state = self.state();
        state.closed = true;
        let ids: Vec<u64> = state.subscribers.keys().copied().collect();
        for id in ids {
            remove(&mut state, id, CloseReason::Shutdown);
        }
        drop(state);
        let _ = self.0.stop.send(true);
    }

    /// Streams open now (all users).
    pub fn open_streams(&self) -> usize {
        self.state().subscribers.len()
    }

    /// A connection went away (its client, or it was dropped): forget it if still registered.
    pub(crate) fn forget(&self, id: u64) {
        let mut state = self.state();
        if let Some(subscriber) = state.subscribers.remove(&id) {
            release(&mut state, &subscriber.user_id);
        }
    }
}

/// Which of a user's tokens were revoked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Revoked<'a> {
    /// This one (a sign-out, an API token deleted).
    Token(&'a str),
    /// Every session but this one (a password change keeps the session that made it, and
    /// API tokens).
    OtherSessions(&'a str),
    /// Every one (the account was deleted).
    All,
}

impl Revoked<'_> {
    fn covers(self, token_id: &str, kind: store::TokenKind) -> bool {
        match self {
            Self::Token(id) => id == token_id,
            Self::OtherSessions(id) => id != token_id && kind == store::TokenKind::Session,
            Self::All => true,
        }
    }
}

/// Removes a subscriber and tells its connection why (its queue may be full: the reason goes
/// on a channel of its own).
fn remove(state: &mut State, id: u64, reason: CloseReason) {
    if let Some(subscriber) = state.subscribers.remove(&id) {
        release(state, &subscriber.user_id);
        let _ = subscriber.close.send(reason);
    }
}

fn release(state: &mut State, user_id: &str) {
    if let Some(count) = state.per_user.get_mut(user_id) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            state.per_user.remove(user_id);
        }
    }
}

/// `<epoch>-<sequence>`, as [`super::event_id`] writes it.
fn parse_id(id: &str) -> Result<(String, u64), ServiceError> {
    id.rsplit_once('-')
        .and_then(|(epoch, seq)| Some((epoch.to_owned(), seq.parse().ok()?)))
        .filter(|(epoch, _)| !epoch.is_empty() && epoch.len() <= 32)
        .ok_or_else(|| {
            ServiceError::BadRequest(
                "Last-Event-ID: not an id this stream sends (<epoch>-<sequence>); \
                 reconnect without it to start from now"
                    .into(),
            )
        })
}
