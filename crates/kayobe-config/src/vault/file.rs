//! Whole-file operations, as `ansible-vault view|decrypt|encrypt|rekey` do them.
//!
//! Every output goes through [`kayobe_stdx::OutputFile`]: regular files are
//! replaced atomically (a failure never leaves a half-written file), FIFOs
//! and devices are written through, symlinks are followed to the file they
//! point to, and `--output` naming the input is refused. A replaced file
//! keeps its mode; a new file gets mode 0600, as ansible-vault gives it; a
//! decrypted file is never wider than 0600.

use std::path::{Path, PathBuf};

use kayobe_stdx::{OutputOptions, write_output};

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
    let written = write(path, output, &decrypted.plaintext, OutputOptions::secret());
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
    write(
        path,
        output,
        encrypted?.as_bytes(),
        OutputOptions::private(),
    )
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
    write(path, None, encrypted?.as_bytes(), OutputOptions::private())
}

fn read(path: &Path) -> Result<Vec<u8>, VaultError> {
    std::fs::read(path).map_err(|source| VaultError::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    })
}

/// Writes `data` to `output` (refusing the input `path` itself), else in
/// place over `path` (the file it is, or links to).
fn write(
    path: &Path,
    output: Option<&Path>,
    data: &[u8],
    options: OutputOptions,
) -> Result<(), VaultError> {
    match output {
        Some(output) => write_output(output, data, &options.refusing_inputs([path]))?,
        None => write_output(path, data, &options)?,
    }
    Ok(())
}
