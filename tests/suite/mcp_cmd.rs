//! The `qcode mcp …` commands end to end: `add` / `get` / `list` / `remove` through the settings
//! writer (values never printed), `list` connecting under folder trust, and `probe`. Against
//! the real server-everything, like `mcp.rs`.

use serde_json::{Value, json};

use super::harness::*;
use super::mcp::{everything, linked_entry, user_settings};

/// `qcode mcp add` writes entries through the settings writer (other keys and comments kept),
/// `get` and `list` never print env or header values, `remove` removes.
#[test]
fn mcp_add_get_list_remove() {
    let w = World::new();
    w.write(
        "home/.qcode/settings.json",
        "{\n  // my comment\n  \"ui\": { \"theme\": \"dark\" }\n}\n",
    );
    let settings = w.home.join(".qcode/settings.json");
    let secret = "sk-canary-4471";
    run(w.cmd().args([
        "mcp",
        "add",
        "tools",
        "-e",
        &format!("API_KEY={secret}"),
        "--timeout",
        "5000",
        "--",
        "/nonexistent/mcp-server",
        "--flag",
        "x",
    ]))
    .assert_code(0);
    run(w.cmd().args([
        "mcp",
        "add",
        "web",
        "https://mcp.example.com/mcp",
        "--header",
        &format!("Authorization: Bearer {secret}"),
    ]))
    .assert_code(0);
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(
        text.contains("// my comment") && text.contains("\"theme\""),
        "{text}"
    );
    let v: Value = serde_json::from_str(
        &text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    assert_eq!(
        v["mcpServers"]["tools"],
        json!({"command": "/nonexistent/mcp-server", "args": ["--flag", "x"],
               "env": {"API_KEY": secret}, "timeout": 5000})
    );
    assert_eq!(
        v["mcpServers"]["web"],
        json!({"httpUrl": "https://mcp.example.com/mcp",
               "headers": {"Authorization": format!("Bearer {secret}")}})
    );
    let get = run(w.cmd().args(["mcp", "get", "tools"]));
    get.assert_code(0);
    assert!(
        get.stdout.contains("/nonexistent/mcp-server") && get.stdout.contains("API_KEY=***"),
        "{}",
        get.stdout
    );
    let get = run(w.cmd().args(["mcp", "get", "web"]));
    get.assert_code(0);
    assert!(get.stdout.contains("Authorization: ***"), "{}", get.stdout);
    let list = run(w.cmd().args(["mcp", "list"]));
    list.assert_code(0);
    assert!(
        list.stdout
            .contains("tools (stdio, user settings): failed: could not start"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("web (http, user settings): failed"),
        "{}",
        list.stdout
    );
    for out in [&get.stdout, &get.stderr, &list.stdout, &list.stderr] {
        assert!(!out.contains(secret), "a secret was printed: {out}");
    }
    run(w.cmd().args(["mcp", "remove", "tools"])).assert_code(0);
    let v = std::fs::read_to_string(&settings).unwrap();
    assert!(
        !v.contains("nonexistent") && v.contains("web") && v.contains("// my comment"),
        "{v}"
    );
    let again = run(w.cmd().args(["mcp", "remove", "tools"]));
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("no MCP server `tools`"),
        "{}",
        again.stderr
    );
    // Bad input: clear errors, nothing written.
    for bad in [
        vec!["mcp", "add", "bad name", "--", "x"],
        vec!["mcp", "add", "h", "https://x.example", "-e", "A=1"],
        vec!["mcp", "add", "s", "--header", "A: b", "--", "x"],
        vec!["mcp", "add", "e", "-e", "NOEQUALS", "--", "x"],
        vec!["mcp", "add", "u", "--transport", "http", "ftp://x"],
    ] {
        let r = run(w.cmd().args(&bad));
        assert_ne!(r.code, 0, "{bad:?}");
        assert!(r.stderr.contains("error:"), "{bad:?}: {}", r.stderr);
    }
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), v);
}

/// `qcode mcp list` connects: a real server shows connected with its tool count; project
/// scope writes the project's settings, whose server an untrusted folder does not start.
#[test]
fn mcp_list_connects_and_project_servers_obey_trust() {
    let Some(package) = everything("mcp_list_connects_and_project_servers_obey_trust") else {
        return;
    };
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, "list");
    run(w
        .cmd()
        .args(["mcp", "add", "ev", "--", "node", &entry, "stdio"]))
    .assert_code(0);
    run(w.cmd().args([
        "mcp", "add", "proj", "--scope", "project", "--", "node", &entry, "stdio",
    ]))
    .assert_code(0);
    assert!(w.project.join(".qcode/settings.json").is_file());
    let list = run(w.cmd().args(["mcp", "list"]));
    list.assert_code(0);
    let line = |name: &str| {
        list.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} (")))
            .unwrap_or_else(|| panic!("no {name}: {}", list.stdout))
            .to_string()
    };
    let ev = line("ev");
    assert!(ev.contains("connected, ") && ev.contains(" tools"), "{ev}");
    let n: usize = ev
        .split("connected, ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(n >= 5, "{ev}");
    assert!(
        line("proj").contains("not started: folder not trusted"),
        "{}",
        line("proj")
    );
    let trusted = run(w.cmd().args(["mcp", "list", "--trust"]));
    assert!(
        trusted
            .stdout
            .contains("proj (stdio, project settings): connected"),
        "{}",
        trusted.stdout
    );
    assert_no_process_matching(&marker, "after mcp list");
}

/// `qcode mcp probe`: a configured server by name (initialize, tools, a call through the
/// session's code path, what went over the wire), and each way it can fail with a clear error.
#[test]
fn mcp_probe_connects_lists_and_calls() {
    let Some(package) = everything("mcp_probe_connects_lists_and_calls") else {
        return;
    };
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, "probe");
    let wire = w.dir.path().join("wire.jsonl");
    user_settings(
        &w,
        json!({ "everything": {
            "command": "sh",
            "args": ["-c", format!("tee -a '{}' | exec node '{entry}' stdio", wire.display())]
        }}),
        json!({}),
    );
    let r = run(w.cmd().args([
        "mcp",
        "probe",
        "everything",
        "--call",
        "get-sum",
        "--args",
        r#"{"a": 20, "b": 22}"#,
    ]));
    r.assert_code(0);
    assert!(r.stdout.contains("connected: "), "{}", r.stdout);
    assert!(r.stdout.contains(", protocol "), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("  echo (offered as mcp__everything__echo)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("call get-sum:"), "{}", r.stdout);
    assert!(r.stdout.contains("42"), "{}", r.stdout);
    let sent = std::fs::read_to_string(&wire).unwrap();
    assert!(sent.contains("\"initialize\""), "{sent}");
    assert!(sent.contains("\"tools/list\""), "{sent}");
    assert!(sent.contains("\"get-sum\""), "{sent}");
    assert!(sent.contains("\"a\":20"), "{sent}");
    assert_no_process_matching(&marker, "after mcp probe");

    // A tool the server does not offer, and arguments that are not an object.
    let r = run(w
        .cmd()
        .args(["mcp", "probe", "everything", "--call", "nope"]));
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("offers no tool `nope`"), "{}", r.stderr);
    let r = run(w.cmd().args([
        "mcp",
        "probe",
        "everything",
        "--call",
        "echo",
        "--args",
        "[1]",
    ]));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("--args must be a JSON object"),
        "{}",
        r.stderr
    );
    assert_no_process_matching(&marker, "after failed probes");

    // Neither a URL nor a configured name; a URL nobody listens on (its header never shown).
    let r = run(w.cmd().args(["mcp", "probe", "missing"]));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("neither an http(s):// URL"),
        "{}",
        r.stderr
    );
    let port = qcode_test_support::process::free_port().unwrap();
    let r = run(w.cmd().args([
        "mcp",
        "probe",
        &format!("http://127.0.0.1:{port}/mcp"),
        "-H",
        "Authorization: Bearer sk-probe-canary",
    ]));
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("could not connect"), "{}", r.stderr);
    assert!(!r.stderr.contains("sk-probe-canary") && !r.stdout.contains("sk-probe-canary"));
}
