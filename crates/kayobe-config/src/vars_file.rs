//! One Ansible vars file (extra vars, `group_vars`, `host_vars`), read as
//! Ansible reads it: decrypted first when the whole file is vaulted, then
//! JSON or YAML ([`yaml::parse_data`]).

use std::path::{Path, PathBuf};

use crate::value::Value;
use crate::vault::{self, NoVaultPassword, VaultError, VaultSecret};
use crate::yaml::{self, YamlError};

/// Why a vars file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VarsFileError {
    /// The file could not be read.
    #[error("{}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The (decrypted) text is not valid YAML or JSON.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The vaulted file could not be decrypted.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The file is vaulted and no vault password was given.
    #[error("{} is vaulted", .0.display())]
    NeedsVaultPassword(PathBuf, #[source] NoVaultPassword),
}

/// Reads the vars file at `path`, decrypting it with `secret` when it is
/// vaulted. Inline `!vault` values stay [`Value::Vault`].
pub fn load(path: &Path, secret: Option<&VaultSecret>) -> Result<Value, VarsFileError> {
    let bytes = std::fs::read(path).map_err(|source| VarsFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !vault::is_vaulted(&bytes) {
        return parse(path, bytes);
    }
    let secret = secret
        .ok_or_else(|| VarsFileError::NeedsVaultPassword(path.to_path_buf(), NoVaultPassword))?;
    parse(path, vault::view_file(path, secret)?.plaintext)
}

fn parse(path: &Path, bytes: Vec<u8>) -> Result<Value, VarsFileError> {
    let text = String::from_utf8(bytes).map_err(|error| VarsFileError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, error),
    })?;
    Ok(yaml::parse_data(&text, path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vaulted_file_is_decrypted_then_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.yml");
        let secret = VaultSecret::new("pw");
        let text = vault::encrypt(b"token: abc\nport: 8200\n", &secret, None).unwrap();
        std::fs::write(&path, text).unwrap();
        let value = load(&path, Some(&secret)).unwrap();
        let map = value.as_map().unwrap();
        assert_eq!(map.get("token"), Some(&Value::from("abc")));
        assert_eq!(map.get("port"), Some(&Value::Int(8200)));
        let error = load(&path, None).unwrap_err();
        assert!(
            matches!(error, VarsFileError::NeedsVaultPassword(..)),
            "{error}"
        );
    }

    #[test]
    fn json_is_read_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vars.json");
        std::fs::write(&path, r#"{"x": 1e3}"#).unwrap();
        let value = load(&path, None).unwrap();
        assert_eq!(
            value.as_map().unwrap().get("x"),
            Some(&Value::Float(1000.0))
        );
    }
}
