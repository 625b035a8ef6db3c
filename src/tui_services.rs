//! The binary's side of the TUI's slash commands ([`qcode_tui::Services`]): model listing with
//! the active credentials, Qwen OAuth sign-in and checked API-key saving (qcode-auth's flows,
//! forwarded), usage-statistics consent (qcode-telemetry's texts; the setting is written here),
//! the memory files (`qcode_core::setup`) and the tool list. Glue over qcode-auth, qcode-config,
//! qcode-telemetry, qcode-tools and qcode-core; the TUI reaches none of them itself.

use std::sync::{Mutex, PoisonError};

use futures::future::BoxFuture;
use qcode_auth::{
    ApiKeyLogin, BrowserLaunch, KeyCheck, QrDisplay, QwenLoginOptions, Resolver, auth_paths,
};
use qcode_config::{ConfigSnapshot, EnvLayer};
use qcode_protocol::{AuthKind, LoginEvent, Problem, ProviderPreset};
use qcode_tui::{ApiKeyInput, PrivacyStatus, RefreshedPrompt, Services, ToolInfo, UsageStatistics};
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
    /// The session's MCP servers, for `/mcp`.
    mcp: Option<std::sync::Arc<crate::mcp_glue::McpTools>>,
}

impl TuiServices {
    pub fn new(
        snapshot: ConfigSnapshot,
        env: EnvLayer,
        telemetry: qcode_telemetry::Telemetry,
        resolver: Resolver,
    ) -> Self {
        Self {
            resolver,
            usage_setting: Mutex::new(snapshot.usage_statistics_setting.as_ref().map(|s| s.value)),
            snapshot,
            env,
            telemetry,
            mcp: None,
        }
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

impl Services for TuiServices {
    fn mcp_status(&self) -> BoxFuture<'_, String> {
        let text = crate::mcp_glue::status_text(self.mcp.as_deref());
        Box::pin(async move { text })
    }

    fn command_used(&self, name: &'static str) {
        self.telemetry
            .record(qcode_telemetry::UsageEvent::SlashCommand(
                qcode_telemetry::SlashCommand::from_input(name),
            ));
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

#[cfg(test)]
mod tests;
