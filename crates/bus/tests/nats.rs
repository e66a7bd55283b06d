//! The JetStream bus against a real nats-server (`STOCKD_TEST_NATS_URL`, JetStream on).
//!
//! Without the variable the tests skip with a note, except under CI (`CI` set), where a
//! missing variable or an unreachable server fails them. Each test uses its own prefix (stream,
//! consumers, lease bucket) and removes them at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bus::{
    Bus, BusConfig, Delivery, Event, JetStreamBus, OutboxReady, QuoteEvent, StreamKind,
    Subscription,
};
use domain::Symbol;

/// The bus of one test, or `None` (skip) when no server is configured outside CI.
async fn bus(name: &str) -> Option<JetStreamBus> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    let url = match std::env::var("STOCKD_TEST_NATS_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if ci => {
            panic!("CI is set but STOCKD_TEST_NATS_URL is not: the bus tests need a NATS server")
        }
        _ => {
            eprintln!("note: STOCKD_TEST_NATS_URL is not set; skipping the NATS bus test {name}");
            return None;
        }
    };
    let prefix = format!(
        "t{}-{}",
        name,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let config = BusConfig {
        prefix,
        partitions: 4,
        ack_wait: Duration::from_secs(1),
        partition_lease: Duration::from_millis(1500),
        ..BusConfig::default()
    };
    match JetStreamBus::connect(&url, config).await {
        Ok(bus) => Some(bus),
        Err(error) => panic!("NATS at {url}: {error}"),
    }
}

fn nudge(count: u32) -> Event {
    Event::OutboxReady(OutboxReady { count })
}

fn quote(symbol: &str, price: u32) -> Event {
    Event::Quote(QuoteEvent {
        symbol: Symbol::parse(symbol).unwrap(),
        price: price.to_string().parse().unwrap(),
        previous_close: None,
        at: chrono::Utc::now(),
        source: "test".into(),
    })
}

async fn next(sub: &mut Subscription, within: Duration) -> Delivery {
    tokio::time::timeout(within, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery within {within:?}"))
        .expect("subscription open")
}

async fn nothing(sub: &mut Subscription, within: Duration) {
    if let Ok(Some(d)) = tokio::time::timeout(within, sub.next()).await {
        panic!("unexpected delivery {:?}", d.event());
    }
}

/// What the server shows of one test's bus, read over a connection of the test's own: lease
/// keys (who owns which partition, who leads) and pull requests waiting on a consumer. The
/// tests wait on these instead of sleeping through lease rounds.
struct Observer {
    leases: async_nats::jetstream::kv::Store,
    stream: async_nats::jetstream::stream::Stream,
    partitions: u16,
}

impl Observer {
    async fn of(bus: &JetStreamBus) -> Self {
        let client = async_nats::connect(std::env::var("STOCKD_TEST_NATS_URL").unwrap())
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client);
        let config = bus.config();
        Self {
            leases: js
                .get_key_value(format!("{}-leases", config.prefix))
                .await
                .unwrap(),
            stream: js.get_stream(&config.prefix).await.unwrap(),
            partitions: config.partitions,
        }
    }

    /// How many partitions of `group` each member holds (member id → count).
    async fn shares(&self, group: &str) -> HashMap<String, usize> {
        let mut shares = HashMap::new();
        for k in 0..self.partitions {
            if let Ok(Some(owner)) = self.leases.get(format!("{group}.p{k}")).await {
                *shares
                    .entry(String::from_utf8_lossy(&owner).into_owned())
                    .or_default() += 1;
            }
        }
        shares
    }

    /// Whether `members` members of `group` hold every partition, in equal shares.
    async fn split_evenly(&self, group: &str, members: usize) -> bool {
        let shares = self.shares(group).await;
        shares.len() == members
            && shares
                .values()
                .all(|&held| held * members == usize::from(self.partitions))
    }

    /// The revision of the lease key `key` (it moves at each renewal); 0 when absent.
    async fn revision(&self, key: &str) -> u64 {
        self.leases
            .entry(key)
            .await
            .ok()
            .flatten()
            .map_or(0, |entry| entry.revision)
    }

    /// Pull requests waiting on the durable consumer `name`.
    async fn waiting_pulls(&self, name: &str) -> usize {
        self.stream
            .consumer_info(name)
            .await
            .map_or(0, |info| info.num_waiting)
    }
}

/// Polls `check` every 50 ms until it holds; panics naming `what` after `within`.
async fn until<F: Future<Output = bool>>(within: Duration, what: &str, check: impl Fn() -> F) {
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn round_trip_fan_out_and_idempotent_setup() {
    let Some(bus) = bus("fan").await else { return };
    let mut a = bus.subscribe(StreamKind::Outbox, "dispatch").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Outbox, "audit").await.unwrap();
    // Creating the stream and the same consumer again is fine.
    let again = JetStreamBus::connect(
        &std::env::var("STOCKD_TEST_NATS_URL").unwrap(),
        bus_config(&bus),
    )
    .await
    .unwrap();
    let mut c = again
        .subscribe(StreamKind::Outbox, "dispatch")
        .await
        .unwrap();
    bus.publish(&nudge(7)).await.unwrap();
    let d = next(&mut b, Duration::from_secs(5)).await;
    assert_eq!((d.event(), d.attempt()), (&nudge(7), 1));
    d.ack().await.unwrap();
    // Group "dispatch" has two members: exactly one of them gets it.
    let d = tokio::select! {
        Some(d) = a.next() => d,
        Some(d) = c.next() => d,
    };
    assert_eq!(d.event(), &nudge(7));
    d.ack().await.unwrap();
    nothing(&mut a, Duration::from_millis(1500)).await;
    nothing(&mut c, Duration::from_millis(10)).await;
    drop((a, b, c));
    bus.destroy().await.unwrap();
}

fn bus_config(bus: &JetStreamBus) -> BusConfig {
    bus.config().clone()
}

#[tokio::test]
async fn one_group_splits_the_work() {
    let Some(bus) = bus("split").await else {
        return;
    };
    let mut a = bus.subscribe(StreamKind::Alerts, "dispatch").await.unwrap();
    let mut b = bus.subscribe(StreamKind::Alerts, "dispatch").await.unwrap();
    // Both members pulling before anything is published.
    let observer = Observer::of(&bus).await;
    until(Duration::from_secs(5), "both members' pulls", || async {
        observer.waiting_pulls("alerts-dispatch").await >= 2
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
    drop((a, b));
    bus.destroy().await.unwrap();
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

#[tokio::test]
async fn an_unacked_message_is_redelivered_after_ack_wait() {
    let Some(bus) = bus("redeliver").await else {
        return;
    };
    let mut sub = bus
        .subscribe(StreamKind::Notifications, "ui")
        .await
        .unwrap();
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
    drop(sub);
    bus.destroy().await.unwrap();
}

/// Which subscriber got which partitions, from the quotes they received.
#[tokio::test]
async fn partitions_have_one_owner_are_shared_and_fail_over() {
    let Some(bus) = bus("part").await else { return };
    let partitions = bus_config(&bus).partitions;
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
    // Both present: after a few lease rounds each owns half.
    let observer = Observer::of(&bus).await;
    until(Duration::from_secs(10), "a and b to own half each", || {
        observer.split_evenly("engine", 2)
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
        observer.split_evenly("engine", 2)
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
    // Its leases handed back before the bucket goes.
    until(Duration::from_secs(5), "c's leases handed back", || async {
        observer.shares("engine").await.is_empty()
    })
    .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn quotes_fan_out_to_groups_and_dotted_symbols_round_trip() {
    let Some(bus) = bus("qfan").await else { return };
    let mut engine = bus.subscribe(StreamKind::Quotes, "engine").await.unwrap();
    let mut audit = bus.subscribe(StreamKind::Quotes, "audit").await.unwrap();
    let event = quote("BRK.B", 500);
    bus.publish(&event).await.unwrap();
    for sub in [&mut engine, &mut audit] {
        // The first lease round takes the partitions right after subscribing.
        let d = next(sub, Duration::from_secs(5)).await;
        assert_eq!(d.event(), &event);
        d.ack().await.unwrap();
    }
    drop((engine, audit));
    // Their leases handed back before the bucket goes.
    let observer = Observer::of(&bus).await;
    until(Duration::from_secs(5), "the leases handed back", || async {
        observer.shares("engine").await.is_empty() && observer.shares("audit").await.is_empty()
    })
    .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn label_changes_travel_on_their_own_subject_to_every_group() {
    let Some(bus) = bus("signals").await else {
        return;
    };
    let mut notifier = bus.subscribe(StreamKind::Signals, "notify").await.unwrap();
    let mut audit = bus.subscribe(StreamKind::Signals, "audit").await.unwrap();
    let mut outbox = bus.subscribe(StreamKind::Outbox, "notify").await.unwrap();
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
    drop((notifier, audit, outbox));
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn one_claimant_leads_and_another_takes_over_when_it_goes_or_dies() {
    let Some(bus) = bus("lead").await else { return };
    let lease = bus_config(&bus).partition_lease;
    let a = bus.leadership("poller").await.unwrap();
    let b = bus.leadership("poller").await.unwrap();
    let other = bus.leadership("archiver").await.unwrap();
    until(lease, "a leader", || async {
        a.is_leader() || b.is_leader()
    })
    .await;
    // Over the leader's next two renewals: never both, never neither; other names are
    // independent.
    let observer = Observer::of(&bus).await;
    let (mut last, mut renewals) = (observer.revision("leader.poller").await, 0);
    let deadline = std::time::Instant::now() + lease * 3;
    while renewals < 2 {
        assert!(
            a.is_leader() != b.is_leader(),
            "exactly one leads: {} {}",
            a.is_leader(),
            b.is_leader()
        );
        // A key's revision moves at each write to it (by more when other keys were written).
        let now = observer.revision("leader.poller").await;
        if now != last {
            (last, renewals) = (now, renewals + 1);
        }
        assert!(std::time::Instant::now() < deadline, "no renewals");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(other.is_leader());
    assert!(bus.leadership("no spaces").await.is_err());

    // Handed back on drop: the follower leads within a renewal round or two.
    let (leader, follower) = if a.is_leader() { (a, b) } else { (b, a) };
    drop(leader);
    until(lease, "the follower to take over", || async {
        follower.is_leader()
    })
    .await;

    // A crashed leader (no hand-back): the next claimant waits for the key to expire on the
    // server, then leads.
    let next = bus.leadership("poller").await.unwrap();
    // Once the live leader has renewed since `next` began claiming, `next` has tried and lost.
    let held = observer.revision("leader.poller").await;
    until(lease, "a renewal by the live leader", || async {
        observer.revision("leader.poller").await > held
    })
    .await;
    assert!(!next.is_leader(), "the leader is alive: no takeover yet");
    let crashed_at = std::time::Instant::now();
    follower.kill();
    until(lease * 3, "a takeover after the crash", || async {
        next.is_leader()
    })
    .await;
    assert!(
        crashed_at.elapsed() >= lease / 3,
        "took over before the dead leader's lease could have run out"
    );
    drop((next, other));
    bus.destroy().await.unwrap();
}

/// Two replicas (two connections) watching one deployment see the same events with the same
/// sequences, whichever published them: a stream event id means the same event everywhere.
#[tokio::test]
async fn watchers_on_two_replicas_agree_on_sequences() {
    let Some(one) = bus("watch").await else {
        return;
    };
    let url = std::env::var("STOCKD_TEST_NATS_URL").unwrap();
    let two = JetStreamBus::connect(&url, one.config().clone())
        .await
        .unwrap();
    one.publish(&nudge(0)).await.unwrap();
    let mut a = one.watch().await.unwrap();
    let mut b = two.watch().await.unwrap();
    assert_eq!(a.epoch(), b.epoch());
    assert_eq!(a.after(), 1);
    two.publish(&quote("MSFT", 1)).await.unwrap();
    one.publish(&nudge(2)).await.unwrap();
    for watch in [&mut a, &mut b] {
        let mut seen = Vec::new();
        for _ in 0..2 {
            match tokio::time::timeout(Duration::from_secs(5), watch.next())
                .await
                .unwrap()
                .unwrap()
            {
                bus::Watched::Event { seq, event } => seen.push((seq, event)),
                bus::Watched::Gap => panic!("no gap expected"),
            }
        }
        assert_eq!(seen[0].0, 2);
        assert_eq!(seen[0].1, quote_like(&seen[0].1));
        assert_eq!(seen[1], (3, nudge(2)));
    }
    drop((a, b));
    one.destroy().await.unwrap();
}

/// The quote as published (its `at` is whatever it was): only its kind is compared.
fn quote_like(event: &Event) -> Event {
    assert!(matches!(event, Event::Quote(q) if q.symbol.as_str() == "MSFT"));
    event.clone()
}
