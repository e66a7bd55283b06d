//! The span each request runs in, in one of two shapes.
//!
//! Without a trace exporter the span is at DEBUG, so at the default INFO level it is never
//! built and costs nothing. With one (stockd's OTLP export calls [`export_request_spans`]) it
//! is at INFO and shaped after the OpenTelemetry HTTP server conventions: named
//! `{method} {route}`, kind `server`, with the route template, path, status code and an error
//! status on 5xx; with the `otel` feature, a W3C `traceparent` header on the request makes it
//! a child of the caller's trace.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use tracing::Span;
use tracing::field::Empty;

/// The target of exported request spans. The log layer turns this target off: formatting
/// every request span's fields for log lines that never mention them was a third of the
/// export's cost per request (bench/instructions.sh), and without an exporter log lines do not
/// carry the request span either (the request id reaches them through a task-local).
pub const EXPORT_TARGET: &str = "stockd::otel";

/// Whether request spans are built for an exporter; read once per request.
static EXPORT: AtomicBool = AtomicBool::new(false);

/// Builds every later request's span at INFO for a trace exporter (`true`), or at DEBUG.
pub fn export_request_spans(on: bool) {
    EXPORT.store(on, Ordering::Relaxed);
}

/// The span `request` runs in.
pub(super) fn request_span(
    request: &Request,
    method: &'static str,
    route: &'static str,
    request_id: &HeaderValue,
) -> Span {
    // Inside the macros: a span's field values are only computed when it is built.
    if !EXPORT.load(Ordering::Relaxed) {
        return tracing::debug_span!(
            "request",
            method,
            route,
            request_id = request_id.to_str().unwrap_or_default()
        );
    }
    let span = tracing::info_span!(
        target: EXPORT_TARGET,
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route,
        url.path = request.uri().path(),
        http.response.status_code = Empty,
        request_id = request_id.to_str().unwrap_or_default(),
    );
    #[cfg(feature = "otel")]
    remote_parent::adopt(&span, request.headers());
    span
}

/// Records the response status on an exported request span (nothing without an exporter).
pub(super) fn record_status(span: &Span, status: StatusCode) {
    if !EXPORT.load(Ordering::Relaxed) {
        return;
    }
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}

#[cfg(feature = "otel")]
mod remote_parent {
    use axum::http::HeaderMap;
    use opentelemetry::propagation::Extractor;
    use tracing::Span;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    /// Reads propagation headers straight from the request (no copy).
    struct Headers<'a>(&'a HeaderMap);

    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|value| value.to_str().ok())
        }

        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|name| name.as_str()).collect()
        }
    }

    /// Makes `span` a child of the trace in the request's `traceparent`, when it has one (the
    /// process-wide propagator decides the format; stockd installs W3C trace context).
    pub(super) fn adopt(span: &Span, headers: &HeaderMap) {
        if !headers.contains_key("traceparent") {
            return;
        }
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&Headers(headers))
        });
        // Fails only when the span is disabled (no exporter layer): nothing to adopt then.
        let _ = span.set_parent(parent);
    }
}
