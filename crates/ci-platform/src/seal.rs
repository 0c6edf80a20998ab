//! GitHub's secret encryption: a libsodium sealed box (X25519, XSalsa20-Poly1305).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_box::PublicKey;
use crypto_box::aead::OsRng;

/// Seals `plaintext` for the holder of the base64 `public_key` and returns
/// the base64 ciphertext, as GitHub's secrets API expects; `None` when the
/// key is not base64 of 32 bytes.
pub fn seal(public_key: &str, plaintext: &[u8]) -> Option<String> {
    let bytes: [u8; 32] = STANDARD.decode(public_key).ok()?.try_into().ok()?;
    let key = PublicKey::from(bytes);
    let sealed = key.seal(&mut OsRng, plaintext).ok()?;
    Some(STANDARD.encode(sealed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_box::SecretKey;

    #[test]
    fn sealed_box_opens_with_the_secret_key() {
        let secret = SecretKey::generate(&mut OsRng);
        let public = STANDARD.encode(secret.public_key().as_bytes());
        let sealed = seal(&public, b"hunter2").unwrap();
        let opened = secret.unseal(&STANDARD.decode(sealed).unwrap()).unwrap();
        assert_eq!(opened, b"hunter2");
        assert_eq!(seal("not base64!", b"x"), None);
        assert_eq!(seal(&STANDARD.encode([0u8; 31]), b"x"), None);
    }
}
