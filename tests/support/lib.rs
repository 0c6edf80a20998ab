//! Test support shared by every crate's tests: where the reference tools are,
//! where the example config repository is, git repositories built from it,
//! headless Chromium, the Docker engine with the images tests build
//! ([`docker`]), and a real image registry ([`registry`]).
//!
//! `cargo xtask setup` installs the reference tools (ansible-core, check-jsonschema,
//! zizmor, actionlint, openbao, python-subunit, stestr, PyNaCl) into a venv under
//! `target/tools/venv`. Tests ask [`tool`] for them: a missing tool skips the test
//! with a note on a developer's machine, and fails it under `CI=true`, because in
//! CI a test that silently skipped would prove nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod docker;
pub mod registry;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// The bin directory of the tools venv `cargo xtask setup` makes.
pub fn tools_bin_dir() -> PathBuf {
    match std::env::var_os("KAYOBE_TOOLS_BIN") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target/tools/venv/bin"),
    }
}

/// The path of reference tool `name`, or `None` (after saying so) when it is
/// not installed on a developer's machine.
///
/// # Panics
/// Under `CI=true` when the tool is missing: CI must never skip silently.
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = tools_bin_dir().join(name);
    if path.is_file() {
        return Some(path);
    }
    skip_or_fail(&format!(
        "reference tool `{name}` not found at {}: run `cargo xtask setup`",
        path.display()
    ));
    None
}

/// The bin directory of the second venv `cargo xtask setup` makes, holding
/// ansible-core 2.17 for the `stackhpc.kayobe_workflows` collection (2.18 and
/// later fail on its lookups).
pub fn collection_bin_dir() -> PathBuf {
    match std::env::var_os("KAYOBE_COLLECTION_TOOLS_BIN") {
        Some(dir) => PathBuf::from(dir),
        None => tools_bin_dir().join("../../collection-venv/bin"),
    }
}

/// The path of `name` in the collection's venv, or `None` (after saying so)
/// on a developer's machine without it.
///
/// # Panics
/// Under `CI=true` when it is missing.
pub fn collection_tool(name: &str) -> Option<PathBuf> {
    let path = collection_bin_dir().join(name);
    if path.is_file() {
        return Some(path);
    }
    skip_or_fail(&format!(
        "collection tool `{name}` not found at {}: run `cargo xtask setup`",
        path.display()
    ));
    None
}

/// `../shared/conformance/<name>` beside the workspace: the snapshots of the
/// real systems, or `None` (after saying so) on a developer's machine
/// without them.
///
/// # Panics
/// Under `CI=true` when it is missing.
pub fn conformance(name: &str) -> Option<PathBuf> {
    let path = workspace_root().join("../shared/conformance").join(name);
    if path.exists() {
        return Some(path);
    }
    skip_or_fail(&format!(
        "conformance snapshot {} not found (it sits beside the repository)",
        path.display()
    ));
    None
}

fn skip_or_fail(message: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipping: {message}");
}

/// The example Kayobe config repository shipped in `examples/kayobe-config`.
pub fn example_repo() -> PathBuf {
    workspace_root().join("examples/kayobe-config")
}

/// Copies the directory tree `from` into `to` (created as needed): tests
/// change copies of the example repository, never the example itself.
///
/// # Panics
/// When a file cannot be read or written: a broken fixture ends the test.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("list the directory to copy") {
        let entry = entry.expect("read a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("read a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// A program `cargo xtask setup` installs from a Debian package, at its
/// absolute `path` (e.g. `/usr/bin/ssh-agent`), or `None` (after saying so)
/// on a developer's machine without it.
///
/// # Panics
/// Under `CI=true` when it is missing.
pub fn debian_tool(path: &str) -> Option<PathBuf> {
    let path = PathBuf::from(path);
    if path.is_file() {
        return Some(path);
    }
    skip_or_fail(&format!(
        "{} is not installed: run `cargo xtask setup`",
        path.display()
    ));
    None
}

/// Debian's Chromium, which opens the HTML reports in tests, or `None`
/// (after saying so) when it is not installed on a developer's machine.
///
/// # Panics
/// Under `CI=true` when it is missing: `cargo xtask setup` installs it.
pub fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed: run `cargo xtask setup`"
        );
        eprintln!("skipping: chromium is not installed (cargo xtask setup installs it)");
    }
    found
}

/// A headless `chromium` command (1280x900 window) with its own profile
/// directory `profile`.
fn headless_chromium(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--window-size=1280,900",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The DOM of `url` after its scripts ran in headless Chromium (profile in
/// `profile`).
///
/// # Panics
/// When Chromium fails.
pub fn chromium_dom(chromium: &Path, profile: &Path, url: &str) -> String {
    let dom = stdout_of(
        headless_chromium(chromium, profile)
            .arg("--dump-dom")
            .arg(url),
    );
    String::from_utf8(dom).expect("the DOM is UTF-8")
}

/// Takes a screenshot of `url` in headless Chromium and keeps it as
/// `target/test-artifacts/<name>`.
///
/// # Panics
/// When Chromium fails or what it wrote is not a real PNG.
pub fn chromium_screenshot(chromium: &Path, profile: &Path, url: &str, name: &str) -> PathBuf {
    let screenshot = test_artifacts_dir().join(name);
    let _ = std::fs::remove_file(&screenshot);
    stdout_of(
        headless_chromium(chromium, profile)
            .arg(format!("--screenshot={}", screenshot.display()))
            .arg(url),
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "a real screenshot"
    );
    screenshot
}

/// `target/test-artifacts`, created: where tests keep what a person may want
/// to look at afterwards (screenshots).
pub fn test_artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// Runs `git ARGS` in `dir` as a test author and returns its standard output.
///
/// # Panics
/// When git cannot run or fails: a broken fixture ends the test.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = stdout_of(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=test", "-c", "user.email=test@example.org"])
            .args(args),
    );
    String::from_utf8(output).expect("git writes UTF-8 here")
}

/// Runs `command` and returns its standard output.
///
/// # Panics
/// When it cannot start or fails (its command line and standard error in
/// the message): a broken fixture ends the test.
fn stdout_of(command: &mut Command) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Makes `dir` a git repository whose first branch is `main`.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

/// Commits everything in `dir` with the message `tag` and tags the commit `tag`.
pub fn commit(dir: &Path, tag: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", tag]);
    git(dir, &["tag", tag]);
}
