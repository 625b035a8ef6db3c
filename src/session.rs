//! Building a session — configuration snapshot, authentication, client, tools, system prompt,
//! engine, usage statistics — shared by the interactive and the headless front ends. Wiring
//! only: what the engine gets from a snapshot is `qcode_core::setup`'s, which method starts is
//! `qcode_auth::Resolver::start`'s.

use std::sync::Arc;

use qcode_auth::{CredentialsState, MissingAuth};
use qcode_config::{CliOverrides, ConfigSnapshot, EnvLayer, Paths};
use qcode_core::setup;
use qcode_core::{EngineDeps, EngineHandle, Interaction};
use qcode_protocol::{ApprovalMode, AuthKind, ErrorKind, Problem};

use crate::auth_glue;
use crate::cli::{ApprovalModeArg, AuthTypeArg, Cli};
use crate::exit::report;

/// Everything a front end needs once the engine runs.
pub struct Session {
    pub snapshot: ConfigSnapshot,
    /// The queue pair; `events` passes through the usage-statistics observer.
    pub engine: EngineHandle,
    pub model: String,
    pub auth: AuthKind,
    pub telemetry: qcode_telemetry::Telemetry,
    observer: tokio::task::JoinHandle<u32>,
    /// Whether usable credentials were found (see [`MissingAuth`]).
    pub credentials: CredentialsState,
    /// The engine's resolver (shared with `/auth`, so a key saved there is the one used).
    pub resolver: qcode_auth::Resolver,
    /// Background shell commands the session started; stopped when it ends.
    pub background: qcode_tools::BackgroundJobs,
    /// The transcript recorder (`None` when recording is off or could not start).
    pub recording: Option<crate::recorder_glue::Recording>,
    /// Retention (`general.cleanupPeriodDays`), running in the background since the start.
    cleanup: tokio::task::JoinHandle<()>,
    /// The session's MCP servers (`None` when none is configured); closed by `finish`.
    pub mcp: Option<Arc<crate::mcp_glue::McpTools>>,
    /// The recorded conversation this interactive session continues (for the TUI to show).
    pub resumed: Option<Resumed>,
}

/// A continued session as the TUI shows it.
pub struct Resumed {
    pub id: String,
    pub history: Vec<qcode_protocol::ChatMessage>,
}

impl Session {
    /// Ends the session: records its end and gives the exporter a bounded moment.
    pub async fn finish(self) {
        let Session {
            engine,
            telemetry,
            observer,
            background,
            recording,
            cleanup,
            mcp,
            ..
        } = self;
        // The engine first (its SessionEnd hooks run), then the MCP servers it used.
        crate::extensions_glue::shut_down(engine).await;
        if let Some(mcp) = mcp {
            mcp.shutdown().await;
        }
        stop_background(background).await;
        if let Some(recording) = recording {
            recording.finish().await;
        }
        finish_cleanup(cleanup).await;
        qcode_telemetry::finish(telemetry, observer).await;
    }
}

pub fn cli_overrides(cli: &Cli) -> CliOverrides {
    CliOverrides {
        model: cli.model.clone(),
        openai_base_url: cli.openai_base_url.clone(),
        openai_api_key: cli
            .openai_api_key
            .clone()
            .map(qcode_config::resolve::ApiKey::new),
        auth_type: cli.auth_type.map(|a| match a {
            AuthTypeArg::QwenOauth => AuthKind::QwenOauth,
            AuthTypeArg::Openai => AuthKind::Openai,
        }),
        approval_mode: if cli.yolo {
            Some(ApprovalMode::Yolo)
        } else {
            cli.approval_mode.map(|m| match m {
                ApprovalModeArg::Plan => ApprovalMode::Plan,
                ApprovalModeArg::Default => ApprovalMode::Default,
                ApprovalModeArg::AutoEdit => ApprovalMode::AutoEdit,
                ApprovalModeArg::Yolo => ApprovalMode::Yolo,
            })
        },
        allowed_tools: cli
            .allowed_tools
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        max_session_turns: cli.max_session_turns,
        no_chat_recording: cli.no_chat_recording,
        sandbox_mode: cli.sandbox.map(crate::sandbox_cmd::mode_name),
        allow_unsandboxed: cli.allow_unsandboxed,
        trust: if cli.trust {
            qcode_config::TrustOverride::TrustThisRun
        } else {
            qcode_config::TrustOverride::Rules
        },
    }
}

/// Loads the configuration snapshot (flags > env > .env > settings > defaults).
pub fn load_config(cli: &Cli) -> Result<(ConfigSnapshot, EnvLayer), Problem> {
    let loaded = load_config_quiet(cli)?;
    print_warnings(&loaded.0);
    Ok(loaded)
}

/// [`load_config`] without printing the warnings (the interactive session may ask about trust
/// first and load again).
pub(crate) fn load_config_quiet(cli: &Cli) -> Result<(ConfigSnapshot, EnvLayer), Problem> {
    let env = EnvLayer::from_process();
    let paths = Paths::from_env(&|k| env.process_get(k))?;
    let cwd = std::env::current_dir().map_err(|e| {
        Problem::new(
            ErrorKind::Config,
            format!("cannot read the working directory: {e}"),
        )
    })?;
    Ok(ConfigSnapshot::load(paths, &cwd, env, &cli_overrides(cli))?)
}

fn print_warnings(snapshot: &ConfigSnapshot) {
    for w in snapshot.warning_lines() {
        crate::exit::warn(format_args!("{w}"));
    }
}

/// `qcode trust …`.
pub fn trust_command(cli: &Cli, args: &crate::cli::TrustArgs) -> i32 {
    let result = load_config_quiet(cli).and_then(|(snapshot, _)| {
        crate::trust_cmd::run(&snapshot.paths.qcode_home, &snapshot.project_root, args)
    });
    match result {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
}

pub use qcode_session::{Resume, ResumeFrom};

/// Builds the engine for `snapshot`: credentials, client, tools, system prompt, telemetry,
/// the transcript recorder; with `resume`, the conversation of a recorded session.
pub async fn start(
    snapshot: ConfigSnapshot,
    env: &EnvLayer,
    interaction: Interaction,
    started: std::time::Instant,
    resume: Resume,
) -> Result<Session, Problem> {
    start_with(
        snapshot,
        env,
        interaction,
        started,
        MissingAuth::Fail,
        resume,
    )
    .await
}

/// [`start`], choosing what happens when no usable credentials are found.
pub async fn start_with(
    snapshot: ConfigSnapshot,
    env: &EnvLayer,
    interaction: Interaction,
    started: std::time::Instant,
    missing: MissingAuth,
    resume: Resume,
) -> Result<Session, Problem> {
    if resume.fork == qcode_session::Fork::Yes && resume.from == ResumeFrom::New {
        return Err(Problem::new(
            ErrorKind::Input,
            "--fork-session needs --continue or --resume ID",
        ));
    }
    if let ResumeFrom::Id(id) = &resume.from
        && id.trim().is_empty()
    {
        return Err(Problem::new(ErrorKind::Input, "--resume needs a session id here")
            .with_hint("`qcode sessions list` shows them; without an id, -r opens a picker in an interactive terminal"));
    }
    let resumed = load_resumed(&snapshot, resume).await?;
    let client = Arc::new(
        qcode_auth::build_client()
            .map_err(|e| Problem::internal(format!("cannot build the HTTP client: {e}")))?,
    );
    let shared_resolver = qcode_auth::Resolver::new(snapshot.clone());
    let resolver = Arc::new(auth_glue::Resolver(shared_resolver.clone()));
    let (auth, credentials) = resolver.0.start(missing)?;

    let mut tool_ctx = setup::build_tool_context(&snapshot)?;
    let sandbox = crate::sandbox_cmd::shell_sandbox(&snapshot);
    if let Some(w) = &sandbox.warning {
        crate::exit::warn(format_args!("{w}"));
    }
    tool_ctx.sandbox = sandbox.sandbox;
    let background = tool_ctx.background_jobs.clone();
    let skills = qcode_core::skills::load(&snapshot);
    let setup::SessionPrompts {
        system_prompt,
        subagent_environment,
        context,
    } = setup::session_prompts(&snapshot, &skills);
    for notice in context.notices.iter().chain(&skills.notices) {
        crate::exit::warn(format_args!("{notice}"));
    }
    let mut tools = qcode_tools::ToolRegistry::builtin();
    if !skills.skills.is_empty() {
        tools = tools.with_skill_tool();
        tool_ctx.skills = Some(skills.skills.clone());
    }
    let mut model = auth.model.clone();
    let mut approval_mode = snapshot.approval_mode.value;
    if let Some(loaded) = &resumed {
        // The session's own model and mode, unless a flag of this run says otherwise (a model
        // name belongs to its provider: only kept when the auth method is the same).
        let state = loaded.state();
        let by_flag = |s: &qcode_config::Source| matches!(s, qcode_config::Source::Cli(_));
        if state.auth == auth.kind && !snapshot.model.as_ref().is_some_and(|m| by_flag(&m.source)) {
            model = state.model;
        }
        if !by_flag(&snapshot.approval_mode.source) {
            approval_mode = state.approval_mode;
        }
    }
    let recorder = if snapshot.chat_recording.value {
        start_recorder(&snapshot, &model, auth.kind, approval_mode, resumed.clone()).await
    } else {
        None
    };
    if let Some(recorder) = &recorder {
        // Checkpoints for rewind, only for a recorded session (they belong to its transcript).
        // A resumed session's files stay relative to the directory its header records.
        let (workspace, turns) = match &resumed {
            Some(l) => (std::path::PathBuf::from(&l.header.cwd), l.turns()),
            None => (snapshot.cwd.clone(), 0),
        };
        tool_ctx.change_tracker = Some(Arc::new(crate::checkpoint_glue::CheckpointTracker::new(
            snapshot.paths.qcode_home.join("file-history"),
            workspace,
            snapshot.cwd.clone(),
            recorder.ids(),
            u32::try_from(turns).unwrap_or(u32::MAX),
        )));
    }
    // After the recorder started: the session continued is in use, so never removed.
    let cleanup = start_cleanup(&snapshot);
    let mut config = setup::engine_config(
        &snapshot,
        auth.kind,
        auth.credentials,
        model.clone(),
        interaction,
        system_prompt,
    );
    config.approval_mode = approval_mode;
    // Test-only (the real-model tier): the first request of each turn asks for a tool call.
    config.sampling.force_tool_call =
        std::env::var_os("QCODE_TEST_FORCE_TOOL_CALL").is_some_and(|v| v == "1");
    config.session_id = match (&recorder, &resumed) {
        (Some(r), _) => Some(r.session_id().to_string()),
        (None, Some(loaded)) => Some(loaded.id().to_string()),
        (None, None) => None,
    };
    let mut shown = None;
    if let Some(loaded) = resumed {
        let id = loaded.id().to_string();
        // The recorder keeps what it needs; the records' text moves into the history.
        config.initial_history = Arc::try_unwrap(loaded).map_or_else(
            |shared| shared.history(),
            qcode_session::LoadedSession::into_history,
        );
        if interaction == Interaction::Interactive {
            shown = Some(Resumed {
                id,
                history: config.initial_history.clone(),
            });
        }
    }
    // In the background: the prompt and the first request never wait for this call.
    let asker = match interaction {
        Interaction::Interactive => crate::mcp_glue::Asker::User,
        Interaction::Headless => crate::mcp_glue::Asker::Nobody,
    };
    let mcp = crate::mcp_glue::start(&snapshot, asker);
    if let Some(mcp) = &mcp {
        tools = tools.with_external(mcp.clone());
    }
    let (hooks, hook_warnings) = crate::extensions_glue::hook_runner(
        &snapshot,
        config.session_id.as_deref(),
        recorder.as_ref().map(|r| r.path()),
    );
    for w in &hook_warnings {
        crate::exit::warn(format_args!("{w}"));
    }
    let (subagents, agent_notices) = setup::subagents_with(&snapshot, &tools, subagent_environment);
    for notice in &agent_notices {
        crate::exit::warn(format_args!("{notice}"));
    }
    let tools = tools.with_task_tool(&subagents.tool_agents());
    let deps = EngineDeps {
        client,
        tools: Arc::new(tools),
        tool_ctx: Arc::new(tool_ctx),
        auth_resolver: Some(resolver),
        hooks,
        subagents: Some(Arc::new(subagents)),
    };
    let engine = qcode_core::spawn(config, deps);
    let run_mode = match interaction {
        Interaction::Interactive => qcode_telemetry::RunMode::Interactive,
        Interaction::Headless => qcode_telemetry::RunMode::Headless,
    };
    let telemetry =
        crate::telemetry_glue::init(&snapshot, env, run_mode, auth.kind, approval_mode, started);
    let (events, observer) = qcode_telemetry::tee(engine.events, telemetry.clone());
    let (events, recording) = match recorder {
        Some(recorder) => {
            let (events, recording) = crate::recorder_glue::tee(events, recorder);
            (events, Some(recording))
        }
        None => (events, None),
    };
    let engine = EngineHandle {
        ops: engine.ops,
        events,
    };
    Ok(Session {
        snapshot,
        engine,
        model,
        auth: auth.kind,
        telemetry,
        observer,
        credentials,
        resolver: shared_resolver,
        background,
        recording,
        cleanup,
        resumed: shown,
        mcp,
    })
}

/// Removes transcripts older than `general.cleanupPeriodDays` (with their checkpoints) off the
/// async thread; a failure is a warning.
fn start_cleanup(snapshot: &ConfigSnapshot) -> tokio::task::JoinHandle<()> {
    let days = snapshot.cleanup_period_days.value;
    let projects = snapshot.paths.qcode_home.join("projects");
    let file_history = snapshot.paths.qcode_home.join("file-history");
    tokio::task::spawn_blocking(move || {
        if let Err(e) = qcode_session::cleanup(&projects, &file_history, days) {
            crate::exit::warn(format_args!("removing old sessions failed: {e}"));
        }
    })
}

/// Gives the retention pass a bounded moment to end.
async fn finish_cleanup(cleanup: tokio::task::JoinHandle<()>) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), cleanup).await;
}

/// Loads the session to continue (off the async thread) and prints its load warnings once.
/// No such session is an input error.
async fn load_resumed(
    snapshot: &ConfigSnapshot,
    resume: Resume,
) -> Result<Option<Arc<qcode_session::LoadedSession>>, Problem> {
    let project_dir = snapshot.paths.project_dir(&snapshot.project_root);
    let loaded =
        tokio::task::spawn_blocking(move || qcode_session::open_to_resume(&project_dir, &resume))
            .await
            .map_err(|e| Problem::internal(format!("loading the session failed: {e}")))??;
    if let Some(l) = &loaded {
        for w in &l.warnings {
            crate::exit::warn(format_args!("{}: {w}", l.path.display()));
        }
    }
    Ok(loaded.map(Arc::new))
}

/// Starts a new transcript, or continues the resumed one (off the async thread); a failure is
/// a warning, not the end of the session.
async fn start_recorder(
    snapshot: &ConfigSnapshot,
    model: &str,
    auth: AuthKind,
    approval_mode: ApprovalMode,
    resumed: Option<Arc<qcode_session::LoadedSession>>,
) -> Option<qcode_session::Recorder> {
    let project_dir = snapshot.paths.project_dir(&snapshot.project_root);
    let project_root = snapshot.project_root.clone();
    let cwd = snapshot.cwd.display().to_string();
    let start = qcode_session::SessionStart {
        cwd: cwd.clone(),
        git_branch: None,
        model: model.to_string(),
        auth,
        approval_mode,
    };
    let created = tokio::task::spawn_blocking(move || {
        let git_branch = qcode_session::git_branch(&project_root);
        let sync = qcode_session::SyncPolicy::Durable;
        match resumed {
            Some(loaded) => qcode_session::Recorder::resume(&loaded, cwd, git_branch, sync),
            None => {
                let start = qcode_session::SessionStart {
                    git_branch,
                    ..start
                };
                qcode_session::Recorder::create(&project_dir, start, sync)
            }
        }
    })
    .await;
    match created {
        Ok(Ok(recorder)) => Some(recorder),
        Ok(Err(e)) => {
            crate::exit::warn(format_args!("this session is not recorded: {e}"));
            None
        }
        Err(e) => {
            crate::exit::warn(format_args!("this session is not recorded: {e}"));
            None
        }
    }
}

/// Stops the background commands of the session (off the async thread: it sleeps briefly).
async fn stop_background(jobs: qcode_tools::BackgroundJobs) {
    let _ =
        tokio::task::spawn_blocking(move || jobs.stop_all(std::time::Duration::from_millis(300)))
            .await;
}

/// `qcode` with no prompt on a terminal: the interactive session. `-c` / `-r ID` open it on a
/// recorded session, `-r` without an id opens the `/resume` picker first. `/resume` and
/// `/rewind` end the TUI with a reason; this loop then finishes the session (its recording
/// flushed, its lock released), switches or rewinds, and runs the TUI again.
pub async fn interactive(cli: &Cli, started: std::time::Instant) -> i32 {
    let loaded =
        load_config_quiet(cli).and_then(|loaded| match crate::trust_cmd::ask_once(&loaded.0) {
            crate::trust_cmd::Answer::Trusted => load_config_quiet(cli),
            crate::trust_cmd::Answer::Declined => Ok(loaded),
        });
    let (snapshot, env) = match loaded {
        Ok(v) => v,
        Err(p) => return report(&p),
    };
    print_warnings(&snapshot);
    let mut next = Next::default();
    let mut resume = cli.resume_from();
    // `qcode -r --fork-session`: the session chosen in the picker is continued as a copy.
    let mut picker_fork = None;
    match &resume.from {
        ResumeFrom::Id(id) if id.trim().is_empty() => {
            picker_fork = Some(resume.fork);
            resume = Resume::default();
            next.open_picker = true;
        }
        ResumeFrom::MostRecent => {
            let project_dir = snapshot.paths.project_dir(&snapshot.project_root);
            let found =
                tokio::task::spawn_blocking(move || qcode_session::most_recent(&project_dir))
                    .await
                    .map_err(|e| Problem::internal(format!("listing the sessions failed: {e}")));
            match found {
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None)) => {
                    resume = Resume::default();
                    next.notices.push(
                        "No earlier session in this project to continue: this is a new session"
                            .into(),
                    );
                }
                Ok(Err(e)) => return report(&Problem::from(e)),
                Err(p) => return report(&p),
            }
        }
        ResumeFrom::Id(_) | ResumeFrom::New => {}
    }
    let mut privacy_notice = None;
    let mut first = true;
    loop {
        let session = match start_with(
            snapshot.clone(),
            &env,
            Interaction::Interactive,
            started,
            MissingAuth::SignedOut,
            resume,
        )
        .await
        {
            Ok(s) => s,
            Err(p) => return report(&p),
        };
        if first {
            privacy_notice = qcode_telemetry::take_first_run_notice(
                &session.telemetry,
                &snapshot.paths.qcode_home,
            );
            first = false;
        }
        let (result, session) = run_tui(
            session,
            &env,
            std::mem::take(&mut next),
            privacy_notice.take(),
        )
        .await;
        let reason = match result {
            Ok(exit) => exit.reason,
            Err(e) => {
                session.finish().await;
                return report(&Problem::internal(e.to_string()));
            }
        };
        let current = session.current_id();
        session.finish().await;
        if let (qcode_tui::ExitReason::Switch(_), Some(id)) = (&reason, &current) {
            remove_if_empty(&snapshot, id).await;
        }
        // Ended by a signal: exit as a process killed by it would (128 + signal number).
        match reason {
            qcode_tui::ExitReason::UserQuit | qcode_tui::ExitReason::EngineStopped => return 0,
            qcode_tui::ExitReason::Terminated => return 143,
            qcode_tui::ExitReason::HangUp => return 129,
            qcode_tui::ExitReason::Switch(id) => {
                resume = Resume {
                    from: ResumeFrom::Id(id),
                    fork: picker_fork.take().unwrap_or(qcode_session::Fork::No),
                };
            }
            qcode_tui::ExitReason::Rewind {
                turn,
                scope,
                overwrite,
                prompt,
            } => {
                let Some(id) = current else {
                    return report(&Problem::internal("rewind without a recorded session"));
                };
                next = rewind(&snapshot, &id, turn, scope, overwrite, prompt).await;
                resume = Resume {
                    from: ResumeFrom::Id(id),
                    fork: qcode_session::Fork::No,
                };
            }
        }
    }
}

/// Removes the transcript of session `id` when it holds no prompt (a session left by
/// `/resume`, or started only to show `qcode -r`'s picker, is not worth keeping); a failure is
/// a warning.
async fn remove_if_empty(snapshot: &ConfigSnapshot, id: &str) {
    let project_dir = snapshot.paths.project_dir(&snapshot.project_root);
    let file_history = snapshot.paths.qcode_home.join("file-history");
    let id = id.to_string();
    let removed = tokio::task::spawn_blocking(move || {
        let path = qcode_session::find(&project_dir, &id)?;
        if qcode_session::load(&path)?.turns() == 0 {
            qcode_session::delete(&project_dir, &file_history, &id)?;
        }
        Ok::<_, qcode_session::SessionError>(())
    })
    .await;
    match removed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => crate::exit::warn(format_args!("an empty session was not removed: {e}")),
        Err(e) => crate::exit::warn(format_args!("an empty session was not removed: {e}")),
    }
}

/// What the next run of the TUI starts with.
#[derive(Default)]
struct Next {
    open_picker: bool,
    notices: Vec<String>,
    initial_input: Option<String>,
    conflict: Option<qcode_tui::RewindConflict>,
}

impl Session {
    /// The id of the session being recorded now (it changes at `/clear`).
    fn current_id(&self) -> Option<String> {
        self.recording.as_ref().map(|r| r.handle().current().id)
    }
}

/// Runs the TUI on `session`; gives the session back to be finished.
async fn run_tui(
    mut session: Session,
    env: &EnvLayer,
    next: Next,
    privacy_notice: Option<String>,
) -> (Result<qcode_tui::TuiExit, qcode_tui::TuiError>, Session) {
    // The TUI owns the queue pair while it runs; the session keeps ends that are closed
    // already, so finishing it drops nothing the engine still needs.
    let engine = std::mem::replace(&mut session.engine, closed_engine_handle());
    let snapshot = session.snapshot.clone();
    let model = session.model.clone();
    let recording = session.recording.as_ref();
    let services = Arc::new(
        crate::tui_services::TuiServices::new(
            snapshot.clone(),
            env.clone(),
            session.telemetry.clone(),
            session.resolver.clone(),
        )
        .with_recording(recording.map(crate::recorder_glue::Recording::handle))
        .with_mcp(session.mcp.clone()),
    );
    let mut options = qcode_tui::TuiOptions::new(snapshot.cwd.clone(), env!("CARGO_PKG_VERSION"));
    options.model = model.clone();
    options.auth = session.auth;
    options.approval_mode = snapshot.approval_mode.value;
    options.context_window = setup::context_window(&snapshot, &model);
    options.history_file = Some(snapshot.paths.history_file(&snapshot.project_root));
    options.no_color = env.get("NO_COLOR").is_some();
    options.privacy_notice = privacy_notice;
    options.services = Some(services);
    options.tools = crate::tui_services::tool_infos();
    options.open_auth_at_start = session.credentials == CredentialsState::SignedOut;
    options.open_resume_at_start = next.open_picker;
    options.start_notices = next.notices;
    options.initial_input = next.initial_input;
    options.rewind_conflict = next.conflict;
    options.sandbox = Some(crate::sandbox_cmd::shell_sandbox(&snapshot).label);
    if let Some(resumed) = session.resumed.take() {
        let id8: String = resumed.id.chars().take(8).collect();
        options.session_label = Some(format!("resumed {id8}"));
        options.resumed = resumed.history;
    }
    let result = qcode_tui::run(engine, options).await;
    (result, session)
}

/// A queue pair whose other ends are gone.
fn closed_engine_handle() -> EngineHandle {
    let (ops, _) = tokio::sync::mpsc::unbounded_channel();
    let (_, events) = tokio::sync::mpsc::channel(1);
    EngineHandle { ops, events }
}

/// Rewinds session `id` (its recording finished) and says what the next TUI run shows: what
/// was restored and the prompt taken back, or the question about files changed outside qcode.
async fn rewind(
    snapshot: &ConfigSnapshot,
    id: &str,
    turn: u32,
    scope: qcode_tui::RewindScope,
    overwrite: qcode_tui::Overwrite,
    prompt: String,
) -> Next {
    let project_dir = snapshot.paths.project_dir(&snapshot.project_root);
    let file_history = snapshot.paths.qcode_home.join("file-history");
    let session_scope = match scope {
        qcode_tui::RewindScope::Both => qcode_session::RewindScope::Both,
        qcode_tui::RewindScope::ConversationOnly => qcode_session::RewindScope::ConversationOnly,
        qcode_tui::RewindScope::CodeOnly => qcode_session::RewindScope::CodeOnly,
    };
    let force = match overwrite {
        qcode_tui::Overwrite::Refuse => qcode_session::Force::No,
        qcode_tui::Overwrite::Confirmed => qcode_session::Force::Yes,
    };
    let id_owned = id.to_string();
    let done = tokio::task::spawn_blocking(move || {
        let path = qcode_session::find(&project_dir, &id_owned)?;
        let prompt = qcode_session::load(&path)?
            .user_prompts()
            .get(turn.saturating_sub(1) as usize)
            .map(|p| p.to_string());
        let report =
            qcode_session::rewind_session(&path, &file_history, turn, session_scope, force)?;
        Ok::<_, qcode_session::SessionError>((report, prompt))
    })
    .await;
    let mut next = Next::default();
    match done {
        Ok(Ok((report, recorded_prompt))) => {
            let mut text = format!("Rewound to before prompt {turn}");
            if scope != qcode_tui::RewindScope::CodeOnly {
                text.push_str(&format!(
                    " · conversation cut back ({} records removed)",
                    report.records_removed
                ));
            }
            if scope != qcode_tui::RewindScope::ConversationOnly {
                if report.restored.is_empty() {
                    text.push_str(" · no file needed restoring");
                } else {
                    let files: Vec<String> = report
                        .restored
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    text.push_str(&format!(" · restored {}", files.join(", ")));
                }
                for n in &report.not_restorable {
                    text.push_str(&format!("\nnot restorable: {n}"));
                }
            }
            next.notices.push(text);
            if scope != qcode_tui::RewindScope::CodeOnly {
                next.initial_input = recorded_prompt.or(Some(prompt)).filter(|p| !p.is_empty());
            }
        }
        Ok(Err(qcode_session::SessionError::Conflicts { paths })) => {
            next.conflict = Some(qcode_tui::RewindConflict {
                turn,
                scope,
                paths: paths.iter().map(|p| p.display().to_string()).collect(),
            });
        }
        Ok(Err(e)) => next.notices.push(format!("The rewind failed: {e}")),
        Err(e) => next.notices.push(format!("The rewind failed: {e}")),
    }
    next
}

pub async fn auth_command(cli: &Cli, args: &crate::cli::AuthArgs) -> i32 {
    crate::auth_cmd::run(cli, args).await
}

pub async fn privacy_command(cli: &Cli, args: &crate::cli::PrivacyArgs) -> i32 {
    use qcode_telemetry::PrivacyCommand;
    let command = match args.action {
        None | Some(crate::cli::PrivacyAction::Status) => PrivacyCommand::Status,
        Some(crate::cli::PrivacyAction::On) => PrivacyCommand::On,
        Some(crate::cli::PrivacyAction::Off) => PrivacyCommand::Off,
        Some(crate::cli::PrivacyAction::Log { count }) => PrivacyCommand::Log { last: count },
    };
    let result = load_config(cli).and_then(|(snapshot, env)| {
        crate::telemetry_glue::privacy_command(&snapshot, &env, command)
    });
    match result {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
}
