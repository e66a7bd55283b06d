//! The alert path's settings: where live quotes come from, the event bus, and how
//! notifications are delivered (SMTP, Twilio, webhook allow-list, retry schedule).

use std::time::Duration;

use alerting::dispatcher::DispatchConfig;
use alerting::poller::PollerConfig;
use notify::{
    AllowList, NotifyConfig, RetrySchedule, SmtpConfig, SmtpTls, TwilioConfig, WebhookConfig,
};
use secrecy::{ExposeSecret, SecretString};

use super::chain::non_empty;
use super::{ConfigError, ProviderChains, ProviderName, Settings, invalid};

impl Settings {
    pub(super) fn validate_alerting(&self) -> Result<(), ConfigError> {
        let prefix = self.nats_prefix.trim();
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(invalid(
                "nats_prefix",
                format!("'{prefix}' must be lower-case letters, digits, '_' or '-'"),
            ));
        }
        if let Some(kafka) = self.kafka() {
            if self.nats_url().is_some() {
                return Err(invalid(
                    "kafka_brokers",
                    "both nats_url and kafka_brokers are set: choose one bus",
                ));
            }
            kafka
                .validate()
                .map_err(|error| invalid("kafka_brokers", error.to_string()))?;
        }
        if !(self.quote_max_jump_pct > 0.0 && self.quote_max_jump_pct.is_finite()) {
            return Err(invalid(
                "quote_max_jump_pct",
                "must be a percentage above 0",
            ));
        }
        if self.quote_interval < Duration::from_millis(100) {
            return Err(invalid("quote_interval", "must be at least 100ms"));
        }
        if !(1..=256).contains(&self.notification_sends_per_host) {
            return Err(invalid(
                "notification_sends_per_host",
                format!(
                    "must be between 1 and 256 (got {})",
                    self.notification_sends_per_host
                ),
            ));
        }
        Ok(())
    }

    /// The roles this process plays (`roles`).
    pub fn roles(&self) -> Result<Roles, ConfigError> {
        let mut roles = Roles::default();
        for role in self
            .roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            match role.to_ascii_lowercase().as_str() {
                "all" => {
                    roles.worker = true;
                    roles.alerts = true;
                }
                "api" => {}
                "worker" => roles.worker = true,
                "alerts" => roles.alerts = true,
                other => {
                    return Err(invalid(
                        "roles",
                        format!("unknown role '{other}'; roles: all, api, worker, alerts"),
                    ));
                }
            }
        }
        Ok(roles)
    }

    /// The NATS URL, if one is set (an empty value counts as unset).
    pub(super) fn nats_url(&self) -> Option<SecretString> {
        non_empty(self.nats_url.as_ref())
            .map(|url| SecretString::from(url.expose_secret().trim().to_owned()))
    }

    /// The Kafka cluster, if brokers are set (an empty value counts as unset).
    pub(super) fn kafka(&self) -> Option<bus::KafkaConfig> {
        let brokers = non_empty_text(self.kafka_brokers.as_deref())?;
        let text = |value: &Option<String>| non_empty_text(value.as_deref()).map(str::to_owned);
        Some(bus::KafkaConfig {
            brokers: brokers.to_owned(),
            security_protocol: self.kafka_security_protocol.trim().to_owned(),
            sasl_mechanism: text(&self.kafka_sasl_mechanism),
            sasl_username: text(&self.kafka_sasl_username),
            sasl_password: non_empty(self.kafka_sasl_password.as_ref())
                .map(|password| password.expose_secret().to_owned()),
            ssl_ca_location: text(&self.kafka_ssl_ca_location),
        })
    }

    /// The providers asked for alert quotes: `alert_quote_providers`, else the quote chain —
    /// or `sim` when that is only the bundled sample, whose "quote" is a close from 2013 that
    /// would never move.
    pub(super) fn alert_quote_chain(
        &self,
        chains: &ProviderChains,
    ) -> Result<Vec<ProviderName>, ConfigError> {
        if let Some(list) = self.alert_quote_providers.as_deref() {
            return self.chain_of("alert_quote_providers", list);
        }
        Ok(if chains.quote == [ProviderName::Sample] {
            vec![ProviderName::Sim]
        } else {
            chains.quote.clone()
        })
    }

    /// The webhook allow-list.
    pub(super) fn webhook_allow(&self) -> Result<AllowList, ConfigError> {
        self.webhook_allow
            .parse()
            .map_err(|err: notify::ssrf::AllowListParseError| {
                invalid("webhook_allow", err.to_string())
            })
    }

    /// The notification retry schedule.
    pub(super) fn retry_schedule(&self) -> Result<RetrySchedule, ConfigError> {
        self.notification_retry_schedule.parse().map_err(
            |err: notify::retry::ScheduleParseError| {
                invalid("notification_retry_schedule", err.to_string())
            },
        )
    }

    /// The senders' configuration: SMTP and Twilio when configured, the webhook allow-list.
    pub(super) fn notify(&self, allow: AllowList) -> Result<NotifyConfig, ConfigError> {
        let smtp = match non_empty_text(self.smtp_host.as_deref()) {
            None => None,
            Some(host) => {
                let from = non_empty_text(self.smtp_from.as_deref()).ok_or_else(|| {
                    invalid(
                        "smtp_from",
                        "is needed with smtp_host (e.g. stockd <alerts@example.com>)",
                    )
                })?;
                let mut smtp = SmtpConfig::new(host, from);
                smtp.port = self.smtp_port;
                smtp.tls = match self.smtp_tls.trim().to_ascii_lowercase().as_str() {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    "none" => SmtpTls::None,
                    other => {
                        return Err(invalid(
                            "smtp_tls",
                            format!("'{other}' is not one of starttls, tls, none"),
                        ));
                    }
                };
                smtp.username = non_empty_text(self.smtp_username.as_deref()).map(str::to_owned);
                smtp.password = non_empty(self.smtp_password.as_ref()).cloned();
                Some(smtp)
            }
        };
        let twilio = match non_empty_text(self.twilio_account_sid.as_deref()) {
            None => None,
            Some(sid) => {
                let token = non_empty(self.twilio_auth_token.as_ref()).ok_or_else(|| {
                    invalid("twilio_auth_token", "is needed with twilio_account_sid")
                })?;
                let from = non_empty_text(self.twilio_from.as_deref())
                    .ok_or_else(|| invalid("twilio_from", "is needed with twilio_account_sid"))?;
                let mut twilio = TwilioConfig::new(sid, token.clone(), from);
                twilio.base_url = self.twilio_base_url.trim().to_owned();
                Some(twilio)
            }
        };
        Ok(NotifyConfig {
            smtp,
            twilio,
            webhook: WebhookConfig {
                allow,
                ..WebhookConfig::default()
            },
        })
    }

    /// The live-quote poller's settings.
    pub(super) fn poller(&self) -> PollerConfig {
        PollerConfig {
            interval: self.quote_interval,
            max_jump: self.quote_max_jump_pct / 100.0,
            watched: self.quote_watched,
            ..PollerConfig::default()
        }
    }

    /// The dispatcher's settings, retrying on `schedule`.
    pub(super) fn dispatch(&self, schedule: RetrySchedule) -> DispatchConfig {
        DispatchConfig {
            schedule,
            per_host: self.notification_sends_per_host,
            ..DispatchConfig::default()
        }
    }
}

fn non_empty_text(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// What a process runs besides the HTTP API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    /// Ingest workers, the ingest schedule and the notification dispatcher.
    pub worker: bool,
    /// The alert evaluator and (with `quote_poller`) the live-quote poller.
    pub alerts: bool,
}

impl Roles {
    /// How the process lists itself among the instances: `all`, or `api` plus its roles
    /// (`api+worker`).
    pub fn name(self) -> String {
        match (self.worker, self.alerts) {
            (true, true) => "all".into(),
            (true, false) => "api+worker".into(),
            (false, true) => "api+alerts".into(),
            (false, false) => "api".into(),
        }
    }
}
