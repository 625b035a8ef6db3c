//! Export: markdown for reading, one JSON object for programs, the JSON lines as stored; and
//! `show`'s plain text.

use std::fmt::Write as _;

use qcode_protocol::ToolCall;
use serde::Serialize;

use crate::SessionError;
use crate::reader::LoadedSession;
use crate::record::{Header, Record, RecordBody};

/// `qcode sessions export --format …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(Self::Markdown),
            "json" => Some(Self::Json),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// Tool results longer than this are shortened in markdown and text.
const RESULT_CHARS: usize = 600;
/// Tool-call arguments longer than this are shortened in the one-line summary.
const ARGS_CHARS: usize = 120;

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let rest = s.chars().count() - max;
    format!("{cut}… ({rest} more characters)")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A fence longer than any backtick run inside `s`.
fn fence(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn pretty_args(args: &str) -> String {
    serde_json::from_str::<serde_json::Value>(args)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| args.to_string())
}

#[derive(Serialize)]
struct JsonExport<'a> {
    header: &'a Header,
    messages: Vec<qcode_protocol::ChatMessage>,
    title: Option<String>,
    model: String,
    /// Each subagent's conversation, linked to its `task` call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subagents: Vec<SubagentExport>,
}

/// One subagent in the JSON export.
#[derive(Serialize)]
struct SubagentExport {
    agent_id: String,
    tool_call_id: String,
    subagent_type: String,
    description: String,
    /// `completed`, `failed`, `cancelled`, `limit`; `null` when the transcript has no end.
    status: Option<String>,
    messages: Vec<qcode_protocol::ChatMessage>,
}

fn subagents(session: &LoadedSession) -> Vec<SubagentExport> {
    let mut out: Vec<SubagentExport> = Vec::new();
    for r in &session.records {
        match &r.body {
            RecordBody::SubagentStart {
                agent_id,
                tool_call_id,
                subagent_type,
                description,
            } => out.push(SubagentExport {
                agent_id: agent_id.clone(),
                tool_call_id: tool_call_id.clone(),
                subagent_type: subagent_type.clone(),
                description: description.clone(),
                status: None,
                messages: Vec::new(),
            }),
            RecordBody::SubagentMessage { agent_id, message } => {
                if let Some(a) = out.iter_mut().rev().find(|a| a.agent_id == *agent_id) {
                    a.messages.push(message.clone());
                }
            }
            RecordBody::SubagentEnd {
                agent_id, status, ..
            } => {
                if let Some(a) = out.iter_mut().rev().find(|a| a.agent_id == *agent_id) {
                    a.status = Some(status.clone());
                }
            }
            _ => {}
        }
    }
    out
}

/// A subagent message as `qcode sessions show` and the markdown export print it: one line.
fn subagent_line(message: &qcode_protocol::ChatMessage) -> String {
    use qcode_protocol::Role;
    let mut line = match message.role {
        Role::User => format!("> {}", shorten(&one_line(&message.content), 200)),
        Role::Tool => format!("  {}", shorten(&one_line(&message.content), 200)),
        Role::Assistant | Role::System => shorten(&one_line(&message.content), 400),
    };
    for c in &message.tool_calls {
        if !line.is_empty() {
            line.push('\n');
        }
        line.push_str(&format!(
            "▸ {} {}",
            c.name,
            shorten(&one_line(&c.arguments), ARGS_CHARS)
        ));
    }
    line
}

/// The session in `format`.
pub fn export(session: &LoadedSession, format: ExportFormat) -> Result<String, SessionError> {
    match format {
        ExportFormat::Markdown => Ok(markdown(session)),
        ExportFormat::Json => {
            let state = session.state();
            let mut s = serde_json::to_string_pretty(&JsonExport {
                header: &session.header,
                messages: session.history(),
                title: state.title,
                model: state.model,
                subagents: subagents(session),
            })?;
            s.push('\n');
            Ok(s)
        }
        ExportFormat::Jsonl => {
            let mut out = String::new();
            let header = Record {
                seq: 0,
                ts: session.header_ts.clone(),
                body: RecordBody::Header(session.header.clone()),
            };
            for record in std::iter::once(&header).chain(&session.records) {
                out.push_str(&serde_json::to_string(record)?);
                out.push('\n');
            }
            Ok(out)
        }
    }
}

fn results_by_id(session: &LoadedSession) -> std::collections::HashMap<&str, &str> {
    session
        .records
        .iter()
        .filter_map(|r| match &r.body {
            RecordBody::ToolResult {
                tool_call_id,
                content,
            } => Some((tool_call_id.as_str(), content.as_str())),
            _ => None,
        })
        .collect()
}

fn markdown_call(out: &mut String, call: &ToolCall, result: Option<&str>) {
    let args = pretty_args(&call.arguments);
    let _ = writeln!(
        out,
        "<details>\n<summary>Tool call: {} {}</summary>\n",
        html_escape(&call.name),
        html_escape(&shorten(&one_line(&call.arguments), ARGS_CHARS))
    );
    let f = fence(&args);
    let _ = writeln!(out, "{f}json\n{args}\n{f}\n");
    let result = result.unwrap_or(crate::INTERRUPTED_TOOL_RESULT);
    let short = shorten(result, RESULT_CHARS);
    let f = fence(&short);
    let _ = writeln!(out, "Result:\n\n{f}\n{short}\n{f}\n</details>\n");
}

fn markdown(session: &LoadedSession) -> String {
    let state = session.state();
    let h = &session.header;
    let title = state
        .title
        .clone()
        .or_else(|| session.user_prompts().first().map(|p| one_line(p)))
        .unwrap_or_else(|| "qcode session".to_string());
    let results = results_by_id(session);
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", shorten(&title, 80));
    let _ = writeln!(out, "- Session: `{}`", h.id);
    let _ = writeln!(out, "- Started: {}", h.created_at);
    let _ = writeln!(out, "- Directory: `{}`", h.cwd);
    if let Some(b) = &h.git_branch {
        let _ = writeln!(out, "- Branch: `{b}`");
    }
    let _ = writeln!(out, "- Model: {}\n", state.model);
    let mut turn = 0;
    for record in &session.records {
        match &record.body {
            RecordBody::User { content } => {
                turn += 1;
                let _ = writeln!(out, "## Turn {turn}\n\n**User**\n\n{content}\n");
            }
            RecordBody::Assistant {
                content,
                tool_calls,
                ..
            } => {
                if !content.trim().is_empty() {
                    let _ = writeln!(out, "**Assistant**\n\n{content}\n");
                }
                for call in tool_calls {
                    markdown_call(&mut out, call, results.get(call.id.as_str()).copied());
                }
            }
            RecordBody::Compression { replaced, .. } => {
                let _ = writeln!(
                    out,
                    "_The conversation was compressed here ({replaced} earlier messages summarised)._\n"
                );
            }
            RecordBody::Model { model } => {
                let _ = writeln!(out, "_Model switched to {model}._\n");
            }
            RecordBody::Mode { mode } => {
                let _ = writeln!(out, "_Approval mode switched to {}._\n", mode.as_str());
            }
            RecordBody::Auth { auth } => {
                let _ = writeln!(out, "_Authentication switched to {}._\n", auth.as_str());
            }
            RecordBody::Hook {
                event,
                command,
                scope,
                status,
                message,
            } => {
                let _ = write!(
                    out,
                    "_Hook {} ({scope}) `{}`: {}",
                    html_escape(event),
                    command.replace('`', "'"),
                    html_escape(status)
                );
                match message {
                    Some(m) => {
                        let _ = writeln!(out, " — {}._\n", html_escape(m));
                    }
                    None => {
                        let _ = writeln!(out, "._\n");
                    }
                }
            }
            RecordBody::SubagentStart {
                agent_id,
                subagent_type,
                description,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "> **Subagent** `{agent_id}` ({}): {}\n>",
                    html_escape(subagent_type),
                    html_escape(description)
                );
            }
            RecordBody::SubagentMessage { message, .. } => {
                let line = subagent_line(message);
                if !line.trim().is_empty() {
                    for l in line.lines() {
                        let _ = writeln!(out, "> {}", html_escape(l));
                    }
                    let _ = writeln!(out, ">");
                }
            }
            RecordBody::SubagentEnd {
                agent_id, status, ..
            } => {
                let _ = writeln!(out, "> _Subagent `{agent_id}` {status}._\n");
            }
            RecordBody::Header(_)
            | RecordBody::ToolResult { .. }
            | RecordBody::Usage { .. }
            | RecordBody::Title { .. } => {}
        }
    }
    out
}

/// `qcode sessions show`: the conversation as plain text (tool results shortened).
pub fn show(session: &LoadedSession) -> String {
    let state = session.state();
    let h = &session.header;
    let mut out = String::new();
    let _ = writeln!(out, "session {}  {}  {}", h.id, h.created_at, state.model);
    if let Some(t) = &state.title {
        let _ = writeln!(out, "title: {t}");
    }
    let _ = writeln!(out, "cwd: {}", h.cwd);
    let mut turn = 0;
    for record in &session.records {
        match &record.body {
            RecordBody::User { content } => {
                turn += 1;
                let _ = writeln!(
                    out,
                    "\n── turn {turn} ──\n> {}",
                    content.replace('\n', "\n> ")
                );
            }
            RecordBody::Assistant {
                content,
                tool_calls,
                ..
            } => {
                if !content.trim().is_empty() {
                    let _ = writeln!(out, "\n{content}");
                }
                for c in tool_calls {
                    let _ = writeln!(
                        out,
                        "  ▸ {} {}",
                        c.name,
                        shorten(&one_line(&c.arguments), ARGS_CHARS)
                    );
                }
            }
            RecordBody::ToolResult { content, .. } => {
                let _ = writeln!(out, "    {}", shorten(&one_line(content), 200));
            }
            RecordBody::Compression { replaced, .. } => {
                let _ = writeln!(
                    out,
                    "\n[compressed: {replaced} earlier messages summarised]"
                );
            }
            RecordBody::Model { model } => {
                let _ = writeln!(out, "[model: {model}]");
            }
            RecordBody::Mode { mode } => {
                let _ = writeln!(out, "[approval mode: {}]", mode.as_str());
            }
            RecordBody::Auth { auth } => {
                let _ = writeln!(out, "[auth: {}]", auth.as_str());
            }
            RecordBody::Hook {
                event,
                command,
                scope,
                status,
                message,
            } => {
                let _ = write!(out, "  [hook {event} ({scope}) {command}: {status}");
                match message {
                    Some(m) => {
                        let _ = writeln!(out, " — {m}]");
                    }
                    None => {
                        let _ = writeln!(out, "]");
                    }
                }
            }
            RecordBody::SubagentStart {
                agent_id,
                subagent_type,
                description,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "    ┌ subagent {agent_id} ({subagent_type}): {description}"
                );
            }
            RecordBody::SubagentMessage { message, .. } => {
                let line = subagent_line(message);
                for l in line.lines().filter(|l| !l.trim().is_empty()) {
                    let _ = writeln!(out, "    │ {l}");
                }
            }
            RecordBody::SubagentEnd {
                agent_id,
                status,
                usage,
            } => {
                let _ = writeln!(
                    out,
                    "    └ subagent {agent_id} {status} ({} tokens)",
                    usage.total_tokens
                );
            }
            RecordBody::Header(_) | RecordBody::Usage { .. } | RecordBody::Title { .. } => {}
        }
    }
    out
}
