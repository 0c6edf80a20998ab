//! The unseal keys and root token OpenBao gives once, at initialisation, and
//! the file that keeps them (`vault/kayobe-automation-keys.json`).
//!
//! The file is the only copy: it is written atomically (a temporary file with
//! mode 0600 in the same directory, synced, then renamed) before anything else
//! is done with the server, and optionally encrypted with ansible-vault.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use kayobe_config::vault::{self, VaultError, VaultSecret};
use serde::{Deserialize, Serialize};

/// What `sys/init` returns: the unseal key shares and the root token.
///
/// Its `Debug` output shows only how many keys there are.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsealKeys {
    /// The key shares, hex encoded.
    pub keys: Vec<String>,
    /// The same key shares, base64 encoded (what unsealing uses).
    pub keys_base64: Vec<String>,
    /// The initial root token.
    pub root_token: String,
}

impl fmt::Debug for UnsealKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsealKeys")
            .field("keys", &format_args!("<{} redacted>", self.keys.len()))
            .field(
                "keys_base64",
                &format_args!("<{} redacted>", self.keys_base64.len()),
            )
            .field("root_token", &format_args!("<redacted>"))
            .finish()
    }
}

/// Why the keys file could not be read or written. Never holds key material.
#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    /// Reading, writing or renaming failed.
    #[error("cannot {action} the OpenBao keys file {path}: {source}")]
    Io {
        /// The keys file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not the JSON this crate writes.
    #[error(
        "the OpenBao keys file {path} is not valid (line {line}, column {column}): {problem}; restore it from your backup"
    )]
    Invalid {
        /// The keys file.
        path: PathBuf,
        /// Line of the problem in the (decrypted) JSON.
        line: usize,
        /// Column of the problem in the (decrypted) JSON.
        column: usize,
        /// serde_json's description, which quotes no input.
        problem: String,
    },
    /// The file is vaulted but no vault password was given.
    #[error(
        "the OpenBao keys file {path} is encrypted with ansible-vault: give the vault password to read it"
    )]
    NeedsPassword {
        /// The keys file.
        path: PathBuf,
    },
    /// Decrypting or encrypting failed.
    #[error("cannot decrypt or encrypt the OpenBao keys file {path}: {source}")]
    Vault {
        /// The keys file.
        path: PathBuf,
        /// The vault error.
        source: VaultError,
    },
}

/// Where the keys live and whether they are encrypted.
#[derive(Debug, Clone)]
pub struct KeysFile {
    path: PathBuf,
    encryption: Option<VaultSecret>,
}

impl KeysFile {
    /// The keys file at `path`; with `encryption`, it is written ansible-vault
    /// encrypted with that password (reading accepts both forms).
    pub fn new(path: impl Into<PathBuf>, encryption: Option<VaultSecret>) -> Self {
        Self {
            path: path.into(),
            encryption,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads the keys; `Ok(None)` when the file does not exist.
    pub fn read(&self) -> Result<Option<UnsealKeys>, KeysFileError> {
        let data = match std::fs::read(&self.path) {
            Ok(data) => data,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io("read", source)),
        };
        let plaintext = if vault::is_vaulted(&data) {
            let secret = self
                .encryption
                .as_ref()
                .ok_or_else(|| KeysFileError::NeedsPassword {
                    path: self.path.clone(),
                })?;
            vault::decrypt(&data, secret)
                .map_err(|source| KeysFileError::Vault {
                    path: self.path.clone(),
                    source,
                })?
                .plaintext
        } else {
            data
        };
        serde_json::from_slice(&plaintext)
            .map(Some)
            .map_err(|error| KeysFileError::Invalid {
                path: self.path.clone(),
                line: error.line(),
                column: error.column(),
                problem: classify(&error).to_owned(),
            })
    }

    /// Checks that the keys file can be written (creating its directory),
    /// without writing it: done before initialising, because keys that
    /// cannot be written after initialisation are lost for good.
    pub fn check_writable(&self) -> Result<(), KeysFileError> {
        let (dir, temporary) = self.temporary_path();
        create_private_dir(&dir).map_err(|source| self.io("create the directory of", source))?;
        let _ = std::fs::remove_file(&temporary);
        write_private(&temporary, b"")
            .and_then(|()| std::fs::remove_file(&temporary))
            .map_err(|source| self.io("write", source))
    }

    /// The directory and the temporary file a write goes through.
    fn temporary_path(&self) -> (PathBuf, PathBuf) {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        (dir, temporary)
    }

    /// Writes the keys atomically with mode 0600, creating the directory
    /// (mode 0700) if needed.
    pub fn write(&self, keys: &UnsealKeys) -> Result<(), KeysFileError> {
        let mut text = serde_json::to_string_pretty(keys).expect("plain strings serialise");
        text.push('\n');
        let contents = match &self.encryption {
            Some(secret) => vault::encrypt(text.as_bytes(), secret, None).map_err(|source| {
                KeysFileError::Vault {
                    path: self.path.clone(),
                    source,
                }
            })?,
            None => text,
        };
        let (dir, temporary) = self.temporary_path();
        create_private_dir(&dir).map_err(|source| self.io("create the directory of", source))?;
        // A leftover of a run that died mid-write (same process id) is ours.
        let _ = std::fs::remove_file(&temporary);
        let result = write_private(&temporary, contents.as_bytes())
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .and_then(|()| sync_dir(&dir));
        if let Err(source) = result {
            let _ = std::fs::remove_file(&temporary);
            return Err(self.io("write", source));
        }
        Ok(())
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> KeysFileError {
        KeysFileError::Io {
            path: self.path.clone(),
            action,
            source,
        }
    }
}

/// serde_json's error category, without the message (which may quote input).
fn classify(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "it could not be read",
        serde_json::error::Category::Syntax => "it is not JSON",
        serde_json::error::Category::Data => {
            "it lacks `keys`, `keys_base64` or `root_token`, or they are not text"
        }
        serde_json::error::Category::Eof => "it ends too early",
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates `path` afresh with mode 0600 from the start (never world-readable,
/// not even briefly), writes `data` and syncs it.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// Makes the rename durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> UnsealKeys {
        UnsealKeys {
            keys: vec!["aa11".into(), "bb22".into()],
            keys_base64: vec!["qhE=".into(), "uyI=".into()],
            root_token: "s.rootTOKENvalue".into(),
        }
    }

    #[test]
    fn debug_hides_key_material() {
        let text = format!("{:?}", sample());
        for secret in ["aa11", "bb22", "qhE=", "uyI=", "rootTOKEN"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("<2 redacted>"), "{text}");
    }

    #[test]
    fn plain_file_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let file = KeysFile::new(dir.path().join("vault/keys.json"), None);
        assert_eq!(file.read().unwrap(), None);
        file.write(&sample()).unwrap();
        assert_eq!(file.read().unwrap(), Some(sample()));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        assert_eq!(json["root_token"], "s.rootTOKENvalue");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.path().join("vault"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        // Rewriting replaces the file and leaves no temporary file behind.
        file.write(&sample()).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("vault"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("keys.json")]);
    }

    #[test]
    fn writability_is_checked_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let file = KeysFile::new(dir.path().join("vault/keys.json"), None);
        file.check_writable().unwrap();
        assert!(!file.exists());
        assert_eq!(
            std::fs::read_dir(dir.path().join("vault")).unwrap().count(),
            0
        );
        let blocked = KeysFile::new(file.path().join("below-a-missing-file/keys.json"), None);
        std::fs::write(file.path(), "not a directory").unwrap();
        assert!(matches!(
            blocked.check_writable(),
            Err(KeysFileError::Io { .. })
        ));
    }

    #[test]
    fn vaulted_file_round_trips_and_needs_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let secret = VaultSecret::new("pw");
        KeysFile::new(&path, Some(secret.clone()))
            .write(&sample())
            .unwrap();
        let data = std::fs::read(&path).unwrap();
        assert!(vault::is_vaulted(&data));
        assert_eq!(
            KeysFile::new(&path, Some(secret)).read().unwrap(),
            Some(sample())
        );
        let error = KeysFile::new(&path, None).read().unwrap_err();
        assert!(matches!(error, KeysFileError::NeedsPassword { .. }));
        let error = KeysFile::new(&path, Some(VaultSecret::new("wrong")))
            .read()
            .unwrap_err();
        assert!(matches!(error, KeysFileError::Vault { .. }));
    }

    #[test]
    fn invalid_file_is_located_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        std::fs::write(&path, "{\"keys\": [\"s3cret\"],\n \"root_token\": 5}").unwrap();
        let error = KeysFile::new(&path, None).read().unwrap_err();
        let text = error.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
