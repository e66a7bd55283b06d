//! `stockd mcp`: the MCP server (crate `mcp`) on stdin/stdout, over the same configuration,
//! store and providers as `stockd serve`, for the user whose personal API token is in
//! [`TOKEN_VAR`] or `--token-file`. Only the protocol goes to stdout; logs go to stderr.

use crate::cli::McpArgs;
use crate::config::{Config, TelemetrySection};
use web::features::Feature;

/// The variable `stockd mcp` reads the personal API token from.
pub const TOKEN_VAR: &str = "STOCKD_MCP_TOKEN";

/// Log lines on stderr, as text (an assistant shows them as the server's log).
pub fn init_logs(config: &TelemetrySection) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Serves MCP on stdio until the client closes stdin.
pub async fn run(config: &Config, args: &McpArgs) -> Result<(), String> {
    if !config.web.features().is_enabled(Feature::Mcp) {
        return Err(
            "the feature 'mcp' is disabled in this configuration ([features] mcp = false)".into(),
        );
    }
    let token = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|err| format!("could not read the token file {}: {err}", path.display()))?,
        None => std::env::var(TOKEN_VAR).map_err(|_| {
            format!(
                "give a personal API token (stk_api_…, from POST /v1/me/tokens) in {TOKEN_VAR} or with --token-file"
            )
        })?,
    };
    // Not installed as the global recorder: this process serves no /metrics, and the REST
    // routes the tools call record into nothing.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle();
    let state = crate::app::state(config, metrics)
        .await
        .map_err(|err| err.to_string())?;
    mcp::stdio::serve(state, &token)
        .await
        .map_err(|err| err.to_string())
}
