//! Custom slash commands: Markdown with optional frontmatter (`description`, `argument-hint`,
//! `model`) or Qwen Code's TOML (`prompt`, `description`), named by their path under the root
//! (`git/commit.md` → `git:commit`).

use std::path::Path;

use serde::Deserialize;

use crate::loader::{Catalog, Layout, Named, Origin, Root, Scope, SourceFile, Trust, frontmatter};

/// Which file format a command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandFormat {
    Markdown,
    Toml,
}

/// One custom command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommand {
    /// `git:commit` for `git/commit.md` (typed as `/git:commit`).
    pub name: String,
    pub description: Option<String>,
    pub argument_hint: Option<String>,
    /// A model id the command asks for (the caller decides whether to honour it).
    pub model: Option<String>,
    /// The prompt template.
    pub template: String,
    pub format: CommandFormat,
    pub origin: Origin,
}

impl Named for CustomCommand {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct MarkdownMeta {
    description: Option<String>,
    argument_hint: Option<String>,
    model: Option<String>,
    // Other keys (Claude Code's `allowed-tools`, …) are accepted and not used: approval
    // decides what runs.
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlCommand {
    prompt: String,
    description: Option<String>,
    #[serde(rename = "argument-hint", alias = "argument_hint")]
    argument_hint: Option<String>,
    model: Option<String>,
}

/// The command name for a path relative to its root: directories become `:`-separated
/// namespaces, the extension is dropped. Names are limited to letters, digits, `-`, `_`, `.`.
pub fn command_name(relative: &str) -> Result<String, String> {
    let stem = Path::new(relative).with_extension("");
    let mut parts = Vec::new();
    for part in stem.components() {
        let part = part.as_os_str().to_string_lossy();
        let ok = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(format!(
                "`{part}` is not a usable command name (letters, digits, `-`, `_` and `.` only)"
            ));
        }
        parts.push(part.into_owned());
    }
    Ok(parts.join(":"))
}

fn parse(file: &SourceFile) -> Result<CustomCommand, String> {
    let name = command_name(&file.relative)?;
    let is_toml = file.relative.to_ascii_lowercase().ends_with(".toml");
    if is_toml {
        let t: TomlCommand = toml::from_str(&file.text).map_err(|e| format!("TOML: {e}"))?;
        return Ok(CustomCommand {
            name,
            description: t.description,
            argument_hint: t.argument_hint,
            model: t.model,
            template: t.prompt,
            format: CommandFormat::Toml,
            origin: file.origin.clone(),
        });
    }
    let (meta, body): (MarkdownMeta, String) = frontmatter(&file.text)?;
    if body.trim().is_empty() {
        return Err("the command has no prompt text".into());
    }
    Ok(CustomCommand {
        name,
        description: meta.description,
        argument_hint: meta.argument_hint,
        model: meta.model,
        template: body,
        format: CommandFormat::Markdown,
        origin: file.origin.clone(),
    })
}

/// The command roots in precedence order (user first, project last so it overrides):
/// `~/.qcode/commands`, `<project>/.qwen/commands`, `<project>/.qcode/commands`.
pub fn command_roots(home: &Path, project: Option<&Path>, project_trust: Trust) -> Vec<Root> {
    let mut roots = vec![Root::user(home, "commands")];
    if let Some(p) = project {
        roots.push(Root::project(p, ".qwen/commands", project_trust));
        roots.push(Root::project(p, ".qcode/commands", project_trust));
    }
    roots
}

/// A reloading set of custom commands. `builtins` are the built-in slash command names
/// (they always win).
pub fn command_catalog(
    roots: Vec<Root>,
    builtins: impl IntoIterator<Item = String>,
) -> Catalog<CustomCommand> {
    Catalog::new(roots, Layout::Files(&["md", "toml"]), builtins, parse)
}

impl CustomCommand {
    /// Whether the template runs shell commands (`!{…}`).
    pub fn runs_shell(&self) -> bool {
        self.template.contains("!{")
    }

    /// Whether expansion is refused because the command would run shell commands from an
    /// untrusted project.
    pub fn needs_trust(&self) -> bool {
        self.origin.scope == Scope::Project
            && self.origin.trust == Trust::Untrusted
            && self.runs_shell()
    }
}
