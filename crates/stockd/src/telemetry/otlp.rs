//! Trace export over OTLP/HTTP, configured only by the standard OpenTelemetry environment
//! variables (<https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>):
//!
//! - on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT`
//!   (`/v1/traces` appended) is set; off with `OTEL_SDK_DISABLED=true` or
//!   `OTEL_TRACES_EXPORTER=none`;
//! - `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` (e.g. an API key), `…_TIMEOUT`, `…_COMPRESSION`
//!   (`gzip`), `OTEL_SERVICE_NAME` (default `stockd`), `OTEL_RESOURCE_ATTRIBUTES`,
//!   `OTEL_TRACES_SAMPLER[_ARG]` and `OTEL_BSP_*` are read by the OpenTelemetry SDK itself.
//!
//! Only `http/protobuf` is spoken (the OTLP default; every collector listens for it on 4318):
//! gRPC would add tonic and HTTP/2 to every build for the same spans. Spans are batched and
//! sent from the SDK's own thread, so a slow or absent collector never blocks a request; a
//! full buffer drops spans rather than memory growing.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
const TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";

/// Every `OTEL_*` variable stockd (through the OpenTelemetry SDK it embeds) reads; a manifest
/// setting another is a mistake (`tests/k8s_env.rs`).
pub const ENVIRONMENT: &[&str] = &[
    SDK_DISABLED,
    TRACES_EXPORTER,
    ENDPOINT,
    TRACES_ENDPOINT,
    PROTOCOL,
    TRACES_PROTOCOL,
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
];

/// The one protocol stockd exports with.
const HTTP_PROTOBUF: &str = "http/protobuf";

/// Trace export as the environment asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The variable that named the collector and its value.
    endpoint_var: &'static str,
    endpoint: reqwest::Url,
}

impl Settings {
    /// `None` when no collector is named or export is switched off; an error naming the
    /// variable when a value cannot be honoured.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let set = |name: &str| {
            env(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        if set(SDK_DISABLED).is_some_and(|value| value.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        match set(TRACES_EXPORTER).as_deref() {
            None | Some("otlp") => {}
            Some("none") => return Ok(None),
            Some(other) => {
                return Err(format!(
                    "{TRACES_EXPORTER}={other}: stockd exports traces over OTLP (`otlp`) or not at all (`none`)"
                ));
            }
        }
        let Some((endpoint_var, endpoint)) = [TRACES_ENDPOINT, ENDPOINT]
            .into_iter()
            .find_map(|name| set(name).map(|value| (name, value)))
        else {
            return Ok(None);
        };
        let endpoint = reqwest::Url::parse(&endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| {
                format!(
                    "{endpoint_var} must be an http:// or https:// URL of an OTLP/HTTP collector, e.g. http://otel-collector:4318"
                )
            })?;
        if let Some((name, protocol)) = [TRACES_PROTOCOL, PROTOCOL]
            .into_iter()
            .find_map(|name| set(name).map(|value| (name, value)))
            && protocol != HTTP_PROTOBUF
        {
            return Err(format!(
                "{name}={protocol}: stockd sends OTLP over HTTP only ({HTTP_PROTOBUF}); point {endpoint_var} at the collector's OTLP/HTTP port (4318)"
            ));
        }
        Ok(Some(Self {
            endpoint_var,
            endpoint,
        }))
    }

    /// The collector's address for a log line: no credentials, query or fragment.
    pub fn endpoint_for_logs(&self) -> String {
        let url = &self.endpoint;
        let port = url
            .port()
            .map(|port| format!(":{port}"))
            .unwrap_or_default();
        format!(
            "{}://{}{port}{} (from {})",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path(),
            self.endpoint_var
        )
    }
}

/// The running exporter: the SDK's tracer provider with its batch thread.
#[derive(Debug)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Builds the exporter and the tracing layer that feeds it: spans at INFO and above from
    /// stockd and its libraries, without the database driver's statements or the SDK's own
    /// diagnostics.
    pub fn start<S>() -> Result<(Self, impl Layer<S>), String>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        // The exporter reads the endpoint, headers, timeout and compression from the same
        // variables `Settings::from_env` checked before this is called.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()
            .map_err(|err| format!("OTLP trace export: {err}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource())
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let tracer = provider.tracer("stockd");
        let spans = Targets::new()
            .with_default(Level::INFO)
            .with_target("sqlx", Level::WARN)
            .with_target("opentelemetry", tracing::level_filters::LevelFilter::OFF);
        // Only what a trace viewer needs: no per-span source location, target or thread
        // attributes, no busy/idle clock reads on every poll, and no OpenTelemetry context
        // switch on every enter (no other OpenTelemetry instrumentation runs in stockd). Each
        // was measurable per request in bench/tracing.sh.
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_target(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(spans);
        Ok((Self { provider }, layer))
    }

    /// Sends what is buffered and stops the export thread.
    pub fn shutdown(self) {
        if let Err(err) = self.provider.shutdown() {
            tracing::warn!(error = %err, "could not export the last spans");
        }
    }
}

/// `service.name` (`stockd` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names
/// it), `service.version` and `service.instance.id` (host and process, as in the ingest
/// worker names), over what the SDK detects from the environment.
fn resource() -> Resource {
    let service_name = opentelemetry::Key::from_static_str("service.name");
    let named = Resource::builder()
        .build()
        .get(&service_name)
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let builder = Resource::builder().with_attributes([
        KeyValue::new("service.version", crate::build_info::VERSION),
        KeyValue::new(
            "service.instance.id",
            format!("{}-{}", crate::ingesting::hostname(), std::process::id()),
        ),
    ]);
    if named {
        builder.build()
    } else {
        builder.with_service_name("stockd").build()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<Settings>, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Settings::from_env(|name| vars.get(name).cloned())
    }

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        assert_eq!(settings(&[]), Ok(None));
        assert_eq!(settings(&[(ENDPOINT, "  ")]), Ok(None));
        assert_eq!(
            settings(&[(ENDPOINT, "http://collector:4318"), (SDK_DISABLED, "TRUE")]),
            Ok(None)
        );
        assert_eq!(
            settings(&[
                (ENDPOINT, "http://collector:4318"),
                (TRACES_EXPORTER, "none")
            ]),
            Ok(None)
        );
    }

    #[test]
    fn the_traces_endpoint_wins_over_the_general_one() {
        let on = settings(&[
            (ENDPOINT, "http://general:4318"),
            (TRACES_ENDPOINT, "https://traces.example:443/custom"),
            (PROTOCOL, "http/protobuf"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(on.endpoint_var, TRACES_ENDPOINT);
        assert_eq!(on.endpoint.host_str(), Some("traces.example"));
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_by_name() {
        let grpc =
            settings(&[(ENDPOINT, "http://collector:4317"), (PROTOCOL, "grpc")]).unwrap_err();
        assert!(grpc.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), "{grpc}");
        assert!(grpc.contains("4318"), "{grpc}");
        let zipkin = settings(&[
            (ENDPOINT, "http://collector:4318"),
            (TRACES_EXPORTER, "zipkin"),
        ])
        .unwrap_err();
        assert!(zipkin.contains("OTEL_TRACES_EXPORTER=zipkin"), "{zipkin}");
        for bad in ["collector:4318", "ftp://collector", "not a url"] {
            let err = settings(&[(ENDPOINT, bad)]).unwrap_err();
            assert!(err.starts_with(ENDPOINT), "{bad}: {err}");
        }
    }

    #[test]
    fn the_logged_endpoint_carries_no_credentials() {
        let on = settings(&[(
            ENDPOINT,
            "https://user:s3cret@collector.example:4318/otlp?api_key=s3cret#frag",
        )])
        .unwrap()
        .unwrap();
        let logged = on.endpoint_for_logs();
        assert!(
            !logged.contains("s3cret") && !logged.contains("user"),
            "{logged}"
        );
        assert_eq!(
            logged,
            "https://collector.example:4318/otlp (from OTEL_EXPORTER_OTLP_ENDPOINT)"
        );
    }
}
