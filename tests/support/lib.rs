//! Test support shared by every crate's tests: where the reference tools are,
//! where the example config repository is, git repositories built from it,
//! headless Chromium, the Docker engine with the images tests build, and a
//! real image registry ([`registry`]).
//!
//! `cargo xtask setup` installs the reference tools (ansible-core, check-jsonschema,
//! zizmor, actionlint, openbao, python-subunit, stestr, PyNaCl) into a venv under
//! `target/tools/venv`. Tests ask [`tool`] for them: a missing tool skips the test
//! with a note on a developer's machine, and fails it under `CI=true`, because in
//! CI a test that silently skipped would prove nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

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
    let message = format!(
        "reference tool `{name}` not found at {}: run `cargo xtask setup`",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipping: {message}");
    None
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
/// directory `profile`; add `--dump-dom URL` or `--screenshot=FILE URL`.
pub fn headless_chromium(chromium: &Path, profile: &Path) -> Command {
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

/// `target/test-artifacts`, created: where tests keep what a person may want
/// to look at afterwards (screenshots).
pub fn test_artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// The local Docker engine at the API version both sides speak (it runs
/// 20.10, older than bollard's default), or `None` (after saying so) when it
/// is not reachable on a developer's machine.
///
/// # Panics
/// Under `CI=true` when the engine is not reachable.
pub async fn docker() -> Option<bollard::Docker> {
    let connected = match bollard::Docker::connect_with_local_defaults() {
        Ok(docker) => docker.negotiate_version().await.ok(),
        Err(_) => None,
    };
    if connected.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Docker engine is not reachable"
        );
        eprintln!("skipping: the Docker engine is not reachable");
    }
    connected
}

/// An image tag no other test run uses: `kayobe-automation/test-WHAT:PID-NANOS`.
pub fn unique_image_tag(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!(
        "kayobe-automation/test-{what}:{}-{nanos}",
        std::process::id()
    )
}

/// Builds the image `tag` from a context of `(path, content, mode)` files
/// (one of them the `Dockerfile`).
///
/// # Panics
/// When the build fails: the stand-in image is the test's fixture.
pub async fn build_test_image(docker: &bollard::Docker, tag: &str, files: &[(&str, &[u8], u32)]) {
    use futures_util::StreamExt as _;
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, *content)
            .expect("add a file to the build context");
    }
    let context = builder.into_inner().expect("finish the build context");
    let options = bollard::query_parameters::BuildImageOptionsBuilder::new()
        .t(tag)
        .rm(true)
        .build();
    let mut progress = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(info) = progress.next().await {
        let info = info.expect("the test image builds");
        assert!(info.error_detail.is_none(), "{:?}", info.error_detail);
    }
}

/// Removes the images it names when dropped, so a test's images go whether
/// it passed or not.
pub struct RemoveImages(pub Vec<String>);

impl Drop for RemoveImages {
    fn drop(&mut self) {
        let tags = std::mem::take(&mut self.0);
        // Its own thread and runtime: dropping may happen inside the test's runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("start a runtime to remove test images");
            runtime.block_on(async {
                let Ok(docker) = bollard::Docker::connect_with_local_defaults() else {
                    return;
                };
                let Ok(docker) = docker.negotiate_version().await else {
                    return;
                };
                for tag in tags {
                    let options = bollard::query_parameters::RemoveImageOptionsBuilder::new()
                        .force(true)
                        .build();
                    let _ = docker.remove_image(&tag, Some(options), None).await;
                }
            });
        })
        .join()
        .expect("remove the test images");
    }
}

/// Runs `git ARGS` in `dir` as a test author and returns its standard output.
///
/// # Panics
/// When git cannot run or fails: a broken fixture ends the test.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.org"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git writes UTF-8 here")
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
