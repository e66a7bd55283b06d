//! The deployment's running processes: each records a heartbeat in the store every
//! [`Settings::heartbeat_every`](crate::Settings), and any signed-in user may list them with
//! how long ago each was last seen. One not seen for more than [`GONE_AFTER_BEATS`] intervals
//! is shown as `gone` (stopped, crashed or cut off); after [`FORGET_AFTER`] its row is removed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use store::Instance;
use tokio::sync::watch;

use crate::{Service, ServiceError};

/// Missed heartbeats after which an instance is shown as gone.
pub const GONE_AFTER_BEATS: u32 = 3;

/// How long the row of an instance that stopped beating is kept.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// This process, as it records itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub id: String,
    pub role: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
}

impl Me {
    /// This process, started now, on `host` with `role`: its id is unique per start.
    pub fn new(host: &str, role: &str, version: &str) -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            id: format!("{host}-{}-{}", std::process::id(), &random[..8]),
            role: role.to_owned(),
            version: version.to_owned(),
            started_at: Utc::now(),
        }
    }
}

/// One instance as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceState {
    pub instance: Instance,
    /// Seconds since its last heartbeat (0 if its clock is ahead).
    pub last_seen_seconds: u64,
    /// Not seen for more than [`GONE_AFTER_BEATS`] intervals.
    pub gone: bool,
}

impl Service {
    /// Records one heartbeat of `me` at `now`.
    pub async fn record_heartbeat(&self, me: &Me, now: DateTime<Utc>) -> Result<(), ServiceError> {
        self.store()
            .record_heartbeat(&Instance {
                id: me.id.clone(),
                role: me.role.clone(),
                version: me.version.clone(),
                started_at: me.started_at,
                last_seen: now,
            })
            .await?;
        Ok(())
    }

    /// Every recorded instance as of `now`, most recently started first.
    pub async fn list_instances(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<InstanceState>, ServiceError> {
        let gone_after = self.settings().heartbeat_every * GONE_AFTER_BEATS;
        Ok(self
            .store()
            .instances()
            .await?
            .into_iter()
            .map(|instance| {
                let age = (now - instance.last_seen).to_std().unwrap_or_default();
                InstanceState {
                    last_seen_seconds: age.as_secs(),
                    gone: age > gone_after,
                    instance,
                }
            })
            .collect())
    }

    /// Records a heartbeat of `me` now and every `heartbeat_every` after, until `stop` is
    /// set; each beat also forgets instances silent for [`FORGET_AFTER`]. A failed write is
    /// logged and tried again at the next beat.
    pub async fn run_heartbeat(self, me: Me, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.settings().heartbeat_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            let now = Utc::now();
            if let Err(err) = self.record_heartbeat(&me, now).await {
                tracing::warn!(error = %err, "could not record this instance's heartbeat");
                continue;
            }
            let cut = chrono::Duration::from_std(FORGET_AFTER)
                .ok()
                .and_then(|keep| now.checked_sub_signed(keep));
            if let Some(cut) = cut
                && let Err(err) = self.store().forget_instances(cut).await
            {
                tracing::debug!(error = %err, "could not forget silent instances");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Settings;

    fn service() -> Service {
        let store: Arc<dyn store::Store> = Arc::new(store::MemoryStore::new());
        let market = Arc::new(market::Market::with_providers(
            Vec::new(),
            Vec::new(),
            store.clone(),
            market::MarketConfig::default(),
        ));
        Service::new(
            store,
            market,
            Settings {
                heartbeat_every: Duration::from_secs(10),
                ..Settings::default()
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_repeat_every_interval_and_silent_instances_show_as_gone() {
        let service = service();
        let me = Me::new("host", "all", "0.1.0");
        let (stop, stopped) = watch::channel(false);
        let beating = tokio::spawn(service.clone().run_heartbeat(me.clone(), stopped));
        // The first beat is at once.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let first = service.list_instances(Utc::now()).await.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].instance.id, me.id);
        assert!(!first[0].gone);
        let first_seen = first[0].instance.last_seen;

        // Paused time moves tokio's clock, not the wall clock: count beats by their writes.
        let store_seen = |service: &Service| {
            let service = service.clone();
            async move {
                service.list_instances(Utc::now()).await.unwrap()[0]
                    .instance
                    .last_seen
            }
        };
        tokio::time::advance(Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(
            store_seen(&service).await,
            first_seen,
            "no beat before the interval"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        let second_seen = store_seen(&service).await;
        assert!(second_seen > first_seen, "beat again after the interval");

        stop.send(true).unwrap();
        beating.await.unwrap();

        let first_seen = second_seen;
        // As seen 25 s later: two missed beats, still live; 31 s: gone.
        let later = |s: i64| first_seen + chrono::Duration::seconds(s);
        let listed = service.list_instances(later(25)).await.unwrap();
        assert_eq!(listed[0].last_seen_seconds, 25);
        assert!(!listed[0].gone);
        assert!(service.list_instances(later(31)).await.unwrap()[0].gone);
    }
}
