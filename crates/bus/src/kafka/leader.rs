//! Leadership on Kafka: the claimants of one name form the consumer group
//! `<prefix>.leader.<name>` on the one-partition topic `<prefix>.leader`, and the member the
//! broker assigns that partition leads. The broker moves it when the leader leaves (at once)
//! or stops heartbeating (after the session timeout, `partition_lease`); a leader counts
//! itself leader from its assignment until its revocation, which librdkafka reports before
//! the broker can hand the partition on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rdkafka::consumer::Consumer;
use tokio::sync::oneshot;

use super::group::group_consumer;
use super::{Inner, close_in_background};
use crate::Leadership;
use crate::config::BusError;

pub(super) async fn claim(inner: Arc<Inner>, name: &str) -> Result<Leadership, BusError> {
    let group_id = inner.leader_group_id(name);
    let assignment = inner.registry.join(&group_id);
    let consumer = Arc::new(group_consumer(&inner, &group_id, assignment.clone())?);
    consumer
        .subscribe(&[&inner.leader_topic()])
        .map_err(BusError::kafka)?;
    let leading = Arc::new(AtomicBool::new(false));
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = {
        let (consumer, leading) = (consumer.clone(), leading.clone());
        let key = group_id.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    received = consumer.recv() => if let Err(error) = received {
                        tracing::warn!(key = %key, %error, "bus: leadership consumer failed");
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    },
                    () = assignment.changed.notified() => {}
                    _ = &mut stopped => break,
                }
                for (_, assigned) in assignment.take() {
                    if assigned != leading.swap(assigned, Ordering::SeqCst) {
                        let what = if assigned { "taken" } else { "lost" };
                        tracing::info!(key = %key, "bus: leadership {what}");
                    }
                }
            }
            leading.store(false, Ordering::SeqCst);
            assignment.stopped();
            // Leaving the group hands the partition on at once.
            close_in_background(consumer);
        })
    };
    Ok(Leadership::assigned(leading, stop, task, consumer))
}
