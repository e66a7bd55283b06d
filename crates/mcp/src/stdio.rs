//! `stockd mcp`: the server on standard input and output, for a desktop assistant that starts
//! stockd as its child. One user per process, given by a personal API token; stdout carries
//! only the protocol (logs go to stderr, set up by the binary).

use axum::http::HeaderValue;
use rmcp::ServiceExt;

use crate::{Auth, StockdMcp};

/// The prefix of personal API tokens (`stk_api_…`).
pub const API_TOKEN_PREFIX: &str = web::auth::API_TOKEN_PREFIX;

/// Why the stdio server did not start or stopped.
#[derive(Debug)]
pub struct StdioError(pub String);

impl std::fmt::Display for StdioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StdioError {}

/// Serves MCP on stdin/stdout for the user whose personal API token is `token`, over `state`
/// (built from the same configuration as `stockd serve`), until the client closes stdin.
/// The token is checked first, so a wrong one fails at start with a message, not on the
/// first tool call.
pub async fn serve(state: web::AppState, token: &str) -> Result<(), StdioError> {
    let token = token.trim();
    if !token.starts_with(API_TOKEN_PREFIX) {
        return Err(StdioError(format!(
            "the token must be a personal API token ({API_TOKEN_PREFIX}…, from POST /v1/me/tokens or the dashboard's settings)"
        )));
    }
    match state.service().authenticate(token).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(StdioError(
                "the API token is not valid (unknown or deleted); create a new one".into(),
            ));
        }
        Err(err) => return Err(StdioError(format!("could not check the API token: {err}"))),
    }
    let authorization = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| StdioError("the API token has characters a token never has".into()))?;
    let server = StockdMcp::new(state, Auth::Fixed(authorization));
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|err| StdioError(format!("the MCP client did not initialize: {err}")))?;
    running
        .waiting()
        .await
        .map_err(|err| StdioError(format!("the MCP session failed: {err}")))?;
    Ok(())
}
