//! Command files: Markdown frontmatter, Qwen Code's TOML form, trust of `!{…}`.

use qcode_extensions::commands::{CommandFormat, command_catalog, command_name, command_roots};
use qcode_extensions::{ExpandError, Scope};

use super::expand::{Files, NoShell, RealShell};
use super::support::{Dirs, TRUSTED, UNTRUSTED, write};

#[test]
fn markdown_frontmatter_fields() {
    let d = Dirs::new();
    write(
        &d.home,
        ".qcode/commands/review.md",
        "---\ndescription: Review a file\nargument-hint: <path>\nmodel: qwen3-coder-plus\nallowed-tools: [read_file]\n---\nReview $1 carefully.\n",
    );
    let mut c = command_catalog(command_roots(&d.home, None, TRUSTED), vec![]);
    assert!(c.refresh().new_diagnostics.is_empty());
    let cmd = c.get("review").unwrap();
    assert_eq!(cmd.description.as_deref(), Some("Review a file"));
    assert_eq!(cmd.argument_hint.as_deref(), Some("<path>"));
    assert_eq!(cmd.model.as_deref(), Some("qwen3-coder-plus"));
    assert_eq!(cmd.template, "Review $1 carefully.\n");
    assert_eq!(cmd.format, CommandFormat::Markdown);
    assert_eq!(cmd.origin.scope, Scope::User);
}

#[tokio::test]
async fn qwen_toml_commands_load_and_expand() {
    let d = Dirs::new();
    write(
        &d.project,
        ".qwen/commands/git/summary.toml",
        "description = \"Summarise\"\nprompt = \"\"\"\nSummarise {{args}} please.\n\"\"\"\n",
    );
    let unknown = write(
        &d.project,
        ".qwen/commands/odd.toml",
        "prompt = \"x\"\ncolour = 1\n",
    );
    let mut c = command_catalog(command_roots(&d.home, Some(&d.project), TRUSTED), vec![]);
    let r = c.refresh();
    assert_eq!(r.new_diagnostics.len(), 1);
    assert_eq!(r.new_diagnostics[0].path, unknown);
    assert!(
        r.new_diagnostics[0].message.contains("colour"),
        "{:?}",
        r.new_diagnostics
    );
    let cmd = c.get("git:summary").unwrap();
    assert_eq!(cmd.format, CommandFormat::Toml);
    assert_eq!(cmd.description.as_deref(), Some("Summarise"));
    let out = cmd
        .expand("the log", &Files::default(), &NoShell)
        .await
        .unwrap();
    assert_eq!(out, "Summarise the log please.\n");
}

#[test]
fn names_come_from_paths() {
    assert_eq!(command_name("git/commit.md").unwrap(), "git:commit");
    assert_eq!(command_name("x.toml").unwrap(), "x");
    assert!(command_name("a b.md").is_err());
}

#[tokio::test]
async fn untrusted_project_shell_commands_are_listed_but_refuse_to_expand() {
    let d = Dirs::new();
    write(
        &d.project,
        ".qcode/commands/status.md",
        "---\ndescription: Status\n---\nState: !{git status}",
    );
    write(&d.project, ".qcode/commands/plain.md", "Explain {{args}}");
    write(&d.home, ".qcode/commands/mine.md", "Mine: !{echo ok}");
    let mut c = command_catalog(command_roots(&d.home, Some(&d.project), UNTRUSTED), vec![]);
    c.refresh();
    let status = c.get("status").expect("listed");
    assert!(status.needs_trust());
    let shell = RealShell::default();
    let err = status
        .expand("", &Files::default(), &shell)
        .await
        .unwrap_err();
    assert!(matches!(err, ExpandError::Untrusted { .. }));
    assert!(err.to_string().contains("qcode trust"), "{err}");
    assert!(shell.ran().is_empty(), "nothing ran");
    // A project command without `!{…}` works in an untrusted folder; a user one with it too.
    assert_eq!(
        c.get("plain")
            .unwrap()
            .expand("this", &Files::default(), &shell)
            .await
            .unwrap(),
        "Explain this"
    );
    assert_eq!(
        c.get("mine")
            .unwrap()
            .expand("", &Files::default(), &shell)
            .await
            .unwrap(),
        "Mine: ok\n"
    );
    // Trusted, the project command runs.
    let mut c = command_catalog(command_roots(&d.home, Some(&d.project), TRUSTED), vec![]);
    c.refresh();
    assert!(!c.get("status").unwrap().needs_trust());
}
