//! Subagents in the TUI, driven with synthetic engine events: the live blocks under their
//! `task` calls (two at once, the tool in progress), the summary lines they collapse to, the
//! Ctrl+O pager, approvals asked by a subagent (titled with it, answered with the ordinary
//! `Op::ApprovalDecision`, queued) and their warnings and errors as prefixed notices.

use crossterm::event::KeyCode;
use qcode_protocol::{
    ApprovalDetails, ErrorKind, Event, Op, ReviewDecision, ToolStatus, TurnOutcome, Usage,
};
use qcode_tui::Effect;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::harness::Harness;

const FIND: &str = "general-purpose · \"find the parser\"";
const TESTS: &str = "explore · \"check the tests\"";

/// Elapsed times ("12 s", "1 min 05 s", and the working line's "Working 3s") replaced by `N`:
/// frames are compared, not clocks.
fn stable(text: &str) -> String {
    let mut text = elapsed_secs(text);
    for label in ["Working ", "Waiting for approval "] {
        if let Some(at) = text.find(label) {
            let from = at + label.len();
            let digits = text[from..]
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            if digits > 0 && text[from + digits..].starts_with('s') {
                text.replace_range(from..from + digits, "N");
            }
        }
    }
    text
}

fn elapsed_secs(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            let rest: String = chars.clone().take(1).collect();
            if c == ' ' && rest == "s" {
                out.push('N');
            } else {
                out.push_str(&digits);
            }
            digits.clear();
        }
        out.push(c);
    }
    out.push_str(&digits);
    out
}

fn sub(agent: &str, parent: &str, event: Event) -> Event {
    Event::Subagent {
        agent_id: agent.into(),
        parent_call_id: parent.into(),
        event: Box::new(event),
    }
}

fn task_begin(call: &str, description: &str) -> Event {
    Event::ToolCallBegin {
        call_id: call.into(),
        name: "task".into(),
        summary: description.into(),
        arguments: "{}".into(),
    }
}

fn tool_begin(call: &str, name: &str, summary: &str) -> Event {
    Event::ToolCallBegin {
        call_id: call.into(),
        name: name.into(),
        summary: summary.into(),
        arguments: "{}".into(),
    }
}

fn tool_end(call: &str, name: &str, output: &str) -> Event {
    Event::ToolCallEnd {
        call_id: call.into(),
        name: name.into(),
        status: ToolStatus::Success,
        output: output.into(),
        diff: None,
        duration_ms: 1200,
    }
}

fn usage(total: u64) -> Usage {
    Usage {
        prompt_tokens: total / 2,
        completion_tokens: total - total / 2,
        total_tokens: total,
        cached_tokens: 0,
        reasoning_tokens: 0,
    }
}

fn finished(agent: &str, parent: &str, status: &str, tokens: u64) -> Event {
    Event::SubagentFinished {
        agent_id: agent.into(),
        parent_call_id: parent.into(),
        status: status.into(),
        usage: usage(tokens),
        duration_ms: 18_400,
    }
}

/// A turn with two `task` calls and their subagents running: a1 runs grep, a2 read a file.
fn two_running() -> Harness {
    let mut h = Harness::new();
    h.submit("look around");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(task_begin("t1", "find the parser"));
    h.engine(task_begin("t2", "check the tests"));
    for (agent, parent, kind, description) in [
        ("a1", "t1", "general-purpose", "find the parser"),
        ("a2", "t2", "explore", "check the tests"),
    ] {
        h.engine(Event::SubagentStarted {
            agent_id: agent.into(),
            parent_call_id: parent.into(),
            subagent_type: kind.into(),
            description: description.into(),
        });
    }
    h.engine(sub("a1", "t1", Event::TurnStarted { turn_id: 1 }));
    h.engine(sub(
        "a1",
        "t1",
        Event::TextDelta {
            text: "Searching for the parser.".into(),
        },
    ));
    h.engine(sub(
        "a1",
        "t1",
        tool_begin("s1", "grep", "\"fn parse\" in src/"),
    ));
    h.engine(sub(
        "a1",
        "t1",
        Event::Usage {
            usage: usage(1_500),
            total: usage(1_500),
        },
    ));
    h.engine(sub(
        "a2",
        "t2",
        tool_begin("s2", "read_file", "tests/all.rs"),
    ));
    h.engine(sub("a2", "t2", tool_end("s2", "read_file", "mod suite;")));
    h.engine(sub(
        "a2",
        "t2",
        Event::Usage {
            usage: usage(400),
            total: usage(400),
        },
    ));
    h
}

#[test]
fn two_subagents_run_as_live_blocks_under_their_task_calls() {
    let mut h = two_running();
    let frame = stable(&h.frame(90, 30));
    insta::assert_snapshot!(frame);
    let t1 = frame.find("find the parser").unwrap();
    let a1 = frame.find(FIND).unwrap();
    let t2 = frame.find("* check the tests").unwrap();
    let a2 = frame.find(TESTS).unwrap();
    assert!(
        t1 < a1 && a1 < t2 && t2 < a2,
        "each block under its call:\n{frame}"
    );
    assert!(
        frame.contains("Ctrl+O subagents"),
        "the footer names the key"
    );
    assert!(h.app.animating());
    assert!(
        !h.scrollback_text().contains("Searching"),
        "a subagent's text stays out of the main transcript"
    );
}

#[test]
fn finished_subagents_collapse_to_one_line_under_their_task_cell() {
    let mut h = two_running();
    h.engine(finished("a1", "t1", "completed", 3_400));
    let frame = stable(&h.frame(90, 30));
    assert!(
        frame.contains(&format!("  ↳ ✓ {FIND} · 0 tools · 3.4k tokens · N s")),
        "collapsed while its task call still runs:\n{frame}"
    );
    let before = h.written.len();
    h.engine(tool_end("t1", "task", "The parser is in src/parse.rs."));
    let added = stable(&h.scrollback_at(before, 100));
    assert!(
        added.ends_with(&format!(
            "✓ find the parser · 1.2s\n  The parser is in src/parse.rs.\n  ↳ ✓ {FIND} · 0 tools · 3.4k tokens · N s · Ctrl+O to expand"
        )),
        "the summary is attached right under its task cell:\n{added}"
    );
    h.engine(finished("a2", "t2", "limit", 0));
    h.engine(tool_end("t2", "task", "partial"));
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Completed,
    });
    let text = stable(&h.scrollback_text());
    assert!(
        text.contains(&format!(
            "  ↳ ⚠ {TESTS} · stopped at a limit · 1 tool · 400 tokens · N s"
        )),
        "tokens are the sum of its usage when the finish reports none:\n{text}"
    );
    assert!(!h.frame(90, 30).contains(FIND), "nothing live is left");
    assert!(!h.app.animating());
}

#[test]
fn a_turn_that_ends_commits_running_subagents_as_cancelled() {
    let mut h = two_running();
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Interrupted,
    });
    let text = stable(&h.scrollback_text());
    assert!(
        text.contains(&format!("✗ {FIND} · cancelled · 0 tools · 1.5k tokens")),
        "{text}"
    );
    assert!(
        text.contains(&format!("✗ {TESTS} · cancelled · 1 tool")),
        "{text}"
    );
    assert!(!h.app.animating(), "no ticking once nothing runs");
}

#[test]
fn failed_and_cancelled_subagents_say_so() {
    let mut h = two_running();
    h.engine(finished("a1", "t1", "failed", 10));
    h.engine(finished("a2", "t2", "cancelled", 20));
    h.engine(tool_end("t1", "task", "error"));
    h.engine(tool_end("t2", "task", "cancelled"));
    let text = h.scrollback_text();
    assert!(text.contains(&format!("↳ ✗ {FIND} · failed")), "{text}");
    assert!(text.contains(&format!("↳ ✗ {TESTS} · cancelled")), "{text}");
}

#[test]
fn a_subagents_approval_is_titled_with_it_and_answered_with_the_ordinary_op() {
    let mut h = two_running();
    h.sent();
    h.engine(sub(
        "a1",
        "t1",
        Event::ApprovalRequest {
            request_id: "r1".into(),
            call_id: "s9".into(),
            tool: "run_shell_command".into(),
            details: ApprovalDetails::Shell {
                command: "cargo test -p parser".into(),
                directory: "/work/p".into(),
            },
        },
    ));
    h.engine(sub(
        "a2",
        "t2",
        Event::ApprovalRequest {
            request_id: "r2".into(),
            call_id: "s8".into(),
            tool: "edit".into(),
            details: ApprovalDetails::Edit {
                path: "tests/all.rs".into(),
                diff: "@@ -1 +1 @@\n-mod suite;\n+mod suite; // checked\n".into(),
            },
        },
    ));
    let frame = stable(&h.frame(90, 30));
    insta::assert_snapshot!(frame);
    assert!(frame.contains(&format!("? {FIND} asks to run: run_shell_command")));
    h.press(KeyCode::Char('y'));
    assert_eq!(
        h.sent(),
        vec![Op::ApprovalDecision {
            request_id: "r1".into(),
            decision: ReviewDecision::AllowOnce,
        }]
    );
    let frame = h.frame(90, 30);
    assert!(
        frame.contains(&format!("? {TESTS} asks to run: edit")),
        "the queued question comes next:\n{frame}"
    );
    h.press(KeyCode::Char('n'));
    assert_eq!(
        h.sent(),
        vec![Op::ApprovalDecision {
            request_id: "r2".into(),
            decision: ReviewDecision::Deny { message: None },
        }]
    );
    let text = h.scrollback_text();
    assert!(
        text.contains(&format!("Allowed run_shell_command for {FIND} once")),
        "{text}"
    );
    assert!(text.contains(&format!("Denied edit for {TESTS}")), "{text}");
    // A decision the policy made closes a question still open, and says so.
    h.engine(sub(
        "a1",
        "t1",
        Event::ApprovalRequest {
            request_id: "r3".into(),
            call_id: "s7".into(),
            tool: "web_fetch".into(),
            details: ApprovalDetails::Fetch {
                url: "https://example.com".into(),
            },
        },
    ));
    h.engine(sub(
        "a1",
        "t1",
        Event::ApprovalDecided {
            request_id: "r3".into(),
            call_id: "s7".into(),
            tool: "web_fetch".into(),
            decision: ReviewDecision::AllowForSession,
            source: qcode_protocol::DecisionSource::Policy,
        },
    ));
    assert!(!h.frame(90, 30).contains("asks to run"));
    assert!(
        h.scrollback_text()
            .contains(&format!("Allowed web_fetch for {FIND} for this session"))
    );
}

#[test]
fn a_subagents_warnings_and_errors_are_notices_prefixed_with_it() {
    let mut h = two_running();
    h.engine(sub(
        "a1",
        "t1",
        Event::Warning {
            message: "the context is almost full".into(),
        },
    ));
    h.engine(sub(
        "a2",
        "t2",
        Event::Error {
            kind: ErrorKind::RateLimit,
            message: "rate limited".into(),
            hint: Some("wait a moment".into()),
        },
    ));
    let text = h.scrollback_text();
    assert!(
        text.contains(&format!("⚠ {FIND}: the context is almost full")),
        "{text}"
    );
    assert!(text.contains(&format!("✗ {TESTS}: rate limited")), "{text}");
    assert!(text.contains("hint: wait a moment"), "{text}");
    assert!(
        h.frame(90, 30).contains("* find the parser"),
        "a subagent's error does not end the parent's turn"
    );
}

fn pager_text(h: &mut Harness) -> String {
    let pager = h.app.pager_mut().expect("the pager is open");
    let mut buf = Buffer::empty(Rect::new(0, 0, 90, 24));
    pager.render(buf.area, &mut buf);
    let mut rows = Vec::new();
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        rows.push(row.trim_end().to_string());
    }
    rows.join("\n")
}

#[test]
fn ctrl_o_opens_the_newest_subagents_transcript_and_arrows_switch() {
    let mut h = Harness::new();
    h.ctrl('o');
    assert!(
        h.frame(80, 20)
            .contains("No subagent has run in this session yet")
    );
    assert!(h.app.pager_mut().is_none());

    let mut h = two_running();
    h.engine(sub(
        "a1",
        "t1",
        tool_end(
            "s1",
            "grep",
            "src/parse.rs:10: fn parse(\nsrc/parse.rs:90: fn parse_line(",
        ),
    ));
    h.engine(finished("a1", "t1", "completed", 3_400));
    h.app.take_effects();
    h.ctrl('o');
    assert_eq!(h.app.take_effects(), vec![Effect::OpenPager]);
    let newest = stable(&pager_text(&mut h));
    assert!(newest.starts_with(TESTS), "the newest first:\n{newest}");
    assert!(newest.contains("Subagent 2/2"), "{newest}");
    assert!(
        newest.contains("mod suite;"),
        "tool outputs in full:\n{newest}"
    );
    h.press(KeyCode::Right);
    let first = stable(&pager_text(&mut h));
    insta::assert_snapshot!(first);
    assert!(first.contains("src/parse.rs:90: fn parse_line("), "{first}");
    assert!(first.contains("Searching for the parser."), "{first}");
    h.press(KeyCode::Left);
    assert!(pager_text(&mut h).starts_with(TESTS));
    h.press(KeyCode::Char('q'));
    assert!(h.app.pager_mut().is_none());
    assert_eq!(h.app.take_effects(), vec![Effect::ClosePager]);
    // The transcript pager is not switched by the arrows.
    h.ctrl('t');
    h.press(KeyCode::Right);
    assert!(pager_text(&mut h).contains(" Transcript "));
}

#[test]
fn subagents_out_of_order_still_show_and_end() {
    let mut h = Harness::new();
    // No `task` call and no start seen: the events still make a block.
    h.engine(sub("z9", "gone", tool_begin("s1", "glob", "**/*.md")));
    let frame = h.frame(80, 20);
    assert!(frame.contains("↳ * subagent · 0 tools"), "{frame}");
    assert!(frame.contains("* **/*.md"), "{frame}");
    assert!(h.app.animating(), "a running subagent ticks");
    h.engine(finished("z9", "gone", "completed", 5));
    assert!(
        h.scrollback_text()
            .contains("↳ ✓ subagent · 0 tools · 5 tokens"),
        "committed at once, its task call having ended:\n{}",
        h.scrollback_text()
    );
    assert!(!h.frame(80, 20).contains("subagent ·"));
    assert!(!h.app.animating());
}
