//! Subagents driven through the queue pair: an approval request of a subagent reaches the
//! front end wrapped, with an id unique across engines, and the decision is routed to it; an
//! interrupt stops every running subagent and every `task` call still gets a result.

use qcode_extensions::{AgentDefinition, AgentModel, AgentSource, AgentTools};
use qcode_protocol::{ApprovalMode, Event, Op, ReviewDecision, ToolStatus, TurnOutcome};
use qcode_test_support::mock_model::{Reply, SseItem, chunk};
use serde_json::json;

use super::harness::*;

fn agent(name: &str, marker: &str, tools: AgentTools) -> AgentDefinition {
    AgentDefinition {
        name: name.into(),
        description: format!("The {name} agent."),
        tools,
        model: AgentModel::Inherit,
        approval_mode: None,
        max_requests: None,
        system_prompt: format!("You are {marker}."),
        source: AgentSource::BuiltIn,
    }
}

fn task(id: &str, agent: &str) -> (String, String, String) {
    (
        id.into(),
        "task".into(),
        json!({"subagent_type": agent, "description": "a job", "prompt": format!("job for {agent}")})
            .to_string(),
    )
}

#[tokio::test]
async fn a_subagents_approval_is_asked_wrapped_and_the_decision_reaches_it() {
    let writer = agent(
        "writer",
        "WRITER-MARKER",
        AgentTools::Only(vec!["write_file".into()]),
    );
    let mut e = start_with_agents(ApprovalMode::Default, vec![writer]);
    e.mock
        .enqueue(Reply::tool_calls([task("t1", "writer")], 20));
    e.mock.enqueue_matching(
        "WRITER-MARKER",
        Reply::tool_calls(
            [(
                "w1",
                "write_file",
                json!({"file_path": "out.txt", "content": "hi\n"}).to_string(),
            )],
            20,
        ),
    );
    e.mock
        .enqueue_matching("WRITER-MARKER", Reply::text("wrote it", 4));
    e.mock.enqueue(Reply::text("done", 4));
    e.send(Op::UserTurn {
        text: "write".into(),
    });
    let evs = e
        .until(|ev| {
            matches!(ev, Event::Subagent { event, .. } if matches!(**event, Event::ApprovalRequest { .. }))
        })
        .await;
    let Some(Event::Subagent {
        agent_id,
        parent_call_id,
        event,
    }) = evs.last().cloned()
    else {
        unreachable!()
    };
    assert_eq!(parent_call_id, "t1");
    assert!(
        evs.iter()
            .any(|ev| matches!(ev, Event::SubagentStarted { agent_id: a, .. } if *a == agent_id))
    );
    let Event::ApprovalRequest {
        request_id, tool, ..
    } = *event
    else {
        unreachable!()
    };
    assert_eq!(tool, "write_file");
    assert_eq!(request_id, format!("{agent_id}:approval-w1"));
    assert!(!e.dir.path().join("out.txt").exists());
    // A decision for another id is not taken for this one.
    e.send(Op::ApprovalDecision {
        request_id: "approval-w1".into(),
        decision: ReviewDecision::AllowOnce,
    });
    e.send(Op::ApprovalDecision {
        request_id,
        decision: ReviewDecision::AllowOnce,
    });
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert_eq!(
        std::fs::read_to_string(e.dir.path().join("out.txt")).unwrap(),
        "hi\n"
    );
    let end = evs.iter().find_map(|ev| match ev {
        Event::ToolCallEnd {
            call_id,
            output,
            status,
            ..
        } if call_id == "t1" => Some((output.clone(), *status)),
        _ => None,
    });
    assert_eq!(end, Some(("wrote it".to_string(), ToolStatus::Success)));
    let sub = e.mock.requests()[1].body_json().unwrap();
    let names: Vec<&str> = sub["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(names, ["write_file"]);
}

#[tokio::test]
async fn an_interrupt_stops_every_subagent_and_every_call_gets_a_result() {
    let a = agent("a", "A-MARKER", AgentTools::All);
    let b = agent("b", "B-MARKER", AgentTools::All);
    let mut e = start_with_agents(ApprovalMode::Default, vec![a, b]);
    e.mock
        .enqueue(Reply::tool_calls([task("t1", "a"), task("t2", "b")], 20));
    for marker in ["A-MARKER", "B-MARKER"] {
        e.mock.enqueue_matching(
            marker,
            Reply::sse(vec![
                SseItem::data_json(&chunk::role()),
                SseItem::data_json(&chunk::text("working")),
                SseItem::stall(),
            ]),
        );
    }
    e.send(Op::UserTurn { text: "go".into() });
    let working = std::cell::Cell::new(0);
    e.until(|ev| {
        if matches!(ev, Event::Subagent { event, .. } if matches!(&**event, Event::TextDelta { .. }))
        {
            working.set(working.get() + 1);
        }
        working.get() == 2
    })
    .await;
    e.send(Op::Interrupt);
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Interrupted,
            ..
        })
    ));
    let finished: Vec<&str> = evs
        .iter()
        .filter_map(|ev| match ev {
            Event::SubagentFinished { status, .. } => Some(status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(finished, ["cancelled", "cancelled"]);
    let results: Vec<(String, String)> = evs
        .iter()
        .filter_map(|ev| match ev {
            Event::HistoryAppended { message } if message.tool_call_id.is_some() => Some((
                message.tool_call_id.clone().unwrap_or_default(),
                message.content.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].0, "t1");
    assert_eq!(results[1].0, "t2");
    assert!(
        results
            .iter()
            .all(|(_, r)| r.starts_with("Cancelled:") && r.contains("working"))
    );
}

#[tokio::test]
async fn a_mode_change_while_a_subagent_runs_reaches_it_clamped_by_its_definition() {
    let mut careful = agent(
        "careful",
        "CAREFUL-MARKER",
        AgentTools::Only(vec!["write_file".into()]),
    );
    careful.approval_mode = Some(ApprovalMode::AutoEdit);
    let mut e = start_with_agents(ApprovalMode::Default, vec![careful]);
    e.mock
        .enqueue(Reply::tool_calls([task("t1", "careful")], 20));
    e.mock.enqueue_matching(
        "CAREFUL-MARKER",
        Reply::tool_calls(
            [(
                "w1",
                "write_file",
                json!({"file_path": "m.txt", "content": "x"}).to_string(),
            )],
            20,
        ),
    );
    e.mock
        .enqueue_matching("CAREFUL-MARKER", Reply::text("done", 4));
    e.mock.enqueue(Reply::text("ok", 4));
    e.send(Op::UserTurn { text: "go".into() });
    let evs = e
        .until(|ev| {
            matches!(ev, Event::Subagent { event, .. } if matches!(**event, Event::ApprovalRequest { .. }))
        })
        .await;
    let Some(Event::Subagent { event, .. }) = evs.last().cloned() else {
        unreachable!()
    };
    let Event::ApprovalRequest { request_id, .. } = *event else {
        unreachable!()
    };
    e.send(Op::SetApprovalMode {
        mode: ApprovalMode::Yolo,
    });
    let evs = e
        .until(|ev| {
            matches!(ev, Event::Subagent { event, .. } if matches!(**event, Event::SessionConfigured { .. }))
        })
        .await;
    let Some(Event::Subagent { event, .. }) = evs.last().cloned() else {
        unreachable!()
    };
    assert!(
        matches!(
            *event,
            Event::SessionConfigured {
                approval_mode: ApprovalMode::AutoEdit,
                ..
            }
        ),
        "yolo for the session, the definition's auto-edit for the subagent: {event:?}"
    );
    e.send(Op::ApprovalDecision {
        request_id,
        decision: ReviewDecision::Deny { message: None },
    });
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(evs.iter().any(|ev| matches!(
        ev,
        Event::SessionConfigured {
            approval_mode: ApprovalMode::Yolo,
            ..
        }
    )));
}
