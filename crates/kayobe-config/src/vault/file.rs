//! Whole-file operations, as `ansible-vault view|decrypt|encrypt|rekey` do them.
//!
//! Files are replaced atomically: the new contents go to a temporary file in
//! the same directory, which is then renamed over the target, so a failure
//! never leaves a half-written file. A replaced file keeps its mode; a new file
//! gets mode 0600, as ansible-vault gives it. In-place operations follow
//! symlinks and replace the file they point to.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::{Decrypted, VaultError, VaultSecret, decrypt_at, encrypt_named, random_salt};
use crate::Location;

/// Reads and decrypts a vaulted file (`ansible-vault view`).
pub fn view_file(path: &Path, secret: &VaultSecret) -> Result<Decrypted, VaultError> {
    let text = read(path)?;
    decrypt_at(&text, secret, &Location::new(path, 1, 1), false)
}

/// Decrypts many files in parallel; the results are in the order of `paths`.
pub fn view_files(paths: &[PathBuf], secret: &VaultSecret) -> Vec<Result<Decrypted, VaultError>> {
    paths
        .par_iter()
        .map(|path| view_file(path, secret))
        .collect()
}

/// Decrypts a vaulted file in place, or into `output` (`ansible-vault decrypt`).
pub fn decrypt_file(
    path: &Path,
    secret: &VaultSecret,
    output: Option<&Path>,
) -> Result<(), VaultError> {
    let mut decrypted = view_file(path, secret)?;
    let written = write_atomic(&target(path, output)?, &decrypted.plaintext);
    decrypted.plaintext.fill(0);
    written
}

/// Encrypts a plain file in place, or into `output` (`ansible-vault encrypt`).
/// A `vault_id` other than `default` gives a 1.2 header naming it.
pub fn encrypt_file(
    path: &Path,
    secret: &VaultSecret,
    vault_id: Option<&str>,
    output: Option<&Path>,
) -> Result<(), VaultError> {
    let mut plaintext = read(path)?;
    let encrypted =
        random_salt(path).and_then(|salt| encrypt_named(&plaintext, secret, vault_id, &salt, path));
    plaintext.fill(0);
    write_atomic(&target(path, output)?, encrypted?.as_bytes())
}

/// Re-encrypts a vaulted file in place with a new password and vault id
/// (`ansible-vault rekey`); `new_vault_id` `None` gives a 1.1 header.
pub fn rekey_file(
    path: &Path,
    old: &VaultSecret,
    new: &VaultSecret,
    new_vault_id: Option<&str>,
) -> Result<(), VaultError> {
    let mut decrypted = view_file(path, old)?;
    let encrypted = random_salt(path)
        .and_then(|salt| encrypt_named(&decrypted.plaintext, new, new_vault_id, &salt, path));
    decrypted.plaintext.fill(0);
    write_atomic(&target(path, None)?, encrypted?.as_bytes())
}

fn read(path: &Path) -> Result<Vec<u8>, VaultError> {
    std::fs::read(path).map_err(|source| VaultError::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    })
}

/// The file to write: `output`, else the file `path` is or links to.
fn target(path: &Path, output: Option<&Path>) -> Result<PathBuf, VaultError> {
    match output {
        Some(output) => Ok(output.to_path_buf()),
        None => std::fs::canonicalize(path).map_err(|source| VaultError::Io {
            path: path.to_path_buf(),
            action: "resolve",
            source,
        }),
    }
}

/// Distinguishes temporary files of concurrent writes within this process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `target` with `data` atomically, keeping its mode if it exists.
fn write_atomic(target: &Path, data: &[u8]) -> Result<(), VaultError> {
    let io_error = |action, source| VaultError::Io {
        path: target.to_path_buf(),
        action,
        source,
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = target.file_name().ok_or_else(|| {
        io_error(
            "write",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        )
    })?;
    let temp = dir.join(format!(
        ".{}.{}.{}.kayobe-vault-tmp",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let previous = std::fs::metadata(target).ok();
    let result = write_new(&temp, data, previous.as_ref())
        .map_err(|source| io_error("write a temporary file next to", source))
        .and_then(|()| {
            std::fs::rename(&temp, target).map_err(|source| io_error("replace", source))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    } else if let Ok(dir) = File::open(dir) {
        // Make the rename durable; not every file system supports this.
        let _ = dir.sync_all();
    }
    result
}

/// Creates `temp` (mode 0600 from the start), writes and syncs `data`, then
/// gives it the mode and owner of `previous`.
fn write_new(
    temp: &Path,
    data: &[u8],
    previous: Option<&std::fs::Metadata>,
) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(temp)?;
    file.write_all(data)?;
    file.sync_all()?;
    if let Some(previous) = previous {
        file.set_permissions(previous.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let current = file.metadata()?;
            if (current.uid(), current.gid()) != (previous.uid(), previous.gid()) {
                // Only root may give a file away; anyone else keeps ownership.
                match std::os::unix::fs::fchown(&file, Some(previous.uid()), Some(previous.gid())) {
                    Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {}
                    other => other?,
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_leaves_no_temporary_file_behind() {
        let dir = std::env::temp_dir().join(format!("kayobe-vault-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.yml");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // A missing directory fails cleanly.
        assert!(write_atomic(&dir.join("missing/out.yml"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
