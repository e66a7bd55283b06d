//! The JetStream bus against a real nats-server (`STOCKD_TEST_NATS_URL`, JetStream on): the
//! shared bus contract (`conformance`), plus what only JetStream offers (watch sequences that
//! agree across replicas).
//!
//! Without the variable the tests skip with a note, except under CI (`CI` set), where a
//! missing variable or an unreachable server fails them. Each test uses its own prefix (stream,
//! consumers, lease bucket) and removes them at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bus::{Bus, BusConfig, Event, JetStreamBus, StreamKind};
use conformance::{Probe, nudge, quote};

const VARIABLE: &str = "STOCKD_TEST_NATS_URL";

/// The bus of one test, or `None` (skip) when no server is configured outside CI.
async fn bus(name: &str) -> Option<JetStreamBus> {
    let url = conformance::server_url(VARIABLE, name)?;
    let config = BusConfig {
        prefix: conformance::prefix(name),
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

/// What the server shows of one test's bus, read over a connection of the test's own: lease
/// keys (who owns which partition, who leads) and pull requests waiting on a consumer.
struct Observer {
    leases: async_nats::jetstream::kv::Store,
    stream: async_nats::jetstream::stream::Stream,
    partitions: u16,
}

impl Observer {
    async fn of(bus: &JetStreamBus) -> Self {
        let client = async_nats::connect(std::env::var(VARIABLE).unwrap())
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
}

#[async_trait]
impl Probe for Observer {
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

    /// Quotes: each holds partitions; other streams: each has a pull request waiting.
    async fn members_ready(&self, kind: StreamKind, group: &str, members: usize) -> bool {
        if kind.is_partitioned() {
            return self.shares(group).await.len() == members;
        }
        self.stream
            .consumer_info(format!("{}-{group}", kind.as_str()))
            .await
            .is_ok_and(|info| info.num_waiting >= members)
    }

    /// The lease key's revision (it moves at each renewal, by more when other keys were
    /// written); 0 when absent.
    async fn renewal_mark(&self, name: &str) -> u64 {
        self.leases
            .entry(format!("leader.{name}"))
            .await
            .ok()
            .flatten()
            .map_or(0, |entry| entry.revision)
    }
}

#[tokio::test]
async fn round_trip_fan_out_and_idempotent_setup() {
    let Some(bus) = bus("fan").await else { return };
    // Creating the stream and the same consumer again is fine.
    let again = JetStreamBus::connect(&std::env::var(VARIABLE).unwrap(), bus.config().clone())
        .await
        .unwrap();
    let observer = Observer::of(&bus).await;
    conformance::round_trip_fan_out_and_idempotent_setup(&bus, &again, &observer).await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn one_group_splits_the_work() {
    let Some(bus) = bus("split").await else {
        return;
    };
    let observer = Observer::of(&bus).await;
    conformance::one_group_splits_the_work(&bus, &observer).await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn an_unacked_message_is_redelivered_after_ack_wait() {
    let Some(bus) = bus("redeliver").await else {
        return;
    };
    let observer = Observer::of(&bus).await;
    conformance::an_unacked_message_is_redelivered_after_ack_wait(&bus, &observer).await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn partitions_have_one_owner_are_shared_and_fail_over() {
    let Some(bus) = bus("part").await else { return };
    let observer = Observer::of(&bus).await;
    let partitions = bus.config().partitions;
    conformance::partitions_have_one_owner_are_shared_and_fail_over(&bus, &observer, partitions)
        .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn quotes_fan_out_to_groups_and_dotted_symbols_round_trip() {
    let Some(bus) = bus("qfan").await else { return };
    let observer = Observer::of(&bus).await;
    conformance::quotes_fan_out_to_groups_and_dotted_symbols_round_trip(&bus, &observer).await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn label_changes_travel_on_their_own_subject_to_every_group() {
    let Some(bus) = bus("signals").await else {
        return;
    };
    let observer = Observer::of(&bus).await;
    conformance::label_changes_travel_on_their_own_stream_to_every_group(&bus, &observer).await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn one_claimant_leads_and_another_takes_over_when_it_goes_or_dies() {
    let Some(bus) = bus("lead").await else { return };
    let observer = Observer::of(&bus).await;
    let lease = bus.config().partition_lease;
    conformance::one_claimant_leads_and_another_takes_over_when_it_goes_or_dies(
        &bus, &observer, lease,
    )
    .await;
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
        let seen = conformance::watched(watch, 2).await;
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
