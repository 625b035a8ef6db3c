//! Where usage statistics go: the OTLP/HTTP endpoints for logs and metrics.
//!
//! Precedence, per signal: `OTEL_EXPORTER_OTLP_{LOGS,METRICS}_ENDPOINT` (used as-is), then
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/logs`, `/v1/metrics`), then the settings key
//! `telemetry.otlpEndpoint` (a base URL, same rule), then `http://localhost:4318`.

use std::fmt;

use url::Url;

use crate::error::TelemetryError;

pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
pub const ENV_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub const ENV_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
pub const ENV_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";

/// The resolved OTLP/HTTP endpoints. `Debug` and [`EndpointConfig::description`] show them
/// without user info, query or fragment (which could hold credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    logs: Url,
    metrics: Url,
}

impl EndpointConfig {
    /// Resolves the endpoints from the settings value and the environment.
    pub fn resolve(
        settings_endpoint: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, TelemetryError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let settings = settings_endpoint.filter(|v| !v.trim().is_empty());
        let (base, base_origin) = match (var(ENV_ENDPOINT), settings) {
            (Some(env_base), _) => (env_base, ENV_ENDPOINT),
            (None, Some(setting)) => (setting.to_string(), "settings telemetry.otlpEndpoint"),
            (None, None) => (DEFAULT_ENDPOINT.to_string(), "the default"),
        };
        let logs = match var(ENV_LOGS_ENDPOINT) {
            Some(url) => parse_url(&url, ENV_LOGS_ENDPOINT)?,
            None => join_signal(&base, "v1/logs", base_origin)?,
        };
        let metrics = match var(ENV_METRICS_ENDPOINT) {
            Some(url) => parse_url(&url, ENV_METRICS_ENDPOINT)?,
            None => join_signal(&base, "v1/metrics", base_origin)?,
        };
        Ok(Self { logs, metrics })
    }

    /// Endpoints under one base URL (`<base>/v1/logs`, `<base>/v1/metrics`).
    pub fn from_base(base: &str) -> Result<Self, TelemetryError> {
        Ok(Self {
            logs: join_signal(base, "v1/logs", "the given base URL")?,
            metrics: join_signal(base, "v1/metrics", "the given base URL")?,
        })
    }

    pub fn logs_url(&self) -> &str {
        self.logs.as_str()
    }

    pub fn metrics_url(&self) -> &str {
        self.metrics.as_str()
    }

    /// A one-line, credential-free description for `/privacy` and status output.
    pub fn description(&self) -> String {
        format!(
            "OTLP/HTTP logs → {}, metrics → {}",
            redacted(&self.logs),
            redacted(&self.metrics)
        )
    }
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("logs", &redacted(&self.logs))
            .field("metrics", &redacted(&self.metrics))
            .finish()
    }
}

fn parse_url(raw: &str, origin: &'static str) -> Result<Url, TelemetryError> {
    let invalid = |reason: String| TelemetryError::InvalidEndpoint { origin, reason };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(invalid(format!("scheme `{other}` is not http or https"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host".into()));
    }
    Ok(url)
}

fn join_signal(base: &str, path: &str, origin: &'static str) -> Result<Url, TelemetryError> {
    let mut url = parse_url(base, origin)?;
    let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
    url.set_path(&joined);
    Ok(url)
}

fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn default_is_localhost_4318() {
        let ep = EndpointConfig::resolve(None, &env_of(&[])).unwrap();
        assert_eq!(ep.logs_url(), "http://localhost:4318/v1/logs");
        assert_eq!(ep.metrics_url(), "http://localhost:4318/v1/metrics");
    }

    #[test]
    fn settings_base_gets_signal_paths() {
        let ep =
            EndpointConfig::resolve(Some("https://otel.example.com/otlp/"), &env_of(&[])).unwrap();
        assert_eq!(ep.logs_url(), "https://otel.example.com/otlp/v1/logs");
        assert_eq!(ep.metrics_url(), "https://otel.example.com/otlp/v1/metrics");
    }

    #[test]
    fn env_overrides_settings_and_per_signal_is_used_as_is() {
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://metrics:9000/custom",
            ),
        ]);
        let ep = EndpointConfig::resolve(Some("http://ignored:1"), &env).unwrap();
        assert_eq!(ep.logs_url(), "http://collector:4318/v1/logs");
        assert_eq!(ep.metrics_url(), "http://metrics:9000/custom");
    }

    #[test]
    fn invalid_endpoints_are_errors_naming_their_origin() {
        let err = EndpointConfig::resolve(Some("ftp://x"), &env_of(&[])).unwrap_err();
        assert!(
            err.to_string().contains("settings telemetry.otlpEndpoint"),
            "{err}"
        );
        let err = EndpointConfig::resolve(
            None,
            &env_of(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "nope")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
            "{err}"
        );
    }

    #[test]
    fn description_hides_credentials() {
        let ep =
            EndpointConfig::from_base("https://user:secret@otel.example.com/?token=abc").unwrap();
        let shown = format!("{} {:?}", ep.description(), ep);
        assert!(
            !shown.contains("secret") && !shown.contains("abc") && !shown.contains("user"),
            "{shown}"
        );
        assert!(
            shown.contains("https://otel.example.com/v1/logs"),
            "{shown}"
        );
    }
}
