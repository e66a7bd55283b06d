//! Leadership: a job only one replica may do at a time (the live-quote poller: every poller
//! spends provider quota), held by whichever replica owns a lease key, and taken over by
//! another within a lease when the holder dies.
//!
//! On JetStream the key is `leader.<name>` in the partition lease bucket, so it follows the
//! partition leases' rules (see `partition`): taken with KV `create`, renewed every third of
//! the lease with `update` on the last revision, expired by the bucket's `max_age` on the
//! server's clock, deleted on release. The holder counts itself leader only until its last
//! renewal's send time plus the lease, so it stops before the key can expire and another
//! replica takes over. On Kafka the broker's group assignment is the lease (see
//! `kafka::leader`). In process there is nobody to share with: always leader.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::BusError;
use crate::jetstream::Inner;

/// This replica's claim on one leadership; dropping it hands the lease back.
#[derive(Debug)]
pub struct Leadership {
    /// Leader until this instant (`None`: not leader); `Always` in process.
    state: State,
}

#[derive(Debug)]
enum State {
    Always,
    Leased {
        valid_until: Arc<Mutex<Option<Instant>>>,
        stop: Option<oneshot::Sender<()>>,
        task: JoinHandle<()>,
    },
    /// Leader while the flag is set (by the claim task, from the group assignment).
    #[cfg_attr(
        not(feature = "kafka"),
        expect(dead_code, reason = "built with the Kafka bus")
    )]
    Assigned {
        leading: Arc<std::sync::atomic::AtomicBool>,
        stop: Option<oneshot::Sender<()>>,
        task: JoinHandle<()>,
        /// The group member, kept so that [`Leadership::kill`] can leave it alive and silent.
        member: Option<Arc<dyn std::any::Any + Send + Sync>>,
    },
}

impl Leadership {
    /// The in-process bus's leadership: the only replica leads.
    pub(crate) fn always() -> Self {
        Self {
            state: State::Always,
        }
    }

    /// Whether this replica may do the job now.
    pub fn is_leader(&self) -> bool {
        match &self.state {
            State::Always => true,
            State::Leased { valid_until, .. } => valid_until
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .is_some_and(|until| Instant::now() < until),
            State::Assigned { leading, .. } => leading.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    /// Stops renewing without handing the lease back, as a crashed replica would (tests).
    pub fn kill(mut self) {
        match &mut self.state {
            State::Always => {}
            State::Leased { task, stop, .. } => {
                stop.take();
                task.abort();
            }
            State::Assigned {
                task, stop, member, ..
            } => {
                stop.take();
                task.abort();
                // Never closed: it stops heartbeating and polling like a dead process, and the
                // broker moves the partition after the session timeout.
                std::mem::forget(member.take());
            }
        }
    }

    /// A leadership held while `leading` is set, by `task` until `stop` fires.
    #[cfg(feature = "kafka")]
    pub(crate) fn assigned(
        leading: Arc<std::sync::atomic::AtomicBool>,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
        member: Arc<dyn std::any::Any + Send + Sync>,
    ) -> Self {
        Self {
            state: State::Assigned {
                leading,
                stop: Some(stop),
                task,
                member: Some(member),
            },
        }
    }

    /// Claims `leader.<name>` on JetStream and keeps claiming it in the background.
    pub(crate) fn leased(inner: Arc<Inner>, name: &str) -> Self {
        let valid_until = Arc::new(Mutex::new(None));
        let (stop, stopped) = oneshot::channel();
        let claim = Claim {
            inner,
            key: format!("leader.{name}"),
            member: uuid::Uuid::new_v4().simple().to_string(),
            valid_until: valid_until.clone(),
            revision: None,
        };
        Self {
            state: State::Leased {
                valid_until,
                stop: Some(stop),
                task: tokio::spawn(claim.run(stopped)),
            },
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        // The claim loop releases the key when told; a killed one was already aborted.
        if let State::Leased { stop, .. } | State::Assigned { stop, .. } = &mut self.state
            && let Some(stop) = stop.take()
        {
            let _ = stop.send(());
        }
    }
}

/// The background loop behind a leased [`Leadership`].
struct Claim {
    inner: Arc<Inner>,
    key: String,
    member: String,
    valid_until: Arc<Mutex<Option<Instant>>>,
    /// The revision last written while leader.
    revision: Option<u64>,
}

impl Claim {
    fn lease(&self) -> Duration {
        self.inner.config.partition_lease
    }

    fn set_until(&self, until: Option<Instant>) {
        *self
            .valid_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = until;
    }

    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let tick = self.lease() / 3;
        loop {
            if let Err(error) = self.round().await {
                tracing::warn!(key = %self.key, %error, "bus: leadership round failed");
            }
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                _ = &mut stopped => break,
            }
        }
        self.release().await;
    }

    /// Renews the lease when held, else tries to take it.
    async fn round(&mut self) -> Result<(), BusError> {
        let leases = &self.inner.leases;
        let sent = Instant::now();
        let written = match self.revision {
            Some(revision) => leases
                .update(&self.key, self.member.clone().into(), revision)
                .await
                .map_err(BusError::nats),
            None => leases
                .create(&self.key, self.member.clone().into())
                .await
                .map_err(BusError::nats),
        };
        match written {
            Ok(revision) => {
                if self.revision.is_none() {
                    tracing::info!(key = %self.key, "bus: leadership taken");
                }
                self.revision = Some(revision);
                self.set_until(Some(sent + self.lease()));
                Ok(())
            }
            // Someone else holds it: the expected case for every follower.
            Err(_) if self.revision.is_none() => Ok(()),
            Err(error) => {
                tracing::warn!(key = %self.key, %error, "bus: leadership lost");
                self.revision = None;
                self.set_until(None);
                Err(error)
            }
        }
    }

    async fn release(&mut self) {
        self.set_until(None);
        if let Some(revision) = self.revision.take()
            && let Err(error) = self
                .inner
                .leases
                .delete_expect_revision(&self.key, Some(revision))
                .await
        {
            tracing::debug!(key = %self.key, %error, "bus: leadership already gone");
        }
    }
}
