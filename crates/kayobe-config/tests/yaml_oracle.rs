//! `kayobe_config::yaml::parse` against Ansible's own loader (ansible-core's
//! `AnsibleLoader`, output through the JSON encoder `ansible-inventory` uses).
//!
//! Every document of a test goes to ONE Python process (its start-up is slow).

mod yaml_gen;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kayobe_config::Value;
use kayobe_config::yaml::{YamlError, parse, parse_data};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value as Json, json};

/// Loads each document with `AnsibleLoader` from a stream tagged trusted (as
/// the inventory's vars plugin does) and prints, per document, either
/// `{"ok": <JSON as ansible-inventory's encoder prints it>}` or
/// `{"error": …, "line": …, "column": …}`. Non-finite floats, which Python
/// prints as bare `NaN`/`Infinity`, are wrapped as `{"__float__": "NaN"}`.
const ORACLE: &str = r#"
import json, sys, yaml
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible._internal._datatag._tags import TrustedAsTemplate
from ansible._internal._json._profiles import _legacy

from ansible.parsing.utils.yaml import from_yaml

data_loader = sys.argv[1:] == ["data"]
results = []
for text in json.load(sys.stdin):
    try:
        if data_loader:
            data = from_yaml(TrustedAsTemplate().tag(text))
        else:
            data = yaml.load(TrustedAsTemplate().tag(text), Loader=AnsibleLoader)
        dumped = json.dumps(data, cls=_legacy.Encoder)
        results.append({"ok": json.loads(dumped, parse_constant=lambda c: {"__float__": c})})
    except Exception as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        results.append({
            "error": type(e).__name__ + ": " + str(e).splitlines()[0],
            "line": mark.line + 1 if mark else None,
            "column": mark.column + 1 if mark else None,
        })
print(json.dumps(results))
"#;

fn python() -> Option<PathBuf> {
    kayobe_automation_tests::tool("python")
}

/// How the oracle reads documents.
#[derive(Clone, Copy, PartialEq)]
enum Reader {
    /// `yaml.load(…, Loader=AnsibleLoader)`, as our `parse`.
    Yaml,
    /// `DataLoader`'s `from_yaml` (JSON first), as our `parse_data`.
    Data,
}

/// Ansible's result for every document, in one Python run.
fn oracle(python: &Path, reader: Reader, documents: &[String]) -> Vec<Json> {
    let mode = if reader == Reader::Data {
        "data"
    } else {
        "yaml"
    };
    let mut child = Command::new(python)
        .args(["-c", ORACLE, mode])
        .env("ANSIBLE_DEPRECATION_WARNINGS", "False")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python starts");
    let input = serde_json::to_vec(documents).expect("documents serialize");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(&input)
        .expect("python reads the documents");
    let output = child.wait_with_output().expect("python runs");
    assert!(output.status.success(), "the oracle script failed");
    let results: Vec<Json> = serde_json::from_slice(&output.stdout).expect("oracle prints JSON");
    assert_eq!(results.len(), documents.len());
    results
}

/// Our value as the oracle prints it: `!unsafe` strings are
/// `{"__ansible_unsafe": …}` in ansible-inventory's encoding, non-finite
/// floats wrapped as the oracle script wraps them.
fn as_oracle_json(value: &Value) -> Json {
    match value {
        Value::Unsafe(s) => json!({"__ansible_unsafe": s}),
        Value::Float(f) if !f.is_finite() => {
            let name = if f.is_nan() {
                "NaN"
            } else if *f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            };
            json!({"__float__": name})
        }
        Value::List(items) => Json::Array(items.iter().map(as_oracle_json).collect()),
        Value::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), as_oracle_json(v)))
                .collect(),
        ),
        other => other.to_json(),
    }
}

/// Equal including key order and integer/float kind. Python prints integers
/// beyond `i64` exactly; we hold them as the nearest float.
fn same(ours: &Json, theirs: &Json) -> bool {
    match (ours, theirs) {
        (Json::Number(a), Json::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return x == y;
            }
            let big_int = b.is_u64() && b.as_i64().is_none();
            (a.is_f64() && (b.is_f64() || big_int)) && a.as_f64() == b.as_f64()
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => ours == theirs,
    }
}

/// Compares every document with the oracle; returns the mismatches, described.
fn mismatches(reader: Reader, documents: &[String], oracle_results: &[Json]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut lenient = Vec::new();
    for (text, theirs) in documents.iter().zip(oracle_results) {
        let ours = match reader {
            Reader::Yaml => parse(text, Path::new("doc.yml")),
            Reader::Data => parse_data(text, Path::new("doc.yml")),
        };
        match (&ours, theirs.get("ok")) {
            (Ok(value), Some(expected)) => {
                let got = as_oracle_json(value);
                if !same(&got, expected) {
                    problems.push(format!(
                        "document:\n{text}\n--- ours:   {got}\n--- ansible: {expected}"
                    ));
                }
            }
            (Err(error), None) => {
                // Content errors are found at the same node as PyYAML finds them.
                let their_error = theirs["error"].as_str().unwrap_or_default();
                let content_error = [
                    "ComposerError",
                    "ConstructorError",
                    "AnsibleConstructorError",
                ]
                .iter()
                .any(|kind| their_error.starts_with(kind));
                if let YamlError::Content { location, .. } = error
                    && content_error
                    && let Some(line) = theirs["line"].as_u64()
                    && location.line as u64 != line
                {
                    problems.push(format!(
                        "document:\n{text}\n--- ours:   {error}\n--- ansible: {theirs} (line differs)"
                    ));
                }
            }
            // Deliberate: a date used as a key is kept as its ISO text, where
            // Ansible's JSON encoder fails on it.
            (Ok(_), None)
                if theirs["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("TaggedDate")) => {}
            // saphyr (YAML 1.2) accepts a few plain scalars libyaml rejects,
            // e.g. `[a:]`; we cannot be stricter than our parser.
            (Ok(_), None)
                if theirs["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("ScannerError")) =>
            {
                lenient.push(text.clone());
            }
            (Ok(value), None) => problems.push(format!(
                "document:\n{text}\n--- ours:   {}\n--- ansible: {theirs}",
                as_oracle_json(value)
            )),
            (Err(error), Some(expected)) => problems.push(format!(
                "document:\n{text}\n--- ours:   {error}\n--- ansible: {expected}"
            )),
        }
    }
    if !lenient.is_empty() {
        eprintln!(
            "{} documents libyaml rejects were accepted:\n{}",
            lenient.len(),
            lenient.join("\n--\n")
        );
    }
    problems
}

fn assert_matches_oracle(documents: &[String]) {
    assert_reader_matches_oracle(Reader::Yaml, documents);
}

fn assert_reader_matches_oracle(reader: Reader, documents: &[String]) {
    let Some(python) = python() else { return };
    let results = oracle(&python, reader, documents);
    let errors = results.iter().filter(|r| r.get("ok").is_none()).count();
    eprintln!(
        "{errors} of {} documents are errors for Ansible",
        documents.len()
    );
    let problems = mismatches(reader, documents, &results);
    assert!(
        problems.is_empty(),
        "{} of {} documents differ from Ansible:\n\n{}",
        problems.len(),
        documents.len(),
        problems.join("\n\n")
    );
}

/// Scalars whose YAML 1.1 meaning is easy to get wrong.
const TRICKY_SCALARS: &[&str] = &[
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "none",
    "None",
    "yes",
    "Yes",
    "YES",
    "yEs",
    "no",
    "No",
    "NO",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "false",
    "False",
    "FALSE",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "0",
    "-0",
    "+0",
    "00",
    "010",
    "-010",
    "08",
    "09",
    "0o17",
    "0x1F",
    "0x_1f",
    "-0xff",
    "0b101",
    "-0b1_01",
    "0b",
    "0x",
    "1_000",
    "_1",
    "1__0",
    "+12",
    "-12",
    "1:30",
    "-1:30",
    "190:20:30",
    "1:60",
    "1:5",
    "0:30",
    "1:30:",
    "123456789012345678901234567890",
    "-9223372036854775808",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1.5",
    "-1.5",
    "+1.5",
    "1.",
    "-1.",
    ".5",
    "-.5",
    "+.5",
    "1e3",
    "1E3",
    "1.0e3",
    "1.0e+3",
    "1.0E-3",
    "1.5e+300",
    "1.5e+400",
    "1_0.5_0",
    "1:30.5",
    "-1:30.5",
    "1:30.",
    ".inf",
    ".Inf",
    ".INF",
    "-.inf",
    "+.inf",
    ".iNf",
    ".nan",
    ".NaN",
    ".NAN",
    "-.nan",
    "nan",
    "inf",
    "0.1",
    "3.14159265358979",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10",
    "2001-12-14 21:59:43.10 -5",
    "2002-12-14 21:59:43Z",
    "2001-12-14T21:59:43.1234567+01:30",
    "2001-1-1",
    "2001-12-1",
    "2001-02-29",
    "2000-02-29",
    "2001-12-14 21:59:43",
    "1.2.3",
    "1-2",
    "0.0.0.0",
    "10.0.0.1",
    "192.168.1.0/24",
    "=",
    "a=b",
    "<",
    "<<<",
    "foo",
    "foo bar",
    "é",
    "x:y",
    "-",
    "--",
    "+",
    "{{ x }}",
    "'",
    "a'b",
];

fn tricky_documents() -> Vec<String> {
    let mut documents = Vec::new();
    for scalar in TRICKY_SCALARS {
        let plain_ok = !scalar.is_empty()
            && !scalar.starts_with(['{', '\'', '-', '%', '@', '`', '&', '*', '!', '|', '>', '?'])
            && !scalar.contains(": ")
            && !scalar.contains(" #");
        let single = format!("'{}'", scalar.replace('\'', "''"));
        if plain_ok || ["-0", "-010", "-.5", "-1:30", "-0xff", "-12", "-1.5"].contains(scalar) {
            documents.push(format!("value: {scalar}\n"));
            documents.push(format!("{scalar}: key\n"));
            documents.push(format!("- {scalar}\n- !unsafe {scalar}\n"));
            documents.push(format!("[{scalar}]\n"));
        }
        documents.push(format!("value: {single}\n"));
        documents.push(format!("value: !unsafe {single}\n"));
        documents.push(format!("value: !!str {single}\n"));
        documents.push(format!("value: ! {single}\n"));
        documents.push(format!("value: !!int {single}\n"));
        documents.push(format!("value: !!float {single}\n"));
        documents.push(format!("value: !!bool {single}\n"));
        documents.push(format!("value: !vault {single}\n"));
        documents.push(format!("value: !!null {single}\n"));
        documents.push(format!("value: !!timestamp {single}\n"));
    }
    documents
}

#[test]
fn tricky_scalars_mean_what_they_mean_to_ansible() {
    assert_matches_oracle(&tricky_documents());
}

/// Structures: anchors, merges, duplicates, keys, tags on containers, styles.
const STRUCTURES: &[&str] = &[
    "",
    "# only a comment\n",
    "---\n",
    "--- # c\n...\n",
    "a: 1\n...\n",
    "a: 1\n---\nb: 2\n",
    "a\n---\nb\n",
    "a: 1\n...\n---\nb: 2\n",
    "a: 1\n...\n# trailing\n",
    "plain scalar document\n",
    "- a\n- b: c\n  d: [e, {f: g}]\n",
    "a:\nb: \nc: ~\n",
    "a: 1\na: 2\nb: 3\n",
    "{b: 1, a: 2, b: 3}",
    "1: a\n1.0: b\ntrue: c\n",
    "true: a\n1: b\n",
    "'1': a\n1: b\n",
    "null: a\n~: b\n? \n: c\n",
    "1.5: a\n1e3: b\n.inf: c\n-.inf: d\n.nan: e\n0x10: f\n010: g\n1:30: h\n",
    "123456789012345678901234567890: a\n1e16: b\n",
    "{.nan: a, .nan: b}\n",
    "{&k .nan: a, .nan: b, *k : c}\n",
    "1.5e+16: a\n1.0e-5: b\n0.0001: c\n-0.0: d\n",
    "? [a, b]\n: c\n",
    "? {a: b}\n: c\n",
    "a: &x 1\nb: *x\n",
    "a: &x [1, 2]\nb: *x\nc: &x 3\nd: *x\n",
    "a: *x\n",
    "a: &x [1, *x]\n",
    "base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  b: 3\n  c: 4\n",
    "x: &x {abc: 1, a: 1}\ny: &y {abc: 2, a: 2}\nz:\n  q: 0\n  <<: [*x, *y]\n",
    "x: &x {a: 1, a: 2, abc: 1, abc: 2}\nz:\n  <<: *x\n",
    "x: &x {é: 1}\ny: &y {é: 2}\nz:\n  <<: [*x, *y]\n",
    "x: &x {a: 1}\ny: &y {<<: *x, b: 2}\nz:\n  <<: [*y, *x]\n",
    "x: &x {abc: 1}\ny: &y {<<: *x, abc: 2}\nz:\n  <<: [*y, *x]\n",
    "x: &x {abc: 1}\nz:\n  <<: [*x, {abc: 2}]\n",
    "z:\n  <<: {a: 1}\n  <<: {a: 2, b: 3}\n  c: 4\n",
    "x: &x {&k abc: 1}\ny: &y {*k : 2}\nz: {<<: [*x, *y]}\n",
    "x: &x {&k abc: 1, *k : 3}\nz: {<<: *x}\n",
    "x: &x {abc: 1}\ny: &y {abc: 2}\nz: {<<: [*x, *y]}\nw: {<<: [*y, *x]}\n",
    "z:\n  c: 4\n  <<: [{a: 1}, {b: 2}]\n",
    "l: &l [{a: 1}, {b: 2}]\nz:\n  <<: *l\n",
    "z:\n  <<: 1\n",
    "z:\n  <<: [1]\n",
    "z:\n  <<: [{a: 1}, [2]]\n",
    "'<<': {a: 1}\n",
    "a: <<\n",
    "a: =\n",
    "=: a\n",
    "a: !unsafe '{{ x }}'\n",
    "a: !unsafe {b: '{{ x }}', c: [d, 1, yes]}\n",
    "a: !unsafe [x, {y: z}]\n",
    "a: !unsafe |\n  yes\n",
    "a: !unsafe |\n  12\n",
    "a: !unsafe |\n  text\n",
    "a: !unsafe\n",
    "a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162636465\n",
    "a: !vault-encrypted |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162636465\n",
    "a: !vault 12\n",
    "a: !vault\n",
    "a: !vault {b: c}\n",
    "a: !vault [b]\n",
    "a: !foo b\n",
    "a: !foo {b: c}\n",
    "a: !!str {b: c}\n",
    "a: !!map [b]\n",
    "a: !!seq {b: c}\n",
    "a: !!map {b: c}\n",
    "a: !!seq [b]\n",
    "a: ! {b: c}\n",
    "a: ! 12\n",
    "a: ! '12'\n",
    "a: !!str 12\n",
    "a: !!python/unicode x\n",
    "a: !!python/dict {b: 1}\n",
    "a: !!merge x\n",
    "a: !<tag:yaml.org,2002:str> 12\n",
    "a: !<!unsafe> x\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!foo x\n",
    "%TAG !! tag:example.com,2000:\n---\na: !!str x\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: |\n  line1\n  line2\n",
    "a: >\n  folded\n  text\n\n  para\n",
    "a: |-\n  strip\n",
    "a: |+\n  keep\n\n",
    "a: \"esc\\t\\n\\u00e9\\x41\\/\"\n",
    "a: 'it''s'\n",
    "a: multi\n  line\n  plain\n",
    "a: \"multi\n  line\"\n",
    "a: [1, 2, {b: c}, [d]]\nb: {}\nc: []\n",
    "- - - a\n",
    "- !!str\n- !!int 1\n",
    "a: b # comment\n# comment\nc: d\n",
    "a: &anchor\n  b: c\nd: *anchor\n",
    "? a\n: b\n",
    "[a, b]: c\n",
    "a: 2001-12-14\nb: 2001-12-14 21:59:43.10 -5\n",
    "2001-12-14: a\n",
    "a: 1\n\tb: 2\n",
    "a: b: c\n",
    "a: [1, 2\n",
    "\u{feff}a: 1\n",
    "a: \"\\u0000\"\n",
    "a: 0b\n",
    "a: !!int 0x_\n",
    "a: {{ x }}\n",
    "a: \"{{ x }}\"\nb: '{{ y | default(omit) }}'\n",
    "a: 1\r\nb:\r\n  - 2\r\n",
    "a:\tb\n",
    "a:\t1\nb:\t\ttwo\nc: |\n  x:\ty\n",
    "-\ta\n-\t-\tb\n",
    "- a:\tb\n  c:\t'q'\n",
    "a:\t- b\n",
    "a: \"x:\ty\"\n",
    "a:\t{b:\tc}\n",
    "a: b\t# c\n",
    "a: |  # comment\n  text\n",
    "a: >-\n  one\n  two\n",
    "a: b   \n",
    "key with spaces: value with spaces\n",
    "a: 'multi\n\n  line'\n",
    "a:\n- 1\n- 2\n",
    "- a: 1\n  b: 2\n- c\n",
    "a: !!float 1\nb: !!float 1e3\nc: !!float inf\nd: !!float -1:30\n",
    "a: !!bool yes\nb: !!bool y\nc: !!bool TRUE\n",
    "a: !!int 1:30\nb: !!int ' 12'\nc: !!int 0o17\nd: !!int 0x0x10\ne: !!int 1.5\n",
    "a: !!timestamp 2001-1-1\nb: !!timestamp 2001-12-14 1:02:03\n",
    "a: !!null x\nb: !!str\n",
    "a: &a !unsafe x\nb: *a\n",
    "a: &a [!unsafe x]\nb: *a\n",
    "a: !unsafe &a x\nb: *a\n",
    "&a a: b\nc: *a\n",
    "a: b\n*a : c\n",
    "a: 0o17\nb: 0O17\nc: 0X1F\nd: 0B11\n",
    "a: 1__2\nb: 0_7\nc: 0b1_0\nd: 1_:30\n",
    "a: 1_2.3_4\nb: 1.e+3\nc: 1.5E-3\nd: 1:2:3.5\n",
    "a: 2001-12-14 21:59:43.1234567 +02\nb: 2001-12-14T21:59:43-00:30\n",
    "a: 2001-12-14 24:00:00\n",
    "a: 2001-12-14 21:59:43 +24\n",
];

/// Where kayobe-automation deliberately differs: tags it does not support are
/// errors (Ansible reads them, `!!binary` only to fail printing it as JSON).
#[test]
fn unsupported_tags_are_errors_with_their_location() {
    for text in [
        "a: !!binary aGVsbG8=\n",
        "a: !!set {b, c}\n",
        "a: !!omap [{b: 1}]\n",
        "a: !!pairs [{b: 1}]\n",
    ] {
        let error = parse(text, Path::new("f.yml")).expect_err(text);
        assert!(
            error.to_string().starts_with("f.yml:1:4: tag `!!"),
            "{error}"
        );
        assert!(error.to_string().contains("is not supported"), "{error}");
    }
}

#[test]
fn structures_mean_what_they_mean_to_ansible() {
    let documents: Vec<String> = STRUCTURES.iter().map(|s| (*s).to_owned()).collect();
    assert_matches_oracle(&documents);
}

#[test]
fn generated_documents_mean_what_they_mean_to_ansible() {
    let mut runner = TestRunner::new(proptest::test_runner::Config::default());
    let strategy = yaml_gen::document();
    // YAML_ORACLE_DOCUMENTS raises the count for a longer exploration.
    let count = std::env::var("YAML_ORACLE_DOCUMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let documents: Vec<String> = (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("a document is generated")
                .current()
        })
        .collect();
    // What the generated documents exercise (shown with --nocapture).
    for feature in [
        "<<:", "*a", " : ", "&k", "!unsafe", "!vault", "|\n", ">\n", ":\t", "? ", "{", "# ",
    ] {
        let count = documents.iter().filter(|d| d.contains(feature)).count();
        eprintln!("{count:5} documents contain {feature:?}");
    }
    assert_matches_oracle(&documents);
}

/// Vars files that are JSON, read as Ansible's `DataLoader` reads them.
const JSON_DOCUMENTS: &[&str] = &[
    "{\"a\": 1e3, \"b\": 1.5E+2, \"c\": \"yes\", \"d\": 010}",
    // (`-0` is left out: serde_json reads it as the float -0.0, Python as 0.)
    "{\"a\": 1e3, \"c\": 12345678901234567890123}",
    "{\"a\": {\"__ansible_vault\": \"$ANSIBLE_VAULT;1.1;AES256\\n6162\"}}",
    "{\"a\": {\"__ansible_unsafe\": \"{{ x }}\", \"dropped\": 1}}",
    "{\"a\": {\"__ansible_vault\": 1}}",
    "{\"a\": {\"__ansible_unsafe\": [1]}}",
    "{\"a\": 1, \"b\": 2, \"a\": 3}",
    "[1, 2.5, \"on\", null, true, {}]",
    "\"a string\"",
    "123",
    "1e3",
    "  {\"spaced\": true}  \n",
    "{\"a\": \"\\u00e9\\/\"}",
    "{\"a\": 1} trailing",
    "a: 1e3\n",
    "",
    "# comment only\n",
];

#[test]
fn json_vars_files_mean_what_they_mean_to_ansible() {
    let documents: Vec<String> = JSON_DOCUMENTS.iter().map(|s| (*s).to_owned()).collect();
    assert_reader_matches_oracle(Reader::Data, &documents);
    // YAML documents go through the same path unchanged.
    let mut yaml = tricky_documents();
    yaml.truncate(300);
    assert_reader_matches_oracle(Reader::Data, &yaml);
}

#[test]
fn example_repo_yaml_files_mean_what_they_mean_to_ansible() {
    let root = kayobe_automation_tests::example_repo().join("etc/kayobe");
    let mut documents = Vec::new();
    for entry in walkdir(&root) {
        if entry.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            documents.push(std::fs::read_to_string(&entry).expect("example file reads"));
        }
    }
    assert!(documents.len() > 5, "the example repo has YAML files");
    assert_matches_oracle(&documents);
    assert_reader_matches_oracle(Reader::Data, &documents);
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("directory reads") {
        let path = entry.expect("entry reads").path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}
