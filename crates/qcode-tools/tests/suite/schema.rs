//! Argument validation: every malformed call gets a precise message for the model.

use qcode_tools::{ToolError, ToolKind, ToolRegistry};
use serde_json::json;

use super::support::Ws;

#[test]
fn specs_offer_the_ten_tools_with_qwen_code_parameters() {
    let specs = ToolRegistry::builtin().specs();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "read_file",
            "write_file",
            "edit",
            "list_directory",
            "glob",
            "grep_search",
            "run_shell_command",
            "todo_write",
            "web_fetch",
            "save_memory"
        ]
    );
    let edit = specs.iter().find(|s| s.name == "edit").unwrap();
    assert_eq!(edit.parameters["type"], "object");
    assert_eq!(
        edit.parameters["required"],
        json!(["file_path", "old_string", "new_string"])
    );
    assert_eq!(
        edit.parameters["properties"]["replace_all"]["type"],
        "boolean"
    );
    assert_eq!(edit.parameters["additionalProperties"], false);
    let shell = specs
        .iter()
        .find(|s| s.name == "run_shell_command")
        .unwrap();
    assert_eq!(shell.parameters["properties"]["timeout"]["maximum"], 600000);
    let todo = specs.iter().find(|s| s.name == "todo_write").unwrap();
    assert_eq!(
        todo.parameters["properties"]["todos"]["items"]["properties"]["status"]["enum"],
        json!(["pending", "in_progress", "completed"])
    );
    for s in &specs {
        assert!(
            s.description.len() > 80,
            "{} needs a real description",
            s.name
        );
    }
}

#[test]
fn kinds_are_the_permission_classes() {
    let r = ToolRegistry::builtin();
    assert_eq!(r.kind_of("read_file"), Some(ToolKind::ReadOnly));
    assert_eq!(r.kind_of("grep_search"), Some(ToolKind::ReadOnly));
    assert_eq!(r.kind_of("edit"), Some(ToolKind::Edit));
    assert_eq!(r.kind_of("write_file"), Some(ToolKind::Edit));
    assert_eq!(r.kind_of("run_shell_command"), Some(ToolKind::Execute));
    assert_eq!(r.kind_of("web_fetch"), Some(ToolKind::Fetch));
    assert_eq!(r.kind_of("save_memory"), Some(ToolKind::Memory));
    assert_eq!(r.kind_of("todo_write"), Some(ToolKind::Plan));
    assert_eq!(r.kind_of("nope"), None);
    assert_eq!(ToolRegistry::only(&["glob", "nope"]).names(), ["glob"]);
}

#[tokio::test]
async fn unknown_tool_lists_the_available_ones() {
    let ws = Ws::new();
    let err = ws.prepare_raw("delete_everything", "{}").await.unwrap_err();
    assert!(matches!(err, ToolError::UnknownTool { .. }));
    assert_eq!(
        err.to_string(),
        "unknown tool `delete_everything`; available tools: read_file, write_file, edit, \
         list_directory, glob, grep_search, run_shell_command, todo_write, web_fetch, save_memory"
    );
}

#[tokio::test]
async fn truncated_json_is_reported_as_cut_off() {
    let ws = Ws::new();
    let err = ws
        .prepare_raw("edit", r#"{"file_path": "a.rs", "old_string": "fn ma"#)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::MalformedJson { .. }));
    let msg = err.to_string();
    assert!(
        msg.starts_with("edit: the arguments are not valid JSON (EOF while parsing"),
        "{msg}"
    );
    assert!(msg.contains("the call was probably cut off"), "{msg}");
}

#[tokio::test]
async fn missing_extra_and_mistyped_parameters() {
    let ws = Ws::new();
    assert_eq!(
        ws.prepare_err("edit", json!({"file_path": "a", "new_string": "x"}))
            .await,
        "edit: parameter `old_string` is required (string)"
    );
    assert_eq!(
        ws.prepare_err(
            "edit",
            json!({"file_path": "a", "old_string": "", "new_string": "x", "force": true})
        )
        .await,
        "edit: unknown parameter `force`; accepted parameters: `file_path`, `old_string`, \
         `new_string`, `replace_all`"
    );
    assert_eq!(
        ws.prepare_err(
            "edit",
            json!({"file_path": "a", "old_string": "", "new_string": "x", "replace_all": "yes"})
        )
        .await,
        "edit: parameter `replace_all` must be a boolean, got a string (\"yes\")"
    );
    assert_eq!(
        ws.prepare_err("read_file", json!({"file_path": 7})).await,
        "read_file: parameter `file_path` must be a string, got an integer (7)"
    );
    assert_eq!(
        ws.prepare_err("read_file", json!({"file_path": "a", "offset": -3}))
            .await,
        "read_file: parameter `offset` must be at least 0, got -3"
    );
    assert_eq!(
        ws.prepare_err(
            "run_shell_command",
            json!({"command": "ls", "timeout": 700000})
        )
        .await,
        "run_shell_command: parameter `timeout` must be between 1 and 600000, got 700000"
    );
    assert_eq!(
        ws.prepare_err(
            "todo_write",
            json!({"todos": [
                {"id": "1", "content": "a", "status": "pending"},
                {"id": "2", "content": "b", "status": "done"}
            ]})
        )
        .await,
        "todo_write: parameter `todos[1].status` must be one of \"pending\", \"in_progress\", \
         \"completed\", got \"done\""
    );
    assert_eq!(
        ws.prepare_err(
            "todo_write",
            json!({"todos": [{"id": "1", "content": "a"}]})
        )
        .await,
        "todo_write: parameter `todos[0].status` is required (one of \"pending\", \
         \"in_progress\", \"completed\")"
    );
    assert_eq!(
        ws.prepare_raw("glob", "[1, 2]")
            .await
            .unwrap_err()
            .to_string(),
        "glob: the arguments must be a JSON object with the parameters `pattern`, `path`, got an array"
    );
}

#[tokio::test]
async fn lenient_forms_are_normalised() {
    let ws = Ws::new();
    ws.write("a.txt", "x\n");
    // Integers as strings or floats, booleans as strings, and null optionals are accepted.
    let call = ws
        .prepare(
            "read_file",
            json!({"file_path": "a.txt", "offset": "0", "limit": 5.0}),
        )
        .await
        .unwrap();
    assert_eq!(
        call.arguments(),
        &json!({"file_path": "a.txt", "offset": 0, "limit": 5})
    );
    let call = ws
        .prepare(
            "grep_search",
            json!({"pattern": "x", "path": null, "glob": null}),
        )
        .await
        .unwrap();
    assert_eq!(call.arguments(), &json!({"pattern": "x"}));
    // A call without arguments ("" from some providers) means {}.
    assert_eq!(
        ws.prepare_raw("glob", "").await.unwrap_err().to_string(),
        "glob: parameter `pattern` is required (string)"
    );
}
