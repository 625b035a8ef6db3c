//! The binary's side of the TUI's slash commands ([`qcode_tui::Services`]): model listing with
//! the active credentials, Qwen OAuth sign-in, checked API-key saving, usage-statistics
//! consent, and the memory files. Glue over qcode-auth, qcode-client, qcode-config,
//! qcode-telemetry, qcode-tools and qcode-core; the TUI reaches none of them itself.

use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use futures::future::BoxFuture;
use qcode_auth::{
    ApiKeyCredentials, BrowserLaunch, CredentialsLock, LockPolicy, PollEvent, QwenCredentialStore,
};
use qcode_client::{ChatClient, ChatRequest, ClientError, CredentialSource, Endpoint, Secret};
use qcode_config::{ConfigSnapshot, EnvLayer};
use qcode_protocol::{AuthKind, ChatMessage, Event};
use qcode_tui::{
    ApiKeyInput, LoginEvent, PrivacyStatus, ProviderPreset, RefreshedPrompt, Services, ToolInfo,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::auth_glue::{self, Active, Resolver};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Credentials of a session that started without any: every request fails with a hint.
pub struct SignedOut;

impl CredentialSource for SignedOut {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        Box::pin(async {
            Err(ClientError::Credentials {
                message: "not signed in: run /auth".into(),
            })
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async { Ok(None) })
    }
}

/// The placeholder method an interactive session starts with when nothing is signed in.
pub fn signed_out(snapshot: &ConfigSnapshot) -> Active {
    Active {
        kind: snapshot
            .auth_type
            .as_ref()
            .map_or(AuthKind::QwenOauth, |a| a.value),
        credentials: Arc::new(SignedOut),
        model: snapshot.model.as_ref().map_or_else(
            || qcode_auth::QWEN_OAUTH_DEFAULT_MODEL.to_string(),
            |m| m.value.clone(),
        ),
    }
}

/// The built-in tools for `/tools`: name, permission class, first sentence of the description.
pub fn tool_infos() -> Vec<ToolInfo> {
    let registry = qcode_tools::ToolRegistry::builtin();
    registry
        .specs()
        .into_iter()
        .map(|spec| {
            let permission = match registry.kind_of(&spec.name) {
                Some(qcode_tools::ToolKind::ReadOnly) => "read-only",
                Some(qcode_tools::ToolKind::Edit) => "edit",
                Some(qcode_tools::ToolKind::Execute) => "execute",
                Some(qcode_tools::ToolKind::Fetch) => "fetch",
                Some(qcode_tools::ToolKind::Memory) => "memory",
                Some(qcode_tools::ToolKind::Plan) => "plan",
                None => "unknown",
            };
            ToolInfo {
                description: first_sentence(&spec.description),
                name: spec.name,
                permission: permission.into(),
            }
        })
        .collect()
}

fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(i) => flat[..=i].to_string(),
        None => flat,
    }
}

/// Forwards engine events to the TUI, noting the active authentication method.
pub fn track_auth(
    mut events: UnboundedReceiver<Event>,
    services: Arc<TuiServices>,
) -> UnboundedReceiver<Event> {
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if let Event::SessionConfigured { auth, .. } = &ev {
                *lock(&services.active) = *auth;
            }
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    rx
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn client_message(e: &ClientError) -> String {
    match e.hint() {
        Some(h) => format!("{e}; {h}"),
        None => e.to_string(),
    }
}

/// [`Services`] over the session's configuration snapshot.
pub struct TuiServices {
    snapshot: ConfigSnapshot,
    env: EnvLayer,
    telemetry: qcode_telemetry::Telemetry,
    resolver: Resolver,
    /// The method the engine uses now (updated from `SessionConfigured`).
    active: Mutex<AuthKind>,
    /// `privacy.usageStatisticsEnabled` as last written by this session.
    usage_setting: Mutex<Option<bool>>,
}

impl TuiServices {
    pub fn new(
        snapshot: ConfigSnapshot,
        env: EnvLayer,
        telemetry: qcode_telemetry::Telemetry,
        active: AuthKind,
    ) -> Self {
        Self {
            resolver: Resolver::new(snapshot.clone()),
            usage_setting: Mutex::new(snapshot.usage_statistics_setting.as_ref().map(|s| s.value)),
            snapshot,
            env,
            telemetry,
            active: Mutex::new(active),
        }
    }

    fn client(&self) -> Result<ChatClient, String> {
        auth_glue::build_client().map_err(|e| format!("cannot build the HTTP client: {e}"))
    }

    /// Records the method in the user settings (`security.auth.selectedType`).
    fn select(&self, kind: AuthKind) -> Result<(), String> {
        qcode_config::SettingsFile::user(&self.snapshot.paths)
            .set_selected_auth(kind)
            .map_err(|e| e.to_string())
    }

    async fn login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> Result<String, String> {
        let text = |e: qcode_auth::AuthError| e.to_string();
        let http = qcode_auth::http_client().map_err(text)?;
        let cfg = auth_glue::oauth_config(&self.snapshot);
        let auth = tokio::select! {
            () = cancel.cancelled() => return Err(text(qcode_auth::AuthError::Cancelled)),
            r = qcode_auth::start_device_flow(&http, &cfg) => r.map_err(text)?,
        };
        let url = auth.browser_url().to_string();
        let _ = progress.send(LoginEvent::DeviceCode {
            qr_lines: qcode_auth::qr_lines(&url),
            browser_opened: qcode_auth::open_browser(&url, BrowserLaunch::Auto),
            verification_url: url,
            user_code: auth.user_code.clone(),
            expires_in: auth.expires_in,
        });
        let creds = qcode_auth::poll_device_flow(&http, &cfg, &auth, &cancel, |event| {
            let _ = progress.send(match event {
                PollEvent::Pending { seconds_left, .. } => LoginEvent::Waiting { seconds_left },
                PollEvent::SlowDown { seconds_left, .. } => LoginEvent::SlowDown { seconds_left },
            });
        })
        .await
        .map_err(text)?;
        let store = QwenCredentialStore::new(&self.snapshot.paths.qwen_dir);
        let lock = CredentialsLock::acquire(&store.lock_path(), &LockPolicy::default(), &cancel)
            .await
            .map_err(text)?;
        let saved = store.save(&creds);
        lock.release();
        saved.map_err(text)?;
        self.select(AuthKind::QwenOauth)?;
        Ok(store.path().display().to_string())
    }

    async fn save_key(&self, input: ApiKeyInput) -> Result<String, String> {
        let base_url = input.base_url.trim().trim_end_matches('/').to_string();
        qcode_auth::validate_base_url(&base_url).map_err(|e| e.to_string())?;
        let creds = ApiKeyCredentials {
            base_url: base_url.clone(),
            api_key: qcode_auth::Secret::new(input.api_key.trim()),
            model: Some(input.model.trim().to_string()),
        };
        creds.validate().map_err(|e| e.to_string())?;
        check_key(
            &self.client()?,
            &base_url,
            input.api_key.trim(),
            input.model.trim(),
        )
        .await?;
        let store = qcode_auth::ApiKeyStore::new(&self.snapshot.paths.qcode_home);
        store.save(&creds).map_err(|e| e.to_string())?;
        self.select(AuthKind::Openai)?;
        Ok(store.path().display().to_string())
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
        let ctx = self.privacy_context(&env, &audit, &persist);
        let mut out = Vec::new();
        let text = match qcode_telemetry::privacy_status(&ctx, &mut out) {
            Ok(()) => String::from_utf8_lossy(&out).trim_end().to_string(),
            Err(e) => e.to_string(),
        };
        PrivacyStatus {
            text,
            log: qcode_telemetry::read_audit_log(&audit, log_lines),
        }
    }

    fn set_usage(&self, on: bool) -> Result<String, String> {
        let env = |k: &str| self.env.get(k);
        let audit = qcode_telemetry::audit_log_path(&self.snapshot.paths.qcode_home);
        let settings = qcode_config::SettingsFile::user(&self.snapshot.paths);
        let persist = |on: bool| settings.set_usage_statistics(on).map_err(|e| e.to_string());
        let command = if on {
            qcode_telemetry::PrivacyCommand::On
        } else {
            qcode_telemetry::PrivacyCommand::Off
        };
        let ctx = self.privacy_context(&env, &audit, &persist);
        let mut out = Vec::new();
        qcode_telemetry::run_privacy_command(command, &ctx, &mut out).map_err(|e| e.to_string())?;
        *lock(&self.usage_setting) = Some(on);
        if !on {
            self.telemetry.turn_off_now();
        }
        Ok(String::from_utf8_lossy(&out).trim_end().to_string())
    }

    fn show_memory(&self) -> String {
        let (_, context) = crate::session::system_prompt_for(&self.snapshot);
        let mut out = String::new();
        if context.files.is_empty() {
            out.push_str(&format!(
                "No context files are loaded (looked for {} in {} and from the project root to the working directory).\n/memory add <fact> saves a fact to {}; /init has the model write a project QWEN.md.",
                self.snapshot.context_file_names.value.join(", "),
                self.snapshot.paths.qcode_home.display(),
                self.snapshot.paths.global_memory().display(),
            ));
        } else {
            out.push_str(&format!("Context files ({}):", context.files.len()));
            for f in &context.files {
                out.push_str(&format!("\n  {}", f.path.display()));
            }
            for f in &context.files {
                out.push_str(&format!(
                    "\n\n── {} ──\n{}",
                    f.path.display(),
                    f.content.trim_end()
                ));
            }
        }
        for n in &context.notices {
            out.push_str(&format!("\n⚠ {n}"));
        }
        out
    }

    async fn add_memory(&self, fact: String) -> Result<String, String> {
        let ctx = qcode_tools::ToolContext::new(
            vec![self.snapshot.cwd.clone()],
            self.snapshot.paths.global_memory(),
            qcode_tools::LazyHttpClient::default_client(),
            self.snapshot
                .paths
                .project_dir(&self.snapshot.project_root)
                .join("background"),
        )
        .map_err(|e| e.to_string())?;
        let call = qcode_protocol::ToolCall {
            id: "memory-add".into(),
            name: "save_memory".into(),
            arguments: serde_json::json!({ "fact": fact }).to_string(),
        };
        let registry = qcode_tools::ToolRegistry::builtin();
        let prepared = registry
            .prepare(&call, &ctx)
            .await
            .map_err(|e| e.to_string())?;
        let (progress, _rx) = unbounded_channel();
        let result = prepared
            .execute(&ctx, CancellationToken::new(), &progress)
            .await;
        match result.status {
            qcode_tools::ToolResultStatus::Success => Ok(format!(
                "{} ({})",
                result.output,
                self.snapshot.paths.global_memory().display()
            )),
            qcode_tools::ToolResultStatus::Error | qcode_tools::ToolResultStatus::Cancelled => {
                Err(result.output)
            }
        }
    }
}

/// Checks a key: `GET {base}/models`, or — when the provider has no model list (404) — a
/// one-token chat request.
async fn check_key(
    client: &ChatClient,
    base_url: &str,
    key: &str,
    model: &str,
) -> Result<(), String> {
    let bearer = (!key.is_empty()).then(|| Secret::new(key));
    let mut endpoint = Endpoint::new(base_url, bearer);
    if qcode_auth::wants_dashscope_headers(AuthKind::Openai, base_url) {
        for (k, v) in qcode_auth::dashscope_headers(AuthKind::Openai, VERSION) {
            endpoint = endpoint.with_header(k, v);
        }
    }
    let creds: Arc<dyn CredentialSource> = Arc::new(qcode_client::StaticCredentials(endpoint));
    match client.list_models(&*creds, CancellationToken::new()).await {
        Ok(_) => Ok(()),
        Err(ClientError::NotFound { .. }) => {
            let mut request = ChatRequest::new(model, vec![ChatMessage::user("Say OK.")]);
            request.max_tokens = Some(1);
            let mut stream = client.stream(creds, &request, CancellationToken::new());
            match stream.next().await {
                Some(Ok(_)) | None => Ok(()),
                Some(Err(e)) => Err(format!("the key check failed: {}", client_message(&e))),
            }
        }
        Err(e) => Err(format!("the key check failed: {}", client_message(&e))),
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
    fn command_used(&self, name: &'static str) {
        self.telemetry
            .record(qcode_telemetry::UsageEvent::SlashCommand(
                qcode_telemetry::SlashCommand::from_input(name),
            ));
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        Box::pin(async move {
            let kind = *lock(&self.active);
            let active = self.resolver.activate(kind).map_err(|f| match f.hint {
                Some(h) => format!("{}; {h}", f.message),
                None => f.message,
            })?;
            self.client()?
                .list_models(&*active.credentials, CancellationToken::new())
                .await
                .map_err(|e| client_message(&e))
        })
    }

    fn provider_presets(&self) -> Vec<ProviderPreset> {
        qcode_auth::PROVIDER_PRESETS
            .iter()
            .map(|p| ProviderPreset {
                id: p.id.into(),
                label: p.label.into(),
                base_url: p.base_url.into(),
                default_model: p.default_model.into(),
                key_hint: p.key_env_hint.into(),
                needs_key: p.needs_key,
            })
            .collect()
    }

    fn qwen_login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(self.login(cancel, progress))
    }

    fn save_api_key(&self, input: ApiKeyInput) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(self.save_key(input))
    }

    fn privacy_status(&self, log_lines: usize) -> BoxFuture<'_, PrivacyStatus> {
        Box::pin(async move { self.privacy(log_lines) })
    }

    fn set_usage_statistics(&self, on: bool) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move { self.set_usage(on) })
    }

    fn memory_show(&self) -> BoxFuture<'_, String> {
        Box::pin(async move { self.show_memory() })
    }

    fn memory_add(&self, fact: String) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(self.add_memory(fact))
    }

    fn memory_refresh(&self) -> BoxFuture<'_, Result<RefreshedPrompt, String>> {
        let snapshot = self.snapshot.clone();
        Box::pin(blocking(
            move || {
                let (system_prompt, context) = crate::session::system_prompt_for(&snapshot);
                Ok(RefreshedPrompt {
                    system_prompt,
                    files: context
                        .files
                        .iter()
                        .map(|f| f.path.display().to_string())
                        .collect(),
                })
            },
            || Err("reading the context files failed unexpectedly".to_string()),
        ))
    }
}

#[cfg(test)]
mod tests;
