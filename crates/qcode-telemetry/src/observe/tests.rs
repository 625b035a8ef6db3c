use qcode_protocol::{
    ApprovalMode, AuthKind, DecisionSource, FinishReason, ReviewDecision, TurnOutcome,
};

use super::*;

fn observe_all(events: &[Event]) -> (Vec<UsageEvent>, u32) {
    let mut observer = Observer::new();
    let mut recorded = Vec::new();
    for ev in events {
        observer.observe(ev, &mut |u| recorded.push(u));
    }
    (recorded, observer.turns)
}

fn configured(model: &str) -> Event {
    Event::SessionConfigured {
        model: model.into(),
        auth: AuthKind::Openai,
        approval_mode: ApprovalMode::Default,
        cwd: "/w".into(),
        context_window: None,
        session_id: None,
    }
}

fn decided(call_id: &str, decision: ReviewDecision, source: DecisionSource) -> Event {
    Event::ApprovalDecided {
        request_id: format!("approval-{call_id}"),
        call_id: call_id.into(),
        tool: "write_file".into(),
        decision,
        source,
    }
}

fn tool_end(call_id: &str, status: ToolStatus) -> Event {
    Event::ToolCallEnd {
        call_id: call_id.into(),
        name: "write_file".into(),
        status,
        output: "secret output".into(),
        diff: None,
        duration_ms: 12,
    }
}

fn tool_calls(recorded: &[UsageEvent]) -> Vec<ToolCall> {
    recorded
        .iter()
        .filter_map(|u| match u {
            UsageEvent::ToolCall(c) => Some(*c),
            _ => None,
        })
        .collect()
}

#[test]
fn a_tool_call_after_the_users_decision_records_that_decision() {
    let (recorded, _) = observe_all(&[
        configured("qwen3-coder-plus"),
        decided("c1", ReviewDecision::AllowOnce, DecisionSource::User),
        tool_end("c1", ToolStatus::Success),
        decided(
            "c2",
            ReviewDecision::Deny {
                message: Some("no".into()),
            },
            DecisionSource::User,
        ),
        tool_end("c2", ToolStatus::Denied),
        decided("c3", ReviewDecision::AllowOnce, DecisionSource::Policy),
        tool_end("c3", ToolStatus::Error),
        // No decision event at all (an invalid call): automatic.
        tool_end("c4", ToolStatus::Error),
    ]);
    let calls = tool_calls(&recorded);
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[0].decision, ToolDecision::Allow);
    assert!(calls[0].success);
    assert_eq!(calls[0].tool, ToolName::from_call_name("write_file"));
    assert_eq!(calls[0].duration, Duration::from_millis(12));
    assert_eq!(calls[1].decision, ToolDecision::Deny);
    assert!(!calls[1].success);
    assert_eq!(calls[2].decision, ToolDecision::Auto);
    assert_eq!(calls[3].decision, ToolDecision::Auto);
}

#[test]
fn a_decision_is_used_once_for_its_own_call() {
    let (recorded, _) = observe_all(&[
        decided("c1", ReviewDecision::AllowOnce, DecisionSource::User),
        tool_end("c2", ToolStatus::Success),
        tool_end("c1", ToolStatus::Success),
        tool_end("c1", ToolStatus::Success),
    ]);
    let decisions: Vec<ToolDecision> = tool_calls(&recorded).iter().map(|c| c.decision).collect();
    assert_eq!(
        decisions,
        vec![ToolDecision::Auto, ToolDecision::Allow, ToolDecision::Auto]
    );
}

#[test]
fn a_model_request_has_its_model_tokens_retries_and_first_token() {
    let usage = Usage {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        cached_tokens: 80,
        reasoning_tokens: 5,
    };
    let (recorded, turns) = observe_all(&[
        configured("qwen3-coder-plus"),
        Event::TurnStarted { turn_id: 1 },
        Event::RequestStarted {
            turn_id: 1,
            request: 1,
        },
        Event::Retry {
            attempt: 2,
            max_attempts: 5,
            delay_ms: 10,
            reason: "rate limited".into(),
        },
        Event::TextDelta { text: "hi".into() },
        Event::Usage {
            usage,
            total: usage,
        },
        Event::ResponseComplete {
            finish: FinishReason::Stop,
        },
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Completed,
        },
    ]);
    assert_eq!(turns, 1);
    let [UsageEvent::ModelRequest(req)] = recorded.as_slice() else {
        panic!("one model request, nothing for the turn end: {recorded:?}");
    };
    assert_eq!(req.model, ModelId::from_user("qwen3-coder-plus"));
    assert_eq!(req.status, StatusClass::Success);
    assert_eq!(req.retries, 1);
    assert_eq!(req.tokens, TokenCounts::from(&usage));
    assert!(req.time_to_first_token.is_some());
    assert!(req.time_to_first_token.unwrap() <= req.latency);
}

#[test]
fn an_error_ends_the_request_with_its_status_class_and_is_recorded() {
    let (recorded, turns) = observe_all(&[
        configured("m"),
        Event::RequestStarted {
            turn_id: 1,
            request: 1,
        },
        Event::Error {
            kind: ErrorKind::RateLimit,
            message: "user text".into(),
            hint: None,
        },
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Failed,
        },
    ]);
    assert_eq!(turns, 1);
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    let UsageEvent::ModelRequest(req) = &recorded[0] else {
        panic!("{recorded:?}");
    };
    assert_eq!(req.status, StatusClass::ClientError);
    assert_eq!(req.time_to_first_token, None);
    assert_eq!(recorded[1], UsageEvent::Error(ErrorKind::RateLimit));
}

#[test]
fn an_interrupted_request_counts_as_no_response() {
    let (recorded, _) = observe_all(&[
        Event::RequestStarted {
            turn_id: 1,
            request: 1,
        },
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Interrupted,
        },
    ]);
    let [UsageEvent::ModelRequest(req)] = recorded.as_slice() else {
        panic!("{recorded:?}");
    };
    assert_eq!(req.status, StatusClass::NoResponse);
}

#[test]
fn status_classes_of_error_kinds() {
    assert_eq!(status_class(ErrorKind::Auth), StatusClass::ClientError);
    assert_eq!(status_class(ErrorKind::Server), StatusClass::ServerError);
    assert_eq!(status_class(ErrorKind::Network), StatusClass::NoResponse);
}

#[tokio::test]
async fn not_exporting_passes_the_same_queue_through() {
    let (handle, ends) = qcode_protocol::queue_pair();
    let (mut events, task) = tee(handle.events, Telemetry::disabled());
    ends.events.send(configured("m")).await.unwrap();
    drop(ends);
    assert!(matches!(
        events.recv().await,
        Some(Event::SessionConfigured { .. })
    ));
    assert!(events.recv().await.is_none());
    assert_eq!(task.await.unwrap(), 0);
}
