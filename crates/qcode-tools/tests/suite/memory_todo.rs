//! `save_memory` and `todo_write`.

use qcode_protocol::{TodoItem, TodoStatus};
use qcode_tools::{ToolKind, ToolResultStatus};
use serde_json::json;

use super::support::Ws;

#[tokio::test]
async fn save_memory_creates_the_file_and_section() {
    let ws = Ws::new();
    let call = ws
        .prepare("save_memory", json!({"fact": "  - I prefer\ntabs "}))
        .await
        .unwrap();
    assert_eq!(call.kind(), ToolKind::Memory);
    assert!(
        call.summary().ends_with("QWEN.md): I prefer tabs"),
        "{}",
        call.summary()
    );
    let (r, _) = ws
        .execute(call, tokio_util::sync::CancellationToken::new())
        .await;
    assert_eq!(r.output, "Saved to memory: \"I prefer tabs\"");
    let text = std::fs::read_to_string(&ws.ctx.memory_file).unwrap();
    assert_eq!(text, "## Qwen Added Memories\n- I prefer tabs\n");
    ws.run("save_memory", json!({"fact": "My name is Ada"}))
        .await;
    let text = std::fs::read_to_string(&ws.ctx.memory_file).unwrap();
    assert_eq!(
        text,
        "## Qwen Added Memories\n- I prefer tabs\n- My name is Ada\n"
    );
}

#[tokio::test]
async fn save_memory_appends_inside_an_existing_section() {
    let ws = Ws::new();
    std::fs::create_dir_all(ws.ctx.memory_file.parent().unwrap()).unwrap();
    std::fs::write(
        &ws.ctx.memory_file,
        "# Global\nBe brief.\n\n## Qwen Added Memories\n- old fact\n\n## Other\nkeep me\n",
    )
    .unwrap();
    ws.run("save_memory", json!({"fact": "new fact"})).await;
    assert_eq!(
        std::fs::read_to_string(&ws.ctx.memory_file).unwrap(),
        "# Global\nBe brief.\n\n## Qwen Added Memories\n- old fact\n- new fact\n\n## Other\nkeep me\n"
    );
    std::fs::write(&ws.ctx.memory_file, "Some notes").unwrap();
    ws.run("save_memory", json!({"fact": "x"})).await;
    assert_eq!(
        std::fs::read_to_string(&ws.ctx.memory_file).unwrap(),
        "Some notes\n\n## Qwen Added Memories\n- x\n"
    );
    assert_eq!(
        ws.prepare_err("save_memory", json!({"fact": "  "})).await,
        "save_memory: parameter `fact` is empty"
    );
}

#[test]
fn save_fact_is_the_tool_without_a_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("QWEN.md");
    std::fs::write(&file, "# Mine\n").unwrap();
    assert_eq!(
        qcode_tools::memory::save_fact(&file, " * likes\n tea ").unwrap(),
        "Saved to memory: \"likes tea\""
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# Mine\n\n## Qwen Added Memories\n- likes tea\n"
    );
    let empty = qcode_tools::memory::save_fact(&file, " - ").unwrap_err();
    assert_eq!(empty.to_string(), "save_memory: parameter `fact` is empty");
    let unwritable = qcode_tools::memory::save_fact(dir.path(), "x").unwrap_err();
    assert!(
        unwritable.to_string().starts_with(&format!(
            "save_memory: cannot read {}",
            dir.path().display()
        )),
        "{unwritable}"
    );
}

#[tokio::test]
async fn todo_write_returns_text_and_items() {
    let ws = Ws::new();
    let r = ws
        .run(
            "todo_write",
            json!({"todos": [
                {"id": "1", "content": "Read the code", "status": "completed"},
                {"id": "2", "content": "Fix the bug", "status": "in_progress"},
                {"id": "3", "content": "Run tests", "status": "pending"}
            ]}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(
        r.output,
        "Plan updated (1/3 completed):\n[x] 1: Read the code\n[>] 2: Fix the bug\n[ ] 3: Run tests"
    );
    assert_eq!(
        r.todos.unwrap()[1],
        TodoItem {
            id: "2".into(),
            content: "Fix the bug".into(),
            status: TodoStatus::InProgress
        }
    );
    assert_eq!(
        ws.prepare_err(
            "todo_write",
            json!({"todos": [
                {"id": "1", "content": "a", "status": "pending"},
                {"id": "1", "content": "b", "status": "pending"}
            ]})
        )
        .await,
        "todo_write: `todos[1].id` \"1\" is used by more than one item; ids must be unique"
    );
}
