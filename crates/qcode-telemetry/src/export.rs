//! The OpenTelemetry pipeline: OTLP/HTTP (protobuf) log and metric exporters over a blocking
//! reqwest client, the SDK's batch log processor and periodic metric reader (both own their
//! threads; no tokio runtime needed), and the instruments fed from usage events.
//!
//! Everything here runs on the telemetry background thread; nothing is built when the user has
//! opted out.

use std::time::{Duration, SystemTime};

use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider};
use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol, RetryPolicy, WithExportConfig, WithHttpConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, SdkLogger, SdkLoggerProvider,
};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

use crate::endpoint::EndpointConfig;
use crate::event::{AttrValue, UsageEvent};

/// TCP (and TLS) connect timeout of one export.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Whole-request timeout of one export. Exports are never retried.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the batch log processor sends.
pub const LOG_BATCH_DELAY: Duration = Duration::from_secs(1);
/// How often metrics are sent (they are also sent at shutdown).
pub const METRIC_INTERVAL: Duration = Duration::from_secs(60);
/// Log records the SDK keeps before dropping new ones.
pub const LOG_QUEUE_SIZE: usize = 512;
/// Instrumentation scope name.
pub const SCOPE: &str = "qcode";

/// Metric names (see `docs/telemetry.md`).
pub mod metric_names {
    pub const SESSIONS: &str = "qcode.sessions";
    pub const MODEL_REQUESTS: &str = "qcode.model.requests";
    pub const MODEL_RETRIES: &str = "qcode.model.retries";
    pub const TOOL_CALLS: &str = "qcode.tool.calls";
    pub const COMMANDS: &str = "qcode.commands";
    pub const ERRORS: &str = "qcode.errors";
    pub const CRASHES: &str = "qcode.crashes";
    pub const MODEL_LATENCY: &str = "qcode.model.latency";
    pub const MODEL_TTFT: &str = "qcode.model.ttft";
    pub const MODEL_TOKENS: &str = "qcode.model.tokens";
    pub const TOOL_DURATION: &str = "qcode.tool.duration";
    pub const SESSION_DURATION: &str = "qcode.session.duration";
    pub const STARTUP_DURATION: &str = "qcode.startup.duration";
}

const MS_BOUNDS: &[f64] = &[
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 30_000.0, 60_000.0,
    120_000.0, 300_000.0,
];
const TOKEN_BOUNDS: &[f64] = &[
    100.0,
    500.0,
    1_000.0,
    5_000.0,
    10_000.0,
    50_000.0,
    100_000.0,
    200_000.0,
    500_000.0,
    1_000_000.0,
];

/// Makes sure rustls has a process-wide crypto provider (ring, like the qcode binary) before a
/// reqwest client is built; reqwest's `rustls-no-provider` build panics otherwise.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: then a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn http_client() -> Result<reqwest::blocking::Client, String> {
    ensure_crypto_provider();
    reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(EXPORT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}

struct Instruments {
    sessions: Counter<u64>,
    requests: Counter<u64>,
    retries: Counter<u64>,
    tool_calls: Counter<u64>,
    commands: Counter<u64>,
    errors: Counter<u64>,
    crashes: Counter<u64>,
    latency: Histogram<u64>,
    ttft: Histogram<u64>,
    tokens: Histogram<u64>,
    tool_duration: Histogram<u64>,
    session_duration: Histogram<u64>,
    startup: Histogram<u64>,
}

impl Instruments {
    fn new(meter: &Meter) -> Self {
        use metric_names as n;
        let counter = |name: &'static str, unit: &'static str, description: &'static str| {
            meter
                .u64_counter(name)
                .with_unit(unit)
                .with_description(description)
                .build()
        };
        let histogram =
            |name: &'static str, unit: &'static str, description: &'static str, bounds: &[f64]| {
                meter
                    .u64_histogram(name)
                    .with_unit(unit)
                    .with_description(description)
                    .with_boundaries(bounds.to_vec())
                    .build()
            };
        Self {
            sessions: counter(n::SESSIONS, "{session}", "Sessions started"),
            requests: counter(n::MODEL_REQUESTS, "{request}", "Model requests"),
            retries: counter(n::MODEL_RETRIES, "{retry}", "Retries of model requests"),
            tool_calls: counter(n::TOOL_CALLS, "{call}", "Tool calls"),
            commands: counter(n::COMMANDS, "{command}", "Slash commands run"),
            errors: counter(n::ERRORS, "{error}", "Errors, by kind"),
            crashes: counter(n::CRASHES, "{crash}", "Panics"),
            latency: histogram(n::MODEL_LATENCY, "ms", "Model request latency", MS_BOUNDS),
            ttft: histogram(n::MODEL_TTFT, "ms", "Time to first token", MS_BOUNDS),
            tokens: histogram(
                n::MODEL_TOKENS,
                "{token}",
                "Tokens per request",
                TOKEN_BOUNDS,
            ),
            tool_duration: histogram(n::TOOL_DURATION, "ms", "Tool call duration", MS_BOUNDS),
            session_duration: histogram(n::SESSION_DURATION, "ms", "Session length", MS_BOUNDS),
            startup: histogram(n::STARTUP_DURATION, "ms", "Time to first prompt", MS_BOUNDS),
        }
    }

    fn record(&self, event: &UsageEvent) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match event {
            UsageEvent::SessionStart(info) => {
                self.sessions.add(
                    1,
                    &[
                        KeyValue::new("mode", info.run_mode.as_str()),
                        KeyValue::new("auth", info.auth.as_str()),
                    ],
                );
                self.startup.record(ms(info.startup), &[]);
            }
            UsageEvent::SessionEnd(end) => self.session_duration.record(ms(end.duration), &[]),
            UsageEvent::SlashCommand(command) => {
                self.commands
                    .add(1, &[KeyValue::new("command", command.as_str())]);
            }
            UsageEvent::ToolCall(call) => {
                let tool = KeyValue::new("tool", call.tool.as_str());
                self.tool_calls.add(
                    1,
                    &[
                        tool.clone(),
                        KeyValue::new("decision", call.decision.as_str()),
                        KeyValue::new("success", call.success),
                    ],
                );
                self.tool_duration.record(ms(call.duration), &[tool]);
            }
            UsageEvent::ModelRequest(req) => {
                let model = KeyValue::new("model", req.model.as_str());
                let status = KeyValue::new("status_class", req.status.as_str());
                self.requests.add(1, &[model.clone(), status.clone()]);
                self.latency
                    .record(ms(req.latency), &[model.clone(), status]);
                if let Some(ttft) = req.time_to_first_token {
                    self.ttft.record(ms(ttft), std::slice::from_ref(&model));
                }
                if req.retries > 0 {
                    self.retries
                        .add(u64::from(req.retries), std::slice::from_ref(&model));
                }
                for (kind, count) in [
                    ("prompt", req.tokens.prompt),
                    ("completion", req.tokens.completion),
                    ("cached", req.tokens.cached),
                    ("reasoning", req.tokens.reasoning),
                ] {
                    self.tokens
                        .record(count, &[model.clone(), KeyValue::new("token.type", kind)]);
                }
            }
            UsageEvent::Error(kind) => self.errors.add(1, &[KeyValue::new("kind", kind.as_str())]),
            UsageEvent::Crash(_) => self.crashes.add(1, &[]),
        }
    }
}

fn any_value(value: &AttrValue) -> AnyValue {
    match value {
        AttrValue::Str(s) => AnyValue::from(*s),
        AttrValue::Int(n) => AnyValue::Int(*n),
        AttrValue::Bool(b) => AnyValue::Boolean(*b),
        AttrValue::Location(loc) => AnyValue::from(loc.to_string()),
    }
}

/// The built OpenTelemetry pipeline.
pub(crate) struct Pipeline {
    logger_provider: SdkLoggerProvider,
    meter_provider: SdkMeterProvider,
    logger: SdkLogger,
    instruments: Instruments,
}

impl Pipeline {
    pub(crate) fn build(
        endpoint: &EndpointConfig,
        resource_attrs: &[(&'static str, String)],
    ) -> Result<Self, String> {
        let client = http_client()?;
        let resource = Resource::builder_empty()
            .with_attributes(
                resource_attrs
                    .iter()
                    .map(|(k, v)| KeyValue::new(*k, v.clone())),
            )
            .build();

        let log_exporter = LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.logs_url())
            .with_timeout(EXPORT_TIMEOUT)
            .with_retry_policy(RetryPolicy::disabled())
            .with_http_client(client.clone())
            .build()
            .map_err(|e| format!("could not build the OTLP log exporter: {e}"))?;
        let metric_exporter = MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.metrics_url())
            .with_timeout(EXPORT_TIMEOUT)
            .with_retry_policy(RetryPolicy::disabled())
            .with_http_client(client)
            .build()
            .map_err(|e| format!("could not build the OTLP metric exporter: {e}"))?;

        let batch = BatchLogProcessor::builder(log_exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(LOG_QUEUE_SIZE)
                    .with_scheduled_delay(LOG_BATCH_DELAY)
                    .build(),
            )
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_log_processor(batch)
            .build();
        let reader = PeriodicReader::builder(metric_exporter)
            .with_interval(METRIC_INTERVAL)
            .build();
        let meter_provider = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(reader)
            .build();

        let logger = logger_provider.logger(SCOPE);
        let instruments = Instruments::new(&meter_provider.meter(SCOPE));
        Ok(Self {
            logger_provider,
            meter_provider,
            logger,
            instruments,
        })
    }

    /// One log record (non-blocking: the batch processor queues it) and the metric updates.
    pub(crate) fn emit(&self, event: &UsageEvent, at: SystemTime) {
        let mut record = self.logger.create_log_record();
        record.set_event_name(event.name());
        record.set_body(AnyValue::from(event.name()));
        record.set_severity_number(Severity::Info);
        record.set_severity_text("INFO");
        record.set_timestamp(at);
        record.set_observed_timestamp(at);
        for (key, value) in event.attributes() {
            record.add_attribute(key, any_value(&value));
        }
        self.logger.emit(record);
        self.instruments.record(event);
    }

    /// Sends what is buffered now (blocks this thread up to the export timeout).
    pub(crate) fn flush(&self) {
        let _ = self.logger_provider.force_flush();
        let _ = self.meter_provider.force_flush();
    }

    /// Flushes and stops both providers, in parallel, so one slow signal does not starve the
    /// other of the caller's time budget.
    pub(crate) fn shutdown(self) {
        let meter_provider = self.meter_provider.clone();
        let metrics = std::thread::Builder::new()
            .name("qcode-telemetry-metrics-shutdown".into())
            .spawn(move || {
                let _ = meter_provider.shutdown();
            });
        let _ = self
            .logger_provider
            .shutdown_with_timeout(EXPORT_TIMEOUT * 2);
        if let Ok(handle) = metrics {
            let _ = handle.join();
        }
    }
}
