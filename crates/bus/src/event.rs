//! The events that travel on the bus, the streams they belong to, and their subjects.
//!
//! Payloads are JSON with a `type` tag, so a message read by a tool (`nats sub 'stockd.>'`)
//! says what it is. Prices are JSON numbers (`domain::Price`'s own serde form).

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use domain::{AlertNotice, Price, SignalLabel, SignalMethod, SignalScore, Symbol};
use serde::{Deserialize, Serialize};

/// A live quote, as the poller (or the simulated feed) produced it, after the data-quality guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteEvent {
    pub symbol: Symbol,
    pub price: Price,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_close: Option<Price>,
    pub at: DateTime<Utc>,
    /// The provider that answered (`finnhub`, `alphavantage`, `sim`, …).
    pub source: String,
}

/// An alert event the engine wrote (with its outbox rows) in one transaction: the stored event,
/// its owner, and the notice its channels are sent.
///
/// On the wire it stays the flat object it always was (`rule_id` as text), with the notice's
/// `source` added; a message without `source` (from an older build) reads with an empty one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "AlertFiredWire", try_from = "AlertFiredWire")]
pub struct AlertFired {
    pub event_id: String,
    pub user_id: String,
    pub notice: AlertNotice,
}

/// [`AlertFired`] as its JSON reads.
#[derive(Serialize, Deserialize)]
struct AlertFiredWire {
    event_id: String,
    rule_id: String,
    user_id: String,
    symbol: Symbol,
    price: Price,
    at: DateTime<Utc>,
    dedupe_key: String,
    message: String,
    #[serde(default)]
    source: String,
}

impl From<AlertFired> for AlertFiredWire {
    fn from(fired: AlertFired) -> Self {
        let notice = fired.notice;
        Self {
            event_id: fired.event_id,
            rule_id: notice.rule_id.to_string(),
            user_id: fired.user_id,
            symbol: notice.symbol,
            price: notice.price,
            at: notice.at,
            dedupe_key: notice.dedupe_key,
            message: notice.message,
            source: notice.source,
        }
    }
}

impl TryFrom<AlertFiredWire> for AlertFired {
    type Error = String;

    fn try_from(wire: AlertFiredWire) -> Result<Self, String> {
        let rule_id = wire
            .rule_id
            .parse()
            .map_err(|_| format!("rule_id '{}' is not a rule number", wire.rule_id))?;
        Ok(Self {
            event_id: wire.event_id,
            user_id: wire.user_id,
            notice: AlertNotice {
                rule_id,
                symbol: wire.symbol,
                price: wire.price,
                at: wire.at,
                source: wire.source,
                message: wire.message,
                dedupe_key: wire.dedupe_key,
            },
        })
    }
}

/// What happened to one notification attempt.
///
/// `user_id` (the owner) and `event_id` (the alert event it tells about) came later: a message
/// from an earlier build reads with them empty, and a live stream shows it to nobody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationStatus {
    pub notification_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub event_id: String,
    pub channel_id: String,
    /// `sent`, `retrying`, `failed`, … (the notify crate's vocabulary).
    pub status: String,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A nudge: the outbox has rows to send. Dispatchers also poll, so a lost nudge only delays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxReady {
    pub count: u32,
}

/// A symbol's composite signal label changed: the signal computed for `day` under `method` has
/// another label than the one before it (or is the symbol's first under that method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalLabelChanged {
    pub symbol: Symbol,
    /// The trading day of the signal with the new label.
    pub day: NaiveDate,
    pub method: SignalMethod,
    /// The label before; absent for a symbol's first signal under `method`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<SignalLabel>,
    pub label: SignalLabel,
    pub score: SignalScore,
}

/// A news run stored new articles: the sentiment scorer has work. One per finished news job
/// attempt that stored at least one article (a nudge: the scorer reads the store's unscored
/// articles, so a lost or repeated event only delays or repeats a no-op).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsIngested {
    /// The symbols that got new articles.
    pub symbols: Vec<Symbol>,
    /// Articles stored for the first time.
    pub new_articles: u64,
}

/// The version of the events' JSON, in each message's `schema_version` field: it goes up when
/// a field changes meaning or goes away (added fields keep it; readers ignore unknown ones).
pub const SCHEMA_VERSION: u32 = 1;

/// An event as the bus sends it: its JSON with `schema_version` added.
pub(crate) fn encode(event: &Event) -> Result<Vec<u8>, serde_json::Error> {
    let mut json = serde_json::to_value(event)?;
    if let serde_json::Value::Object(fields) = &mut json {
        fields.insert("schema_version".into(), SCHEMA_VERSION.into());
    }
    serde_json::to_vec(&json)
}

/// Everything the bus carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Quote(QuoteEvent),
    AlertFired(AlertFired),
    NotificationStatus(NotificationStatus),
    OutboxReady(OutboxReady),
    SignalLabelChanged(SignalLabelChanged),
    NewsIngested(NewsIngested),
}

impl Event {
    /// The stream this event is published on.
    pub fn kind(&self) -> StreamKind {
        match self {
            Event::Quote(_) => StreamKind::Quotes,
            Event::AlertFired(_) => StreamKind::Alerts,
            Event::NotificationStatus(_) => StreamKind::Notifications,
            Event::OutboxReady(_) => StreamKind::Outbox,
            Event::SignalLabelChanged(_) => StreamKind::Signals,
            Event::NewsIngested(_) => StreamKind::News,
        }
    }
}

/// A family of events; subscribers subscribe to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamKind {
    /// Partitioned by symbol: one owner per partition within a group, in order.
    Quotes,
    Alerts,
    Notifications,
    Outbox,
    /// Composite signal label changes.
    Signals,
    /// News runs that stored new articles.
    News,
}

impl StreamKind {
    pub const ALL: [StreamKind; 6] = [
        StreamKind::Quotes,
        StreamKind::Alerts,
        StreamKind::Notifications,
        StreamKind::Outbox,
        StreamKind::Signals,
        StreamKind::News,
    ];

    /// The metric label and the name part of consumers.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Quotes => "quotes",
            StreamKind::Alerts => "alerts",
            StreamKind::Notifications => "notifications",
            StreamKind::Outbox => "outbox",
            StreamKind::Signals => "signals",
            StreamKind::News => "news",
        }
    }

    /// The subject (under the prefix) of the non-partitioned streams.
    pub(crate) fn subject_suffix(self) -> &'static str {
        match self {
            StreamKind::Quotes => "quotes",
            StreamKind::Alerts => "alerts.fired",
            StreamKind::Notifications => "notifications.status",
            StreamKind::Outbox => "outbox.ready",
            StreamKind::Signals => "signals.label_changed",
            StreamKind::News => "news.ingested",
        }
    }

    /// Whether subscribers of one group own partitions exclusively (quotes) or share messages.
    pub fn is_partitioned(self) -> bool {
        self == StreamKind::Quotes
    }
}

/// The partition of a symbol: FNV-1a over its text, so every replica, every build and every
/// restart agrees (std's hasher is seeded per process).
pub fn partition_of(symbol: &Symbol, partitions: u16) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in symbol.as_str().bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % u32::from(partitions.max(1))) as u16
}

/// A symbol as one subject token. `.` separates NATS tokens, so it becomes `_`, which symbols
/// never contain (the mapping is reversible); `^`, `=` and `-` are valid in tokens as they are.
pub fn symbol_token(symbol: &Symbol) -> String {
    symbol.as_str().replace('.', "_")
}

/// The subject of an event under `prefix` (`stockd.quotes.p3.BRK_B`, `stockd.alerts.fired`, …).
pub(crate) fn subject(prefix: &str, event: &Event, partitions: u16) -> String {
    match event {
        Event::Quote(quote) => format!(
            "{}.p{}.{}",
            kind_subject(prefix, StreamKind::Quotes),
            partition_of(&quote.symbol, partitions),
            symbol_token(&quote.symbol)
        ),
        other => kind_subject(prefix, other.kind()),
    }
}

/// `prefix.quotes`, `prefix.alerts.fired`, …
pub(crate) fn kind_subject(prefix: &str, kind: StreamKind) -> String {
    format!("{prefix}.{}", kind.subject_suffix())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(text: &str) -> Symbol {
        Symbol::parse(text).unwrap()
    }

    #[test]
    fn partitions_are_stable_and_in_range() {
        // Fixed values: a change here would move symbols between replicas during an upgrade.
        assert_eq!(partition_of(&sym("MSFT"), 8), partition_of(&sym("msft"), 8));
        let spread: std::collections::BTreeSet<u16> = [
            "MSFT", "AAPL", "IBM", "GOOG", "FB", "BRK.B", "^GSPC", "EURUSD=X", "TSLA", "NVDA",
            "AMZN", "META",
        ]
        .iter()
        .map(|s| partition_of(&sym(s), 8))
        .collect();
        assert!(spread.iter().all(|p| *p < 8));
        assert!(spread.len() >= 4, "poor spread: {spread:?}");
        assert_eq!(partition_of(&sym("MSFT"), 1), 0);
        assert_eq!(partition_of(&sym("MSFT"), 0), 0);
    }

    #[test]
    fn symbols_become_single_subject_tokens() {
        assert_eq!(symbol_token(&sym("brk.b")), "BRK_B");
        assert_eq!(symbol_token(&sym("^GSPC")), "^GSPC");
        let quote = Event::Quote(QuoteEvent {
            symbol: sym("TSCO.LON"),
            price: "1.5".parse().unwrap(),
            previous_close: None,
            at: Utc::now(),
            source: "sim".into(),
        });
        let subject = subject("stockd", &quote, 8);
        assert_eq!(subject.split('.').count(), 4, "{subject}");
        assert!(subject.ends_with(".TSCO_LON"));
    }

    #[test]
    fn events_are_tagged_json_with_number_prices() {
        let event = Event::Quote(QuoteEvent {
            symbol: sym("MSFT"),
            price: "420.5".parse().unwrap(),
            previous_close: Some("400".parse().unwrap()),
            at: "2026-11-27T15:00:00Z".parse().unwrap(),
            source: "sim".into(),
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "quote");
        assert_eq!(json["price"], serde_json::json!(420.5));
        assert_eq!(json["previous_close"], serde_json::json!(400.0));
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);

        let nudge = serde_json::to_string(&Event::OutboxReady(OutboxReady { count: 3 })).unwrap();
        assert_eq!(nudge, r#"{"type":"outbox_ready","count":3}"#);
    }

    #[test]
    fn label_changes_are_tagged_json_on_their_own_subject() {
        let change = Event::SignalLabelChanged(SignalLabelChanged {
            symbol: sym("BRK.B"),
            day: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            method: "v1-f34f5ca0".parse().unwrap(),
            previous: Some(SignalLabel::Neutral),
            label: SignalLabel::StrongBuy,
            score: SignalScore::new(0.64).unwrap(),
        });
        let text = serde_json::to_string(&change).unwrap();
        assert_eq!(
            text,
            r#"{"type":"signal_label_changed","symbol":"BRK.B","day":"2026-11-27","method":"v1-f34f5ca0","previous":"neutral","label":"strong_buy","score":0.64}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), change);
        assert_eq!(change.kind(), StreamKind::Signals);
        assert_eq!(
            subject("stockd", &change, 8),
            "stockd.signals.label_changed"
        );

        let first = r#"{"type":"signal_label_changed","symbol":"MSFT","day":"2026-11-27","method":"v1","label":"sell","score":-0.3}"#;
        let Event::SignalLabelChanged(first) = serde_json::from_str(first).unwrap() else {
            panic!("not a label change");
        };
        assert_eq!(first.previous, None, "a first signal has no previous label");
        let out_of_range = r#"{"type":"signal_label_changed","symbol":"MSFT","day":"2026-11-27","method":"v1","label":"sell","score":-3}"#;
        assert!(serde_json::from_str::<Event>(out_of_range).is_err());
    }

    #[test]
    fn sent_events_carry_their_schema_version_and_read_back() {
        let event = Event::OutboxReady(OutboxReady { count: 2 });
        let sent: serde_json::Value = serde_json::from_slice(&encode(&event).unwrap()).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"type": "outbox_ready", "count": 2, "schema_version": 1})
        );
        let back: Event = serde_json::from_slice(&encode(&event).unwrap()).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn news_runs_are_announced_on_their_own_subject() {
        let event = Event::NewsIngested(NewsIngested {
            symbols: vec![sym("MSFT"), sym("BRK.B")],
            new_articles: 3,
        });
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(
            text,
            r#"{"type":"news_ingested","symbols":["MSFT","BRK.B"],"new_articles":3}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
        assert_eq!(subject("stockd", &event, 8), "stockd.news.ingested");
    }

    /// A firing as an earlier build published it (no `source`): consumers of either build read
    /// the other's messages.
    const EARLIER_ALERT_FIRED: &str = r#"{"type":"alert_fired","event_id":"0192f5c4-e1","rule_id":"42","user_id":"u-7","symbol":"MSFT","price":421.13,"at":"2026-11-27T15:30:00Z","dedupe_key":"42:2026-11-27T15:30:00Z","message":"MSFT crossed above 420.00 (now 421.13)"}"#;

    #[test]
    fn alert_events_keep_their_wire_shape_across_builds() {
        let Event::AlertFired(fired) = serde_json::from_str(EARLIER_ALERT_FIRED).unwrap() else {
            panic!("not an alert event");
        };
        assert_eq!(fired.notice.rule_id, 42);
        assert_eq!(fired.notice.source, "", "absent before");
        assert_eq!(fired.user_id, "u-7");

        let mut fired = fired;
        fired.notice.source = "finnhub".into();
        let json = serde_json::to_value(Event::AlertFired(fired.clone())).unwrap();
        let mut earlier: serde_json::Value = serde_json::from_str(EARLIER_ALERT_FIRED).unwrap();
        earlier["source"] = "finnhub".into();
        assert_eq!(
            json, earlier,
            "every earlier field, same types, `source` added"
        );
        assert_eq!(
            serde_json::from_value::<Event>(json).unwrap(),
            Event::AlertFired(fired)
        );

        let mut bad = earlier;
        bad["rule_id"] = "forty-two".into();
        assert!(serde_json::from_value::<Event>(bad).is_err());
    }
}
