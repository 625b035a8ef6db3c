//! Authentication for qcode, everything between "who is the user" and "a credential source the
//! client can use":
//!
//! - which method applies and with which model ([`Resolver`]: explicit choice, a key from flag /
//!   env / `.env`, a saved key, Qwen credentials), the messages and hints when nothing fits
//!   (as [`qcode_protocol::Problem`]s), and the credential sources handed to the client
//!   ([`QwenSource`], [`SignedOut`]);
//! - the two sign-in flows, once each for both front ends, reporting progress through a
//!   callback ([`qwen_device_login`] with [`qcode_protocol::LoginEvent`]s, [`save_api_key`]
//!   with [`ApiKeyEvent`]s); `qcode auth` renders them as text ([`login_qwen_oauth`],
//!   [`login_api_key`]), the TUI forwards them to its dialog;
//! - the Qwen OAuth device flow with PKCE, the credentials file shared with Qwen Code and its
//!   cross-process refresh lock, a token manager that refreshes on time and after 401s;
//! - API keys for OpenAI-compatible providers, the provider presets (as
//!   [`qcode_protocol::ProviderPreset`]s, [`resolve_base_url`] for a preset id), DashScope
//!   headers, and the `qcode auth status` / `logout` back ends ([`status_report`] for a
//!   snapshot, [`default_logout_scope`]).
//!
//! Depends on the protocol, configuration and client types only; must not depend on the
//! engine (`qcode-core`), a front end (`qcode-tui`, `qcode-exec`) or `qcode-telemetry`. It
//! does not write settings either: recording the selected method is the caller's.
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
mod login;
mod manager;
mod presets;
mod qr;
mod resolve;
mod secret;
mod source;

pub use api_key::{API_KEY_FILE, ApiKeyCredentials, ApiKeyStore, validate_base_url};
pub use browser::{BrowserLaunch, browser_command, open_browser};
pub use cli::{
    ApiKeyState, AuthPaths, AuthStatus, Console, LogoutScope, QwenLoginState, login_api_key,
    login_qwen_oauth, logout, render_login_event, status,
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
pub use login::{
    ApiKeyEvent, ApiKeyLogin, KeyCheck, QrDisplay, QwenLoginOptions, QwenLoginSummary,
    qwen_device_login, save_api_key,
};
pub use manager::{QwenTokenManager, REFRESH_TIMEOUT};
pub use presets::{PROVIDER_PRESETS, preset, preset_for_base_url, resolve_base_url};
pub use qr::qr_lines;
pub use resolve::{
    Active, CredentialsState, MissingAuth, Resolver, auth_paths, build_client, chosen_by,
    default_logout_scope, is_loopback_url, key_hint, no_credentials, oauth_config, qwen_model,
    status_report,
};
pub use secret::Secret;
pub use source::{QwenSource, SignedOut, signed_out};
