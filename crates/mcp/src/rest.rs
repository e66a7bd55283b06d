//! The one way the MCP server reaches stockd: a REST call made in-process through the HTTP
//! API's own router, with the caller's bearer token (and, over HTTP, the connection info the
//! per-address read limits key on). Its answer becomes the tool result as it is: the JSON body
//! on success, the problem+json document as a tool error otherwise.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Answers larger than this are cut off (a whole 5000-day history is about 700 KB).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What a call is sent with.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) authorization: Option<HeaderValue>,
    pub(crate) connect_info: Option<ConnectInfo<SocketAddr>>,
}

impl Credentials {
    /// The credentials of an HTTP request to `/mcp`.
    pub(crate) fn of(parts: &axum::http::request::Parts) -> Self {
        Self {
            authorization: parts.headers.get(header::AUTHORIZATION).cloned(),
            connect_info: parts.extensions.get::<ConnectInfo<SocketAddr>>().copied(),
        }
    }
}

/// One REST call: method, path segments (each percent-encoded here), query and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    pub path: Vec<String>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// What a bodiless success (204) means, said as the tool's answer.
    pub done: Option<Value>,
}

impl Call {
    /// `GET` of `path`.
    pub fn get(path: &[&str]) -> Self {
        Self {
            method: Method::GET,
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            body: None,
            done: None,
        }
    }

    /// `method` of `path`.
    pub fn with_method(method: Method, path: &[&str]) -> Self {
        Self {
            method,
            ..Self::get(path)
        }
    }

    /// Adds `name=value` when `value` is given.
    pub fn query(mut self, name: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    /// The JSON body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The answer of a 204.
    pub fn done(mut self, done: Value) -> Self {
        self.done = Some(done);
        self
    }

    /// The path and query, percent-encoded.
    pub fn uri(&self) -> String {
        // A fixed base only to borrow `url`'s encoders; the host is never used.
        let mut url = match url::Url::parse("http://stockd.invalid/") {
            Ok(url) => url,
            Err(_) => return "/".into(),
        };
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().extend(&self.path);
        }
        if !self.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }
}

/// The REST API, in-process.
#[derive(Debug, Clone)]
pub(crate) struct Rest {
    router: Router,
}

/// A REST answer: its status and JSON body (`null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl Rest {
    pub(crate) fn new(state: web::AppState) -> Self {
        Self {
            router: web::router(state),
        }
    }

    /// Sends `call` with `credentials`.
    pub(crate) async fn send(&self, call: &Call, credentials: &Credentials) -> Answer {
        let mut request = Request::builder()
            .method(call.method.clone())
            .uri(call.uri());
        if let Some(authorization) = &credentials.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        let body = match &call.body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let mut request = match request.body(body) {
            Ok(request) => request,
            Err(_) => return internal("a REST call could not be built"),
        };
        if let Some(info) = credentials.connect_info {
            request.extensions_mut().insert(info);
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let Ok(bytes) = axum::body::to_bytes(response.into_body(), MAX_BODY).await else {
            return internal("a REST answer was too large to pass on");
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer { status, body }
    }

    /// `call`'s answer as a tool result.
    pub(crate) async fn answer(&self, call: Call, credentials: &Credentials) -> CallToolResult {
        let answer = self.send(&call, credentials).await;
        if answer.status.is_success() {
            let body = match (answer.body, call.done) {
                (Value::Null, Some(done)) => done,
                (Value::Null, None) => json!({ "ok": true }),
                (body, _) => body,
            };
            return CallToolResult::structured(body);
        }
        problem_result(answer)
    }
}

/// A failed REST answer as a tool error: the text is what a person or agent acts on (the
/// problem's title and detail), the structured content the whole problem document.
pub(crate) fn problem_result(answer: Answer) -> CallToolResult {
    let text = problem_text(&answer);
    let mut result = CallToolResult::structured_error(answer.body);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// "Title: detail" of a problem+json answer.
pub(crate) fn problem_text(answer: &Answer) -> String {
    let title = answer.body.get("title").and_then(Value::as_str);
    let detail = answer.body.get("detail").and_then(Value::as_str);
    match (title, detail) {
        (Some(title), Some(detail)) => format!("{title}: {detail}"),
        (None, Some(detail)) => detail.to_owned(),
        _ => format!(
            "the call failed with HTTP status {}",
            answer.status.as_u16()
        ),
    }
}

fn internal(what: &str) -> Answer {
    Answer {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        body: json!({
            "type": "urn:stockd:problem:internal",
            "title": "Internal error",
            "status": 500,
            "detail": what,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_and_query_values_are_encoded() {
        let call = Call::get(&["v1", "stocks", "BRK/B ?", "daily"])
            .query("days", Some(5))
            .query("from", None::<String>)
            .query("q", Some("a&b=c"));
        assert_eq!(
            call.uri(),
            "/v1/stocks/BRK%2FB%20%3F/daily?days=5&q=a%26b%3Dc"
        );
    }
}
