//! Unit tests of the `config.sh` reader: statements parsed and evaluated
//! against a context, and the typed settings taken from them.

use super::*;

fn parse_with(text: &str, context: &ConfContext) -> Result<AutomationConf, AutomationConfError> {
    AutomationConf::parse(text, Path::new("config.sh"), context)
}

fn parse(text: &str) -> AutomationConf {
    parse_with(text, &ConfContext::new()).unwrap_or_else(|e| panic!("{e}"))
}

fn scalar(text: &str, name: &str) -> String {
    match parse(text).get(name) {
        Some(ConfValue::Scalar(s)) => s.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

fn array(text: &str, name: &str) -> Vec<String> {
    match parse(text).get(name) {
        Some(ConfValue::Array(items)) => items.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

/// The error's text, which starts with its location.
fn error(text: &str) -> String {
    match parse_with(text, &ConfContext::new()) {
        Ok(conf) => panic!("expected an error, got {conf:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn quoting_and_escapes_follow_bash() {
    assert_eq!(scalar("A=plain", "A"), "plain");
    assert_eq!(scalar("A='a \"$b\\'", "A"), "a \"$b\\");
    assert_eq!(scalar(r#"A="x\$y\"z\\w\q""#, "A"), "x$y\"z\\w\\q");
    assert_eq!(scalar(r"A=a\ b\\c\$", "A"), "a b\\c$");
    assert_eq!(scalar("A=a'b c'\"d\"e", "A"), "ab cde");
    assert_eq!(scalar("A=\"a\\\nb\"", "A"), "ab");
    assert_eq!(scalar("A=", "A"), "");
    assert_eq!(scalar("A=$", "A"), "$");
    assert_eq!(scalar("A=\"cost: $ 5\"", "A"), "cost: $ 5");
    assert_eq!(scalar("A=a#b # comment", "A"), "a#b");
}

#[test]
fn expansions_use_earlier_assignments_then_context_then_empty() {
    let context = ConfContext::new().with("ENV", "prod");
    let conf = parse_with(
        "A=x\nB=\"$A-${A}-$ENV-$MISSING.\"\nC=${MISSING:-d${A}}\nD=${EMPTY-unset}\nEMPTY=\nE=${EMPTY-unset}${EMPTY:-empty}\nF=${A:+alt}${MISSING+no}",
        &context,
    )
    .unwrap();
    assert_eq!(conf.scalar("B"), Some("x-x-prod-."));
    assert_eq!(conf.scalar("C"), Some("dx"));
    assert_eq!(conf.scalar("D"), Some("unset"));
    assert_eq!(conf.scalar("E"), Some("empty"));
    assert_eq!(conf.scalar("F"), Some("alt"));
    assert_eq!(conf.get("ENV"), Some(&ConfValue::Scalar("prod".into())));
    assert_eq!(conf.location("ENV"), None);
    assert_eq!(conf.location("C"), Some(&Location::new("config.sh", 3, 1)));
    let names: Vec<&str> = conf.variables().map(|(n, _)| n).collect();
    assert_eq!(names, ["A", "B", "C", "D", "EMPTY", "E", "F"]);
}

#[test]
fn nested_quotes_inside_a_quoted_default() {
    assert_eq!(scalar("A=\"${X:-'a'}\"", "A"), "'a'");
    assert_eq!(scalar("A=\"${X:-\\}}\"", "A"), "}");
    assert_eq!(scalar("A=${X:-a  b}", "A"), "a  b");
    assert_eq!(scalar("A=\"${X:-'}'}\"", "A"), "'}'");
    assert_eq!(scalar("Y=5; A=\"${X:-'$Y}'}\"", "A"), "'5}'");
    assert_eq!(scalar(r#"A=${X:-"\q"}"#, "A"), "\\q");
    assert_eq!(scalar(r#"A=${X:-"a  b"}"#, "A"), "a  b");
}

#[test]
fn arrays_split_unquoted_expansions_only() {
    let text = "X=\"p  q\"\nA=( \"a b\" 'c'\n  d # comment\n  $X \"$X\" ${NONE:-e  f} '' $NONE )";
    assert_eq!(
        array(text, "A"),
        ["a b", "c", "d", "p", "q", "p  q", "e", "f", ""]
    );
    assert_eq!(array("A=()", "A"), Vec::<String>::new());
}

#[test]
fn append_and_scalar_array_interplay() {
    assert_eq!(scalar("A=a; A+=b", "A"), "ab");
    assert_eq!(array("A=(a b); A+=(c)", "A"), ["a", "b", "c"]);
    assert_eq!(array("A=(a b); A=z", "A"), ["z", "b"]);
    assert_eq!(array("A=(a b); A+=z", "A"), ["az", "b"]);
    assert_eq!(array("A=s; A+=(t)", "A"), ["s", "t"]);
    assert_eq!(scalar("A=(a b); B=$A", "B"), "a");
    assert_eq!(scalar("export A=1 B=2; export A", "B"), "2");
}

#[test]
fn if_elif_else_picks_one_branch() {
    let text = "if [[ $E == a ]]; then X=1\nelif [ \"$E\" = b ] || [[ -z $E ]]\nthen\n  X=2\n  if [[ ! -n $Y && ( $E != c ) ]]; then Y=nested; fi\nelse X=3; fi";
    let run = |env: &str| {
        let conf = parse_with(text, &ConfContext::new().with("E", env)).unwrap();
        (
            conf.scalar("X").unwrap().to_owned(),
            conf.scalar("Y").map(str::to_owned),
        )
    };
    assert_eq!(run("a"), ("1".into(), None));
    assert_eq!(run("b"), ("2".into(), Some("nested".into())));
    assert_eq!(run(""), ("2".into(), Some("nested".into())));
    assert_eq!(run("c"), ("3".into(), None));
}

#[test]
fn single_bracket_tests_by_argument_count() {
    let value = |cond: &str| scalar(&format!("V=yes\nif {cond}; then R=1; else R=0; fi"), "R");
    assert_eq!(value("[ ]"), "0");
    assert_eq!(value("[ $V ]"), "1");
    assert_eq!(value("[ -n \"$NONE\" ]"), "0");
    assert_eq!(value("[ ! -z $V ]"), "1");
    assert_eq!(value("[ $V == yes ]"), "1");
    assert_eq!(value("test $V != yes"), "0");
    assert_eq!(value("! [ $V = yes ]"), "0");
}

#[test]
fn unsupported_constructs_name_line_and_column() {
    let cases = [
        ("A=$(date)", "config.sh:1:3: command substitution `$(…)`"),
        (
            "A=`date`",
            "config.sh:1:3: command substitution with backticks",
        ),
        ("\n  A=$((1+2))", "config.sh:2:5: arithmetic expansion"),
        ("f() { A=1; }", "config.sh:1:1: the command `f`"),
        ("function f {\n}", "config.sh:1:1: `function`"),
        ("for x in a; do A=1; done", "config.sh:1:1: `for`"),
        ("A=1 | cat", "config.sh:1:5: a pipe"),
        ("A=1 > out", "config.sh:1:5: a redirection"),
        ("source other.sh", "config.sh:1:1: `source`"),
        ("echo hi", "config.sh:1:1: the command `echo`"),
        ("A=${B:=x}", "config.sh:1:6: the expansion operator `:=`"),
        ("A=${B#x}", "config.sh:1:6: the expansion operator `#`"),
        ("A=${#B}", "config.sh:1:3: the length expansion"),
        ("A=$1", "config.sh:1:3: the special parameter `$1`"),
        ("A=\"${X:->(b}\"", "config.sh:1:9: process substitution"),
        ("A=\"${X:-\"b\"}\"", "config.sh:1:9: double quotes inside"),
        (
            "if [[ -r x ]]; then A=1; fi",
            "config.sh:1:7: the test `-r`",
        ),
        (
            "if [[ -f x ]]; then A=1; fi",
            "config.sh:1:10: a file test without a working directory",
        ),
        (
            "if [ -d x ]; then A=1; fi",
            "config.sh:1:4: a file test without a working directory",
        ),
        (
            "if [[ $A =~ a.b ]]; then A=1; fi",
            "config.sh:1:13: a regular expression",
        ),
        (
            "if [[ $A -eq 1 ]]; then A=1; fi",
            "config.sh:1:10: the operator `-eq`",
        ),
        (
            "if [[ x == [[:alpha:]] ]]; then A=1; fi",
            "config.sh:1:12: a character class",
        ),
        ("A=( *.yml )", "config.sh:1:5: an unquoted `*`"),
        ("A=( {a,b} )", "config.sh:1:5: an unquoted `{`"),
        ("A=~/x", "config.sh:1:3: an unquoted `~`"),
        ("A=1 && B=2", "config.sh:1:5: a command list with `&&`"),
        ("A[1]=x", "config.sh:1:1: an array element assignment"),
        ("A=1 cmd", "config.sh:1:5: running the command `cmd`"),
        (
            "if [ $NONE = a ]; then A=1; fi",
            "config.sh:1:4: this `[ … ]` test",
        ),
        (
            "if true; then A=1; fi",
            "config.sh:1:4: the command `true` as a condition",
        ),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(
            message.starts_with(expected),
            "{text:?}: expected {expected:?}, got {message:?}"
        );
        assert!(message.contains("not supported"), "{message}");
    }
}

#[test]
fn unsupported_construct_in_an_untaken_branch_is_still_an_error() {
    let message = error("if [[ a == b ]]; then\n  A=$(date)\nfi");
    assert!(message.starts_with("config.sh:2:5:"), "{message}");
}

#[test]
fn syntax_errors_name_line_and_column() {
    let cases = [
        ("A='abc", "config.sh:1:3: syntax error: single quote"),
        ("\nA=\"abc", "config.sh:2:3: syntax error: double quote"),
        ("A=( a b", "config.sh:1:3: syntax error: `(`"),
        (
            "if [[ a ]]; then A=1",
            "config.sh:1:21: syntax error: `if` is never closed",
        ),
        ("fi", "config.sh:1:1: syntax error: unexpected `fi`"),
        ("A=${B", "config.sh:1:3: syntax error"),
        (
            "if [ a; then A=1; fi",
            "config.sh:1:4: syntax error: `[` is not closed",
        ),
        ("A=1;;", "config.sh:1:5: syntax error: unexpected `;;`"),
        (
            "if [[ a ]]; then\n  # nothing\nfi",
            "config.sh:3:1: syntax error: unexpected `fi`",
        ),
        (
            "if [[ a ]]; then A=1; else fi",
            "config.sh:1:28: syntax error: unexpected `fi`",
        ),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(
            message.starts_with(expected),
            "{text:?}: expected {expected:?}, got {message:?}"
        );
    }
}

#[test]
fn typed_getters_and_defaults() {
    let conf = parse("TEMPEST_CONCURRENCY=3\nKAYOBE_CONFIG_SECRET_PATHS_EXTRA=one");
    assert_eq!(conf.tempest_concurrency().unwrap(), Some(3));
    assert_eq!(conf.secret_paths_extra(), ["one"]);
    assert!(conf.vaulted_files_paths_extra().is_empty());
    let tempest = conf.tempest().unwrap();
    assert_eq!(tempest.loadlist, "default");
    assert_eq!(tempest.skiplist, "default");
    assert_eq!(
        tempest.loadlist_path,
        Path::new("./tempest/load-lists/default")
    );
    assert_eq!(tempest.output_dir, Path::new("tempest-artifacts/"));
    assert_eq!(tempest.accounts_path, None);

    let conf = AutomationConf::parse(
        "KAYOBE_AUTOMATION_TEMPEST_LOADLIST=smoke\nKAYOBE_AUTOMATION_TEMPEST_SKIPLIST_FULL_PATH=/s\nKAYOBE_AUTOMATION_TEMPEST_ACCOUNTS=acc.yml",
        Path::new("/repo/.automation.conf/config.sh"),
        &ConfContext::new(),
    )
    .unwrap();
    let tempest = conf.tempest().unwrap();
    assert_eq!(tempest.skiplist, "smoke");
    assert_eq!(
        tempest.loadlist_path,
        Path::new("/repo/.automation.conf/tempest/load-lists/smoke")
    );
    assert_eq!(tempest.skiplist_path, Path::new("/s"));
    assert_eq!(
        tempest.accounts_path.as_deref(),
        Some(Path::new("/repo/.automation.conf/tempest/accounts/acc.yml"))
    );
}

#[test]
fn invalid_integer_and_boolean_name_the_variable() {
    let conf = parse("\nTEMPEST_CONCURRENCY=four");
    let message = conf.tempest_concurrency().unwrap_err().to_string();
    assert_eq!(
        message,
        "config.sh:2:1: TEMPEST_CONCURRENCY must be a non-negative integer, not `four`"
    );
    assert!(parse("TEMPEST_CONCURRENCY=-1").tempest().is_err());
    let conf = parse_with(
        "",
        &ConfContext::new().with("KAYOBE_AUTOMATION_RALLY_FORCE_PULL", "maybe"),
    )
    .unwrap();
    let message = conf.rally().unwrap_err().to_string();
    assert!(message.starts_with("the environment: KAYOBE_AUTOMATION_RALLY_FORCE_PULL"));
}

#[test]
fn rally_password_is_not_in_debug_output() {
    let conf = parse(
        "KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY_PASSWORD=s3cr3t\nKAYOBE_AUTOMATION_RALLY_FORCE_PULL=yes",
    );
    let rally = conf.rally().unwrap();
    assert_eq!(rally.docker_registry_password.as_deref(), Some("s3cr3t"));
    assert_eq!(rally.force_pull, Some(true));
    assert!(!format!("{rally:?}").contains("s3cr3t"));
}

#[test]
fn missing_file_loads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let conf = AutomationConf::load(&dir.path().join("config.sh"), &ConfContext::new()).unwrap();
    assert_eq!(conf.variables().count(), 0);
}

#[test]
fn unreadable_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let error = AutomationConf::load(dir.path(), &ConfContext::new()).unwrap_err();
    assert!(matches!(error, AutomationConfError::Io { .. }));
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string())
    );
}

#[test]
fn substring_match_with_a_quoted_right_hand_side() {
    let text = "if [[ \"$E\" =~ \"aio\" ]]; then R=aio; elif [[ $E =~ prod ]]; then R=prod; else R=none; fi";
    let run = |env: &str| {
        let conf = parse_with(text, &ConfContext::new().with("E", env)).unwrap();
        conf.scalar("R").unwrap().to_owned()
    };
    assert_eq!(run("ci-aio-rocky"), "aio");
    assert_eq!(run("production"), "prod");
    assert_eq!(run("staging"), "none");
}

#[test]
fn file_tests_use_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/f.conf"), "").unwrap();
    let context = ConfContext::new()
        .with("D", dir.path().display().to_string())
        .with_working_dir(dir.path());
    let text = "\
        if [ -f sub/f.conf ]; then A=file; fi
        if [[ -d sub && ! -f sub ]]; then B=dir; fi
        if [ ! -e \"$D/missing\" ]; then C=missing; fi
        if [[ -e \"$NONE\" ]]; then C=empty-exists; fi";
    let conf = parse_with(text, &context).unwrap();
    assert_eq!(conf.scalar("A"), Some("file"));
    assert_eq!(conf.scalar("B"), Some("dir"));
    assert_eq!(conf.scalar("C"), Some("missing"));
}

#[test]
fn patterns_on_the_right_of_double_bracket_comparisons() {
    let matches = |lhs: &str, pattern: &str| {
        let text = format!("P='*'\nif [[ {lhs} == {pattern} ]]; then R=1; else R=0; fi");
        scalar(&text, "R") == "1"
    };
    assert!(matches("ci-aio", "ci-*"));
    assert!(matches("ci-aio", "*aio"));
    assert!(matches("abc", "a?c"));
    assert!(!matches("abc", "a?"));
    assert!(matches("b", "[a-c]"));
    assert!(matches("d", "[!a-c]"));
    assert!(matches("]", "[]]"));
    assert!(matches("a*", "a\\*"));
    assert!(!matches("ab", "a\\*"));
    assert!(matches("a*", "a'*'"));
    assert!(matches("anything", "$P"));
    assert!(!matches("anything", "\"$P\""));
    assert!(matches("[x", "[x"));
}

#[test]
fn a_value_that_keeps_doubling_is_refused_at_its_line() {
    let text = "A=xxxxxxxxxxxxxxxx\n".to_owned() + &"A=$A$A\n".repeat(20);
    let message = error(&text);
    // 16 bytes doubled 12 times is 64 KiB; the 13th doubling is refused.
    assert!(
        message.starts_with("config.sh:14:1: the value of A grows beyond 64 KiB"),
        "{message}"
    );
}
