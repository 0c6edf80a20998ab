//! The AES256 cipher of ansible-vault (`VaultAES256`): PBKDF2-HMAC-SHA256 key
//! derivation, AES-256-CTR over PKCS7-padded plaintext, HMAC-SHA256 over the
//! ciphertext.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;
type HmacSha256 = Hmac<Sha256>;

/// PBKDF2 rounds ansible-vault uses.
const PBKDF2_ROUNDS: u32 = 10_000;
/// AES block size: PKCS7 pads to it and the CTR counter block is this long.
const BLOCK: usize = 16;
/// Salt length ansible-vault draws from `os.urandom` when none is configured.
pub(super) const SALT_LEN: usize = 32;

/// The three values PBKDF2 derives from password and salt, in this order.
struct Keys {
    cipher: [u8; 32],
    mac: [u8; 32],
    iv: [u8; BLOCK],
}

fn derive_keys(password: &[u8], salt: &[u8]) -> Keys {
    let mut material = [0u8; 32 + 32 + BLOCK];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, PBKDF2_ROUNDS, &mut material);
    let mut keys = Keys {
        cipher: [0; 32],
        mac: [0; 32],
        iv: [0; BLOCK],
    };
    keys.cipher.copy_from_slice(&material[..32]);
    keys.mac.copy_from_slice(&material[32..64]);
    keys.iv.copy_from_slice(&material[64..]);
    material.fill(0);
    keys
}

fn mac(keys: &Keys) -> HmacSha256 {
    HmacSha256::new_from_slice(&keys.mac).expect("HMAC accepts keys of any length")
}

/// Encrypts `plaintext`: returns the HMAC tag and the ciphertext.
pub(super) fn seal(plaintext: &[u8], password: &[u8], salt: &[u8]) -> ([u8; 32], Vec<u8>) {
    let keys = derive_keys(password, salt);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = Vec::with_capacity(plaintext.len() + pad);
    data.extend_from_slice(plaintext);
    data.resize(plaintext.len() + pad, pad as u8);
    Aes256Ctr::new(&keys.cipher.into(), &keys.iv.into()).apply_keystream(&mut data);
    let mut tag = mac(&keys);
    tag.update(&data);
    (tag.finalize().into_bytes().into(), data)
}

/// Why [`open`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenError {
    /// HMAC mismatch, and the decryption is garbage: another password.
    WrongPassword,
    /// HMAC mismatch, but the decryption is well-formed text: the password is
    /// right and the data or its HMAC was changed.
    Tampered,
    /// The HMAC matches but the padding is invalid: not ansible-vault's output.
    InvalidPadding,
}

/// Decrypts `ciphertext`, checking `tag` (the HMAC as stored, any length).
pub(super) fn open(
    ciphertext: &[u8],
    tag: &[u8],
    password: &[u8],
    salt: &[u8],
) -> Result<Vec<u8>, OpenError> {
    let keys = derive_keys(password, salt);
    let mut check = mac(&keys);
    check.update(ciphertext);
    // `verify_slice` compares in constant time and rejects a tag of another length.
    let authentic = check.verify_slice(tag).is_ok();
    let mut data = ciphertext.to_vec();
    Aes256Ctr::new(&keys.cipher.into(), &keys.iv.into()).apply_keystream(&mut data);
    let unpadded = unpad(&data);
    match (authentic, unpadded) {
        (true, Some(len)) => {
            data.truncate(len);
            Ok(data)
        }
        (true, None) => Err(OpenError::InvalidPadding),
        // The HMAC failed either way; a right password still yields valid
        // padding around UTF-8 text, which garbage almost never is.
        (false, Some(len)) if std::str::from_utf8(&data[..len]).is_ok() => {
            data.fill(0);
            Err(OpenError::Tampered)
        }
        (false, _) => {
            data.fill(0);
            Err(OpenError::WrongPassword)
        }
    }
}

/// The plaintext length if `data` ends in valid PKCS7 padding, as Python's
/// `cryptography` unpadder checks it: whole blocks, pad length 1 to 16.
fn unpad(data: &[u8]) -> Option<usize> {
    if data.is_empty() || data.len() % BLOCK != 0 {
        return None;
    }
    let pad = *data.last()? as usize;
    if pad == 0 || pad > BLOCK {
        return None;
    }
    let (text, padding) = data.split_at(data.len() - pad);
    padding
        .iter()
        .all(|&byte| byte as usize == pad)
        .then_some(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_every_padding_length() {
        for len in 0..=33 {
            let plaintext: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let (tag, ciphertext) = seal(&plaintext, b"pw", b"salt");
            assert_eq!(ciphertext.len() % BLOCK, 0);
            assert!(ciphertext.len() > plaintext.len());
            assert_eq!(open(&ciphertext, &tag, b"pw", b"salt"), Ok(plaintext));
        }
    }

    #[test]
    fn another_password_is_wrong_password() {
        let (tag, ciphertext) = seal(b"secret: value\n", b"right", b"salt");
        assert_eq!(
            open(&ciphertext, &tag, b"wrong", b"salt"),
            Err(OpenError::WrongPassword)
        );
    }

    #[test]
    fn changed_tag_or_ciphertext_with_right_password_is_tampered() {
        let (mut tag, ciphertext) = seal(b"secret: value\n", b"pw", b"salt");
        tag[0] ^= 1;
        assert_eq!(
            open(&ciphertext, &tag, b"pw", b"salt"),
            Err(OpenError::Tampered)
        );
        let (tag, mut ciphertext) = seal(b"secret: value\n", b"pw", b"salt");
        ciphertext[0] ^= 1; // 's' becomes 'r': still text
        assert_eq!(
            open(&ciphertext, &tag, b"pw", b"salt"),
            Err(OpenError::Tampered)
        );
    }

    #[test]
    fn authentic_data_with_bad_padding_is_reported_as_such() {
        let keys = derive_keys(b"pw", b"salt");
        let mut data = vec![b'x'; BLOCK]; // last byte 'x' is not a pad length
        Aes256Ctr::new(&keys.cipher.into(), &keys.iv.into()).apply_keystream(&mut data);
        let mut tag = mac(&keys);
        tag.update(&data);
        let tag = tag.finalize().into_bytes();
        assert_eq!(
            open(&data, &tag, b"pw", b"salt"),
            Err(OpenError::InvalidPadding)
        );
    }

    #[test]
    fn unpad_checks_every_padding_byte() {
        let mut block = [4u8; BLOCK];
        assert_eq!(unpad(&block), Some(12));
        block[13] = 3;
        assert_eq!(unpad(&block), None);
        assert_eq!(unpad(&[16u8; 16]), Some(0));
        assert_eq!(unpad(&[17u8; 16]), None);
        assert_eq!(unpad(&[0u8; 16]), None);
        assert_eq!(unpad(&[1u8; 15]), None);
        assert_eq!(unpad(&[]), None);
    }
}
