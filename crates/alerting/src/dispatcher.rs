//! The dispatcher: the outbox's consumer.
//!
//! Claims due notifications (`for update skip locked` on PostgreSQL, so dispatchers on several
//! replicas compete without waiting) under a lease, sends the claimed batch concurrently through
//! each notification's channel with its idempotency key — at most
//! [`DispatchConfig::per_host`] sends in flight to one receiving host, so a burst of firings
//! arrives within about one send time without flooding one receiver — and then records every
//! attempt with its outcome in the delivery log in one store write
//! ([`store::AlertStore::finish_notifications`]). A dispatcher killed between the sends and the
//! record loses its lease on the whole batch; the next one sends again with the same idempotency
//! keys, which receivers use to drop the repeats (at-least-once delivery, exactly-once per key
//! at the receiver). Retry timing comes from the [`RetrySchedule`]; a permanent refusal (HTTP
//! 400/410, SMTP 5xx, bad number) stops at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bus::{Bus, Event, NotificationStatus as StatusEvent, StreamKind};
use chrono::Utc;
use domain::AlertNotice;
use notify::{ChannelTarget, Notification as Message, Notifier, RetrySchedule};
use store::{Channel, DeliveryOutcome, FinishedNotification, Notification, Store, StoreError};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tracing::Instrument;

use crate::evaluator::seconds_since;

/// The bus group dispatchers join for outbox nudges.
pub const GROUP: &str = "dispatch";

/// How the dispatcher runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchConfig {
    /// Notifications claimed at once.
    pub batch: u32,
    /// How long a claimed notification stays this dispatcher's.
    pub lease: Duration,
    /// How often an idle dispatcher looks (a nudge on the bus wakes it sooner).
    pub poll_interval: Duration,
    /// Sends of a batch in flight at once to one receiving host (a webhook URL's host and port;
    /// every email goes to the one SMTP relay, every SMS to Twilio); 0 counts as 1.
    pub per_host: u32,
    pub schedule: RetrySchedule,
}

/// The default [`DispatchConfig::per_host`]: a burst of firings to one receiver goes out in a
/// few rounds, in as many connections as a browser would open to one host, give or take.
pub const DEFAULT_PER_HOST: u32 = 8;

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            batch: 32,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            per_host: DEFAULT_PER_HOST,
            schedule: RetrySchedule::default(),
        }
    }
}

/// One attempt of a batch, sent (or refused before sending) but not yet recorded.
struct Attempted<'a> {
    notification: &'a Notification,
    kind: &'static str,
    label: &'static str,
    outcome: DeliveryOutcome,
    /// When the attempt ended.
    at: chrono::DateTime<Utc>,
    span: tracing::Span,
}

/// The per-host bound of one batch's sends: a semaphore per receiving host, made on first use.
struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    fn new(per_host: u32) -> Self {
        Self {
            per_host: usize::try_from(per_host.max(1)).unwrap_or(usize::MAX),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn of(&self, target: &ChannelTarget) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host_of(target))
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

/// The host a target's sends go to, for [`HostLimits`]: a webhook's host and port; the SMTP
/// relay for every email; Twilio for every SMS.
fn host_of(target: &ChannelTarget) -> String {
    match target {
        ChannelTarget::Webhook { url, .. } => match url::Url::parse(url) {
            Ok(parsed) => format!(
                "webhook:{}:{}",
                parsed.host_str().unwrap_or_default().to_ascii_lowercase(),
                parsed.port_or_known_default().unwrap_or_default()
            ),
            // Refused by the sender without a connection; keyed apart from every real host.
            Err(_) => format!("webhook:{url}"),
        },
        ChannelTarget::Email { .. } => "smtp".into(),
        ChannelTarget::Sms { .. } => "sms".into(),
    }
}

/// Sends what the outbox holds.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    bus: Arc<dyn Bus>,
    config: DispatchConfig,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        bus: Arc<dyn Bus>,
        config: DispatchConfig,
    ) -> Self {
        Self {
            store,
            notifier,
            bus,
            config,
        }
    }

    /// Claims and sends one batch; returns how many were claimed. The batch's sends run
    /// concurrently (at most [`DispatchConfig::per_host`] to one host), and their outcomes are
    /// recorded together in one store write once every send has ended.
    pub async fn run_once(&self, worker: &str) -> Result<usize, StoreError> {
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX);
        let claimed = self
            .store
            .claim_notifications(worker, now, now + lease, self.config.batch)
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let limits = HostLimits::new(self.config.per_host);
        let attempts = claimed.iter().map(|notification| {
            let span = tracing::info_span!(
                "notification_send",
                otel.kind = "client",
                otel.status_code = tracing::field::Empty,
                notification = %notification.id,
                event = %notification.event_id,
                attempt = notification.attempts,
                channel = tracing::field::Empty,
                outcome = tracing::field::Empty,
            );
            self.attempt(notification, &limits, span.clone())
                .instrument(span)
        });
        let mut attempted = Vec::with_capacity(claimed.len());
        for result in futures_util::future::join_all(attempts).await {
            match result {
                Ok(done) => attempted.push(done),
                // Its channel could not be read, so nothing was sent: the claim stays until its
                // lease passes and it is tried again, with the same idempotency key.
                Err((notification, err)) => {
                    tracing::warn!(notification = %notification.id, error = %err, "could not read a notification's channel; it is tried again after its lease")
                }
            }
        }
        let finished: Vec<FinishedNotification> = attempted
            .iter()
            .map(|a| FinishedNotification {
                id: a.notification.id.clone(),
                outcome: a.outcome.clone(),
                at: a.at,
            })
            .collect();
        // One write for the batch: a crash before it leaves every claim to expire and be sent
        // again with the same key; none is half-recorded.
        let recorded = self.store.finish_notifications(worker, &finished).await?;
        let announced = attempted.iter().zip(recorded).map(|(attempt, recorded)| {
            let span = attempt.span.clone();
            self.announce(attempt, recorded).instrument(span)
        });
        futures_util::future::join_all(announced).await;
        Ok(claimed.len())
    }

    /// One notification's attempt: its channel read, the send (under its host's bound), the
    /// outcome and its metric. `Err` when the channel could not be read (nothing was sent).
    async fn attempt<'a>(
        &self,
        notification: &'a Notification,
        limits: &HostLimits,
        span: tracing::Span,
    ) -> Result<Attempted<'a>, (&'a Notification, StoreError)> {
        let channel = self
            .store
            .channel(&notification.user_id, &notification.channel_id)
            .await
            .map_err(|err| (notification, err))?;
        let (kind, outcome) = match channel {
            None => (
                "deleted",
                DeliveryOutcome::Failed {
                    error: "the channel was deleted".into(),
                },
            ),
            // Never sent as some other shape: the owner replaces it (the API shows why).
            Some(Channel {
                target: Err(unreadable),
                ..
            }) => {
                tracing::warn!(notification = %notification.id, channel = %notification.channel_id, reason = %unreadable.reason, "a notification's channel cannot be read; it fails until its owner replaces the channel");
                (
                    "unreadable",
                    DeliveryOutcome::Failed {
                        error: format!(
                            "the channel cannot be read ({}); replace it (PUT /v1/me/channels/{})",
                            unreadable.reason, notification.channel_id
                        ),
                    },
                )
            }
            Some(Channel {
                target: Ok(target), ..
            }) => {
                let kind = target.kind().as_str();
                let outcome = match message_of(notification) {
                    Ok(message) => {
                        let host = limits.of(&target);
                        // Never closed, so acquiring cannot fail; were it to, the send goes
                        // ahead unbounded rather than being lost.
                        let _permit = host.acquire().await.ok();
                        self.send(&target, &message, notification.attempts).await
                    }
                    // Written by the evaluator from the same type: a row edited by hand, or
                    // by a build that wrote another shape. Nothing half-understood is sent.
                    Err(err) => DeliveryOutcome::Failed {
                        error: format!("its stored notice cannot be read ({err})"),
                    },
                };
                (kind, outcome)
            }
        };
        let label = match &outcome {
            DeliveryOutcome::Delivered { .. } => "delivered",
            DeliveryOutcome::Retry { .. } => "retry",
            DeliveryOutcome::Failed { .. } => "failed",
        };
        metrics::counter!("stock_api_notifications_total", "channel" => kind, "outcome" => label)
            .increment(1);
        span.record("channel", kind);
        span.record("outcome", label);
        if label != "delivered" {
            span.record("otel.status_code", "ERROR");
        }
        Ok(Attempted {
            notification,
            kind,
            label,
            outcome,
            at: Utc::now(),
            span,
        })
    }

    /// After the batch's write: logs an attempt's outcome and publishes its status, or warns
    /// that another dispatcher holds it now.
    async fn announce(&self, attempt: &Attempted<'_>, recorded: bool) {
        let Attempted {
            notification,
            kind,
            label,
            outcome,
            ..
        } = attempt;
        if !recorded {
            // Its lease passed and another dispatcher took it over: that one records.
            tracing::warn!(notification = %notification.id, "notification lease lost before its outcome was recorded");
            return;
        }
        match outcome {
            DeliveryOutcome::Failed { error } => {
                tracing::warn!(notification = %notification.id, channel = kind, %error, "notification failed for good")
            }
            DeliveryOutcome::Retry { error, at } => {
                tracing::info!(notification = %notification.id, channel = kind, %error, retry_at = %at, "notification will be retried")
            }
            DeliveryOutcome::Delivered { .. } => {
                tracing::info!(notification = %notification.id, channel = kind, "notification delivered")
            }
        }
        let status = Event::NotificationStatus(StatusEvent {
            notification_id: notification.id.clone(),
            user_id: notification.user_id.clone(),
            event_id: notification.event_id.clone(),
            channel_id: notification.channel_id.clone(),
            status: (*label).into(),
            attempts: notification.attempts,
            error: match outcome {
                DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Failed { error } => {
                    Some(error.clone())
                }
                DeliveryOutcome::Delivered { .. } => None,
            },
        });
        if let Err(err) = self.bus.publish(&status).await {
            tracing::debug!(error = %err, "could not publish a notification status");
        }
    }

    /// One attempt at sending `message` to `target`, and what to do next.
    async fn send(
        &self,
        target: &ChannelTarget,
        message: &Message,
        attempts: u32,
    ) -> DeliveryOutcome {
        let kind = target.kind().as_str();
        let quote_at = message.payload.at;
        // Each send, from the quote that fired it: a notification that waited in a
        // long batch, or for its retry, shows how long.
        metrics::histogram!("stock_api_notification_dispatch_lag_seconds")
            .record(seconds_since(quote_at));
        let started = Instant::now();
        let result = self.notifier.send(target, message).await;
        metrics::histogram!("stock_api_notification_send_duration_seconds", "channel" => kind)
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(delivered) => {
                // End to end: the quote was made → the receiver has the notification.
                metrics::histogram!("stock_api_alert_quote_to_delivery_seconds")
                    .record(seconds_since(quote_at));
                DeliveryOutcome::Delivered {
                    provider_message_id: delivered.provider_message_id,
                }
            }
            Err(err) => match self.config.schedule.after_failure(attempts, &err) {
                Some(wait) => match retry_at(wait) {
                    Some(at) => DeliveryOutcome::Retry {
                        error: err.detail.clone(),
                        at,
                    },
                    None => DeliveryOutcome::Failed {
                        error: format!(
                            "gave up: the retry wait ({}s) is out of range: {}",
                            wait.as_secs(),
                            err.detail
                        ),
                    },
                },
                None if err.permanent => DeliveryOutcome::Failed {
                    error: err.detail.clone(),
                },
                None => DeliveryOutcome::Failed {
                    error: format!("gave up after {} attempts: {}", attempts, err.detail),
                },
            },
        }
    }

    /// Dispatches until `stop` turns true: a batch at a time, idle until the poll interval or
    /// a nudge from the evaluator.
    pub async fn run(self, worker: String, mut stop: watch::Receiver<bool>) {
        let mut nudges = match self.bus.subscribe(StreamKind::Outbox, GROUP).await {
            Ok(subscription) => Some(subscription),
            Err(err) => {
                tracing::warn!(error = %err, "dispatcher runs without outbox nudges (polling only)");
                None
            }
        };
        loop {
            if *stop.borrow() {
                return;
            }
            let claimed = match self.run_once(&worker).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(error = %err, "dispatcher could not reach the outbox");
                    0
                }
            };
            if claimed > 0 {
                continue;
            }
            let nudge = async {
                match nudges.as_mut() {
                    Some(subscription) => match subscription.next().await {
                        Some(delivery) => {
                            let _ = delivery.ack().await;
                        }
                        None => std::future::pending::<()>().await,
                    },
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = nudge => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
                () = crate::stopped(&mut stop) => return,
            }
        }
    }
}

/// When a retry after `wait` is due; `None` when that instant is past what a timestamp holds
/// (`DateTime + TimeDelta` would panic).
fn retry_at(wait: Duration) -> Option<chrono::DateTime<Utc>> {
    Utc::now().checked_add_signed(chrono::Duration::from_std(wait).ok()?)
}

/// What a notification says, from the notice the evaluator stored with it.
fn message_of(notification: &Notification) -> Result<Message, serde_json::Error> {
    let notice: AlertNotice = serde_json::from_value(notification.payload.clone())?;
    Ok(Message {
        idempotency_key: notification.idempotency_key.clone(),
        subject: format!("stockd: {}", notice.message),
        text: notice.message.clone(),
        payload: notice,
    })
}
