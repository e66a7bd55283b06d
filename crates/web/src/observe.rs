//! Per-request observability: a request id (`x-request-id`, taken from the client or made up),
//! a tracing span carrying it, and the `stock_api_requests_total` /
//! `stock_api_request_duration_seconds` metrics labelled by route template (never the raw
//! path), method and status.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Latency buckets (seconds) for every `*_duration_seconds` histogram: from sub-millisecond
/// cache hits to multi-second upstream calls.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide Prometheus recorder once and returns its handle (later calls return
/// the same handle, so tests in one binary can all call it).
pub fn install_metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DURATION_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            match builder.install_recorder() {
                Ok(handle) => handle,
                Err(err) => {
                    // Another recorder is already installed: metrics go there, /metrics is empty.
                    tracing::warn!(error = %err, "could not install the Prometheus recorder");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            }
        })
        .clone()
}

/// Sets `x-request-id` on requests that lack one and copies it to the response.
pub fn request_id_layers() -> (SetRequestIdLayer<MakeRequestUuid>, PropagateRequestIdLayer) {
    (
        SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid),
        PropagateRequestIdLayer::new(REQUEST_ID),
    )
}

/// Wraps a matched route: span with the request id, metrics, a debug line per request.
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| intern(path.as_str()));
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let span = tracing::info_span!("request", %method, route, request_id);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    let elapsed = started.elapsed();
    record(route, method.as_str(), status, elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::debug!(
            status = status.as_u16(),
            latency_us = elapsed.as_micros() as u64,
            "served"
        );
    });
    response
}

/// Counts a request no route matched (404/405 fallbacks), under the route label `unmatched`.
pub fn count_unmatched(status: StatusCode) {
    record("unmatched", "-", status, 0.0);
}

fn record(route: &'static str, method: &str, status: StatusCode, seconds: f64) {
    let method = match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "other",
    };
    metrics::counter!("stock_api_requests_total", "route" => route, "method" => method, "status" => status_label(status)).increment(1);
    metrics::histogram!("stock_api_request_duration_seconds", "route" => route, "method" => method)
        .record(seconds);
}

/// Route templates are a small fixed set; interning them gives `'static` labels without an
/// allocation per request.
fn intern(route: &str) -> &'static str {
    static ROUTES: OnceLock<std::sync::RwLock<std::collections::HashSet<&'static str>>> =
        OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    if let Some(found) = routes.read().ok().and_then(|set| set.get(route).copied()) {
        return found;
    }
    let mut set = match routes.write() {
        Ok(set) => set,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(found) = set.get(route) {
        return found;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn status_label(status: StatusCode) -> &'static str {
    // The three-digit code; status codes are a bounded set.
    match status.as_u16() {
        200 => "200",
        304 => "304",
        400 => "400",
        404 => "404",
        405 => "405",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        code if code < 300 => "2xx",
        code if code < 400 => "3xx",
        code if code < 500 => "4xx",
        _ => "5xx",
    }
}
