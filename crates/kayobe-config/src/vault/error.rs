//! What can go wrong with vault data. No variant ever holds a password or
//! plaintext.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::Location;

/// A vaulted file or value was met and no vault password was given.
///
/// Errors about such a file or value carry it as their source, so a front
/// end finds it in the error's chain, however deep, and can say how its
/// users give the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no vault password was given")]
pub struct NoVaultPassword;

/// An ansible-vault operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The data does not start with `$ANSIBLE_VAULT`.
    #[error(
        "{}: not ansible-vault data (it does not start with `$ANSIBLE_VAULT`); check that this is the vaulted file, or encrypt it first",
        path.display()
    )]
    NotVaulted {
        /// The file (or `<input>` for data given in memory).
        path: PathBuf,
    },
    /// The plaintext to encrypt is already ansible-vault data.
    #[error(
        "{}: already ansible-vault data; decrypt it first, or rekey it to change its password",
        path.display()
    )]
    AlreadyVaulted {
        /// The file (or `<input>`).
        path: PathBuf,
    },
    /// The vault text is not well formed.
    #[error(
        "{location}: malformed ansible-vault data: {problem}; restore the file from version control or encrypt the plaintext again"
    )]
    Malformed {
        /// Where the problem is.
        location: Location,
        /// What is wrong there.
        problem: EnvelopeProblem,
    },
    /// The header names a cipher other than AES256.
    #[error(
        "{location}: unsupported vault cipher `{cipher}`: only AES256 is supported; re-encrypt the file with a current ansible-vault"
    )]
    UnsupportedCipher {
        /// Where the cipher name is.
        location: Location,
        /// The cipher the header names.
        cipher: String,
    },
    /// The HMAC check failed and decrypting yields garbage: another password
    /// (or a changed salt, which is indistinguishable).
    #[error(
        "{}: wrong vault password (the HMAC check failed); provide the password this file was encrypted with",
        path.display()
    )]
    WrongPassword {
        /// The file (or `<input>`).
        path: PathBuf,
    },
    /// The HMAC check failed although the password decrypts the data to
    /// well-formed text: the ciphertext or its HMAC was changed.
    #[error(
        "{}: vaulted data was modified or corrupted: the password is right but the HMAC does not match; restore the file from version control",
        path.display()
    )]
    Tampered {
        /// The file (or `<input>`).
        path: PathBuf,
    },
    /// The HMAC matches but the decrypted padding is invalid: the data was
    /// not written by ansible-vault.
    #[error(
        "{}: vaulted data is authentic but its padding is invalid, so it was not written by ansible-vault; encrypt the plaintext again",
        path.display()
    )]
    InvalidPadding {
        /// The file (or `<input>`).
        path: PathBuf,
    },
    /// A vault id that cannot be written into a 1.2 header.
    #[error("invalid vault id {vault_id:?}: use printable ASCII without `;` or surrounding spaces")]
    InvalidVaultId {
        /// The rejected id.
        vault_id: String,
    },
    /// Encrypting with an empty password, which Ansible refuses to read.
    #[error("empty vault password: Ansible refuses empty vault passwords; provide a non-empty one")]
    EmptyPassword,
    /// A value given for decryption is not an inline `!vault` value.
    #[error("{location}: not an inline `!vault` value, so there is nothing to decrypt")]
    NotVaultValue {
        /// Where the value is.
        location: Location,
    },
    /// A vault password file could not be used.
    #[error("vault password file {}: {problem}", path.display())]
    PasswordFile {
        /// The password file or script.
        path: PathBuf,
        /// What went wrong with it.
        problem: PasswordFileProblem,
    },
    /// Reading or writing a file failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`read`, `write`, …).
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The output could not be written (or was refused: an input, a directory).
    #[error(transparent)]
    Output(#[from] kayobe_stdx::OutputError),
}

/// The part of the vault text a hex problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexSection {
    /// The hex lines after the header.
    Body,
    /// The salt line inside the decoded body.
    Salt,
    /// The HMAC line inside the decoded body.
    Hmac,
    /// The ciphertext line inside the decoded body.
    Ciphertext,
}

impl fmt::Display for HexSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HexSection::Body => "the hex lines",
            HexSection::Salt => "the salt inside the hex lines",
            HexSection::Hmac => "the HMAC inside the hex lines",
            HexSection::Ciphertext => "the ciphertext inside the hex lines",
        })
    }
}

/// What is wrong with malformed vault text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeProblem {
    /// A byte outside ASCII (vault text is pure ASCII).
    NonAscii,
    /// The header has too few `;`-separated fields.
    Header {
        /// How many fields it has.
        fields: usize,
    },
    /// Nothing follows the header line.
    MissingBody,
    /// A character that is not a hex digit.
    InvalidHex {
        /// Where it is.
        section: HexSection,
    },
    /// An odd number of hex digits.
    OddHex {
        /// Where they are.
        section: HexSection,
    },
    /// The decoded body lacks some of its salt, HMAC and ciphertext lines.
    MissingSections {
        /// How many lines it has.
        found: usize,
    },
}

impl fmt::Display for EnvelopeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeProblem::NonAscii => f.write_str("a byte that is not ASCII"),
            EnvelopeProblem::Header { fields } => write!(
                f,
                "the header has {fields} `;`-separated fields, but must be `$ANSIBLE_VAULT;1.1;AES256` or `$ANSIBLE_VAULT;1.2;AES256;<vault-id>`"
            ),
            EnvelopeProblem::MissingBody => f.write_str("no hex lines follow the header"),
            EnvelopeProblem::InvalidHex { section } => {
                write!(f, "a character that is not a hex digit in {section}")
            }
            EnvelopeProblem::OddHex { section } => {
                write!(
                    f,
                    "an odd number of hex digits in {section} (some are missing)"
                )
            }
            EnvelopeProblem::MissingSections { found } => write!(
                f,
                "the hex lines decode to {found} of the 3 lines salt, HMAC and ciphertext (some lines are missing)"
            ),
        }
    }
}

/// Why a vault password file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordFileProblem {
    /// It does not exist.
    #[error("not found; check the path")]
    NotFound,
    /// It is a directory.
    #[error("is a directory; give the file holding the password")]
    Directory,
    /// Reading it failed.
    #[error("cannot read it: {0}")]
    Read(#[source] io::Error),
    /// Running it (it is executable) failed.
    #[error("cannot run it: {0}; if it is not a script, remove its executable bit (`chmod -x`)")]
    Run(#[source] io::Error),
    /// The script exited unsuccessfully.
    #[error("the password script exited with {status}; run it by hand to see why")]
    ScriptFailed {
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// The file or script output is empty once whitespace is stripped.
    #[error("it gives an empty password; Ansible refuses empty vault passwords")]
    Empty,
    /// The password file is itself vaulted.
    #[error("it is itself vaulted; give the plain password file")]
    Vaulted,
}
