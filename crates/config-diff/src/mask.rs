//! Stable masks for secret values.
//!
//! A secret is replaced by `<secret sha256:XXXXXXXXXXXX>`: the first 12 hex
//! digits of HMAC-SHA256 over the value's canonical JSON, keyed by a key
//! derived from the vault password. Equal values on both sides get equal
//! masks and a changed value a different one, so the diff shows *that* a
//! secret changed without its value; the key keeps someone without the vault
//! password from confirming a guessed value against a published diff.

use hmac::{Hmac, Mac};
use kayobe_config::value::{Map, Value};
use kayobe_config::vault::VaultSecret;
use sha2::Sha256;

/// What the mask key is derived from, besides the password.
const MASK_KEY_CONTEXT: &[u8] = b"kayobe-automation config-diff secret mask v1";
/// How every mask starts.
pub(crate) const MASK_PREFIX: &str = "<secret sha256:";

/// How many hex digits of the keyed hash a mask shows.
const MASK_HEX_DIGITS: usize = 12;

/// Replaces secret values with stable keyed-hash masks.
#[derive(Clone)]
pub struct Masker {
    key: [u8; 32],
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is derived from the vault password: never print it.
        f.write_str("Masker { .. }")
    }
}

impl Masker {
    /// A masker keyed by the vault password (an empty key without one: a
    /// configuration without a vault password has no secrets to mask).
    pub fn new(secret: Option<&VaultSecret>) -> Self {
        let password = secret.map(VaultSecret::bytes).unwrap_or_default();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password)
            .expect("HMAC accepts keys of any length");
        mac.update(MASK_KEY_CONTEXT);
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The mask of the bytes `plaintext`.
    pub fn mask_bytes(&self, plaintext: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(plaintext);
        let digest = hex::encode(mac.finalize().into_bytes());
        format!("{MASK_PREFIX}{}>", &digest[..MASK_HEX_DIGITS])
    }

    /// `value` with every scalar replaced by its mask; maps and lists keep
    /// their shape, so a diff can say which nested key of a secret changed.
    pub fn mask_leaves(&self, value: &Value) -> Value {
        match value {
            Value::Map(map) => Value::Map(
                map.iter()
                    .map(|(key, value)| (key.clone(), self.mask_leaves(value)))
                    .collect::<Map>(),
            ),
            Value::List(items) => Value::List(items.iter().map(|v| self.mask_leaves(v)).collect()),
            scalar => Value::String(self.mask_bytes(scalar.to_json().to_string().as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_stable_keyed_and_distinct() {
        let secret = VaultSecret::new("password");
        let masker = Masker::new(Some(&secret));
        let mask = masker.mask_bytes(b"hunter2");
        assert_eq!(mask, Masker::new(Some(&secret)).mask_bytes(b"hunter2"));
        assert_ne!(mask, masker.mask_bytes(b"hunter3"));
        assert_ne!(
            mask,
            Masker::new(Some(&VaultSecret::new("other"))).mask_bytes(b"hunter2")
        );
        assert!(mask.starts_with("<secret sha256:") && mask.ends_with('>'));
        assert_eq!(mask.len(), "<secret sha256:>".len() + MASK_HEX_DIGITS);
        assert!(!format!("{masker:?}").contains(&hex::encode(masker.key)));
    }

    #[test]
    fn mask_leaves_keeps_shape() {
        let masker = Masker::new(None);
        let mut inner = Map::new();
        inner.insert("a".into(), Value::Int(1));
        let masked = masker.mask_leaves(&Value::List(vec![Value::Map(inner), Value::Bool(true)]));
        let Value::List(items) = masked else {
            panic!("a list stays a list")
        };
        let Value::Map(map) = &items[0] else {
            panic!("a map stays a map")
        };
        assert_eq!(map["a"], Value::String(masker.mask_bytes(b"1")));
        assert_eq!(items[1], Value::String(masker.mask_bytes(b"true")));
    }
}
