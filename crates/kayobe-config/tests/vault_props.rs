//! Properties: round trips for arbitrary data, passwords and vault ids;
//! decrypting mutated or arbitrary input never panics; and a few generated
//! cases checked against ansible-vault, batched into one call per direction.

use std::path::Path;
use std::process::Command;

use kayobe_config::vault::{self, VaultError, VaultSecret};
use kayobe_config::{Location, Value};
use proptest::prelude::*;

fn vault_id() -> impl Strategy<Value = Option<String>> {
    // Printable ASCII without `;` or spaces: what a header can carry.
    proptest::option::of("[!-:<-~]{1,16}")
}

/// A vault id `ansible-vault --vault-id ID@FILE` can pass: also without `@`,
/// where the command line splits it.
fn cli_vault_id() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[!-:<-?A-~]{1,16}")
}

fn password() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..48)
}

/// A mutation of vault text: overwrite, insert or delete a byte, or truncate.
#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
        (
            any::<usize>(),
            prop_oneof![Just(b'\n'), Just(b';'), Just(b'0'), any::<u8>()]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &mut Vec<u8>, mutation: &Mutation) {
    let len = text.len();
    match *mutation {
        Mutation::Overwrite(i, b) => text[i % len] = b,
        Mutation::Insert(i, b) => text.insert(i % (len + 1), b),
        Mutation::Delete(i) => {
            text.remove(i % len);
        }
        Mutation::Truncate(i) => text.truncate(i % len),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encrypt_then_decrypt_round_trips(
        plaintext in proptest::collection::vec(any::<u8>(), 0..1500),
        password in password(),
        vault_id in vault_id(),
    ) {
        prop_assume!(!vault::is_vaulted(&plaintext));
        let secret = VaultSecret::new(password);
        let text = vault::encrypt(&plaintext, &secret, vault_id.as_deref()).unwrap();
        prop_assert!(vault::is_vaulted(text.as_bytes()));
        prop_assert!(text.lines().all(|line| line.len() <= 80 || line.starts_with("$ANSIBLE_VAULT")));
        let decrypted = vault::decrypt(text.as_bytes(), &secret).unwrap();
        prop_assert_eq!(decrypted.plaintext, plaintext);
        prop_assert_eq!(decrypted.vault_id, vault_id.filter(|id| id != "default"));
    }

    #[test]
    fn rekey_moves_data_to_the_new_password(
        plaintext in "[ -~\n]{0,300}",
        old in password(),
        new in password(),
        new_vault_id in vault_id(),
    ) {
        prop_assume!(old != new && !vault::is_vaulted(plaintext.as_bytes()));
        let (old, new) = (VaultSecret::new(old), VaultSecret::new(new));
        let text = vault::encrypt(plaintext.as_bytes(), &old, None).unwrap();
        let rekeyed = vault::rekey(text.as_bytes(), &old, &new, new_vault_id.as_deref()).unwrap();
        prop_assert_eq!(vault::decrypt(rekeyed.as_bytes(), &new).unwrap().plaintext, plaintext.as_bytes());
        let wrong = vault::decrypt(rekeyed.as_bytes(), &old);
        prop_assert!(matches!(wrong, Err(VaultError::WrongPassword { .. })), "{:?}", wrong);
    }

    #[test]
    fn decrypting_mutated_vault_text_never_panics(
        plaintext in "[a-z: \n]{0,100}",
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let secret = VaultSecret::new("pw");
        let mut text = vault::encrypt(plaintext.as_bytes(), &secret, Some("id")).unwrap().into_bytes();
        for mutation in &mutations {
            if text.is_empty() {
                break;
            }
            apply(&mut text, mutation);
        }
        if let Ok(decrypted) = vault::decrypt(&text, &secret) {
            // Only mutations that keep the authenticated data (line breaks,
            // header spacing, hex case) can still decrypt, to the same plaintext.
            prop_assert_eq!(decrypted.plaintext, plaintext.as_bytes());
        }
        let value = Value::Vault(String::from_utf8_lossy(&text).into_owned());
        let _ = vault::decrypt_value(&value, &secret, &Location::new("x.yml", 3, 7));
    }

    #[test]
    fn decrypting_arbitrary_input_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        header in prop_oneof![Just(&b"$ANSIBLE_VAULT;1.1;AES256\n"[..]), Just(&b"$ANSIBLE_VAULT"[..]), Just(&b""[..])],
    ) {
        let text = [header, &body].concat();
        let _ = vault::decrypt(&text, &VaultSecret::new("pw"));
    }
}

fn ansible_vault(dir: &Path, args: &[&str]) {
    let Some(tool) = kayobe_automation_tests::tool("ansible-vault") else {
        return;
    };
    let output = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "ansible-vault {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

proptest! {
    // Each case runs ansible-vault twice (~0.5 s each), for all its inputs at once.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn ansible_vault_agrees_both_ways_on_generated_inputs(
        plaintexts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..6),
        password in "[^\\s]{1,24}",
        vault_id in cli_vault_id(),
    ) {
        if kayobe_automation_tests::tool("ansible-vault").is_none() {
            return Ok(());
        }
        prop_assume!(plaintexts.iter().all(|p| !vault::is_vaulted(p)));
        prop_assume!(!password.starts_with("$ANSIBLE_VAULT"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("password"), &password).unwrap();
        let secret = VaultSecret::new(password.as_bytes());
        // One argument: argparse takes an id starting with `-` for an option.
        let id_arg = format!(
            "--vault-id={}@password",
            vault_id.as_deref().unwrap_or("default")
        );

        // Ours -> ansible-vault decrypt, one call for all files.
        let mut names = Vec::new();
        for (i, plaintext) in plaintexts.iter().enumerate() {
            let name = format!("ours-{i}");
            let text = vault::encrypt(plaintext, &secret, vault_id.as_deref()).unwrap();
            std::fs::write(dir.path().join(&name), text).unwrap();
            names.push(name);
        }
        let mut args = vec!["decrypt", id_arg.as_str()];
        args.extend(names.iter().map(String::as_str));
        ansible_vault(dir.path(), &args);
        for (name, plaintext) in names.iter().zip(&plaintexts) {
            prop_assert_eq!(&std::fs::read(dir.path().join(name)).unwrap(), plaintext);
        }

        // ansible-vault encrypt -> ours, one call for all files.
        let mut names = Vec::new();
        for (i, plaintext) in plaintexts.iter().enumerate() {
            let name = format!("theirs-{i}");
            std::fs::write(dir.path().join(&name), plaintext).unwrap();
            names.push(name);
        }
        let mut args = vec!["encrypt", id_arg.as_str()];
        args.extend(names.iter().map(String::as_str));
        ansible_vault(dir.path(), &args);
        for (name, plaintext) in names.iter().zip(&plaintexts) {
            let decrypted = vault::view_file(&dir.path().join(name), &secret).unwrap();
            prop_assert_eq!(&decrypted.plaintext, plaintext);
            prop_assert_eq!(decrypted.vault_id, vault_id.clone().filter(|id| id != "default"));
        }
    }
}
