//! The limits the HTTP edge enforces: per-client allowances of public reads
//! ([`reads::ReadLimiter`], answered with 429 and `Retry-After`) and per-user caps on what an
//! account may create ([`UserCaps`], answered with 409 naming the cap), and the per-token
//! allowance of MCP requests ([`McpLimits`], answered with 429 and `Retry-After`).

pub(crate) mod clients;
pub mod reads;

pub use reads::{PublicRead, ReadLimits};
/// Per-user caps are the use cases' (they enforce them): `service::UserCaps`.
pub use service::UserCaps;

/// Everything the edge limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub reads: ReadLimits,
    pub per_user: UserCaps,
    pub mcp: McpLimits,
}

/// How many MCP requests (`POST /mcp`, each a tool call, a read or a listing) one personal API
/// token may send; 0 turns the limit off. Per token rather than per address: an agent runs
/// wherever its host does, and one token is one agent's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpLimits {
    /// Requests per minute per token (`mcp_requests_per_minute`).
    pub per_minute: u32,
    /// Requests a token may send at once above that rate (`mcp_burst`; 0: the rate).
    pub burst: u32,
}

impl Default for McpLimits {
    fn default() -> Self {
        Self {
            per_minute: 120,
            burst: 30,
        }
    }
}
