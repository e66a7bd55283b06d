//! Per-request observability: a request id (`x-request-id`, the client's or a new one), a
//! tracing span carrying it, and the `stock_api_requests_total` /
//! `stock_api_request_duration_seconds` metrics labelled by route template (never the raw
//! path), method and status. Every answer passes here (each routed handler wrapped in
//! [`Observed`], the fallbacks through [`unmatched`]), so it also adds the security headers
//! ([`crate::security`]).
//!
//! This runs on every request, so it is written for the hot path: metric handles are looked up
//! once per (route, method, status) per worker thread and reused, and request ids come from a
//! per-process random prefix plus a counter, rendered a block at a time, instead of a UUID per
//! request (unique, cheap, and still unguessable enough to correlate logs, which is all they
//! are for).
//!
//! The per-request span ([`spans`]) is at DEBUG level unless a trace exporter is installed: at
//! the default INFO level it is never built (a span per request cost about a quarter of the
//! cached-read throughput in the benchmark). The request id still reaches every error logged
//! at the HTTP edge through a task-local ([`current_request_id`]), and every response carries
//! it in `x-request-id`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

mod spans;

pub use spans::{EXPORT_TARGET, export_request_spans};

/// The request id header, read from clients and set on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Latency buckets (seconds) for every `*_duration_seconds` histogram: from sub-millisecond
/// cache hits to multi-second upstream calls.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets (seconds) for the alert path's latencies, which count from the quote's own time:
/// a poll interval, a bus backlog and notification retries sit in them, so they reach minutes.
const QUOTE_LATENCY_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

/// The histograms measured from a quote's time (see `alerting`).
const QUOTE_LATENCY_HISTOGRAMS: &[&str] = &[
    "stock_api_alert_tick_to_outbox_seconds",
    "stock_api_notification_dispatch_lag_seconds",
    "stock_api_alert_quote_to_delivery_seconds",
];

/// The longest client-supplied request id kept as it is.
const MAX_CLIENT_ID_LEN: usize = 128;

/// Installs the process-wide Prometheus recorder once and returns its handle (later calls return
/// the same handle, so tests in one binary can all call it).
pub fn install_metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = QUOTE_LATENCY_HISTOGRAMS
                .iter()
                .try_fold(
                    PrometheusBuilder::new(),
                    // A full name wins over the suffix, whatever the order.
                    |builder, name| {
                        builder.set_buckets_for_metric(
                            Matcher::Full((*name).into()),
                            QUOTE_LATENCY_BUCKETS,
                        )
                    },
                )
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Suffix("_seconds".into()),
                        DURATION_BUCKETS,
                    )
                })
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

/// A handler wrapped with the request id, span, metrics and a debug line per request.
///
/// Wrapping each handler (the router does it for every route it lists) rather than layering
/// the routes with `Router::route_layer`: a route layer puts a second boxed service in front of
/// every handler, so each request paid two more clones of boxed services, one more boxed
/// future and one more `Oneshot` (about 1,500 instructions of a cached read, see
/// `bench/instructions.sh`). The handler's own future is boxed once, by axum, as any other.
/// The route's template is given when the route is listed: reading axum's `MatchedPath` cost
/// each request an extension (an allocation and a map insert) and a lookup of the label.
#[derive(Debug, Clone, Copy)]
pub struct Observed<H> {
    handler: H,
    route: &'static str,
}

impl<H> Observed<H> {
    /// `handler`, observed as the route `route` (the template the router lists it under).
    pub fn new(handler: H, route: &'static str) -> Self {
        Self { handler, route }
    }
}

impl<H, T, S> Handler<T, S> for Observed<H>
where
    H: Handler<T, S>,
{
    type Future = ObserveFuture<H::Future>;

    fn call(self, request: Request, state: S) -> Self::Future {
        let started = quanta::Instant::now();
        let metrics = RequestMetrics {
            route: self.route,
            method: method_label(request.method()),
        };
        let request_id = request_id(&request);
        let span = spans::request_span(&request, metrics.method, metrics.route, &request_id);
        let inner = CURRENT_REQUEST_ID.scope(
            request_id.clone(),
            self.handler.call(request, state).instrument(span.clone()),
        );
        ObserveFuture {
            inner,
            started,
            metrics,
            request_id: Some(request_id),
            span,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of an [`Observed`] handler.
    pub struct ObserveFuture<F> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<HeaderValue, tracing::instrument::Instrumented<F>>,
        started: quanta::Instant,
        metrics: RequestMetrics,
        request_id: Option<HeaderValue>,
        span: tracing::Span,
    }
}

impl<F> Future for ObserveFuture<F>
where
    F: Future<Output = Response>,
{
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(response) => response,
        };
        let status = response.status();
        let elapsed = this.started.elapsed();
        this.metrics.record(status, elapsed.as_secs_f64());
        spans::record_status(this.span, status);
        // An explicit parent rather than entering the span: nothing to do when DEBUG is off.
        let span: &tracing::Span = this.span;
        tracing::debug!(
            parent: span,
            status = status.as_u16(),
            latency_us = elapsed.as_micros() as u64,
            "served"
        );
        finish_headers(response.headers_mut(), this.request_id.take());
        Poll::Ready(response)
    }
}

/// Sets the request id (when there is one) and adds the security headers an answer lacks. The
/// cached JSON answers arrive with both (`json::json_response`: the id as a placeholder), and
/// one walk over their few entries finds them without hashing a name (this walk and the
/// length's in `json` saved ~300 instructions of a cached read over hashed inserts).
fn finish_headers(headers: &mut HeaderMap, mut request_id: Option<HeaderValue>) {
    let mut secured = false;
    for (name, value) in headers.iter_mut() {
        if *name == REQUEST_ID {
            if let Some(id) = request_id.take() {
                *value = id;
            }
        } else if *name == X_CONTENT_TYPE_OPTIONS {
            secured = true;
        }
    }
    if let Some(id) = request_id {
        headers.insert(REQUEST_ID, id);
    }
    if !secured {
        crate::security::add_headers(headers);
    }
}

tokio::task_local! {
    static CURRENT_REQUEST_ID: HeaderValue;
}

/// The id of the request being handled on this task, for log lines (`-` outside a request).
pub fn current_request_id() -> String {
    CURRENT_REQUEST_ID
        .try_with(|id| id.to_str().unwrap_or("-").to_owned())
        .unwrap_or_else(|_| "-".to_owned())
}

/// Counts and tags a response no route matched (404/405 fallbacks), under the route label
/// `unmatched`.
pub fn unmatched(request: &Request, mut response: Response) -> Response {
    RequestMetrics {
        route: "unmatched",
        method: method_label(request.method()),
    }
    .record(response.status(), 0.0);
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, request_id(request));
    crate::security::add_headers(headers);
    response
}

/// The client's `x-request-id` when it is a sane header value, else a new unique id.
fn request_id(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(&REQUEST_ID)
        .filter(|id| !id.is_empty() && id.len() <= MAX_CLIENT_ID_LEN && id.to_str().is_ok())
        .cloned()
        .unwrap_or_else(new_request_id)
}

/// Ids rendered at once per worker thread: one allocation per this many requests.
const IDS_PER_BLOCK: usize = 64;

/// The length of a new request id.
const ID_LEN: usize = 25;

/// `<8 hex: per-process random prefix>-<16 hex: sequence>`.
///
/// Each worker thread renders a block of ids into one buffer and hands out slices of it: a
/// slice of shared `Bytes` is a header value without an allocation of its own.
fn new_request_id() -> HeaderValue {
    thread_local! {
        static BLOCK: RefCell<(Bytes, usize)> = const { RefCell::new((Bytes::new(), 0)) };
    }
    BLOCK.with(|block| {
        let mut block = block.borrow_mut();
        let (ids, next) = &mut *block;
        if *next >= ids.len() {
            *ids = render_id_block();
            *next = 0;
        }
        let id = ids.slice(*next..*next + ID_LEN);
        *next += ID_LEN;
        HeaderValue::from_maybe_shared(id).unwrap_or(HeaderValue::from_static("-"))
    })
}

/// The next [`IDS_PER_BLOCK`] ids, back to back.
fn render_id_block() -> Bytes {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Mix the start time with the process id so two replicas started together differ.
        (nanos as u32) ^ std::process::id().rotate_left(16) ^ fastrand::u32(..)
    });
    let first = SEQUENCE.fetch_add(IDS_PER_BLOCK as u64, Ordering::Relaxed);
    let mut block = vec![0u8; IDS_PER_BLOCK * ID_LEN];
    for (n, text) in block.chunks_exact_mut(ID_LEN).enumerate() {
        write_hex(&mut text[..8], u64::from(prefix));
        text[8] = b'-';
        write_hex(&mut text[9..], first + n as u64);
    }
    Bytes::from(block)
}

fn write_hex(out: &mut [u8], mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// The metric labels of one request, known when it starts.
#[derive(Debug, Clone, Copy)]
struct RequestMetrics {
    route: &'static str,
    method: &'static str,
}

impl RequestMetrics {
    /// Counts the request and records its duration, through handles registered once per
    /// (route, method, status) on this thread.
    fn record(self, status: StatusCode, seconds: f64) {
        type Handles =
            HashMap<(usize, usize, u16), (Counter, Histogram), foldhash::fast::RandomState>;
        thread_local! {
            static HANDLES: RefCell<Handles> = RefCell::new(HashMap::default());
        }
        // The labels are `'static`, one address per text (a template repeated at two
        // addresses only registers its handles twice): keyed by address.
        let key = (
            self.route.as_ptr() as usize,
            self.method.as_ptr() as usize,
            status.as_u16(),
        );
        HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            let (counter, duration) = handles.entry(key).or_insert_with(|| {
                let (route, method) = (self.route, self.method);
                let status = status.as_u16().to_string();
                (
                    metrics::counter!("stock_api_requests_total", "route" => route, "method" => method, "status" => status),
                    metrics::histogram!("stock_api_request_duration_seconds", "route" => route, "method" => method),
                )
            });
            counter.increment(1);
            if seconds > 0.0 {
                duration.record(seconds);
            }
        });
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_and_header_safe() {
        // More than a block's worth, so a new block is rendered on the way.
        let ids: Vec<HeaderValue> = (0..IDS_PER_BLOCK * 2 + 3)
            .map(|_| new_request_id())
            .collect();
        let distinct: std::collections::HashSet<&HeaderValue> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "every id is new");
        let a = &ids[ids.len() - 1];
        assert_eq!(a.len(), 25);
        assert!(
            a.to_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-')
        );
    }
}
