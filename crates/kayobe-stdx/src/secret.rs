//! The one secret type, and the one way to read a secret from a file or an
//! environment variable.
//!
//! A [`Secret`] holds bytes (a vault password, an SSH key, a token, a
//! registry password), never shows them in `Debug`, and overwrites them when
//! it is dropped. [`read_secret`] reads one with these rules
//! ([`secret_from_env`] the variable alone):
//!
//! - A named file wins over the variable. Its content is the secret, with
//!   surrounding `\r` and `\n` dropped (the final newline an editor or `echo`
//!   adds is not part of a password); any other white space is kept, as it
//!   may be part of the secret. A file empty after that is an error naming
//!   the file: naming it says the secret should be there.
//! - Else the variable, trimmed the same way. An unset variable and an empty
//!   one are both "not given" (`Ok(None)`): CI platforms pass a secret that
//!   is not defined as an empty variable, and the caller says what is
//!   missing.
//!
//! A secret is bytes because a file or (on Unix) a variable may hold any;
//! where text is needed, [`Secret::expose_str`] says when it is not.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroize;

/// A secret value. Its `Debug` prints `Secret(<redacted>)`; its bytes are
/// overwritten when it is dropped (copies made with [`Secret::expose`] are
/// the caller's to keep short-lived).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret value. A `String` or `Vec<u8>` is moved, not copied.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into())
    }

    /// The secret bytes, for the one place that sends or writes them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as text, for the places that send text (HTTP headers,
    /// JSON, configuration files).
    pub fn expose_str(&self) -> Result<&str, SecretNotUtf8> {
        std::str::from_utf8(&self.0).map_err(|_| SecretNotUtf8)
    }

    /// Overwrites every byte the buffer holds, its spare capacity included
    /// (trimming leaves the trimmed bytes there).
    fn wipe(&mut self) {
        self.0.as_mut_slice().zeroize();
        self.0.spare_capacity_mut().zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// A secret that is needed as text is not UTF-8. Says nothing of the
/// value, not even where it stops being text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret is not UTF-8 text")]
pub struct SecretNotUtf8;

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretSourceError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds nothing but newlines.
    #[error("{} is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// The secret in `file` when one is named, else in the environment variable
/// `variable`; `Ok(None)` when neither gives one. The module's documentation
/// gives the rules.
pub fn read_secret(
    file: Option<&Path>,
    variable: &str,
) -> Result<Option<Secret>, SecretSourceError> {
    match file {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|source| SecretSourceError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let secret = trimmed(bytes);
            if secret.0.is_empty() {
                return Err(SecretSourceError::Empty {
                    path: path.to_path_buf(),
                });
            }
            Ok(Some(secret))
        }
        None => Ok(secret_from_env(variable)),
    }
}

/// The secret in the environment variable `variable`, for a secret whose
/// file is read otherwise (a vault password file is Ansible's to read);
/// `None` when it is unset or empty. The module's documentation gives the
/// rules.
pub fn secret_from_env(variable: &str) -> Option<Secret> {
    std::env::var_os(variable)
        .map(|value| trimmed(value.into_encoded_bytes()))
        .filter(|secret| !secret.0.is_empty())
}

/// `bytes` without surrounding `\r` and `\n`, trimmed in place so the
/// dropped bytes stay in the buffer the secret wipes.
fn trimmed(bytes: Vec<u8>) -> Secret {
    let mut secret = Secret(bytes);
    let is_newline = |b: &u8| matches!(b, b'\r' | b'\n');
    let end = secret.0.len() - secret.0.iter().rev().take_while(|b| is_newline(b)).count();
    secret.0.truncate(end);
    let start = secret.0.iter().take_while(|b| is_newline(b)).count();
    secret.0.drain(..start);
    secret
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let secret = Secret::new("ghp_abcdef");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.expose(), b"ghp_abcdef");
        assert_eq!(secret.expose_str(), Ok("ghp_abcdef"));
    }

    #[test]
    fn a_secret_that_is_not_text_says_so_without_showing_itself() {
        let secret = Secret::new(b"to\xffken".to_vec());
        assert_eq!(secret.expose_str(), Err(SecretNotUtf8));
        assert!(!SecretNotUtf8.to_string().contains("to"));
    }

    #[test]
    fn wiping_overwrites_the_bytes() {
        let mut secret = trimmed(b"\nhunter2\r\n".to_vec());
        assert_eq!(secret.expose(), b"hunter2");
        secret.wipe();
        assert_eq!(secret.expose(), [0; 7]);
    }

    #[test]
    fn a_file_is_trimmed_as_a_variable_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "\r\n pass word \n\n").unwrap();
        let from_file = read_secret(Some(&file), "KAYOBE_STDX_TEST_UNSET").unwrap();
        assert_eq!(from_file.unwrap().expose(), b" pass word ");
        assert_eq!(
            trimmed(b"\r\n pass word \n\n".to_vec()).expose(),
            b" pass word "
        );
    }

    #[test]
    fn an_empty_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "\r\n").unwrap();
        let error = read_secret(Some(&file), "PATH").unwrap_err();
        assert!(matches!(&error, SecretSourceError::Empty { path } if *path == file));
        assert_eq!(error.to_string(), format!("{} is empty", file.display()));
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("absent");
        let error = read_secret(Some(&file), "PATH").unwrap_err();
        assert!(matches!(&error, SecretSourceError::Read { path, .. } if *path == file));
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot read {}: ", file.display()))
        );
    }

    #[test]
    fn an_unset_variable_gives_nothing() {
        assert!(
            read_secret(None, "KAYOBE_STDX_TEST_SURELY_UNSET")
                .unwrap()
                .is_none()
                && secret_from_env("KAYOBE_STDX_TEST_SURELY_UNSET").is_none()
        );
    }

    proptest! {
        #[test]
        fn debug_never_shows_the_value(value in proptest::collection::vec(any::<u8>(), 1..64)) {
            let secret = Secret::new(value.clone());
            let shown = format!("{secret:?}");
            prop_assert_eq!(shown.as_str(), "Secret(<redacted>)");
            prop_assert_eq!(secret.expose(), value.as_slice());
        }

        #[test]
        fn trimming_drops_only_surrounding_newlines(
            front in "[\r\n]{0,4}",
            middle in "[^\r\n]([\\s\\S]{0,20}[^\r\n])?",
            back in "[\r\n]{0,4}",
        ) {
            let secret = trimmed(format!("{front}{middle}{back}").into_bytes());
            prop_assert_eq!(secret.expose(), middle.as_bytes());
        }
    }
}
