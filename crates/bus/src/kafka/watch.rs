//! Watching the Kafka bus: a consumer outside any group, assigned every partition of every
//! stream's topic from their end offsets, numbering what it reads.
//!
//! Kafka has no sequence across topics and partitions, so the numbers are this watch's own:
//! each watch is its own epoch (`k<random>`), and a client that reconnects elsewhere starts
//! afresh (the live stream resynchronises), as after a restart of the in-process bus. Events
//! of one partition (one symbol's quotes) keep their order; events of different partitions
//! arrive in the order they are read.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;

use super::{Inner, client_config, close_in_background};
use crate::config::BusError;
use crate::event::{Event, StreamKind};
use crate::memory::WATCH_CAPACITY;
use crate::watch::{Watch, Watched};

const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn start(inner: Arc<Inner>) -> Result<Watch, BusError> {
    let consumer: StreamConsumer = client_config(&inner.kafka)
        // Required by librdkafka, never joined: partitions are assigned by hand.
        .set("group.id", format!("{}.watch", inner.config.prefix))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "100")
        .create()
        .map_err(BusError::kafka)?;
    let topics: Vec<String> = StreamKind::ALL.iter().map(|k| inner.topic(*k)).collect();
    let consumer = tokio::task::spawn_blocking(move || {
        let mut from = TopicPartitionList::new();
        for topic in &topics {
            let metadata = consumer.fetch_metadata(Some(topic), CALL_TIMEOUT)?;
            for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
                let (_, high) = consumer.fetch_watermarks(topic, partition.id(), CALL_TIMEOUT)?;
                from.add_partition_offset(topic, partition.id(), Offset::Offset(high))?;
            }
        }
        consumer.assign(&from)?;
        Ok::<_, rdkafka::error::KafkaError>(consumer)
    })
    .await
    .map_err(|e| BusError::Kafka(e.to_string()))?
    .map_err(BusError::kafka)?;
    let epoch = format!("k{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (tx, rx) = mpsc::channel(WATCH_CAPACITY);
    let task = tokio::spawn(forward(consumer, tx));
    Ok(Watch::remote(epoch, 0, rx, task))
}

/// Closes the watch's consumer however the task ends (the watch aborts it when dropped).
struct Closing(Option<StreamConsumer>);

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(consumer) = self.0.take() {
            close_in_background(consumer);
        }
    }
}

async fn forward(consumer: StreamConsumer, tx: mpsc::Sender<Watched>) {
    let closing = Closing(Some(consumer));
    let Some(consumer) = closing.0.as_ref() else {
        return;
    };
    let mut seq = 0;
    loop {
        let message = tokio::select! {
            message = consumer.recv() => message,
            () = tx.closed() => return,
        };
        match message {
            Ok(message) => {
                let Some(Ok(event)) = message.payload().map(serde_json::from_slice::<Event>) else {
                    tracing::debug!(
                        topic = message.topic(),
                        "bus: watch skipped an undecodable event"
                    );
                    continue;
                };
                seq += 1;
                if tx.send(Watched::Event { seq, event }).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "bus: watch interrupted; resuming");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
