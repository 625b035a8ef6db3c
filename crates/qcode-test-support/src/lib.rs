//! Dev-only: a scripted mock OpenAI-compatible server and launchers for real peer servers
