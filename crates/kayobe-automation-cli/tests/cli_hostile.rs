//! Hostile and careless inputs (issue 17), through the CLI: a revision
//! cannot make `config-diff` read the runner's files or exhaust it, and no
//! command loses or misplaces data. Every test works inside its own
//! temporary directory; the special files are FIFOs and devices it makes
//! there.

use std::os::unix::fs::{FileTypeExt, MetadataExt, symlink};
use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation::tempest::subunit::{FileChunk, Packet, Status, Timestamp, write_packet};
use kayobe_automation_tests::{commit, copy_dir, example_repo, git, git_init, tool};

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

/// `mkfifo PATH` / `mknod PATH c 1 3` (a null device, as root) inside a test's directory.
fn make_special(args: &[&str]) {
    let status = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(status.success(), "{args:?}");
}

/// Reads everything written to the FIFO at `path`, on a thread.
fn read_fifo(path: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    let path = path.to_path_buf();
    std::thread::spawn(move || std::fs::read(path).unwrap())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A directory holding `password` (the vault password) and `secret.yml`,
/// vaulted with it through the CLI.
fn vault_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), "hostile-test-password\n").unwrap();
    std::fs::write(dir.path().join("secret.yml"), "plaintext_secret: 4e1f\n").unwrap();
    let output = vault(dir.path(), &["encrypt", "secret.yml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir
}

fn vault(dir: &Path, args: &[&str]) -> Output {
    cli(dir)
        .args(["--vault-password-file", "password", "vault"])
        .args(args)
        .output()
        .unwrap()
}

fn kind(path: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(path).unwrap().file_type()
}

/// Item 3: outputs write through FIFOs and devices, follow links, keep
/// plaintext private, and never overwrite an input.
#[test]
fn outputs_write_through_special_files_and_follow_links() {
    let dir = vault_dir();
    let here = dir.path();

    // `--output` a link to a FIFO (what `/dev/stdout` is on a pipe): the
    // reader gets the plaintext, the link and the FIFO stay.
    make_special(&["mkfifo", here.join("fifo").to_str().unwrap()]);
    symlink("fifo", here.join("stdout")).unwrap();
    let reader = read_fifo(&here.join("fifo"));
    let output = vault(here, &["decrypt", "secret.yml", "--output", "stdout"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(reader.join().unwrap(), b"plaintext_secret: 4e1f\n");
    assert!(kind(&here.join("stdout")).is_symlink() && kind(&here.join("fifo")).is_fifo());

    // `--output` a link to a regular file: the file gets the plaintext at
    // 0600 whatever its mode was, the link stays a link.
    std::fs::write(here.join("plain.yml"), "old\n").unwrap();
    std::fs::set_permissions(
        here.join("plain.yml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    symlink("plain.yml", here.join("plain-link")).unwrap();
    let output = vault(here, &["decrypt", "secret.yml", "--output", "plain-link"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(kind(&here.join("plain-link")).is_symlink());
    assert_eq!(
        std::fs::read_to_string(here.join("plain.yml")).unwrap(),
        "plaintext_secret: 4e1f\n"
    );
    assert_eq!(
        std::fs::metadata(here.join("plain.yml")).unwrap().mode() & 0o777,
        0o600
    );

    // `--output` naming the input is refused and the input is intact.
    let before = std::fs::read(here.join("secret.yml")).unwrap();
    let output = vault(here, &["decrypt", "secret.yml", "--output", "secret.yml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("input"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(std::fs::read(here.join("secret.yml")).unwrap(), before);

    if !is_root() {
        eprintln!("note: not root: the device cases need mknod");
        return;
    }
    // A 0666 device (made here, never the machine's /dev/null): written
    // through, it stays a device; no world-readable plaintext file appears.
    make_special(&[
        "mknod",
        "-m",
        "0666",
        here.join("null").to_str().unwrap(),
        "c",
        "1",
        "3",
    ]);
    let output = vault(here, &["decrypt", "secret.yml", "--output", "null"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(kind(&here.join("null")).is_char_device());
    // Encrypting the device in place writes through it too.
    let output = vault(here, &["encrypt", "null"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(kind(&here.join("null")).is_char_device());
}

/// Item 3: `config-diff --out` and `tempest report --junit/--html` use the
/// same writer: through a FIFO, and never over the input stream.
#[test]
fn report_outputs_write_through_fifos_and_refuse_their_input() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let stream = subunit(&[("ok", Status::Success, None)]);
    std::fs::write(here.join("run.subunit"), &stream).unwrap();
    let output = tempest_report(here, &["run.subunit", "--junit", "run.subunit"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert_eq!(std::fs::read(here.join("run.subunit")).unwrap(), stream);

    make_special(&["mkfifo", here.join("junit").to_str().unwrap()]);
    let reader = read_fifo(&here.join("junit"));
    let output = tempest_report(here, &["run.subunit", "--junit", "junit"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&reader.join().unwrap()).contains("<testcase classname=\"pkg.T\" name=\"test_ok\"")
    );
    assert!(kind(&here.join("junit")).is_fifo());

    let repo = example_history(here);
    make_special(&["mkfifo", here.join("diff").to_str().unwrap()]);
    let reader = read_fifo(&here.join("diff"));
    let out = here.join("diff");
    let output = config_diff(
        &repo,
        &[
            "--base",
            "base",
            "--target",
            "base",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(reader.join().unwrap(), b"");
    assert!(kind(&out).is_fifo());
}

/// Item 4: a bare password file name is a file in the current directory,
/// run from there when executable, as `ansible-vault` runs it.
#[test]
fn a_bare_password_file_name_runs_the_file_not_a_command_from_path() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    // Named like a command every machine has.
    std::fs::write(here.join("hostname"), "#!/bin/sh\necho from-the-file\n").unwrap();
    std::fs::set_permissions(
        here.join("hostname"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(here.join("plain-password"), "from-the-file\n").unwrap();
    std::fs::write(here.join("data.yml"), "x: 1\n").unwrap();
    let output = cli(here)
        .args([
            "--vault-password-file",
            "hostname",
            "vault",
            "encrypt",
            "data.yml",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = cli(here)
        .args([
            "--vault-password-file",
            "plain-password",
            "vault",
            "view",
            "data.yml",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "x: 1\n");
    // ansible-vault reads the same name the same way.
    if let Some(ansible_vault) = tool("ansible-vault") {
        let output = Command::new(ansible_vault)
            .current_dir(here)
            .args(["view", "--vault-password-file", "hostname", "data.yml"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(text(&output.stdout), "x: 1\n");
    }
}

/// A subunit v2 stream of tests `pkg.T.test_<name>`.
fn subunit(tests: &[(&str, Status, Option<&str>)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (index, (name, status, traceback)) in tests.iter().enumerate() {
        let id = format!("pkg.T.test_{name}");
        let seconds = 1_700_000_000 + index as u32;
        let packet = |status, seconds, file| Packet {
            status,
            test_id: Some(&id),
            timestamp: Some(Timestamp { seconds, nanos: 0 }),
            file,
            ..Packet::default()
        };
        write_packet(&mut bytes, &packet(Status::InProgress, seconds, None)).unwrap();
        let file = traceback.map(|text| FileChunk {
            name: "traceback",
            content: text.as_bytes(),
        });
        write_packet(&mut bytes, &packet(*status, seconds + 1, file)).unwrap();
    }
    bytes
}

fn tempest_report(dir: &Path, args: &[&str]) -> Output {
    cli(dir)
        .args(["tempest", "report"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// Item 6: no test, zeros, or subunit v1 is never a pass; control
/// characters from test names never reach the terminal.
#[test]
fn tempest_report_has_no_false_green() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    std::fs::write(here.join("empty"), "").unwrap();
    std::fs::write(here.join("zeros"), vec![0u8; 8 << 20]).unwrap();
    for stream in ["empty", "zeros"] {
        let output = tempest_report(here, &[stream]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{stream}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stderr).contains("no tests found"),
            "{}",
            text(&output.stderr)
        );
    }
    let v1 = "test: pkg.T.test_broken\nfailure: pkg.T.test_broken [\nTraceback: boom\n]\n";
    std::fs::write(here.join("v1"), v1).unwrap();
    let output = tempest_report(here, &["v1"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("subunit-1to2"),
        "{}",
        text(&output.stderr)
    );
    // The advice works: converted, the failure is reported as one.
    if let Some(convert) = tool("subunit-1to2") {
        let converted = Command::new(convert)
            .stdin(std::fs::File::open(here.join("v1")).unwrap())
            .output()
            .unwrap();
        std::fs::write(here.join("v2"), converted.stdout).unwrap();
        let output = tempest_report(here, &["v2"]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("test_broken"));
    }

    let hostile = subunit(&[(
        "x\x1b]0;owned\x07\x1b[2J",
        Status::Fail,
        Some("boom\x1b[31m\u{9b}1m"),
    )]);
    std::fs::write(here.join("hostile"), hostile).unwrap();
    let output = tempest_report(here, &["hostile"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\u{9b}') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
    assert!(stdout.contains("\\x1b[2J"), "{stdout}");
}

/// Item 6: a submodule change shows in the diff (its commit), not "no changes".
#[test]
fn config_diff_shows_submodule_changes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_history(dir.path());
    let gitlink = |commit: &str| {
        git(
            &repo,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{commit},etc/kayobe/kolla/config/vendored"),
            ],
        );
    };
    gitlink("1111111111111111111111111111111111111111");
    git(&repo, &["commit", "-q", "-m", "sub one"]);
    git(&repo, &["tag", "sub-one"]);
    gitlink("2222222222222222222222222222222222222222");
    git(&repo, &["commit", "-q", "-m", "sub two"]);
    git(&repo, &["tag", "sub-two"]);
    let output = config_diff(&repo, &["--base", "sub-one", "--target", "sub-two"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("-Subproject commit 1111111111111111111111111111111111111111"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+Subproject commit 2222222222222222222222222222222222222222"),
        "{stdout}"
    );
}

/// Mounts a `kib` KiB tmpfs at `dir` (root only) and unmounts it when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, kib: u32) -> Option<Self> {
        if !is_root() {
            eprintln!("note: not root: the full-disk case needs a tmpfs mount");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .unwrap();
        if !status.success() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cannot mount a tmpfs under CI"
            );
            eprintln!("note: cannot mount a tmpfs here: skipping the full-disk case");
            return None;
        }
        Some(Self(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Item 6: on a disk too small for every workflow file, none is written.
#[test]
fn workflow_files_are_written_all_or_nothing_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    copy_dir(&example_repo(), &repo);
    let Some(_disk) = SmallDisk::mount(&dir.path().join("disk"), 40) else {
        return;
    };
    let out = dir.path().join("disk/out");
    let output = cli(&repo)
        .env_remove("KAYOBE_ENVIRONMENT")
        .args([
            "--vault-password-file",
            ".vault-password",
            "workflows",
            "render",
            "--platform",
            "github",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let left: Vec<_> = walk_files(&out);
    assert!(left.is_empty(), "files left behind: {left:?}");
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk_files(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Item 6: the revisions' checkouts are private (0700) and removed when
/// `config-diff` is interrupted.
#[test]
fn config_diff_checkouts_are_private_and_removed_on_interrupt() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_history(dir.path());
    // A slow enough diff: many files to extract and compare.
    let many = repo.join("etc/kayobe/kolla/config/many");
    std::fs::create_dir_all(&many).unwrap();
    for n in 0..3000 {
        std::fs::write(many.join(format!("f{n}.conf")), format!("value = {n}\n")).unwrap();
    }
    commit(&repo, "many");
    let scratch_root = dir.path().join("tmp");
    std::fs::create_dir(&scratch_root).unwrap();
    let mut child = cli(&repo)
        .env("TMPDIR", &scratch_root)
        .args([
            "--vault-password-file",
            ".vault-password",
            "config-diff",
            "--base",
            "base",
            "--target",
            "many",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let scratch = loop {
        let found = std::fs::read_dir(&scratch_root)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some()));
        if let Some(found) = found {
            break found;
        }
        assert!(std::time::Instant::now() < deadline, "no checkout appeared");
        assert!(
            child.try_wait().unwrap().is_none(),
            "config-diff ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(std::fs::metadata(&scratch).unwrap().mode() & 0o777, 0o700);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(&scratch_root).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
