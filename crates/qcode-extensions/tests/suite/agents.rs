//! Agent definitions: fields, the built-in, precedence and the trust rule.

use std::collections::BTreeSet;

use qcode_extensions::agents::{
    AgentModel, AgentSource, AgentTools, GENERAL_PURPOSE, agent_catalog, agent_roots, agent_set,
};
use qcode_protocol::ApprovalMode;

use super::support::{Dirs, TRUSTED, UNTRUSTED, write};

fn read_only() -> BTreeSet<String> {
    ["read_file", "grep_search", "glob", "list_directory"]
        .map(String::from)
        .into_iter()
        .collect()
}

#[test]
fn fields_and_defaults() {
    let d = Dirs::new();
    write(
        &d.home,
        ".qcode/agents/reviewer.md",
        "---\nname: code-reviewer\ndescription: Reviews diffs\ntools:\n  - read_file\n  - grep_search\nmodel: qwen3-coder-plus\napprovalMode: plan\n---\nYou review code.\n",
    );
    write(
        &d.home,
        ".qcode/agents/helper.md",
        "---\ndescription: Helps\nmodel: inherit\n---\nHelp.\n",
    );
    let mut c = agent_catalog(agent_roots(&d.home, None, TRUSTED));
    assert!(c.refresh().new_diagnostics.is_empty());
    let set = agent_set(&c, &read_only());
    let names: Vec<&str> = set.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["code-reviewer", GENERAL_PURPOSE, "helper"]);
    let r = set.get("code-reviewer").unwrap();
    assert_eq!(r.description, "Reviews diffs");
    assert_eq!(
        r.tools,
        AgentTools::Only(vec!["read_file".into(), "grep_search".into()])
    );
    assert_eq!(r.model, AgentModel::Id("qwen3-coder-plus".into()));
    assert_eq!(r.approval_mode, Some(ApprovalMode::Plan));
    assert_eq!(r.system_prompt, "You review code.\n");
    let h = set.get("helper").unwrap();
    assert_eq!(h.tools, AgentTools::All);
    assert_eq!(h.model, AgentModel::Inherit);
    assert_eq!(h.approval_mode, None);
    let gp = set.get(GENERAL_PURPOSE).unwrap();
    assert_eq!(gp.source, AgentSource::BuiltIn);
    assert!(!gp.system_prompt.is_empty());
}

#[test]
fn bad_definitions_are_reported() {
    let d = Dirs::new();
    let mode = write(
        &d.home,
        ".qcode/agents/a.md",
        "---\ndescription: x\napprovalMode: reckless\n---\nbody",
    );
    let nodesc = write(&d.home, ".qcode/agents/b.md", "---\nname: b\n---\nbody");
    let nobody = write(
        &d.home,
        ".qcode/agents/c.md",
        "---\ndescription: x\n---\n  \n",
    );
    let gp = write(
        &d.home,
        ".qcode/agents/gp.md",
        "---\nname: general-purpose\ndescription: mine\n---\nbody",
    );
    let mut c = agent_catalog(agent_roots(&d.home, None, TRUSTED));
    let r = c.refresh();
    let msg = |p: &std::path::Path| {
        r.new_diagnostics
            .iter()
            .find(|x| x.path == p)
            .map(|x| x.message.clone())
            .unwrap_or_default()
    };
    assert!(
        msg(&mode).contains("approvalMode `reckless`"),
        "{:?}",
        r.new_diagnostics
    );
    assert!(msg(&nodesc).contains("`description` is missing"));
    assert!(msg(&nobody).contains("body"));
    assert!(msg(&gp).contains("built-in"));
    assert_eq!(r.new_diagnostics.len(), 4);
    let set = agent_set(&c, &read_only());
    assert_eq!(
        set.get(GENERAL_PURPOSE).unwrap().source,
        AgentSource::BuiltIn
    );
}

#[test]
fn precedence_over_all_three_locations() {
    let d = Dirs::new();
    write(
        &d.home,
        ".qcode/agents/x.md",
        "---\ndescription: user\n---\nu",
    );
    write(
        &d.project,
        ".qwen/agents/x.md",
        "---\ndescription: qwen\n---\nq",
    );
    write(
        &d.project,
        ".qwen/agents/y.md",
        "---\ndescription: qwen y\n---\nq",
    );
    write(
        &d.project,
        ".qcode/agents/y.md",
        "---\ndescription: qcode y\n---\nq",
    );
    let mut c = agent_catalog(agent_roots(&d.home, Some(&d.project), TRUSTED));
    c.refresh();
    let set = agent_set(&c, &read_only());
    assert_eq!(set.get("x").unwrap().description, "qwen");
    assert_eq!(set.get("y").unwrap().description, "qcode y");
}

#[test]
fn untrusted_project_definitions_may_use_read_only_tools_only() {
    let d = Dirs::new();
    write(
        &d.home,
        ".qcode/agents/writer.md",
        "---\ndescription: user writer\ntools: [write_file]\n---\nu",
    );
    write(
        &d.project,
        ".qcode/agents/writer.md",
        "---\ndescription: project writer\ntools: [read_file, write_file]\n---\np",
    );
    write(
        &d.project,
        ".qcode/agents/everything.md",
        "---\ndescription: all tools\n---\np",
    );
    write(
        &d.project,
        ".qcode/agents/looker.md",
        "---\ndescription: reads\ntools: read_file, glob\n---\np",
    );
    let mut c = agent_catalog(agent_roots(&d.home, Some(&d.project), UNTRUSTED));
    c.refresh();
    let set = agent_set(&c, &read_only());
    assert_eq!(
        set.get("looker").unwrap().tools,
        AgentTools::Only(vec!["read_file".into(), "glob".into()])
    );
    assert!(set.get("everything").is_none());
    // The refused project definition does not hide the user's.
    assert_eq!(set.get("writer").unwrap().description, "user writer");
    assert_eq!(set.refused.len(), 2);
    let all: String = set.refused.iter().map(|r| r.message.clone()).collect();
    assert!(all.contains("write_file"), "{all}");
    assert!(all.contains("every tool of the session"), "{all}");
    assert!(all.contains("qcode trust"), "{all}");
    // Trusted, both are usable.
    let mut c = agent_catalog(agent_roots(&d.home, Some(&d.project), TRUSTED));
    c.refresh();
    let set = agent_set(&c, &read_only());
    assert_eq!(set.get("writer").unwrap().description, "project writer");
    assert!(set.get("everything").is_some());
    assert!(set.refused.is_empty());
}
