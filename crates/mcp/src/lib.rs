//! stockd's Model Context Protocol server, on the official Rust SDK (`rmcp`): market data, the
//! caller's watchlist, alerts and notifications as MCP tools ([`tools`]), the watchlist and
//! alerts as resources ([`resources`]), and prompts that show the tools in use ([`prompts`]).
//!
//! It is an adapter and owns no logic: every tool, resource read and prompt-free answer is one
//! call of a REST route, made in-process through the same axum router the HTTP API serves
//! ([`rest`]), with the caller's own bearer token. Validation, tenancy (another user's alert is
//! "not found"), feature flags, read limits, provenance and error wording are therefore the
//! REST API's, which are the use cases' (`service`). A failed call is a tool error
//! (`isError: true`) whose text is the problem+json `title` and `detail` the route answered,
//! and whose structured content is that problem document.
//!
//! Two transports: [`stdio`] (`stockd mcp`, one user given by a personal API token) and
//! [`http`] (streamable HTTP at `/mcp`, every request authenticated by the HTTP edge).

pub mod http;
pub mod prompts;
pub mod resources;
mod rest;
pub mod stdio;
pub mod tools;

use std::sync::Arc;

use axum::http::HeaderValue;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::rest::{Credentials, Rest};

/// What the server tells a client about itself at `initialize`.
const INSTRUCTIONS: &str = "stockd serves daily stock prices, quotes, indicators, composite \
signals, news sentiment, and the signed-in user's watchlist, price alerts and notifications. \
Every market-data answer carries its provenance: `source` (the provider), `fetched_at` and \
`stale` (true when the provider is failing and an older copy is served, or an end-of-day bar \
lags the session asked for); mention stale data to the user. Try an alert idea with \
`backtest_alert` (a dry run over stored history) before `create_alert`. Failed calls are tool \
errors whose text says what to fix.";

/// Who the tools act for.
#[derive(Debug, Clone)]
enum Auth {
    /// One user for the whole connection (stdio): their API token as a bearer header.
    Fixed(HeaderValue),
    /// Each HTTP request's own `Authorization` header and connection info, already checked by
    /// the HTTP edge (`web::mcp`).
    PerRequest,
}

/// The MCP server: the tool catalogue over the REST routes, for one [`Auth`].
#[derive(Debug, Clone)]
pub struct StockdMcp {
    rest: Rest,
    auth: Auth,
    tools: Arc<Vec<Tool>>,
}

impl StockdMcp {
    fn new(state: web::AppState, auth: Auth) -> Self {
        Self {
            rest: Rest::new(state),
            auth,
            tools: Arc::new(tools::catalogue()),
        }
    }

    /// The credentials a call goes out with.
    fn credentials(&self, context: &RequestContext<RoleServer>) -> Result<Credentials, ErrorData> {
        match &self.auth {
            Auth::Fixed(authorization) => Ok(Credentials {
                authorization: Some(authorization.clone()),
                connect_info: None,
            }),
            Auth::PerRequest => {
                let parts = context
                    .extensions
                    .get::<axum::http::request::Parts>()
                    .ok_or_else(|| {
                        ErrorData::internal_error("the HTTP request is not at hand", None)
                    })?;
                Ok(Credentials::of(parts))
            }
        }
    }
}

impl ServerHandler for StockdMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("stockd", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|tool| tool.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = tools::Name::parse(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "no tool named '{}'; tools/list names them",
                    request.name.chars().take(60).collect::<String>()
                ),
                None,
            ));
        };
        let credentials = self.credentials(&context)?;
        let arguments = request.arguments.unwrap_or_default();
        let result = match tool.call(arguments) {
            Ok(call) => self.rest.answer(call, &credentials).await,
            // An argument that does not parse is the agent's to fix: a tool error naming it.
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let credentials = self.credentials(&context)?;
        resources::read(&self.rest, &request.uri, &credentials)
            .await
            .map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        prompts::get(&request.name, request.arguments.unwrap_or_default()).map(Into::into)
    }
}
