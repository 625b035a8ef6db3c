//! Skills: folders holding `SKILL.md` (frontmatter `name`, `description`, optional
//! `allowed-tools`). The system prompt lists name and description only; the `skill` tool
//! returns the body and the list of the skill's other files (progressive disclosure).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::loader::{Catalog, Layout, Named, Origin, Root, SourceFile, Trust, frontmatter};

/// The tool's name as the model calls it.
pub const SKILL_TOOL_NAME: &str = "skill";
/// How many other files of a skill the tool's answer lists.
pub const MAX_LISTED_FILES: usize = 200;
/// The longest description kept for the system prompt listing (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 300;

/// One skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub allowed_tools: Vec<String>,
    /// The folder holding `SKILL.md`.
    pub dir: PathBuf,
    /// `SKILL.md` without its frontmatter.
    pub body: String,
    pub origin: Origin,
}

impl Named for Skill {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct SkillMeta {
    name: Option<String>,
    description: Option<String>,
    allowed_tools: Option<ToolList>,
}

/// `allowed-tools` as a YAML list or a comma/space separated string (both are in use).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ToolList {
    List(Vec<String>),
    Text(String),
}

impl ToolList {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            Self::List(v) => v
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            Self::Text(s) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

fn parse(file: &SourceFile) -> Result<Skill, String> {
    let (meta, body): (SkillMeta, String) = frontmatter(&file.text)?;
    let dir = file
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = meta.name.unwrap_or(folder);
    if !valid_name(&name) {
        return Err(format!(
            "`{name}` is not a usable skill name (letters, digits, `-`, `_`, `.`, at most 64)"
        ));
    }
    let description = meta
        .description
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty())
        .ok_or("frontmatter: `description` is missing (the model needs it to pick the skill)")?;
    Ok(Skill {
        name,
        description,
        allowed_tools: meta
            .allowed_tools
            .map(ToolList::into_vec)
            .unwrap_or_default(),
        dir,
        body,
        origin: file.origin.clone(),
    })
}

/// The skill roots in precedence order (user first; later project roots override earlier):
/// `~/.qcode/skills`, `<project>/.agents/skills`, `<project>/.qwen/skills`,
/// `<project>/.qcode/skills`.
pub fn skill_roots(home: &Path, project: Option<&Path>, project_trust: Trust) -> Vec<Root> {
    let mut roots = vec![Root::user(home, "skills")];
    if let Some(p) = project {
        for sub in [".agents/skills", ".qwen/skills", ".qcode/skills"] {
            roots.push(Root::project(p, sub, project_trust));
        }
    }
    roots
}

/// A reloading set of skills.
pub fn skill_catalog(roots: Vec<Root>) -> Catalog<Skill> {
    Catalog::new(roots, Layout::Marker("SKILL.md"), Vec::new(), parse)
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The system prompt's skills section: one line per skill, sorted by name; empty when there
/// are none.
pub fn system_prompt_listing(catalog: &Catalog<Skill>) -> String {
    if catalog.items().is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# Skills\nCall the `skill` tool with a name to load its instructions before doing a task it covers.\n",
    );
    for skill in catalog.items().values() {
        out.push_str(&format!(
            "- {}: {}\n",
            skill.name,
            clip(&skill.description, MAX_DESCRIPTION_CHARS)
        ));
    }
    out
}

/// The `skill` tool's description text.
pub fn tool_description() -> &'static str {
    "Loads a skill: its instructions (the body of its SKILL.md) and the list of its other files, \
     which you can then read with the normal file tools. The available skills are listed in the \
     system prompt; call this before doing a task a skill covers."
}

/// The `skill` tool's parameters (JSON schema).
pub fn tool_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "The skill's name, as listed in the system prompt."}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

/// Why the `skill` tool has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillError {
    #[error("no skill named `{name}`; available: {available}")]
    Unknown { name: String, available: String },
}

/// The other files of a skill folder (relative paths, sorted, at most [`MAX_LISTED_FILES`];
/// hidden entries and symlinks leaving the folder are left out) and whether the list was cut.
pub fn skill_files(skill: &Skill) -> (Vec<String>, bool) {
    let (_, files, walk_cut) = crate::loader::walk(&skill.dir);
    let canonical = std::fs::canonicalize(&skill.dir).unwrap_or_else(|_| skill.dir.clone());
    let mut out: Vec<String> = files
        .iter()
        .filter(|p| std::fs::canonicalize(p).is_ok_and(|t| t.starts_with(&canonical)))
        .filter_map(|p| p.strip_prefix(&skill.dir).ok())
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .filter(|p| p != "SKILL.md")
        .collect();
    out.sort();
    let cut = walk_cut || out.len() > MAX_LISTED_FILES;
    out.truncate(MAX_LISTED_FILES);
    (out, cut)
}

/// The `skill` tool's answer for `name`.
pub fn tool_answer(catalog: &Catalog<Skill>, name: &str) -> Result<String, SkillError> {
    let Some(skill) = catalog.get(name.trim()) else {
        let names: Vec<&str> = catalog.items().keys().map(String::as_str).collect();
        return Err(SkillError::Unknown {
            name: name.to_string(),
            available: if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
        });
    };
    let mut out = format!(
        "Skill `{}` (folder {})\n\n{}",
        skill.name,
        skill.dir.display(),
        skill.body.trim_end()
    );
    let (files, cut) = skill_files(skill);
    if !files.is_empty() {
        out.push_str("\n\nOther files of this skill (relative to its folder):\n");
        for f in &files {
            out.push_str(&format!("- {f}\n"));
        }
        if cut {
            out.push_str(&format!("(only the first {MAX_LISTED_FILES} are listed)\n"));
        }
    }
    Ok(out)
}
