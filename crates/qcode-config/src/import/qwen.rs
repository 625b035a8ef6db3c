//! Qwen Code's `~/.qwen/settings.json` (v2 nested and legacy flat keys) mapped onto qcode's
//! keys; every key that does not map is reported with the reason.

use qcode_protocol::{ApprovalMode, AuthKind};
use serde_json::Value;

use super::SettingWrite;
use super::Tool;
use super::settings_map::{
    Consumed, Context, SECRET_SKIP, approval_mode, disable_all_hooks, hooks, mcp_servers, model,
    pick, positive_u32, report_leftovers,
};

/// `~/.qwen/settings.json`: the v2 shape (`model.name`, `tools.approvalMode`, …) and the
/// legacy flat keys (`model` as a string, `approvalMode`, `contextFileName`, …). When a file
/// has both, the v2 key wins and the legacy one is not applied.
pub(super) fn qwen_settings(root: &Value, cx: &mut Context<'_>) {
    let tool = Tool::Qwen;
    let mut used = Consumed::default();
    // model: `model.name` (v2) or `model` as a string (legacy).
    if let Some(v) = used.take(root, &["model", "name"]) {
        model(cx, "model.name", v);
    } else if let Some(v @ Value::String(_)) = root.get("model") {
        used.take(root, &["model"]);
        model(cx, "model", v);
    }
    let turns = pick(
        root,
        &mut used,
        cx,
        &["model", "maxSessionTurns"],
        "maxSessionTurns",
    );
    if let Some((_, v)) = turns {
        match positive_u32(v) {
            Some(n) if n > 0 => cx.scalar(
                &["model", "maxSessionTurns"],
                n.to_string(),
                n.into(),
                SettingWrite::MaxSessionTurns(n),
            ),
            // -1 is Qwen Code's "no limit", qcode's default.
            _ if v.as_i64().is_some_and(|n| n < 0) => {
                cx.skip("maxSessionTurns", "no limit is qcode's default")
            }
            _ => cx.skip("maxSessionTurns", "expected a positive whole number"),
        }
    }
    let mode = pick(
        root,
        &mut used,
        cx,
        &["tools", "approvalMode"],
        "approvalMode",
    );
    if let Some((dotted, v)) = mode {
        approval_mode(cx, &dotted, v.as_str().and_then(ApprovalMode::parse), v);
    }
    let names = pick(
        root,
        &mut used,
        cx,
        &["context", "fileName"],
        "contextFileName",
    );
    if let Some((_, v)) = names {
        match v {
            Value::String(s) => cx.add_context_name(s),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                for s in items.iter().filter_map(Value::as_str) {
                    cx.add_context_name(s);
                }
            }
            _ => cx.skip("context.fileName", "expected a name or a list of names"),
        }
    }
    let allowed = pick(root, &mut used, cx, &["tools", "allowed"], "allowedTools");
    if let Some((_, v)) = allowed {
        match v.as_array() {
            Some(items) => {
                for entry in items {
                    match entry.as_str().map(str::trim) {
                        Some(e) if !e.is_empty() && !super::mcp::has_secret(e) => {
                            cx.add_allowed(e.to_string());
                        }
                        Some(e) if !e.is_empty() => cx.skip("tools.allowed entry", SECRET_SKIP),
                        _ => cx.skip("tools.allowed entry", "expected a tool name"),
                    }
                }
            }
            None => cx.skip("tools.allowed", "expected a list of tool names"),
        }
    }
    let recording = pick(
        root,
        &mut used,
        cx,
        &["general", "chatRecording"],
        "chatRecording",
    );
    if let Some((_, v)) = recording {
        match v.as_bool() {
            Some(b) => cx.scalar(
                &["general", "chatRecording"],
                b.to_string(),
                b.into(),
                SettingWrite::ChatRecording(b),
            ),
            None => cx.skip("general.chatRecording", "expected true or false"),
        }
    }
    let stats = pick(
        root,
        &mut used,
        cx,
        &["privacy", "usageStatisticsEnabled"],
        "usageStatisticsEnabled",
    );
    if let Some((_, v)) = stats {
        match v.as_bool() {
            Some(b) => cx.scalar(
                &["privacy", "usageStatisticsEnabled"],
                b.to_string(),
                b.into(),
                SettingWrite::UsageStatistics(b),
            ),
            None => cx.skip("privacy.usageStatisticsEnabled", "expected true or false"),
        }
    }
    let auth = pick(
        root,
        &mut used,
        cx,
        &["security", "auth", "selectedType"],
        "selectedAuthType",
    );
    if let Some((_, v)) = auth {
        match v.as_str().and_then(AuthKind::parse) {
            Some(kind) => cx.scalar(
                &["security", "auth", "selectedType"],
                kind.as_str().to_string(),
                kind.as_str().into(),
                SettingWrite::SelectedAuth(kind),
            ),
            None => cx.skip(
                "security.auth.selectedType",
                "qcode signs in with qwen-oauth or openai (an OpenAI-compatible key) only",
            ),
        }
    }
    if let Some(v) = used.take(root, &["security", "auth", "baseUrl"]) {
        match v.as_str().map(str::trim) {
            Some(u) if url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https")) => {
                let shown = crate::resolve::redact_userinfo(u);
                if shown != u || super::mcp::has_secret(u) {
                    cx.skip("security.auth.baseUrl", SECRET_SKIP);
                } else {
                    cx.scalar(
                        &["security", "auth", "baseUrl"],
                        format!("{u:?}"),
                        u.into(),
                        SettingWrite::BaseUrl(u.to_string()),
                    );
                }
            }
            _ => cx.skip("security.auth.baseUrl", "expected an http(s):// URL"),
        }
    }
    if let Some(v) = used.take(root, &["mcpServers"]) {
        mcp_servers(tool, cx, v);
    }
    if let Some(v) = used.take(root, &["hooks"]) {
        hooks(tool, cx, v);
    }
    disable_all_hooks(root, &mut used, cx);
    report_leftovers(tool, root, &used, cx);
}
