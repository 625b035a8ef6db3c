//! Skills end to end: the system prompt lists them, the `skill` tool returns the body and the
//! other files, an untrusted project's skills are not listed.

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::{Value, json};

use super::harness::*;

fn system(body: &Value) -> String {
    messages(body)[0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str().map(String::from))
        .collect()
}

fn user_and_project_skills(w: &World) {
    w.write(
        "home/.qcode/skills/pdf/SKILL.md",
        "---\nname: pdf\ndescription: Extract text from PDF files.\n---\nUse pdftotext -layout.\n",
    );
    w.write("home/.qcode/skills/pdf/scripts/extract.sh", "#!/bin/sh\n");
    w.write(
        "project/.qwen/skills/deploy/SKILL.md",
        "---\ndescription: Deploy the service to staging.\n---\nRun make deploy-staging.\n",
    );
}

#[test]
fn the_system_prompt_lists_skills_and_the_skill_tool_answers() {
    let w = World::new();
    let mock = MockServer::start();
    user_and_project_skills(&w);
    mock.enqueue(Reply::tool_calls(
        [(
            "k1".to_string(),
            "skill".to_string(),
            json!({"name": "pdf"}).to_string(),
        )],
        5,
    ));
    mock.enqueue(Reply::text("done", 2));
    run(w.cmd_for(&mock).args(["-p", "read the pdf", "--trust"])).assert_code(0);
    let reqs = mock.requests();
    let first = reqs[0].body_json().unwrap();
    let sys = system(&first);
    assert!(sys.contains("# Skills"), "{sys}");
    assert!(sys.contains("- pdf: Extract text from PDF files."), "{sys}");
    assert!(
        sys.contains("- deploy: Deploy the service to staging. (project skill)"),
        "{sys}"
    );
    assert!(
        !sys.contains("pdftotext"),
        "only names and descriptions: {sys}"
    );
    assert!(tool_names(&first).contains(&"skill".to_string()));
    let second = reqs[1].body_json().unwrap();
    let result = messages(&second)
        .iter()
        .find(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str())
        .unwrap()
        .to_string();
    assert!(result.contains("Use pdftotext -layout."), "{result}");
    assert!(result.contains("- scripts/extract.sh"), "{result}");
    assert!(!result.contains("SKILL.md\n"), "{result}");
}

#[test]
fn an_untrusted_projects_skills_are_not_listed_and_one_notice_names_qcode_trust() {
    let w = World::new();
    let mock = MockServer::start();
    user_and_project_skills(&w);
    mock.enqueue(Reply::text("ok", 2));
    let out = run(w.cmd_for(&mock).args(["-p", "hi"]));
    out.assert_code(0);
    let sys = system(&mock.requests()[0].body_json().unwrap());
    assert!(sys.contains("- pdf: "), "{sys}");
    assert!(!sys.contains("deploy"), "{sys}");
    assert_eq!(
        out.stderr.matches("not trusted (`qcode trust`").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn without_skills_there_is_no_listing_and_no_skill_tool() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("ok", 2));
    run(w.cmd_for(&mock).args(["-p", "hi"])).assert_code(0);
    let body = mock.requests()[0].body_json().unwrap();
    assert!(!system(&body).contains("# Skills"));
    assert!(!tool_names(&body).contains(&"skill".to_string()));
}
