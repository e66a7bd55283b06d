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
    /// How long JetStream keeps events (the stream's `max_age`; on Kafka, the topics'
    /// `retention.ms` when this bus creates them).
    pub max_age: Duration,
    /// A Kafka cluster to use instead of NATS (see [`KafkaConfig`]); `None`: NATS when a URL
    /// is given, else in-process.
    pub kafka: Option<KafkaConfig>,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            prefix: "stockd".into(),
            partitions: 8,
            ack_wait: Duration::from_secs(30),
            partition_lease: Duration::from_secs(10),
            max_age: Duration::from_secs(24 * 3600),
            kafka: None,
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
        if let Some(kafka) = &self.kafka {
            kafka.validate()?;
        }
        Ok(())
    }
}

/// Where a Kafka cluster is and how to reach it (`STOCKD_KAFKA_*` settings).
///
/// `Debug` shows the password as `[redacted]`; it goes nowhere but librdkafka's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:9092,host2:9092`.
    pub brokers: String,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka's `security.protocol`).
    pub security_protocol: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`, with a `sasl_*` protocol.
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<String>,
    /// A PEM file of the CAs that sign the brokers' certificates (`ssl`, `sasl_ssl`); unset:
    /// the system's.
    pub ssl_ca_location: Option<String>,
}

impl KafkaConfig {
    /// Plain TCP to `brokers`, no authentication.
    pub fn plaintext(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            security_protocol: "plaintext".into(),
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
        }
    }

    /// Refuses settings librdkafka would only reject at the first connection.
    pub fn validate(&self) -> Result<(), BusError> {
        if self.brokers.split(',').all(|b| b.trim().is_empty()) {
            return Err(BusError::Config("kafka brokers: none given".into()));
        }
        let protocol = self.security_protocol.to_ascii_lowercase();
        if !["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(&protocol.as_str()) {
            return Err(BusError::Config(format!(
                "kafka security protocol '{}' must be plaintext, ssl, sasl_plaintext or sasl_ssl",
                self.security_protocol
            )));
        }
        let sasl = protocol.starts_with("sasl_");
        if let Some(mechanism) = &self.sasl_mechanism
            && !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
                .contains(&mechanism.to_ascii_uppercase().as_str())
        {
            return Err(BusError::Config(format!(
                "kafka SASL mechanism '{mechanism}' must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            )));
        }
        if sasl && (self.sasl_username.is_none() || self.sasl_password.is_none()) {
            return Err(BusError::Config(format!(
                "kafka security protocol {protocol} needs a SASL user name and password"
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field(
                "sasl_password",
                &self.sasl_password.as_ref().map(|_| "[redacted]"),
            )
            .field("ssl_ca_location", &self.ssl_ca_location)
            .finish()
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
    #[error("Kafka: {0}")]
    Kafka(String),
    #[error("event encoding: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the bus is closed")]
    Closed,
}

impl BusError {
    pub(crate) fn nats(error: impl std::fmt::Display) -> Self {
        BusError::Nats(error.to_string())
    }

    #[cfg(feature = "kafka")]
    pub(crate) fn kafka(error: impl std::fmt::Display) -> Self {
        BusError::Kafka(error.to_string())
    }
}
