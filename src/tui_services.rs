//! The binary's side of the TUI's slash commands ([`qcode_tui::Services`]): model listing with
//! the active credentials, Qwen OAuth sign-in and checked API-key saving (qcode-auth's flows,
//! forwarded), usage-statistics consent (qcode-telemetry's texts; the setting is written here),
//! the memory files (`qcode_core::setup`), the tool list, and the session commands (`/resume`'s
//! list, `/export`, `/rename` through the recorder's handle, `/rewind`'s points; over
//! qcode-session), `/agents` (qcode-extensions' agent definitions), custom commands, MCP prompts
//! and `/skills` (`tui_services/commands.rs`). Glue over qcode-auth, qcode-config,
//! qcode-telemetry, qcode-tools, qcode-session, qcode-extensions and qcode-core; the TUI reaches
//! none of them itself.

use std::sync::{Mutex, PoisonError};

use futures::future::BoxFuture;
use qcode_auth::{
    ApiKeyLogin, BrowserLaunch, KeyCheck, QrDisplay, QwenLoginOptions, Resolver, auth_paths,
};
use qcode_config::{ConfigSnapshot, EnvLayer};
use qcode_protocol::{AuthKind, ErrorKind, LoginEvent, Problem, ProviderPreset};
use qcode_tui::{
    ApiKeyInput, CommandExpansion, CommandRequest, CustomCommands, PrivacyStatus, RefreshedPrompt,
    RewindEntry, Services, SessionEntry, SkillList, ToolInfo, UsageStatistics,
};

use crate::recorder_glue::RecorderHandle;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The built-in tools for `/tools` ([`qcode_tools::ToolRegistry::summaries`]).
pub fn tool_infos() -> Vec<ToolInfo> {
    qcode_tools::ToolRegistry::builtin()
        .summaries()
        .into_iter()
        .map(|t| ToolInfo {
            name: t.name.into(),
            permission: t.permission.into(),
            description: t.description,
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// [`Services`] over the session's configuration snapshot.
pub struct TuiServices {
    snapshot: ConfigSnapshot,
    env: EnvLayer,
    telemetry: qcode_telemetry::Telemetry,
    resolver: Resolver,
    /// `privacy.usageStatisticsEnabled` as last written by this session.
    usage_setting: Mutex<Option<bool>>,
    /// The recorder of this session (`None`: recording is off or failed to start).
    recording: Option<RecorderHandle>,
    /// The session's MCP servers, for `/mcp`.
    mcp: Option<std::sync::Arc<crate::mcp_glue::McpTools>>,
    /// Custom commands (and the `!{…}` commands allowed for the session).
    commands: commands::CommandBackend,
}

impl TuiServices {
    pub fn new(
        snapshot: ConfigSnapshot,
        env: EnvLayer,
        telemetry: qcode_telemetry::Telemetry,
        resolver: Resolver,
    ) -> Self {
        let commands = commands::CommandBackend::new(snapshot.clone());
        Self {
            commands,
            resolver,
            usage_setting: Mutex::new(snapshot.usage_statistics_setting.as_ref().map(|s| s.value)),
            snapshot,
            env,
            telemetry,
            recording: None,
            mcp: None,
        }
    }

    /// The session commands work on the session `recording` records.
    pub fn with_recording(mut self, recording: Option<RecorderHandle>) -> Self {
        self.recording = recording;
        self
    }

    fn current_session(&self) -> Result<crate::recorder_glue::Current, Problem> {
        self.recording
            .as_ref()
            .map(RecorderHandle::current)
            .ok_or_else(not_recorded)
    }

    /// These services with the session's MCP servers (for `/mcp`).
    pub fn with_mcp(mut self, mcp: Option<std::sync::Arc<crate::mcp_glue::McpTools>>) -> Self {
        self.mcp = mcp;
        self
    }

    /// Records the method in the user settings (`security.auth.selectedType`).
    fn select(&self, kind: AuthKind) -> Result<(), Problem> {
        Ok(qcode_config::SettingsFile::user(&self.snapshot.paths).set_selected_auth(kind)?)
    }

    /// qcode-auth's device flow, its events forwarded to the dialog.
    async fn login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> Result<String, Problem> {
        let http = qcode_auth::http_client().map_err(Problem::from)?;
        let opts = QwenLoginOptions {
            oauth: qcode_auth::oauth_config(&self.snapshot),
            browser: BrowserLaunch::Auto,
            qr: QrDisplay::Show,
        };
        let summary = qcode_auth::qwen_device_login(
            &http,
            &auth_paths(&self.snapshot),
            &opts,
            &cancel,
            |event| {
                let _ = progress.send(event);
            },
        )
        .await?;
        self.select(AuthKind::QwenOauth)?;
        Ok(summary.credentials_path.display().to_string())
    }

    /// qcode-auth's key flow, checking the key against the provider first.
    async fn save_key(&self, input: ApiKeyInput) -> Result<String, Problem> {
        let login = ApiKeyLogin::typed(&input.base_url, &input.model, &input.api_key);
        let saved = qcode_auth::save_api_key(
            &auth_paths(&self.snapshot),
            &login,
            KeyCheck::AgainstProvider,
            |_| {},
        )
        .await?;
        self.select(AuthKind::Openai)?;
        // The key the user just saved is the one the session switches to, over a key from
        // the environment or a .env (the engine shares this resolver).
        self.resolver.prefer_saved_key();
        Ok(saved.display().to_string())
    }

    fn privacy_context<'a>(
        &'a self,
        env: &'a dyn Fn(&str) -> Option<String>,
        audit: &'a std::path::Path,
        persist: &'a dyn Fn(bool) -> Result<(), String>,
    ) -> qcode_telemetry::PrivacyContext<'a> {
        qcode_telemetry::PrivacyContext {
            settings_enabled: *lock(&self.usage_setting),
            settings_endpoint: self
                .snapshot
                .otlp_endpoint
                .as_ref()
                .map(|e| e.value.as_str()),
            env,
            audit_log: audit,
            persist,
        }
    }

    fn privacy(&self, log_lines: usize) -> PrivacyStatus {
        let env = |k: &str| self.env.get(k);
        let audit = qcode_telemetry::audit_log_path(&self.snapshot.paths.qcode_home);
        let persist = |_| Ok(());
        PrivacyStatus {
            text: qcode_telemetry::privacy_status_text(
                &self.privacy_context(&env, &audit, &persist),
            ),
            log: qcode_telemetry::read_audit_log(&audit, log_lines),
        }
    }

    fn set_usage(&self, on: bool) -> Result<String, Problem> {
        let env = |k: &str| self.env.get(k);
        let audit = qcode_telemetry::audit_log_path(&self.snapshot.paths.qcode_home);
        let settings = qcode_config::SettingsFile::user(&self.snapshot.paths);
        let persist = |on: bool| settings.set_usage_statistics(on).map_err(|e| e.to_string());
        let ctx = self.privacy_context(&env, &audit, &persist);
        let text = qcode_telemetry::set_usage_statistics_text(on, &ctx)?;
        *lock(&self.usage_setting) = Some(on);
        if !on {
            self.telemetry.turn_off_now();
        }
        Ok(text)
    }

    async fn add_memory(&self, fact: String) -> Result<String, String> {
        let file = self.snapshot.paths.global_memory();
        let path = file.clone();
        let saved =
            tokio::task::spawn_blocking(move || qcode_tools::memory::save_fact(&path, &fact))
                .await
                .map_err(|e| format!("saving the memory failed unexpectedly: {e}"))?;
        match saved {
            Ok(message) => Ok(format!("{message} ({})", file.display())),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
    on_panic: impl FnOnce() -> T,
) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| on_panic())
}

/// `/agents`: the subagent definitions of `<qcode home>/agents`, `<project>/.qwen/agents` and
/// `<project>/.qcode/agents` (later override earlier) plus the built-in, with the trust rule
/// (an untrusted project's definition may only use read-only tools) applied.
fn agent_listing(
    qcode_home: &std::path::Path,
    home: &std::path::Path,
    project: &std::path::Path,
    trusted: bool,
) -> qcode_tui::AgentListing {
    use qcode_extensions::agents::{self, AgentModel, AgentSource, AgentTools};
    use qcode_extensions::loader::{Root, Scope, Trust};
    let trust = if trusted {
        Trust::Trusted
    } else {
        Trust::Untrusted
    };
    let roots = vec![
        Root::new(qcode_home.join("agents"), Scope::User, Trust::Trusted),
        Root::project(project, ".qwen/agents", trust),
        Root::project(project, ".qcode/agents", trust),
    ];
    let mut catalog = agents::agent_catalog(roots);
    catalog.refresh();
    let read_only = qcode_tools::ToolRegistry::builtin()
        .summaries()
        .into_iter()
        .filter(|t| t.permission == "read-only")
        .map(|t| t.name.to_string())
        .collect();
    let set = agents::agent_set(&catalog, &read_only);
    let shown = |path: &std::path::Path| {
        if let Ok(rel) = path.strip_prefix(project) {
            rel.display().to_string()
        } else if let Ok(rel) = path.strip_prefix(home) {
            format!("~/{}", rel.display())
        } else {
            path.display().to_string()
        }
    };
    let agents = set
        .agents
        .iter()
        .map(|a| qcode_tui::AgentInfo {
            name: a.name.clone(),
            description: a.description.clone(),
            source: match &a.source {
                AgentSource::BuiltIn => "built-in".into(),
                AgentSource::File(o) => format!("{} {}", o.scope.as_str(), shown(&o.path)),
            },
            tools: match &a.tools {
                AgentTools::All => "every tool of the session except task".into(),
                AgentTools::Only(list) if list.is_empty() => "none".into(),
                AgentTools::Only(list) => list.join(", "),
            },
            model: match &a.model {
                AgentModel::Inherit => "inherit".into(),
                AgentModel::Id(id) => id.clone(),
            },
        })
        .collect();
    let problems = catalog
        .diagnostics()
        .iter()
        .chain(&set.refused)
        .map(|d| format!("{}: {}", shown(&d.path), d.message))
        .collect();
    qcode_tui::AgentListing { agents, problems }
}

impl Services for TuiServices {
    fn list_agents(&self) -> BoxFuture<'_, Result<qcode_tui::AgentListing, Problem>> {
        let qcode_home = self.snapshot.paths.qcode_home.clone();
        let home = self.snapshot.paths.home.clone();
        let project = self.snapshot.project_root.clone();
        let trusted = self.snapshot.trust.is_trusted();
        Box::pin(async move {
            let listing = blocking(
                move || Ok(agent_listing(&qcode_home, &home, &project, trusted)),
                || Err(Problem::internal("listing the subagent definitions failed")),
            );
            listing.await
        })
    }

    fn mcp_status(&self) -> BoxFuture<'_, String> {
        let text = crate::mcp_glue::status_text(self.mcp.as_deref());
        Box::pin(async move { text })
    }

    fn mcp_reconnect(&self, name: String) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(async move { crate::mcp_glue::reconnect(self.mcp.as_deref(), &name).await })
    }

    fn mcp_login(
        &self,
        name: String,
        cancel: tokio_util::sync::CancellationToken,
        progress: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(async move {
            crate::mcp_glue::login(self.mcp.as_deref(), &self.snapshot, &name, cancel, progress)
                .await
        })
    }

    fn next_elicitation(&self) -> BoxFuture<'_, Option<qcode_tui::ElicitationPrompt>> {
        Box::pin(async move {
            match &self.mcp {
                Some(mcp) => mcp.next_elicitation().await,
                None => None,
            }
        })
    }

    fn answer_elicitation(&self, id: u64, answer: qcode_protocol::elicitation::ElicitationAnswer) {
        if let Some(mcp) = &self.mcp {
            mcp.answer_elicitation(id, answer);
        }
    }

    fn command_used(&self, name: &'static str) {
        self.telemetry
            .record(qcode_telemetry::UsageEvent::SlashCommand(
                qcode_telemetry::SlashCommand::from_input(name),
            ));
    }

    fn custom_commands(&self) -> BoxFuture<'_, CustomCommands> {
        Box::pin(self.commands.list(self.mcp.as_deref()))
    }

    fn expand_command(
        &self,
        request: CommandRequest,
    ) -> BoxFuture<'_, Result<CommandExpansion, Problem>> {
        Box::pin(self.commands.expand(request, self.mcp.as_deref()))
    }

    fn custom_command_used(&self) {
        // The command's name is the user's text: statistics see only `custom`.
        self.telemetry
            .record(qcode_telemetry::UsageEvent::SlashCommand(
                qcode_telemetry::SlashCommand::CUSTOM,
            ));
    }

    fn skills(&self) -> BoxFuture<'_, SkillList> {
        Box::pin(commands::skills(&self.snapshot))
    }

    fn list_models(&self, auth: AuthKind) -> BoxFuture<'_, Result<Vec<String>, Problem>> {
        Box::pin(async move {
            let active = self.resolver.activate(auth)?;
            qcode_auth::build_client()
                .map_err(|e| Problem::internal(format!("cannot build the HTTP client: {e}")))?
                .list_models(&*active.credentials, CancellationToken::new())
                .await
                .map_err(Problem::from)
        })
    }

    fn provider_presets(&self) -> Vec<ProviderPreset> {
        qcode_auth::PROVIDER_PRESETS.to_vec()
    }

    fn qwen_login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(self.login(cancel, progress))
    }

    fn save_api_key(&self, input: ApiKeyInput) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(self.save_key(input))
    }

    fn privacy_status(&self, log_lines: usize) -> BoxFuture<'_, PrivacyStatus> {
        Box::pin(async move { self.privacy(log_lines) })
    }

    fn set_usage_statistics(
        &self,
        choice: UsageStatistics,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(async move { self.set_usage(choice == UsageStatistics::On) })
    }

    fn memory_show(&self) -> BoxFuture<'_, String> {
        Box::pin(async move { qcode_core::setup::memory_report(&self.snapshot) })
    }

    fn memory_add(&self, fact: String) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(async move {
            self.add_memory(fact)
                .await
                .map_err(|m| Problem::new(qcode_protocol::ErrorKind::Tool, m))
        })
    }

    fn list_sessions(&self) -> BoxFuture<'_, Result<Vec<SessionEntry>, Problem>> {
        let project_dir = self.snapshot.paths.project_dir(&self.snapshot.project_root);
        // The session running now is not offered (it is the one being left).
        let current = self.recording.as_ref().map(|r| r.current().id);
        Box::pin(blocking(
            move || {
                let now = std::time::SystemTime::now();
                Ok(qcode_session::list(&project_dir)?
                    .into_iter()
                    .filter(|s| current.as_deref() != Some(s.id.as_str()))
                    .map(|s| SessionEntry {
                        when: relative_time(&s.updated_at, now),
                        first_prompt: s.first_prompt.as_deref().map(one_line).unwrap_or_default(),
                        id: s.id,
                        title: s.title,
                        turns: s.turns,
                    })
                    .collect())
            },
            || {
                Err(Problem::internal(
                    "listing the sessions failed unexpectedly",
                ))
            },
        ))
    }

    fn export_session(&self, file: Option<String>) -> BoxFuture<'_, Result<String, Problem>> {
        let current = self.current_session();
        let cwd = self.snapshot.cwd.clone();
        Box::pin(async move {
            let current = current?;
            blocking(
                move || export_to(&current, &cwd, file.as_deref()),
                || Err(Problem::internal("the export failed unexpectedly")),
            )
            .await
        })
    }

    fn rename_session(&self, title: String) -> BoxFuture<'_, Result<String, Problem>> {
        Box::pin(async move {
            let title = one_line(&title);
            if title.is_empty() {
                return Err(Problem::new(ErrorKind::Input, "the title is empty"));
            }
            let Some(handle) = &self.recording else {
                return Err(not_recorded());
            };
            handle
                .title(title.clone())
                .await
                .map_err(|e| Problem::new(ErrorKind::Tool, e))?;
            Ok(format!("Session renamed to \"{title}\""))
        })
    }

    fn rewind_points(&self) -> BoxFuture<'_, Result<Vec<RewindEntry>, Problem>> {
        let current = self.current_session();
        let file_history = self.snapshot.paths.qcode_home.join("file-history");
        Box::pin(async move {
            let current = current?;
            blocking(
                move || {
                    Ok(qcode_session::rewind_points(&current.path, &file_history)?
                        .into_iter()
                        .map(|p| RewindEntry {
                            turn: p.turn,
                            prompt: p.prompt,
                            files: p.files.iter().map(|f| f.display().to_string()).collect(),
                        })
                        .collect())
                },
                || Err(Problem::internal("reading the session failed unexpectedly")),
            )
            .await
        })
    }

    fn memory_refresh(&self) -> BoxFuture<'_, Result<RefreshedPrompt, Problem>> {
        let snapshot = self.snapshot.clone();
        Box::pin(blocking(
            move || {
                let (system_prompt, context) = qcode_core::setup::system_prompt_for(&snapshot);
                Ok(RefreshedPrompt {
                    system_prompt,
                    files: context
                        .files
                        .iter()
                        .map(|f| f.path.display().to_string())
                        .collect(),
                })
            },
            || {
                Err(Problem::internal(
                    "reading the context files failed unexpectedly",
                ))
            },
        ))
    }
}

mod commands;

#[cfg(test)]
mod tests;

/// What the session commands say when there is no recording.
fn not_recorded() -> Problem {
    Problem::new(ErrorKind::Input, "this session is not recorded")
        .with_hint("recording is off (general.chatRecording or --no-chat-recording)")
}

/// The first non-blank line of `s`, trimmed and shortened to 80 characters.
fn one_line(s: &str) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > 80 {
        let cut: String = line.chars().take(79).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// `/export [FILE]`: the current transcript in the format the extension names (markdown by
/// default), written atomically 0600, never over an existing file.
fn export_to(
    current: &crate::recorder_glue::Current,
    cwd: &std::path::Path,
    file: Option<&str>,
) -> Result<String, Problem> {
    let id8: String = current.id.chars().take(8).collect();
    let path = match file {
        Some(f) => cwd.join(f),
        None => cwd.join(format!("qcode-session-{id8}.md")),
    };
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => qcode_session::ExportFormat::Json,
        Some("jsonl") => qcode_session::ExportFormat::Jsonl,
        _ => qcode_session::ExportFormat::Markdown,
    };
    let exists = || {
        Problem::new(
            ErrorKind::Input,
            format!("{} already exists; not overwritten", path.display()),
        )
        .with_hint("give another file name: /export <file>")
    };
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(exists());
    }
    let text = qcode_session::export(&qcode_session::load(&current.path)?, format)?;
    // Written whole (0600) under a temporary name next to it, then linked to its name, which
    // fails if a file appeared there meanwhile: the file is complete or absent, and never
    // replaces another.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.qcode-export", std::process::id()));
    let failed = |e: String| {
        Problem::new(
            ErrorKind::Tool,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    qcode_fs::write_atomic(&tmp, text.as_bytes(), qcode_fs::Mode::Exactly(0o600))
        .map_err(|e| failed(e.to_string()))?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(format!("Exported this session to {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
        Err(e) => Err(failed(e.to_string())),
    }
}

/// `2026-12-01T20:44:50.123Z` relative to `now` ("just now", "5 min ago", "3 h ago",
/// "2 days ago"), else the date and time ("2026-11-01 20:44 UTC").
fn relative_time(rfc3339: &str, now: std::time::SystemTime) -> String {
    let Some(then) = parse_rfc3339_secs(rfc3339) else {
        return rfc3339.to_string();
    };
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ago = now - then;
    match ago {
        i64::MIN..=59 => "just now".to_string(),
        60..=3_599 => format!("{} min ago", ago / 60),
        3_600..=86_399 => format!("{} h ago", ago / 3_600),
        86_400..=604_799 => match ago / 86_400 {
            1 => "yesterday".to_string(),
            d => format!("{d} days ago"),
        },
        _ => format!(
            "{} {} UTC",
            rfc3339.get(..10).unwrap_or(rfc3339),
            rfc3339.get(11..16).unwrap_or("")
        ),
    }
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS…` (UTC).
fn parse_rfc3339_secs(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}
