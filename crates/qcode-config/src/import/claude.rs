//! Claude Code's `~/.claude/settings.json` and the user-scope MCP servers of `~/.claude.json`
//! mapped onto qcode's keys; every key that does not map is reported with the reason.

use qcode_protocol::ApprovalMode;
use qcode_protocol::env_names::is_secret_name;
use serde_json::Value;

use super::settings_map::{
    Consumed, Context, SECRET_SKIP, approval_mode, disable_all_hooks, hooks, mcp_servers, model,
    positive_u32, report_leftovers,
};
use super::{SettingWrite, Tool, lookup};

/// `~/.claude/settings.json`.
pub(super) fn claude_settings(root: &Value, cx: &mut Context<'_>) {
    let tool = Tool::Claude;
    let mut used = Consumed::default();
    if let Some(v) = used.take(root, &["model"]) {
        model(cx, "model", v);
    }
    if let Some(v) = used.take(root, &["permissions", "defaultMode"]) {
        let mode = match v.as_str() {
            Some("default") => Some(ApprovalMode::Default),
            Some("acceptEdits") => Some(ApprovalMode::AutoEdit),
            Some("plan") => Some(ApprovalMode::Plan),
            Some("bypassPermissions") => Some(ApprovalMode::Yolo),
            _ => None,
        };
        approval_mode(cx, "permissions.defaultMode", mode, v);
    }
    if let Some(v) = used.take(root, &["permissions", "allow"]) {
        match v.as_array() {
            Some(rules) => {
                for rule in rules {
                    let Some(rule) = rule.as_str() else {
                        cx.skip("permissions.allow entry", "expected a rule string");
                        continue;
                    };
                    if super::mcp::has_secret(rule) {
                        cx.skip("permissions.allow entry", SECRET_SKIP);
                        continue;
                    }
                    match super::rules::claude_permission(rule) {
                        Ok(entry) => cx.add_allowed(entry),
                        Err(why) => cx.skip(format!("permissions.allow {rule}"), why),
                    }
                }
            }
            None => cx.skip("permissions.allow", "expected a list of rules"),
        }
    }
    if let Some(v) = used.take(root, &["cleanupPeriodDays"]) {
        match positive_u32(v) {
            Some(d) => cx.scalar(
                &["general", "cleanupPeriodDays"],
                d.to_string(),
                d.into(),
                SettingWrite::CleanupPeriodDays(d),
            ),
            None => cx.skip("cleanupPeriodDays", "expected a number of days"),
        }
    }
    if let Some(v) = used.take(root, &["env"]) {
        match v.as_object() {
            Some(vars) => {
                for name in vars.keys() {
                    let why = if is_secret_name(name) {
                        SECRET_SKIP
                    } else {
                        "qcode takes no environment variables from settings; put it in ~/.qcode/.env if you need it"
                    };
                    cx.skip(format!("env {name}"), why);
                }
            }
            None => cx.skip("env", "expected an object of variables"),
        }
    }
    if let Some(v) = used.take(root, &["hooks"]) {
        hooks(tool, cx, v);
    }
    disable_all_hooks(root, &mut used, cx);
    report_leftovers(tool, root, &used, cx);
}

/// `~/.claude.json`: only its user-scope `mcpServers` are read (the rest is Claude Code's own
/// state; servers of single projects are not imported).
pub(super) fn claude_json(root: &Value, cx: &mut Context<'_>) {
    if let Some(v) = lookup(root, &["mcpServers"]) {
        mcp_servers(Tool::Claude, cx, v);
    }
    let project_servers = root
        .get("projects")
        .and_then(Value::as_object)
        .map(|p| {
            p.values()
                .filter_map(|proj| proj.get("mcpServers").and_then(Value::as_object))
                .map(|m| m.len())
                .sum::<usize>()
        })
        .unwrap_or(0);
    if project_servers > 0 {
        cx.skip(
            format!("~/.claude.json: {project_servers} project-scope MCP server(s)"),
            "only user-scope servers are imported (add a project's with `qcode mcp add --scope project`)",
        );
    }
}
