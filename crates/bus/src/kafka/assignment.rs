//! Which partitions this process's group members hold, as the broker assigned them: the
//! rebalance callbacks (run by librdkafka inside `recv`) record each change here, for the
//! member loop (which delivers only from what it holds) and for [`super::KafkaBus::assignment`]
//! (operators' views, and the tests, which wait on it instead of sleeping through rebalances).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, Weak};

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use tokio::sync::Notify;

/// One member's assignment.
pub(crate) struct Assignment {
    group_id: String,
    member: String,
    /// Partitions assigned (`true`) or revoked since the member loop last looked.
    changes: StdMutex<Vec<(i32, bool)>>,
    held: StdMutex<BTreeSet<i32>>,
    /// Cleared when the member stops (or is killed and no longer counts).
    alive: AtomicBool,
    pub(crate) changed: Notify,
}

impl Assignment {
    pub(crate) fn take(&self) -> Vec<(i32, bool)> {
        std::mem::take(&mut *self.changes.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn stopped(&self) {
        self.alive.store(false, Ordering::SeqCst);
    }

    fn record(&self, partitions: impl Iterator<Item = i32>, assigned: bool) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let mut changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        for partition in partitions {
            if assigned {
                held.insert(partition);
            } else {
                held.remove(&partition);
            }
            changes.push((partition, assigned));
        }
        drop((held, changes));
        self.changed.notify_one();
    }
}

/// The assignments of one bus's members.
#[derive(Default)]
pub(crate) struct Registry {
    members: StdMutex<Vec<Weak<Assignment>>>,
}

impl Registry {
    /// A new member of `group_id`, holding nothing yet.
    pub(crate) fn join(&self, group_id: &str) -> Arc<Assignment> {
        let assignment = Arc::new(Assignment {
            group_id: group_id.to_owned(),
            member: uuid::Uuid::new_v4().simple().to_string(),
            changes: StdMutex::default(),
            held: StdMutex::default(),
            alive: AtomicBool::new(true),
            changed: Notify::new(),
        });
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.retain(|m| m.strong_count() > 0);
        members.push(Arc::downgrade(&assignment));
        assignment
    }

    /// How many partitions each live member of `group_id` holds (member id → count; members
    /// holding none left out).
    pub(crate) fn shares(&self, group_id: &str) -> BTreeMap<String, usize> {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|m| m.group_id == group_id && m.alive.load(Ordering::SeqCst))
            .filter_map(|m| {
                let held = m.held.lock().unwrap_or_else(|e| e.into_inner()).len();
                (held > 0).then(|| (m.member.clone(), held))
            })
            .collect()
    }
}

/// The consumer's context: records assignment changes.
pub(crate) struct GroupContext {
    pub(crate) assignment: Arc<Assignment>,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (list, assigned) = match rebalance {
            Rebalance::Assign(list) => (*list, true),
            Rebalance::Revoke(list) => (*list, false),
            Rebalance::Error(error) => {
                tracing::warn!(group = %self.assignment.group_id, %error, "bus: Kafka rebalance failed");
                return;
            }
        };
        self.assignment
            .record(list.elements().iter().map(|e| e.partition()), assigned);
    }
}
