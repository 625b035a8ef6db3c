//! Tools that live outside qcode (MCP servers), behind the [`ExternalTools`] seam: the binary
//! implements it over `qcode-mcp`, the registry offers its tools next to the built-in ones and
//! runs their calls. This crate stays free of any MCP dependency.
//!
//! An external tool's permission class is [`crate::ToolKind::Mcp`]: it is never treated as
//! read-only (a server's `readOnlyHint` is its own claim, not something qcode can check).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qcode_protocol::ApprovalDetails;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::registry::{ToolProgress, ToolResult, ToolResultStatus};
use crate::textfile::truncate_at_char;

/// A boxed future, as the seam's async methods return it.
pub type ExternalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The most characters of an external tool's output the model receives (the same limit as
/// `read_file`'s output); longer output is cut with a note.
pub const MAX_EXTERNAL_OUTPUT_CHARS: usize = crate::tools::read_file::MAX_OUTPUT_CHARS;

/// One external tool as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalTool {
    /// The name the model calls (`mcp__<server>__<tool>`).
    pub name: String,
    /// The server it belongs to, for the approval dialog.
    pub server: String,
    /// The server's own name for the tool.
    pub tool: String,
    /// The key a whole server is allowed with (`mcp__<server>`).
    pub server_key: String,
    pub description: String,
    /// The JSON schema of its arguments (already cleaned for strict providers).
    pub parameters: Value,
    /// The server's configuration says its tools need no approval (`trust: true`).
    pub trusted: bool,
}

/// How an external call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalOutput {
    pub status: ToolResultStatus,
    pub text: String,
}

/// Tools provided from outside the process (implemented by the binary over `qcode-mcp`).
pub trait ExternalTools: Send + Sync {
    /// Called before each model request: waits (the first time, up to the discovery timeout)
    /// for tools still being discovered; returns warnings not reported before, one per server.
    fn discover(&self) -> ExternalFuture<'_, Vec<String>>;
    /// The tools offered now (a server's list may change between requests).
    fn tools(&self) -> Vec<ExternalTool>;
    /// Runs a call; cancelling `cancel` ends it at once (the server is told). Progress the
    /// tool reports goes to `progress` (which throttles it).
    fn call(
        &self,
        name: String,
        arguments: Value,
        cancel: CancellationToken,
        progress: ProgressSink,
    ) -> ExternalFuture<'_, ExternalOutput>;
}

/// The shortest time between two progress updates of one call that reach the front end: a
/// server may send thousands a second, a person reads a few.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// The most characters of a progress message shown.
const MAX_PROGRESS_MESSAGE_CHARS: usize = 200;

/// Where an external call reports its progress: forwards an update as
/// [`ToolProgress::Progress`] unless one was forwarded less than [`PROGRESS_INTERVAL`] ago
/// (the last update, `progress == total`, always goes through). Messages lose control
/// characters and are cut to one short line.
#[derive(Debug, Clone)]
pub struct ProgressSink {
    tx: UnboundedSender<ToolProgress>,
    last: Arc<Mutex<Option<Instant>>>,
}

impl ProgressSink {
    pub fn new(tx: UnboundedSender<ToolProgress>) -> Self {
        Self {
            tx,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// Reports `progress` (of `total`, when known) with an optional message; returns whether
    /// it was forwarded.
    pub fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) -> bool {
        self.report_at(Instant::now(), progress, total, message)
    }

    fn report_at(
        &self,
        now: Instant,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> bool {
        if !progress.is_finite() || total.is_some_and(|t| !t.is_finite()) {
            return false;
        }
        let finished = total.is_some_and(|t| progress >= t);
        let Ok(mut last) = self.last.lock() else {
            return false;
        };
        if !finished && last.is_some_and(|t| now.duration_since(t) < PROGRESS_INTERVAL) {
            return false;
        }
        *last = Some(now);
        let message = message
            .map(|m| {
                let line = printable(m.lines().next().unwrap_or("").trim());
                match line.char_indices().nth(MAX_PROGRESS_MESSAGE_CHARS) {
                    Some((i, _)) => format!("{}…", &line[..i]),
                    None => line,
                }
            })
            .filter(|m| !m.is_empty());
        self.tx
            .send(ToolProgress::Progress {
                progress,
                total,
                message,
            })
            .is_ok()
    }
}

/// A shared [`ExternalTools`], printable in `Debug` output.
#[derive(Clone)]
pub struct ExternalHandle(pub Arc<dyn ExternalTools>);

impl fmt::Debug for ExternalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalTools")
    }
}

/// What a prepared external call will do.
#[derive(Debug)]
pub(crate) struct Plan {
    pub handle: ExternalHandle,
    pub name: String,
    pub arguments: Value,
}

/// The approval dialog's text: server, tool and the arguments (pretty JSON, bounded).
pub(crate) fn details(tool: &ExternalTool, arguments: &Value) -> ApprovalDetails {
    let args = serde_json::to_string_pretty(arguments).unwrap_or_else(|_| arguments.to_string());
    let shown = truncate_at_char(&args, 2_000);
    let more = if shown.len() < args.len() {
        "\n…"
    } else {
        ""
    };
    ApprovalDetails::Other {
        summary: format!(
            "MCP tool `{}` of server `{}` with arguments:\n{shown}{more}",
            printable(&tool.tool),
            printable(&tool.server)
        ),
    }
}

/// A server-chosen name for a terminal: control characters (escape sequences) become `?`.
pub(crate) fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub(crate) async fn execute(
    plan: Plan,
    cancel: CancellationToken,
    progress: &UnboundedSender<ToolProgress>,
) -> ToolResult {
    let sink = ProgressSink::new(progress.clone());
    let out = plan
        .handle
        .0
        .call(plan.name, plan.arguments, cancel, sink)
        .await;
    let text = cap(out.text);
    match out.status {
        ToolResultStatus::Success => ToolResult::success(text),
        ToolResultStatus::Error => ToolResult::error(text),
        ToolResultStatus::Cancelled => ToolResult::cancelled(text),
    }
}

/// `text` cut to [`MAX_EXTERNAL_OUTPUT_CHARS`] with a note saying how much was left out.
pub(crate) fn cap(text: String) -> String {
    if text.len() <= MAX_EXTERNAL_OUTPUT_CHARS {
        return text;
    }
    let shown = truncate_at_char(&text, MAX_EXTERNAL_OUTPUT_CHARS);
    format!(
        "{shown}\n[output truncated: {} of {} bytes shown]",
        shown.len(),
        text.len()
    )
}

/// Removes the schema keywords strict providers reject (`$schema`, `$id`, `$comment`) at every
/// level, and makes sure the top level is an object schema.
pub fn clean_schema(schema: &Value) -> Value {
    fn walk(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "$schema" | "$id" | "$comment"))
                    .map(|(k, v)| (k.clone(), walk(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(walk).collect()),
            other => other.clone(),
        }
    }
    let mut out = walk(schema);
    if let Value::Object(map) = &mut out {
        map.entry("type").or_insert_with(|| Value::from("object"));
        if map.get("type").and_then(Value::as_str) == Some("object") {
            map.entry("properties")
                .or_insert_with(|| Value::Object(Default::default()));
        }
        out
    } else {
        serde_json::json!({"type": "object", "properties": {}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_cleaning_drops_rejected_keywords_at_every_level() {
        let raw = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"a": {"$comment": "x", "type": "string"},
                           "b": {"anyOf": [{"$id": "y", "type": "number"}]}},
            "required": ["a"]
        });
        let clean = clean_schema(&raw);
        assert_eq!(
            clean,
            json!({"type": "object",
                   "properties": {"a": {"type": "string"}, "b": {"anyOf": [{"type": "number"}]}},
                   "required": ["a"]})
        );
        assert_eq!(
            clean_schema(&json!({})),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            clean_schema(&json!(true)),
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn long_output_is_cut_with_a_note() {
        let long = "é".repeat(MAX_EXTERNAL_OUTPUT_CHARS);
        let out = cap(long.clone());
        assert!(out.len() < long.len());
        assert!(out.ends_with(&format!("of {} bytes shown]", long.len())));
        assert_eq!(cap("short".into()), "short");
    }

    #[test]
    fn approval_details_name_server_tool_and_arguments() {
        let tool = ExternalTool {
            name: "mcp__srv__echo".into(),
            server: "srv".into(),
            tool: "echo".into(),
            server_key: "mcp__srv".into(),
            description: String::new(),
            parameters: json!({}),
            trusted: false,
        };
        let ApprovalDetails::Other { summary } = details(&tool, &json!({"message": "hi"})) else {
            panic!("expected a summary");
        };
        assert!(summary.contains("`echo`") && summary.contains("`srv`"));
        assert!(summary.contains("\"message\": \"hi\""));
    }

    #[test]
    fn progress_is_throttled_but_the_last_update_always_passes() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = ProgressSink::new(tx);
        let t0 = Instant::now();
        assert!(sink.report_at(t0, 1.0, Some(10.0), Some("first\nsecond \u{1b}[2J")));
        // Within the interval: dropped, however many.
        for i in 2..50 {
            assert!(!sink.report_at(t0 + Duration::from_millis(i), 2.0, Some(10.0), None));
        }
        // The interval passed: forwarded.
        assert!(sink.report_at(t0 + PROGRESS_INTERVAL, 3.0, Some(10.0), None));
        // The final update, even right after.
        assert!(sink.report_at(t0 + PROGRESS_INTERVAL, 10.0, Some(10.0), Some("done")));
        // Garbage numbers never reach the front end.
        assert!(!sink.report_at(t0 + PROGRESS_INTERVAL * 9, f64::NAN, None, None));
        assert!(!sink.report_at(t0 + PROGRESS_INTERVAL * 9, 1.0, Some(f64::INFINITY), None));
        let got: Vec<ToolProgress> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            got,
            vec![
                ToolProgress::Progress {
                    progress: 1.0,
                    total: Some(10.0),
                    message: Some("first".into())
                },
                ToolProgress::Progress {
                    progress: 3.0,
                    total: Some(10.0),
                    message: None
                },
                ToolProgress::Progress {
                    progress: 10.0,
                    total: Some(10.0),
                    message: Some("done".into())
                },
            ]
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        ProgressSink::new(tx).report(1.0, None, Some("x\u{7}y"));
        assert_eq!(
            rx.try_recv().ok(),
            Some(ToolProgress::Progress {
                progress: 1.0,
                total: None,
                message: Some("x?y".into())
            })
        );
    }

    #[test]
    fn server_chosen_names_lose_control_characters() {
        assert_eq!(printable("ev\u{1b}[2Jil\n"), "ev?[2Jil?");
    }
}
