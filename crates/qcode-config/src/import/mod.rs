//! `qcode import qwen|claude`: a user's Qwen Code or Claude Code setup, mapped onto qcode's.
//!
//! [`plan`] reads the other tool's user files — never writing to them — and compares each
//! thing it could bring over with what `$QCODE_HOME` already has; [`apply`] writes the plan
//! (settings through [`SettingsFile`]'s typed setters, files atomically, 0600 in 0700
//! directories). Planning reads every input first, so a malformed file is an error naming it
//! (and the line) before anything is written.
//!
//! - Qwen Code: `~/.qwen/settings.json` (the nested v2 shape and the flat legacy keys),
//!   `commands/` (Markdown and TOML), `skills/`, `agents/` and the global context files
//!   (`QWEN.md`, …).
//! - Claude Code: `~/.claude/settings.json` (`model`, `permissions`, `hooks`, …), the
//!   user-scope `mcpServers` of `~/.claude.json`, `commands/`, `skills/`, `agents/` and
//!   `CLAUDE.md` (copied, and added to `context.fileName`).
//!
//! Each [`Item`] is taken (new), the same as what qcode has, in conflict (different; written
//! only with `force`) or skipped with the reason. Secrets are never copied: a settings value
//! under a secret-looking key is skipped, and a secret-looking `env` or header value of an MCP
//! server becomes a `${VAR}` reference with a note naming the variable (see [`Note`]). No
//! value of a skipped secret appears in a plan.

mod claude;
mod files;
mod mcp;
mod qwen;
mod rules;
mod settings_map;

use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind};
use serde_json::Value;

use crate::{ConfigError, Paths, SettingsFile};

pub use files::FileCopy;

/// Which tool to import from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Qwen,
    Claude,
}

impl Tool {
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Qwen => "Qwen Code",
            Self::Claude => "Claude Code",
        }
    }
}

/// What [`plan`] needs besides the paths.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub tool: Tool,
    pub paths: &'a Paths,
    /// The hook event names qcode runs (`qcode_extensions::hooks::HookEvent`); other events are
    /// skipped.
    pub hook_events: &'a [&'a str],
}

/// One settings change, applied through the matching typed [`SettingsFile`] setter.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingWrite {
    ModelName(String),
    ApprovalMode(ApprovalMode),
    /// The whole new list (what qcode had, plus the imported names).
    ContextFileNames(Vec<String>),
    /// The whole new list (what qcode had, plus the imported entries).
    AllowedTools(Vec<String>),
    MaxSessionTurns(u32),
    ChatRecording(bool),
    CleanupPeriodDays(u32),
    UsageStatistics(bool),
    SelectedAuth(AuthKind),
    BaseUrl(String),
    McpServer {
        name: String,
        entry: Value,
    },
    HooksEvent {
        event: String,
        groups: Value,
    },
    DisableAllHooks(bool),
}

/// What applying an item writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Setting(SettingWrite),
    /// Files under `$QCODE_HOME` (a command, an agent, a skill's folder, a context file).
    Files(Vec<FileCopy>),
}

/// Where an item stands against what qcode already has.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// qcode has nothing there: written.
    New(Change),
    /// qcode has something different there: written only with `force`.
    Conflict(Change),
    /// qcode already has exactly this.
    Same,
    /// Not imported, and why.
    Skipped(String),
}

/// A note on an item that the user must act on: which variable to set for a secret that was
/// replaced by a reference. Never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(pub String);

/// One thing found in the other tool's files.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What it is, for the listing (`model.name = "…"`, `MCP server github (stdio)`,
    /// `command /git:commit`); never a secret value.
    pub label: String,
    pub status: Status,
    pub notes: Vec<Note>,
}

impl Item {
    fn new(label: impl Into<String>, status: Status) -> Self {
        Self {
            label: label.into(),
            status,
            notes: Vec::new(),
        }
    }

    fn skipped(label: impl Into<String>, why: impl Into<String>) -> Self {
        Self::new(label, Status::Skipped(why.into()))
    }
}

/// Everything an import would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub tool: Tool,
    /// The files and folders read (those that exist).
    pub sources: Vec<PathBuf>,
    /// `$QCODE_HOME`.
    pub target: PathBuf,
    pub items: Vec<Item>,
}

impl Plan {
    /// How many items would be written (new ones, and conflicts when `force`).
    pub fn writes(&self, force: bool) -> usize {
        self.items
            .iter()
            .filter(|i| match i.status {
                Status::New(_) => true,
                Status::Conflict(_) => force,
                Status::Same | Status::Skipped(_) => false,
            })
            .count()
    }
}

/// Reads the other tool's files and compares them with `$QCODE_HOME` (see the module docs).
/// Nothing is written. An input settings file that is not valid JSON (comments allowed) is
/// an error naming the file and the line.
pub fn plan(input: &PlanInput<'_>) -> Result<Plan, ConfigError> {
    let paths = input.paths;
    let current = crate::settings::read_settings_file(&paths.user_settings())?
        .unwrap_or_else(|| Value::Object(Default::default()));
    let mut cx = settings_map::Context::new(&current, input.hook_events);
    let mut sources = Vec::new();
    let (dir, settings_files): (PathBuf, Vec<PathBuf>) = match input.tool {
        Tool::Qwen => (
            paths.qwen_dir.clone(),
            vec![paths.qwen_dir.join("settings.json")],
        ),
        Tool::Claude => {
            let dir = paths.home.join(".claude");
            (
                dir.clone(),
                vec![dir.join("settings.json"), paths.home.join(".claude.json")],
            )
        }
    };
    // Every input is parsed before anything is compared, so a broken one stops the import.
    let mut parsed = Vec::new();
    for file in &settings_files {
        if let Some(value) = crate::settings::read_settings_file(file)? {
            sources.push(file.clone());
            parsed.push((file.clone(), value));
        }
    }
    for (file, value) in &parsed {
        match (input.tool, file.file_name().and_then(|n| n.to_str())) {
            (Tool::Claude, Some(".claude.json")) => claude::claude_json(value, &mut cx),
            (Tool::Claude, _) => claude::claude_settings(value, &mut cx),
            (Tool::Qwen, _) => qwen::qwen_settings(value, &mut cx),
        }
    }
    if input.tool == Tool::Claude {
        cx.add_context_name("CLAUDE.md");
    }
    let context_files = cx.context_files(input.tool);
    let mut items = cx.finish();
    for sub in ["commands", "skills", "agents"] {
        if dir.join(sub).is_dir() {
            sources.push(dir.join(sub));
        }
    }
    items.extend(files::plan_files(&dir, &paths.qcode_home, &context_files));
    let dot_env = dir.join(".env");
    if dot_env.exists() {
        items.push(Item::skipped(
            shown_path(&dot_env, &paths.home),
            "not copied: it may hold keys; put the variables you need in ~/.qcode/.env yourself",
        ));
    }
    Ok(Plan {
        tool: input.tool,
        sources,
        target: paths.qcode_home.clone(),
        items,
    })
}

/// Writes the plan's new items (and its conflicts when `force`); returns how many were
/// written. Stops at the first failure (what was written before it stays written; running
/// the import again continues where it stopped).
pub fn apply(plan: &Plan, settings: &SettingsFile, force: bool) -> Result<usize, ConfigError> {
    let mut written = 0;
    for item in &plan.items {
        let change = match &item.status {
            Status::New(change) => change,
            Status::Conflict(change) if force => change,
            Status::Conflict(_) | Status::Same | Status::Skipped(_) => continue,
        };
        match change {
            Change::Setting(write) => apply_setting(settings, write)?,
            Change::Files(copies) => {
                for copy in copies {
                    copy.write()?;
                }
            }
        }
        written += 1;
    }
    Ok(written)
}

fn apply_setting(file: &SettingsFile, write: &SettingWrite) -> Result<(), ConfigError> {
    match write {
        SettingWrite::ModelName(m) => file.set_model_name(m),
        SettingWrite::ApprovalMode(m) => file.set_approval_mode(*m),
        SettingWrite::ContextFileNames(names) => file.set_context_file_names(names),
        SettingWrite::AllowedTools(entries) => file.set_allowed_tools(entries),
        SettingWrite::MaxSessionTurns(n) => file.set_max_session_turns(*n),
        SettingWrite::ChatRecording(b) => file.set_chat_recording(*b),
        SettingWrite::CleanupPeriodDays(d) => file.set_cleanup_period_days(*d),
        SettingWrite::UsageStatistics(b) => file.set_usage_statistics(*b),
        SettingWrite::SelectedAuth(kind) => file.set_selected_auth(*kind),
        SettingWrite::BaseUrl(url) => file.set_base_url(url),
        SettingWrite::McpServer { name, entry } => file.set_mcp_server(name, entry.clone()),
        SettingWrite::HooksEvent { event, groups } => file.set_hooks_event(event, groups.clone()),
        SettingWrite::DisableAllHooks(b) => file.set_disable_all_hooks(*b),
    }
}

/// The value at `keys` in `root`, if any (and not `null`).
fn lookup<'a>(root: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .try_fold(root, |node, key| node.get(key))
        .filter(|v| !v.is_null())
}

/// `New` when qcode has nothing at `keys`, `Same` when it has `value`, else `Conflict`.
fn compare(current: &Value, keys: &[&str], value: &Value, change: Change) -> Status {
    match lookup(current, keys) {
        None => Status::New(change),
        Some(existing) if existing == value => Status::Same,
        Some(_) => Status::Conflict(change),
    }
}

/// A path for messages: `~/…` when under `home`.
pub fn shown_path(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) if !home.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &[&str] = &["PreToolUse", "Stop"];

    fn setup(qwen_settings: &str, qcode_settings: Option<&str>) -> (tempfile::TempDir, Paths) {
        let t = tempfile::tempdir().unwrap();
        let paths = Paths::new(t.path().to_path_buf(), None);
        std::fs::create_dir_all(&paths.qwen_dir).unwrap();
        std::fs::write(paths.qwen_dir.join("settings.json"), qwen_settings).unwrap();
        if let Some(text) = qcode_settings {
            std::fs::create_dir_all(&paths.qcode_home).unwrap();
            std::fs::write(paths.user_settings(), text).unwrap();
        }
        (t, paths)
    }

    fn planned(paths: &Paths) -> Plan {
        plan(&PlanInput {
            tool: Tool::Qwen,
            paths,
            hook_events: EVENTS,
        })
        .unwrap()
    }

    fn status_of<'a>(plan: &'a Plan, label: &str) -> &'a Status {
        &plan
            .items
            .iter()
            .find(|i| i.label.starts_with(label))
            .unwrap_or_else(|| panic!("no item {label}: {:#?}", plan.items))
            .status
    }

    #[test]
    fn the_nested_key_wins_over_the_legacy_one_and_says_so() {
        let (_t, paths) = setup(
            r#"{"model": {"name": "v2-model"}, "approvalMode": "plan", "tools": {"approvalMode": "yolo"}}"#,
            None,
        );
        let p = planned(&paths);
        assert!(matches!(
            status_of(&p, "model.name = \"v2-model\""),
            Status::New(_)
        ));
        assert!(matches!(
            status_of(&p, "tools.approvalMode = yolo"),
            Status::New(_)
        ));
        let skipped: Vec<_> = p
            .items
            .iter()
            .filter_map(|i| match &i.status {
                Status::Skipped(why) => Some(format!("{}: {why}", i.label)),
                _ => None,
            })
            .collect();
        assert_eq!(
            skipped,
            ["approvalMode: the nested `tools.approvalMode` in the same file wins"]
        );
    }

    #[test]
    fn hook_events_compare_whole_and_apply_writes_only_new_items_unless_forced() {
        let hooks = r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "a"}]}],
                                  "PreToolUse": [{"matcher": "edit", "hooks": [{"type": "command", "command": "b"}]}]}}"#;
        let mine = r#"{"hooks": {"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "mine"}]}]}}"#;
        let (_t, paths) = setup(hooks, Some(mine));
        let p = planned(&paths);
        assert!(matches!(status_of(&p, "hooks.Stop"), Status::Conflict(_)));
        assert!(matches!(status_of(&p, "hooks.PreToolUse"), Status::New(_)));
        let file = SettingsFile::user(&paths);
        assert_eq!(apply(&p, &file, false).unwrap(), 1);
        let v = crate::settings::read_settings_file(&paths.user_settings())
            .unwrap()
            .unwrap();
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "mine");
        assert_eq!(v["hooks"]["PreToolUse"][0]["hooks"][0]["command"], "b");
        let again = planned(&paths);
        assert!(matches!(
            status_of(&again, "hooks.PreToolUse"),
            Status::Same
        ));
        assert_eq!(apply(&again, &file, true).unwrap(), 1);
        let v = crate::settings::read_settings_file(&paths.user_settings())
            .unwrap()
            .unwrap();
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "a");
        assert_eq!(planned(&paths).writes(true), 0, "nothing left to write");
    }
}
