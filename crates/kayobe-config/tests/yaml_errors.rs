//! Bad YAML is reported at the right file, line and column, saying what is
//! wrong and what to do.

use std::path::Path;

use kayobe_config::Location;
use kayobe_config::yaml::{ContentProblem, YamlError, load_file, parse};

const FILE: &str = "etc/kayobe/globals.yml";

fn error_of(text: &str) -> YamlError {
    parse(text, Path::new(FILE)).expect_err(text)
}

/// (document, line, column, a phrase of the message). Positions are where
/// libyaml (Ansible's parser) reports the same problem.
const SYNTAX_ERRORS: &[(&str, usize, usize, &str)] = &[
    ("a: [1, 2\n", 2, 1, "expected ',' or ']'"),
    ("a: b: c\n", 1, 5, "mapping values are not allowed"),
    ("a:\n  - b\n c: d\n", 3, 2, "did not find expected key"),
    ("a: 'unterminated\n", 1, 4, "unexpected end of stream"),
    ("a: \"\\q\"\n", 1, 4, "unknown escape character"),
    ("- a\nb: c\n", 2, 1, "expected '-' indicator"),
    ("{a: 1\n", 2, 1, "expected ',' or '}'"),
    ("é: [1, ]]\n", 1, 9, "misplaced bracket"),
];

#[test]
fn syntax_errors_name_file_line_and_column() {
    for (text, line, column, phrase) in SYNTAX_ERRORS {
        let error = error_of(text);
        assert!(
            matches!(error, YamlError::Syntax { .. }),
            "{text:?}: {error:?}"
        );
        assert_eq!(
            error.location(),
            Some(&Location::new(FILE, *line, *column)),
            "{text:?}: {error}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{FILE}:{line}:{column}: invalid YAML: ")),
            "{message}"
        );
        assert!(message.contains(phrase), "{message}");
        assert!(
            message.ends_with("fix the syntax at this position"),
            "{message}"
        );
    }
}

/// (document, line, column, problem): well-formed YAML Ansible's loader rejects.
fn content_errors() -> Vec<(&'static str, usize, usize, ContentProblem)> {
    vec![
        ("key: *nope\n", 1, 6, ContentProblem::UndefinedAlias),
        ("a: &x 1\nb: &x 2\n", 2, 4, ContentProblem::DuplicateAnchor),
        ("a: 1\n---\nb: 2\n", 2, 1, ContentProblem::SecondDocument),
        ("a: 1\n...\nb: 2\n", 3, 1, ContentProblem::SecondDocument),
        (
            "a: !foo bar\n",
            1,
            4,
            ContentProblem::UnknownTag("!foo".into()),
        ),
        ("x:\n  y: !vault 12\n", 2, 6, ContentProblem::VaultNotString),
        (
            "x:\n  y: !vault {a: b}\n",
            2,
            6,
            ContentProblem::VaultNotString,
        ),
        ("? [a]\n: b\n", 1, 3, ContentProblem::ComplexKey),
        ("a:\n  <<: 1\n", 2, 7, ContentProblem::BadMerge),
        ("a:\n  <<: [{b: 1}, c]\n", 2, 16, ContentProblem::BadMerge),
        ("a: 2001-02-30\n", 1, 4, ContentProblem::InvalidTimestamp),
        (
            "a: !!int x\n",
            1,
            4,
            ContentProblem::BadScalar { tag: "!!int" },
        ),
        ("a: &x [*x]\n", 1, 8, ContentProblem::RecursiveAlias),
        ("a: <<\n", 1, 4, ContentProblem::SpecialScalarAsValue("<<")),
        (
            "a: !!map [b]\n",
            1,
            4,
            ContentProblem::TagOnWrongNode {
                tag: "!!map".into(),
                expected: "mapping",
            },
        ),
    ]
}

#[test]
fn content_errors_name_the_node() {
    for (text, line, column, problem) in content_errors() {
        let error = error_of(text);
        let YamlError::Content {
            location,
            problem: got,
        } = &error
        else {
            panic!("{text:?}: expected a content error, got {error}");
        };
        assert_eq!(
            location,
            &Location::new(FILE, line, column),
            "{text:?}: {error}"
        );
        assert_eq!(got, &problem, "{text:?}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{FILE}:{line}:{column}: ")),
            "{error}"
        );
    }
}

#[test]
fn nesting_is_limited_before_the_stack_is() {
    let deep = "- ".repeat(100_000);
    let error = error_of(&deep);
    assert!(
        matches!(
            error,
            YamlError::Content {
                problem: ContentProblem::TooDeep(256),
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.location(), Some(&Location::new(FILE, 1, 513)));
    let fine = format!("{}x\n", "- ".repeat(200));
    assert!(parse(&fine, Path::new(FILE)).is_ok());
}

#[test]
fn composition_errors_win_over_earlier_value_errors() {
    // PyYAML composes the whole document before building values, so it
    // reports the undefined alias of line 2, not the bad date of line 1.
    let error = error_of("a: 2001-02-30\nb: *nope\n");
    assert_eq!(error.location(), Some(&Location::new(FILE, 2, 4)));
}

#[test]
fn messages_never_repeat_the_value() {
    // Values may be secrets: errors name their position, not their text.
    let error = error_of("password: !!int s3cr3t-value\n");
    assert!(!error.to_string().contains("s3cr3t"), "{error}");
    let error = error_of("password: !vault s3cr3t-value-but-not-vault: x\n");
    assert!(!error.to_string().contains("s3cr3t"), "{error}");
}

#[test]
fn load_file_names_the_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("missing.yml");
    let error = load_file(&missing).expect_err("a missing file is an error");
    assert!(matches!(error, YamlError::Read { .. }));
    assert!(error.location().is_none());
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: cannot read", missing.display())),
        "{error}"
    );

    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "a: 1\nb: [\n").expect("file written");
    let error = load_file(&bad).expect_err("bad YAML is an error");
    assert_eq!(
        error.location().map(|l| l.path.as_path()),
        Some(bad.as_path())
    );

    let good = dir.path().join("good.yml");
    std::fs::write(&good, "a: yes\n").expect("file written");
    let value = load_file(&good).expect("good YAML loads");
    assert_eq!(value.to_json(), serde_json::json!({"a": true}));
}
