//! Skills: discovery in every root, the system prompt listing and the `skill` tool's answer.

use qcode_extensions::skills::{
    SKILL_TOOL_NAME, SkillError, skill_catalog, skill_roots, system_prompt_listing, tool_answer,
    tool_description, tool_schema,
};

use super::support::{Dirs, TRUSTED, write};

fn setup() -> Dirs {
    let d = Dirs::new();
    write(
        &d.home,
        ".qcode/skills/pdf/SKILL.md",
        "---\nname: pdf\ndescription: Fill and\n  merge PDF forms.\nallowed-tools: read_file, run_shell_command\n---\n# PDF\nUse scripts/fill.py.\n",
    );
    write(&d.home, ".qcode/skills/pdf/scripts/fill.py", "print()");
    write(&d.home, ".qcode/skills/pdf/reference.md", "ref");
    write(&d.home, ".qcode/skills/pdf/.hidden", "x");
    write(
        &d.project,
        ".agents/skills/deploy/SKILL.md",
        "---\ndescription: Deploy (shared)\n---\nshared body",
    );
    write(
        &d.project,
        ".qcode/skills/deploy/SKILL.md",
        "---\ndescription: Deploy to staging\nallowed-tools: [run_shell_command]\n---\nqcode body",
    );
    write(
        &d.project,
        ".qwen/skills/adr/SKILL.md",
        "---\ndescription: Write an architecture decision record\n---\nADR body",
    );
    d
}

#[test]
fn listing_is_names_and_descriptions_sorted() {
    let d = setup();
    let mut c = skill_catalog(skill_roots(&d.home, Some(&d.project), TRUSTED));
    assert!(c.refresh().new_diagnostics.is_empty());
    assert_eq!(
        system_prompt_listing(&c),
        "# Skills\nCall the `skill` tool with a name to load its instructions before doing a task it covers.\n\
         - adr: Write an architecture decision record\n\
         - deploy: Deploy to staging\n\
         - pdf: Fill and merge PDF forms.\n"
    );
    assert_eq!(
        c.get("pdf").unwrap().allowed_tools,
        ["read_file", "run_shell_command"]
    );
    assert_eq!(
        c.get("deploy").unwrap().allowed_tools,
        ["run_shell_command"]
    );
    assert!(
        !system_prompt_listing(&c).contains("Use scripts"),
        "bodies stay out"
    );
}

#[test]
fn no_skills_no_section() {
    let d = Dirs::new();
    let mut c = skill_catalog(skill_roots(&d.home, Some(&d.project), TRUSTED));
    c.refresh();
    assert_eq!(system_prompt_listing(&c), "");
}

#[test]
fn the_tool_answer_is_the_body_and_the_other_files() {
    let d = setup();
    let mut c = skill_catalog(skill_roots(&d.home, Some(&d.project), TRUSTED));
    c.refresh();
    let answer = tool_answer(&c, "pdf").unwrap();
    assert!(answer.contains("# PDF\nUse scripts/fill.py."), "{answer}");
    assert!(
        answer.ends_with("Other files of this skill (relative to its folder):\n- reference.md\n- scripts/fill.py\n"),
        "{answer}"
    );
    assert!(!answer.contains("SKILL.md\n-"), "{answer}");
    assert!(!answer.contains(".hidden"));
    assert!(!answer.contains("name: pdf"), "frontmatter stays out");
    let err = tool_answer(&c, "nope").unwrap_err();
    assert_eq!(
        err,
        SkillError::Unknown {
            name: "nope".into(),
            available: "adr, deploy, pdf".into()
        }
    );
}

#[test]
fn a_skill_without_description_is_reported_and_a_link_out_is_not_listed() {
    let d = Dirs::new();
    let bad = write(
        &d.home,
        ".qcode/skills/bad/SKILL.md",
        "---\nname: bad\n---\nbody",
    );
    write(
        &d.home,
        ".qcode/skills/ok/SKILL.md",
        "---\ndescription: fine\n---\nbody",
    );
    let secret = write(&d.outside, "secret.txt", "s");
    std::os::unix::fs::symlink(&secret, d.home.join(".qcode/skills/ok/leak.txt")).unwrap();
    let mut c = skill_catalog(skill_roots(&d.home, None, TRUSTED));
    let r = c.refresh();
    assert_eq!(r.new_diagnostics.len(), 1);
    assert_eq!(r.new_diagnostics[0].path, bad);
    assert!(
        r.new_diagnostics[0]
            .message
            .contains("`description` is missing")
    );
    assert_eq!(c.items().keys().collect::<Vec<_>>(), ["ok"]);
    let answer = tool_answer(&c, "ok").unwrap();
    assert!(!answer.contains("leak.txt"), "{answer}");
}

#[test]
fn the_tool_definition_for_phase_two() {
    assert_eq!(SKILL_TOOL_NAME, "skill");
    let schema = tool_schema();
    assert_eq!(schema["required"], serde_json::json!(["name"]));
    assert_eq!(schema["properties"]["name"]["type"], "string");
    assert!(tool_description().contains("SKILL.md"));
}
