//! The canary test: a unique string is put into everything a real session touches (prompt,
//! model name, base URL, file names, API key, MCP server, custom command, terminal, error and
//! panic messages, tool-call denial message) and pushed through every public constructor that
//! takes user-facing input. It must appear nowhere the collector or the audit log saw.

use std::time::Duration;

use qcode_protocol::{
    ApprovalMode, AuthKind, DecisionSource, ErrorKind, Event, ReviewDecision, Usage,
};
use qcode_telemetry::{
    CodeLocation, Consent, EndpointConfig, FlushOutcome, ModelId, ModelRequest, RunMode,
    SessionInfo, SlashCommand, StatusClass, Telemetry, TelemetryConfig, TerminalKind, TokenCounts,
    ToolCall, ToolDecision, ToolName, UsageEvent, install_panic_hook,
};
use qcode_test_support::otel_collector::Collector;

use super::env_of;

#[test]
fn canary_never_reaches_the_collector_or_the_audit_log() {
    let Some(collector) = Collector::start_or_skip("canary") else {
        return;
    };
    let canary = format!("CANARY{:032x}", rand_u128());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");

    // What a real session would have, all carrying the canary.
    let prompt = format!("please refactor {canary}.rs");
    let model_name = format!("{canary}-finetune");
    let base_url = format!("https://{canary}.example.com/v1");
    let api_key = format!("sk-{canary}");
    let file_name = format!("/home/{canary}/project/{canary}.rs");
    let env = env_of(&[
        ("TERM_PROGRAM", &canary),
        ("TERM", &canary),
        ("QCODE_USAGE_STATS", &canary),
        ("DO_NOT_TRACK", ""),
        ("OPENAI_API_KEY", &api_key),
        ("OPENAI_BASE_URL", &base_url),
    ]);
    let consent = Consent::resolve(Some(true), &env);
    assert_eq!(consent, Consent::Enabled);
    let terminal = TerminalKind::detect(&env);
    assert_eq!(terminal, TerminalKind::Other);

    let telemetry = Telemetry::init(TelemetryConfig {
        consent,
        endpoint: EndpointConfig::resolve(Some(&collector.endpoint()), &env).unwrap(),
        audit_log: audit.clone(),
        session: SessionInfo {
            terminal,
            run_mode: RunMode::Headless,
            auth: AuthKind::Openai,
            approval_mode: ApprovalMode::Default,
            startup: Duration::from_millis(80),
        },
    });
    install_panic_hook(telemetry.clone());

    // The engine's events as the integrator would map them.
    let engine_events = [
        Event::ToolCallEnd {
            call_id: canary.clone(),
            name: format!("mcp__{canary}__read_{canary}"),
            status: qcode_protocol::ToolStatus::Error,
            output: prompt.clone(),
            diff: Some(file_name.clone()),
            duration_ms: 7,
        },
        Event::Error {
            kind: ErrorKind::Auth,
            message: api_key.clone(),
            hint: Some(base_url.clone()),
        },
    ];
    for event in &engine_events {
        match event {
            Event::ToolCallEnd {
                name,
                status,
                duration_ms,
                ..
            } => {
                telemetry.record(UsageEvent::ToolCall(ToolCall {
                    tool: ToolName::from_call_name(name),
                    decision: ToolDecision::from_review(
                        &ReviewDecision::Deny {
                            message: Some(prompt.clone()),
                        },
                        DecisionSource::User,
                    ),
                    success: *status == qcode_protocol::ToolStatus::Success,
                    duration: Duration::from_millis(*duration_ms),
                }));
            }
            Event::Error { kind, .. } => telemetry.record(UsageEvent::Error(*kind)),
            _ => unreachable!(),
        }
    }
    for name in [canary.as_str(), &format!("run_{canary}"), &file_name] {
        telemetry.record(UsageEvent::ToolCall(ToolCall {
            tool: ToolName::from_call_name(name),
            decision: ToolDecision::Auto,
            success: true,
            duration: Duration::from_millis(1),
        }));
    }
    for input in [
        format!("/{canary} {prompt}"),
        format!("/model {model_name}"),
        format!("/{canary}"),
    ] {
        telemetry.record(UsageEvent::SlashCommand(SlashCommand::from_input(&input)));
    }
    let usage = Usage {
        prompt_tokens: 11,
        completion_tokens: 22,
        total_tokens: 33,
        cached_tokens: 0,
        reasoning_tokens: 0,
    };
    for name in [
        model_name.as_str(),
        &format!("openai/{canary}"),
        &base_url,
        &api_key,
    ] {
        telemetry.record(UsageEvent::ModelRequest(ModelRequest {
            model: ModelId::from_user(name),
            status: StatusClass::from_status(401),
            latency: Duration::from_millis(40),
            time_to_first_token: None,
            tokens: TokenCounts::from(&usage),
            retries: 0,
        }));
    }
    for file in [
        file_name.as_str(),
        &format!("{canary}/src/lib.rs"),
        &format!("src/../{canary}.rs"),
    ] {
        telemetry.record(UsageEvent::Crash(CodeLocation::from_parts(file, 3)));
    }
    // A real panic whose message carries the canary, caught by the hook.
    let message = format!("panicked on {prompt} with key {api_key}");
    let panicked = std::thread::spawn(move || panic!("{message}")).join();
    assert!(panicked.is_err());
    telemetry.end_session(1);
    assert_eq!(
        telemetry.shutdown(Duration::from_secs(5)),
        FlushOutcome::Done
    );

    // 1 start + 4 tool calls + 1 error + 3 commands + 4 requests + 3 crashes + 1 panic + 1 end
    let records = collector.wait_for(Duration::from_secs(5), |r| {
        r.iter().filter(|x| x["signal"] == "log").count() >= 18
            && r.iter().any(|x| x["name"] == "qcode.crashes")
    });
    let dump = collector.dump_text();
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(
        records.iter().filter(|x| x["signal"] == "log").count(),
        18,
        "{dump}"
    );
    assert_eq!(audit_text.lines().count(), 18);
    assert!(
        !dump.contains(&canary),
        "the canary reached the collector:\n{dump}"
    );
    assert!(
        !audit_text.contains(&canary),
        "the canary reached the audit log:\n{audit_text}"
    );

    // ... while the anonymous values did arrive
    for expected in [
        r#""terminal": "other""#,
        r#""tool": "mcp""#,
        r#""tool": "other""#,
        r#""command": "custom""#,
        r#""command": "model""#,
        r#""model": "other""#,
        r#""status_class": "4xx""#,
        r#""kind": "auth""#,
        r#""decision": "deny""#,
        r#""location": "external""#,
    ] {
        assert!(dump.contains(expected), "{expected} missing from\n{dump}");
    }
    // the real panic is located in this file (qcode's own code), without its message
    assert!(
        dump.contains(r#""location": "crates/qcode-telemetry/tests/suite/canary.rs:"#),
        "{dump}"
    );
}

fn rand_u128() -> u128 {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::time::SystemTime::now());
    let b = RandomState::new().hash_one(std::process::id());
    (u128::from(a) << 64) | u128::from(b)
}
