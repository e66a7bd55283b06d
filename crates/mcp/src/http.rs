//! The streamable HTTP transport, as the service `web` serves at `/mcp` (after checking the
//! API token and the token's allowance). Stateless: no session is kept between requests, so
//! any replica answers any request and nothing outlives it; each tool call acts with the
//! request's own bearer token.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower::ServiceExt;
use web::mcp::McpService;

use crate::{Auth, StockdMcp};

/// The MCP server over `state`, for [`web::AppState::set_mcp`].
pub fn service(state: web::AppState) -> McpService {
    let server = StockdMcp::new(state, Auth::PerRequest);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        // The transport's Host check guards servers a browser could reach through DNS
        // rebinding with ambient credentials; `/mcp` takes only a bearer token a page cannot
        // have, and stockd is served under whatever host name its operator gives it.
        .disable_allowed_hosts();
    let transport = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    McpService::new(
        transport
            .map_request(|request: Request| request)
            .map_response(|response| response.map(Body::new)),
    )
}
