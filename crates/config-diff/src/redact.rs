//! Masking the secrets of an extracted checkout in place, before Kayobe
//! generates configuration from it, so the generated files (and so the diff)
//! hold masks where they would hold secrets.
//!
//! - A **vaulted vars file** (its decrypted text is a YAML/JSON map, e.g.
//!   `secrets.yml` or `kolla/passwords.yml`) becomes the same map with every
//!   scalar masked ([`Masker::mask_leaves`]), written as JSON, which Ansible
//!   reads as YAML.
//! - **Any other vaulted file** (a certificate, a key) becomes its mask: one
//!   line that changes exactly when its decrypted content does.
//! - An **inline `!vault` value** in a plain file is re-encrypted with the
//!   same password around the mask of its plaintext, so the file keeps its
//!   shape and Ansible still decrypts it — to the mask. Its mask is the one
//!   the per-host variable diff gives the same value ([`crate::side`]).
//!
//! Masks are keyed by the vault password and equal for equal values, so a
//! secret the two sides share masks alike and a changed one differently.

use std::path::Path;

use kayobe_config::location::Location;
use kayobe_config::repo::RepoError;
use kayobe_config::value::Value;
use kayobe_config::vault::{self, NoVaultPassword, VaultError, VaultSecret};
use kayobe_config::yaml;

use crate::DiffError;
use crate::mask::Masker;

/// The header every vault payload starts with.
const VAULT_HEADER: &str = "$ANSIBLE_VAULT;";

/// What [`redact_checkout`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redacted {
    /// Vaulted files replaced by masks.
    pub vaulted_files: usize,
    /// Inline `!vault` values re-encrypted around masks.
    pub inline_values: usize,
}

/// Masks every secret of the checkout at `root` in place (`.git` left alone).
/// A vaulted file or value without a `secret` to open it is an error.
pub fn redact_checkout(
    root: &Path,
    secret: Option<&VaultSecret>,
    masker: &Masker,
) -> Result<Redacted, DiffError> {
    let mut redacted = Redacted::default();
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.file_name() != ".git");
    for entry in walk {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(root).to_path_buf();
            RepoError::Io {
                path,
                source: error.into(),
            }
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let io_error = |source| RepoError::Io {
            path: path.to_path_buf(),
            source,
        };
        let data = std::fs::read(path).map_err(io_error)?;
        let replacement = if vault::is_vaulted(&data) {
            let secret = secret.ok_or_else(|| DiffError::NoVaultPasswordForFile {
                path: path.to_path_buf(),
                source: NoVaultPassword,
            })?;
            redacted.vaulted_files += 1;
            mask_vaulted_file(path, &data, secret, masker)?
        } else {
            let Some(text) = std::str::from_utf8(&data)
                .ok()
                .filter(|text| text.contains(VAULT_HEADER))
            else {
                continue;
            };
            let (text, count) = mask_inline_values(path, text, secret, masker)?;
            if count == 0 {
                continue;
            }
            redacted.inline_values += count;
            text
        };
        std::fs::write(path, replacement).map_err(io_error)?;
    }
    Ok(redacted)
}

fn mask_vaulted_file(
    path: &Path,
    data: &[u8],
    secret: &VaultSecret,
    masker: &Masker,
) -> Result<String, DiffError> {
    let plaintext = vault::decrypt(data, secret)
        .map_err(|error| located(error, path.display().to_string()))?
        .plaintext;
    let as_vars = std::str::from_utf8(&plaintext)
        .ok()
        .and_then(|text| yaml::parse_data(text, path).ok());
    Ok(match as_vars {
        Some(map @ Value::Map(_)) => {
            let mut json = masker.mask_leaves(&map).to_json().to_string();
            json.push('\n');
            json
        }
        _ => {
            let mut mask = masker.mask_bytes(&plaintext);
            mask.push('\n');
            mask
        }
    })
}

/// `text` with each inline vault block re-encrypted around its mask, and how
/// many blocks there were. A block is a line whose content starts with
/// [`VAULT_HEADER`] and the hex lines under it at the same indentation.
fn mask_inline_values(
    path: &Path,
    text: &str,
    secret: Option<&VaultSecret>,
    masker: &Masker,
) -> Result<(String, usize), DiffError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let content = line.trim_start();
        if !content.starts_with(VAULT_HEADER) {
            out.push_str(line);
            index += 1;
            continue;
        }
        let indent = &line[..line.len() - content.len()];
        let mut end = index + 1;
        while end < lines.len() {
            let next = lines[end].trim_end();
            let is_hex_line = next.len() > indent.len()
                && next.starts_with(indent)
                && next[indent.len()..].bytes().all(|b| b.is_ascii_hexdigit());
            if !is_hex_line {
                break;
            }
            end += 1;
        }
        let ciphertext: Vec<&str> = lines[index..end].iter().map(|l| l.trim()).collect();
        let ciphertext = ciphertext.join("\n");
        let secret = secret.ok_or_else(|| DiffError::NoVaultPasswordForFile {
            path: path.to_path_buf(),
            source: NoVaultPassword,
        })?;
        let location = || Location::new(path.display().to_string(), index + 1, indent.len() + 1);
        let plaintext = vault::decrypt(ciphertext.as_bytes(), secret)
            .map_err(|error| located(error, location().to_string()))?
            .plaintext;
        // The same mask as `side` gives this value: of its JSON string form.
        let plaintext = Value::String(String::from_utf8_lossy(&plaintext).into_owned());
        let mask = masker.mask_bytes(plaintext.to_json().to_string().as_bytes());
        let encrypted = vault::encrypt(mask.as_bytes(), secret, None)?;
        for encrypted_line in encrypted.lines() {
            out.push_str(indent);
            out.push_str(encrypted_line);
            out.push('\n');
        }
        count += 1;
        index = end;
    }
    Ok((out, count))
}

/// A vault error that names the file (or `file:line:col`) it came from.
fn located(error: VaultError, place: String) -> DiffError {
    DiffError::Redact {
        place,
        source: error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn inline_values_are_reencrypted_around_their_masks() {
        let secret = VaultSecret::new("pw");
        let masker = Masker::new(Some(&secret));
        let block = vault::encrypt(b"hunter2", &secret, None).unwrap();
        let indented: String = block.lines().map(|l| format!("  {l}\n")).collect();
        let text = format!("a: 1\nb: !vault |\n{indented}c: 3\n");
        let (masked, count) =
            mask_inline_values(Path::new("f.yml"), &text, Some(&secret), &masker).unwrap();
        assert_eq!(count, 1);
        let lines: Vec<&str> = masked.lines().collect();
        assert_eq!(lines[..2], ["a: 1", "b: !vault |"]);
        assert_eq!(*lines.last().unwrap(), "c: 3");
        let new_block: Vec<&str> = lines[2..lines.len() - 1]
            .iter()
            .map(|l| l.strip_prefix("  ").expect("indentation kept"))
            .collect();
        let decrypted = vault::decrypt(new_block.join("\n").as_bytes(), &secret).unwrap();
        assert_eq!(
            String::from_utf8(decrypted.plaintext).unwrap(),
            masker.mask_bytes(b"\"hunter2\"")
        );
        assert!(!masked.contains("hunter2"));
    }

    #[test]
    fn vaulted_files_become_masks() {
        let secret = VaultSecret::new("pw");
        let masker = Masker::new(Some(&secret));
        let dir = tempfile::tempdir().unwrap();
        let vars = dir.path().join("secrets.yml");
        let cert = dir.path().join("ca.pem");
        let plain = dir.path().join("plain.yml");
        std::fs::write(
            &vars,
            vault::encrypt(b"password: s3cret\nnested:\n  n: 5\n", &secret, None).unwrap(),
        )
        .unwrap();
        std::fs::write(
            &cert,
            vault::encrypt(b"-----BEGIN KEY-----\nabc\n", &secret, None).unwrap(),
        )
        .unwrap();
        std::fs::write(&plain, "x: 1\n").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let in_git = dir.path().join(".git/config.vault");
        std::fs::write(&in_git, vault::encrypt(b"x", &secret, None).unwrap()).unwrap();

        let redacted = redact_checkout(dir.path(), Some(&secret), &masker).unwrap();
        assert_eq!(
            redacted,
            Redacted {
                vaulted_files: 2,
                inline_values: 0
            }
        );
        assert_eq!(
            std::fs::read_to_string(&vars).unwrap(),
            format!(
                "{{\"password\":\"{}\",\"nested\":{{\"n\":\"{}\"}}}}\n",
                masker.mask_bytes(b"\"s3cret\""),
                masker.mask_bytes(b"5")
            )
        );
        assert_eq!(
            std::fs::read_to_string(&cert).unwrap(),
            format!("{}\n", masker.mask_bytes(b"-----BEGIN KEY-----\nabc\n"))
        );
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "x: 1\n");
        assert!(vault::is_vaulted(&std::fs::read(&in_git).unwrap()));

        let error = redact_checkout(dir.path(), None, &masker);
        assert!(error.is_ok(), "nothing vaulted is left");
        std::fs::write(&cert, vault::encrypt(b"k", &secret, None).unwrap()).unwrap();
        let error = redact_checkout(dir.path(), None, &masker).unwrap_err();
        assert!(error.to_string().contains("ca.pem"), "{error}");
    }
}
