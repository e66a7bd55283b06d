//! The HTTP edge's settings: connection limits and timeouts, the shutdown bound, and the CORS
//! allow-list.

use std::time::Duration;

use super::{ConfigError, Settings, invalid};

/// The longest any HTTP timeout may be set to.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The longest shutdown may wait for open connections.
const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(600);

/// The most connections a process may be told to hold.
const MAX_CONNECTIONS: usize = 1_000_000;

impl Settings {
    pub(super) fn validate_http(&self) -> Result<(), ConfigError> {
        for (setting, timeout) in [
            ("http_header_read_timeout", self.http_header_read_timeout),
            ("http_body_timeout", self.http_body_timeout),
            ("http_idle_timeout", self.http_idle_timeout),
        ] {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(invalid(
                    setting,
                    "must be more than 0 seconds and at most 1 hour",
                ));
            }
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.http_max_connections) {
            return Err(invalid(
                "http_max_connections",
                format!("must be from 1 to {MAX_CONNECTIONS}"),
            ));
        }
        if self.shutdown_grace > MAX_SHUTDOWN_GRACE {
            return Err(invalid("shutdown_grace", "must be at most 10 minutes"));
        }
        Ok(())
    }

    /// The HTTP server's section, with `http_max_connections` as configured (the binary lowers
    /// it to what the file-descriptor limit allows).
    pub(super) fn server(&self) -> web::ServerConfig {
        web::ServerConfig {
            header_read_timeout: self.http_header_read_timeout,
            body_timeout: self.http_body_timeout,
            idle_timeout: self.http_idle_timeout,
            max_connections: self.http_max_connections,
            shutdown_grace: self.shutdown_grace,
            when_idle: None,
        }
    }

    /// The origins allowed to call the API from their pages (`cors_allow_origins`).
    pub(super) fn cors_origins(&self) -> Result<web::CorsOrigins, ConfigError> {
        self.cors_allow_origins
            .parse()
            .map_err(|err: web::cors::CorsParseError| {
                invalid("cors_allow_origins", err.to_string())
            })
    }
}
