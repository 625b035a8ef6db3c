//! Fixed tables that turn user-facing names into closed, anonymous values.
//!
//! Every name that reaches a usage event goes through one of these constructors. A name that is
//! not in a table becomes `"other"` (or `"custom"` / `"mcp"`), so nothing a user typed can ever
//! be exported. The types keep their field private: the only way to build one is from a table.

use std::fmt;

/// Models whose names may be reported as they are. Anything else is reported as `"other"`.
pub const MODEL_CATALOGUE: &[&str] = &[
    // Qwen (DashScope / Qwen OAuth)
    "coder-model",
    "vision-model",
    "qwen3-coder-plus",
    "qwen3-coder-flash",
    "qwen3-coder-480b-a35b-instruct",
    "qwen3-coder-30b-a3b-instruct",
    "qwen3-max",
    "qwen3-235b-a22b",
    "qwen3-32b",
    "qwen-max",
    "qwen-plus",
    "qwen-turbo",
    "qwen-flash",
    "qwen2.5-coder-32b-instruct",
    // OpenAI
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5-codex",
    "o3",
    "o3-mini",
    "o4-mini",
    // DeepSeek
    "deepseek-chat",
    "deepseek-reasoner",
    "deepseek-coder",
    // Others commonly served through OpenAI-compatible endpoints
    "kimi-k2",
    "glm-4.5",
    "glm-4.6",
    "claude-sonnet-4",
    "claude-opus-4",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
];

/// Built-in tools qcode offers to the model: exactly the names of the tool registry (a test of
/// the binary checks it against `qcode_tools::ToolRegistry::builtin()`).
pub const BUILTIN_TOOLS: &[&str] = &[
    "read_file",
    "write_file",
    "edit",
    "grep_search",
    "glob",
    "list_directory",
    "run_shell_command",
    "todo_write",
    "web_fetch",
    "save_memory",
    "task",
];

/// Tool names kept on purpose for features that are planned but not built yet, each with the
/// feature that will add it; moved to [`BUILTIN_TOOLS`] when the tool exists.
pub const RESERVED_TOOLS: &[(&str, &str)] = &[
    ("web_search", "web search (an MCP integration in Qwen Code)"),
    ("read_many_files", "reading many files in one call"),
    ("exit_plan_mode", "leaving plan mode from the model"),
];

/// Built-in slash commands (canonical names, without the leading `/`): exactly the TUI's
/// command table (checked by a test of the binary). Anything else counts as `"custom"`.
pub const BUILTIN_COMMANDS: &[&str] = &[
    "help",
    "auth",
    "model",
    "approval-mode",
    "memory",
    "init",
    "tools",
    "privacy",
    "clear",
    "resume",
    "export",
    "rename",
    "rewind",
    "compress",
    "stats",
    "about",
    "copy",
    "quit",
    "mcp",
    "agents",
    "skills",
];

/// Command names kept on purpose for planned features, each with the feature that adds it.
pub const RESERVED_COMMANDS: &[(&str, &str)] = &[
    ("hooks", "hooks"),
    ("trust", "folder trust"),
    ("permissions", "folder trust"),
    ("status", "sandbox"),
];

fn reserved(table: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    table
        .iter()
        .map(|(entry, _)| *entry)
        .find(|entry| entry.eq_ignore_ascii_case(name))
}

fn lookup(table: &'static [&'static str], name: &str) -> Option<&'static str> {
    table
        .iter()
        .copied()
        .find(|entry| entry.eq_ignore_ascii_case(name))
}

/// A model name from [`MODEL_CATALOGUE`], or "other".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelId(Option<&'static str>);

impl ModelId {
    /// The catalogue name matching what the user configured (case-insensitive; a provider prefix
    /// such as `qwen/` or `openai/` is ignored), else [`ModelId::OTHER`].
    pub fn from_user(name: &str) -> Self {
        let name = name.trim();
        let found = lookup(MODEL_CATALOGUE, name).or_else(|| {
            name.rsplit_once('/')
                .and_then(|(_, tail)| lookup(MODEL_CATALOGUE, tail))
        });
        Self(found)
    }

    pub const OTHER: ModelId = ModelId(None);

    pub fn as_str(self) -> &'static str {
        self.0.unwrap_or("other")
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ToolKind {
    Builtin(&'static str),
    Mcp,
    Other,
}

/// A built-in tool name from [`BUILTIN_TOOLS`] or [`RESERVED_TOOLS`], "mcp" for any MCP tool, or "other".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ToolName(ToolKind);

impl ToolName {
    /// Classifies the name the model called: built-ins by name, `mcp__<server>__<tool>` as "mcp"
    /// (the server and tool names are never kept), anything else as "other".
    pub fn from_call_name(name: &str) -> Self {
        let name = name.trim();
        if let Some(found) = lookup(BUILTIN_TOOLS, name).or_else(|| reserved(RESERVED_TOOLS, name))
        {
            Self(ToolKind::Builtin(found))
        } else if name.starts_with("mcp__") {
            Self(ToolKind::Mcp)
        } else {
            Self(ToolKind::Other)
        }
    }

    pub const MCP: ToolName = ToolName(ToolKind::Mcp);
    pub const OTHER: ToolName = ToolName(ToolKind::Other);

    pub fn as_str(self) -> &'static str {
        match self.0 {
            ToolKind::Builtin(name) => name,
            ToolKind::Mcp => "mcp",
            ToolKind::Other => "other",
        }
    }
}

impl fmt::Display for ToolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A built-in slash command from [`BUILTIN_COMMANDS`] or [`RESERVED_COMMANDS`], or "custom".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlashCommand(Option<&'static str>);

impl SlashCommand {
    /// Classifies what the user typed (`/model gpt-4o`, `model`, …): only the command word is
    /// looked at, and anything not built in is "custom".
    pub fn from_input(input: &str) -> Self {
        let word = input
            .trim()
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("");
        Self(lookup(BUILTIN_COMMANDS, word).or_else(|| reserved(RESERVED_COMMANDS, word)))
    }

    pub const CUSTOM: SlashCommand = SlashCommand(None);

    pub fn as_str(self) -> &'static str {
        self.0.unwrap_or("custom")
    }
}

impl fmt::Display for SlashCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The terminal the interactive session runs in, from a fixed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminalKind {
    Vscode,
    Jetbrains,
    Iterm2,
    AppleTerminal,
    WindowsTerminal,
    Kitty,
    Alacritty,
    Wezterm,
    Ghostty,
    Warp,
    Konsole,
    /// GNOME Terminal, Tilix, Terminator and other VTE-based terminals.
    Vte,
    Tmux,
    Screen,
    Xterm,
    LinuxConsole,
    /// No terminal (TERM unset or "dumb"), e.g. a headless run in CI.
    None,
    Other,
}

impl TerminalKind {
    /// Detects the terminal from well-known environment variables. Only the kind is kept.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(program) = var("TERM_PROGRAM") {
            match program.to_ascii_lowercase().as_str() {
                "vscode" => return Self::Vscode,
                "iterm.app" => return Self::Iterm2,
                "apple_terminal" => return Self::AppleTerminal,
                "wezterm" => return Self::Wezterm,
                "ghostty" => return Self::Ghostty,
                "warpterminal" => return Self::Warp,
                "tmux" => return Self::Tmux,
                _ => {}
            }
        }
        let term = var("TERM").unwrap_or_default().to_ascii_lowercase();
        if var("TERMINAL_EMULATOR").is_some_and(|v| v.starts_with("JetBrains")) {
            Self::Jetbrains
        } else if var("TMUX").is_some() {
            Self::Tmux
        } else if var("STY").is_some() {
            Self::Screen
        } else if var("WT_SESSION").is_some() {
            Self::WindowsTerminal
        } else if var("KITTY_WINDOW_ID").is_some() || term == "xterm-kitty" {
            Self::Kitty
        } else if var("ALACRITTY_SOCKET").is_some() || term == "alacritty" {
            Self::Alacritty
        } else if var("KONSOLE_VERSION").is_some() {
            Self::Konsole
        } else if var("VTE_VERSION").is_some() {
            Self::Vte
        } else if term == "linux" {
            Self::LinuxConsole
        } else if term.starts_with("xterm") {
            Self::Xterm
        } else if term.is_empty() || term == "dumb" {
            Self::None
        } else {
            Self::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vscode => "vscode",
            Self::Jetbrains => "jetbrains",
            Self::Iterm2 => "iterm2",
            Self::AppleTerminal => "apple_terminal",
            Self::WindowsTerminal => "windows_terminal",
            Self::Kitty => "kitty",
            Self::Alacritty => "alacritty",
            Self::Wezterm => "wezterm",
            Self::Ghostty => "ghostty",
            Self::Warp => "warp",
            Self::Konsole => "konsole",
            Self::Vte => "vte",
            Self::Tmux => "tmux",
            Self::Screen => "screen",
            Self::Xterm => "xterm",
            Self::LinuxConsole => "linux_console",
            Self::None => "none",
            Self::Other => "other",
        }
    }
}

/// Operating system family (compile-time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OsFamily {
    Linux,
    Macos,
    Windows,
    Other,
}

impl OsFamily {
    pub fn current() -> Self {
        match std::env::consts::OS {
            "linux" => Self::Linux,
            "macos" => Self::Macos,
            "windows" => Self::Windows,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Macos => "macos",
            Self::Windows => "windows",
            Self::Other => "other",
        }
    }
}

/// CPU architecture (compile-time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
    X86,
    Arm,
    Riscv64,
    Other,
}

impl Arch {
    pub fn current() -> Self {
        match std::env::consts::ARCH {
            "x86_64" => Self::X86_64,
            "aarch64" => Self::Aarch64,
            "x86" => Self::X86,
            "arm" => Self::Arm,
            "riscv64" => Self::Riscv64,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Aarch64 => "aarch64",
            Self::X86 => "x86",
            Self::Arm => "arm",
            Self::Riscv64 => "riscv64",
            Self::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_map_to_catalogue_or_other() {
        assert_eq!(
            ModelId::from_user("qwen3-coder-plus").as_str(),
            "qwen3-coder-plus"
        );
        assert_eq!(ModelId::from_user(" GPT-4o ").as_str(), "gpt-4o");
        assert_eq!(ModelId::from_user("openai/gpt-5").as_str(), "gpt-5");
        assert_eq!(ModelId::from_user("gpt-4o-2024-08-06").as_str(), "other");
        assert_eq!(ModelId::from_user("my-private-finetune").as_str(), "other");
        assert_eq!(ModelId::from_user("").as_str(), "other");
    }

    #[test]
    fn tools_are_builtin_mcp_or_other() {
        assert_eq!(ToolName::from_call_name("read_file").as_str(), "read_file");
        assert_eq!(
            ToolName::from_call_name("mcp__github__create_issue").as_str(),
            "mcp"
        );
        assert_eq!(
            ToolName::from_call_name("delete_everything").as_str(),
            "other"
        );
    }

    #[test]
    fn commands_are_builtin_or_custom() {
        assert_eq!(SlashCommand::from_input("/model gpt-4o").as_str(), "model");
        assert_eq!(SlashCommand::from_input("privacy").as_str(), "privacy");
        assert_eq!(
            SlashCommand::from_input("/deploy-prod now").as_str(),
            "custom"
        );
        assert_eq!(SlashCommand::from_input("/").as_str(), "custom");
    }

    #[test]
    fn terminal_detection_uses_fixed_kinds() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            TerminalKind::detect(&env(&[("TERM_PROGRAM", "vscode")])),
            TerminalKind::Vscode
        );
        assert_eq!(
            TerminalKind::detect(&env(&[("TERM", "screen-256color"), ("TMUX", "/tmp/x")])),
            TerminalKind::Tmux
        );
        assert_eq!(
            TerminalKind::detect(&env(&[("TERM", "xterm-256color")])),
            TerminalKind::Xterm
        );
        assert_eq!(TerminalKind::detect(&env(&[])), TerminalKind::None);
        assert_eq!(
            TerminalKind::detect(&env(&[("TERM_PROGRAM", "my-own-term"), ("TERM", "foot")])),
            TerminalKind::Other
        );
    }
}
