//! Test support shared by every crate's tests: where the reference tools are,
//! where the example config repository is, and the Docker engine ([`docker`]).
//!
//! `cargo xtask setup` installs the reference tools (ansible-core, check-jsonschema,
//! zizmor, actionlint, openbao, python-subunit, stestr, PyNaCl) into a venv under
//! `target/tools/venv`. Tests ask [`tool`] for them: a missing tool skips the test
//! with a note on a developer's machine, and fails it under `CI=true`, because in
//! CI a test that silently skipped would prove nothing.

use std::path::{Path, PathBuf};

pub mod docker;

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
