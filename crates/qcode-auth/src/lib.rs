//! Qwen OAuth device flow with PKCE, the shared credential store and its cross-process lock, API keys
