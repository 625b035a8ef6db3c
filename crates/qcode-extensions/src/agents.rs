//! Subagent definitions (issue 14's format, Qwen Code's): Markdown with frontmatter `name`,
//! `description`, `tools` (a list; absent = every tool of the session except `task`), `model`
//! (`inherit` or an id), optional `approvalMode`, optional `runConfig.max_turns` (Qwen Code's
//! field; here the most model requests the subagent may make, which can only lower the
//! session's `agents.maxRequests`); the body is the subagent's system prompt. [`listing`] is the
//! text of `qcode agents list` and the TUI's `/agents`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qcode_protocol::ApprovalMode;
use serde::Deserialize;

use crate::loader::{
    Catalog, Diagnostic, Layout, Named, Origin, Root, Scope, SourceFile, Trust, frontmatter,
};
use crate::skills::{ToolList, valid_name};

/// The built-in agent, always present (a file of this name is ignored and reported).
pub const GENERAL_PURPOSE: &str = "general-purpose";

/// Which model a subagent uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentModel {
    /// The session's model.
    Inherit,
    Id(String),
}

/// Which tools a subagent may use (always intersected with the session's by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentTools {
    /// Every tool of the session except `task`.
    All,
    Only(Vec<String>),
}

/// Where a definition comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSource {
    BuiltIn,
    File(Origin),
}

/// One subagent definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentDefinition {
    pub name: String,
    pub description: String,
    pub tools: AgentTools,
    pub model: AgentModel,
    /// Never more permissive than the session's (the caller clamps it).
    pub approval_mode: Option<ApprovalMode>,
    /// `runConfig.max_turns`: at most this many model requests (the caller takes the lower of
    /// this and its own limit).
    pub max_requests: Option<u32>,
    pub system_prompt: String,
    pub source: AgentSource,
}

impl Named for AgentDefinition {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentMeta {
    name: Option<String>,
    description: Option<String>,
    tools: Option<ToolList>,
    model: Option<String>,
    #[serde(alias = "approval-mode")]
    approval_mode: Option<String>,
    #[serde(alias = "run_config")]
    run_config: Option<RunConfig>,
}

#[derive(Debug, Default, Deserialize)]
struct RunConfig {
    #[serde(alias = "maxTurns")]
    max_turns: Option<u32>,
}

fn parse(file: &SourceFile) -> Result<AgentDefinition, String> {
    let (meta, body): (AgentMeta, String) = frontmatter(&file.text)?;
    let stem = Path::new(&file.relative)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = meta.name.map(|n| n.trim().to_string()).unwrap_or(stem);
    if !valid_name(&name) {
        return Err(format!(
            "`{name}` is not a usable agent name (letters, digits, `-`, `_`, `.`, at most 64)"
        ));
    }
    let description = meta
        .description
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty())
        .ok_or("frontmatter: `description` is missing (the model needs it to pick the agent)")?;
    if body.trim().is_empty() {
        return Err("the body (the agent's system prompt) is empty".into());
    }
    let model = match meta.model.as_deref().map(str::trim) {
        None | Some("") | Some("inherit") => AgentModel::Inherit,
        Some(id) => AgentModel::Id(id.to_string()),
    };
    let approval_mode = match meta.approval_mode {
        None => None,
        Some(s) => Some(ApprovalMode::parse(&s).ok_or_else(|| {
            format!("frontmatter: approvalMode `{s}` is not one of plan, default, auto-edit, yolo")
        })?),
    };
    let max_requests = meta.run_config.and_then(|r| r.max_turns);
    if max_requests == Some(0) {
        return Err("frontmatter: runConfig.max_turns must be at least 1".into());
    }
    let tools = match meta.tools {
        None => AgentTools::All,
        Some(list) => AgentTools::Only(list.into_vec()),
    };
    Ok(AgentDefinition {
        name,
        description,
        tools,
        model,
        approval_mode,
        max_requests,
        system_prompt: body,
        source: AgentSource::File(file.origin.clone()),
    })
}

/// The built-in `general-purpose` agent.
pub fn general_purpose() -> AgentDefinition {
    AgentDefinition {
        name: GENERAL_PURPOSE.into(),
        description: "A general-purpose agent for researching complex questions, searching for \
                      code and carrying out multi-step tasks on its own. Use it when a search or \
                      investigation would fill the main conversation with results it does not \
                      need."
            .into(),
        tools: AgentTools::All,
        model: AgentModel::Inherit,
        approval_mode: None,
        max_requests: None,
        system_prompt: "You are a subagent of qcode, a terminal coding assistant. You were given \
                        one self-contained task. Use the tools you have to complete it \
                        thoroughly, then answer with a concise report of what you found or did: \
                        the parent sees only your final answer, not your tool calls."
            .into(),
        source: AgentSource::BuiltIn,
    }
}

/// The agent roots in precedence order: `~/.qcode/agents`, `<project>/.qwen/agents`,
/// `<project>/.qcode/agents`.
pub fn agent_roots(home: &Path, project: Option<&Path>, project_trust: Trust) -> Vec<Root> {
    agent_roots_in(&home.join(".qcode"), project, project_trust)
}

/// [`agent_roots`] with the user's qcode directory given (`$QCODE_HOME`, default `~/.qcode`).
pub fn agent_roots_in(
    qcode_home: &Path,
    project: Option<&Path>,
    project_trust: Trust,
) -> Vec<Root> {
    let mut roots = vec![Root::new(
        qcode_home.join("agents"),
        Scope::User,
        Trust::Trusted,
    )];
    if let Some(p) = project {
        roots.push(Root::project(p, ".qwen/agents", project_trust));
        roots.push(Root::project(p, ".qcode/agents", project_trust));
    }
    roots
}

/// A reloading set of agent definition files (without the built-in; see [`AgentSet`]).
pub fn agent_catalog(roots: Vec<Root>) -> Catalog<AgentDefinition> {
    Catalog::new(
        roots,
        Layout::Files(&["md"]),
        [GENERAL_PURPOSE.to_string()],
        parse,
    )
}

/// The usable agents: the built-in plus the files' definitions that pass the trust rule.
#[derive(Debug, Clone)]
pub struct AgentSet {
    /// Sorted by name; `general-purpose` is among them.
    pub agents: Vec<AgentDefinition>,
    /// Definitions refused by the trust rule.
    pub refused: Vec<Diagnostic>,
}

impl AgentSet {
    pub fn get(&self, name: &str) -> Option<&AgentDefinition> {
        self.agents.iter().find(|a| a.name == name)
    }
}

/// Whether a definition may be used: a definition from an untrusted project may only use
/// read-only tools (`read_only` are their names, from the caller's tool registry).
pub fn trust_check(def: &AgentDefinition, read_only: &BTreeSet<String>) -> Result<(), String> {
    let AgentSource::File(origin) = &def.source else {
        return Ok(());
    };
    if origin.scope != Scope::Project || origin.trust == Trust::Trusted {
        return Ok(());
    }
    let beyond: Vec<&str> = match &def.tools {
        AgentTools::All => vec!["every tool of the session"],
        AgentTools::Only(list) => list
            .iter()
            .filter(|t| !read_only.contains(*t))
            .map(String::as_str)
            .collect(),
    };
    if beyond.is_empty() {
        return Ok(());
    }
    Err(format!(
        "agent `{}` gives {} beyond the read-only tools and this project is not trusted; run `qcode trust` to use it",
        def.name,
        beyond.join(", ")
    ))
}

/// The built-in plus the catalog's definitions, with the trust rule applied. A refused project
/// definition does not hide a user definition of the same name: the user's is used.
pub fn agent_set(catalog: &Catalog<AgentDefinition>, read_only: &BTreeSet<String>) -> AgentSet {
    let mut agents = vec![general_purpose()];
    let mut refused = Vec::new();
    for def in catalog.items().values() {
        match trust_check(def, read_only) {
            Ok(()) => agents.push(def.clone()),
            Err(message) => {
                let path = match &def.source {
                    AgentSource::File(o) => o.path.clone(),
                    AgentSource::BuiltIn => PathBuf::new(),
                };
                refused.push(Diagnostic { path, message });
                // Fall back to a user definition of the same name, if any.
                if let Some(user) = user_definition(catalog, &def.name) {
                    agents.push(user);
                }
            }
        }
    }
    agents.sort_by(|a, b| a.name.cmp(&b.name));
    AgentSet { agents, refused }
}

fn user_definition(catalog: &Catalog<AgentDefinition>, name: &str) -> Option<AgentDefinition> {
    let user_roots: Vec<Root> = catalog
        .roots()
        .iter()
        .filter(|r| r.scope == Scope::User)
        .cloned()
        .collect();
    let builtins: BTreeSet<String> = [GENERAL_PURPOSE.to_string()].into_iter().collect();
    crate::loader::load(&user_roots, Layout::Files(&["md"]), &builtins, parse)
        .items
        .remove(name)
}

/// Where a definition comes from, as `qcode agents list` shows it: `built-in`, `user`,
/// `project` (`.qcode/agents`) or `.qwen` (`.qwen/agents`, Qwen Code's folder).
pub fn source_label(def: &AgentDefinition) -> &'static str {
    match &def.source {
        AgentSource::BuiltIn => "built-in",
        AgentSource::File(o) if o.scope == Scope::User => "user",
        AgentSource::File(o) => {
            let qwen = o
                .path
                .components()
                .any(|c| c.as_os_str() == std::ffi::OsStr::new(".qwen"));
            if qwen { ".qwen" } else { "project" }
        }
    }
}

/// The listing of `qcode agents list` and `/agents`: per agent its name and source, its
/// description, tools and model (and mode and request limit when set), then the definitions
/// refused by the trust rule. Names and texts come from files: control characters are dropped.
pub fn listing(set: &AgentSet) -> String {
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let mut out = String::new();
    for a in &set.agents {
        out.push_str(&format!("{}  ({})", clean(&a.name), source_label(a)));
        if let AgentSource::File(o) = &a.source {
            out.push_str(&format!("  {}", clean(&o.path.display().to_string())));
        }
        out.push('\n');
        out.push_str(&format!("  {}\n", clean(&a.description)));
        let tools = match &a.tools {
            AgentTools::All => "every tool of the session except task".to_string(),
            AgentTools::Only(list) if list.is_empty() => "none".to_string(),
            AgentTools::Only(list) => clean(&list.join(", ")),
        };
        let model = match &a.model {
            AgentModel::Inherit => "inherit".to_string(),
            AgentModel::Id(id) => clean(id),
        };
        out.push_str(&format!("  tools: {tools}; model: {model}"));
        if let Some(mode) = a.approval_mode {
            out.push_str(&format!("; approval mode: {}", mode.as_str()));
        }
        if let Some(n) = a.max_requests {
            out.push_str(&format!("; at most {n} requests"));
        }
        out.push('\n');
    }
    for d in &set.refused {
        out.push_str(&format!("not used: {}\n", clean(&d.to_string())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_def(path: &str, scope: Scope) -> AgentDefinition {
        AgentDefinition {
            name: "rev\u{1b}iew".into(),
            description: "Reviews".into(),
            tools: AgentTools::Only(vec!["read_file".into()]),
            model: AgentModel::Id("m1".into()),
            approval_mode: Some(ApprovalMode::Plan),
            max_requests: Some(3),
            system_prompt: "x".into(),
            source: AgentSource::File(Origin {
                path: PathBuf::from(path),
                scope,
                trust: Trust::Trusted,
            }),
        }
    }

    #[test]
    fn the_listing_names_source_tools_model_and_refusals() {
        let set = AgentSet {
            agents: vec![
                general_purpose(),
                file_def("/p/.qwen/agents/r.md", Scope::Project),
            ],
            refused: vec![Diagnostic {
                path: PathBuf::from("/p/.qcode/agents/w.md"),
                message: "agent `w` gives write_file beyond the read-only tools".into(),
            }],
        };
        let text = listing(&set);
        assert!(text.starts_with("general-purpose  (built-in)\n"), "{text}");
        assert!(text.contains("tools: every tool of the session except task; model: inherit\n"));
        assert!(
            text.contains("review  (.qwen)  /p/.qwen/agents/r.md\n"),
            "{text}"
        );
        assert!(
            text.contains("tools: read_file; model: m1; approval mode: plan; at most 3 requests\n")
        );
        assert!(text.ends_with("not used: /p/.qcode/agents/w.md: agent `w` gives write_file beyond the read-only tools\n"));
        assert_eq!(
            source_label(&file_def("/h/agents/a.md", Scope::User)),
            "user"
        );
        assert_eq!(
            source_label(&file_def("/p/.qcode/agents/a.md", Scope::Project)),
            "project"
        );
    }
}
