//! The back ends of slash commands that live outside the TUI: listing models, signing in,
//! saving API keys, usage-statistics consent, and the memory files. The binary implements
//! [`Services`]; the TUI calls it from spawned tasks and gets the results back on its internal
//! app-event channel, so the render loop never waits for I/O. The TUI itself never does network
//! I/O or reads configuration files.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// A well-known OpenAI-compatible provider offered by the API-key form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPreset {
    pub id: String,
    pub label: String,
    pub base_url: String,
    pub default_model: String,
    /// Where the key usually comes from (e.g. `OPENROUTER_API_KEY`), or "no key needed".
    pub key_hint: String,
    pub needs_key: bool,
}

/// What the API-key form submits. The key is never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyInput {
    pub base_url: String,
    pub model: String,
    pub api_key: String,
}

impl fmt::Debug for ApiKeyInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyInput")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

/// Progress of a Qwen OAuth sign-in (the outcome is the result of [`Services::qwen_login`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginEvent {
    /// The device code to show: open the URL (or scan the QR code) and approve.
    DeviceCode {
        verification_url: String,
        user_code: String,
        /// The QR code of `verification_url`, one string per terminal row (may be empty).
        qr_lines: Vec<String>,
        expires_in: Duration,
        /// Whether a browser was opened on the URL.
        browser_opened: bool,
    },
    /// The user has not approved yet.
    Waiting { seconds_left: u64 },
    /// The server asked to poll less often.
    SlowDown { seconds_left: u64 },
}

/// A built-in tool as `/tools` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    pub name: String,
    /// One line.
    pub description: String,
    /// The permission class (`read-only`, `edit`, `execute`, `fetch`, `memory`, `plan`).
    pub permission: String,
}

/// A rebuilt system prompt after the context files were re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshedPrompt {
    pub system_prompt: String,
    /// The context files now loaded (paths as shown to the user).
    pub files: Vec<String>,
}

/// Usage-statistics state for `/privacy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyStatus {
    /// The notice, the current state, the destination and the audit-log location.
    pub text: String,
    /// The newest audit-log lines, exactly as exported.
    pub log: Vec<String>,
}

/// Everything the TUI asks of the outside world. Object-safe; every call returns a boxed
/// future that the TUI runs on a spawned task.
pub trait Services: Send + Sync {
    /// The model ids of the active provider (`GET {base}/models` with the active credentials).
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, String>>;

    /// The provider presets for the API-key form.
    fn provider_presets(&self) -> Vec<ProviderPreset>;

    /// Runs the Qwen OAuth device flow, reporting progress on `progress`, until the user
    /// approves (→ where the credentials were saved), it fails (→ the exact reason), or
    /// `cancel` fires. On success the method is also recorded as selected in the user settings.
    fn qwen_login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> BoxFuture<'_, Result<String, String>>;

    /// Checks the key against the provider first, then saves it in the user's credentials file
    /// and records the method as selected; returns where it was saved.
    fn save_api_key(&self, input: ApiKeyInput) -> BoxFuture<'_, Result<String, String>>;

    /// The privacy notice, state, destination and the newest `log_lines` audit-log events.
    fn privacy_status(&self, log_lines: usize) -> BoxFuture<'_, PrivacyStatus>;

    /// Turns usage statistics on or off (persisted; off also stops this session at once);
    /// returns the confirmation to show.
    fn set_usage_statistics(&self, on: bool) -> BoxFuture<'_, Result<String, String>>;

    /// The loaded context files with their paths and contents.
    fn memory_show(&self) -> BoxFuture<'_, String>;

    /// Appends a fact to the global memory file; returns the confirmation to show.
    fn memory_add(&self, fact: String) -> BoxFuture<'_, Result<String, String>>;

    /// Re-reads the context files and rebuilds the system prompt.
    fn memory_refresh(&self) -> BoxFuture<'_, Result<RefreshedPrompt, String>>;

    /// A built-in slash command ran (its canonical name from the command table), for the
    /// anonymous usage statistics. Must not block.
    fn command_used(&self, _name: &'static str) {}
}
