use std::time::Duration;

use qcode_protocol::ReviewDecision;

use super::*;
use crate::testutil::lines_text;
use crate::transcript::{Cell, NoticeKind};

fn block(started: Instant) -> SubagentBlock {
    SubagentBlock::started_at(
        "a1",
        "task-1",
        agent_label("general-purpose", "find the parser"),
        started,
    )
}

fn end<'a>(call_id: &'a str, output: &'a str) -> ToolEnd<'a> {
    ToolEnd {
        call_id,
        name: "read_file",
        status: ToolStatus::Success,
        output,
        diff: None,
        duration_ms: 40,
    }
}

#[test]
fn labels_are_one_safe_line_and_long_descriptions_are_cut() {
    assert_eq!(
        agent_label("general-purpose", "find the parser"),
        "general-purpose · \"find the parser\""
    );
    assert_eq!(
        agent_label("explore\x1b[2J", "two\nlines\there"),
        "explore [2J · \"two lines here\"",
        "control characters never reach the terminal"
    );
    assert_eq!(agent_label("", ""), "subagent");
    let long = agent_label("x", &"y".repeat(80));
    assert!(long.ends_with("…\""), "{long}");
    assert_eq!(long.chars().filter(|c| *c == 'y').count(), 60);
}

#[test]
fn live_block_shows_the_tools_running_now_the_counters_and_the_elapsed_time() {
    let t0 = Instant::now();
    let mut b = block(t0);
    b.tool_begin("c1", "read_file", "src/lib.rs");
    b.tool_end(end("c1", "fn main() {}"));
    b.tool_begin("c2", "grep", "\"fn parse\" in src/");
    b.tool_begin("c3", "glob", "**/*.rs");
    b.tokens = 3_400;
    let running = lines_text(&b.live_lines("*", t0 + Duration::from_secs(12)), 80);
    b.tool_end(end("c2", ""));
    b.tool_end(end("c3", ""));
    let idle = lines_text(&b.live_lines("*", t0 + Duration::from_secs(75)), 80);
    insta::assert_snapshot!(format!("{running}\n---\n{idle}"));
    assert_eq!(b.tools, 3);
}

#[test]
fn live_block_lines_do_not_grow_with_the_history() {
    let t0 = Instant::now();
    let mut b = block(t0);
    for i in 0..500 {
        let id = format!("c{i}");
        b.tool_begin(&id, "read_file", &format!("file {i}"));
        b.tool_end(end(&id, &"output line\n".repeat(50)));
        b.log.text("some text of the subagent\n");
    }
    b.tool_begin("x1", "grep", "a");
    b.tool_begin("x2", "grep", "b");
    b.tool_begin("x3", "grep", "c");
    b.tool_begin("x4", "grep", "d");
    b.tool_begin("x5", "grep", "e");
    let lines = b.live_lines("*", t0);
    assert_eq!(
        lines.len(),
        1 + LIVE_TOOLS_SHOWN + 1,
        "header, the tools shown and one +N line"
    );
    assert!(lines_text(&lines, 80).contains("+2 more"));
    assert!(b.log.bytes() <= MAX_LOG_BYTES, "{}", b.log.bytes());
    assert!(b.log.dropped() > 0);
    let pager = lines_text(&b.full_lines(80, None, t0), 80);
    assert!(pager.contains("earlier entries are not kept"), "{pager}");
    assert!(pager.contains("file 499"), "the newest entries stay");
    assert!(!pager.contains("file 0 "), "the oldest went first");
}

#[test]
fn tool_outputs_and_texts_are_capped_on_a_character_boundary() {
    let mut b = block(Instant::now());
    b.tool_begin("c1", "run_shell_command", "yes");
    for _ in 0..40 {
        b.log.tool_output("c1", &"é".repeat(1000));
    }
    let Some(Cell::Tool(t)) = b.log.cells().next() else {
        panic!("a tool cell");
    };
    assert!(t.output.len() <= MAX_TOOL_OUTPUT_BYTES + CUT_NOTE.len());
    assert!(t.output.ends_with(CUT_NOTE));
    b.tool_end(ToolEnd {
        output: &"z".repeat(MAX_TOOL_OUTPUT_BYTES * 3),
        ..end("c1", "")
    });
    let Some(Cell::Tool(t)) = b.log.cells().next() else {
        panic!("a tool cell");
    };
    assert_eq!(t.output.len(), MAX_TOOL_OUTPUT_BYTES + CUT_NOTE.len());
    b.log.text(&"w".repeat(MAX_TEXT_BYTES * 2));
    b.log.text("more");
    let Some(Cell::Assistant { markdown }) = b.log.cells().nth(1) else {
        panic!("a text cell");
    };
    assert_eq!(markdown.len(), MAX_TEXT_BYTES + CUT_NOTE.len());
}

#[test]
fn collapsed_summary_of_each_status() {
    let summary = |end, tools, tokens, ms| SubagentSummary {
        label: agent_label("general-purpose", "find the parser"),
        end,
        tools,
        tokens,
        duration_ms: ms,
    };
    let lines: Vec<Line<'static>> = [
        summary(SubagentEnd::Completed, 12, 3_400, 18_400),
        summary(SubagentEnd::Failed, 1, 800, 3_000),
        summary(SubagentEnd::Cancelled, 0, 0, 500),
        summary(SubagentEnd::Limit, 50, 1_200_000, 125_000),
    ]
    .iter()
    .map(SubagentSummary::line)
    .collect();
    insta::assert_snapshot!(lines_text(&lines, 100));
    let compact = summary(SubagentEnd::Completed, 1, 10, 1000).lines(Detail::Compact);
    assert_eq!(
        lines_text(&compact, 100),
        "  ↳ ✓ general-purpose · \"find the parser\" · 1 tool · 10 tokens · 1 s · Ctrl+O to expand"
    );
    assert_eq!(SubagentEnd::parse("completed"), SubagentEnd::Completed);
    assert_eq!(SubagentEnd::parse("limit"), SubagentEnd::Limit);
    assert_eq!(SubagentEnd::parse("cancelled"), SubagentEnd::Cancelled);
    assert_eq!(SubagentEnd::parse("exploded"), SubagentEnd::Failed);
}

#[test]
fn pager_content_has_the_text_the_tool_calls_with_outputs_and_notices() {
    let t0 = Instant::now();
    let mut b = block(t0);
    b.log.text("Looking for the parser.\n");
    b.tool_begin("c1", "grep", "\"fn parse\" in src/");
    b.log.tool_output("c1", "src/parse.rs:10: fn parse(");
    b.tool_end(end(
        "c1",
        "src/parse.rs:10: fn parse(\nsrc/parse.rs:90: fn parse_line(",
    ));
    b.tool_begin("c2", "run_shell_command", "cargo test");
    b.log
        .decision("run_shell_command", ReviewDecision::AllowOnce);
    b.log
        .notice(NoticeKind::Warning, "the context is almost full", None);
    b.log.text("The parser is in **src/parse.rs**.");
    b.tokens = 2_100;
    b.finish(SubagentEnd::Completed, 2_500, 18_000);
    let text = lines_text(&b.full_lines(80, None, t0), 80);
    insta::assert_snapshot!(text);
    assert!(text.contains("src/parse.rs:90"), "outputs in full");
    assert_eq!(b.tokens, 2_500, "the finish event's usage is the total");
}
