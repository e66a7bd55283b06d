//! Logging and tracing. Logs: JSON lines when not on a terminal (production, containers),
//! readable lines on a terminal, filtered by the `log` setting (`STOCKD_LOG`, env-filter
//! syntax). Traces: exported over OTLP when the standard `OTEL_EXPORTER_OTLP_*` variables
//! name a collector ([`otlp`]); without them no exporter, layer or thread exists and request
//! spans stay at DEBUG, so tracing costs nothing.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, TelemetrySection};

#[cfg(feature = "otlp")]
pub mod otlp;

/// What [`init`] installed that must be flushed before the process exits.
#[derive(Debug, Default)]
#[must_use = "call shutdown() before exiting so buffered spans reach the collector"]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    traces: Option<otlp::Exporter>,
}

impl Telemetry {
    /// Exports the spans still buffered (bounded by the exporter's timeout). Call it outside
    /// the async runtime: the exporter's thread is waited on.
    pub fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(traces) = self.traces {
            traces.shutdown();
        }
    }
}

/// Installs the global subscriber, and the OTLP trace exporter when the environment asks for
/// one. Safe to call once per process; later calls install nothing. Fails only on a trace
/// export setting stockd cannot honour, naming it.
pub fn init(config: &TelemetrySection) -> Result<Telemetry, String> {
    init_with_env(config, |name| std::env::var(name).ok())
}

fn init_with_env(
    config: &TelemetrySection,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Telemetry, String> {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|err| {
        eprintln!(
            "stockd: log filter '{}' is invalid ({err}); using 'info'",
            config.log
        );
        EnvFilter::new("info")
    });
    let json = match config.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    #[cfg(feature = "otlp")]
    if let Some(settings) = otlp::Settings::from_env(env)? {
        let (exporter, layer) = otlp::Exporter::start()?;
        // Each layer its own filter: the log level must not decide which spans are exported,
        // and the request spans built for export are not the log's business.
        let filter = match format!("{}=off", web::observe::EXPORT_TARGET).parse() {
            Ok(directive) => filter.add_directive(directive),
            Err(_) => filter,
        };
        let installed = tracing_subscriber::registry()
            .with(log_layer(json).with_filter(filter))
            .with(layer)
            .try_init();
        if installed.is_err() {
            exporter.shutdown();
            tracing::debug!("a tracing subscriber was already installed");
            return Ok(Telemetry::default());
        }
        web::observe::export_request_spans(true);
        tracing::info!(endpoint = %settings.endpoint_for_logs(), "exporting traces over OTLP");
        return Ok(Telemetry {
            traces: Some(exporter),
        });
    }
    #[cfg(not(feature = "otlp"))]
    if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
    {
        eprintln!("stockd: built without the `otlp` feature; OTEL_EXPORTER_OTLP_* is ignored");
    }
    // One global filter: spans below the log level are never built.
    if tracing_subscriber::registry()
        .with(filter)
        .with(log_layer(json))
        .try_init()
        .is_err()
    {
        tracing::debug!("a tracing subscriber was already installed");
    }
    Ok(Telemetry::default())
}

/// The log lines: JSON with the current span's fields, or readable text.
fn log_layer<S>(json: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().boxed()
    }
}
