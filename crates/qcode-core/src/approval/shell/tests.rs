use super::*;

/// The commands of `text` (in any order) as their words joined by spaces (`$…` marks a computed word).
fn commands(text: &str) -> Vec<String> {
    let script = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    script
        .commands
        .iter()
        .map(|c| {
            let mut parts: Vec<String> = (0..c.assignments).map(|_| "VAR=".to_string()).collect();
            parts.extend(c.words.iter().map(|w| {
                if w.literal {
                    w.text.clone()
                } else {
                    format!("${}", w.text)
                }
            }));
            parts.join(" ")
        })
        .collect()
}

#[test]
fn splits_into_simple_commands() {
    let table: &[(&str, &[&str])] = &[
        ("cargo test", &["cargo test"]),
        ("cargo test & touch /tmp/x", &["cargo test", "touch /tmp/x"]),
        ("ls & id", &["ls", "id"]),
        ("ls&id", &["ls", "id"]),
        ("a; b", &["a", "b"]),
        ("a && b || c", &["a", "b", "c"]),
        ("a | b |& c", &["a", "b", "c"]),
        ("a\nb\n", &["a", "b"]),
        ("(a; b) && c", &["a", "b", "c"]),
        ("{ a; b; } | c", &["a", "b", "c"]),
        ("echo $(id)", &["echo $", "id"]),
        ("echo \"$(id -u)\"", &["echo $", "id -u"]),
        ("echo `id`", &["echo $", "id"]),
        ("echo \"`id`\"", &["echo $", "id"]),
        ("echo $(a $(b))", &["echo $", "a $", "b"]),
        ("diff <(ls a) >(wc -l)", &["diff $ $", "ls a", "wc -l"]),
        ("cargo test 2>&1 | tail -n 5", &["cargo test", "tail -n 5"]),
        ("cargo test > /dev/null", &["cargo test"]),
        ("cat < in.txt", &["cat"]),
        ("grep x <<< \"$y\"", &["grep x"]),
        ("echo 'a;b' \"c&d\" e\\|f", &["echo a;b c&d e|f"]),
        ("echo 'it''s'", &["echo its"]),
        (
            "git commit -m \"fix: a && b\"",
            &["git commit -m fix: a && b"],
        ),
        ("cargo test # && rm -rf ~", &["cargo test"]),
        ("cargo \\\n test", &["cargo test"]),
        ("FOO=1 cargo test", &["VAR= cargo test"]),
        ("ls *.rs ~/x {a,b}", &["ls $*.rs $~/x ${a,b}"]),
        ("echo $HOME ${USER} $1 $'a\\'b'", &["echo $ $ $ $a\\'b"]),
        ("ls &", &["ls"]),
        ("a &&\n b", &["a", "b"]),
        ("echo a#b", &["echo a#b"]),
    ];
    for (text, want) in table {
        let mut got = commands(text);
        let mut want = want.to_vec();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{text:?}");
    }
}

#[test]
fn records_writes_to_files() {
    let table: &[(&str, bool)] = &[
        ("cargo test", false),
        ("cargo test > out.txt", true),
        ("cargo test >> out.txt", true),
        ("cargo test >| out.txt", true),
        ("cargo test &> out.txt", true),
        ("cargo test &>> out.txt", true),
        ("cargo test >& out.txt", true),
        ("cargo test 2> err.txt", true),
        ("cat <> f", true),
        ("(ls) > f", true),
        ("{ ls; } > f", true),
        ("echo $(ls > f)", true),
        ("echo `ls >f`", true),
        ("cargo test 2>&1", false),
        ("cargo test 2>/dev/null", false),
        ("cargo test >&2", false),
        ("cargo test 3>&-", false),
        ("cat < f", false),
        ("cargo test > \"$OUT\"", true),
        ("cat < /dev/tcp/example.com/80", true),
        ("cat > /dev/udp/10.0.0.1/53", true),
        ("cat < \"$IN\"", true),
        ("cat < \"in file\"", false),
    ];
    for (text, writes) in table {
        let s = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(s.writes_files, *writes, "{text:?}");
    }
}

#[test]
fn refuses_what_it_cannot_classify() {
    use Unclassifiable as U;
    let table: &[(&str, Unclassifiable)] = &[
        ("", U::Empty),
        ("   ", U::Empty),
        ("echo 'unclosed", U::UnclosedQuote),
        ("echo \"unclosed", U::UnclosedQuote),
        ("echo $(id", U::UnclosedSubstitution),
        ("echo `id", U::UnclosedSubstitution),
        ("(ls", U::UnclosedSubstitution),
        ("{ ls; ", U::UnclosedSubstitution),
        ("cat <<EOF\nhi\nEOF", U::Heredoc),
        ("cat <<-EOF\nhi\nEOF", U::Heredoc),
        ("echo $((1+2))", U::Arithmetic),
        ("((x++))", U::Arithmetic),
        ("echo $[1+2]", U::Arithmetic),
        ("echo ${x:-$(id)}", U::ParameterExpansion),
        ("echo ${x/a/b}", U::ParameterExpansion),
        ("if true; then id; fi", U::ControlFlow),
        ("for f in *; do rm $f; done", U::ControlFlow),
        ("while true; do id; done", U::ControlFlow),
        ("case x in x) id;; esac", U::ControlFlow),
        ("! ls", U::ControlFlow),
        ("time ls", U::ControlFlow),
        ("f() { id; }; f", U::FunctionDefinition),
        ("$CMD arg", U::ComputedCommandWord),
        ("${CMD} arg", U::ComputedCommandWord),
        ("$(echo rm) -rf x", U::ComputedCommandWord),
        ("`echo rm` -rf x", U::ComputedCommandWord),
        ("*.sh", U::ComputedCommandWord),
        ("{rm,-rf,x}", U::ComputedCommandWord),
        ("~/bin/tool", U::ComputedCommandWord),
        ("$'\\x72m' -rf x", U::ComputedCommandWord),
        ("eval \"$x\"", U::RunsShellCode),
        ("exec rm -rf x", U::RunsShellCode),
        ("sh -c 'id'", U::RunsShellCode),
        ("bash -c id", U::RunsShellCode),
        ("/bin/bash -lc id", U::RunsShellCode),
        ("source ./env.sh", U::RunsShellCode),
        (". ./env.sh", U::RunsShellCode),
        ("command rm x", U::RunsShellCode),
        ("ls && cargo test | eval x", U::RunsShellCode),
        ("echo $(eval x)", U::RunsShellCode),
        ("ls &&", U::Syntax),
        ("ls || ", U::Syntax),
        ("; ls", U::Syntax),
        ("ls ;; id", U::ControlFlow),
        ("ls | | id", U::Syntax),
        ("(ls) id", U::Syntax),
        ("ls )", U::Syntax),
        ("ls >", U::Syntax),
        ("echo \"`echo \\\"a;b\\\"`\"", U::Syntax),
    ];
    for (text, want) in table {
        assert_eq!(parse(text), Err(*want), "{text:?}");
    }
}

#[test]
fn plain_words_only_for_one_simple_literal_command() {
    let plain = |t: &str| parse(t).ok().and_then(|s| s.plain_words());
    assert_eq!(
        plain("cargo  test"),
        Some(vec!["cargo".into(), "test".into()])
    );
    assert_eq!(
        plain("git commit -m 'a b'"),
        Some(vec![
            "git".into(),
            "commit".into(),
            "-m".into(),
            "a b".into()
        ])
    );
    for t in [
        "ls & id",
        "ls;",
        "ls > f",
        "ls 2>&1",
        "FOO=1 ls",
        "ls $HOME",
        "echo $(id)",
        "(ls)",
        "ls *",
    ] {
        assert_eq!(plain(t), None, "{t:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}ls{}", "$(echo ".repeat(200), ")".repeat(200));
    assert_eq!(parse(&deep), Err(Unclassifiable::TooDeep));
    let groups = format!("{}ls{}", "( ".repeat(10_000), " )".repeat(10_000));
    assert_eq!(parse(&groups), Err(Unclassifiable::TooDeep));
}
