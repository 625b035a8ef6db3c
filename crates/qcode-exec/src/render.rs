//! Rendering a headless run in one of the three output formats.

use std::io::{ErrorKind as IoErrorKind, Write};
use std::time::{Duration, Instant};

use qcode_protocol::{
    DecisionSource, EngineHandle, ErrorKind, Event, Op, ReviewDecision, ToolStatus, TurnOutcome,
    Usage,
};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::exit::{ExitCode, exit_code_for};

/// `-o/--output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    StreamJson,
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            "stream-json" | "stream_json" => Some(Self::StreamJson),
            _ => None,
        }
    }
}

/// The version of the `json` and `stream-json` output (see `docs/headless.md`): fields and
/// event types may be added within a version; a removal or a rename bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// The final record of a run (the `json` output, and the last line of `stream-json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    pub result: String,
    pub is_error: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    pub exit_code: i32,
    /// Token usage of the run; `null` when the server reported none (never a made-up 0).
    pub usage: Option<Usage>,
    pub duration_ms: u64,
    pub model: String,
    /// The recorded session (`qcode --resume ID` continues it); `null` when not recorded.
    pub session_id: Option<String>,
    /// Model requests made (one per tool round).
    pub num_requests: u32,
    pub tool_calls: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Where a run writes: the answer (stdout) and diagnostics (stderr).
pub struct Output<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// A terminal gets a final newline after the answer, and only text and colour (escape
    /// sequences from the model are dropped, see [`crate::sanitize`]); a pipe gets the answer
    /// exactly.
    pub stdout_is_tty: bool,
    /// Diagnostics on a terminal are filtered the same way.
    pub stderr_is_tty: bool,
}

struct State {
    format: OutputFormat,
    summary: RunSummary,
    /// Whether the last text written to stdout ended with a newline.
    at_line_start: bool,
    wrote_text: bool,
    /// stdout is gone (e.g. `| head -c 100`): stop writing, stop the run quietly.
    stdout_closed: bool,
    stdout_is_tty: bool,
    /// Set when stdout is a terminal: model text passes through it.
    stdout_filter: Option<crate::sanitize::TerminalFilter>,
    stderr_is_tty: bool,
    stdout_error: Option<String>,
    /// Whether a `stream-json` line was written (the first one carries the schema version).
    wrote_line: bool,
}

/// The first `stream-json` line: the event with the schema version added.
#[derive(Serialize)]
struct Versioned<'a> {
    #[serde(flatten)]
    event: &'a Event,
    schema_version: u32,
}

/// Runs `prompt` and renders events until the turn completes; returns the exit code.
/// What asks a headless run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C (SIGINT): the first interrupts the turn, a second stops waiting.
    Interrupt,
    /// SIGTERM: interrupt at once (the shell tool's process groups are killed), write the
    /// result, exit 143.
    Terminate,
    /// SIGHUP: the same, exit 129.
    HangUp,
}

/// `interrupts` yields once per signal (see [`Stop`]).
pub async fn run(
    engine: &mut EngineHandle,
    prompt: String,
    format: OutputFormat,
    io: Output<'_>,
    interrupts: &mut UnboundedReceiver<Stop>,
) -> i32 {
    let Output {
        out,
        err,
        stdout_is_tty,
        stderr_is_tty,
    } = io;
    let EngineHandle { ops, events } = engine;
    let start = Instant::now();
    let mut st = State {
        format,
        summary: RunSummary {
            kind: "result",
            schema_version: SCHEMA_VERSION,
            result: String::new(),
            is_error: false,
            error: None,
            exit_code: 0,
            usage: None,
            duration_ms: 0,
            model: String::new(),
            session_id: None,
            num_requests: 0,
            tool_calls: 0,
        },
        at_line_start: true,
        wrote_text: false,
        stdout_closed: false,
        stdout_is_tty,
        stdout_filter: stdout_is_tty.then(crate::sanitize::TerminalFilter::new),
        stderr_is_tty,
        stdout_error: None,
        wrote_line: false,
    };
    let _ = ops.send(Op::UserTurn { text: prompt });
    let mut interrupted = 0u32;
    let mut signal: Option<Stop> = None;
    let mut outcome: Option<TurnOutcome> = None;
    // After SIGTERM / SIGHUP the engine gets this long to cancel and report; then we go.
    let mut deadline: Option<tokio::time::Instant> = None;
    while outcome.is_none() {
        let grace = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            ev = events.recv() => ev,
            Some(stop) = interrupts.recv() => {
                match stop {
                    Stop::Interrupt => {
                        interrupted += 1;
                        if interrupted >= 2 {
                            outcome = Some(TurnOutcome::Interrupted);
                            break;
                        }
                        let _ = writeln!(err, "\ninterrupted; stopping (press Ctrl-C again to quit now)");
                    }
                    Stop::Terminate | Stop::HangUp => {
                        signal.get_or_insert(stop);
                        deadline.get_or_insert(tokio::time::Instant::now() + Duration::from_secs(2));
                    }
                }
                let _ = ops.send(Op::Interrupt);
                continue;
            }
            () = grace => {
                outcome = Some(TurnOutcome::Interrupted);
                break;
            }
        };
        let Some(event) = event else {
            st.fail(
                ErrorKind::Internal,
                "the engine stopped unexpectedly".into(),
                None,
            );
            outcome = Some(TurnOutcome::Failed);
            break;
        };
        if let Event::TurnComplete { outcome: o, .. } = &event {
            outcome = Some(*o);
        }
        handle(&mut st, &event, out, err);
        // Coalesce: flush only when no further event is waiting.
        while outcome.is_none() {
            match events.try_recv() {
                Ok(next) => {
                    if let Event::TurnComplete { outcome: o, .. } = &next {
                        outcome = Some(*o);
                    }
                    handle(&mut st, &next, out, err);
                }
                Err(_) => break,
            }
        }
        st.flush(out);
        if st.stdout_closed && outcome.is_none() {
            let _ = ops.send(Op::Interrupt);
            outcome = Some(TurnOutcome::Completed);
        }
    }
    let outcome = outcome.unwrap_or(TurnOutcome::Failed);
    let code = match outcome {
        TurnOutcome::Completed if st.stdout_error.is_some() => ExitCode::General,
        TurnOutcome::Completed => ExitCode::Ok,
        TurnOutcome::Interrupted => {
            let (message, code) = match signal {
                Some(Stop::Terminate) => ("terminated by SIGTERM", ExitCode::Terminated),
                Some(Stop::HangUp) => {
                    ("ended by SIGHUP (the terminal went away)", ExitCode::HangUp)
                }
                Some(Stop::Interrupt) | None => ("interrupted by the user", ExitCode::Interrupted),
            };
            if st.summary.error.is_none() || signal.is_some() {
                st.summary.error = Some(ErrorInfo {
                    kind: ErrorKind::Interrupted,
                    message: message.into(),
                    hint: None,
                });
            }
            st.summary.is_error = true;
            code
        }
        TurnOutcome::TurnLimit => {
            st.summary.is_error = true;
            ExitCode::TurnLimit
        }
        TurnOutcome::Failed => {
            st.summary.is_error = true;
            st.summary
                .error
                .as_ref()
                .map(|e| exit_code_for(e.kind))
                .unwrap_or(ExitCode::General)
        }
    };
    st.summary.exit_code = code.code();
    st.summary.duration_ms = start.elapsed().as_millis() as u64;
    finish(&mut st, out);
    if let Some(e) = &st.stdout_error {
        let _ = writeln!(
            err,
            "error: cannot write the answer to standard output: {e}"
        );
        let _ = writeln!(
            err,
            "hint: check free disk space or where the output is redirected"
        );
    }
    // Ask the engine to stop; don't wait long (it may be mid-request).
    let _ = ops.send(Op::Shutdown);
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while let Some(ev) = events.recv().await {
            if matches!(ev, Event::ShutdownComplete) {
                break;
            }
        }
    })
    .await;
    code.code()
}

impl State {
    /// A diagnostic line as it may be shown on stderr.
    fn clean<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        if self.stderr_is_tty {
            std::borrow::Cow::Owned(crate::sanitize::for_terminal(line))
        } else {
            std::borrow::Cow::Borrowed(line)
        }
    }

    fn write_out(&mut self, out: &mut dyn Write, bytes: &[u8]) {
        if self.stdout_closed {
            return;
        }
        if let Err(e) = out.write_all(bytes) {
            self.note_stdout_error(&e);
        }
    }

    fn flush(&mut self, out: &mut dyn Write) {
        if !self.stdout_closed
            && let Err(e) = out.flush()
        {
            self.note_stdout_error(&e);
        }
    }

    /// A closed pipe (`| head`) is the reader saying "enough": stop quietly. Any other write
    /// error (full disk) also stops output, and is reported once on stderr by the caller.
    fn note_stdout_error(&mut self, e: &std::io::Error) {
        self.stdout_closed = true;
        if e.kind() != IoErrorKind::BrokenPipe {
            self.stdout_error = Some(e.to_string());
        }
    }

    fn fail(&mut self, kind: ErrorKind, message: String, hint: Option<String>) {
        self.summary.is_error = true;
        self.summary.error = Some(ErrorInfo {
            kind,
            message,
            hint,
        });
    }

    fn json_line(&mut self, out: &mut dyn Write, value: &impl Serialize) {
        self.wrote_line = true;
        match serde_json::to_vec(value) {
            Ok(mut line) => {
                line.push(b'\n');
                self.write_out(out, &line);
            }
            Err(_) => self.write_out(
                out,
                b"{\"type\":\"error\",\"message\":\"unserialisable event\"}\n",
            ),
        }
    }
}

fn handle(st: &mut State, event: &Event, out: &mut dyn Write, err: &mut dyn Write) {
    if st.format == OutputFormat::StreamJson {
        if st.wrote_line {
            st.json_line(out, event);
        } else {
            let first = Versioned {
                event,
                schema_version: SCHEMA_VERSION,
            };
            st.json_line(out, &first);
        }
    }
    let text_mode = st.format == OutputFormat::Text;
    match event {
        Event::SessionConfigured {
            model, session_id, ..
        } => {
            st.summary.model = model.clone();
            st.summary.session_id = session_id.clone();
        }
        Event::RequestStarted { .. } => {
            st.summary.num_requests += 1;
            if !st.summary.result.is_empty() && !st.summary.result.ends_with('\n') {
                st.summary.result.push('\n');
            }
            // A new reply after tool calls starts on its own line.
            if text_mode && st.wrote_text && !st.at_line_start {
                st.write_out(out, b"\n");
                st.at_line_start = true;
            }
        }
        Event::TextDelta { text } => {
            st.summary.result.push_str(text);
            if text_mode && !text.is_empty() {
                let shown = match st.stdout_filter.as_mut() {
                    Some(f) => std::borrow::Cow::Owned(f.push(text)),
                    None => std::borrow::Cow::Borrowed(text.as_str()),
                };
                if !shown.is_empty() {
                    st.at_line_start = shown.ends_with('\n');
                    st.wrote_text = true;
                    st.write_out(out, shown.as_bytes());
                }
            }
        }
        Event::ToolCallBegin { summary, .. } => {
            st.summary.tool_calls += 1;
            if text_mode {
                let _ = writeln!(err, "● {}", st.clean(summary));
            }
        }
        Event::ToolCallEnd {
            name,
            status,
            output,
            ..
        } => {
            if text_mode {
                let _ = match status {
                    ToolStatus::Success => Ok(()),
                    ToolStatus::Error => writeln!(
                        err,
                        "  ✗ {} failed: {}",
                        st.clean(name),
                        st.clean(first_line(output))
                    ),
                    ToolStatus::Denied => writeln!(
                        err,
                        "  ✗ {} denied: {}",
                        st.clean(name),
                        st.clean(first_line(output))
                    ),
                    ToolStatus::Cancelled => writeln!(err, "  ✗ {} cancelled", st.clean(name)),
                };
            }
        }
        Event::ApprovalDecided {
            decision: ReviewDecision::Deny { .. },
            source: DecisionSource::Headless,
            tool,
            ..
        } => {
            if text_mode {
                let _ = writeln!(
                    err,
                    "  {tool} needs approval, which a non-interactive run cannot give; pre-approve with --allowed-tools {tool} or --approval-mode"
                );
            }
        }
        Event::Retry {
            attempt,
            max_attempts,
            delay_ms,
            reason,
        } => {
            let notice = qcode_protocol::retry_notice(reason, *attempt, *max_attempts, *delay_ms);
            let _ = writeln!(err, "{}", st.clean(&notice));
        }
        Event::Warning { message } => {
            let _ = writeln!(err, "warning: {}", st.clean(message));
        }
        Event::Hook {
            hook_event,
            command,
            scope,
            status,
            message,
        } => {
            if text_mode {
                let tail = message
                    .as_deref()
                    .map(|m| format!(": {}", first_line(m)))
                    .unwrap_or_default();
                let _ = writeln!(
                    err,
                    "  hook {hook_event} ({scope}) `{}`: {status}{}",
                    st.clean(command),
                    st.clean(&tail)
                );
            }
        }
        Event::Error {
            kind,
            message,
            hint,
        } => {
            // Every format says it on stderr too (stream-json and json also carry it in
            // their output), so a script's log shows why a run failed.
            if !st.at_line_start && st.wrote_text && text_mode {
                st.write_out(out, b"\n");
                st.at_line_start = true;
            }
            let _ = writeln!(err, "error: {}", st.clean(message));
            if let Some(h) = hint {
                let _ = writeln!(err, "hint: {}", st.clean(h));
            }
            st.fail(*kind, message.clone(), hint.clone());
        }
        Event::Usage { total, .. } => st.summary.usage = Some(*total),
        Event::SubagentStarted {
            agent_id,
            subagent_type,
            description,
            ..
        } => {
            if text_mode {
                let _ = writeln!(
                    err,
                    "  ↳ subagent {} ({}) started: {}",
                    st.clean(agent_id),
                    st.clean(subagent_type),
                    st.clean(description)
                );
            }
        }
        Event::SubagentFinished {
            agent_id,
            status,
            usage,
            duration_ms,
            ..
        } => {
            // Already in the session's total; the next `Usage` event's total carries it too
            // (an assignment, so nothing is counted twice).
            st.summary
                .usage
                .get_or_insert_with(Default::default)
                .add(usage);
            if text_mode {
                let _ = writeln!(
                    err,
                    "  ↳ subagent {} {status} ({} tokens, {:.1} s)",
                    st.clean(agent_id),
                    usage.total_tokens,
                    *duration_ms as f64 / 1000.0
                );
            }
        }
        Event::TurnStarted { .. }
        | Event::ReasoningDelta { .. }
        | Event::ResponseComplete { .. }
        | Event::ToolOutputDelta { .. }
        | Event::ToolProgress { .. }
        | Event::Subagent { .. }
        | Event::ApprovalRequest { .. }
        | Event::ApprovalDecided { .. }
        | Event::TodoUpdate { .. }
        | Event::TurnComplete { .. }
        | Event::HistoryAppended { .. }
        | Event::Compacted { .. }
        | Event::HistoryCleared
        | Event::SystemPromptUpdated
        | Event::ShutdownComplete => {}
    }
}

fn finish(st: &mut State, out: &mut dyn Write) {
    match st.format {
        OutputFormat::Text => {
            if st.wrote_text && !st.at_line_start && st.stdout_is_tty {
                st.write_out(out, b"\n");
            }
        }
        OutputFormat::Json => {
            let summary = st.summary.clone();
            match serde_json::to_vec_pretty(&summary) {
                Ok(mut v) => {
                    v.push(b'\n');
                    st.write_out(out, &v);
                }
                Err(_) => st.write_out(
                    out,
                    json!({"type": "result", "schema_version": SCHEMA_VERSION, "is_error": true})
                        .to_string()
                        .as_bytes(),
                ),
            }
        }
        OutputFormat::StreamJson => {
            let summary = st.summary.clone();
            st.json_line(out, &summary);
        }
    }
    st.flush(out);
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(200) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}
