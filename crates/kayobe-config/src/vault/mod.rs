//! ansible-vault: encrypt, decrypt and rekey whole files and inline `!vault`
//! values, byte-compatible with `ansible-vault` of ansible-core.
//!
//! The format: a header line `$ANSIBLE_VAULT;1.1;AES256` (or
//! `$ANSIBLE_VAULT;1.2;AES256;<vault-id>`), then the hex of
//! `hex(salt)\nhex(hmac)\nhex(ciphertext)` in 80-column lines and a final
//! newline. Keys come from PBKDF2-HMAC-SHA256 (10000 rounds) over the password
//! and a random 32-byte salt: 32 bytes of AES-256-CTR key, 32 of HMAC-SHA256
//! key and a 16-byte counter block; the plaintext is PKCS7-padded.
//!
//! ```
//! use kayobe_config::vault::{self, VaultSecret};
//!
//! let secret = VaultSecret::new("correct horse");
//! let text = vault::encrypt(b"db_password: s3cret\n", &secret, Some("prod"))?;
//! assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
//! let decrypted = vault::decrypt(text.as_bytes(), &secret)?;
//! assert_eq!(decrypted.plaintext, b"db_password: s3cret\n");
//! assert_eq!(decrypted.vault_id.as_deref(), Some("prod"));
//! # Ok::<(), kayobe_config::vault::VaultError>(())
//! ```
//!
//! A wrong password and tampered data are distinct errors
//! ([`VaultError::WrongPassword`], [`VaultError::Tampered`]); both fail the
//! HMAC check, and the data is decrypted anyway to tell them apart: valid
//! padding around UTF-8 text means the password was right. (Binary plaintext
//! that was tampered with is therefore reported as a wrong password, and so is
//! a changed salt.)

mod cipher;
mod envelope;
mod error;
mod file;
mod secret;

use std::fmt;
use std::path::Path;

pub use error::{EnvelopeProblem, HexSection, NoVaultPassword, PasswordFileProblem, VaultError};
pub use file::{decrypt_file, encrypt_file, rekey_file, view_file, view_files};
pub use secret::VaultSecret;

use crate::{Location, Value};

/// The name errors give data passed in memory.
const IN_MEMORY: &str = "<input>";

/// The result of decrypting: the plaintext and the vault id of a 1.2 header.
///
/// Its `Debug` output never shows the plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The decrypted bytes, exactly as they were encrypted.
    pub plaintext: Vec<u8>,
    /// The vault id in the header, if it has one (format 1.2).
    pub vault_id: Option<String>,
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field(
                "plaintext",
                &format_args!("<{} bytes redacted>", self.plaintext.len()),
            )
            .field("vault_id", &self.vault_id)
            .finish()
    }
}

/// Whether `data` is ansible-vault data, as Ansible's `is_encrypted` decides:
/// pure ASCII starting with `$ANSIBLE_VAULT`.
pub fn is_vaulted(data: &[u8]) -> bool {
    data.starts_with(envelope::HEADER) && data.is_ascii()
}

/// Encrypts `plaintext` as `ansible-vault encrypt` does, with a fresh random
/// salt. A `vault_id` other than `default` gives a 1.2 header naming it.
///
/// Fails on plaintext that is already vaulted, an empty password, or a vault
/// id that cannot be written into a header.
pub fn encrypt(
    plaintext: &[u8],
    secret: &VaultSecret,
    vault_id: Option<&str>,
) -> Result<String, VaultError> {
    let salt = random_salt(Path::new(IN_MEMORY))?;
    encrypt_with_salt(plaintext, secret, vault_id, &salt)
}

/// A fresh salt from the operating system, as ansible-vault's `os.urandom(32)`.
fn random_salt(path: &Path) -> Result<[u8; cipher::SALT_LEN], VaultError> {
    let mut salt = [0u8; cipher::SALT_LEN];
    getrandom::getrandom(&mut salt).map_err(|error| VaultError::Io {
        path: path.to_path_buf(),
        action: "draw a random salt to encrypt",
        source: std::io::Error::other(error.to_string()),
    })?;
    Ok(salt)
}

/// [`encrypt`] with a fixed salt: the same inputs give the same output, as
/// Ansible's `VAULT_ENCRYPT_SALT` setting does (whose salt is the setting's
/// UTF-8 bytes). Meant for reproducible fixtures and tests only: reusing a
/// salt with a password reuses its keystream.
pub fn encrypt_with_salt(
    plaintext: &[u8],
    secret: &VaultSecret,
    vault_id: Option<&str>,
    salt: &[u8],
) -> Result<String, VaultError> {
    encrypt_named(plaintext, secret, vault_id, salt, Path::new(IN_MEMORY))
}

fn encrypt_named(
    plaintext: &[u8],
    secret: &VaultSecret,
    vault_id: Option<&str>,
    salt: &[u8],
    path: &Path,
) -> Result<String, VaultError> {
    if is_vaulted(plaintext) {
        return Err(VaultError::AlreadyVaulted {
            path: path.to_path_buf(),
        });
    }
    if secret.bytes().is_empty() {
        return Err(VaultError::EmptyPassword);
    }
    if let Some(id) = vault_id {
        check_vault_id(id)?;
    }
    let (hmac, ciphertext) = cipher::seal(plaintext, secret.bytes(), salt);
    Ok(envelope::format(vault_id, salt, &hmac, &ciphertext))
}

/// A vault id must survive being written into the `;`-separated, stripped,
/// ASCII header and read back.
fn check_vault_id(id: &str) -> Result<(), VaultError> {
    let printable = id.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b';');
    if printable && id.trim() == id {
        Ok(())
    } else {
        Err(VaultError::InvalidVaultId {
            vault_id: id.to_owned(),
        })
    }
}

/// Decrypts vault text (a whole vaulted file's contents) as
/// `ansible-vault view` does. Errors name the data `<input>`.
pub fn decrypt(text: &[u8], secret: &VaultSecret) -> Result<Decrypted, VaultError> {
    decrypt_at(text, secret, &Location::new(IN_MEMORY, 1, 1), false)
}

/// Decrypts an inline `!vault` value.
///
/// `at` is where the value's text starts (the first character of the
/// ciphertext, after YAML has removed the block indentation); error locations
/// are offset from it, assuming every line is indented like the first.
/// Blank lines before the header and whitespace around lines are accepted.
pub fn decrypt_value(
    value: &Value,
    secret: &VaultSecret,
    at: &Location,
) -> Result<Decrypted, VaultError> {
    match value {
        Value::Vault(text) => decrypt_at(text.as_bytes(), secret, at, true),
        _ => Err(VaultError::NotVaultValue {
            location: at.clone(),
        }),
    }
}

/// Decrypts `text` with `old` and encrypts the plaintext again with `new`, as
/// `ansible-vault rekey` does: the new text has `new_vault_id`'s header
/// (1.1 when it is `None`), whatever the old header said.
pub fn rekey(
    text: &[u8],
    old: &VaultSecret,
    new: &VaultSecret,
    new_vault_id: Option<&str>,
) -> Result<String, VaultError> {
    let decrypted = decrypt(text, old)?;
    encrypt(&decrypted.plaintext, new, new_vault_id)
}

/// Decrypts text that starts at `origin` (file, line and column).
fn decrypt_at(
    text: &[u8],
    secret: &VaultSecret,
    origin: &Location,
    lenient: bool,
) -> Result<Decrypted, VaultError> {
    let parsed = envelope::parse(text, origin, lenient)?;
    let path = || origin.path.clone();
    let plaintext = cipher::open(
        &parsed.ciphertext,
        &parsed.hmac,
        secret.bytes(),
        &parsed.salt,
    )
    .map_err(|error| match error {
        cipher::OpenError::WrongPassword => VaultError::WrongPassword { path: path() },
        cipher::OpenError::Tampered => VaultError::Tampered { path: path() },
        cipher::OpenError::InvalidPadding => VaultError::InvalidPadding { path: path() },
    })?;
    Ok(Decrypted {
        plaintext,
        vault_id: parsed.vault_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> VaultSecret {
        VaultSecret::new("pw")
    }

    #[test]
    fn round_trip_keeps_plaintext_and_vault_id() {
        for id in [None, Some("prod")] {
            let text = encrypt(b"a: 1\n", &secret(), id).unwrap();
            let decrypted = decrypt(text.as_bytes(), &secret()).unwrap();
            assert_eq!(decrypted.plaintext, b"a: 1\n");
            assert_eq!(decrypted.vault_id.as_deref(), id);
        }
    }

    #[test]
    fn fixed_salt_is_deterministic_and_random_salt_is_not() {
        let a = encrypt_with_salt(b"x", &secret(), None, b"salt").unwrap();
        let b = encrypt_with_salt(b"x", &secret(), None, b"salt").unwrap();
        assert_eq!(a, b);
        assert_ne!(
            encrypt(b"x", &secret(), None).unwrap(),
            encrypt(b"x", &secret(), None).unwrap()
        );
    }

    #[test]
    fn encrypt_refuses_vaulted_input_empty_password_and_bad_ids() {
        let text = encrypt(b"x", &secret(), None).unwrap();
        assert!(matches!(
            encrypt(text.as_bytes(), &secret(), None),
            Err(VaultError::AlreadyVaulted { .. })
        ));
        assert!(matches!(
            encrypt(b"x", &VaultSecret::new(""), None),
            Err(VaultError::EmptyPassword)
        ));
        for id in ["a;b", " a", "a\n", "é"] {
            assert!(matches!(
                encrypt(b"x", &secret(), Some(id)),
                Err(VaultError::InvalidVaultId { .. })
            ));
        }
    }

    #[test]
    fn wrong_password_and_tampering_are_distinct() {
        let text = encrypt(b"password: hunter2\n", &secret(), None).unwrap();
        let error = decrypt(text.as_bytes(), &VaultSecret::new("other")).unwrap_err();
        assert!(matches!(error, VaultError::WrongPassword { .. }), "{error}");
        assert!(!error.to_string().contains("hunter2"));

        // Change one HMAC hex digit (inner line 2) by rewriting the envelope.
        let parsed = envelope::parse(text.as_bytes(), &Location::new("x", 1, 1), false).unwrap();
        let mut hmac = parsed.hmac.clone();
        hmac[3] ^= 0x40;
        let forged = envelope::format(None, &parsed.salt, &hmac, &parsed.ciphertext);
        let error = decrypt(forged.as_bytes(), &secret()).unwrap_err();
        assert!(matches!(error, VaultError::Tampered { .. }), "{error}");
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn is_vaulted_is_ansibles_is_encrypted() {
        assert!(is_vaulted(b"$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(!is_vaulted(b"$ANSIBLE_VAULT;1.1;AES256\n\xff"));
        assert!(!is_vaulted(b" $ANSIBLE_VAULT"));
        assert!(!is_vaulted(b""));
    }

    #[test]
    fn inline_values_decrypt_and_other_values_are_refused() {
        let text = encrypt(b"v", &secret(), None).unwrap();
        let at = Location::new("group_vars/all", 4, 11);
        let indented: String = text.lines().map(|l| format!("  {l}\n")).collect();
        let decrypted = decrypt_value(&Value::Vault(indented), &secret(), &at).unwrap();
        assert_eq!(decrypted.plaintext, b"v");
        assert!(matches!(
            decrypt_value(&Value::from("plain"), &secret(), &at),
            Err(VaultError::NotVaultValue { .. })
        ));
    }

    #[test]
    fn rekey_changes_password_and_header() {
        let text = encrypt(b"k: v\n", &secret(), Some("old")).unwrap();
        let new = VaultSecret::new("new");
        let rekeyed = rekey(text.as_bytes(), &secret(), &new, None).unwrap();
        assert!(rekeyed.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
        assert_eq!(
            decrypt(rekeyed.as_bytes(), &new).unwrap().plaintext,
            b"k: v\n"
        );
        assert!(matches!(
            decrypt(rekeyed.as_bytes(), &secret()),
            Err(VaultError::WrongPassword { .. })
        ));
    }

    #[test]
    fn debug_of_decrypted_hides_the_plaintext() {
        let text = encrypt(b"hunter2", &secret(), None).unwrap();
        let decrypted = decrypt(text.as_bytes(), &secret()).unwrap();
        assert!(!format!("{decrypted:?}").contains("hunter2"));
    }
}
