//! OTLP trace export against the real binary, with a local collector: a mock that accepts
//! `POST /v1/traces` as an OTLP/HTTP receiver does, whose bodies are decoded with the OTLP
//! protobuf definitions. One `stockd serve` with the standard `OTEL_*` variables, a request
//! carrying a W3C `traceparent`, an alert delivered to a webhook, and a backfill: the server,
//! upstream, job and notification spans all arrive, in the caller's trace where there is one,
//! and the exporter's credentials never reach the log.
#![cfg(feature = "otlp")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use support::BIN;
use support::serve::{Server, User, accepting_receiver, set_up_alerts, wait_for};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The caller's trace, as a W3C `traceparent` would carry it.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";
/// What the exporter authenticates with; it must reach the collector and nowhere else.
const COLLECTOR_TOKEN: &str = "otlp-s3cret-token";

/// One exported span with the resource it came from.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    service_version: Option<String>,
    name: String,
    kind: i32,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    status: i32,
    attributes: Vec<KeyValue>,
}

impl Exported {
    fn attribute(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .map(text)
    }
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn collector() -> MockServer {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "application/x-protobuf"),
        )
        .mount(&collector)
        .await;
    collector
}

/// Every span the collector received, decoded.
async fn exported(collector: &MockServer) -> Vec<Exported> {
    let mut spans = Vec::new();
    for request in collector.received_requests().await.unwrap_or_default() {
        assert_eq!(
            request.headers.get("content-type").unwrap(),
            "application/x-protobuf"
        );
        let export = ExportTraceServiceRequest::decode(request.body.as_slice())
            .expect("an OTLP/HTTP protobuf body");
        for resource_spans in export.resource_spans {
            let resource = resource_spans.resource.unwrap_or_default();
            let resource_attribute = |key: &str| {
                resource
                    .attributes
                    .iter()
                    .find(|kv| kv.key == key)
                    .and_then(|kv| kv.value.as_ref())
                    .map(text)
            };
            let service = resource_attribute("service.name").unwrap_or_default();
            let service_version = resource_attribute("service.version");
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(Exported {
                        service: service.clone(),
                        service_version: service_version.clone(),
                        name: span.name,
                        kind: span.kind,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        status: span.status.map_or(0, |s| s.code),
                        attributes: span.attributes,
                    });
                }
            }
        }
    }
    spans
}

fn otel_env(collector: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.uri()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("authorization=Bearer {COLLECTOR_TOKEN}"),
        ),
        ("OTEL_SERVICE_NAME", "stockd-under-test".to_owned()),
        // Export every 100 ms instead of every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("STOCKD_LOG", "info".to_owned()),
    ]
}

#[tokio::test]
async fn requests_upstream_calls_and_notification_sends_are_exported_in_the_callers_trace() {
    let collector = collector().await;
    let receiver = accepting_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let env = otel_env(&collector);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(dir.path(), &env).await;
    let client = reqwest::Client::new();

    let daily = client
        .get(format!("{}/v1/stocks/MSFT/daily?days=5", server.base))
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(daily.status(), 200);
    let unknown = client
        .get(format!("{}/v1/stocks/ZZZZ/daily", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let user = User::register(&server, "traced@example.com").await;
    set_up_alerts(&user, &receiver).await;
    wait_for(
        Duration::from_secs(60),
        "a notification_send span",
        || async {
            exported(&collector)
                .await
                .iter()
                .any(|s| s.name == "notification_send")
        },
    )
    .await;

    let spans = exported(&collector).await;
    let daily = spans
        .iter()
        .find(|s| s.name == "GET /v1/stocks/{symbol}/daily" && s.trace_id == TRACE_ID)
        .unwrap_or_else(|| panic!("no server span in the caller's trace: {spans:#?}"));
    assert_eq!(daily.parent_span_id, PARENT_SPAN_ID);
    assert_eq!(daily.kind, SpanKind::Server as i32);
    assert_eq!(daily.service, "stockd-under-test");
    assert_eq!(
        daily.service_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        daily.attribute("http.route").as_deref(),
        Some("/v1/stocks/{symbol}/daily")
    );
    assert_eq!(
        daily.attribute("http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(
        daily.attribute("url.path").as_deref(),
        Some("/v1/stocks/MSFT/daily")
    );

    // The provider call made for that request is its child, in the same trace.
    let upstream = spans
        .iter()
        .find(|s| s.name == "upstream_call" && s.parent_span_id == daily.span_id)
        .unwrap_or_else(|| panic!("no upstream span under the request: {spans:#?}"));
    assert_eq!(upstream.trace_id, TRACE_ID);
    assert_eq!(upstream.kind, SpanKind::Client as i32);
    assert_eq!(upstream.attribute("provider").as_deref(), Some("sample"));
    assert_eq!(upstream.attribute("outcome").as_deref(), Some("ok"));

    // A 4xx is the client's error, not the server's: no error status on the span.
    let not_found = spans
        .iter()
        .find(|s| {
            s.name == "GET /v1/stocks/{symbol}/daily"
                && s.attribute("http.response.status_code").as_deref() == Some("404")
        })
        .unwrap_or_else(|| panic!("no span for the 404: {spans:#?}"));
    assert_ne!(not_found.status, StatusCode::Error as i32);
    assert_ne!(
        not_found.trace_id, TRACE_ID,
        "a request without traceparent starts its own trace"
    );

    let sent = spans
        .iter()
        .find(|s| s.name == "notification_send")
        .unwrap();
    assert_eq!(sent.attribute("channel").as_deref(), Some("webhook"));
    assert_eq!(sent.attribute("outcome").as_deref(), Some("delivered"));
    assert_eq!(sent.kind, SpanKind::Client as i32);

    // The collector got the exporter's credentials; the log never shows them.
    let requests = collector.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| {
        r.headers.get("authorization").map(|v| v.to_str().unwrap())
            == Some(&format!("Bearer {COLLECTOR_TOKEN}"))
    }));
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("exporting traces over OTLP"), "{log}");
    assert!(!log.contains(COLLECTOR_TOKEN), "{log}");
}

#[tokio::test]
async fn a_backfill_exports_its_job_spans_before_the_command_exits() {
    let collector = collector().await;
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args([
            "ingest",
            "--symbols",
            "MSFT",
            "--from",
            "2012-01-01",
            "--to",
            "2012-03-31",
            "--quiet",
        ])
        .env("STOCKD_DATA_DIR", dir.path())
        .env_remove("STOCKD_DATABASE_URL")
        .env_remove("APIKEY")
        .env_remove("STOCKD_ALPHAVANTAGE_API_KEY")
        .envs(otel_env(&collector))
        // Only the shutdown flush can deliver them: no scheduled export within the run.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let spans = exported(&collector).await;
    let job = spans
        .iter()
        .find(|s| s.name == "ingest_job")
        .unwrap_or_else(|| panic!("no ingest_job span: {spans:#?}"));
    assert_eq!(job.attribute("kind").as_deref(), Some("backfill"));
    assert_eq!(job.attribute("outcome").as_deref(), Some("succeeded"));
    assert!(
        spans
            .iter()
            .any(|s| s.name == "upstream_call" && s.trace_id == job.trace_id),
        "the job's provider calls belong to its trace: {spans:#?}"
    );
}

#[test]
fn trace_export_settings_stockd_cannot_honour_stop_it_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .env("STOCKD_DATA_DIR", dir.path())
        .env_remove("STOCKD_DATABASE_URL")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc") && stderr.contains("4318"),
        "{stderr}"
    );
}
