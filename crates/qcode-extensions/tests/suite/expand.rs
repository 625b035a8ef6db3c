//! Expansion: every substitution, quoting, files and shell commands through the caller's
//! traits, and errors before anything is sent.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use qcode_extensions::commands::CommandFormat;
use qcode_extensions::expand::shell_words;
use qcode_extensions::{
    CustomCommand, ExpandError, FileReader, Origin, Scope, ShellRefusal, ShellRunner, Trust,
};

/// Files by path; every read is logged.
#[derive(Default)]
pub struct Files {
    pub map: HashMap<String, String>,
    pub log: RefCell<Vec<String>>,
}

impl FileReader for Files {
    async fn read(&self, path: &str) -> Result<String, String> {
        self.log.borrow_mut().push(path.to_string());
        self.map
            .get(path)
            .cloned()
            .ok_or_else(|| format!("{path}: no such file"))
    }
}

/// Runs commands for real with `sh -c`; a non-zero exit is a failure.
#[derive(Default)]
pub struct RealShell {
    log: RefCell<Vec<String>>,
}

impl RealShell {
    pub fn ran(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

impl ShellRunner for RealShell {
    async fn run(&self, command: &str) -> Result<String, ShellRefusal> {
        self.log.borrow_mut().push(command.to_string());
        let out = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .output()
            .await
            .map_err(|e| ShellRefusal::Failed(e.to_string()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(ShellRefusal::Failed(format!(
                "exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

/// Refuses every command, as a denied approval does.
pub struct NoShell;

impl ShellRunner for NoShell {
    async fn run(&self, _command: &str) -> Result<String, ShellRefusal> {
        Err(ShellRefusal::Denied(
            "the approval mode does not allow it".into(),
        ))
    }
}

fn cmd(template: &str) -> CustomCommand {
    CustomCommand {
        name: "t".into(),
        description: None,
        argument_hint: None,
        model: None,
        template: template.into(),
        format: CommandFormat::Markdown,
        origin: Origin {
            path: PathBuf::from("/x/t.md"),
            scope: Scope::User,
            trust: Trust::Trusted,
        },
    }
}

async fn plain(template: &str, args: &str) -> String {
    cmd(template)
        .expand(args, &Files::default(), &NoShell)
        .await
        .unwrap()
}

#[tokio::test]
async fn args_placeholders() {
    assert_eq!(plain("Do {{args}}.", "  a b  ").await, "Do a b.");
    assert_eq!(plain("Do $ARGUMENTS!", "x 'y z'").await, "Do x 'y z'!");
    assert_eq!(
        plain("1=$1 2=$2 3=$3 9=[$9]", r#"one "two words" 'th"ree'"#).await,
        r#"1=one 2=two words 3=th"ree 9=[]"#
    );
    assert_eq!(plain("$10 $0 $", "a").await, "a0 $0 $");
    assert_eq!(plain(r#"[$1]"#, r#"a\ b"#).await, "[a b]");
}

#[tokio::test]
async fn args_are_appended_when_the_template_has_no_placeholder() {
    assert_eq!(
        plain("Review the code.\n", "src/main.rs").await,
        "Review the code.\n\nsrc/main.rs"
    );
    assert_eq!(plain("Review the code.\n", "").await, "Review the code.\n");
}

#[test]
fn shell_words_quoting() {
    assert_eq!(
        shell_words(r#"a "b c" 'd e' f\ g"#).unwrap(),
        ["a", "b c", "d e", "f g"]
    );
    assert_eq!(shell_words(r#""a\"b" ''"#).unwrap(), ["a\"b", ""]);
    assert!(shell_words("'open").is_err());
    assert!(shell_words("\"open").is_err());
}

#[tokio::test]
async fn bad_quotes_in_arguments_are_an_error() {
    let err = cmd("x $1")
        .expand("'open", &Files::default(), &NoShell)
        .await
        .unwrap_err();
    assert!(matches!(err, ExpandError::Arguments { .. }), "{err}");
}

#[tokio::test]
async fn file_includes_go_through_the_reader_and_are_not_expanded_again() {
    let mut files = Files::default();
    files.map.insert(
        "src/a.rs".into(),
        "fn a() {} // !{rm -rf /} {{args}} $1".into(),
    );
    let shell = RealShell::default();
    let out = cmd("File $1:\n@{$1}\nEnd")
        .expand("src/a.rs", &files, &shell)
        .await
        .unwrap();
    assert_eq!(
        out,
        "File src/a.rs:\nfn a() {} // !{rm -rf /} {{args}} $1\nEnd"
    );
    assert_eq!(*files.log.borrow(), ["src/a.rs"]);
    assert!(shell.ran().is_empty());
}

#[tokio::test]
async fn a_missing_file_is_an_error() {
    let err = cmd("@{nope.txt} then !{echo never}")
        .expand("", &Files::default(), &RealShell::default())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ExpandError::File {
            command: "t".into(),
            path: "nope.txt".into(),
            reason: "nope.txt: no such file".into()
        }
    );
}

#[tokio::test]
async fn shell_output_is_inserted_and_arguments_are_quoted_inside() {
    let shell = RealShell::default();
    let out = cmd("Out: !{printf '%s|' $1 {{args}}} done")
        .expand(r#""it's; touch /tmp/x" b"#, &Files::default(), &shell)
        .await
        .unwrap();
    assert_eq!(
        out,
        r#"Out: it's; touch /tmp/x|"it's; touch /tmp/x" b| done"#
    );
    assert_eq!(
        shell.ran(),
        [r#"printf '%s|' 'it'\''s; touch /tmp/x' '"it'\''s; touch /tmp/x" b'"#]
    );
    // Nested braces balance.
    let out = cmd("!{echo ${HOME:+set}}")
        .expand("", &Files::default(), &shell)
        .await
        .unwrap();
    assert_eq!(out, "set\n");
    // The output is not expanded again.
    let out = cmd("!{echo '@{x} !{y}'}")
        .expand("", &Files::default(), &shell)
        .await
        .unwrap();
    assert_eq!(out, "@{x} !{y}\n");
}

#[tokio::test]
async fn a_failing_or_denied_command_is_an_error() {
    let err = cmd("a !{echo oops >&2; exit 3} b")
        .expand("", &Files::default(), &RealShell::default())
        .await
        .unwrap_err();
    match &err {
        ExpandError::ShellFailed { shell, reason, .. } => {
            assert_eq!(shell, "echo oops >&2; exit 3");
            assert!(reason.contains("oops"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let err = cmd("!{date}")
        .expand("", &Files::default(), &NoShell)
        .await
        .unwrap_err();
    assert!(matches!(err, ExpandError::ShellDenied { .. }));
    assert!(err.to_string().contains("was not run"), "{err}");
}

#[tokio::test]
async fn unclosed_and_empty_blocks_are_errors() {
    let err = cmd("x !{echo")
        .expand("", &Files::default(), &NoShell)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ExpandError::Unclosed {
            command: "t".into(),
            opener: "!{",
            offset: 2
        }
    );
    let err = cmd("@{ }")
        .expand("", &Files::default(), &NoShell)
        .await
        .unwrap_err();
    assert!(matches!(err, ExpandError::Empty { .. }));
    // `@{$1}` with no argument is empty too, not a read of "".
    let files = Files::default();
    let err = cmd("@{$1}").expand("", &files, &NoShell).await.unwrap_err();
    assert!(matches!(err, ExpandError::Empty { .. }));
    assert!(files.log.borrow().is_empty());
}

#[tokio::test]
async fn shell_commands_lists_what_expand_would_run_without_running_or_reading() {
    let c = cmd("Status: !{git status $1}\n@{notes.md}\nLog: !{git log -n 3}\n");
    let listed = c.shell_commands(r#""it's""#).await.unwrap();
    assert_eq!(listed, [r"git status 'it'\''s'", "git log -n 3"]);
    // What expand passes to its runner is the same list.
    let shell = RealShell::default();
    let files = Files {
        map: HashMap::from([("notes.md".to_string(), "n".to_string())]),
        ..Files::default()
    };
    let real = cmd("!{echo $1} @{notes.md} !{echo two}");
    let dry = real.shell_commands("one").await.unwrap();
    real.expand("one", &files, &shell).await.unwrap();
    assert_eq!(dry, shell.ran());
    assert!(
        cmd("no shell here")
            .shell_commands("x")
            .await
            .unwrap()
            .is_empty()
    );
    // Template errors come out of the dry run too.
    assert!(matches!(
        cmd("!{echo").shell_commands("").await,
        Err(ExpandError::Unclosed { .. })
    ));
}
