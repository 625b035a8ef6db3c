use super::*;
use crate::transcript::subagent::agent_label;

fn block(id: &str, parent: &str) -> SubagentBlock {
    SubagentBlock::new(id, parent, "general-purpose", id)
}

#[test]
fn finished_blocks_beyond_the_cap_are_forgotten_but_live_ones_stay() {
    let mut s = Subagents::default();
    for i in 0..MAX_KEPT + 3 {
        s.start(block(&format!("a{i}"), &format!("c{i}")));
    }
    assert_eq!(
        s.blocks().count(),
        MAX_KEPT + 3,
        "running blocks are never dropped"
    );
    for i in 0..MAX_KEPT + 3 {
        if let Some(b) = s.get_mut(&format!("a{i}")) {
            b.finish(SubagentEnd::Completed, 10, 1000);
        }
        assert_eq!(s.commit_for(&format!("c{i}")).len(), 1);
    }
    assert_eq!(s.blocks().count(), MAX_KEPT);
    assert_eq!(
        s.blocks().next().map(|b| b.agent_id.as_str()),
        Some("a3"),
        "the oldest went first"
    );
    assert_eq!(s.live().count(), 0);
}

#[test]
fn the_pager_starts_at_the_newest_and_wraps_around() {
    let mut s = Subagents::default();
    assert!(s.view(0).is_none());
    s.start(block("a", "c1"));
    s.start(block("b", "c2"));
    s.start(block("c", "c3"));
    assert_eq!(
        s.view(0).map(|(i, b)| (i, b.agent_id.clone())),
        Some((2, "c".into()))
    );
    assert_eq!(s.view(1).map(|(i, _)| i), Some(0), "→ wraps to the first");
    assert_eq!(s.view(-1).map(|(i, _)| i), Some(2), "← wraps to the last");
    assert_eq!(s.viewing(), Some("c"));
    s.stop_viewing();
    assert_eq!(s.viewing(), None);
}

#[test]
fn the_turn_ending_commits_running_blocks_as_cancelled() {
    let mut s = Subagents::default();
    s.start(block("a", "c1"));
    s.start(block("b", "c2"));
    if let Some(b) = s.get_mut("b") {
        b.finish(SubagentEnd::Failed, 0, 500);
    }
    let ends: Vec<SubagentEnd> = s.commit_all().into_iter().map(|s| s.end).collect();
    assert_eq!(ends, vec![SubagentEnd::Cancelled, SubagentEnd::Failed]);
    assert!(!s.any_running());
    assert!(s.commit_all().is_empty(), "committed once");
    s.clear_finished();
    assert!(s.is_empty());
}

#[test]
fn a_repeated_start_keeps_the_block() {
    let mut s = Subagents::default();
    s.start(block("a", "c1"));
    if let Some(b) = s.get_mut("a") {
        b.tokens = 42;
    }
    s.start(SubagentBlock::new("a", "c9", "explore", "again"));
    assert_eq!(s.blocks().count(), 1);
    let b = s.blocks().next().unwrap();
    assert_eq!((b.tokens, b.parent_call_id.as_str()), (42, "c9"));
    assert_eq!(b.label, agent_label("explore", "again"));
}
