//! The resources: the caller's watchlist and alert rules, read from the same REST routes the
//! `watchlist` and `list_alerts` tools call (the first 1000 of each), as JSON.

use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents};

use crate::rest::{Call, Credentials, Rest, problem_text};

/// The watchlist's URI.
pub const WATCHLIST: &str = "stockd://me/watchlist";
/// The alert rules' URI.
pub const ALERTS: &str = "stockd://me/alerts";

/// Every resource.
pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(WATCHLIST, "watchlist")
            .with_title("Your watchlist")
            .with_description(
                "The symbols you watch (each is tracked and kept fresh), in symbol order.",
            )
            .with_mime_type("application/json"),
        Resource::new(ALERTS, "alerts")
            .with_title("Your alerts")
            .with_description(
                "Your price alert rules with their status and live state (armed, last price, fire count).",
            )
            .with_mime_type("application/json"),
    ]
}

/// Reads the resource at `uri`.
pub(crate) async fn read(
    rest: &Rest,
    uri: &str,
    credentials: &Credentials,
) -> Result<ReadResourceResult, ErrorData> {
    let call = match uri {
        WATCHLIST => Call::get(&["v1", "me", "watchlist"]),
        ALERTS => Call::get(&["v1", "alerts"]),
        _ => {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource '{}'; resources/list names them ({WATCHLIST}, {ALERTS})",
                    uri.chars().take(80).collect::<String>()
                ),
                None,
            ));
        }
    }
    .query("limit", Some(1000));
    let answer = rest.send(&call, credentials).await;
    if !answer.status.is_success() {
        return Err(ErrorData::invalid_request(problem_text(&answer), None));
    }
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(answer.body.to_string(), uri).with_mime_type("application/json"),
    ]))
}
