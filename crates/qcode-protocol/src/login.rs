//! Sign-in progress and provider presets: what the login flows of `qcode-auth` report and what
//! both front ends (the `qcode auth` command and the TUI's `/auth`) render.

use std::time::Duration;

/// Progress of a Qwen OAuth device-flow sign-in; the outcome is the flow's result.
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
    /// The server asked to poll less often; `interval` is the new wait between polls.
    SlowDown {
        seconds_left: u64,
        interval: Duration,
    },
}

/// A well-known OpenAI-compatible provider the user can pick instead of typing a base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderPreset {
    pub id: &'static str,
    pub label: &'static str,
    pub base_url: &'static str,
    /// A reasonable first model; the user can change it.
    pub default_model: &'static str,
    /// Where to get a key (the environment variable commonly used for it, or a hint).
    pub key_hint: &'static str,
    /// Whether the endpoint needs a key at all (local servers do not).
    pub needs_key: bool,
}
