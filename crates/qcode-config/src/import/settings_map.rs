//! What the settings mappings of both tools share: the collected items compared with what
//! qcode has, the keys already handled, and the reasons for keys that do not map.

use qcode_protocol::ApprovalMode;
use qcode_protocol::env_names::is_secret_name;
use serde_json::Value;

use super::{Change, Item, SettingWrite, Status, Tool, compare, lookup};
use crate::resolve::DEFAULT_CONTEXT_FILES;

/// Where a secret goes instead.
pub(super) const SECRET_SKIP: &str = "looks like a secret (a key or token): not copied; keys belong in ~/.qcode/.env or `qcode auth`";

/// Collects the items of one import and what qcode already has.
pub(super) struct Context<'a> {
    current: &'a Value,
    hook_events: &'a [&'a str],
    items: Vec<Item>,
    /// Imported `tools.allowed` entries, in order, without duplicates.
    allowed: Vec<String>,
    /// Imported context file names.
    context_names: Vec<String>,
}

impl<'a> Context<'a> {
    pub(super) fn new(current: &'a Value, hook_events: &'a [&'a str]) -> Self {
        Self {
            current,
            hook_events,
            items: Vec::new(),
            allowed: Vec::new(),
            context_names: Vec::new(),
        }
    }

    pub(super) fn skip(&mut self, label: impl Into<String>, why: impl Into<String>) {
        self.items.push(Item::skipped(label, why));
    }

    pub(super) fn scalar(
        &mut self,
        keys: &[&str],
        shown: String,
        value: Value,
        write: SettingWrite,
    ) {
        let status = compare(self.current, keys, &value, Change::Setting(write));
        self.items
            .push(Item::new(format!("{} = {shown}", keys.join(".")), status));
    }

    pub(super) fn add_allowed(&mut self, entry: String) {
        if !self.allowed.contains(&entry) {
            self.allowed.push(entry);
        }
    }

    pub(super) fn add_context_name(&mut self, name: &str) {
        let name = name.trim();
        if !name.is_empty() && !self.context_names.iter().any(|n| n == name) {
            self.context_names.push(name.to_string());
        }
    }

    /// The context file names to look for in the other tool's directory.
    pub(super) fn context_files(&self, tool: Tool) -> Vec<String> {
        match (tool, self.context_names.is_empty()) {
            (Tool::Qwen, true) => DEFAULT_CONTEXT_FILES.map(String::from).to_vec(),
            (Tool::Qwen, false) | (Tool::Claude, _) => self.context_names.clone(),
        }
    }

    /// The items, with the list settings (allowed tools, context file names) merged into what
    /// qcode has: those only ever add entries, so they never conflict.
    pub(super) fn finish(mut self) -> Vec<Item> {
        if !self.allowed.is_empty() {
            let mut list = string_list(lookup(self.current, &["tools", "allowed"]));
            let before = list.len();
            let added: Vec<String> = self
                .allowed
                .iter()
                .filter(|e| !list.contains(e))
                .cloned()
                .collect();
            list.extend(added.iter().cloned());
            let label = format!("tools.allowed += {}", self.allowed.join(", "));
            let status = if list.len() == before {
                Status::Same
            } else {
                Status::New(Change::Setting(SettingWrite::AllowedTools(list)))
            };
            self.items.push(Item::new(label, status));
        }
        if !self.context_names.is_empty() {
            let mut list = match lookup(self.current, &["context", "fileName"]) {
                Some(Value::String(s)) => vec![s.clone()],
                Some(v @ Value::Array(_)) => string_list(Some(v)),
                _ => DEFAULT_CONTEXT_FILES.map(String::from).to_vec(),
            };
            let before = list.len();
            for name in &self.context_names {
                if !list.contains(name) {
                    list.push(name.clone());
                }
            }
            let label = format!("context.fileName += {}", self.context_names.join(", "));
            let status = if list.len() == before {
                Status::Same
            } else {
                Status::New(Change::Setting(SettingWrite::ContextFileNames(list)))
            };
            self.items.push(Item::new(label, status));
        }
        self.items
    }
}

pub(super) fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Dotted paths already handled in one file, so the walk over the rest reports only others.
#[derive(Default)]
pub(super) struct Consumed(Vec<Vec<String>>);

impl Consumed {
    pub(super) fn take<'v>(&mut self, root: &'v Value, keys: &[&str]) -> Option<&'v Value> {
        let v = lookup(root, keys)?;
        self.0.push(keys.iter().map(|k| k.to_string()).collect());
        Some(v)
    }

    fn covers(&self, path: &[String]) -> bool {
        self.0.iter().any(|c| path.starts_with(c))
    }
}

/// Every leaf of `root` not consumed, as (dotted path, value).
pub(super) fn leftovers(root: &Value, consumed: &Consumed) -> Vec<(String, Value)> {
    fn walk(
        v: &Value,
        path: &mut Vec<String>,
        consumed: &Consumed,
        out: &mut Vec<(String, Value)>,
    ) {
        if consumed.covers(path) {
            return;
        }
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, child) in map {
                    path.push(k.clone());
                    walk(child, path, consumed, out);
                    path.pop();
                }
            }
            _ if path.is_empty() => {}
            _ => out.push((path.join("."), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), consumed, &mut out);
    out
}

/// Why a key that does not map is not imported.
pub(super) fn reason_for(tool: Tool, dotted: &str, value: &Value) -> String {
    let leaf = dotted.rsplit('.').next().unwrap_or(dotted);
    if value.is_string() && is_secret_name(leaf) {
        return SECRET_SKIP.to_string();
    }
    let known: &[(&str, &str)] = match tool {
        Tool::Qwen => &[
            ("$schema", "not a setting"),
            (
                "ui",
                "qcode's interface settings differ (ui.theme: auto, dark or light)",
            ),
            (
                "theme",
                "qcode's themes are auto, dark and light (ui.theme)",
            ),
            (
                "telemetry",
                "qcode's usage statistics are its own (`qcode privacy`)",
            ),
            (
                "general.checkpointing",
                "qcode always keeps file checkpoints (/rewind)",
            ),
            (
                "checkpointing",
                "qcode always keeps file checkpoints (/rewind)",
            ),
            ("tools.sandbox", "qcode has no sandbox setting"),
            ("sandbox", "qcode has no sandbox setting"),
            (
                "mcp",
                "qcode has no MCP allow or exclude lists (use each server's includeTools / excludeTools)",
            ),
        ],
        Tool::Claude => &[
            ("$schema", "not a setting"),
            (
                "permissions.deny",
                "qcode has no deny list (tools not allowed ask first)",
            ),
            (
                "permissions.ask",
                "qcode asks for every tool that is not allowed",
            ),
            (
                "permissions.additionalDirectories",
                "qcode's workspace is the working directory",
            ),
            (
                "apiKeyHelper",
                "qcode runs no key helper; keys belong in ~/.qcode/.env or `qcode auth`",
            ),
            ("statusLine", "qcode's status line is not configurable"),
            (
                "theme",
                "qcode's themes are auto, dark and light (ui.theme)",
            ),
            ("includeCoAuthoredBy", "qcode writes no commits itself"),
        ],
    };
    for (prefix, why) in known {
        if dotted == *prefix || dotted.starts_with(&format!("{prefix}.")) {
            return (*why).to_string();
        }
    }
    "qcode has no equivalent setting".to_string()
}

pub(super) fn report_leftovers(
    tool: Tool,
    root: &Value,
    consumed: &Consumed,
    cx: &mut Context<'_>,
) {
    for (dotted, value) in leftovers(root, consumed) {
        let why = reason_for(tool, &dotted, &value);
        cx.skip(dotted, why);
    }
}

pub(super) fn string_value(cx: &mut Context<'_>, dotted: &str, v: &Value) -> Option<String> {
    match v.as_str().map(str::trim) {
        Some(s) if !s.is_empty() => Some(s.to_string()),
        _ => {
            cx.skip(dotted, "expected a non-empty string");
            None
        }
    }
}

pub(super) fn model(cx: &mut Context<'_>, dotted: &str, v: &Value) {
    if let Some(m) = string_value(cx, dotted, v) {
        cx.scalar(
            &["model", "name"],
            format!("{m:?}"),
            m.clone().into(),
            SettingWrite::ModelName(m),
        );
    }
}

pub(super) fn approval_mode(
    cx: &mut Context<'_>,
    dotted: &str,
    mode: Option<ApprovalMode>,
    raw: &Value,
) {
    match mode {
        Some(mode) => cx.scalar(
            &["tools", "approvalMode"],
            mode.as_str().to_string(),
            mode.as_str().into(),
            SettingWrite::ApprovalMode(mode),
        ),
        None => cx.skip(
            dotted,
            format!("{raw} is not an approval mode qcode knows (plan, default, auto-edit, yolo)"),
        ),
    }
}

pub(super) fn positive_u32(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

pub(super) fn hooks(tool: Tool, cx: &mut Context<'_>, v: &Value) {
    let Some(events) = v.as_object() else {
        cx.skip("hooks", "expected an object of events");
        return;
    };
    for (event, groups) in events {
        let label = format!("hooks.{event}");
        if !cx.hook_events.contains(&event.as_str()) {
            cx.skip(
                label,
                format!(
                    "qcode has no `{event}` hook event ({})",
                    cx.hook_events.join(", ")
                ),
            );
            continue;
        }
        match super::rules::hook_groups(tool, groups) {
            Ok(converted) => {
                let label = format!(
                    "{label} ({} command{})",
                    converted.commands,
                    if converted.commands == 1 { "" } else { "s" }
                );
                let status = compare(
                    cx.current,
                    &["hooks", event],
                    &converted.groups,
                    Change::Setting(SettingWrite::HooksEvent {
                        event: event.clone(),
                        groups: converted.groups.clone(),
                    }),
                );
                let mut item = Item::new(label, status);
                item.notes = converted.notes;
                cx.items.push(item);
                for (what, why) in converted.dropped {
                    cx.skip(format!("hooks.{event} {what}"), why);
                }
            }
            Err(why) => cx.skip(label, why),
        }
    }
}

pub(super) fn mcp_servers(tool: Tool, cx: &mut Context<'_>, v: &Value) {
    let Some(servers) = v.as_object() else {
        cx.skip("mcpServers", "expected an object of named servers");
        return;
    };
    for (name, entry) in servers {
        let shown = format!("MCP server {name}");
        match super::mcp::convert(tool, name, entry) {
            Ok(server) => {
                let status = compare(
                    cx.current,
                    &["mcpServers", name],
                    &server.entry,
                    Change::Setting(SettingWrite::McpServer {
                        name: name.clone(),
                        entry: server.entry.clone(),
                    }),
                );
                let mut item = Item::new(format!("{shown} ({})", server.transport), status);
                item.notes = server.notes;
                cx.items.push(item);
            }
            Err(why) => cx.skip(shown, why),
        }
    }
}

/// The v2 key's value, else the legacy key's; both are consumed, and a legacy key the v2 one
/// overrides is reported as such.
pub(super) fn pick<'v>(
    root: &'v Value,
    used: &mut Consumed,
    cx: &mut Context<'_>,
    v2: &[&str],
    legacy: &str,
) -> Option<(String, &'v Value)> {
    let nested = used.take(root, v2);
    let flat = used.take(root, &[legacy]);
    match (nested, flat) {
        (Some(v), Some(_)) => {
            cx.skip(
                legacy,
                format!("the nested `{}` in the same file wins", v2.join(".")),
            );
            Some((v2.join("."), v))
        }
        (Some(v), None) => Some((v2.join("."), v)),
        (None, Some(v)) => Some((legacy.to_string(), v)),
        (None, None) => None,
    }
}

pub(super) fn disable_all_hooks(root: &Value, used: &mut Consumed, cx: &mut Context<'_>) {
    if let Some(v) = used.take(root, &["disableAllHooks"]) {
        match v.as_bool() {
            Some(b) => cx.scalar(
                &["disableAllHooks"],
                b.to_string(),
                b.into(),
                SettingWrite::DisableAllHooks(b),
            ),
            None => cx.skip("disableAllHooks", "expected true or false"),
        }
    }
}
