//! The session's skills (`qcode-extensions` catalog): the system prompt listing and the
//! [`qcode_tools::SkillSource`] the `skill` tool answers from. User skills always load; a
//! project's only in a trusted folder (a skill's text instructs the model), else one notice
//! names `qcode trust`.

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
pub fn load(snapshot: &ConfigSnapshot) -> LoadedSkills {
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

impl Skills {
    /// The skills as of now (edited files are read again), by name, for `/skills`.
    pub fn list(&self) -> Vec<Skill> {
        match self.catalog.lock() {
            Ok(mut catalog) => {
                catalog.refresh();
                catalog.items().values().cloned().collect()
            }
            Err(_) => Vec::new(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_are_appended_to_the_system_prompt_only_when_there_are_some() {
        assert_eq!(with_skills("base\n".into(), ""), "base\n");
        assert_eq!(
            with_skills("base\n".into(), "# Skills\n- a: b\n"),
            "base\n\n# Skills\n- a: b"
        );
    }
}
