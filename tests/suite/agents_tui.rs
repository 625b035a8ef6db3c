//! `/agents` in the interactive session through the real binary in a pseudo-terminal: the
//! definitions of all three locations with their sources, precedence (the project's
//! `.qcode/agents` over the user's), and the trust rule (an untrusted project's definition that
//! gives more than read-only tools is not loaded, and says why). Nothing goes to the model.

use std::path::Path;

use qcode_test_support::mock_model::MockServer;

use super::harness::*;
use super::pty::{Pty, keys};

const PROMPT: &str = "› Ask anything";

fn definitions(w: &World) {
    w.write(
        "home/.qcode/agents/reviewer.md",
        "---\nname: reviewer\ndescription: The user's reviewer.\n---\nReview.\n",
    );
    w.write(
        "home/.qcode/agents/planner.md",
        "---\ndescription: Plans big changes.\nmodel: qwen3-max\n---\nPlan.\n",
    );
    w.write(
        "project/.qwen/agents/explorer.md",
        "---\nname: explorer\ndescription: Finds code fast.\ntools: [read_file, grep_search]\n---\nExplore.\n",
    );
    w.write(
        "project/.qcode/agents/reviewer.md",
        "---\nname: reviewer\ndescription: The project's reviewer.\ntools:\n  - read_file\n---\nReview here.\n",
    );
    w.write(
        "project/.qcode/agents/deployer.md",
        "---\nname: deployer\ndescription: Deploys.\ntools: [run_shell_command]\n---\nDeploy.\n",
    );
}

fn start(w: &World, mock: &MockServer, args: &[&str]) -> Pty {
    let env = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), mock.url()),
        ("OPENAI_API_KEY".into(), "sk-test-key-123".into()),
        ("OPENAI_MODEL".into(), "test-model".into()),
    ];
    let t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        args,
        &env,
        &w.project,
    );
    t.wait_for_text(PROMPT);
    t
}

/// The `/agents` block, from its title to its last line.
fn agents_block(text: &str) -> String {
    let start = text.rfind("Subagents (").expect("the /agents block");
    let rest = &text[start..];
    let end = rest
        .find("Ctrl+O shows what they did")
        .expect("the block's last line");
    rest[..end].to_string()
}

#[test]
fn agents_lists_definitions_from_all_three_locations_with_precedence_and_trust() {
    let w = World::new();
    let mock = MockServer::start();
    definitions(&w);
    let mut t = start(&w, &mock, &[]);
    t.send_line("/agents");
    let text = t.wait_for_transcript("Ctrl+O shows what they did");
    let block = agents_block(&text);
    assert!(block.starts_with("Subagents (4)"), "{block}");
    for expected in [
        "general-purpose  built-in",
        "tools: every tool of the session except task · model: inherit",
        "explorer  project .qwen/agents/explorer.md",
        "Finds code fast.",
        "tools: read_file, grep_search · model: inherit",
        "planner  user ~/.qcode/agents/planner.md",
        "model: qwen3-max",
        "reviewer  project .qcode/agents/reviewer.md",
        "The project's reviewer.",
        "tools: read_file · model: inherit",
        "Not loaded",
        ".qcode/agents/deployer.md: agent `deployer` gives run_shell_command",
        "qcode trust",
    ] {
        assert!(block.contains(expected), "{expected:?} missing:\n{block}");
    }
    assert!(
        !block.contains("The user's reviewer."),
        "the project's definition overrides the user's:\n{block}"
    );
    let order: Vec<usize> = ["explorer", "general-purpose", "planner", "reviewer"]
        .iter()
        .map(|n| block.find(&format!("  {n}  ")).unwrap())
        .collect();
    assert!(order.windows(2).all(|p| p[0] < p[1]), "sorted by name");
    t.wait_for_text(PROMPT);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert!(
        mock.requests().is_empty(),
        "/agents sends nothing to the model"
    );
}

#[test]
fn agents_in_a_trusted_folder_loads_the_project_definitions_that_run_commands() {
    let w = World::new();
    let mock = MockServer::start();
    definitions(&w);
    let mut t = start(&w, &mock, &["--trust"]);
    t.send_line("/agents");
    let text = t.wait_for_transcript("Ctrl+O shows what they did");
    let block = agents_block(&text);
    assert!(block.starts_with("Subagents (5)"), "{block}");
    assert!(
        block.contains("deployer  project .qcode/agents/deployer.md"),
        "{block}"
    );
    assert!(block.contains("tools: run_shell_command"), "{block}");
    assert!(!block.contains("Not loaded"), "{block}");
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_running_subagent_is_a_live_block_then_a_summary_line_expandable_with_ctrl_o() {
    use qcode_test_support::mock_model::{Reply, SseItem, chunk};
    let w = World::new();
    let mock = MockServer::start();
    w.write(
        "home/.qcode/agents/finder.md",
        "---\nname: finder\ndescription: Finds things.\ntools: [read_file, grep_search]\n---\nYou are FINDER-MARKER.\n",
    );
    let call = serde_json::json!({
        "subagent_type": "finder",
        "description": "Find the answer",
        "prompt": "Where is ANSWER defined?",
    })
    .to_string();
    mock.enqueue(Reply::tool_calls([("t1", "task", call.as_str())], 9));
    // The subagent answers slowly, so that its live block can be seen.
    mock.enqueue_matching(
        "FINDER-MARKER",
        Reply::sse(vec![
            SseItem::data_json(&chunk::role()),
            SseItem::data_json(&chunk::text("ANSWER is in ")),
            SseItem::delay(2_500),
            SseItem::data_json(&chunk::text("src/lib.rs")),
            SseItem::data_json(&chunk::finish("stop")),
            SseItem::done(),
        ]),
    );
    mock.enqueue(Reply::text("It is in src/lib.rs.", 4));
    let mut t = start(&w, &mock, &[]);
    t.send_line("find ANSWER");
    // While it runs: a block under the task call with its type and description.
    t.wait_until("the live subagent block", |s| {
        s.contains("↳") && s.contains("finder") && s.contains("\"Find the answer\"")
    });
    // When it is done: one summary line, and the parent's answer.
    let screen = t.wait_until("the summary line and the answer", |s| {
        s.contains("✓ finder") && s.contains("It is in src/lib.rs.")
    });
    assert!(screen.contains("Ctrl+O"), "{screen}");
    // The subagent's own request carried its prompt, not the parent's conversation.
    let sub = mock
        .requests()
        .into_iter()
        .map(|r| r.body_text())
        .find(|b| b.contains("FINDER-MARKER"))
        .expect("the subagent's request");
    assert!(sub.contains("Where is ANSWER defined?") && !sub.contains("find ANSWER\""));
    // Ctrl+O: its whole transcript in the pager.
    t.send("\x0f");
    t.wait_until("the subagent pager", |s| {
        s.contains("ANSWER is in src/lib.rs")
    });
    t.send("q");
    t.wait_until("the pager closed", |s| !s.contains("Subagent 1/1"));
    t.send(keys::CTRL_D);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
}
