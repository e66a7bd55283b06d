//! The sentiment scoring worker: rounds of `service::Service::score_news` in the background,
//! on one replica at a time.
//!
//! Every worker replica runs this loop, but only the holder of the bus leadership
//! `sentiment-scorer` scores (in process the only replica always leads; on NATS one replica
//! holds a lease and another takes over within the lease when it dies). Leadership rather
//! than claiming articles through the job queue, because the store already makes a score
//! unique per (article, key): the only thing left to prevent is two replicas *paying an LLM*
//! for the same article, and one scorer at a time does that with no per-article writes. The
//! leadership is checked again before each article, so a replica that loses it stops within
//! one LLM call; should an old and a new leader overlap on one article, the store keeps the
//! first score and counts the other `duplicate`.
//!
//! Rounds follow each other while a round finds a full batch; otherwise the loop waits
//! `poll_interval`, or less when nudged ([`ScoringWorker::nudge`], e.g. from news ingestion).
//! After a provider's rate-limit hint (`Retry-After`) it waits that long in full: a nudge
//! does not end that pause, since the next call would only be refused again and its article
//! would be scored by the next scorer of the chain for good. Shutdown is graceful: the
//! article in flight finishes (bounded by the LLM timeout), the rest stay queued.

use std::sync::Arc;
use std::time::Duration;

use bus::{Bus, StreamKind};
use service::Service;
use tokio::sync::{Notify, watch};

use crate::config::SentimentSection;

/// The bus leadership a replica must hold to score.
const LEADERSHIP: &str = "sentiment-scorer";

/// How long a round that fails on the store waits before the next try.
const ERROR_BACKOFF: Duration = Duration::from_secs(10);

/// What the loop does after a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// A full batch was scored: the next round at once.
    Now,
    /// Wait this long, or less when nudged.
    Poll(Duration),
    /// A provider asked to be left alone this long: wait it out, nudged or not.
    Pause(Duration),
}

/// The scoring worker of one replica.
#[derive(Debug, Clone)]
pub struct ScoringWorker {
    service: Service,
    bus: Arc<dyn Bus>,
    window: Duration,
    batch_size: u32,
    poll_interval: Duration,
    wake: Arc<Notify>,
}

impl ScoringWorker {
    /// A worker scoring with `service`'s chain, electing its leader on `bus`.
    pub fn new(service: Service, bus: Arc<dyn Bus>, config: &SentimentSection) -> Self {
        Self {
            service,
            bus,
            window: config.window,
            batch_size: config.batch_size,
            poll_interval: config.poll_interval,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Starts the next round now (new articles were stored) instead of after `poll_interval`.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Scores until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let leadership = match self.bus.leadership(LEADERSHIP).await {
            Ok(leadership) => Arc::new(leadership),
            Err(err) => {
                tracing::error!(error = %err, "sentiment scorer could not claim its leadership; not scoring");
                return;
            }
        };
        // Stored news wakes the scorer (`news_ingested` events); on NATS the event reaches one
        // replica of the group, so a follower's wake-up is spent and the leader's next poll
        // finds the articles instead.
        let _nudges = match self.bus.subscribe(StreamKind::News, LEADERSHIP).await {
            Ok(mut subscription) => {
                let wake = self.wake.clone();
                Some(AbortOnDrop(tokio::spawn(async move {
                    while let Some(delivery) = subscription.next().await {
                        wake.notify_one();
                        if let Err(err) = delivery.ack().await {
                            tracing::debug!(error = %err, "news_ingested not acknowledged");
                        }
                    }
                })))
            }
            Err(err) => {
                tracing::warn!(error = %err, "sentiment scorer not woken by news ingestion; polling only");
                None
            }
        };
        let mut leading = false;
        loop {
            // Every replica keeps the budget gauges current, leader or not.
            self.service.sentiment_budgets().await;
            let next = if leadership.is_leader() {
                if !leading {
                    leading = true;
                    tracing::info!("sentiment scorer leads; scoring");
                }
                self.round(&leadership, &stop).await
            } else {
                if leading {
                    leading = false;
                    tracing::info!("sentiment scorer no longer leads");
                }
                Next::Poll(self.poll_interval)
            };
            let (wait, nudged) = match next {
                Next::Now => continue,
                Next::Poll(wait) => (wait, true),
                Next::Pause(wait) => (wait, false),
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // A nudge during a pause stays pending and starts the round after it.
                () = self.wake.notified(), if nudged => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }

    /// One round; what to do before the next.
    async fn round(&self, leadership: &Arc<bus::Leadership>, stop: &watch::Receiver<bool>) -> Next {
        let lead = leadership.clone();
        let stop = stop.clone();
        let keep_going = move || lead.is_leader() && !*stop.borrow();
        match self
            .service
            .score_news(self.window, self.batch_size, &keep_going)
            .await
        {
            Ok(round) => {
                if round.stored + round.duplicate > 0 {
                    tracing::info!(
                        stored = round.stored,
                        duplicate = round.duplicate,
                        "sentiment scoring round"
                    );
                }
                if let Some(pause) = round.pause {
                    return Next::Pause(pause);
                }
                let full = round.taken >= self.batch_size as usize
                    && round.stored + round.duplicate == round.taken;
                if full {
                    Next::Now
                } else {
                    Next::Poll(self.poll_interval)
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "sentiment scoring round failed; trying again");
                Next::Poll(ERROR_BACKOFF.min(self.poll_interval))
            }
        }
    }
}

/// A task stopped when its owner is dropped (the scorer's wake-up listener ends with the loop).
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
