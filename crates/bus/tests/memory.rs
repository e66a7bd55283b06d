//! The in-process bus: work queue, fan-out, redelivery, and quote partition ownership.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bus::{Bus, BusConfig, Event, MemoryBus, OutboxReady, QuoteEvent, StreamKind};
use domain::Symbol;

fn bus() -> MemoryBus {
    MemoryBus::new(BusConfig {
        ack_wait: Duration::from_millis(300),
        ..BusConfig::default()
    })
    .unwrap()
}

fn nudge(count: u32) -> Event {
    Event::OutboxReady(OutboxReady { count })
}

fn quote(symbol: &str, price: &str) -> Event {
    Event::Quote(QuoteEvent {
        symbol: Symbol::parse(symbol).unwrap(),
        price: price.parse().unwrap(),
        previous_close: None,
        at: chrono::Utc::now(),
        source: "test".into(),
    })
}

async fn next(sub: &mut bus::Subscription) -> bus::Delivery {
    tokio::time::timeout(Duration::from_secs(2), sub.next())
        .await
        .expect("a delivery within 2 s")
        .expect("subscription open")
}

async fn nothing(sub: &mut bus::Subscription, within: Duration) {
    if let Ok(Some(d)) = tokio::time::timeout(within, sub.next()).await {
        panic!("unexpected delivery {:?}", d.event());
    }
}

#[tokio::test]
async fn round_trip_and_fan_out_to_groups() {
    let bus = bus();
    let mut a = bus.subscribe(StreamKind::Outbox, "dispatch").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Outbox, "audit").await.unwrap();
    bus.publish(&nudge(1)).await.unwrap();
    for sub in [&mut a, &mut b] {
        let d = next(sub).await;
        assert_eq!(d.event(), &nudge(1));
        assert_eq!(d.attempt(), 1);
        d.ack().await.unwrap();
    }
    nothing(&mut a, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn one_group_splits_the_work() {
    let bus = bus();
    let mut a = bus.subscribe(StreamKind::Outbox, "dispatch").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Outbox, "dispatch").await.unwrap();
    for i in 0..20 {
        bus.publish(&nudge(i)).await.unwrap();
    }
    let mut seen = Vec::new();
    let (mut from_a, mut from_b) = (0, 0);
    while seen.len() < 20 {
        tokio::select! {
            Some(d) = a.next() => { from_a += 1; seen.push(d.event().clone()); d.ack().await.unwrap(); }
            Some(d) = b.next() => { from_b += 1; seen.push(d.event().clone()); d.ack().await.unwrap(); }
        }
    }
    assert!(from_a > 0 && from_b > 0, "a {from_a}, b {from_b}");
    seen.sort_by_key(|e| match e {
        Event::OutboxReady(o) => o.count,
        _ => u32::MAX,
    });
    assert_eq!(
        seen,
        (0..20).map(nudge).collect::<Vec<_>>(),
        "each exactly once"
    );
    nothing(&mut a, Duration::from_millis(100)).await;
    nothing(&mut b, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn unacked_events_come_back() {
    let bus = bus();
    let mut sub = bus.subscribe(StreamKind::Alerts, "engine").await.unwrap();
    let fired = Event::AlertFired(bus::AlertFired {
        event_id: "e1".into(),
        user_id: "u1".into(),
        notice: domain::AlertNotice {
            rule_id: 1,
            symbol: Symbol::parse("MSFT").unwrap(),
            price: "420".parse().unwrap(),
            at: chrono::Utc::now(),
            source: "sim".into(),
            message: "MSFT crossed 420".into(),
            dedupe_key: "1:t".into(),
        },
    });
    bus.publish(&fired).await.unwrap();
    // Dropped without ack: back at once.
    drop(next(&mut sub).await);
    let d = next(&mut sub).await;
    assert_eq!((d.event(), d.attempt()), (&fired, 2));
    // Held past ack_wait: back again.
    let started = tokio::time::Instant::now();
    let again = next(&mut sub).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(again.attempt(), 3);
    drop(d);
    again.nak().await.unwrap();
    let last = next(&mut sub).await;
    assert_eq!(last.attempt(), 4);
    last.ack().await.unwrap();
    nothing(&mut sub, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_partition_has_one_owner_and_moves_when_it_goes() {
    let bus = bus();
    let mut first = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    tokio::task::yield_now().await;
    let mut second = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    let symbols = ["MSFT", "AAPL", "IBM", "GOOG", "BRK.B", "^GSPC"];
    for price in ["1", "2", "3"] {
        for symbol in symbols {
            bus.publish(&quote(symbol, price)).await.unwrap();
        }
    }
    // All to the first subscriber, each symbol in order.
    let mut last: std::collections::HashMap<String, String> = Default::default();
    for _ in 0..symbols.len() * 3 {
        let d = next(&mut first).await;
        let Event::Quote(q) = d.event() else { panic!() };
        let before = last.insert(q.symbol.to_string(), q.price.to_string());
        assert!(
            before.as_ref().is_none_or(|p| *p < q.price.to_string()),
            "{q:?} after {before:?}"
        );
        d.ack().await.unwrap();
    }
    nothing(&mut second, Duration::from_millis(200)).await;

    // The owner takes one and goes away without acking it: the next owner gets it, then the rest.
    bus.publish(&quote("MSFT", "4")).await.unwrap();
    bus.publish(&quote("MSFT", "5")).await.unwrap();
    let held = next(&mut first).await;
    drop(first);
    drop(held);
    let d = next(&mut second).await;
    let Event::Quote(q) = d.event() else { panic!() };
    assert_eq!((q.price.to_string(), d.attempt()), ("4".into(), 2));
    d.ack().await.unwrap();
    let d = next(&mut second).await;
    let Event::Quote(q) = d.event() else { panic!() };
    assert_eq!(q.price.to_string(), "5");
    d.ack().await.unwrap();
}

#[tokio::test]
async fn bad_settings_and_groups_are_refused() {
    assert!(
        MemoryBus::new(BusConfig {
            prefix: "a.b".into(),
            ..BusConfig::default()
        })
        .is_err()
    );
    assert!(
        MemoryBus::new(BusConfig {
            partitions: 0,
            ..BusConfig::default()
        })
        .is_err()
    );
    let bus = bus();
    assert!(bus.subscribe(StreamKind::Alerts, "a.b").await.is_err());
    assert!(bus.subscribe(StreamKind::Alerts, "").await.is_err());
    let default = bus::connect(None, BusConfig::default()).await.unwrap();
    assert!(format!("{default:?}").starts_with("MemoryBus"));
}

#[tokio::test]
async fn the_only_replica_always_leads() {
    let bus = MemoryBus::new(BusConfig::default()).unwrap();
    let first = bus.leadership("poller").await.unwrap();
    let second = bus.leadership("poller").await.unwrap();
    // One process: every claimant is the same replica, so each may do the job.
    assert!(first.is_leader() && second.is_leader());
    assert!(bus.leadership("not a name!").await.is_err());
}

fn label_change(symbol: &str) -> Event {
    Event::SignalLabelChanged(bus::SignalLabelChanged {
        symbol: Symbol::parse(symbol).unwrap(),
        day: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        method: "v1-f34f5ca0".parse().unwrap(),
        previous: Some(domain::SignalLabel::Buy),
        label: domain::SignalLabel::Sell,
        score: domain::SignalScore::new(-0.35).unwrap(),
    })
}

#[tokio::test]
async fn label_changes_reach_every_group_of_their_own_stream_only() {
    let bus = bus();
    let mut notifier = bus.subscribe(StreamKind::Signals, "notify").await.unwrap();
    let mut audit = bus.subscribe(StreamKind::Signals, "audit").await.unwrap();
    let mut outbox = bus.subscribe(StreamKind::Outbox, "notify").await.unwrap();
    bus.publish(&label_change("BRK.B")).await.unwrap();
    for sub in [&mut notifier, &mut audit] {
        let d = next(sub).await;
        assert_eq!(d.event(), &label_change("BRK.B"));
        d.ack().await.unwrap();
    }
    nothing(&mut outbox, Duration::from_millis(100)).await;
    nothing(&mut notifier, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn watchers_see_every_event_in_order_without_taking_from_groups() {
    let bus = bus();
    bus.publish(&nudge(0)).await.unwrap();
    let mut group = bus.subscribe(StreamKind::Outbox, "workers").await.unwrap();
    let mut watch = bus.watch().await.unwrap();
    let mut other = bus.watch().await.unwrap();
    assert_eq!(watch.after(), 1, "the event before the watch is not seen");
    assert_eq!(watch.epoch(), other.epoch());
    bus.publish(&nudge(1)).await.unwrap();
    bus.publish(&quote("MSFT", "1")).await.unwrap();
    for w in [&mut watch, &mut other] {
        assert_eq!(
            w.next().await,
            Some(bus::Watched::Event {
                seq: 2,
                event: nudge(1)
            })
        );
        assert!(matches!(
            w.next().await,
            Some(bus::Watched::Event { seq: 3, .. })
        ));
    }
    // The group still gets its own copy.
    assert_eq!(next(&mut group).await.event(), &nudge(1));
    assert_ne!(
        bus.watch().await.unwrap().epoch(),
        self::bus().watch().await.unwrap().epoch(),
        "another bus, another sequence space"
    );
}

#[tokio::test]
async fn a_watcher_too_far_behind_sees_a_gap() {
    let bus = bus();
    let mut watch = bus.watch().await.unwrap();
    for n in 0..(bus::WATCH_CAPACITY as u32 + 5) {
        bus.publish(&nudge(n)).await.unwrap();
    }
    assert_eq!(watch.next().await, Some(bus::Watched::Gap));
    assert!(matches!(
        watch.next().await,
        Some(bus::Watched::Event { .. })
    ));
}
