//! Live updates: the use case behind `GET /v1/stream` (and any other live interface).
//!
//! A [`Hub`] per process watches the bus, so a stream sees events from every replica (on
//! NATS), and fans them out to [`Connection`]s. What this module owns, so no interface repeats
//! it:
//!
//! - **Tenancy.** `alerts` and `notifications` carry only the caller's own events; quotes and
//!   signal label changes (public market data) only for the symbols named ([`Topics`]).
//! - **Ids and resume.** Each event's id is `<epoch>-<sequence>`, the bus sequence (the same on
//!   every replica on NATS). A resume (`Last-Event-ID`) replays the caller's events after that
//!   id from a bounded in-process buffer of the latest [`StreamSettings::replay`] events; an
//!   id older than the buffer, or from another sequence space (a restarted in-process bus),
//!   gets a `reset` message instead: the client refetches its state over the REST API.
//! - **Revocation.** A stream lives no longer than its token: signing out, deleting the API
//!   token, a password change (which ends the other sessions) or deleting the account ends
//!   the streams of the revoked tokens with a final `closing` message (reason `revoked`), at
//!   once on the replica that revoked them, and on every other replica at the stream's next
//!   token check, one per [`StreamSettings::heartbeat`] (a read of the user's tokens).
//! - **Bounds.** Each connection queues at most [`StreamSettings::queue`] events; a client
//!   that falls that far behind is dropped with a final `closing` message (reason
//!   `slow_consumer`) and never slows the others. A user may hold
//!   [`StreamSettings::per_user`] streams at once (429 past it).
//!
//! Metrics: `stock_api_stream_open` (gauge), `stock_api_stream_events_sent_total{kind}`,
//! `stock_api_stream_drops_total{reason}` (`slow_consumer`, `shutdown`, `revoked`),
//! `stock_api_stream_refused_total{reason}` (`per_user_limit`) and
//! `stock_api_stream_resets_total{reason}`.

mod frame;
mod hub;
#[cfg(test)]
mod tests;
mod topics;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use frame::{Frame, FrameKind};
pub use hub::Hub;
pub(crate) use hub::Revoked;
pub use topics::{MAX_TOPICS, Topics};

use hub::Resume;

/// How streams are bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// Streams one user may have open at once; 0: no limit.
    pub per_user: u32,
    /// Events kept for resumes (all users and topics together).
    pub replay: usize,
    /// Events one connection may have queued before it is dropped as too slow.
    pub queue: usize,
    /// How often an idle stream sends a comment line, so proxies and clients know it lives,
    /// and how often each stream checks that its token was not revoked.
    pub heartbeat: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            per_user: 5,
            replay: 4096,
            queue: 256,
            heartbeat: Duration::from_secs(15),
        }
    }
}

/// Why the server ended a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client read too slowly: its queue filled up.
    SlowConsumer,
    /// The server is stopping.
    Shutdown,
    /// The stream's token was revoked (signed out, deleted, sessions ended by a password
    /// change, the account deleted).
    Revoked,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SlowConsumer => "slow_consumer",
            Self::Shutdown => "shutdown",
            Self::Revoked => "revoked",
        }
    }

    /// What the client should do, for the message's `detail`.
    pub fn detail(self) -> &'static str {
        match self {
            Self::SlowConsumer => {
                "the client did not read events fast enough; reconnect with Last-Event-ID to resume"
            }
            Self::Shutdown => "the server is stopping; reconnect with Last-Event-ID to resume",
            Self::Revoked => {
                "the token of this stream was revoked (signed out, deleted, or the password \
                 changed); sign in again, then reconnect with Last-Event-ID to resume"
            }
        }
    }
}

/// What the hub queues for a connection.
#[derive(Debug)]
pub(crate) enum Item {
    Frame(Arc<Frame>),
    Reset { reason: &'static str, at: u64 },
}

/// What a stream sends, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// An event: SSE `event: <kind>`, `id: <id>`, `data: <json>`.
    Event {
        id: String,
        kind: FrameKind,
        data: Arc<str>,
    },
    /// The events since the client's id cannot be replayed (`too_old`, `unknown_epoch`) or
    /// were lost (`events_lost`): refetch over the REST API. `id` is the position now.
    Reset { id: String, reason: &'static str },
    /// The last message: the server ends the stream.
    Closing(CloseReason),
}

/// The SSE id of sequence `seq` in `epoch`.
pub fn event_id(epoch: &str, seq: u64) -> String {
    format!("{epoch}-{seq}")
}

/// One open stream; dropping it closes it.
#[derive(Debug)]
pub struct Connection {
    hub: Hub,
    id: u64,
    /// Whose stream, with which token: checked every heartbeat.
    user_id: String,
    token_id: String,
    token_kind: store::TokenKind,
    recheck: tokio::time::Interval,
    epoch: String,
    backlog: VecDeque<Item>,
    skip_through: u64,
    rx: mpsc::Receiver<Item>,
    close: oneshot::Receiver<CloseReason>,
    done: bool,
}

impl Connection {
    #[allow(clippy::too_many_arguments)]
    fn new(
        hub: Hub,
        id: u64,
        caller: &crate::Caller,
        epoch: String,
        resume: Resume,
        rx: mpsc::Receiver<Item>,
        close: oneshot::Receiver<CloseReason>,
    ) -> Self {
        let (backlog, skip_through) = match resume {
            Resume::From {
                backlog,
                skip_through,
            } => (backlog.into_iter().map(Item::Frame).collect(), skip_through),
            Resume::Reset { reason, at } => (VecDeque::from([Item::Reset { reason, at }]), 0),
        };
        let every = hub.0.settings.heartbeat.max(Duration::from_millis(1));
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            hub,
            id,
            user_id: caller.user.id.clone(),
            token_id: caller.token.id.clone(),
            token_kind: caller.token.kind,
            recheck,
            epoch,
            backlog,
            skip_through,
            rx,
            close,
            done: false,
        }
    }

    /// How often to send a heartbeat while idle.
    pub fn heartbeat(&self) -> Duration {
        self.hub.0.settings.heartbeat
    }

    /// The next message; `None` after the last (a `Closing`, or the hub gone).
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if self.done {
                return None;
            }
            let item = match self.backlog.pop_front() {
                Some(item) => item,
                None => tokio::select! {
                    biased;
                    reason = &mut self.close => {
                        self.done = true;
                        let reason = reason.ok()?;
                        metrics::dropped(reason);
                        return Some(Message::Closing(reason));
                    }
                    _ = self.recheck.tick() => {
                        if self.token_live().await {
                            continue;
                        }
                        self.done = true;
                        self.hub.forget(self.id);
                        metrics::dropped(CloseReason::Revoked);
                        return Some(Message::Closing(CloseReason::Revoked));
                    }
                    item = self.rx.recv() => match item {
                        Some(item) => item,
                        None => {
                            self.done = true;
                            return None;
                        }
                    },
                },
            };
            match item {
                // Already sent before the resume (the client was ahead of this replica).
                Item::Frame(frame) if frame.seq <= self.skip_through => continue,
                Item::Frame(frame) => {
                    metrics::sent(frame.kind);
                    return Some(Message::Event {
                        id: event_id(&self.epoch, frame.seq),
                        kind: frame.kind,
                        data: frame.data.clone(),
                    });
                }
                Item::Reset { reason, at } => {
                    metrics::reset(reason);
                    return Some(Message::Reset {
                        id: event_id(&self.epoch, at),
                        reason,
                    });
                }
            }
        }
    }
}

impl Connection {
    /// Whether the stream's token still lives (not deleted, not expired, its user not
    /// deleted): how a revocation on another replica reaches this one. A store that cannot
    /// answer keeps the stream open (the next check asks again).
    async fn token_live(&self) -> bool {
        let Some(store) = self.hub.0.tokens.get() else {
            return true;
        };
        match store.tokens(&self.user_id, self.token_kind).await {
            Ok(tokens) => {
                let now = chrono::Utc::now();
                tokens.iter().any(|t| {
                    t.id == self.token_id && t.expires_at.is_none_or(|expires| expires > now)
                })
            }
            Err(err) => {
                tracing::warn!(error = %err, "stream: could not check the stream's token; checking again at the next heartbeat");
                true
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.hub.forget(self.id);
        metrics::closed();
    }
}

mod metrics {
    use super::{CloseReason, FrameKind};

    pub(super) fn opened() {
        metrics::gauge!("stock_api_stream_open").increment(1.0);
    }

    pub(super) fn closed() {
        metrics::gauge!("stock_api_stream_open").decrement(1.0);
    }

    pub(super) fn sent(kind: FrameKind) {
        metrics::counter!("stock_api_stream_events_sent_total", "kind" => kind.as_str())
            .increment(1);
    }

    pub(super) fn dropped(reason: CloseReason) {
        metrics::counter!("stock_api_stream_drops_total", "reason" => reason.as_str()).increment(1);
    }

    pub(super) fn refused(reason: &'static str) {
        metrics::counter!("stock_api_stream_refused_total", "reason" => reason).increment(1);
    }

    pub(super) fn reset(reason: &'static str) {
        metrics::counter!("stock_api_stream_resets_total", "reason" => reason).increment(1);
    }
}
