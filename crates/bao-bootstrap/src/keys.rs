//! The unseal keys and root token OpenBao gives once, at initialisation, and
//! the file that keeps them (`vault/kayobe-automation-keys.json`).
//!
//! The file is the only copy. Its space is set aside before the server is
//! initialised ([`KeysFile::reserve`]: a 0600 temporary file beside it,
//! filled and synced), so that a full disk fails the bootstrap before the
//! keys exist rather than after; once they exist they overwrite that space
//! and the file is renamed into place ([`ReservedKeysFile::fill`]). It is
//! optionally encrypted with ansible-vault. Writing goes through
//! [`kayobe_stdx::OutputFile`].

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use kayobe_config::vault::{self, VaultError, VaultSecret};
use kayobe_stdx::{OutputError, OutputFile, OutputOptions};
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
    /// The keys file could not be set aside or written.
    #[error("cannot write the OpenBao keys file {path}: {source}")]
    Output {
        /// The keys file.
        path: PathBuf,
        /// Why.
        source: OutputError,
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

/// The space set aside for the keys: more than any `sys/init` answer
/// (255 shares, hex and base64, ansible-vault encrypted) takes.
const RESERVED_BYTES: u64 = 256 * 1024;

/// A keys file whose space is set aside ([`KeysFile::reserve`]); dropped
/// unfilled, it leaves nothing behind.
#[derive(Debug)]
pub struct ReservedKeysFile {
    keys_file: KeysFile,
    file: OutputFile,
}

impl ReservedKeysFile {
    /// Writes `keys` into the space set aside and puts the file in place.
    pub fn fill(mut self, keys: &UnsealKeys) -> Result<(), KeysFileError> {
        let keys_file = &self.keys_file;
        let contents = keys_file.contents(keys)?;
        self.file
            .write_all(contents.as_bytes())
            .map_err(|source| keys_file.io("write", source))?;
        self.file.commit().map_err(|source| KeysFileError::Output {
            path: keys_file.path.clone(),
            source,
        })
    }
}

/// Where the keys live and whether they are encrypted.
#[derive(Debug, Clone)]
pub struct KeysFile {
    path: PathBuf,
    /// Opens a vaulted file, and encrypts what is written when `encrypt`.
    password: Option<VaultSecret>,
    encrypt: bool,
}

impl KeysFile {
    /// The keys file at `path`; with `encryption`, it is written ansible-vault
    /// encrypted with that password (reading accepts both forms).
    pub fn new(path: impl Into<PathBuf>, encryption: Option<VaultSecret>) -> Self {
        Self {
            path: path.into(),
            encrypt: encryption.is_some(),
            password: encryption,
        }
    }

    /// Also reads a file vaulted with `password` (an operator who encrypted
    /// the keys file earlier need not say so again to use it).
    #[must_use]
    pub fn with_password(mut self, password: VaultSecret) -> Self {
        self.password = Some(password);
        self
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
                .password
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

    /// The mode of an existing keys file when others may read it (any
    /// group or other bit): the keys are worth warning about.
    pub fn loose_mode(&self) -> Option<u32> {
        use std::os::unix::fs::MetadataExt;
        let mode = std::fs::metadata(&self.path).ok()?.mode() & 0o7777;
        (mode & 0o077 != 0).then_some(mode)
    }

    /// Sets the keys file's space aside (creating its directory, mode 0700)
    /// without writing the keys: done before initialising, because keys that
    /// cannot be written after initialisation are lost for good.
    pub fn reserve(&self) -> Result<ReservedKeysFile, KeysFileError> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        create_private_dir(dir).map_err(|source| self.io("create the directory of", source))?;
        let output = |source| KeysFileError::Output {
            path: self.path.clone(),
            source,
        };
        let mut file = OutputFile::create(&self.path, &OutputOptions::secret()).map_err(output)?;
        file.reserve(RESERVED_BYTES).map_err(output)?;
        Ok(ReservedKeysFile {
            keys_file: self.clone(),
            file,
        })
    }

    /// Writes the keys (mode 0600, atomically), creating the directory
    /// (mode 0700) if needed.
    pub fn write(&self, keys: &UnsealKeys) -> Result<(), KeysFileError> {
        self.reserve()?.fill(keys)
    }

    /// The file's text: pretty JSON, vaulted when asked.
    fn contents(&self, keys: &UnsealKeys) -> Result<String, KeysFileError> {
        let mut text = serde_json::to_string_pretty(keys).expect("plain strings serialise");
        text.push('\n');
        match self.password.as_ref().filter(|_| self.encrypt) {
            Some(secret) => vault::encrypt(text.as_bytes(), secret, None).map_err(|source| {
                KeysFileError::Vault {
                    path: self.path.clone(),
                    source,
                }
            }),
            None => Ok(text),
        }
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
    fn reserving_sets_space_aside_without_writing_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = KeysFile::new(dir.path().join("vault/keys.json"), None);
        let reserved = file.reserve().unwrap();
        assert!(!file.exists());
        drop(reserved);
        assert_eq!(
            std::fs::read_dir(dir.path().join("vault")).unwrap().count(),
            0
        );
        let blocked = KeysFile::new(file.path().join("below-a-missing-file/keys.json"), None);
        std::fs::write(file.path(), "not a directory").unwrap();
        assert!(matches!(blocked.reserve(), Err(KeysFileError::Io { .. })));
        // Filled, the reserved space holds exactly the keys.
        let file = KeysFile::new(dir.path().join("keys.json"), None);
        file.reserve().unwrap().fill(&sample()).unwrap();
        assert_eq!(file.read().unwrap(), Some(sample()));
        assert_eq!(file.loose_mode(), None);
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
            KeysFile::new(&path, Some(secret.clone())).read().unwrap(),
            Some(sample())
        );
        // Written plain from now on, it still opens with the password.
        assert_eq!(
            KeysFile::new(&path, None)
                .with_password(secret)
                .read()
                .unwrap(),
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
