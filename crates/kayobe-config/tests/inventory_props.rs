//! Properties of the INI inventory parser and host range expansion, and the
//! errors malformed inventories give.

use std::path::{Path, PathBuf};

use kayobe_config::inventory::{Inventory, InventoryError, expand_hostname_range, parse_ini};
use proptest::prelude::*;

/// Text made of the characters INI inventories are built from, so the
/// parser's interesting paths are reached often.
fn ini_like_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(":".to_owned()),
            Just("=".to_owned()),
            Just("\n".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("#".to_owned()),
            Just(";".to_owned()),
            Just("\\".to_owned()),
            Just(" ".to_owned()),
            Just("children".to_owned()),
            Just("vars".to_owned()),
            Just("1".to_owned()),
            Just("0".to_owned()),
            Just("a".to_owned()),
            Just("{".to_owned()),
            Just("(".to_owned()),
            Just(",".to_owned()),
            Just("j".to_owned()),
            "\\PC{0,3}",
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(text in "\\PC{0,200}") {
        let _ = parse_ini(&text, Path::new("fuzz"));
    }

    #[test]
    fn parse_never_panics_on_ini_like_text(text in ini_like_text()) {
        let _ = parse_ini(&text, Path::new("fuzz"));
    }

    #[test]
    fn syntax_errors_point_inside_the_text(text in ini_like_text()) {
        if let Err(error) = parse_ini(&text, Path::new("f")) {
            let location = error.location().expect("syntax errors have a location");
            prop_assert_eq!(location.path.as_path(), Path::new("f"));
            prop_assert!(location.line >= 1 && location.column >= 1);
            let prefix = format!("f:{}:{}:", location.line, location.column);
            let message = error.to_string();
            prop_assert!(message.starts_with(&prefix), "{} does not start with {}", message, prefix);
        }
    }
}

proptest! {
    #[test]
    fn numeric_ranges_count_and_order(head in "[a-z]{1,5}", tail in "[a-z.-]{0,4}", begin in 0u32..500, len in 0u32..50, step in 1u32..7) {
        let end = begin + len;
        let hosts = expand_hostname_range(&format!("{head}[{begin}:{end}:{step}]{tail}")).unwrap();
        let expected: Vec<String> = (begin..=end).step_by(step as usize).map(|n| format!("{head}{n}{tail}")).collect();
        prop_assert_eq!(hosts, expected);
    }

    #[test]
    fn zero_padded_ranges_keep_their_width(begin in 0u32..100, len in 0u32..100) {
        let end = begin + len;
        let width = end.to_string().len() + 1;
        let pattern = format!("n[{begin:0width$}:{end:0width$}]");
        let hosts = expand_hostname_range(&pattern).unwrap();
        prop_assert_eq!(hosts.len() as u32, len + 1);
        prop_assert!(hosts.iter().all(|h| h.len() == width + 1));
        prop_assert_eq!(&hosts[0], &format!("n{begin:0width$}"));
    }

    #[test]
    fn letter_ranges_follow_ascii_letters(first in 0usize..52, len in 0usize..52) {
        const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let last = (first + len).min(51);
        let (a, b) = (&LETTERS[first..=first], &LETTERS[last..=last]);
        let hosts = expand_hostname_range(&format!("x[{a}:{b}]")).unwrap();
        let expected: Vec<String> = LETTERS[first..=last].chars().map(|c| format!("x{c}")).collect();
        prop_assert_eq!(hosts, expected);
    }

    #[test]
    fn two_ranges_multiply(a in 1u32..6, b in 1u32..6) {
        let hosts = expand_hostname_range(&format!("r[1:{a}]-[1:{b}]")).unwrap();
        prop_assert_eq!(hosts.len() as u32, a * b);
        prop_assert_eq!(hosts.last().unwrap(), &format!("r{a}-{b}"));
    }
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn load_error(files: &[(&str, &[u8])]) -> (PathBuf, InventoryError) {
    let dir = tempfile::tempdir().unwrap().keep();
    for (name, text) in files {
        write(&dir, name, text);
    }
    let error = Inventory::load(std::slice::from_ref(&dir), None).unwrap_err();
    (dir, error)
}

#[test]
fn malformed_inventories_name_file_line_and_column() {
    let cases: [(&[u8], usize, usize, &str); 9] = [
        (b"[web]\nh1\n  h2 user='root\n", 3, 11, "never closed"),
        (b"[web]\nh1 user\n", 2, 4, "key=value"),
        (b"[web:hosts]\n[web:servers]\n", 2, 1, "unknown type"),
        (b"[web servers]\n", 1, 1, "invalid section header"),
        (b"[web]\nh[3:1:x]\n", 2, 1, "host range"),
        (b"# x\n[db:vars]\na=1\n", 2, 1, "undefined group `db`"),
        (b"[all:children]\n\nweb\n", 3, 1, "undefined group `web`"),
        (b"[a:children]\nb\n[b:children]\na\n", 4, 1, "loop"),
        (
            b"[a:vars]\nansible_group_priority=high\n[a]\n",
            2,
            1,
            "must be an integer",
        ),
    ];
    for (text, line, column, needle) in cases {
        let (dir, error) = load_error(&[("hosts", text)]);
        let message = error.to_string();
        let expected = format!("{}:{line}:{column}: ", dir.join("hosts").display());
        assert!(
            message.starts_with(&expected),
            "{message:?} should start with {expected:?}"
        );
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle:?}"
        );
    }
}

#[test]
fn non_utf8_is_allowed_only_in_comment_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hosts", b"# caf\xe9\n[web]\nh1\n");
    let inventory = Inventory::load(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(inventory.group_hosts("web").unwrap(), ["h1"]);

    let (_, error) = load_error(&[("hosts", b"[web]\nh\xe91\n")]);
    assert_eq!(error.location().map(|l| (l.line, l.column)), Some((2, 2)));
}

#[test]
fn unsupported_and_missing_sources_are_errors() {
    let (_, error) = load_error(&[("hosts.yml", b"all: {}\n")]);
    assert!(
        matches!(error, InventoryError::UnsupportedFormat { .. }),
        "{error}"
    );
    let missing = Inventory::load(&[PathBuf::from("/nonexistent/inventory")], None).unwrap_err();
    assert!(
        matches!(missing, InventoryError::SourceNotFound { .. }),
        "{missing}"
    );
}

#[test]
fn ini_that_ansible_reads_as_yaml_is_an_error() {
    let (_, error) = load_error(&[("hosts", b"h1 d=\"{'x': 1}\"\n")]);
    assert!(
        matches!(error, InventoryError::ReadAsYaml { .. }),
        "{error}"
    );
    // With a header first the YAML reading fails and the INI one is used.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hosts", b"[web]\nh1 d=\"{'x': 1}\"\n");
    let inventory = Inventory::load(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(inventory.group_hosts("web").unwrap(), ["h1"]);
}

#[test]
fn bad_vars_files_name_the_file() {
    let (dir, error) = load_error(&[
        ("hosts", b"[web]\nh1\n"),
        ("group_vars/web.yml", b"a: [1,\n"),
    ]);
    assert!(
        error
            .to_string()
            .starts_with(&dir.join("group_vars/web.yml").display().to_string())
    );
    assert!(error.location().is_some());

    let (_, error) = load_error(&[("hosts", b"[web]\nh1\n"), ("host_vars/h1", b"- 1\n")]);
    assert!(
        matches!(error, InventoryError::VarsNotMapping { .. }),
        "{error}"
    );
}

#[test]
fn accessors_follow_ansible() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hosts",
        b"lonely\n[top:children]\nmid\n[mid:children]\nleaf\n[mid]\nm1\n[leaf]\nl1 x=host\n[top]\nt1\n\
          [leaf:vars]\nx=leaf\ny=leaf\n[top:vars]\ny=top\nz=top\n[all:vars]\nz=all\nw=all\n",
    );
    write(
        dir.path(),
        "group_vars/all.yml",
        b"w: all-file\nz: all-file\n",
    );
    write(dir.path(), "host_vars/l1/main.yml", b"v: 1\n");
    let inventory = Inventory::load(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(inventory.group_hosts("top").unwrap(), ["t1", "m1", "l1"]);
    assert_eq!(inventory.group_hosts("ungrouped").unwrap(), ["lonely"]);
    assert_eq!(inventory.host_groups("l1").unwrap(), ["leaf", "mid", "top"]);
    let vars = inventory.host_vars("l1").unwrap();
    // Deeper groups win over their parents; inline group vars lose to
    // group_vars/all; host vars win over everything.
    assert_eq!(vars["x"], "host".into());
    assert_eq!(vars["y"], "leaf".into());
    assert_eq!(vars["z"], "all-file".into());
    assert_eq!(vars["w"], "all-file".into());
    assert_eq!(vars["v"], kayobe_config::Value::Int(1));
    assert!(inventory.host_vars("nope").is_none());
}
