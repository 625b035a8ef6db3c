//! Usage statistics through the real binary, received by a real OTLP collector (Rotel).

use std::time::{Duration, Instant};

use qcode_test_support::mock_model::{MockServer, Reply};
use qcode_test_support::otel_collector::Collector;
use serde_json::{Value, json};

use super::harness::*;

/// qcode with statistics on (nothing opts out) and exporting to `collector`.
fn cmd_with_stats(w: &World, mock: &MockServer, collector_endpoint: &str) -> std::process::Command {
    let mut c = w.cmd_for(mock);
    c.env_remove("DO_NOT_TRACK")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector_endpoint);
    c
}

fn logs(records: &[Value]) -> Vec<&Value> {
    records.iter().filter(|r| r["signal"] == "log").collect()
}

fn session_done(records: &[Value]) -> bool {
    records.iter().any(|r| r["body"] == "qcode.session.end")
}

fn tool_scenario(w: &World, mock: &MockServer) {
    w.write("project/notes.txt", "hello\n");
    mock.enqueue(Reply::tool_calls(
        [(
            "c1",
            "read_file",
            json!({"file_path": "notes.txt"}).to_string(),
        )],
        8,
    ));
    mock.enqueue(Reply::text("It says hello.", 4));
}

#[test]
fn headless_session_reaches_the_collector() {
    let Some(collector) = Collector::start_or_skip("headless_session_reaches_the_collector") else {
        return;
    };
    let w = World::new();
    let mock = MockServer::start();
    tool_scenario(&w, &mock);
    let r =
        run(cmd_with_stats(&w, &mock, &collector.endpoint()).args(["-p", "read notes", "--yolo"]));
    r.assert_code(0);
    assert_eq!(r.stdout, "It says hello.");
    let records = collector.wait_for(Duration::from_secs(5), session_done);
    let logs = logs(&records);
    let bodies: Vec<&str> = logs.iter().map(|l| l["body"].as_str().unwrap()).collect();
    assert_eq!(bodies.first(), Some(&"qcode.session.start"), "{bodies:?}");
    assert_eq!(bodies.last(), Some(&"qcode.session.end"), "{bodies:?}");
    assert_eq!(
        bodies
            .iter()
            .filter(|b| **b == "qcode.model_request")
            .count(),
        2,
        "{bodies:?}"
    );
    let start = logs[0];
    assert_eq!(start["resource"]["service.name"], "qcode");
    assert!(start["resource"]["service.version"].is_string());
    assert_eq!(start["attributes"]["mode"], "headless", "{start}");
    assert_eq!(start["attributes"]["auth"], "openai", "{start}");
    assert_eq!(start["attributes"]["approval_mode"], "yolo", "{start}");
    let tool = logs
        .iter()
        .find(|l| l["body"] == "qcode.tool_call")
        .unwrap();
    assert_eq!(tool["attributes"]["tool"], "read_file", "{tool}");
    assert_eq!(tool["attributes"]["decision"], "auto", "{tool}");
    assert_eq!(tool["attributes"]["success"], true, "{tool}");
    let req = logs
        .iter()
        .find(|l| l["body"] == "qcode.model_request")
        .unwrap();
    assert_eq!(
        req["attributes"]["model"], "other",
        "user-typed model names are not sent: {req}"
    );
    assert_eq!(req["attributes"]["status_class"], "2xx", "{req}");
    assert!(
        records.iter().any(|r| r["signal"] == "metric"),
        "metrics exported at exit"
    );
}

#[test]
fn canary_never_leaves_the_machine_except_to_the_provider() {
    let Some(collector) =
        Collector::start_or_skip("canary_never_leaves_the_machine_except_to_the_provider")
    else {
        return;
    };
    let canary = format!("cnry{:x}", std::process::id() as u64 * 7919 + 12345);
    let w = World::new();
    let mock = MockServer::start();
    let file = format!("{canary}.txt");
    w.write(&format!("project/{file}"), &format!("contents {canary}\n"));
    mock.enqueue(Reply::tool_calls(
        [
            ("c1", "read_file", json!({"file_path": file}).to_string()),
            (
                "c2",
                "run_shell_command",
                json!({"command": format!("echo {canary}")}).to_string(),
            ),
            ("c3", "mcp__{canary}__tool", "{}".to_string()),
        ],
        7,
    ));
    mock.enqueue(
        Reply::error(500, &format!("boom {canary}"), "server_error").header("Retry-After", "0"),
    );
    mock.enqueue(Reply::text(&format!("answer {canary}"), 5));
    let base = mock.url().replace("/v1", &format!("/{canary}/v1"));
    let r = run(cmd_with_stats(&w, &mock, &collector.endpoint())
        .env("OPENAI_BASE_URL", &base)
        .env("OPENAI_API_KEY", format!("sk-{canary}"))
        .env("OPENAI_MODEL", format!("model-{canary}"))
        .args(["-p", &format!("prompt {canary}"), "--yolo"]));
    r.assert_code(0);
    assert!(
        r.stdout.contains(&canary),
        "the provider conversation did carry it"
    );
    collector.wait_for(Duration::from_secs(5), session_done);
    let dump = collector.dump_text();
    assert!(dump.contains("qcode.tool_call"), "events arrived");
    assert!(
        !dump.contains(&canary),
        "canary leaked to the collector:\n{dump}"
    );
    let audit =
        std::fs::read_to_string(w.home.join(".qcode").join(qcode_telemetry::AUDIT_LOG_FILE))
            .unwrap();
    assert!(audit.contains("qcode.session.end"));
    assert!(!audit.contains(&canary), "canary in the audit log");
}

#[test]
fn every_opt_out_path_sends_nothing() {
    let Some(collector) = Collector::start_or_skip("every_opt_out_path_sends_nothing") else {
        return;
    };
    let w = World::new();
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 5));
    let endpoint = collector.endpoint();
    run(cmd_with_stats(&w, &mock, &endpoint)
        .env("DO_NOT_TRACK", "1")
        .args(["-p", "a"]))
    .assert_code(0);
    run(cmd_with_stats(&w, &mock, &endpoint)
        .env("QCODE_USAGE_STATS", "0")
        .args(["-p", "b"]))
    .assert_code(0);
    w.write("project/.env", "QCODE_USAGE_STATS=false\n");
    run(cmd_with_stats(&w, &mock, &endpoint).args(["-p", "c"])).assert_code(0);
    std::fs::remove_file(w.project.join(".env")).unwrap();
    let off = run(cmd_with_stats(&w, &mock, &endpoint).args(["privacy", "off"]));
    off.assert_code(0);
    run(cmd_with_stats(&w, &mock, &endpoint).args(["-p", "d"])).assert_code(0);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(collector.record_count(), 0, "{}", collector.dump_text());
    assert!(
        !w.home
            .join(".qcode")
            .join(qcode_telemetry::AUDIT_LOG_FILE)
            .exists()
    );
    // And back on: events flow again.
    run(cmd_with_stats(&w, &mock, &endpoint).args(["privacy", "on"])).assert_code(0);
    run(cmd_with_stats(&w, &mock, &endpoint).args(["-p", "e"])).assert_code(0);
    collector.wait_for(Duration::from_secs(5), session_done);
}

#[test]
fn statistics_do_not_change_output_or_exit_codes_and_dead_endpoints_cost_little() {
    let w = World::new();
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("same answer", 3));
    let dead = format!(
        "http://127.0.0.1:{}",
        qcode_test_support::process::free_port().unwrap()
    );
    let off = run(w.cmd_for(&mock).args(["-p", "x"]));
    let started = Instant::now();
    let on = run(cmd_with_stats(&w, &mock, &dead).args(["-p", "x"]));
    let with_dead = started.elapsed();
    assert_eq!(
        (off.code, off.stdout.as_str(), off.stderr.as_str()),
        (on.code, on.stdout.as_str(), on.stderr.as_str())
    );
    // Generous bound; the measured overhead is reported by the benchmark, not asserted here.
    assert!(with_dead < Duration::from_secs(3), "{with_dead:?}");
    let err_off = run(w.cmd().args(["-p", "x"]));
    // No key for a remote provider (a local one would need none).
    let err_on = run(cmd_with_stats(&w, &mock, &dead)
        .env_remove("OPENAI_API_KEY")
        .env("OPENAI_BASE_URL", "https://provider.example/v1")
        .args(["-p", "x"]));
    assert_eq!(err_off.code, 41);
    assert_eq!(err_on.code, 41);
}
