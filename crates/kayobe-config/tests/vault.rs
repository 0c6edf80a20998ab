//! Vault round trips, errors and file handling through the public API.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use kayobe_config::vault::{
    self, EnvelopeProblem, HexSection, PasswordFileProblem, VaultError, VaultSecret,
};
use kayobe_config::{Location, Value};

const PLAINTEXT: &[u8] = b"---\ndatabase_password: s3cr3t-value\nkeystone_admin_password: other\n";

fn secret() -> VaultSecret {
    VaultSecret::new("test-password")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn write_with_mode(path: &Path, contents: &[u8], mode: u32) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    names
}

#[test]
fn binary_and_empty_plaintexts_round_trip() {
    for plaintext in [&b""[..], b"\0\xff\xfe binary", PLAINTEXT] {
        let text = vault::encrypt(plaintext, &secret(), None).unwrap();
        assert!(vault::is_vaulted(text.as_bytes()));
        assert_eq!(
            vault::decrypt(text.as_bytes(), &secret())
                .unwrap()
                .plaintext,
            plaintext
        );
    }
}

#[test]
fn encrypt_output_lines_are_80_columns_with_a_final_newline() {
    let text = vault::encrypt(&[b'x'; 500], &secret(), Some("prod")).unwrap();
    let mut lines = text.split('\n').collect::<Vec<_>>();
    assert_eq!(lines.pop(), Some(""), "ends with exactly one newline");
    assert_eq!(lines[0], "$ANSIBLE_VAULT;1.2;AES256;prod");
    let (last, full) = lines[1..].split_last().unwrap();
    assert!(full.iter().all(|line| line.len() == 80));
    assert!(!last.is_empty() && last.len() <= 80);
}

#[test]
fn wrong_password_and_tampered_data_are_distinct_errors_without_secrets() {
    let text = vault::encrypt(PLAINTEXT, &secret(), None).unwrap();
    let wrong = vault::decrypt(text.as_bytes(), &VaultSecret::new("nope")).unwrap_err();
    assert!(matches!(wrong, VaultError::WrongPassword { .. }), "{wrong}");

    let tampered = flip_low_bit_of_first_ciphertext_byte(&text);
    let error = vault::decrypt(tampered.as_bytes(), &secret()).unwrap_err();
    assert!(matches!(error, VaultError::Tampered { .. }), "{error}");

    for error in [wrong, error] {
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("test-password"),
            "{shown}"
        );
    }
}

/// Re-frames `text` with the first ciphertext byte's lowest bit flipped: the
/// plaintext's first byte changes (`-` becomes `,`) but stays text.
fn flip_low_bit_of_first_ciphertext_byte(text: &str) -> String {
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let inner = hex::decode(lines.collect::<String>()).unwrap();
    let mut inner = String::from_utf8(inner).unwrap();
    let ciphertext_start = inner.rfind('\n').unwrap() + 1;
    let digit = u8::from_str_radix(&inner[ciphertext_start + 1..ciphertext_start + 2], 16).unwrap();
    inner.replace_range(
        ciphertext_start + 1..ciphertext_start + 2,
        &format!("{:x}", digit ^ 1),
    );
    let outer = hex::encode(inner);
    let mut framed = format!("{header}\n");
    for chunk in outer.as_bytes().chunks(80) {
        framed.push_str(std::str::from_utf8(chunk).unwrap());
        framed.push('\n');
    }
    framed
}

#[test]
fn malformed_files_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.yml");
    let text = vault::encrypt(PLAINTEXT, &secret(), None).unwrap();
    let broken = text.replacen('\n', "\n3z", 2).replacen("\n3z", "\n", 1);
    std::fs::write(&path, &broken).unwrap();
    let error = vault::view_file(&path, &secret()).unwrap_err();
    match &error {
        VaultError::Malformed { location, problem } => {
            assert_eq!(*location, Location::new(&path, 3, 2));
            assert_eq!(
                *problem,
                EnvelopeProblem::InvalidHex {
                    section: HexSection::Body
                }
            );
        }
        other => panic!("expected a malformed envelope, got {other}"),
    }
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}:3:2: ", path.display())),
        "{message}"
    );
    assert!(message.contains("restore the file"), "{message}");

    // Header only.
    std::fs::write(&path, "$ANSIBLE_VAULT;1.1;AES256\n").unwrap();
    assert!(matches!(
        vault::view_file(&path, &secret()),
        Err(VaultError::Malformed {
            problem: EnvelopeProblem::MissingBody,
            ..
        })
    ));
    // Lines dropped from the end leave an odd digit count or missing sections.
    let truncated: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, &truncated).unwrap();
    assert!(matches!(
        vault::view_file(&path, &secret()),
        Err(VaultError::Malformed { .. } | VaultError::WrongPassword { .. })
    ));
}

#[test]
fn plain_files_are_not_vaulted_and_vaulted_files_are_not_encrypted_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.yml");
    std::fs::write(&path, PLAINTEXT).unwrap();
    let error = vault::view_file(&path, &secret()).unwrap_err();
    assert!(
        matches!(&error, VaultError::NotVaulted { path: p } if *p == path),
        "{error}"
    );

    vault::encrypt_file(&path, &secret(), None, None).unwrap();
    let error = vault::encrypt_file(&path, &secret(), None, None).unwrap_err();
    assert!(
        matches!(&error, VaultError::AlreadyVaulted { path: p } if *p == path),
        "{error}"
    );
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.yml");
    let error = vault::view_file(&path, &secret()).unwrap_err();
    assert!(matches!(&error, VaultError::Io { path: p, .. } if *p == path));
    assert!(error.to_string().contains("missing.yml"));
}

#[test]
fn file_operations_keep_the_mode_and_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passwords.yml");
    write_with_mode(&path, PLAINTEXT, 0o640);

    vault::encrypt_file(&path, &secret(), Some("prod"), None).unwrap();
    assert_eq!(mode(&path), 0o640);
    let viewed = vault::view_file(&path, &secret()).unwrap();
    assert_eq!(viewed.plaintext, PLAINTEXT);
    assert_eq!(viewed.vault_id.as_deref(), Some("prod"));

    let new = VaultSecret::new("new-password");
    vault::rekey_file(&path, &secret(), &new, None).unwrap();
    assert_eq!(mode(&path), 0o640);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("$ANSIBLE_VAULT;1.1;AES256\n")
    );

    // Plaintext that was vaulted is never wider than 0600.
    vault::decrypt_file(&path, &new, None).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(std::fs::read(&path).unwrap(), PLAINTEXT);
    assert_eq!(entries(dir.path()), vec![path]);
}

#[test]
fn output_files_are_new_files_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.yml");
    let output = dir.path().join("out.yml");
    write_with_mode(&path, PLAINTEXT, 0o644);
    vault::encrypt_file(&path, &secret(), None, Some(&output)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), PLAINTEXT, "input untouched");
    assert_eq!(mode(&output), 0o600);
    let plain = dir.path().join("plain.yml");
    vault::decrypt_file(&output, &secret(), Some(&plain)).unwrap();
    assert_eq!(std::fs::read(&plain).unwrap(), PLAINTEXT);
}

#[test]
fn failed_operations_leave_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.yml");
    std::fs::write(&path, PLAINTEXT).unwrap();
    vault::encrypt_file(&path, &secret(), None, None).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(vault::decrypt_file(&path, &VaultSecret::new("wrong"), None).is_err());
    assert!(vault::rekey_file(&path, &VaultSecret::new("wrong"), &secret(), None).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // An unwritable directory: the write fails and nothing changes.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let result = vault::decrypt_file(&path, &secret(), None);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    if !is_root() {
        assert!(matches!(result, Err(VaultError::Io { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
    assert_eq!(entries(dir.path()), vec![path]);
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

#[test]
fn in_place_operations_replace_the_symlink_target() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.yml");
    let link = dir.path().join("link.yml");
    std::fs::write(&real, PLAINTEXT).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    vault::encrypt_file(&link, &secret(), None, None).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(vault::is_vaulted(&std::fs::read(&real).unwrap()));
}

#[test]
fn view_files_keeps_order_and_reports_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..12 {
        let path = dir.path().join(format!("f{i}.yml"));
        let text = vault::encrypt(format!("n: {i}\n").as_bytes(), &secret(), None).unwrap();
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    paths.insert(5, dir.path().join("missing.yml"));
    let results = vault::view_files(&paths, &secret());
    assert_eq!(results.len(), 13);
    for (i, result) in results.into_iter().enumerate() {
        match i.cmp(&5) {
            std::cmp::Ordering::Less => {
                assert_eq!(result.unwrap().plaintext, format!("n: {i}\n").as_bytes())
            }
            std::cmp::Ordering::Equal => assert!(matches!(result, Err(VaultError::Io { .. }))),
            std::cmp::Ordering::Greater => {
                assert_eq!(
                    result.unwrap().plaintext,
                    format!("n: {}\n", i - 1).as_bytes()
                )
            }
        }
    }
}

#[test]
fn inline_vault_values_decrypt_with_yaml_indentation_removed_or_not() {
    let text = vault::encrypt(b"registry-password", &secret(), None).unwrap();
    let at = Location::new("etc/kayobe/kolla.yml", 5, 11);
    for value in [
        text.clone(),
        text.trim_end().to_owned(),
        text.replace('\n', "\n          "),
    ] {
        let decrypted = vault::decrypt_value(&Value::Vault(value), &secret(), &at).unwrap();
        assert_eq!(decrypted.plaintext, b"registry-password");
    }
    // Break the first line of the body (the line after the header).
    let body = text.find('\n').unwrap() + 1;
    let broken = format!("{}#{}", &text[..body], &text[body + 1..]);
    match vault::decrypt_value(&Value::Vault(broken), &secret(), &at) {
        Err(VaultError::Malformed { location, .. }) => {
            assert_eq!(location, Location::new("etc/kayobe/kolla.yml", 6, 11))
        }
        other => panic!("expected a malformed value, got {other:?}"),
    }
}

#[test]
fn password_files_and_scripts_are_read_as_ansible_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vault-password");
    std::fs::write(&file, " test-password\n\n").unwrap();
    let from_file = VaultSecret::from_file(&file).unwrap();
    let text = vault::encrypt(PLAINTEXT, &from_file, None).unwrap();
    assert_eq!(
        vault::decrypt(text.as_bytes(), &secret())
            .unwrap()
            .plaintext,
        PLAINTEXT
    );

    let script = dir.path().join("password.sh");
    write_with_mode(
        &script,
        b"#!/bin/sh\nprintf ' test-password \\r\\n'\n",
        0o700,
    );
    let from_script = VaultSecret::from_file(&script).unwrap();
    // Only newlines are stripped from script output: the spaces stay.
    assert!(matches!(
        vault::decrypt(text.as_bytes(), &from_script),
        Err(VaultError::WrongPassword { .. })
    ));
    let spaced = vault::encrypt(PLAINTEXT, &VaultSecret::new(" test-password "), None).unwrap();
    assert_eq!(
        vault::decrypt(spaced.as_bytes(), &from_script)
            .unwrap()
            .plaintext,
        PLAINTEXT
    );

    let client = dir.path().join("keyring-client.sh");
    write_with_mode(
        &client,
        b"#!/bin/sh\n[ \"$1 $2\" = '--vault-id default' ] && echo test-password\n",
        0o700,
    );
    let from_client = VaultSecret::from_file(&client).unwrap();
    assert_eq!(
        vault::decrypt(text.as_bytes(), &from_client)
            .unwrap()
            .plaintext,
        PLAINTEXT
    );

    let failing = dir.path().join("failing.sh");
    write_with_mode(&failing, b"#!/bin/sh\nexit 3\n", 0o700);
    assert!(matches!(
        VaultSecret::from_file(&failing),
        Err(VaultError::PasswordFile {
            problem: PasswordFileProblem::ScriptFailed { .. },
            ..
        })
    ));
    assert!(matches!(
        VaultSecret::from_file(&dir.path().join("missing")),
        Err(VaultError::PasswordFile {
            problem: PasswordFileProblem::NotFound,
            ..
        })
    ));
    assert!(matches!(
        VaultSecret::from_file(dir.path()),
        Err(VaultError::PasswordFile {
            problem: PasswordFileProblem::Directory,
            ..
        })
    ));
}
