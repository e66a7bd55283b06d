//! Bus events as stream frames: the SSE event name, who may see it, and its JSON, rendered
//! once per event (however many connections send it).

use std::sync::Arc;

use bus::Event;
use domain::Symbol;
use serde_json::json;

/// The kinds of event a stream sends (the SSE `event:` name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Quote,
    Alert,
    Notification,
    Signal,
}

impl FrameKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quote => "quote",
            Self::Alert => "alert",
            Self::Notification => "notification",
            Self::Signal => "signal",
        }
    }
}

/// One event as streams send it.
#[derive(Debug)]
pub struct Frame {
    /// The bus sequence (the SSE id's second part).
    pub seq: u64,
    pub kind: FrameKind,
    /// The user an alert or notification belongs to; `None` for public market data.
    pub(crate) owner: Option<String>,
    pub(crate) symbol: Option<Symbol>,
    /// The `data:` JSON.
    pub data: Arc<str>,
}

impl Frame {
    /// The frame of a bus event; `None` for events streams do not carry (outbox nudges).
    pub(crate) fn of(seq: u64, event: &Event) -> Option<Self> {
        let (kind, owner, symbol, data) = match event {
            Event::Quote(quote) => (
                FrameKind::Quote,
                None,
                Some(quote.symbol),
                serde_json::to_value(quote).ok()?,
            ),
            Event::AlertFired(fired) => {
                let notice = &fired.notice;
                (
                    FrameKind::Alert,
                    Some(fired.user_id.clone()),
                    Some(notice.symbol),
                    json!({
                        "event_id": fired.event_id,
                        "rule_id": notice.rule_id,
                        "symbol": notice.symbol,
                        "price": notice.price,
                        "at": notice.at,
                        "message": notice.message,
                        "source": notice.source,
                    }),
                )
            }
            Event::NotificationStatus(status) => (
                FrameKind::Notification,
                Some(status.user_id.clone()),
                None,
                json!({
                    "notification_id": status.notification_id,
                    "event_id": status.event_id,
                    "channel_id": status.channel_id,
                    "status": status.status,
                    "attempts": status.attempts,
                    "error": status.error,
                }),
            ),
            Event::SignalLabelChanged(change) => (
                FrameKind::Signal,
                None,
                Some(change.symbol),
                serde_json::to_value(change).ok()?,
            ),
            // Nudges for workers, not for people: the articles are read over REST.
            Event::OutboxReady(_) | Event::NewsIngested(_) => return None,
        };
        Some(Self {
            seq,
            kind,
            owner,
            symbol,
            data: data.to_string().into(),
        })
    }

    /// Whether the subscriber `user_id` with `topics` may and wants to see this frame:
    /// alerts and notifications only to their owner, market data to whoever names it.
    pub(crate) fn is_for(&self, user_id: &str, topics: &super::Topics) -> bool {
        let own = || self.owner.as_deref() == Some(user_id) && !user_id.is_empty();
        match (self.kind, &self.symbol) {
            (FrameKind::Quote, Some(symbol)) => topics.quotes.contains(symbol),
            (FrameKind::Signal, Some(symbol)) => topics.wants_signal(symbol),
            (FrameKind::Alert, _) => topics.alerts && own(),
            (FrameKind::Notification, _) => topics.notifications && own(),
            _ => false,
        }
    }
}
