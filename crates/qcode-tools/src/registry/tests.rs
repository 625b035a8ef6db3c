use super::*;

#[test]
fn summaries_have_one_line_descriptions_and_classes() {
    let tools = ToolRegistry::builtin().summaries();
    assert_eq!(tools.len(), 10);
    let class = |name: &str| tools.iter().find(|t| t.name == name).map(|t| t.permission);
    assert_eq!(class("run_shell_command"), Some("execute"));
    assert_eq!(class("read_file"), Some("read-only"));
    assert_eq!(class("todo_write"), Some("plan"));
    assert!(tools.iter().all(|t| !t.description.contains('\n')));
    assert_eq!(first_sentence("Saves a fact. More text."), "Saves a fact.");
    assert_eq!(first_sentence("One\n  line"), "One line");
}

#[test]
fn the_task_tool_lists_its_agents_and_a_subagents_registry_is_restricted() {
    let agents = vec![("general-purpose".to_string(), "Anything.".to_string())];
    let r = ToolRegistry::builtin()
        .with_external(Arc::new(Fake))
        .with_task_tool(&agents);
    assert_eq!(r.kind_of("task"), Some(ToolKind::Subagent));
    let task = r.specs().into_iter().find(|s| s.name == "task").unwrap();
    assert!(
        task.description.ends_with("- general-purpose: Anything."),
        "{}",
        task.description
    );
    assert_eq!(
        ToolRegistry::builtin().with_task_tool(&[]).kind_of("task"),
        None
    );

    let all = r.restricted(None, false);
    assert!(!all.names().contains(&"task"));
    assert!(all.specs().iter().any(|s| s.name == "mcp__srv__echo"));
    let nested = r.restricted(None, true);
    assert!(nested.names().contains(&"task"));
    let only = r.restricted(
        Some(&["read_file".into(), "task".into(), "nope".into()]),
        false,
    );
    assert_eq!(only.names(), ["read_file"]);
    assert!(only.specs().iter().all(|s| s.name != "mcp__srv__echo"));
    let with_mcp = r.restricted(Some(&["mcp__srv__echo".into()]), false);
    let names: Vec<String> = with_mcp.specs().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["mcp__srv__echo"]);

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(
        vec![dir.path().to_path_buf()],
        dir.path().join("QWEN.md"),
        crate::LazyHttpClient::default_client(),
        dir.path().join("bg"),
    )
    .unwrap();
    let args = r#"{"subagent_type": "general-purpose", "description": "Look", "prompt": "look"}"#;
    let p = rt.block_on(r.prepare(&call("task", args), &ctx)).unwrap();
    assert_eq!(p.task_request().map(|t| t.prompt.as_str()), Some("look"));
    let (tx, _rx) = mpsc::unbounded_channel();
    let out = rt.block_on(p.execute(&ctx, CancellationToken::new(), &tx));
    assert_eq!(
        out.status,
        ToolResultStatus::Error,
        "only the engine runs subagents"
    );
    let missing = rt.block_on(only.prepare(&call("task", args), &ctx));
    assert!(missing.is_err(), "a subagent without task cannot call it");
}

/// Two tools of server `srv` (one named like a built-in); calls echo their arguments.
struct Fake;

impl ExternalTools for Fake {
    fn discover(&self) -> crate::ExternalFuture<'_, Vec<String>> {
        Box::pin(async { Vec::new() })
    }

    fn tools(&self) -> Vec<ExternalTool> {
        ["mcp__srv__echo", "read_file"]
            .into_iter()
            .map(|name| ExternalTool {
                name: name.into(),
                server: "srv".into(),
                tool: "echo".into(),
                server_key: "mcp__srv".into(),
                description: "Echoes".into(),
                parameters: serde_json::json!({"type": "object", "properties": {}}),
                trusted: true,
            })
            .collect()
    }

    fn call(
        &self,
        _name: String,
        arguments: Value,
        _cancel: CancellationToken,
        _progress: crate::ProgressSink,
    ) -> crate::ExternalFuture<'_, crate::ExternalOutput> {
        Box::pin(async move {
            crate::ExternalOutput {
                status: ToolResultStatus::Success,
                text: arguments["text"].as_str().unwrap_or("").to_string(),
            }
        })
    }
}

fn call(name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: "c1".into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

#[test]
fn external_tools_are_offered_prepared_and_run_with_their_output_capped() {
    let r = ToolRegistry::builtin().with_external(Arc::new(Fake));
    let specs = r.specs();
    assert_eq!(specs.len(), 11, "a built-in name wins over an external one");
    assert_eq!(specs[10].name, "mcp__srv__echo");
    let p = r
        .prepare_external(&call("mcp__srv__echo", r#"{"text": "hi"}"#))
        .unwrap();
    assert_eq!(p.kind(), ToolKind::Mcp);
    assert!(p.pre_approved());
    assert_eq!(p.permission_key(), "mcp__srv");
    assert_eq!(p.name(), "mcp__srv__echo");
    for bad in ["[1]", "{not json", "\"text\""] {
        let e = r
            .prepare_external(&call("mcp__srv__echo", bad))
            .unwrap_err();
        assert!(e.message_for_model().contains("mcp__srv__echo"), "{bad}");
    }
    assert!(r.prepare_external(&call("mcp__srv__echo", "")).is_ok());
    let unknown = r
        .prepare_external(&call("mcp__srv__nope", "{}"))
        .unwrap_err()
        .message_for_model();
    assert!(unknown.contains("mcp__srv__echo"), "{unknown}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let long = "x".repeat(crate::MAX_EXTERNAL_OUTPUT_CHARS + 10);
    let p = r
        .prepare_external(&call(
            "mcp__srv__echo",
            &serde_json::json!({ "text": long }).to_string(),
        ))
        .unwrap();
    let (tx, _rx) = mpsc::unbounded_channel();
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(
        vec![dir.path().to_path_buf()],
        dir.path().join("QWEN.md"),
        crate::LazyHttpClient::default_client(),
        dir.path().join("bg"),
    )
    .unwrap();
    let out = rt.block_on(p.execute(&ctx, CancellationToken::new(), &tx));
    assert_eq!(out.status, ToolResultStatus::Success);
    assert!(out.output.contains("[output truncated"), "capped");
    assert!(out.output.len() < long.len() + 100);
}
