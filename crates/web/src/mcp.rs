//! `/mcp`: the door of the Model Context Protocol server (streamable HTTP). This module owns
//! what the HTTP edge decides about it: the caller must present a personal API token (the
//! [`AuthUser`] extractor, then the token's kind), each token gets an allowance of requests
//! ([`McpLimits`], 429 with `Retry-After` beyond it), and the request is handed to the MCP
//! server the binary installed ([`AppState::set_mcp`]; the `mcp` crate builds it). The tools
//! themselves answer through this same router, so what they validate and whose data they reach
//! is decided by the same handlers and use cases as the REST API.

use std::convert::Infallible;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::Response;
use governor::Quota;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::limits::McpLimits;
use crate::limits::clients::KeyedAllowance;

/// The MCP server as a service of HTTP requests (rmcp's streamable HTTP transport, boxed).
pub type McpService = BoxCloneSyncService<Request, Response, Infallible>;

/// Tokens the allowance tracks at once; beyond, new tokens share one allowance until idle ones
/// are swept (a token is a database row, so this many live agents is a lot).
const TRACKED_TOKENS: usize = 100_000;

/// The per-token allowance of MCP requests.
#[derive(Debug)]
pub(crate) struct McpLimiter {
    allowance: Option<KeyedAllowance<String>>,
    limits: McpLimits,
}

impl McpLimiter {
    pub(crate) fn new(limits: McpLimits) -> Self {
        let allowance = NonZeroU32::new(limits.per_minute).and_then(|rate| {
            let burst = NonZeroU32::new(limits.burst).unwrap_or(rate);
            Quota::with_period(Duration::from_secs(60) / rate.get())
                .map(|quota| KeyedAllowance::new(quota.allow_burst(burst), TRACKED_TOKENS))
        });
        Self { allowance, limits }
    }

    fn admit(&self, token_id: &str) -> Result<(), ApiError> {
        let Some(allowance) = &self.allowance else {
            return Ok(());
        };
        allowance
            .check(&token_id.to_owned())
            .map_err(|retry_after| ApiError::TooManyRequests {
                detail: format!(
                    "this API token sent more than {} MCP requests a minute (bursts of {}; limits.mcp_requests_per_minute); retry in {}s",
                    self.limits.per_minute,
                    if self.limits.burst == 0 {
                        self.limits.per_minute
                    } else {
                        self.limits.burst
                    },
                    retry_after.as_secs().max(1)
                ),
                retry_after,
            })
    }
}

/// The Model Context Protocol server (streamable HTTP, stateless: every request stands alone,
/// so any replica can answer it). Send `Authorization: Bearer stk_api_…` (a personal API
/// token from `POST /v1/me/tokens`) on every request; the tools reach only that token's user's
/// data. A tool that fails answers a tool error (`isError`) carrying the problem+json detail
/// the REST route would.
#[utoipa::path(post, path = "/mcp", tag = "mcp",
    security(("bearer" = [])),
    request_body(content = String, content_type = "application/json", description = "A JSON-RPC message of the Model Context Protocol (initialize, tools/list, tools/call, resources/read, prompts/get, …)"),
    responses(
        (status = 200, description = "The JSON-RPC answer (`application/json`, or `text/event-stream` when the server has notifications to send first)"),
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "A session token: MCP clients use a personal API token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `mcp` feature is off here (type `feature-disabled`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 406, description = "The request's `Accept` does not list both `application/json` and `text/event-stream`, as the MCP streamable HTTP transport requires"),
        (status = 429, description = "This token's MCP requests are spent for now (`limits.mcp_requests_per_minute`); `Retry-After` says when to come back", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn mcp_endpoint(
    State(state): State<AppState>,
    caller: AuthUser,
    request: Request,
) -> Result<Response, ApiError> {
    if caller.token.kind != store::TokenKind::Api {
        return Err(ApiError::Forbidden(
            "MCP clients authenticate with a personal API token (stk_api_…, from POST /v1/me/tokens), not a session token".into(),
        ));
    }
    state.mcp_limiter().admit(&caller.token.id)?;
    let Some(server) = state.mcp() else {
        return Err(ApiError::Internal("the MCP server was not installed"));
    };
    // The tools call the REST routes with this request's own bearer header and connection
    // info (the MCP server reads them from the request), so tenancy and the per-address read
    // limits are the REST API's.
    match server.clone().oneshot(request).await {
        Ok(response) => Ok(response),
        Err(never) => match never {},
    }
}
