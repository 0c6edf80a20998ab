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
