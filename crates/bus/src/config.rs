//! The bus's settings, and the errors it reports.

use std::time::Duration;

/// How the bus behaves; every replica of a deployment must use the same `prefix` and
/// `partitions` (they decide subjects and consumer names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusConfig {
    /// Subject prefix, JetStream stream name and lease bucket name part: `[a-z0-9_-]+`.
    pub prefix: String,
    /// Quote partitions (symbols hash into them); the unit of ownership between replicas.
    pub partitions: u16,
    /// How long a delivered message may stay un-acked before it is delivered again.
    pub ack_wait: Duration,
    /// How long a partition stays a replica's without renewal (renewed every third of it): the
    /// longest a dead replica's partitions wait before another takes them over.
    pub partition_lease: Duration,
    /// How long JetStream keeps events (the stream's `max_age`).
    pub max_age: Duration,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            prefix: "stockd".into(),
            partitions: 8,
            ack_wait: Duration::from_secs(30),
            partition_lease: Duration::from_secs(10),
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

impl BusConfig {
    pub(crate) fn validate(&self) -> Result<(), BusError> {
        if !valid_name(&self.prefix) {
            return Err(BusError::Config(format!(
                "bus prefix '{}' must be 1-32 characters of a-z, 0-9, _ and -",
                self.prefix
            )));
        }
        if self.partitions == 0 || self.partitions > 1024 {
            return Err(BusError::Config("bus partitions must be 1 to 1024".into()));
        }
        if self.ack_wait < Duration::from_millis(100) {
            return Err(BusError::Config(
                "bus ack_wait must be at least 100ms".into(),
            ));
        }
        if self.partition_lease < Duration::from_millis(300) {
            return Err(BusError::Config(
                "bus partition_lease must be at least 300ms".into(),
            ));
        }
        Ok(())
    }
}

/// Group names become consumer names and lease keys, so they are restricted the same way.
pub(crate) fn validate_group(group: &str) -> Result<(), BusError> {
    if valid_name(&group.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(BusError::Config(format!(
            "group '{group}' must be 1-32 characters of letters, digits, _ and -"
        )))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus configuration: {0}")]
    Config(String),
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("NATS JetStream: {0}")]
    Nats(String),
    #[error("event encoding: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the bus is closed")]
    Closed,
}

impl BusError {
    pub(crate) fn nats(error: impl std::fmt::Display) -> Self {
        BusError::Nats(error.to_string())
    }
}
