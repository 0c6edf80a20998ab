//! The CLI on real operators' configurations: revisions sampled from the
//! whole history of `alaska-kayobe-config` and of upstream `kayobe-config`
//! (`../shared/conformance/configs/`), each read with Ansible and git as
//! oracles:
//!
//! - `inventory list` equals `ansible-inventory --list`, run with the
//!   `ansible.cfg` Kayobe would export;
//! - `vault find` lists exactly the files that start with `$ANSIBLE_VAULT;`;
//! - `config-diff` between a revision and its parent exits 0 or 1 and
//!   reports exactly the files `git diff` names and the variables that
//!   differ host by host as Ansible loads them (`corpus/expected_changes.py`:
//!   ansible-inventory's host variables, then the extra-vars files through
//!   Ansible's own loader).
//!
//! The real vault password is not public: every vaulted file is replaced by
//! one encrypted with a test password, whose plaintext changes exactly when
//! the original's ciphertext does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use kayobe_automation::config::vault::{self, VaultSecret};
use kayobe_automation_tests::{conformance, git, git_init, tool};
use pretty_assertions::assert_eq;
use serde_json::Value;

const PASSWORD: &str = "corpus-test-vault-password";
const CONFIG: &str = "etc/kayobe";
const VAULT_HEADER: &[u8] = b"$ANSIBLE_VAULT;";

/// One configuration's history and how many of its changes to sample.
struct Corpus {
    bundle: &'static str,
    samples: usize,
}

const CORPORA: [Corpus; 2] = [
    Corpus {
        bundle: "configs/alaska-kayobe-config.bundle",
        samples: 50,
    },
    Corpus {
        bundle: "configs/kayobe-config.bundle",
        samples: 4,
    },
];

/// A sampled change: a commit of the first-parent history and its parent.
struct Pair {
    base: String,
    target: String,
}

/// The tools the oracles need.
struct Oracles {
    ansible_inventory: PathBuf,
    python: PathBuf,
}

#[test]
fn sampled_history_reads_as_ansible_and_git_do() {
    let Some(ansible_inventory) = tool("ansible-inventory") else {
        return;
    };
    let oracles = Oracles {
        python: ansible_inventory.with_file_name("python"),
        ansible_inventory,
    };
    let mut total = Sampled::default();
    for corpus in CORPORA {
        let Some(bundle) = conformance(corpus.bundle) else {
            return;
        };
        let sampled = check_corpus(&bundle, corpus.samples, &oracles);
        total.changes += sampled.changes;
        total.with_variables += sampled.with_variables;
        total.with_files += sampled.with_files;
        total.with_secrets += sampled.with_secrets;
    }
    // The sample must exercise every part of the comparison.
    assert!(
        total.changes >= 54
            && total.with_variables >= 20
            && total.with_files >= 10
            && total.with_secrets >= 2,
        "too little sampled: {total:?}"
    );
}

/// Checks `samples` changes of `bundle`'s history.
fn check_corpus(bundle: &Path, samples: usize, oracles: &Oracles) -> Sampled {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let status = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "clone",
            "-q",
            "--no-checkout",
        ])
        .arg(bundle)
        .arg(&source)
        .status()
        .unwrap();
    assert!(status.success(), "cannot clone {}", bundle.display());
    let pairs = sample(&source, samples);
    let revisions: BTreeSet<&str> = pairs
        .iter()
        .flat_map(|pair| [pair.base.as_str(), pair.target.as_str()])
        .collect();

    let password = dir.path().join("vault-password");
    std::fs::write(&password, PASSWORD).unwrap();
    let rewriter = Rewriter::default();
    let trees = dir.path().join("trees");
    let inventories = dir.path().join("inventories");
    std::fs::create_dir_all(&inventories).unwrap();
    in_parallel(revisions.iter().copied(), |revision| {
        let tree = trees.join(revision);
        export(&source, revision, &tree);
        rewriter.reencrypt_vaulted(&tree);
        let inventory = check_inventory_list(&tree, oracles, revision);
        std::fs::write(inventories.join(revision), inventory.to_string()).unwrap();
        check_vault_find(&tree, revision);
    });

    // A repository holding each change as a parent and child commit, so
    // config-diff reads the rewritten revisions.
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git_init(&repo);
    for (index, pair) in pairs.iter().enumerate() {
        for (side, revision) in [("base", &pair.base), ("target", &pair.target)] {
            let tree = trees.join(revision);
            git(&repo, &["--work-tree", tree.to_str().unwrap(), "add", "-A"]);
            git(
                &repo,
                &[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    &format!("{side} {revision}"),
                ],
            );
            git(&repo, &["tag", &format!("{side}-{index}")]);
        }
    }
    git(&repo, &["reset", "-q", "--hard"]);

    let expected = expected_changes(oracles, &password, &pairs, &trees, &inventories);
    let reported = Mutex::new(BTreeMap::new());
    in_parallel(0..pairs.len(), |index| {
        let diff = config_diff(&repo, &password, index);
        reported.lock().unwrap().insert(index, diff);
    });
    let reported = reported.into_inner().unwrap();
    for (index, pair) in pairs.iter().enumerate() {
        let diff = &reported[&index];
        let name = format!("{} -> {}", pair.base, pair.target);
        let files = changed_files(&repo, index);
        assert_eq!(
            diff.files, files,
            "{name}: config-diff's files are not git diff's"
        );
        assert_eq!(
            diff.hosts, expected[index],
            "{name}: config-diff's variables are not Ansible's"
        );
    }
    Sampled {
        changes: pairs.len(),
        with_variables: reported.values().filter(|d| !d.hosts.is_empty()).count(),
        with_files: reported.values().filter(|d| !d.files.is_empty()).count(),
        with_secrets: reported
            .values()
            .filter(|d| {
                d.hosts
                    .values()
                    .flatten()
                    .any(|name| name.starts_with("corpus_vaulted_"))
            })
            .count(),
    }
}

/// How many sampled changes there were, and how many changed what.
#[derive(Debug, Default)]
struct Sampled {
    changes: usize,
    with_variables: usize,
    with_files: usize,
    with_secrets: usize,
}

/// `count` commits of the first-parent history that change the
/// configuration directory, evenly spaced from the first to the tip, each
/// with its first parent.
fn sample(source: &Path, count: usize) -> Vec<Pair> {
    let log = git(
        source,
        &[
            "log",
            "--first-parent",
            "--format=%H %P",
            "HEAD",
            "--",
            CONFIG,
        ],
    );
    let changes: Vec<Pair> = log
        .lines()
        .filter_map(|line| {
            let mut ids = line.split(' ');
            let target = ids.next()?.to_owned();
            let base = ids.next().filter(|id| !id.is_empty())?.to_owned();
            Some(Pair { base, target })
        })
        .collect();
    assert!(changes.len() >= count, "{} changes only", changes.len());
    (0..count)
        .map(|i| i * (changes.len() - 1) / (count - 1).max(1))
        .map(|i| Pair {
            base: changes[i].base.clone(),
            target: changes[i].target.clone(),
        })
        .collect()
}

/// Writes `revision`'s tree into `to` (`git archive`, so nothing of git's
/// own is there).
fn export(source: &Path, revision: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(source)
        .args(["archive", "--format=tar", revision])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(to)
        .stdin(archive.stdout.take().unwrap())
        .status()
        .unwrap();
    assert!(status.success() && archive.wait().unwrap().success());
}

/// Replaces vaulted files with ones encrypted with the test password. The
/// same original gives the same replacement, byte for byte, so an unchanged
/// file stays unchanged between revisions.
#[derive(Default)]
struct Rewriter {
    replacements: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl Rewriter {
    fn reencrypt_vaulted(&self, tree: &Path) {
        for path in vaulted_files(tree) {
            let original = std::fs::read(&path).unwrap();
            let mut replacements = self.replacements.lock().unwrap();
            let version = replacements.len();
            let replacement = replacements.entry(original).or_insert_with(|| {
                let plaintext = if is_vars_file(&path) {
                    format!("corpus_vaulted_{version}: version-{version}\n")
                } else {
                    format!("corpus vaulted file, version {version}\n")
                };
                let secret = VaultSecret::new(PASSWORD.as_bytes().to_vec());
                vault::encrypt(plaintext.as_bytes(), &secret, None)
                    .unwrap()
                    .into_bytes()
            });
            std::fs::write(&path, &replacement).unwrap();
        }
    }
}

fn is_vars_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension == "yml" || extension == "yaml")
}

/// The files under the configuration directory of `tree` that start with
/// the vault header, relative to `tree`, sorted: the oracle of `vault find`.
fn vaulted_files(tree: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![tree.join(CONFIG)];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                todo.push(entry.path());
            } else if kind.is_file()
                && std::fs::read(entry.path())
                    .unwrap()
                    .starts_with(VAULT_HEADER)
            {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// The CLI, in `cwd` with a clean environment (PATH, and an empty HOME so
/// no `~/.ansible.cfg` is read).
fn ours(cwd: &Path, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .args(args)
        .output()
        .unwrap()
}

fn success(output: &std::process::Output, what: &str) -> Vec<u8> {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout.clone()
}

/// `inventory list` of the revision in `tree` against `ansible-inventory`
/// on its inventory with the `ansible.cfg` Kayobe exports (the
/// configuration's when it has one), both in the repository root; returns
/// the oracle's JSON.
fn check_inventory_list(tree: &Path, oracles: &Oracles, revision: &str) -> Value {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(&oracles.ansible_inventory);
    command
        .current_dir(tree)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("ANSIBLE_LOCALHOST_WARNING", "False")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
        .arg("-i")
        .arg(tree.join(CONFIG).join("inventory"))
        .arg("--list");
    let kayobe_cfg = tree.join(CONFIG).join("ansible.cfg");
    if kayobe_cfg.is_file() {
        command.env("ANSIBLE_CONFIG", &kayobe_cfg);
    }
    let theirs: Value = serde_json::from_slice(&success(
        &command.output().unwrap(),
        &format!("ansible-inventory at {revision}"),
    ))
    .unwrap();
    let ours: Value = serde_json::from_slice(&success(
        &ours(tree, &["inventory", "list"]),
        &format!("inventory list at {revision}"),
    ))
    .unwrap();
    assert_eq!(ours, theirs, "inventory list at {revision}");
    theirs
}

fn check_vault_find(tree: &Path, revision: &str) {
    let listed = success(
        &ours(tree, &["vault", "find"]),
        &format!("vault find at {revision}"),
    );
    let mut listed: Vec<PathBuf> = String::from_utf8(listed)
        .unwrap()
        .lines()
        .map(|line| tree.join(line))
        .collect();
    listed.sort();
    assert_eq!(listed, vaulted_files(tree), "vault find at {revision}");
}

/// What config-diff reported: the changed files of the configuration
/// directory, and each changed host's top-level variable names.
#[derive(Debug)]
struct Reported {
    files: BTreeSet<String>,
    hosts: BTreeMap<String, Vec<String>>,
}

fn config_diff(repo: &Path, password: &Path, index: usize) -> Reported {
    let output = ours(
        repo,
        &[
            "--vault-password-file",
            password.to_str().unwrap(),
            "config-diff",
            "--base",
            &format!("base-{index}"),
            "--target",
            &format!("target-{index}"),
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    // The re-encrypted secrets' plaintexts are `version-N`.
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("version-")
            && !stderr.contains("version-"),
        "change {index}: a secret shows in config-diff's output"
    );
    assert!(
        matches!(code, Some(0 | 1)),
        "config-diff of change {index} exited {code:?}: {stderr}"
    );
    if output.stdout.is_empty() {
        assert_eq!(code, Some(0), "change {index}: no report, yet exit 1");
        return Reported {
            files: BTreeSet::new(),
            hosts: BTreeMap::new(),
        };
    }
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let files: BTreeSet<String> = json["files"].as_object().unwrap().keys().cloned().collect();
    let hosts: BTreeMap<String, Vec<String>> = json["hosts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(host, diff)| {
            let names: BTreeSet<String> = ["added", "removed", "changed"]
                .iter()
                .flat_map(|kind| diff[kind].as_object().unwrap().keys())
                .map(|path| top_level(path))
                .collect();
            (host.clone(), names.into_iter().collect())
        })
        .collect();
    let changed = !files.is_empty() || !hosts.is_empty();
    assert_eq!(
        code,
        Some(i32::from(changed)),
        "change {index}: exit status against the report"
    );
    Reported { files, hosts }
}

/// The variable a key path such as `a.b` or `"a.b".c` starts with.
fn top_level(path: &str) -> String {
    if path.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(path).into_iter::<String>();
        stream.next().unwrap().unwrap()
    } else {
        path.split('.').next().unwrap().to_owned()
    }
}

/// The files of the configuration directory `git diff` names for change
/// `index`, without those config-diff reads as variables (extra-vars files
/// and the inventory), relative to the configuration directory.
fn changed_files(repo: &Path, index: usize) -> BTreeSet<String> {
    let names = git(
        repo,
        &[
            "diff",
            "--no-renames",
            "--name-only",
            &format!("base-{index}"),
            &format!("target-{index}"),
            "--",
            CONFIG,
        ],
    );
    names
        .lines()
        .map(|name| name.strip_prefix("etc/kayobe/").unwrap().to_owned())
        .filter(|name| {
            let extra_vars = !name.contains('/')
                && [".yml", ".yaml", ".json"]
                    .iter()
                    .any(|extension| name.ends_with(extension));
            !extra_vars && !name.starts_with("inventory/")
        })
        .collect()
}

/// The oracle's changed variables per host, one map per pair.
fn expected_changes(
    oracles: &Oracles,
    password: &Path,
    pairs: &[Pair],
    trees: &Path,
    inventories: &Path,
) -> Vec<BTreeMap<String, Vec<String>>> {
    let side = |revision: &str| {
        serde_json::json!({
            "inventory": inventories.join(revision),
            "config": trees.join(revision).join(CONFIG),
        })
    };
    let manifest = serde_json::json!({
        "password_file": password,
        "pairs": pairs
            .iter()
            .map(|pair| serde_json::json!({"base": side(&pair.base), "target": side(&pair.target)}))
            .collect::<Vec<_>>(),
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/expected_changes.py");
    let mut child = Command::new(&oracles.python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifest.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    serde_json::from_slice(&success(&output, "the Python oracle")).unwrap()
}

/// Runs `work` on every item, on as many threads as there are cores.
fn in_parallel<T: Send>(items: impl IntoIterator<Item = T>, work: impl Fn(T) + Sync) {
    let queue = Mutex::new(items.into_iter().collect::<Vec<T>>());
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let Some(item) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    work(item);
                }
            });
        }
    });
}
