//! Authentication for qcode: the Qwen OAuth device flow with PKCE, the credentials file shared
//! with Qwen Code and its cross-process refresh lock, a token manager that refreshes on time and
//! after 401s, API keys for OpenAI-compatible providers with a preset table, DashScope headers,
//! and the back ends of the `qcode auth` commands.
//!
//! No global state: every path (`qwen_dir`, `qcode_home`) and HTTP client is passed in. Never
//! prints or logs a secret; tokens and keys are [`Secret`]s with redacting `Debug`.

mod api_key;
mod browser;
mod cli;
mod config;
mod credentials;
mod device;
mod error;
mod fs_util;
mod headers;
mod http;
mod lock;
mod manager;
mod presets;
mod qr;
mod secret;

pub use api_key::{API_KEY_FILE, ApiKeyCredentials, ApiKeyStore, validate_base_url};
pub use browser::{BrowserLaunch, browser_command, open_browser};
pub use cli::{
    ApiKeyLogin, ApiKeyState, AuthPaths, AuthStatus, Console, LogoutScope, QrDisplay,
    QwenLoginOptions, QwenLoginState, QwenLoginSummary, login_api_key, login_qwen_oauth, logout,
    status,
};
pub use config::{
    DEFAULT_DASHSCOPE_BASE_URL, DEVICE_CODE_GRANT_TYPE, DEVICE_CODE_PATH, PollPacing,
    QWEN_OAUTH_BASE_URL, QWEN_OAUTH_CLIENT_ID, QWEN_OAUTH_DEFAULT_MODEL, QWEN_OAUTH_SCOPE,
    QwenOAuthConfig, RefusedRefresh, TOKEN_PATH, api_base_url,
};
pub use credentials::{
    CREDENTIALS_FILE, LOCK_FILE, QwenCredentialStore, QwenCredentials, REFRESH_MARGIN, now_ms,
};
pub use device::{DeviceAuthorization, PollEvent, poll_device_flow, start_device_flow};
pub use error::{AuthError, RELOGIN_HINT};
pub use headers::{dashscope_headers, is_dashscope_url, user_agent, wants_dashscope_headers};
pub use http::http_client;
pub use lock::{CredentialsLock, LockPolicy, STALE_AFTER};
pub use manager::{QwenTokenManager, REFRESH_TIMEOUT};
pub use presets::{PROVIDER_PRESETS, ProviderPreset, preset, preset_for_base_url};
pub use qr::qr_lines;
pub use secret::Secret;
