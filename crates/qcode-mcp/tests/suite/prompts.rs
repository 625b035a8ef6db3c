//! server-everything's prompts: listed under `mcp__<server>__<prompt>` with their declared
//! arguments, fetched with typed arguments mapped onto them (checked on the wire), and the
//! argument errors raised before anything is sent.

use qcode_mcp::{PromptError, PromptRole};

use super::peer::{everything, everything_stdio, options, sent, started};

fn gets(wire: &std::path::Path) -> Vec<serde_json::Value> {
    sent(wire)
        .into_iter()
        .filter(|v| v["method"] == "prompts/get")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_are_listed_and_fetched_with_mapped_arguments() {
    let Some(entry) = everything("prompts_are_listed_and_fetched") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wire = dir.path().join("wire");
    let m = started(
        vec![everything_stdio("ev", &entry, &wire)],
        options(dir.path()),
    )
    .await;
    let prompts = m.prompts().await;
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"mcp__ev__simple-prompt"), "{names:?}");
    let args = prompts
        .iter()
        .find(|p| p.name == "mcp__ev__args-prompt")
        .unwrap_or_else(|| panic!("no args-prompt in {names:?}"));
    assert_eq!(args.argument_hint(), "<city> [state]");
    assert!(!args.description.is_empty());

    let messages = m
        .get_prompt("mcp__ev__args-prompt", "state=TX 'San Antonio'")
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].role, PromptRole::User);
    assert_eq!(messages[0].text, "What's weather in San Antonio, TX?");
    let get = gets(&wire);
    let last = get.last().unwrap();
    assert_eq!(
        last["params"]["arguments"],
        serde_json::json!({"city": "San Antonio", "state": "TX"})
    );

    let before = gets(&wire).len();
    let err = m.get_prompt("mcp__ev__args-prompt", "").await.unwrap_err();
    assert!(
        matches!(&err, PromptError::Arguments { reason, .. } if reason.contains("`city`")),
        "{err}"
    );
    assert_eq!(gets(&wire).len(), before, "nothing was sent");
    assert!(matches!(
        m.get_prompt("mcp__ev__nope", "").await,
        Err(PromptError::Unknown(_))
    ));
    m.shutdown().await;
}
