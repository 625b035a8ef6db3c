//! Tests of the TUI services against the mock model server, the OAuth peer and temp homes.
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use qcode_test_support::mock_model::{MockServer, Reply};
use tokio::sync::mpsc::unbounded_channel;

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
    services: TuiServices,
}

fn fixture() -> Fixture {
    fixture_with_env(HashMap::new())
}

fn fixture_with_env(vars: HashMap<String, String>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let paths = qcode_config::Paths::new(home.clone(), None);
    let (snapshot, env) = ConfigSnapshot::load(
        paths,
        &project,
        EnvLayer::from_map(vars),
        &qcode_config::CliOverrides::default(),
    )
    .unwrap();
    let resolver = qcode_auth::Resolver::new(snapshot.clone());
    let services = TuiServices::new(
        snapshot,
        env,
        qcode_telemetry::Telemetry::disabled(),
        resolver,
    );
    Fixture {
        _dir: dir,
        home,
        services,
    }
}

fn input(base_url: &str, key: &str) -> ApiKeyInput {
    ApiKeyInput {
        base_url: base_url.into(),
        model: "m1".into(),
        api_key: key.into(),
    }
}

fn settings(home: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(home.join(".qcode/settings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn save_api_key_checks_the_key_then_writes_a_private_file() {
    let f = fixture();
    let server = MockServer::start();
    server.set_models(&["m1", "m2"]);
    let saved = f
        .services
        .save_api_key(input(&server.url(), "sk-test-1"))
        .await
        .unwrap();
    let file = f.home.join(".qcode/credentials.json");
    assert_eq!(saved, file.display().to_string());
    assert!(server.requests().is_empty());
    let requests = server.listing_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-test-1")
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(stored["base_url"], server.url());
    assert_eq!(stored["model"], "m1");
    assert_eq!(
        settings(&f.home)["security"]["auth"]["selectedType"],
        "openai"
    );
    // The engine now resolves the saved key: listing models uses it.
    assert_eq!(
        f.services.list_models(AuthKind::Openai).await.unwrap(),
        vec!["m1".to_string(), "m2".to_string()]
    );
}

/// With a key in the environment, the key saved through `/auth` is the one the session then
/// uses (before, the environment key silently stayed in use after "Now using openai").
#[tokio::test]
async fn a_key_saved_in_the_session_wins_over_the_environment_key() {
    let env_server = MockServer::start();
    let saved_server = MockServer::start();
    saved_server.set_models(&["m1"]);
    let f = fixture_with_env(HashMap::from([
        ("OPENAI_API_KEY".to_string(), "sk-from-env".to_string()),
        ("OPENAI_BASE_URL".to_string(), env_server.url()),
        ("OPENAI_MODEL".to_string(), "env-model".to_string()),
    ]));
    f.services
        .save_api_key(input(&saved_server.url(), "sk-saved"))
        .await
        .unwrap();
    assert_eq!(
        f.services.list_models(AuthKind::Openai).await.unwrap(),
        vec!["m1".to_string()]
    );
    let last = saved_server.listing_requests().pop().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer sk-saved"));
    assert!(env_server.requests().is_empty());
    assert!(env_server.listing_requests().is_empty());
    let active = f.services.resolver.activate(AuthKind::Openai).unwrap();
    assert_eq!(active.model, "m1");
}

#[tokio::test]
async fn a_rejected_key_is_not_saved() {
    let f = fixture();
    let server = MockServer::start();
    server.enqueue_models(Reply::error(401, "Incorrect API key", "invalid_api_key"));
    let err = f
        .services
        .save_api_key(input(&server.url(), "sk-bad"))
        .await
        .unwrap_err()
        .one_line();
    assert!(err.contains("rejected the credentials"), "{err}");
    assert!(err.contains("Incorrect API key"), "{err}");
    assert!(!err.contains("sk-bad"), "{err}");
    assert!(!f.home.join(".qcode/credentials.json").exists());
    assert!(!f.home.join(".qcode/settings.json").exists());
}

#[tokio::test]
async fn without_a_model_list_a_one_token_request_checks_the_key() {
    let f = fixture();
    let server = MockServer::start();
    server.enqueue_models(Reply::error(404, "no such route", "not_found"));
    server.enqueue(Reply::text("OK", 2));
    f.services
        .save_api_key(input(&server.url(), "sk-test-2"))
        .await
        .unwrap();
    assert_eq!(server.listing_requests().len(), 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0].body_json().unwrap();
    assert_eq!(body["model"], "m1");
    assert_eq!(body["max_tokens"], 1);
    assert!(f.home.join(".qcode/credentials.json").exists());
}

#[tokio::test]
async fn signed_out_sessions_say_how_to_sign_in() {
    let f = fixture();
    let err = f
        .services
        .list_models(AuthKind::QwenOauth)
        .await
        .unwrap_err()
        .one_line();
    assert!(err.contains("not signed in"), "{err}");
    let active = qcode_auth::signed_out(&f.services.snapshot);
    let err = active.credentials.endpoint().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "could not obtain credentials: not signed in: run /auth"
    );
}

#[tokio::test]
async fn memory_add_appends_and_refresh_rebuilds_the_prompt() {
    let f = fixture();
    let message = f.services.memory_add("I prefer tabs".into()).await.unwrap();
    assert!(message.contains("I prefer tabs"), "{message}");
    let memory = f.home.join(".qcode/QWEN.md");
    assert_eq!(
        std::fs::read_to_string(&memory).unwrap(),
        "## Qwen Added Memories\n- I prefer tabs\n"
    );
    let refreshed = f.services.memory_refresh().await.unwrap();
    assert!(refreshed.system_prompt.contains("- I prefer tabs"));
    assert_eq!(refreshed.files, vec![memory.display().to_string()]);
    let shown = f.services.memory_show().await;
    assert!(shown.starts_with("Context files (1):"), "{shown}");
    assert!(shown.contains("- I prefer tabs"), "{shown}");
}

#[tokio::test]
async fn privacy_off_is_persisted_and_shown() {
    let f = fixture();
    let before = f.services.privacy_status(5).await;
    assert!(
        before.text.contains("Usage statistics: on"),
        "{}",
        before.text
    );
    let message = f
        .services
        .set_usage_statistics(UsageStatistics::Off)
        .await
        .unwrap();
    assert!(message.starts_with("Usage statistics are off"), "{message}");
    assert_eq!(
        settings(&f.home)["privacy"]["usageStatisticsEnabled"],
        serde_json::Value::Bool(false)
    );
    let after = f.services.privacy_status(5).await;
    assert!(
        after.text.contains("Usage statistics: off"),
        "{}",
        after.text
    );
    assert!(after.log.is_empty());
}

/// The real device flow against the oidc-provider peer: the code is shown, approving it
/// saves the credentials and selects the method; a second sign-in is cancelled.
#[tokio::test]
async fn qwen_login_against_the_oauth_peer() {
    use qcode_test_support::oauth_server::{OAuthServer, OAuthServerOptions};
    let Some(oauth) = OAuthServer::start_or_skip(OAuthServerOptions::default()).unwrap() else {
        return;
    };
    let oauth = Arc::new(oauth);
    let vars = HashMap::from([("QCODE_QWEN_OAUTH_BASE_URL".to_string(), oauth.base_url())]);
    let f = fixture_with_env(vars);
    let (tx, mut rx) = unbounded_channel();
    let approver = {
        let oauth = oauth.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(ev) = rx.recv().await {
                if let LoginEvent::DeviceCode {
                    user_code,
                    qr_lines,
                    verification_url,
                    ..
                } = &ev
                {
                    assert!(!qr_lines.is_empty());
                    assert!(
                        verification_url.starts_with(&oauth.base_url()),
                        "{verification_url}"
                    );
                    let (o, code) = (oauth.clone(), user_code.clone());
                    tokio::task::spawn_blocking(move || o.approve(&code).unwrap())
                        .await
                        .unwrap();
                }
                seen.push(ev);
            }
            seen
        })
    };
    let saved = f
        .services
        .qwen_login(CancellationToken::new(), tx)
        .await
        .unwrap();
    let creds = f.home.join(".qwen/oauth_creds.json");
    assert_eq!(saved, creds.display().to_string());
    assert!(creds.exists());
    assert_eq!(
        settings(&f.home)["security"]["auth"]["selectedType"],
        "qwen-oauth"
    );
    let seen = approver.await.unwrap();
    assert!(matches!(seen[0], LoginEvent::DeviceCode { .. }), "{seen:?}");

    // Cancelled while waiting for approval: the exact reason, nothing changes.
    std::fs::remove_file(&creds).unwrap();
    let cancel = CancellationToken::new();
    let (tx, mut rx) = unbounded_channel();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                if matches!(ev, LoginEvent::DeviceCode { .. }) {
                    cancel.cancel();
                }
            }
        })
    };
    let err = f.services.qwen_login(cancel, tx).await.unwrap_err();
    assert_eq!(err.one_line(), "login cancelled");
    assert!(!creds.exists());
    canceller.await.unwrap();
}

#[test]
fn tools_have_one_line_descriptions_and_classes() {
    let tools = tool_infos();
    assert_eq!(tools.len(), 10);
    let shell = tools
        .iter()
        .find(|t| t.name == "run_shell_command")
        .unwrap();
    assert_eq!(shell.permission, "execute");
    let read = tools.iter().find(|t| t.name == "read_file").unwrap();
    assert_eq!(read.permission, "read-only");
    assert!(tools.iter().all(|t| !t.description.contains('\n')));
}

#[test]
fn relative_times_of_session_rows() {
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_709_210_096);
    // 2024-02-29T12:34:56Z is 1_709_210_096.
    assert_eq!(
        parse_rfc3339_secs("2024-02-29T12:34:56.789Z"),
        Some(1_709_210_096)
    );
    assert_eq!(relative_time("2024-02-29T12:34:30.000Z", now), "just now");
    assert_eq!(relative_time("2024-02-29T12:29:56.000Z", now), "5 min ago");
    assert_eq!(relative_time("2024-02-29T09:34:56.000Z", now), "3 h ago");
    assert_eq!(relative_time("2024-02-28T12:34:56.000Z", now), "yesterday");
    assert_eq!(relative_time("2024-02-26T12:34:56.000Z", now), "3 days ago");
    assert_eq!(
        relative_time("2024-01-02T08:07:00.000Z", now),
        "2024-01-02 08:07 UTC"
    );
    assert_eq!(relative_time("garbage", now), "garbage");
}

#[test]
fn export_refuses_an_existing_file_and_writes_0600() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    let start = qcode_session::SessionStart {
        cwd: dir.path().display().to_string(),
        git_branch: None,
        model: "m".into(),
        auth: AuthKind::Openai,
        approval_mode: qcode_protocol::ApprovalMode::Default,
    };
    let recorder =
        qcode_session::Recorder::create(&project, start, qcode_session::SyncPolicy::FlushOnly)
            .unwrap();
    let current = crate::recorder_glue::Current {
        id: recorder.session_id().to_string(),
        path: recorder.path().to_path_buf(),
    };
    drop(recorder);
    let said = export_to(&current, dir.path(), None).unwrap();
    let id8: String = current.id.chars().take(8).collect();
    let file = dir.path().join(format!("qcode-session-{id8}.md"));
    assert!(said.contains(&file.display().to_string()), "{said}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let err = export_to(&current, dir.path(), None).unwrap_err();
    assert!(
        err.one_line().contains("already exists"),
        "{}",
        err.one_line()
    );
    export_to(&current, dir.path(), Some("out.jsonl")).unwrap();
    let jsonl = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert!(jsonl.starts_with("{\"seq\":0"), "{jsonl}");
}

fn request(name: &str, mode: qcode_protocol::ApprovalMode) -> CommandRequest {
    CommandRequest {
        name: name.into(),
        args: String::new(),
        mode,
        approved: Vec::new(),
        for_session: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_commands_ask_for_shell_then_remember_a_session_grant() {
    use qcode_protocol::ApprovalMode;
    let f = fixture();
    let commands = f.home.join(".qcode/commands");
    std::fs::create_dir_all(&commands).unwrap();
    std::fs::write(commands.join("st.md"), "Out: !{echo granted-out}\n").unwrap();
    std::fs::write(commands.join("help.md"), "not the help\n").unwrap();
    let s = &f.services;

    let listed = s.custom_commands().await;
    let names: Vec<&str> = listed.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["st"]);
    assert_eq!(listed.commands[0].source, qcode_tui::CommandSource::User);
    assert_eq!(listed.problems.len(), 1, "{:?}", listed.problems);
    assert!(
        listed.problems[0].contains("built-in"),
        "{:?}",
        listed.problems
    );
    assert!(
        s.custom_commands().await.problems.is_empty(),
        "reported once"
    );

    let asked = s
        .expand_command(request("st", ApprovalMode::Default))
        .await
        .unwrap();
    assert_eq!(
        asked,
        CommandExpansion::NeedsApproval {
            commands: vec!["echo granted-out".into()],
            directory: f
                .home
                .parent()
                .unwrap()
                .join("project")
                .display()
                .to_string(),
        }
    );
    let refused = s
        .expand_command(request("st", ApprovalMode::Plan))
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("was not run"),
        "{}",
        refused.message
    );

    let mut allowed = request("st", ApprovalMode::Default);
    allowed.approved = vec!["echo granted-out".into()];
    allowed.for_session = true;
    let Ok(CommandExpansion::Ready(p)) = s.expand_command(allowed).await else {
        panic!("not expanded");
    };
    assert_eq!(p.text.trim_end(), "Out: granted-out");
    // Allowed for the session: not asked again.
    assert!(matches!(
        s.expand_command(request("st", ApprovalMode::Default)).await,
        Ok(CommandExpansion::Ready(_))
    ));
    assert_eq!(
        s.expand_command(request("nosuch", ApprovalMode::Default))
            .await
            .unwrap(),
        CommandExpansion::NotFound
    );
}
