//! Hostile and careless inputs (issue 17), through the CLI: a revision
//! cannot make `config-diff` read the runner's files or exhaust it, and no
//! command loses or misplaces data. Every test works inside its own
//! temporary directory; the special files are FIFOs and devices it makes
//! there.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation_tests::{commit, copy_dir, example_repo, git_init};

/// What a file outside the repository holds: it must never be printed.
const HOST_SECRET: &str = "host_only_secret: runner-shadow-line-4e1f";

fn cli(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(dir)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env_remove("KAYOBE_VAULT_PASSWORD_FILE")
        .env("KAYOBE_ENVIRONMENT", "production");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn config_diff(repo: &Path, args: &[&str]) -> Output {
    cli(repo)
        .args(["--vault-password-file", ".vault-password", "config-diff"])
        .args(args)
        .output()
        .unwrap()
}

/// The example repository committed as `base` in `dir/repo`.
fn example_history(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).unwrap();
    copy_dir(&example_repo(), &repo);
    git_init(&repo);
    commit(&repo, "base");
    repo
}

/// Item 1: links out of a revision are shown as links, never read.
#[test]
fn config_diff_never_follows_a_link_out_of_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("host-secret.yml");
    std::fs::write(&outside, format!("{HOST_SECRET}\n")).unwrap();
    let repo = example_history(dir.path());
    let controllers = repo.join("etc/kayobe/inventory/group_vars/controllers");
    // An absolute link, a relative one climbing out, one through another
    // link, and one inside the revision (which is read, as Ansible reads it).
    symlink(&outside, controllers.join("absolute")).unwrap();
    symlink(
        "../../../../../../host-secret.yml",
        controllers.join("relative"),
    )
    .unwrap();
    symlink("../../..", repo.join("etc/kayobe/up")).unwrap();
    symlink("../../../up/host-secret.yml", controllers.join("through")).unwrap();
    std::fs::write(repo.join("shared.yml"), "linked_inside: 42\n").unwrap();
    symlink("../../../../../shared.yml", controllers.join("inside")).unwrap();
    // A top-level extra-vars file and a kolla file too.
    symlink(&outside, repo.join("etc/kayobe/stolen.yml")).unwrap();
    symlink(&outside, repo.join("etc/kayobe/kolla/config/stolen.json")).unwrap();
    commit(&repo, "hostile");

    for format in ["text", "json", "html"] {
        let output = config_diff(
            &repo,
            &["--base", "base", "--target", "hostile", "--format", format],
        );
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            !stdout.contains("runner-shadow") && !stderr.contains("runner-shadow"),
            "{stdout}{stderr}"
        );
        assert!(stdout.contains("linked_inside"), "{stdout}");
        for link in [
            "controllers/absolute",
            "controllers/relative",
            "controllers/through",
            "etc/kayobe/stolen.yml",
        ] {
            assert!(
                stderr
                    .lines()
                    .any(|line| line.contains(link) && line.contains(" -> ")),
                "no warning about {link}: {stderr}"
            );
        }
        // The kolla file is in the file diff, as a link.
        assert!(stdout.contains("symlink to"), "{stdout}");
    }
}

/// Runs `command`, failing the test if it takes longer than `seconds`.
fn within(seconds: u64, command: &mut Command) -> Output {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output().unwrap()));
    match wait.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(output) => output,
        Err(_) => {
            // Only the child this test started.
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            panic!("still running after {seconds} s");
        }
    }
}

/// Item 5: a YAML alias bomb in `group_vars` is a located error naming the
/// limit, in moments and little memory.
#[test]
fn a_yaml_alias_bomb_is_refused_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_history(dir.path());
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let aliases = vec![format!("*{previous}"); 9].join(",");
        bomb.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    assert!(bomb.len() < 600);
    std::fs::write(
        repo.join("etc/kayobe/inventory/group_vars/controllers/bomb.yml"),
        bomb,
    )
    .unwrap();
    commit(&repo, "bomb");
    let output = within(
        60,
        cli(&repo).args([
            "--vault-password-file",
            ".vault-password",
            "config-diff",
            "--base",
            "base",
            "--target",
            "bomb",
        ]),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("controllers/bomb.yml:"), "{stderr}");
    assert!(
        stderr.contains("KAYOBE_AUTOMATION_YAML_ALIAS_BUDGET_MIB"),
        "{stderr}"
    );
}

/// Item 5: host ranges are bounded per file and per inventory.
#[test]
fn host_ranges_are_bounded_per_file_and_per_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory");
    std::fs::create_dir(&inventory).unwrap();
    // Ten 150-byte-ish lines of a million names each: one file.
    let lines: String = (0..10)
        .map(|i| format!("[g{i}]\nh{i}[0:999999]\n"))
        .collect();
    std::fs::write(inventory.join("hosts"), lines).unwrap();
    let list = |extra: &[(&str, &str)]| {
        let mut command = cli(dir.path());
        command.args(["inventory", "list", "--inventory", "inventory"]);
        for (name, value) in extra {
            command.env(name, value);
        }
        within(60, &mut command)
    };
    let output = list(&[]);
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("hosts:2:"), "{stderr}");
    assert!(
        stderr.contains("KAYOBE_AUTOMATION_MAX_HOSTS_PER_FILE"),
        "{stderr}"
    );

    // Files each within their budget, together over the inventory's.
    std::fs::write(inventory.join("hosts"), "[a]\na[0:799]\n").unwrap();
    std::fs::write(inventory.join("more"), "[b]\nb[0:799]\n").unwrap();
    let limits = [
        ("KAYOBE_AUTOMATION_MAX_HOSTS_PER_FILE", "1000"),
        ("KAYOBE_AUTOMATION_MAX_HOSTS_PER_INVENTORY", "1500"),
    ];
    let output = list(&limits);
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("more:2:"), "{stderr}");
    assert!(
        stderr.contains("KAYOBE_AUTOMATION_MAX_HOSTS_PER_INVENTORY"),
        "{stderr}"
    );
    // Raised, the same inventory reads.
    let output = list(&[
        limits[0],
        ("KAYOBE_AUTOMATION_MAX_HOSTS_PER_INVENTORY", "1600"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

/// Item 5: the text diff is bounded: a reversed 160 000-line file is
/// summarised by line counts and digests within seconds.
#[test]
fn a_huge_text_change_is_summarised_not_diffed_for_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_history(dir.path());
    let file = repo.join("etc/kayobe/kolla/config/big.conf");
    let lines: Vec<String> = (0..160_000).map(|n| format!("line {n}\n")).collect();
    std::fs::write(&file, lines.concat()).unwrap();
    commit(&repo, "forward");
    std::fs::write(&file, lines.iter().rev().cloned().collect::<String>()).unwrap();
    commit(&repo, "reversed");
    let output = within(
        60,
        cli(&repo).args([
            "--vault-password-file",
            ".vault-password",
            "config-diff",
            "--base",
            "forward",
            "--target",
            "reversed",
        ]),
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        stdout.contains("changed, 160000 -> 160000 lines (sha256:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("KAYOBE_AUTOMATION_DIFF_MAX_LINES"),
        "{stdout}"
    );
}
