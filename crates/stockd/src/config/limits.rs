//! The `[limits]` table (env `STOCKD_LIMITS__<NAME>`): per-client read limits on the public
//! routes and per-user caps on what an account may create. 0 turns a limit or cap off.

use serde::{Deserialize, Serialize};
use web::limits::{Limits, McpLimits, ReadLimits, UserCaps};

use super::{ConfigError, Settings, invalid};

/// Per-client read limits and per-user caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSetting {
    /// Public reads (seed routes, `/v1/stocks/*`, `/v1/daily`) per second per client address.
    pub read_rate_per_second: u32,
    /// Reads a client may send at once above that rate (0: the rate).
    pub read_burst: u32,
    /// Reads per minute per client address that must ask an upstream provider (cache misses).
    pub upstream_reads_per_minute: u32,
    /// Such reads a client may send at once (0: the per-minute rate).
    pub upstream_read_burst: u32,
    /// Client addresses each read limit tracks at once; beyond, new clients share one
    /// allowance until idle ones are swept.
    pub read_limit_clients: usize,
    /// Alert rules per user.
    pub max_rules_per_user: u32,
    /// Notification channels per user.
    pub max_channels_per_user: u32,
    /// Symbols on one user's watchlist (each is tracked and ingested).
    pub max_watched_symbols_per_user: u32,
    /// Personal API tokens per user.
    pub max_tokens_per_user: u32,
    /// MCP requests (`/mcp`) per minute per personal API token.
    pub mcp_requests_per_minute: u32,
    /// Such requests a token may send at once (0: the per-minute rate).
    pub mcp_burst: u32,
}

impl Default for LimitsSetting {
    fn default() -> Self {
        let reads = ReadLimits::default();
        let caps = UserCaps::default();
        let mcp = McpLimits::default();
        Self {
            read_rate_per_second: reads.per_second,
            read_burst: reads.burst,
            upstream_reads_per_minute: reads.upstream_per_minute,
            upstream_read_burst: reads.upstream_burst,
            read_limit_clients: reads.max_clients,
            max_rules_per_user: caps.rules,
            max_channels_per_user: caps.channels,
            max_watched_symbols_per_user: caps.watched_symbols,
            max_tokens_per_user: caps.tokens,
            mcp_requests_per_minute: mcp.per_minute,
            mcp_burst: mcp.burst,
        }
    }
}

/// Rates and bursts above this are refused: a typo, not a limit.
const MOST: u32 = 1_000_000;

impl Settings {
    pub(super) fn validate_limits(&self) -> Result<(), ConfigError> {
        let limits = &self.limits;
        for (setting, value) in [
            ("limits.read_rate_per_second", limits.read_rate_per_second),
            ("limits.read_burst", limits.read_burst),
            (
                "limits.upstream_reads_per_minute",
                limits.upstream_reads_per_minute,
            ),
            ("limits.upstream_read_burst", limits.upstream_read_burst),
            (
                "limits.mcp_requests_per_minute",
                limits.mcp_requests_per_minute,
            ),
            ("limits.mcp_burst", limits.mcp_burst),
        ] {
            if value > MOST {
                return Err(invalid(
                    setting,
                    format!("must be from 0 (off) to {MOST}, got {value}"),
                ));
            }
        }
        if !(1..=10_000_000).contains(&limits.read_limit_clients) {
            return Err(invalid(
                "limits.read_limit_clients",
                format!(
                    "must be from 1 to 10000000, got {}",
                    limits.read_limit_clients
                ),
            ));
        }
        Ok(())
    }

    /// The HTTP edge's limits.
    pub(super) fn limits(&self) -> Limits {
        let limits = &self.limits;
        Limits {
            reads: ReadLimits {
                per_second: limits.read_rate_per_second,
                burst: limits.read_burst,
                upstream_per_minute: limits.upstream_reads_per_minute,
                upstream_burst: limits.upstream_read_burst,
                max_clients: limits.read_limit_clients,
            },
            per_user: UserCaps {
                rules: limits.max_rules_per_user,
                channels: limits.max_channels_per_user,
                watched_symbols: limits.max_watched_symbols_per_user,
                tokens: limits.max_tokens_per_user,
            },
            mcp: McpLimits {
                per_minute: limits.mcp_requests_per_minute,
                burst: limits.mcp_burst,
            },
        }
    }
}
