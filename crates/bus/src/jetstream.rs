//! The NATS JetStream bus: one stream (`<prefix>`, subjects `<prefix>.>`, file storage, limited
//! by age), a durable pull consumer per (stream kind, group), and for quotes one durable
//! consumer per (group, partition) owned by one subscriber at a time (see [`crate::partition`]).
//!
//! Acks are JetStream acks: a message not acked within `ack_wait` is delivered again, to any
//! subscriber of its group. Dropping a [`Delivery`] does nothing here; the server redelivers
//! after `ack_wait` (call `nak` to hand it back at once).

use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer, kv, stream};
use async_trait::async_trait;
use futures_util::StreamExt;

use tokio::sync::mpsc;

use crate::Leadership;
use crate::config::{BusConfig, BusError, validate_group};
use crate::delivery::{Acker, Delivery, Feed, Subscription};
use crate::event::{Event, StreamKind, encode, kind_subject, subject};
use crate::memory::WATCH_CAPACITY;
use crate::watch::{Watch, Watched};
use crate::{Bus, metrics, partition};

/// See the module docs.
#[derive(Debug, Clone)]
pub struct JetStreamBus {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: BusConfig,
    pub(crate) js: jetstream::Context,
    pub(crate) stream: stream::Stream,
    pub(crate) leases: kv::Store,
}

impl JetStreamBus {
    /// Connects and makes sure the stream and the lease bucket exist (idempotent: replicas
    /// starting together, or a restart, find what the first one made).
    pub async fn connect(url: &str, config: BusConfig) -> Result<Self, BusError> {
        config.validate()?;
        let client = async_nats::ConnectOptions::new()
            .name("stockd")
            .connect(url)
            .await
            .map_err(|e| BusError::Connect {
                url: without_credentials(url),
                reason: e.to_string(),
            })?;
        let js = jetstream::new(client);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: config.prefix.clone(),
                subjects: vec![format!("{}.>", config.prefix)],
                max_age: config.max_age,
                storage: stream::StorageType::File,
                description: Some("stockd events: quotes, alerts, notification status".into()),
                ..Default::default()
            })
            .await
            .map_err(BusError::nats)?;
        let leases = lease_bucket(&js, &config).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                js,
                stream,
                leases,
            }),
        })
    }

    pub fn config(&self) -> &BusConfig {
        &self.inner.config
    }

    /// Removes this bus's stream and lease bucket (tests clean up with it).
    pub async fn destroy(&self) -> Result<(), BusError> {
        let js = &self.inner.js;
        js.delete_stream(&self.inner.config.prefix)
            .await
            .map_err(BusError::nats)?;
        js.delete_key_value(lease_bucket_name(&self.inner.config))
            .await
            .map_err(BusError::nats)?;
        Ok(())
    }
}

fn lease_bucket_name(config: &BusConfig) -> String {
    format!("{}-leases", config.prefix)
}

/// The bucket's `max_age` is the lease: a key not renewed within it is removed by the server
/// (on the server's clock, so replicas' clocks do not matter).
async fn lease_bucket(js: &jetstream::Context, config: &BusConfig) -> Result<kv::Store, BusError> {
    let name = lease_bucket_name(config);
    if let Ok(store) = js.get_key_value(&name).await {
        return Ok(store);
    }
    let created = js
        .create_key_value(kv::Config {
            bucket: name.clone(),
            description: "stockd quote partition leases".into(),
            history: 1,
            max_age: config.partition_lease,
            storage: stream::StorageType::Memory,
            ..Default::default()
        })
        .await;
    match created {
        Ok(store) => Ok(store),
        // Another replica created it meanwhile.
        Err(error) => js
            .get_key_value(&name)
            .await
            .map_err(|_| BusError::nats(error)),
    }
}

impl Inner {
    /// A durable pull consumer, created if missing. New groups start with events published
    /// from now on; an existing one resumes where it stopped.
    pub(crate) async fn consumer(
        &self,
        name: String,
        filter_subject: String,
        max_ack_pending: i64,
    ) -> Result<consumer::PullConsumer, BusError> {
        self.stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject,
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    deliver_policy: consumer::DeliverPolicy::New,
                    max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(BusError::nats)
    }
}

#[async_trait]
impl Bus for JetStreamBus {
    async fn leadership(&self, name: &str) -> Result<Leadership, BusError> {
        validate_group(name)?;
        Ok(Leadership::leased(self.inner.clone(), name))
    }

    async fn watch(&self) -> Result<Watch, BusError> {
        let prefix = self.inner.config.prefix.clone();
        let mut stream = self
            .inner
            .js
            .get_stream(&prefix)
            .await
            .map_err(BusError::nats)?;
        let info = stream.info().await.map_err(BusError::nats)?;
        // The stream's creation instant names its sequence space: a stream deleted and made
        // again starts counting anew.
        let epoch = format!("j{:x}", info.created.unix_timestamp());
        let after = info.state.last_sequence;
        let (tx, rx) = mpsc::channel(WATCH_CAPACITY);
        let task = tokio::spawn(watch_from(stream, format!("{prefix}.>"), after, tx));
        Ok(Watch::remote(epoch, after, rx, task))
    }

    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        let config = &self.inner.config;
        let subject = subject(&config.prefix, event, config.partitions);
        let payload = encode(event)?;
        // Waiting for the stream's ack makes a successful publish durable.
        self.inner
            .js
            .publish(subject, payload.into())
            .await
            .map_err(BusError::nats)?
            .await
            .map_err(BusError::nats)?;
        metrics::published(event.kind());
        Ok(())
    }

    async fn subscribe(&self, kind: StreamKind, group: &str) -> Result<Subscription, BusError> {
        validate_group(group)?;
        let (mut subscription, feed) = Subscription::channel(kind, group);
        if kind.is_partitioned() {
            let manager = partition::Manager::start(self.inner.clone(), group, feed).await?;
            subscription.push_task(tokio::spawn(manager.run()));
        } else {
            let consumer = self
                .inner
                .consumer(
                    format!("{}-{group}", kind.as_str()),
                    kind_subject(&self.inner.config.prefix, kind),
                    // Enough for a few subscribers to work in parallel; JetStream's default.
                    1000,
                )
                .await?;
            let pull = Pull {
                batch: 8,
                expires: Duration::from_secs(30),
                lease: None,
            };
            subscription.push_task(tokio::spawn(pump(consumer, feed, kind, pull)));
        }
        Ok(subscription)
    }
}

/// Reads every message after `after` through an ordered consumer (ephemeral, unacknowledged,
/// recreated by the client after a lost message) and hands the events on. Should the consumer
/// fail, a new one starts after the last sequence handed on, so nothing is skipped while the
/// stream still holds it.
async fn watch_from(
    stream: stream::Stream,
    filter_subject: String,
    mut after: u64,
    tx: mpsc::Sender<Watched>,
) {
    loop {
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: filter_subject.clone(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: after + 1,
                },
                ..Default::default()
            })
            .await;
        let messages = match consumer {
            Ok(consumer) => consumer.messages().await.map_err(BusError::nats),
            Err(error) => Err(BusError::nats(error)),
        };
        match messages {
            Ok(mut messages) => {
                while let Some(next) = messages.next().await {
                    let message = match next {
                        Ok(message) => message,
                        Err(error) => {
                            tracing::warn!(%error, "bus: watch interrupted; resuming");
                            break;
                        }
                    };
                    let Ok(info) = message.info() else { continue };
                    let seq = info.stream_sequence;
                    after = seq;
                    match serde_json::from_slice::<Event>(&message.payload) {
                        Ok(event) => {
                            if tx.send(Watched::Event { seq, event }).await.is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            tracing::debug!(subject = %message.subject, %error, "bus: watch skipped an undecodable event");
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "bus: cannot watch; retrying"),
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How a pump pulls.
#[derive(Debug, Clone)]
pub(crate) struct Pull {
    pub(crate) batch: usize,
    /// How long one pull request waits on the server.
    pub(crate) expires: Duration,
    /// For a partition: the instant its lease may have passed; nothing is forwarded after it.
    pub(crate) lease: Option<Arc<StdMutex<Instant>>>,
}

/// Pulls from one consumer and forwards to the subscription until it stops (or, for a
/// partition, until its lease is no longer sure).
pub(crate) async fn pump(
    consumer: consumer::PullConsumer,
    mut feed: Feed,
    kind: StreamKind,
    pull: Pull,
) {
    loop {
        let messages = consumer
            .stream()
            .max_messages_per_batch(pull.batch)
            .expires(pull.expires)
            .messages()
            .await;
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(stream = kind.as_str(), %error, "bus: cannot pull; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = feed.stopped() => return,
                }
            }
        };
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                () = feed.stopped() => return,
            };
            match next {
                Some(Ok(message)) => {
                    if !forward(message, &feed, kind, &pull).await {
                        return;
                    }
                }
                Some(Err(error)) => {
                    tracing::debug!(stream = kind.as_str(), %error, "bus: pull interrupted");
                    break;
                }
                None => break,
            }
        }
    }
}

/// Decodes and hands one message over; false when the pump must stop.
async fn forward(message: jetstream::Message, feed: &Feed, kind: StreamKind, pull: &Pull) -> bool {
    if let Some(lease) = &pull.lease {
        let until = *lease.lock().unwrap_or_else(|e| e.into_inner());
        if Instant::now() >= until {
            // Not forwarded and not acked: whoever owns the partition now gets it after ack_wait.
            return false;
        }
    }
    let attempt = message
        .info()
        .map(|info| u64::try_from(info.delivered).unwrap_or(1))
        .unwrap_or(1);
    let event: Event = match serde_json::from_slice(&message.payload) {
        Ok(event) => event,
        Err(error) => {
            // A message no version of stockd can read would be redelivered forever.
            tracing::warn!(subject = %message.subject, %error, "bus: undecodable event dropped");
            let _ = message.ack_with(AckKind::Term).await;
            return true;
        }
    };
    metrics::delivered(kind, attempt);
    let delivery = Delivery::new(event, attempt, Box::new(JetStreamAcker { message }));
    feed.tx.send(delivery).await.is_ok()
}

#[derive(Debug)]
struct JetStreamAcker {
    message: jetstream::Message,
}

#[async_trait]
impl Acker for JetStreamAcker {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        self.message.ack().await.map_err(BusError::nats)
    }

    async fn nak(self: Box<Self>) -> Result<(), BusError> {
        self.message
            .ack_with(AckKind::Nak(None))
            .await
            .map_err(BusError::nats)
    }
}

/// `url` with its user info (a token, or user and password) replaced by `[redacted]`: the URL
/// goes into an error that is logged.
pub fn without_credentials(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}[redacted]{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod credential_tests {
    use super::without_credentials;

    #[test]
    fn connect_errors_never_carry_credentials() {
        assert_eq!(
            without_credentials("nats://t0ken@127.0.0.1:4222"),
            "nats://[redacted]@127.0.0.1:4222"
        );
        assert_eq!(
            without_credentials("nats://u:p@h:4222"),
            "nats://[redacted]@h:4222"
        );
        assert_eq!(without_credentials("nats://h:4222"), "nats://h:4222");
    }
}
