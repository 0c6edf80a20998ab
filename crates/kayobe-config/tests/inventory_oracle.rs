//! `Inventory::to_ansible_list` against `ansible-inventory --list` (the
//! oracle) on the example repository and on generated inventories.

use std::path::{Path, PathBuf};
use std::process::Command;

use kayobe_config::inventory::Inventory;
use proptest::prelude::*;

/// Runs `ansible-inventory -i S… --list` the way Kayobe runs Ansible, from an
/// empty directory (Ansible also reads `group_vars` next to the playbook
/// directory, which is the working directory here).
fn oracle(tool: &Path, sources: &[PathBuf]) -> serde_json::Value {
    match try_oracle(tool, sources) {
        Ok(json) => json,
        Err(stderr) => panic!("ansible-inventory failed on {sources:?}:\n{stderr}"),
    }
}

/// The oracle's JSON, or its error output when it cannot parse a source.
fn try_oracle(tool: &Path, sources: &[PathBuf]) -> Result<serde_json::Value, String> {
    let cwd = tempfile::tempdir().unwrap();
    let config = kayobe_automation_tests::example_repo().join("etc/kayobe/ansible.cfg");
    let mut command = Command::new(tool);
    for source in sources {
        command.arg("-i").arg(source);
    }
    let output = command
        .arg("--list")
        .current_dir(cwd.path())
        .env("ANSIBLE_CONFIG", config)
        .env("ANSIBLE_LOCALHOST_WARNING", "False")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
        .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "True")
        .output()
        .expect("ansible-inventory runs");
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&output.stdout).expect("ansible-inventory prints JSON"))
}

fn assert_same_as_oracle(tool: &Path, sources: &[PathBuf]) {
    let expected = oracle(tool, sources);
    let actual = Inventory::load(sources, None)
        .unwrap_or_else(|e| panic!("loading {sources:?}: {e}"))
        .to_ansible_list();
    pretty_assertions::assert_eq!(actual, expected, "sources {sources:?}");
}

#[test]
fn example_repository_matches_ansible_inventory() {
    let Some(tool) = kayobe_automation_tests::tool("ansible-inventory") else {
        return;
    };
    let kayobe = kayobe_automation_tests::example_repo().join("etc/kayobe");
    let base = kayobe.join("inventory");
    assert_same_as_oracle(&tool, std::slice::from_ref(&base));
    for environment in ["production", "staging"] {
        let overlay = kayobe
            .join("environments")
            .join(environment)
            .join("inventory");
        assert_same_as_oracle(&tool, &[base.clone(), overlay]);
    }
}

/// One generated INI file with its group_vars/host_vars directory.
#[derive(Debug, Clone)]
struct Source {
    ini: String,
    vars_files: Vec<(String, String)>,
    /// Pass the INI file itself to `-i` rather than its directory.
    as_file: bool,
}

const GROUPS: [&str; 5] = ["web", "db", "app-1", "lb_x", "edge"];
const KEYS: [&str; 5] = ["a", "b", "x_1", "ansible_user", "ansible_group_priority"];

fn host_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("solo1".to_owned()),
        Just("solo2:2222".to_owned()),
        Just("10.0.0.5".to_owned()),
        Just("ctl[01:03]".to_owned()),
        Just("n[1:9:4]".to_owned()),
        Just("s-[a:c]".to_owned()),
        Just("r[1:2]x[a:b]".to_owned()),
        Just("compute[08:11]".to_owned()),
    ]
}

/// Host line values as written (after the `=`), quoted for shlex.
fn host_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_owned()),
        Just("-5".to_owned()),
        Just("0x1f".to_owned()),
        Just("1.5".to_owned()),
        Just("True".to_owned()),
        Just("None".to_owned()),
        Just("0777".to_owned()),
        Just("\"two words\"".to_owned()),
        Just("'\"quoted\"'".to_owned()),
        Just("[1,'a']".to_owned()),
        Just("'[1, (2, 3)]'".to_owned()),
        Just("/usr/bin/python3".to_owned()),
        Just("a=b".to_owned()),
        Just("it\\'s".to_owned()),
        Just("\"{{ x }}\"".to_owned()),
    ]
}

/// `[g:vars]` values as written (after the `=`).
fn group_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_owned()),
        Just("'x'".to_owned()),
        Just("hello world".to_owned()),
        Just("[1, 'a', None]".to_owned()),
        Just("{'k': [1], 2: True}".to_owned()),
        Just("1 # comment".to_owned()),
        Just("1e3".to_owned()),
        Just("\"quoted\"".to_owned()),
        Just("a=b".to_owned()),
        Just("  spaced out  ".to_owned()),
        Just("1, 2".to_owned()),
        Just("u'\\x41\\n'".to_owned()),
    ]
}

fn yaml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_owned()),
        Just("yes".to_owned()),
        Just("\"{{ u }}\"".to_owned()),
        Just("[x, y]".to_owned()),
        Just("{n: 2, m: [1]}".to_owned()),
        Just("~".to_owned()),
        Just("0o17".to_owned()),
        Just("1.0e+3".to_owned()),
    ]
}

#[derive(Debug, Clone)]
enum Line {
    Host(String, Vec<(usize, String)>),
    Var(usize, String),
    Child(usize),
    Comment(&'static str),
}

fn section() -> impl Strategy<Value = (usize, u8, Vec<Line>)> {
    (0..GROUPS.len(), 0u8..3).prop_flat_map(|(group, kind)| {
        let line = match kind {
            0 => prop_oneof![
                4 => (host_pattern(), prop::collection::vec((0..4usize, host_value()), 0..3))
                    .prop_map(|(h, vars)| Line::Host(h, vars)),
                1 => Just(Line::Comment("# a comment")),
            ]
            .boxed(),
            1 => prop_oneof![
                4 => (group + 1..GROUPS.len() + 1).prop_map(Line::Child),
                1 => Just(Line::Comment("; a comment")),
            ]
            .boxed(),
            _ => (0..KEYS.len(), group_value())
                .prop_map(|(k, v)| {
                    if KEYS[k] == "ansible_group_priority" {
                        Line::Var(k, "3".to_owned())
                    } else {
                        Line::Var(k, v)
                    }
                })
                .boxed(),
        };
        (Just(group), Just(kind), prop::collection::vec(line, 0..4))
    })
}

fn render_ini(leading: &[(String, usize)], sections: &[(usize, u8, Vec<Line>)]) -> String {
    let mut text = String::from("# generated inventory\n\n");
    for (host, value) in leading {
        text.push_str(&format!("{host} a={value}\n"));
    }
    let mut declared = Vec::new();
    let mut needed = Vec::new();
    for (group, kind, lines) in sections {
        let name = GROUPS[*group];
        match kind {
            0 => {
                text.push_str(&format!("[{name}]\n"));
                declared.push(*group);
            }
            1 => {
                text.push_str(&format!("[{name}:children]   # kids\n"));
                declared.push(*group);
            }
            _ => {
                text.push_str(&format!("[{name}:vars]\n"));
                needed.push(*group);
            }
        }
        for line in lines {
            match line {
                Line::Host(host, vars) => {
                    text.push_str(host);
                    for (key, value) in vars {
                        text.push_str(&format!(" {}={value}", KEYS[*key % 4]));
                    }
                    text.push('\n');
                }
                Line::Var(key, value) => text.push_str(&format!("{} = {value}\n", KEYS[*key])),
                // Children only point "down" the pool, so there are no loops.
                Line::Child(child) => {
                    let child = (*child).min(GROUPS.len() - 1);
                    if child > *group {
                        text.push_str(&format!("  {}\n", GROUPS[child]));
                        needed.push(child);
                    }
                }
                Line::Comment(comment) => text.push_str(&format!("{comment}\n")),
            }
        }
        text.push('\n');
    }
    for group in needed {
        if !declared.contains(&group) {
            text.push_str(&format!("[{}]\n", GROUPS[group]));
            declared.push(group);
        }
    }
    text
}

fn vars_file() -> impl Strategy<Value = (String, String)> {
    let entity = prop_oneof![
        Just("group_vars/all".to_owned()),
        (0..GROUPS.len()).prop_map(|g| format!("group_vars/{}", GROUPS[g])),
        Just("host_vars/solo1".to_owned()),
        Just("host_vars/ctl02".to_owned()),
    ];
    let layout = prop_oneof![
        Just(""),
        Just(".yml"),
        Just(".json"),
        Just("/10-main.yml"),
        Just("/20-extra"),
        Just("/sub/30.yaml"),
    ];
    let body = prop::collection::vec((0..4usize, yaml_value()), 1..4);
    (entity, layout, body).prop_map(|(entity, layout, body)| {
        let path = format!("{entity}{layout}");
        let text = if layout == ".json" {
            let map: serde_json::Map<String, serde_json::Value> = body
                .iter()
                .map(|(k, _)| (KEYS[*k].to_owned(), serde_json::json!([*k, "j"])))
                .collect();
            serde_json::Value::Object(map).to_string()
        } else {
            let mut text = String::from("---\n");
            for (key, value) in body {
                text.push_str(&format!("{}: {value}\n", KEYS[key]));
            }
            text
        };
        (path, text)
    })
}

fn source() -> impl Strategy<Value = Source> {
    (
        prop::collection::vec((host_pattern(), 0..3usize), 0..2),
        prop::collection::vec(section(), 1..6),
        prop::collection::vec(vars_file(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(leading, sections, vars_files, as_file)| {
            let leading: Vec<(String, usize)> = leading;
            let simple = ["1", "'q'", "x"];
            let leading: Vec<(String, &str)> =
                leading.into_iter().map(|(h, v)| (h, simple[v])).collect();
            let mut text = String::from("# generated inventory\n\n");
            for (host, value) in &leading {
                text.push_str(&format!("{host} a={value}\n"));
            }
            let body = render_ini(&[], &sections);
            text.push_str(body.trim_start_matches("# generated inventory\n\n"));
            Source {
                ini: text,
                vars_files,
                as_file,
            }
        })
}

/// Writes each source to its own directory; returns the `-i` arguments.
fn write_sources(root: &Path, sources: &[Source]) -> Vec<PathBuf> {
    let mut args = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let dir = root.join(format!("source{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts"), &source.ini).unwrap();
        for (path, text) in &source.vars_files {
            let path = dir.join(path);
            // A name used both as a file and a directory: keep the first.
            if path.ancestors().skip(1).any(|a| a.is_file()) || path.is_dir() {
                continue;
            }
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        args.push(if source.as_file {
            dir.join("hosts")
        } else {
            dir
        });
    }
    args
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn generated_inventories_match_ansible_inventory(
        sources in prop::collection::vec(source(), 1..3)
    ) {
        let Some(tool) = kayobe_automation_tests::tool("ansible-inventory") else {
            return Ok(());
        };
        let root = tempfile::tempdir().unwrap();
        let args = write_sources(root.path(), &sources);
        assert_same_as_oracle(&tool, &args);
    }
}

/// Corners of Ansible's INI reading, each checked against the oracle: a list
/// of sources, each a list of (relative path, content) files.
const EDGE_CASES: &[&[&[(&str, &str)]]] = &[
    // A host named like a group gives its line variables to the group.
    &[&[("hosts", "[g]\ng a=1\nh\n[g:vars]\nb=2\n")]],
    // `:vars` and `:children` before the groups they name are declared.
    &[&[(
        "hosts",
        "[p:vars]\nx=1\n[p:children]\nc\n[gp:children]\np\n[c]\nh1:22\nh1:33 y=2\n[p]\n",
    )]],
    // `all`, `ungrouped` and hosts in both; port 0 is no port.
    &[&[(
        "hosts",
        "u1\nu2:0\n[all]\na1\n[ungrouped]\nu3\n[web]\nu2\n[all:vars]\nz=all\n",
    )]],
    // Priorities reorder same-depth groups; internal and fact names.
    &[&[(
        "hosts",
        "[a]\nh\n[b]\nh\n[a:vars]\nv=a\nansible_group_priority=10\n[b:vars]\nv=b\n\
         group_names=x\nansible_local=5\ninventory_file=f\n",
    )]],
    // Python literal values.
    &[&[
        (
            "hosts",
            "[hosts]\nh t=1,2 d=\"{'x': 1}\" f=1e5 o=0o17 u=u'x' b=b'x' e=... n=1_000 c='a'\"'b'\" \
         s=set() z=-0.0 p=(1) j=1j k=-1+2j q=[1,[2,{3:None}]] r=0777 w='x y'\n",
        ),
        (
            "more",
            "[h2]\nh2\n[h2:vars]\nk1 = 'quoted' # c\nk2 = 1 # c\nk3 = raw # c\nk4=\nk5 = a = b\n",
        ),
    ]],
    // A second source adds hosts and children to groups of the first.
    &[
        &[
            ("hosts", "[web]\nw1\n[db]\nd1\n"),
            ("group_vars/web.yml", "x: 1\n"),
        ],
        &[
            ("hosts", "[web]\nw2\n[all-servers:children]\nweb\ndb\n"),
            ("group_vars/web", "x: 2\ny: 2\n"),
        ],
    ],
    // Directory sources: ignored names, subdirectories, vars directories.
    &[&[
        ("hosts", "[web]\nw1\n"),
        ("README.md", "[nope]\nx\n"),
        ("site.cfg", "[nope]\nx\n"),
        (".hidden", "[nope]\nx\n"),
        ("sub/more", "[web]\nw2\n[db]\nd1\n"),
        ("sub/group_vars/db.yml", "never: read\n"),
        ("group_vars/web/a.yml", "a: 1\nb: 1\n"),
        ("group_vars/web/b", "b: 2\n"),
        ("group_vars/web/c.txt", "c: 3\n"),
        ("group_vars/web/.d.yml", "d: 4\n"),
        ("group_vars/web/e.yml~", "e: 5\n"),
        ("group_vars/web/f.d/g.yml", "f: 6\n"),
        ("group_vars/web/h/i.yml", "h: 7\n"),
        (
            "group_vars/all.json",
            "{\"j\": {\"__ansible_vault\": \"$ANSIBLE_VAULT;1.1;AES256\\n61\"}}",
        ),
        (
            "host_vars/w2.yaml",
            "u: !unsafe '{{ x }}'\nl: [!unsafe '{{ y }}']\n\
             v: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n  6364\n",
        ),
        ("host_vars/w1.yml", ""),
        ("host_vars/d1", "---\n# only a comment\n"),
    ]],
];

#[test]
fn edge_cases_match_ansible_inventory() {
    let Some(tool) = kayobe_automation_tests::tool("ansible-inventory") else {
        return;
    };
    for sources in EDGE_CASES {
        let root = tempfile::tempdir().unwrap();
        let mut args = Vec::new();
        for (index, files) in sources.iter().enumerate() {
            let dir = root.path().join(format!("source{index}"));
            for (path, text) in *files {
                let path = dir.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            args.push(dir);
        }
        assert_same_as_oracle(&tool, &args);
    }
}

/// Lines, valid and not, that INI inventories are made of.
const LINES: &[&str] = &[
    "[web]",
    "[web:children]",
    "[web:vars]",
    "[db]",
    "[db:children]",
    "[all:vars]",
    "h1",
    "h2:22 a=1",
    "db",
    "web",
    "x=1",
    "y = 'a b' # c",
    "# comment",
    "; comment",
    "h[1:3] b=[1,2]",
    "h[1:x]",
    "h:",
    "[a b]",
    "[g:foo]",
    "h a",
    "h a='x",
    "x",
    "---",
    "h[01:5]",
    "[web]]",
    "h[3:1]",
    "a=1 b",
    "=1",
    "h =1",
    "h[a:c:2]",
    "h[]",
    "[:vars]",
    "db # c",
    "db extra",
    "ansible_group_priority=x",
    "ansible_group_priority=2",
    "  indented a=\"1 2\"",
    "h\\",
    "[web:children] # c",
    "h[1:2]:x",
    "localhost",
    "::1",
    "[fe80::1]:22",
    "10.0.0.[1:2]",
    "h d={[1]:2}",
    "x={(1,2):3}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever the lines, we accept exactly what Ansible accepts (it fails
    /// too when told any unparsed source is fatal), and print the same.
    #[test]
    fn line_soup_is_accepted_and_rejected_like_ansible(
        lines in prop::collection::vec(prop::sample::select(LINES), 1..8)
    ) {
        let Some(tool) = kayobe_automation_tests::tool("ansible-inventory") else {
            return Ok(());
        };
        let root = tempfile::tempdir().unwrap();
        // A header first keeps Ansible's YAML plugin from taking the file.
        let text = format!("[start]\n{}\n", lines.join("\n"));
        std::fs::write(root.path().join("hosts"), &text).unwrap();
        let sources = [root.path().join("hosts")];
        let ours = Inventory::load(&sources, None);
        match (ours, try_oracle(&tool, &sources)) {
            (Ok(ours), Ok(expected)) => prop_assert_eq!(ours.to_ansible_list(), expected),
            (Err(_), Err(_)) => {}
            (Ok(_), Err(stderr)) => prop_assert!(false, "we accept what Ansible rejects:\n{}\n{}", text, stderr),
            (Err(error), Ok(_)) => prop_assert!(false, "we reject what Ansible accepts:\n{}\n{}", text, error),
        }
    }
}
