//! Glue between the session and `qcode-extensions`: the skills the session offers (listing in
//! the system prompt, the `skill` tool's answers) and the hook runner the engine calls.

use std::sync::{Arc, Mutex};

use qcode_config::ConfigSnapshot;
use qcode_extensions::Catalog;
use qcode_extensions::loader::{Root, Scope, Trust};
use qcode_extensions::skills::{self, Skill};

/// The project folders skills are read from (relative to the project root).
const PROJECT_SKILL_DIRS: [&str; 3] = [".agents/skills", ".qwen/skills", ".qcode/skills"];

/// The session's skills: a reloading catalog behind a lock (the `skill` tool reads it from a
/// blocking thread).
pub struct Skills {
    catalog: Mutex<Catalog<Skill>>,
}

/// What loading the skills found, for the system prompt and the user.
pub struct LoadedSkills {
    pub skills: Arc<Skills>,
    /// The system prompt section (empty when there are no skills).
    pub listing: String,
    /// Warnings for the user (bad files; project skills not loaded in an untrusted folder).
    pub notices: Vec<String>,
}

/// Loads the user's skills (`<qcode home>/skills`) and, in a trusted folder, the project's.
/// An untrusted project's skills are not listed (a skill can instruct the model); one notice
/// names `qcode trust`.
pub fn load_skills(snapshot: &ConfigSnapshot) -> LoadedSkills {
    let trusted = snapshot.trust.is_trusted();
    let mut roots = vec![Root::new(
        snapshot.paths.qcode_home.join("skills"),
        Scope::User,
        Trust::Trusted,
    )];
    let mut notices = Vec::new();
    let project = &snapshot.project_root;
    if trusted {
        for sub in PROJECT_SKILL_DIRS {
            roots.push(Root::project(project, sub, Trust::Trusted));
        }
    } else {
        let present: Vec<String> = PROJECT_SKILL_DIRS
            .iter()
            .filter(|sub| project.join(sub).is_dir())
            .map(|sub| (*sub).to_string())
            .collect();
        if !present.is_empty() {
            notices.push(format!(
                "the project's skills ({}) are not loaded: this folder is not trusted (`qcode trust` trusts it)",
                present.join(", ")
            ));
        }
    }
    let mut catalog = skills::skill_catalog(roots);
    let refresh = catalog.refresh();
    notices.extend(refresh.new_diagnostics.iter().map(|d| format!("skill {d}")));
    let listing = listing(&catalog);
    LoadedSkills {
        skills: Arc::new(Skills {
            catalog: Mutex::new(catalog),
        }),
        listing,
        notices,
    }
}

/// The system prompt section: the loader's listing, each project skill marked as such.
fn listing(catalog: &Catalog<Skill>) -> String {
    let text = skills::system_prompt_listing(catalog);
    if text.is_empty() {
        return text;
    }
    let mut out = String::new();
    for line in text.lines() {
        let project = line
            .strip_prefix("- ")
            .and_then(|rest| rest.split_once(": "))
            .and_then(|(name, _)| catalog.get(name))
            .is_some_and(|s| s.origin.scope == Scope::Project);
        out.push_str(line);
        if project {
            out.push_str(" (project skill)");
        }
        out.push('\n');
    }
    out
}

impl Skills {
    /// Whether any skill is loaded (the `skill` tool is offered only then).
    pub fn is_empty(&self) -> bool {
        self.catalog
            .lock()
            .map(|c| c.items().is_empty())
            .unwrap_or(true)
    }
}

impl qcode_tools::SkillSource for Skills {
    fn answer(&self, name: &str) -> Result<String, String> {
        let mut catalog = self
            .catalog
            .lock()
            .map_err(|_| "the skills are unavailable (an earlier read failed)".to_string())?;
        // Edited skill files are picked up without a restart.
        catalog.refresh();
        skills::tool_answer(&catalog, name).map_err(|e| e.to_string())
    }
}

/// `system_prompt` with the skills section appended.
pub fn with_skills(system_prompt: String, listing: &str) -> String {
    if listing.is_empty() {
        system_prompt
    } else {
        format!("{}\n\n{}", system_prompt.trim_end(), listing.trim_end())
    }
}

/// The session's hook runner from the user's and (trusted) project's settings, or `None` when
/// no hook is configured or `disableAllHooks` is set. Problems in the `hooks` values are
/// returned as warnings. Hooks get the core variables of qcode's environment (PATH, HOME,
/// locale, terminal), never the rest (API keys, tokens).
pub fn hook_runner(
    snapshot: &ConfigSnapshot,
    session_id: Option<&str>,
    transcript: Option<&std::path::Path>,
) -> (
    Option<Arc<qcode_extensions::hooks::HookRunner>>,
    Vec<String>,
) {
    use qcode_extensions::hooks::{HookConfig, HookEnv, HookRunner, HookSettings, SessionFacts};
    let trusted = snapshot.trust.is_trusted();
    let scopes: Vec<HookSettings> = snapshot
        .hook_layers
        .iter()
        .map(|l| HookSettings {
            scope: if l.project {
                Scope::Project
            } else {
                Scope::User
            },
            trust: if !l.project || trusted {
                Trust::Trusted
            } else {
                Trust::Untrusted
            },
            hooks: l.hooks.clone(),
            disable_all_hooks: l.disable_all_hooks,
        })
        .collect();
    let config = HookConfig::from_settings(&scopes);
    let warnings = config
        .problems
        .iter()
        .map(|p| format!("hooks: {p}"))
        .collect();
    if config.disabled || config.hooks.is_empty() {
        return (None, warnings);
    }
    let facts = SessionFacts {
        session_id: session_id.unwrap_or_default().to_string(),
        transcript_path: transcript
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        cwd: snapshot.cwd.display().to_string(),
    };
    let runner = HookRunner::new(config, HookEnv::core_from_process(), facts);
    (Some(Arc::new(runner)), warnings)
}

/// Asks the engine to end the session and waits until it has (its SessionEnd hooks, each
/// bounded by its own timeout, run before [`qcode_protocol::Event::ShutdownComplete`]); an
/// engine that is already gone ends the wait at once.
pub async fn shut_down(engine: qcode_core::EngineHandle) {
    let qcode_core::EngineHandle { ops, mut events } = engine;
    if ops.send(qcode_protocol::Op::Shutdown).is_err() {
        return;
    }
    let wait = async {
        while let Some(ev) = events.recv().await {
            if matches!(ev, qcode_protocol::Event::ShutdownComplete) {
                break;
            }
        }
    };
    let bound = qcode_extensions::hooks::MAX_TIMEOUT + std::time::Duration::from_secs(5);
    let _ = tokio::time::timeout(bound, wait).await;
}
