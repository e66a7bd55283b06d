//! The bus contract, asserted the same way on every networked implementation (NATS JetStream in
//! `nats.rs`, Kafka in `kafka.rs`): each test body here takes a bus and a [`Probe`], the
//! implementation's view of who owns what, so the tests wait on the broker's state instead of
//! sleeping through lease rounds.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use bus::{Bus, Delivery, Event, OutboxReady, QuoteEvent, StreamKind, Subscription};
use domain::Symbol;

/// What a test can see of one bus on its broker.
#[async_trait]
pub trait Probe: Send + Sync {
    /// How many quote partitions of `group` each member holds (member id → count).
    async fn shares(&self, group: &str) -> HashMap<String, usize>;
    /// Whether `members` subscribers of (`kind`, `group`) are each ready to take work.
    async fn members_ready(&self, kind: StreamKind, group: &str, members: usize) -> bool;
    /// A mark that moves each time the leader of `name` renews its claim (NATS: the lease
    /// key's revision; Kafka: a heartbeat interval passed with the group stable).
    async fn renewal_mark(&self, name: &str) -> u64;
}

/// Under CI (`CI` set), a missing server fails the tests; elsewhere they skip.
pub fn server_url(variable: &str, test: &str) -> Option<String> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if ci => panic!("CI is set but {variable} is not: the bus tests need the server"),
        _ => {
            eprintln!("note: {variable} is not set; skipping the bus test {test}");
            None
        }
    }
}

/// A prefix of one test's own (stream or topics, groups, leases).
pub fn prefix(test: &str) -> String {
    format!(
        "t{}-{}",
        test,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

pub fn nudge(count: u32) -> Event {
    Event::OutboxReady(OutboxReady { count })
}

pub fn quote(symbol: &str, price: u32) -> Event {
    Event::Quote(QuoteEvent {
        symbol: Symbol::parse(symbol).unwrap(),
        price: price.to_string().parse().unwrap(),
        previous_close: None,
        at: chrono::Utc::now(),
        source: "test".into(),
    })
}

pub async fn next(sub: &mut Subscription, within: Duration) -> Delivery {
    tokio::time::timeout(within, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery within {within:?}"))
        .expect("subscription open")
}

/// The next `count` events of `watch`, each with its sequence number; panics on a gap or after
/// 5 s without one.
pub async fn watched(watch: &mut bus::Watch, count: usize) -> Vec<(u64, Event)> {
    let mut seen = Vec::with_capacity(count);
    for _ in 0..count {
        match tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("an event within 5 s")
            .expect("the watch open")
        {
            bus::Watched::Event { seq, event } => seen.push((seq, event)),
            bus::Watched::Gap => panic!("no gap expected"),
        }
    }
    seen
}

pub async fn nothing(sub: &mut Subscription, within: Duration) {
    if let Ok(Some(d)) = tokio::time::timeout(within, sub.next()).await {
        panic!("unexpected delivery {:?}", d.event());
    }
}

/// Polls `check` every 50 ms until it holds; panics naming `what` after `within`.
pub async fn until<F: Future<Output = bool>>(within: Duration, what: &str, check: impl Fn() -> F) {
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `members` members of `group` hold every partition, in equal shares.
pub async fn split_evenly(probe: &dyn Probe, group: &str, members: usize, partitions: u16) -> bool {
    let shares = probe.shares(group).await;
    shares.len() == members
        && shares
            .values()
            .all(|&held| held * members == usize::from(partitions))
}

/// Two groups each get every event; two members of one group, on two connections (the second
/// made by connecting again: setup is idempotent), get it once between them.
pub async fn round_trip_fan_out_and_idempotent_setup(
    bus: &dyn Bus,
    again: &dyn Bus,
    probe: &dyn Probe,
) {
    let mut a = bus.subscribe(StreamKind::Outbox, "dispatch").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Outbox, "audit").await.unwrap();
    let mut c = again
        .subscribe(StreamKind::Outbox, "dispatch")
        .await
        .unwrap();
    until(Duration::from_secs(10), "the members ready", || async {
        probe.members_ready(StreamKind::Outbox, "dispatch", 2).await
            && probe.members_ready(StreamKind::Outbox, "audit", 1).await
    })
    .await;
    bus.publish(&nudge(7)).await.unwrap();
    let d = next(&mut b, Duration::from_secs(5)).await;
    assert_eq!((d.event(), d.attempt()), (&nudge(7), 1));
    d.ack().await.unwrap();
    // Group "dispatch" has two members: exactly one of them gets it.
    let d = tokio::time::timeout(Duration::from_secs(5), async {
        tokio::select! {
            Some(d) = a.next() => d,
            Some(d) = c.next() => d,
        }
    })
    .await
    .expect("the dispatch group's delivery within 5 s");
    assert_eq!(d.event(), &nudge(7));
    d.ack().await.unwrap();
    nothing(&mut a, Duration::from_millis(1500)).await;
    nothing(&mut c, Duration::from_millis(10)).await;
}

fn nudge_as_alert(i: u32) -> Event {
    Event::AlertFired(bus::AlertFired {
        event_id: format!("e{i}"),
        user_id: "u".into(),
        notice: domain::AlertNotice {
            rule_id: 1,
            symbol: Symbol::parse("MSFT").unwrap(),
            price: "1".parse().unwrap(),
            at: chrono::Utc::now(),
            source: "sim".into(),
            message: String::new(),
            dedupe_key: format!("1:{i}"),
        },
    })
}

/// Members of one group share a stream's work, each event to one of them.
pub async fn one_group_splits_the_work(bus: &dyn Bus, probe: &dyn Probe) {
    let mut a = bus.subscribe(StreamKind::Alerts, "dispatch").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Alerts, "dispatch").await.unwrap();
    until(Duration::from_secs(10), "both members ready", || async {
        probe.members_ready(StreamKind::Alerts, "dispatch", 2).await
    })
    .await;
    for i in 0..40 {
        bus.publish(&nudge_as_alert(i)).await.unwrap();
    }
    let mut seen = HashSet::new();
    let (mut from_a, mut from_b) = (0, 0);
    while seen.len() < 40 {
        let d = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::select! {
                Some(d) = a.next() => (true, d),
                Some(d) = b.next() => (false, d),
            }
        })
        .await
        .expect("all 40 within 5 s");
        if d.0 {
            from_a += 1
        } else {
            from_b += 1
        }
        assert!(seen.insert(format!("{:?}", d.1.event())), "delivered twice");
        // Slow consumers, so both members pull.
        tokio::time::sleep(Duration::from_millis(5)).await;
        d.1.ack().await.unwrap();
    }
    assert!(from_a > 0 && from_b > 0, "a {from_a}, b {from_b}");
}

/// Unacked: delivered again after `ack_wait` (1 s in these tests); nakked: at once.
pub async fn an_unacked_message_is_redelivered_after_ack_wait(bus: &dyn Bus, probe: &dyn Probe) {
    let mut sub = bus
        .subscribe(StreamKind::Notifications, "ui")
        .await
        .unwrap();
    until(Duration::from_secs(10), "the member ready", || async {
        probe
            .members_ready(StreamKind::Notifications, "ui", 1)
            .await
    })
    .await;
    let status = Event::NotificationStatus(bus::NotificationStatus {
        notification_id: "n1".into(),
        user_id: "u1".into(),
        event_id: "e1".into(),
        channel_id: "c1".into(),
        status: "sent".into(),
        attempts: 1,
        error: None,
    });
    bus.publish(&status).await.unwrap();
    let first = next(&mut sub, Duration::from_secs(5)).await;
    assert_eq!(first.attempt(), 1);
    let started = std::time::Instant::now();
    drop(first);
    let again = next(&mut sub, Duration::from_secs(5)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((again.event(), again.attempt()), (&status, 2));
    again.nak().await.unwrap();
    let third = next(&mut sub, Duration::from_secs(2)).await;
    assert_eq!(third.attempt(), 3);
    third.ack().await.unwrap();
    nothing(&mut sub, Duration::from_millis(1500)).await;
}

/// Quote partitions: one owner each, in order, shared evenly, moved when an owner dies (after
/// its lease) or leaves (at once), and handed back on drop.
pub async fn partitions_have_one_owner_are_shared_and_fail_over(
    bus: &dyn Bus,
    probe: &dyn Probe,
    partitions: u16,
) {
    // One symbol per partition.
    let mut symbols: HashMap<u16, String> = HashMap::new();
    for i in 0..200 {
        let symbol = format!("S{i}.X");
        symbols
            .entry(bus::partition_of(
                &Symbol::parse(&symbol).unwrap(),
                partitions,
            ))
            .or_insert(symbol);
    }
    assert_eq!(symbols.len(), usize::from(partitions));

    let mut a = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    // Both present: after a few rounds each owns half.
    until(Duration::from_secs(10), "a and b to own half each", || {
        split_evenly(probe, "engine", 2, partitions)
    })
    .await;

    let mut price = 0;
    let mut owners: HashMap<String, HashSet<char>> = HashMap::new();
    let mut last: HashMap<String, u32> = HashMap::new();
    for _round in 0..3 {
        price += 1;
        for symbol in symbols.values() {
            bus.publish(&quote(symbol, price)).await.unwrap();
        }
        for _ in 0..symbols.len() {
            let (who, d) = tokio::time::timeout(Duration::from_secs(5), async {
                tokio::select! {
                    Some(d) = a.next() => ('a', d),
                    Some(d) = b.next() => ('b', d),
                }
            })
            .await
            .expect("every quote within 5 s");
            let Event::Quote(q) = d.event() else { panic!() };
            let p: u32 = q.price.to_string().parse().unwrap();
            let before = last.insert(q.symbol.to_string(), p);
            assert!(
                before.is_none_or(|b| b < p),
                "out of order: {p} after {before:?}"
            );
            owners.entry(q.symbol.to_string()).or_default().insert(who);
            d.ack().await.unwrap();
        }
    }
    for (symbol, who) in &owners {
        assert_eq!(who.len(), 1, "{symbol} went to both subscribers");
    }
    let a_count = owners.values().filter(|w| w.contains(&'a')).count();
    assert_eq!(
        a_count * 2,
        usize::from(partitions),
        "unbalanced: a owns {a_count}"
    );

    // `a` dies without handing back: `b` takes its partitions within lease + a round.
    a.kill();
    let started = std::time::Instant::now();
    price += 1;
    for symbol in symbols.values() {
        bus.publish(&quote(symbol, price)).await.unwrap();
    }
    let mut got = HashSet::new();
    while got.len() < symbols.len() {
        let d = next(&mut b, Duration::from_secs(6)).await;
        let Event::Quote(q) = d.event() else { panic!() };
        got.insert(q.symbol.to_string());
        d.ack().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    // A new member gets a share back once `b` sheds; a graceful close hands over at once.
    let mut c = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    until(Duration::from_secs(10), "b and c to own half each", || {
        split_evenly(probe, "engine", 2, partitions)
    })
    .await;
    b.close().await;
    price += 1;
    for symbol in symbols.values() {
        bus.publish(&quote(symbol, price)).await.unwrap();
    }
    let mut got = HashSet::new();
    while got.len() < symbols.len() {
        let d = next(&mut c, Duration::from_secs(6)).await;
        let Event::Quote(q) = d.event() else { panic!() };
        got.insert(q.symbol.to_string());
        d.ack().await.unwrap();
    }
    drop(c);
    until(
        Duration::from_secs(5),
        "c's partitions handed back",
        || async { probe.shares("engine").await.is_empty() },
    )
    .await;
}

/// Every group of the quotes stream gets every quote; a symbol with a `.` travels intact.
pub async fn quotes_fan_out_to_groups_and_dotted_symbols_round_trip(
    bus: &dyn Bus,
    probe: &dyn Probe,
) {
    let mut engine = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    let mut audit = bus.subscribe(StreamKind::Quotes, "audit").await.unwrap();
    let event = quote("BRK.B", 500);
    bus.publish(&event).await.unwrap();
    for sub in [&mut engine, &mut audit] {
        // Kept for the group from `subscribe` on, even before its partitions have an owner.
        let d = next(sub, Duration::from_secs(10)).await;
        assert_eq!(d.event(), &event);
        d.ack().await.unwrap();
    }
    drop((engine, audit));
    until(
        Duration::from_secs(5),
        "the partitions handed back",
        || async {
            probe.shares("engine").await.is_empty() && probe.shares("audit").await.is_empty()
        },
    )
    .await;
}

/// Label changes reach every group of their own stream, and no other stream.
pub async fn label_changes_travel_on_their_own_stream_to_every_group(
    bus: &dyn Bus,
    probe: &dyn Probe,
) {
    let mut notifier = bus.subscribe(StreamKind::Signals, "notify").await.unwrap();
    let mut audit = bus.subscribe(StreamKind::Signals, "audit").await.unwrap();
    let mut outbox = bus.subscribe(StreamKind::Outbox, "notify").await.unwrap();
    until(Duration::from_secs(10), "the members ready", || async {
        probe.members_ready(StreamKind::Signals, "notify", 1).await
            && probe.members_ready(StreamKind::Signals, "audit", 1).await
            && probe.members_ready(StreamKind::Outbox, "notify", 1).await
    })
    .await;
    let change = Event::SignalLabelChanged(bus::SignalLabelChanged {
        symbol: Symbol::parse("BRK.B").unwrap(),
        day: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        method: "v1-f34f5ca0".parse().unwrap(),
        previous: None,
        label: domain::SignalLabel::StrongBuy,
        score: domain::SignalScore::new(0.61).unwrap(),
    });
    bus.publish(&change).await.unwrap();
    for sub in [&mut notifier, &mut audit] {
        let d = next(sub, Duration::from_secs(5)).await;
        assert_eq!((d.event(), d.attempt()), (&change, 1));
        d.ack().await.unwrap();
    }
    nothing(&mut outbox, Duration::from_millis(500)).await;
}

/// One claimant of a name leads at a time; another takes over when it goes (within a round or
/// two) or dies (after its lease, not before).
pub async fn one_claimant_leads_and_another_takes_over_when_it_goes_or_dies(
    bus: &dyn Bus,
    probe: &dyn Probe,
    lease: Duration,
) {
    let a = bus.leadership("poller").await.unwrap();
    let b = bus.leadership("poller").await.unwrap();
    let other = bus.leadership("archiver").await.unwrap();
    until(lease * 4, "a leader", || async {
        a.is_leader() || b.is_leader()
    })
    .await;
    // Over the leader's next two renewals: never both, never neither; other names are
    // independent.
    let (mut last, mut renewals) = (probe.renewal_mark("poller").await, 0);
    let deadline = std::time::Instant::now() + lease * 3;
    while renewals < 2 {
        assert!(
            a.is_leader() != b.is_leader(),
            "exactly one leads: {} {}",
            a.is_leader(),
            b.is_leader()
        );
        let now = probe.renewal_mark("poller").await;
        if now != last {
            (last, renewals) = (now, renewals + 1);
        }
        assert!(std::time::Instant::now() < deadline, "no renewals");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until(lease * 4, "the other name's leader", || async {
        other.is_leader()
    })
    .await;
    assert!(bus.leadership("no spaces").await.is_err());

    // Handed back on drop: the follower leads within a renewal round or two.
    let (leader, follower) = if a.is_leader() { (a, b) } else { (b, a) };
    drop(leader);
    until(lease * 2, "the follower to take over", || async {
        follower.is_leader()
    })
    .await;

    // A crashed leader (no hand-back): the next claimant waits for the claim to expire on the
    // server, then leads.
    let next = bus.leadership("poller").await.unwrap();
    // Once the live leader has renewed since `next` began claiming, `next` has tried and lost.
    let held = probe.renewal_mark("poller").await;
    until(lease * 2, "a renewal by the live leader", || async {
        probe.renewal_mark("poller").await > held
    })
    .await;
    assert!(follower.is_leader(), "the live leader keeps leading");
    assert!(!next.is_leader(), "the leader is alive: no takeover yet");
    let crashed_at = std::time::Instant::now();
    follower.kill();
    until(lease * 4, "a takeover after the crash", || async {
        next.is_leader()
    })
    .await;
    assert!(
        crashed_at.elapsed() >= lease / 3,
        "took over before the dead leader's lease could have run out"
    );
    drop((next, other));
}
