#![no_main]
//! Decrypting arbitrary bytes, as a file and as an inline `!vault` value, must
//! return an error or a plaintext, never panic.

use kayobe_config::vault::{self, VaultSecret};
use kayobe_config::{Location, Value};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let secret = VaultSecret::new("fuzz-password");
    let _ = vault::decrypt(data, &secret);
    let value = Value::Vault(String::from_utf8_lossy(data).into_owned());
    let _ = vault::decrypt_value(&value, &secret, &Location::new("fuzz.yml", 1, 1));
});
