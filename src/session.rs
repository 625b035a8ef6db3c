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
            ..
        } = self;
        crate::extensions_glue::shut_down(engine).await;
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
fn load_config_quiet(cli: &Cli) -> Result<(ConfigSnapshot, EnvLayer), Problem> {
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
        eprintln!("warning: {w}");
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
    let resumed = load_resumed(&snapshot, resume).await?;
    let client = Arc::new(
        qcode_auth::build_client()
            .map_err(|e| Problem::internal(format!("cannot build the HTTP client: {e}")))?,
    );
    let shared_resolver = qcode_auth::Resolver::new(snapshot.clone());
    let resolver = Arc::new(auth_glue::Resolver(shared_resolver.clone()));
    let (auth, credentials) = resolver.0.start(missing)?;

    let mut tool_ctx = setup::build_tool_context(&snapshot)?;
    let background = tool_ctx.background_jobs.clone();
    let skills = qcode_core::skills::load(&snapshot);
    let (system_prompt, context) = setup::system_prompt_with(&snapshot, &skills);
    for notice in context.notices.iter().chain(&skills.notices) {
        eprintln!("warning: {notice}");
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
    config.session_id = match (&recorder, &resumed) {
        (Some(r), _) => Some(r.session_id().to_string()),
        (None, Some(loaded)) => Some(loaded.id().to_string()),
        (None, None) => None,
    };
    if let Some(loaded) = resumed {
        // The recorder keeps what it needs; the records' text moves into the history.
        config.initial_history = Arc::try_unwrap(loaded).map_or_else(
            |shared| shared.history(),
            qcode_session::LoadedSession::into_history,
        );
    }
    let (hooks, hook_warnings) = crate::extensions_glue::hook_runner(
        &snapshot,
        config.session_id.as_deref(),
        recorder.as_ref().map(|r| r.path()),
    );
    for w in &hook_warnings {
        eprintln!("warning: {w}");
    }
    let deps = EngineDeps {
        client,
        tools: Arc::new(tools),
        tool_ctx: Arc::new(tool_ctx),
        auth_resolver: Some(resolver),
        hooks,
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
            eprintln!("warning: removing old sessions failed: {e}");
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
            eprintln!("warning: {}: {w}", l.path.display());
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
            eprintln!("warning: this session is not recorded: {e}");
            None
        }
        Err(e) => {
            eprintln!("warning: this session is not recorded: {e}");
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

/// `qcode` with no prompt on a terminal: the interactive session.
pub async fn interactive(cli: &Cli, started: std::time::Instant) -> i32 {
    if cli.resume_from().from != ResumeFrom::New {
        return report(
            &Problem::new(
                ErrorKind::Input,
                "--continue and --resume work with non-interactive runs only for now",
            )
            .with_hint("add a prompt: qcode -c -p \"…\""),
        );
    }
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
    let session = match start_with(
        snapshot,
        &env,
        Interaction::Interactive,
        started,
        MissingAuth::SignedOut,
        Resume::default(),
    )
    .await
    {
        Ok(s) => s,
        Err(p) => return report(&p),
    };
    let Session {
        snapshot,
        engine,
        model,
        auth,
        telemetry,
        observer,
        credentials,
        resolver,
        background,
        recording,
        cleanup,
    } = session;
    let services = Arc::new(crate::tui_services::TuiServices::new(
        snapshot.clone(),
        env.clone(),
        telemetry.clone(),
        resolver,
    ));
    let mut options = qcode_tui::TuiOptions::new(snapshot.cwd.clone(), env!("CARGO_PKG_VERSION"));
    options.model = model.clone();
    options.auth = auth;
    options.approval_mode = snapshot.approval_mode.value;
    options.context_window = setup::context_window(&snapshot, &model);
    options.history_file = Some(snapshot.paths.history_file(&snapshot.project_root));
    options.no_color = env.get("NO_COLOR").is_some();
    options.privacy_notice =
        qcode_telemetry::take_first_run_notice(&telemetry, &snapshot.paths.qcode_home);
    options.services = Some(services);
    options.tools = crate::tui_services::tool_infos();
    options.open_auth_at_start = credentials == CredentialsState::SignedOut;
    let result = qcode_tui::run(engine, options).await;
    if let Some(recording) = recording {
        recording.finish().await;
    }
    finish_cleanup(cleanup).await;
    // Ended by a signal: exit as a process killed by it would (128 + signal number).
    let code = match result {
        Ok(exit) => match exit.reason {
            qcode_tui::ExitReason::UserQuit | qcode_tui::ExitReason::EngineStopped => 0,
            qcode_tui::ExitReason::Terminated => 143,
            qcode_tui::ExitReason::HangUp => 129,
        },
        Err(e) => report(&Problem::internal(e.to_string())),
    };
    stop_background(background).await;
    qcode_telemetry::finish(telemetry, observer).await;
    code
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
