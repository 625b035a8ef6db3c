//! A session's events arrive at a real OTLP collector (Rotel) as log records and metrics with
//! the right attributes and resource, and the audit log holds exactly what was exported.

use std::time::Duration;

use qcode_protocol::ErrorKind;
use qcode_telemetry::{
    Consent, FlushOutcome, ModelId, ModelRequest, SlashCommand, StatusClass, Telemetry,
    TelemetryStatus, TokenCounts, ToolCall, ToolDecision, ToolName, UsageEvent, VERSION,
    read_audit_log,
};
use qcode_test_support::otel_collector::Collector;
use serde_json::{Value, json};

use super::config;

fn logs(records: &[Value]) -> Vec<&Value> {
    records.iter().filter(|r| r["signal"] == "log").collect()
}

fn metric<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["signal"] == "metric" && r["name"] == name)
        .unwrap_or_else(|| panic!("metric {name} not received; got {records:#?}"))
}

/// The data point of `metric` whose attributes are exactly `attributes`.
fn point(metric: &Value, attributes: Value) -> &Value {
    metric["data_points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["attributes"] == attributes)
        .unwrap_or_else(|| panic!("no point {attributes} in {metric:#}"))
}

fn record_session(telemetry: &Telemetry) {
    telemetry.record(UsageEvent::SlashCommand(SlashCommand::from_input(
        "/model qwen-max",
    )));
    telemetry.record(UsageEvent::SlashCommand(SlashCommand::from_input(
        "/review-my-pr",
    )));
    telemetry.record(UsageEvent::ToolCall(ToolCall {
        tool: ToolName::from_call_name("read_file"),
        decision: ToolDecision::Auto,
        success: true,
        duration: Duration::from_millis(12),
    }));
    telemetry.record(UsageEvent::ToolCall(ToolCall {
        tool: ToolName::from_call_name("mcp__github__create_issue"),
        decision: ToolDecision::Deny,
        success: false,
        duration: Duration::ZERO,
    }));
    telemetry.record(UsageEvent::ModelRequest(ModelRequest {
        model: ModelId::from_user("qwen3-coder-plus"),
        status: StatusClass::from_status(200),
        latency: Duration::from_millis(1500),
        time_to_first_token: Some(Duration::from_millis(300)),
        tokens: TokenCounts {
            prompt: 1000,
            completion: 200,
            cached: 50,
            reasoning: 30,
        },
        retries: 1,
    }));
    telemetry.record(UsageEvent::Error(ErrorKind::RateLimit));
    telemetry.end_session(3);
}

#[test]
fn session_events_arrive_as_logs_and_metrics_with_resource() {
    let Some(collector) = Collector::start_or_skip("session_events_arrive") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let telemetry = Telemetry::init(config(
        Consent::Enabled,
        &collector.endpoint(),
        audit.clone(),
    ));
    assert!(telemetry.is_exporting());
    assert_eq!(telemetry.status(), TelemetryStatus::On);
    record_session(&telemetry);
    assert_eq!(
        telemetry.shutdown(Duration::from_secs(5)),
        FlushOutcome::Done
    );
    assert_eq!(telemetry.status(), TelemetryStatus::ShutDown);

    let records = collector.wait_for(Duration::from_secs(5), |r| {
        logs(r).len() >= 8 && r.iter().any(|m| m["name"] == "qcode.session.duration")
    });
    let session_id = telemetry.session_id().unwrap().to_string();
    assert_eq!(session_id.len(), 32);
    let resource =
        json!({"service.name": "qcode", "service.version": VERSION, "session.id": session_id});
    for record in &records {
        assert_eq!(record["resource"], resource, "{record}");
        assert_eq!(record["scope"], "qcode", "{record}");
    }

    let logs = logs(&records);
    let bodies: Vec<&str> = logs.iter().map(|l| l["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        [
            "qcode.session.start",
            "qcode.slash_command",
            "qcode.slash_command",
            "qcode.tool_call",
            "qcode.tool_call",
            "qcode.model_request",
            "qcode.error",
            "qcode.session.end"
        ]
    );
    assert!(logs.iter().all(|l| l["severity_text"] == "INFO"));
    assert_eq!(
        logs[0]["attributes"],
        json!({"app.version": VERSION, "os": std::env::consts::OS, "arch": std::env::consts::ARCH,
               "terminal": "xterm", "mode": "interactive", "auth": "qwen-oauth",
               "approval_mode": "auto-edit", "startup_ms": 150})
    );
    assert_eq!(logs[1]["attributes"], json!({"command": "model"}));
    assert_eq!(logs[2]["attributes"], json!({"command": "custom"}));
    assert_eq!(
        logs[3]["attributes"],
        json!({"tool": "read_file", "decision": "auto", "success": true, "duration_ms": 12})
    );
    assert_eq!(
        logs[4]["attributes"],
        json!({"tool": "mcp", "decision": "deny", "success": false, "duration_ms": 0})
    );
    assert_eq!(
        logs[5]["attributes"],
        json!({"model": "qwen3-coder-plus", "status_class": "2xx", "latency_ms": 1500,
               "ttft_ms": 300, "prompt_tokens": 1000, "completion_tokens": 200,
               "cached_tokens": 50, "reasoning_tokens": 30, "retries": 1})
    );
    assert_eq!(logs[6]["attributes"], json!({"kind": "rate_limit"}));
    assert_eq!(logs[7]["attributes"]["turns"], 3);

    // metrics: counters
    let requests = metric(&records, "qcode.model.requests");
    assert_eq!(requests["data_type"], "Sum");
    assert_eq!(
        point(
            requests,
            json!({"model": "qwen3-coder-plus", "status_class": "2xx"})
        )["value"],
        1
    );
    let tools = metric(&records, "qcode.tool.calls");
    assert_eq!(
        point(
            tools,
            json!({"tool": "read_file", "decision": "auto", "success": true})
        )["value"],
        1
    );
    assert_eq!(
        point(
            tools,
            json!({"tool": "mcp", "decision": "deny", "success": false})
        )["value"],
        1
    );
    let commands = metric(&records, "qcode.commands");
    assert_eq!(point(commands, json!({"command": "model"}))["value"], 1);
    assert_eq!(point(commands, json!({"command": "custom"}))["value"], 1);
    assert_eq!(
        point(
            metric(&records, "qcode.errors"),
            json!({"kind": "rate_limit"})
        )["value"],
        1
    );
    assert_eq!(
        point(
            metric(&records, "qcode.model.retries"),
            json!({"model": "qwen3-coder-plus"})
        )["value"],
        1
    );
    assert_eq!(
        point(
            metric(&records, "qcode.sessions"),
            json!({"mode": "interactive", "auth": "qwen-oauth"})
        )["value"],
        1
    );

    // metrics: histograms
    let latency = metric(&records, "qcode.model.latency");
    assert_eq!(latency["data_type"], "Histogram");
    assert_eq!(latency["unit"], "ms");
    let p = point(
        latency,
        json!({"model": "qwen3-coder-plus", "status_class": "2xx"}),
    );
    assert_eq!(
        (p["count"].as_u64(), p["sum"].as_f64()),
        (Some(1), Some(1500.0))
    );
    let p = point(
        metric(&records, "qcode.model.ttft"),
        json!({"model": "qwen3-coder-plus"}),
    );
    assert_eq!(p["sum"].as_f64(), Some(300.0));
    let tokens = metric(&records, "qcode.model.tokens");
    for (kind, sum) in [
        ("prompt", 1000.0),
        ("completion", 200.0),
        ("cached", 50.0),
        ("reasoning", 30.0),
    ] {
        let p = point(
            tokens,
            json!({"model": "qwen3-coder-plus", "token.type": kind}),
        );
        assert_eq!(p["sum"].as_f64(), Some(sum), "{kind}");
    }
    let p = point(
        metric(&records, "qcode.tool.duration"),
        json!({"tool": "read_file"}),
    );
    assert_eq!(p["sum"].as_f64(), Some(12.0));
    assert_eq!(
        point(metric(&records, "qcode.startup.duration"), json!({}))["sum"].as_f64(),
        Some(150.0)
    );

    // the audit log holds exactly what the collector received, in order
    let audit_lines = read_audit_log(&audit, 100);
    assert_eq!(audit_lines.len(), logs.len());
    for (line, received) in audit_lines.iter().zip(&logs) {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["event"], received["body"]);
        assert_eq!(line["attributes"], received["attributes"]);
        assert_eq!(line["resource"], received["resource"]);
        assert_eq!(line["time_unix_nano"], received["time_unix_nano"]);
        assert_eq!(line["severity"], received["severity_text"]);
    }

    // after shutdown nothing more is recorded
    telemetry.record(UsageEvent::Error(ErrorKind::Internal));
    assert_eq!(read_audit_log(&audit, 100).len(), logs.len());
    assert_eq!(
        telemetry.shutdown(Duration::from_secs(1)),
        FlushOutcome::NotRunning
    );
}

#[test]
fn turning_off_mid_session_stops_recording() {
    let Some(collector) = Collector::start_or_skip("turning_off_mid_session") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let telemetry = Telemetry::init(config(
        Consent::Enabled,
        &collector.endpoint(),
        audit.clone(),
    ));
    telemetry.record(UsageEvent::Error(ErrorKind::Network));
    telemetry.turn_off_now();
    telemetry.record(UsageEvent::Error(ErrorKind::Server));
    assert_eq!(
        telemetry.status(),
        TelemetryStatus::Off(Some(qcode_telemetry::OptOutReason::TurnedOffNow))
    );
    assert_eq!(
        telemetry.shutdown(Duration::from_secs(5)),
        FlushOutcome::Done
    );
    let records = collector.wait_for(Duration::from_secs(5), |r| logs(r).len() >= 2);
    // give a straggler time to show up before asserting it did not
    std::thread::sleep(Duration::from_millis(300));
    let records = if records.len() < collector.record_count() {
        collector.records()
    } else {
        records
    };
    let kinds: Vec<&Value> = logs(&records)
        .iter()
        .filter(|l| l["body"] == "qcode.error")
        .map(|l| &l["attributes"]["kind"])
        .collect();
    assert_eq!(kinds, [&json!("network")]);
    assert_eq!(
        read_audit_log(&audit, 100).len(),
        2,
        "session start + one error"
    );
}
