//! Reading a revision's files from git objects, without touching the
//! working tree.
//!
//! The revision's tree is written into a directory with `git archive`
//! (which reads objects only) piped into `tar -x`. We use the `git` and `tar`
//! commands rather than `gix` for now: see the crate docs for why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::DiffError;

/// The repository's top-level directory that holds `path`.
pub fn toplevel(path: &Path) -> Result<PathBuf, DiffError> {
    let output = git(path, &["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(output.trim_end_matches('\n')))
}

/// The tree object id `revision` names in the repository at `repo`.
pub fn tree_id(repo: &Path, revision: &str) -> Result<String, DiffError> {
    // `--end-of-options` so that a revision starting with `-` cannot become an option.
    let spec = format!("{revision}^{{tree}}");
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )
    .map(|id| id.trim().to_owned())
    .map_err(|_| DiffError::UnknownRevision {
        revision: revision.to_owned(),
        repo: repo.to_path_buf(),
    })
}

/// Writes the files of `revision` into the directory `into`.
pub fn export(repo: &Path, revision: &str, into: &Path) -> Result<(), DiffError> {
    let tree = tree_id(repo, revision)?;
    let command_error = |command: &str, detail: String| DiffError::Git {
        command: command.to_owned(),
        repo: repo.to_path_buf(),
        detail,
    };
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", &tree])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| command_error("git archive", e.to_string()))?;
    let archive_out = archive.stdout.take().expect("stdout is piped");
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .stdin(archive_out)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| command_error("tar -x", e.to_string()))?;
    let archive = archive
        .wait_with_output()
        .map_err(|e| command_error("git archive", e.to_string()))?;
    if !archive.status.success() {
        return Err(command_error(
            "git archive",
            String::from_utf8_lossy(&archive.stderr).trim().to_owned(),
        ));
    }
    if !tar.status.success() {
        return Err(command_error(
            "tar -x",
            String::from_utf8_lossy(&tar.stderr).trim().to_owned(),
        ));
    }
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> Result<String, DiffError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| DiffError::Git {
            command: format!("git {}", args.join(" ")),
            repo: dir.to_path_buf(),
            detail: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(DiffError::Git {
            command: format!("git {}", args.join(" ")),
            repo: dir.to_path_buf(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
