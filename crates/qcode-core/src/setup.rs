//! From a configuration snapshot to what the engine runs with: the system prompt (environment
//! facts and context files), the tools' context, the [`EngineConfig`], and the `/memory show`
//! text. Front ends and the binary call these instead of knowing the snapshot's fields.

use std::sync::Arc;

use qcode_client::CredentialSource;
use qcode_config::ConfigSnapshot;
use qcode_protocol::{AuthKind, ErrorKind, Problem};
use qcode_tools::{LazyHttpClient, ToolContext};

use crate::approval::Interaction;
use crate::context::{self, ProjectContext};
use crate::engine::{EngineConfig, Sampling};
use crate::prompt::{self, Repository};

/// The system prompt for `snapshot` (environment facts, context files and the skills listing,
/// read now), and the context files it was built from. Used by `/memory refresh`.
pub fn system_prompt_for(snapshot: &ConfigSnapshot) -> (String, ProjectContext) {
    let skills = crate::skills::load(snapshot);
    system_prompt_with(snapshot, &skills)
}

/// [`system_prompt_for`] with skills already loaded (at start, where the same skills back the
/// `skill` tool).
pub fn system_prompt_with(
    snapshot: &ConfigSnapshot,
    skills: &crate::skills::LoadedSkills,
) -> (String, ProjectContext) {
    let (prompt, context) = base_system_prompt(snapshot);
    (crate::skills::with_skills(prompt, &skills.listing), context)
}

fn base_system_prompt(snapshot: &ConfigSnapshot) -> (String, ProjectContext) {
    let (facts, context) = environment(snapshot);
    (prompt::system_prompt(&facts, &context), context)
}

/// What a session starts with, from one read of the environment and the context files: the
/// main system prompt (with the skills listing), the text every subagent's prompt ends with
/// (the same facts and context files), and the context files themselves (for their notices).
pub struct SessionPrompts {
    pub system_prompt: String,
    pub subagent_environment: String,
    pub context: ProjectContext,
}

/// [`system_prompt_with`] and the subagents' environment text, the context files read once.
pub fn session_prompts(
    snapshot: &ConfigSnapshot,
    skills: &crate::skills::LoadedSkills,
) -> SessionPrompts {
    let (facts, context) = environment(snapshot);
    SessionPrompts {
        system_prompt: crate::skills::with_skills(
            prompt::system_prompt(&facts, &context),
            &skills.listing,
        ),
        subagent_environment: prompt::environment_and_context(&facts, &context),
        context,
    }
}

fn environment(snapshot: &ConfigSnapshot) -> (prompt::EnvironmentFacts, ProjectContext) {
    let context = context::load(
        &snapshot.paths.qcode_home,
        &snapshot.project_root,
        &snapshot.cwd,
        &snapshot.context_file_names.value,
    );
    let repository = match qcode_config::paths::git_root(&snapshot.cwd) {
        Some(_) => Repository::Git,
        None => Repository::NotARepository,
    };
    let facts = prompt::environment_facts(&snapshot.cwd, repository, prompt::today_utc());
    (facts, context)
}

/// The session's subagents: the built-in `general-purpose`, `<qcode home>/agents`, the
/// project's `.qwen/agents` and `.qcode/agents` (later ones win), an untrusted project's only
/// when they use read-only tools of `tools`; their prompts end with the same environment facts
/// and context files as the main prompt. Also the notices for the user (bad files, refused
/// definitions).
pub fn subagents_for(
    snapshot: &ConfigSnapshot,
    tools: &qcode_tools::ToolRegistry,
) -> (crate::subagents::Subagents, Vec<String>) {
    let (facts, context) = environment(snapshot);
    subagents_with(
        snapshot,
        tools,
        prompt::environment_and_context(&facts, &context),
    )
}

/// [`subagents_for`] with the environment text already built ([`session_prompts`]), so a
/// session reads its context files once.
pub fn subagents_with(
    snapshot: &ConfigSnapshot,
    tools: &qcode_tools::ToolRegistry,
    environment: String,
) -> (crate::subagents::Subagents, Vec<String>) {
    use qcode_extensions::agents;
    use qcode_extensions::loader::Trust;
    let trust = if snapshot.trust.is_trusted() {
        Trust::Trusted
    } else {
        Trust::Untrusted
    };
    let mut catalog = agents::agent_catalog(agents::agent_roots_in(
        &snapshot.paths.qcode_home,
        Some(&snapshot.project_root),
        trust,
    ));
    let mut notices: Vec<String> = catalog
        .refresh()
        .new_diagnostics
        .iter()
        .map(|d| format!("agent {d}"))
        .collect();
    let read_only: std::collections::BTreeSet<String> = tools
        .summaries()
        .into_iter()
        .filter(|t| t.permission == qcode_tools::ToolKind::ReadOnly.as_str())
        .map(|t| t.name.to_string())
        .collect();
    let set = agents::agent_set(&catalog, &read_only);
    notices.extend(set.refused.iter().map(|d| d.message.clone()));
    let limits = crate::subagents::Limits {
        max_concurrent: snapshot.agents.max_concurrent.value as usize,
        max_requests: snapshot.agents.max_requests.value,
        max_depth: snapshot.agents.max_depth.value,
    };
    (
        crate::subagents::Subagents::new(set, environment, limits),
        notices,
    )
}

/// The tools' context: the working directory as the workspace, the global memory file, the
/// project's directory for background output.
pub fn build_tool_context(snapshot: &ConfigSnapshot) -> Result<ToolContext, Problem> {
    let mut ctx = ToolContext::new(
        vec![snapshot.cwd.clone()],
        snapshot.paths.global_memory(),
        LazyHttpClient::default_client(),
        snapshot.paths.background_dir(&snapshot.project_root),
    )
    .map_err(|e| Problem::new(ErrorKind::Config, e.to_string()))?;
    if let Some(env) = &snapshot.shell_env {
        ctx.shell_env_policy = shell_env_policy(&env.value);
    }
    Ok(ctx)
}

/// `tools.shell.env` as the shell tool's policy.
fn shell_env_policy(s: &qcode_config::settings::ShellEnvSettings) -> qcode_tools::ShellEnvPolicy {
    qcode_tools::ShellEnvPolicy {
        inherit: match s.inherit.as_deref() {
            Some("core") => qcode_tools::EnvInherit::Core,
            Some("none") => qcode_tools::EnvInherit::None,
            _ => qcode_tools::EnvInherit::All,
        },
        exclude: s.exclude.clone(),
        include: s.include.clone(),
        set: s.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// The context window for `model`: the configured one, else the model table's.
pub fn context_window(snapshot: &ConfigSnapshot, model: &str) -> Option<u64> {
    snapshot
        .context_window
        .as_ref()
        .map(|n| n.value)
        .or_else(|| qcode_config::context_window(model))
}

/// The engine's configuration for `snapshot` with the active auth method, its credentials and
/// model.
pub fn engine_config(
    snapshot: &ConfigSnapshot,
    auth: AuthKind,
    credentials: Arc<dyn CredentialSource>,
    model: String,
    interaction: Interaction,
    system_prompt: String,
) -> EngineConfig {
    EngineConfig {
        context_window: context_window(snapshot, &model),
        limits: crate::Limits {
            context_window_pinned: snapshot.context_window.is_some(),
            loop_detection: snapshot.loop_detection.as_ref().is_none_or(|on| on.value),
            ..crate::Limits::default()
        },
        model,
        auth,
        credentials,
        approval_mode: snapshot.approval_mode.value,
        allowed_tools: snapshot
            .allowed_tools
            .iter()
            .map(|t| t.value.clone())
            .collect(),
        max_session_turns: snapshot.max_session_turns.as_ref().map(|n| n.value),
        interaction,
        sampling: Sampling {
            temperature: snapshot.temperature.as_ref().map(|t| t.value),
            max_tokens: snapshot.max_tokens.as_ref().map(|n| n.value),
            force_tool_call: false,
        },
        system_prompt,
        initial_history: Vec::new(),
        session_id: None,
        cwd: snapshot.cwd.display().to_string(),
    }
}

/// `/memory show`: the loaded context files (paths, then contents) and their notices, or where
/// they were looked for.
pub fn memory_report(snapshot: &ConfigSnapshot) -> String {
    let (_, context) = base_system_prompt(snapshot);
    let mut out = String::new();
    if context.files.is_empty() {
        out.push_str(&format!(
            "No context files are loaded (looked for {} in {} and from the project root to the working directory).\n/memory add <fact> saves a fact to {}; /init has the model write a project QWEN.md.",
            snapshot.context_file_names.value.join(", "),
            snapshot.paths.qcode_home.display(),
            snapshot.paths.global_memory().display(),
        ));
    } else {
        out.push_str(&format!("Context files ({}):", context.files.len()));
        for f in &context.files {
            out.push_str(&format!("\n  {}", f.path.display()));
        }
        for f in &context.files {
            out.push_str(&format!(
                "\n\n── {} ──\n{}",
                f.path.display(),
                f.content.trim_end()
            ));
        }
    }
    for n in &context.notices {
        out.push_str(&format!("\n⚠ {n}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use qcode_config::{CliOverrides, EnvLayer, Paths};
    use qcode_protocol::ApprovalMode;

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        home: std::path::PathBuf,
        project: std::path::PathBuf,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let project = dir.path().join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        Fixture {
            _dir: dir,
            home,
            project,
        }
    }

    fn snapshot(f: &Fixture, vars: &[(&str, &str)], cli: &CliOverrides) -> ConfigSnapshot {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let paths = Paths::new(f.home.clone(), None);
        ConfigSnapshot::load(paths, &f.project, EnvLayer::from_map(vars), cli)
            .unwrap()
            .0
    }

    fn credentials() -> Arc<dyn CredentialSource> {
        Arc::new(qcode_client::StaticCredentials::new(
            "http://localhost:1/v1",
            None,
        ))
    }

    #[test]
    fn the_engine_config_takes_the_snapshot_and_the_active_auth() {
        let f = fixture();
        let cli = CliOverrides {
            approval_mode: Some(ApprovalMode::AutoEdit),
            allowed_tools: vec!["edit".into()],
            max_session_turns: Some(7),
            ..CliOverrides::default()
        };
        let s = snapshot(&f, &[], &cli);
        let config = engine_config(
            &s,
            AuthKind::Openai,
            credentials(),
            "qwen3-coder-plus".into(),
            Interaction::Headless,
            "prompt".into(),
        );
        assert_eq!(config.model, "qwen3-coder-plus");
        assert_eq!(config.auth, AuthKind::Openai);
        assert_eq!(config.approval_mode, ApprovalMode::AutoEdit);
        assert_eq!(config.allowed_tools, ["edit"]);
        assert_eq!(config.max_session_turns, Some(7));
        assert_eq!(config.interaction, Interaction::Headless);
        assert_eq!(config.system_prompt, "prompt");
        assert_eq!(config.cwd, s.cwd.display().to_string());
        assert_eq!(
            config.context_window,
            qcode_config::context_window("qwen3-coder-plus")
        );
        assert_eq!(
            context_window(&s, "qwen3-coder-plus"),
            config.context_window
        );
    }

    #[test]
    fn the_tool_context_has_the_workspace_and_the_memory_file() {
        let f = fixture();
        let s = snapshot(&f, &[], &CliOverrides::default());
        let ctx = build_tool_context(&s).unwrap();
        assert_eq!(
            ctx.workspace_roots,
            [std::fs::canonicalize(&f.project).unwrap()]
        );
        assert_eq!(ctx.memory_file, s.paths.global_memory());
    }

    #[test]
    fn memory_report_lists_files_or_says_where_it_looked() {
        let f = fixture();
        let s = snapshot(&f, &[], &CliOverrides::default());
        let empty = memory_report(&s);
        assert!(empty.starts_with("No context files are loaded"), "{empty}");
        assert!(empty.contains("/memory add <fact>"), "{empty}");
        std::fs::write(f.project.join("QWEN.md"), "Use tabs.\n").unwrap();
        let shown = memory_report(&s);
        assert!(shown.starts_with("Context files (1):"), "{shown}");
        assert!(shown.ends_with("──\nUse tabs."), "{shown}");
        let (prompt, context) = system_prompt_for(&s);
        assert!(prompt.contains("Use tabs."));
        assert_eq!(context.files.len(), 1);
    }
}
