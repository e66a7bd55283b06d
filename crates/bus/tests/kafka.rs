//! The Kafka bus against a real Kafka-protocol broker (`STOCKD_TEST_KAFKA_BROKERS`,
//! `host:port`; `.ci/run` starts tansu through `scripts/kafka-broker.sh`): the shared bus
//! contract (`conformance`), plus what Kafka does its own way (watch numbering, record shape).
//!
//! Without the variable the tests skip with a note, except under CI (`CI` set), where a
//! missing variable or an unreachable broker fails them. Each test uses its own prefix
//! (topics, groups) and deletes its topics at the end. Built with `--features kafka`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bus::{Bus, BusConfig, Event, KafkaBus, KafkaConfig, StreamKind};
use conformance::{Probe, nudge, quote};

const VARIABLE: &str = "STOCKD_TEST_KAFKA_BROKERS";

fn config(name: &str, brokers: &str) -> BusConfig {
    BusConfig {
        prefix: conformance::prefix(name),
        partitions: 4,
        ack_wait: Duration::from_secs(1),
        partition_lease: Duration::from_millis(1500),
        kafka: Some(KafkaConfig::plaintext(brokers)),
        ..BusConfig::default()
    }
}

/// The bus of one test, or `None` (skip) when no broker is configured outside CI.
async fn bus(name: &str) -> Option<KafkaBus> {
    let brokers = conformance::server_url(VARIABLE, name)?;
    match KafkaBus::connect(config(name, &brokers)).await {
        Ok(bus) => Some(bus),
        Err(error) => panic!("Kafka at {brokers}: {error}"),
    }
}

/// The group assignments of one test's buses (each bus knows its own members').
struct Observer {
    buses: Vec<KafkaBus>,
    started: Instant,
}

impl Observer {
    fn of(buses: &[&KafkaBus]) -> Self {
        Self {
            buses: buses.iter().map(|bus| (*bus).clone()).collect(),
            started: Instant::now(),
        }
    }

    fn shares_of(&self, kind: StreamKind, group: &str) -> HashMap<String, usize> {
        self.buses
            .iter()
            .flat_map(|bus| bus.assignment(kind, group))
            .collect()
    }
}

#[async_trait]
impl Probe for Observer {
    async fn shares(&self, group: &str) -> HashMap<String, usize> {
        self.shares_of(StreamKind::Quotes, group)
    }

    /// Each member holds partitions (events go only to assigned members).
    async fn members_ready(&self, kind: StreamKind, group: &str, members: usize) -> bool {
        self.shares_of(kind, group).len() == members
    }

    /// Heartbeat intervals (a third of the lease) passed while a claimant led: the leader's
    /// claim is renewed by every heartbeat.
    async fn renewal_mark(&self, name: &str) -> u64 {
        if self.buses.iter().all(|bus| bus.leader(name).is_none()) {
            return 0;
        }
        let beat = self.buses[0].config().partition_lease / 3;
        u64::try_from(self.started.elapsed().as_millis() / beat.as_millis()).unwrap_or(u64::MAX)
    }
}

#[tokio::test]
async fn round_trip_fan_out_and_idempotent_setup() {
    let Some(bus) = bus("fan").await else { return };
    // Creating the topics again is fine.
    let again = KafkaBus::connect(bus.config().clone()).await.unwrap();
    conformance::round_trip_fan_out_and_idempotent_setup(
        &bus,
        &again,
        &Observer::of(&[&bus, &again]),
    )
    .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn one_group_splits_the_work() {
    let Some(bus) = bus("split").await else {
        return;
    };
    conformance::one_group_splits_the_work(&bus, &Observer::of(&[&bus])).await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn an_unacked_message_is_redelivered_after_ack_wait() {
    let Some(bus) = bus("redeliver").await else {
        return;
    };
    conformance::an_unacked_message_is_redelivered_after_ack_wait(&bus, &Observer::of(&[&bus]))
        .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn partitions_have_one_owner_are_shared_and_fail_over() {
    let Some(bus) = bus("part").await else { return };
    let partitions = bus.config().partitions;
    conformance::partitions_have_one_owner_are_shared_and_fail_over(
        &bus,
        &Observer::of(&[&bus]),
        partitions,
    )
    .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn quotes_fan_out_to_groups_and_dotted_symbols_round_trip() {
    let Some(bus) = bus("qfan").await else { return };
    conformance::quotes_fan_out_to_groups_and_dotted_symbols_round_trip(
        &bus,
        &Observer::of(&[&bus]),
    )
    .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn label_changes_travel_on_their_own_topic_to_every_group() {
    let Some(bus) = bus("signals").await else {
        return;
    };
    conformance::label_changes_travel_on_their_own_stream_to_every_group(
        &bus,
        &Observer::of(&[&bus]),
    )
    .await;
    bus.destroy().await.unwrap();
}

#[tokio::test]
async fn one_claimant_leads_and_another_takes_over_when_it_goes_or_dies() {
    let Some(bus) = bus("lead").await else { return };
    let lease = bus.config().partition_lease;
    conformance::one_claimant_leads_and_another_takes_over_when_it_goes_or_dies(
        &bus,
        &Observer::of(&[&bus]),
        lease,
    )
    .await;
    bus.destroy().await.unwrap();
}

/// A watch sees what every replica publishes after it began, numbered in its own epoch.
#[tokio::test]
async fn watchers_see_every_replicas_events_in_their_own_epoch() {
    let Some(one) = bus("watch").await else {
        return;
    };
    let two = KafkaBus::connect(one.config().clone()).await.unwrap();
    one.publish(&nudge(0)).await.unwrap();
    let mut a = one.watch().await.unwrap();
    let mut b = two.watch().await.unwrap();
    assert_ne!(a.epoch(), b.epoch(), "numbers are each watch's own");
    assert_eq!(a.after(), 0);
    two.publish(&quote("MSFT", 1)).await.unwrap();
    one.publish(&nudge(2)).await.unwrap();
    for watch in [&mut a, &mut b] {
        let seen = conformance::watched(watch, 2).await;
        assert_eq!(seen.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), [1, 2]);
        assert!(seen.iter().any(|(_, e)| *e == nudge(2)), "{seen:?}");
        assert!(
            seen.iter()
                .any(|(_, e)| matches!(e, Event::Quote(q) if q.symbol.as_str() == "MSFT")),
            "{seen:?}"
        );
    }
    drop((a, b));
    one.destroy().await.unwrap();
}

/// Settings the brokers would refuse only later are refused at connect, without the password.
#[tokio::test]
async fn bad_security_settings_are_refused_before_connecting() {
    let mut kafka = KafkaConfig::plaintext("127.0.0.1:1");
    kafka.security_protocol = "sasl_ssl".into();
    kafka.sasl_username = Some("stockd".into());
    let config = BusConfig {
        kafka: Some(kafka.clone()),
        ..BusConfig::default()
    };
    let error = KafkaBus::connect(config).await.unwrap_err().to_string();
    assert!(
        error.contains("needs a SASL user name and password"),
        "{error}"
    );

    kafka.sasl_password = Some("hunter2".into());
    kafka.sasl_mechanism = Some("GSSAPI".into());
    let config = BusConfig {
        kafka: Some(kafka.clone()),
        ..BusConfig::default()
    };
    let error = KafkaBus::connect(config).await.unwrap_err().to_string();
    assert!(error.contains("GSSAPI"), "{error}");
    assert!(!format!("{kafka:?}").contains("hunter2"), "{kafka:?}");
}
