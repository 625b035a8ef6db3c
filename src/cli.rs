//! Command-line interface (clap). Help texts here are user documentation: keep them true.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "qcode",
    version,
    // `qcode help me write tests` is a prompt, not the help subcommand; a lone `qcode help`
    // still prints the help (see `Cli::wants_help`).
    disable_help_subcommand = true,
    about = "A fast, private terminal AI coding assistant",
    long_about = "qcode reads, searches, edits and runs code for you with the model you choose: \
Qwen OAuth or any OpenAI-compatible API (DashScope, OpenRouter, DeepSeek, OpenAI, Ollama, vLLM, LM Studio).\n\n\
Run `qcode` for an interactive session, or `qcode -p \"prompt\"` (or pipe text into it) for a \
non-interactive run configured by environment variables and .env files.",
    after_help = "Configuration: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL (or QWEN_MODEL) from the \
environment or the first .env found (./.qcode/.env, ./.env, then each parent directory, then \
~/.qcode/.env, ~/.env); settings in ~/.qcode/settings.json and <project>/.qcode/settings.json.\n\
Exit codes: 0 ok, 1 error, 2 usage error, 41 authentication, 42 input, 52 configuration, 53 turn limit, 130 interrupted, 129 SIGHUP, 143 SIGTERM.\n\
Docs: docs/configuration.md, docs/headless.md, docs/auth.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run this prompt non-interactively and exit (piped stdin is appended to it).
    #[arg(short = 'p', long = "prompt", value_name = "PROMPT")]
    pub prompt_flag: Option<String>,

    /// The prompt, as positional words (same as -p).
    #[arg(value_name = "PROMPT", trailing_var_arg = true)]
    pub prompt_words: Vec<String>,

    /// Model to use (overrides OPENAI_MODEL / QWEN_MODEL and settings model.name).
    #[arg(short = 'm', long)]
    pub model: Option<String>,

    /// OpenAI-compatible base URL (overrides OPENAI_BASE_URL), e.g. https://openrouter.ai/api/v1.
    #[arg(long, value_name = "URL")]
    pub openai_base_url: Option<String>,

    /// API key (overrides OPENAI_API_KEY). Less safe than the environment or a .env file:
    /// command lines are visible to other users and kept in shell history.
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,

    /// Output format of a non-interactive run.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormatArg::Text)]
    pub output_format: OutputFormatArg,

    /// Authentication method (overrides settings security.auth.selectedType; default: inferred).
    #[arg(long, value_enum)]
    pub auth_type: Option<AuthTypeArg>,

    /// How much may run without asking: plan (read-only), default (ask before edits, shell and
    /// fetches), auto-edit (edits in the workspace allowed), yolo (everything allowed but
    /// fetches of private-network addresses).
    #[arg(long, value_enum)]
    pub approval_mode: Option<ApprovalModeArg>,

    /// Allow everything without asking, but private-network fetches (same as --approval-mode
    /// yolo).
    #[arg(short = 'y', long, conflicts_with = "approval_mode")]
    pub yolo: bool,

    /// Trust the current folder for this run only: its .qcode/settings.json and .env may then
    /// set base URLs, approval modes and allowed tools (same as QCODE_TRUST_WORKSPACE=1; for CI).
    #[arg(long, global = true)]
    pub trust: bool,

    /// Tools allowed without asking, comma-separated; a shell prefix is written
    /// `run_shell_command(cargo test)`, an MCP tool `mcp__server__tool` (or `mcp__server` for
    /// all of a server's tools). Example: --allowed-tools edit,write_file
    #[arg(long, value_delimiter = ',', value_name = "TOOLS")]
    pub allowed_tools: Vec<String>,

    /// Maximum model requests in this session (a run that reaches it exits with code 53).
    #[arg(long, value_name = "N")]
    pub max_session_turns: Option<u32>,

    /// Record no transcript of this session (settings general.chatRecording: false turns
    /// recording off for good). Transcripts stay on this machine, in ~/.qcode/projects/.
    #[arg(long)]
    pub no_chat_recording: bool,

    /// Continue the most recent session of this project (with -p: its conversation is resent
    /// and the new turn is appended to its transcript; model and approval mode as it left
    /// them unless flags say otherwise).
    #[arg(short = 'c', long = "continue", conflicts_with = "resume")]
    pub continue_session: bool,

    /// Continue the session with this id (a unique prefix is enough), like --continue.
    /// Without an id (interactive only): pick one of this project's sessions.
    #[arg(short = 'r', long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    pub resume: Option<String>,

    /// With --continue / --resume: continue a copy of the session under a new id, leaving the
    /// original as it was.
    #[arg(long)]
    pub fork_session: bool,

    /// Sandbox for the commands the model runs (overrides settings tools.sandbox.mode):
    /// workspace-write (default: writes only in the workspace and the temp directory, no
    /// network, credential stores unreadable), read-only, or off. See docs/sandbox.md.
    #[arg(long, value_enum, value_name = "MODE")]
    pub sandbox: Option<SandboxModeArg>,

    /// Let the model run a command outside the sandbox (`sandbox: "off"`) without asking the
    /// user; the only way a non-interactive run allows it.
    #[arg(long)]
    pub allow_unsandboxed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxModeArg {
    WorkspaceWrite,
    ReadOnly,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormatArg {
    /// The answer on stdout as it streams; progress and errors on stderr.
    Text,
    /// One JSON object at the end (result, is_error, usage, duration_ms, model, …).
    Json,
    /// One JSON event per line as things happen, then the result object.
    StreamJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthTypeArg {
    /// Qwen account (OAuth device flow; credentials shared with Qwen Code).
    QwenOauth,
    /// OpenAI-compatible base URL + API key.
    Openai,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApprovalModeArg {
    Plan,
    Default,
    AutoEdit,
    Yolo,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in, show or remove credentials.
    Auth(AuthArgs),
    /// Usage statistics: show what is collected, turn it on or off, show the audit log.
    Privacy(PrivacyArgs),
    /// Trust a folder, so that its own files (.qcode/settings.json, .env) may change where
    /// requests go, what runs without asking and what is allowed (see docs/trust.md).
    Trust(TrustArgs),
    /// Recorded sessions of this project: list, show, export, delete, rewind (see
    /// docs/sessions.md).
    Sessions(SessionsArgs),
    /// MCP servers: add, list (connecting to each), show, remove or probe one, sign in to one
    /// with OAuth (see docs/mcp.md).
    Mcp(McpArgs),
    /// Subagents the `task` tool can start: list them with where each comes from (see
    /// docs/subagents.md).
    Agents(AgentsArgs),
    /// The sandbox for the commands the model runs: what this kernel supports and the
    /// effective policy (see docs/sandbox.md).
    Sandbox(SandboxArgs),
    /// Bring your Qwen Code or Claude Code setup over: the settings that map (model, approval
    /// mode, context file names, MCP servers, hooks, allowed tools), and copies of your
    /// commands, skills and agents (see docs/import.md).
    ///
    /// Reads your user setup of Qwen Code (~/.qwen: settings.json in the nested or the legacy
    /// flat shape, commands/, skills/, agents/, QWEN.md) or Claude Code (~/.claude/settings.json,
    /// the user-scope mcpServers of ~/.claude.json, commands/, skills/, agents/, CLAUDE.md) and
    /// writes the qcode equivalents into ~/.qcode ($QCODE_HOME), printing what it took, what it
    /// skipped and why. The other tool's files are only read.
    Import(ImportArgs),
}

/// `qcode import qwen|claude`.
#[derive(Debug, Args)]
#[command(
    after_help = "Never overwrites an existing qcode setting, server, hook event or file unless \
--force is given; running it again changes nothing and says so. API keys and tokens are not \
copied: a secret-looking settings value is skipped, and a secret-looking MCP env or header value \
becomes a ${VAR} reference, with a note naming the variable to set in your environment or \
~/.qcode/.env. A settings file that is not valid JSON is an error naming the file and the line, \
and nothing is written."
)]
pub struct ImportArgs {
    /// Which tool's setup to read.
    #[arg(value_enum)]
    pub from: ImportFrom,
    /// Print the plan and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace qcode entries and files that differ from the imported ones.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFrom {
    /// Qwen Code (~/.qwen, or $QWEN_HOME).
    Qwen,
    /// Claude Code (~/.claude and ~/.claude.json).
    Claude,
}

#[derive(Debug, Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    pub action: AgentsAction,
}

#[derive(Debug, Subcommand)]
pub enum AgentsAction {
    /// Name, source (built-in, user, project, .qwen), description, tools and model of each
    /// agent, and the definitions not used (bad files, untrusted project agents with write
    /// tools).
    List,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub action: SandboxAction,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum SandboxAction {
    /// Kernel support (Landlock ABI and features) and the policy this folder's sessions get.
    Status,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    pub action: McpAction,
}

/// Which settings file an MCP server is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum McpScopeArg {
    /// ~/.qcode/settings.json: yours, started in every project.
    User,
    /// The project's .qcode/settings.json: started only when the folder is trusted.
    Project,
}

/// `qcode mcp probe --elicitation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ElicitationArg {
    /// Decline every request for input.
    Decline,
    /// Accept with the schema's defaults (SEP-1034); a required field without one declines.
    AcceptDefaults,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum McpTransportArg {
    /// A program speaking MCP on stdin/stdout: `-- COMMAND [ARGS…]`.
    Stdio,
    /// Streamable HTTP: a URL.
    Http,
}

#[derive(Debug, Clone, Subcommand)]
pub enum McpAction {
    /// Add a server: `qcode mcp add NAME -- COMMAND [ARGS…]` (stdio) or
    /// `qcode mcp add NAME URL` (streamable HTTP). Replaces a server of that name in the same
    /// file.
    Add {
        /// The server's name (letters, digits, `_`, `-`, `.`); its tools are offered as
        /// mcp__NAME__TOOL.
        name: String,
        /// The command and its arguments (after `--`, so that its own options are not read
        /// as qcode's), or the URL.
        #[arg(required = true, num_args = 1.., value_name = "COMMAND_OR_URL")]
        target: Vec<String>,
        #[arg(long, value_enum, default_value = "user")]
        scope: McpScopeArg,
        /// How to talk to it (default: http for an http(s):// URL, else stdio).
        #[arg(long, short = 't', value_enum)]
        transport: Option<McpTransportArg>,
        /// An environment variable for a stdio server (repeatable). Written to the settings
        /// as given (prefer `KEY=${KEY}` to keep a key in your environment or .env); never
        /// printed by `list` or `get`.
        #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// A header for an HTTP server (repeatable), e.g. 'Authorization: Bearer ${TOKEN}';
        /// never printed by `list` or `get`.
        #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// Per tool call, in milliseconds (default 10 minutes).
        #[arg(long, value_name = "MS")]
        timeout: Option<u64>,
        /// Its tools run without asking for approval.
        #[arg(long)]
        trust: bool,
    },
    /// Every configured server: transport, where it is configured, and whether it connects
    /// (each is started, in parallel, bounded by mcp.discoveryTimeout) with its tool count.
    List,
    /// One server's configuration (values of env and headers masked).
    Get { name: String },
    /// Check that a server works with qcode: connect (streamable HTTP URL, or a configured
    /// server's name), `initialize`, list its tools, and optionally call one. Prints what the
    /// server says; exits non-zero if it cannot be reached or the call fails. Also the client
    /// the official MCP conformance suite drives (see docs/mcp.md).
    Probe {
        /// An http(s):// URL of a streamable HTTP server, or the name of a configured server
        /// (a project's server only in a trusted folder).
        target: String,
        /// Call this tool (the server's own name for it) after listing.
        #[arg(long, value_name = "TOOL")]
        call: Option<String>,
        /// The call's arguments, a JSON object (default `{}`).
        #[arg(long, value_name = "JSON", requires = "call")]
        args: Option<String>,
        /// A header for a URL target (repeatable), e.g. "Authorization: Bearer $TOKEN";
        /// its value is never printed.
        #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// How long `initialize` + `tools/list`, and then the call, may each take (ms).
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout: u64,
        /// For a URL target that requires OAuth (the sign-in is kept for this run only).
        #[command(flatten)]
        client: OAuthClientArgs,
        /// What to answer when the server asks for input (`elicitation/create`): decline
        /// (with a warning naming the server), or accept with the defaults its form gives.
        #[arg(long, value_enum, value_name = "POLICY", default_value = "decline")]
        elicitation: ElicitationArg,
    },
    /// Sign in to a remote (HTTP) server that requires OAuth: discovers its authorization
    /// server, registers qcode with it, opens the authorization URL in your browser (the
    /// `BROWSER` variable, else the platform's opener; the URL is printed too) and waits for
    /// the redirect to qcode on 127.0.0.1. The tokens are stored in
    /// $QCODE_HOME/mcp-oauth-tokens.json (0600) for this server's name and URL, and refreshed
    /// when they expire; they are never printed.
    Login {
        /// The configured server's name (see `qcode mcp list`).
        name: String,
        /// How long to wait for the browser to come back, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        timeout: u64,
        #[command(flatten)]
        client: OAuthClientArgs,
    },
    /// Forget a server's OAuth sign-in: removes its tokens from
    /// $QCODE_HOME/mcp-oauth-tokens.json (the authorization server is not told).
    Logout {
        /// The server's name (also one no longer configured).
        name: String,
    },
    /// Remove a server from a settings file (default: wherever it is configured).
    Remove {
        name: String,
        #[arg(long, value_enum)]
        scope: Option<McpScopeArg>,
    },
}

/// A client registered beforehand with a server's authorization server (for one without
/// dynamic client registration).
#[derive(Debug, Clone, Args)]
pub struct OAuthClientArgs {
    /// Use this pre-registered OAuth client id instead of registering qcode (its redirect URI
    /// must allow http://127.0.0.1 on any port).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The environment variable holding that client's secret (a confidential client); the
    /// secret itself never goes on the command line.
    #[arg(long, value_name = "VAR", requires = "client_id")]
    pub client_secret_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub action: SessionsAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SessionsAction {
    /// This project's sessions, newest first.
    List {
        /// Every project's sessions.
        #[arg(long)]
        all: bool,
        /// One JSON array (id, path, title, cwd, created_at, updated_at, turns, model, …).
        #[arg(long)]
        json: bool,
    },
    /// A session's conversation as readable text.
    Show {
        /// The session id, or a unique prefix of it.
        id: String,
    },
    /// A session as markdown (default), json or jsonl.
    Export {
        /// The session id, or a unique prefix of it.
        id: String,
        #[arg(long, value_enum, default_value_t = ExportFormatArg::Markdown)]
        format: ExportFormatArg,
        /// Write to this file (mode 0600) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Delete a session and its checkpoints.
    Delete {
        /// The session id, or a unique prefix of it.
        id: String,
    },
    /// Rewind a session to before turn N: restore the files its turns N and later changed
    /// (recreating deleted files, deleting created ones) and cut the conversation back, so
    /// that `qcode -r ID -p …` continues from there.
    ///
    /// A file changed outside qcode since qcode last changed it is not overwritten: the
    /// rewind refuses, names it and changes nothing (exit code 42) unless --force is given.
    /// Files whose earlier content was not kept (binary or larger than 2 MiB, changed by a
    /// shell command) are listed and left as they are. See docs/sessions.md.
    #[command(group(clap::ArgGroup::new("scope").args(["code_only", "conversation_only"])))]
    Rewind {
        /// The session id, or a unique prefix of it.
        id: String,
        /// The turn to rewind to before: the number of its user message (1 is the first;
        /// `qcode sessions show ID` lists them in order).
        #[arg(long, value_name = "N")]
        turn: u32,
        /// Restore the files only; the conversation stays as it is.
        #[arg(long)]
        code_only: bool,
        /// Cut the conversation only; the files stay as they are.
        #[arg(long)]
        conversation_only: bool,
        /// Overwrite files that were changed outside qcode since its last change.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    Markdown,
    Json,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The folder (default: the current project, i.e. its git root or the working directory).
    #[arg(value_name = "PATH")]
    pub path: Option<std::path::PathBuf>,
    /// Stop trusting the folder (removes its rule).
    #[arg(long, conflicts_with = "list")]
    pub revoke: bool,
    /// List the trusted (and refused) folders.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub action: AuthAction,
}

#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Sign in with a Qwen account (device authorization in the browser).
    QwenOauth {
        /// Do not open a browser; print the URL and code only.
        #[arg(long)]
        no_browser: bool,
    },
    /// Save an OpenAI-compatible base URL, model and key to ~/.qcode/credentials.json (0600).
    /// The key is read from stdin (without echo on a terminal).
    ApiKey {
        /// Base URL, or a preset: dashscope, dashscope-intl, coding-plan, modelscope,
        /// openrouter, deepseek, openai, ollama, lmstudio, vllm.
        #[arg(long)]
        base_url: Option<String>,
        #[arg(long)]
        model: Option<String>,
        /// The key on the command line (unsafe: visible to other users and in shell history).
        #[arg(long, hide_env_values = true)]
        key: Option<String>,
    },
    /// Show the active method, host, model and token expiry (never the secret).
    Status,
    /// Remove saved credentials: the active method's by default.
    Logout {
        /// Remove both the Qwen OAuth login and the saved API key.
        #[arg(long, conflicts_with_all = ["qwen_oauth", "api_key"])]
        all: bool,
        /// Remove the Qwen OAuth login (~/.qwen/oauth_creds.json, shared with Qwen Code).
        #[arg(long, conflicts_with = "api_key")]
        qwen_oauth: bool,
        /// Remove the saved API key (~/.qcode/credentials.json).
        #[arg(long)]
        api_key: bool,
    },
}

#[derive(Debug, Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    pub action: Option<PrivacyAction>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum PrivacyAction {
    /// What is collected, where it goes, and whether it is on (default).
    Status,
    /// Turn anonymous usage statistics on.
    On,
    /// Turn anonymous usage statistics off (persisted in ~/.qcode/settings.json).
    Off,
    /// Show the latest events exactly as they were exported.
    Log {
        /// How many of the newest events to show.
        #[arg(default_value_t = qcode_telemetry::DEFAULT_LOG_EVENTS)]
        count: usize,
    },
}

impl Cli {
    /// Which recorded session to continue (`--continue`, `--resume ID`), and whether as a copy
    /// (`--fork-session`).
    pub fn resume_from(&self) -> crate::session::Resume {
        use crate::session::ResumeFrom;
        crate::session::Resume {
            from: match (&self.resume, self.continue_session) {
                (Some(id), _) => ResumeFrom::Id(id.clone()),
                (None, true) => ResumeFrom::MostRecent,
                (None, false) => ResumeFrom::New,
            },
            fork: if self.fork_session {
                qcode_session::Fork::Yes
            } else {
                qcode_session::Fork::No
            },
        }
    }

    /// `qcode help` alone (no flags, no other words) asks for the help text.
    pub fn wants_help(&self) -> bool {
        self.command.is_none()
            && self.prompt_flag.is_none()
            && self.prompt_words.len() == 1
            && self.prompt_words[0] == "help"
    }

    /// The prompt given on the command line (flag or words), if any.
    pub fn prompt(&self) -> Option<String> {
        match (&self.prompt_flag, self.prompt_words.is_empty()) {
            (Some(p), true) => Some(p.clone()),
            (Some(p), false) => Some(format!("{p} {}", self.prompt_words.join(" "))),
            (None, false) => Some(self.prompt_words.join(" ")),
            (None, true) => None,
        }
    }
}
