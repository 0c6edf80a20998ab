//! ansible-vault (ansible-core) as the oracle: what it encrypts we decrypt,
//! what we encrypt it decrypts, and with the same salt both write the same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use kayobe_config::vault::{self, VaultSecret};
use kayobe_config::{Location, Value};

const PASSWORD: &str = "oracle-password";
const PLAINTEXT: &[u8] = b"---\nmariadb_password: pA55w0rd\nrabbitmq_password: \"quoted: value\"\n";

fn ansible_vault() -> Option<PathBuf> {
    kayobe_automation_tests::tool("ansible-vault")
}

/// Runs ansible-vault in `dir`; returns stdout, failing the test with stderr.
fn run(tool: &Path, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Vec<u8> {
    let output = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().copied())
        .output()
        .expect("run ansible-vault");
    assert!(
        output.status.success(),
        "ansible-vault {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn password_file(dir: &Path) -> PathBuf {
    let path = dir.join("password");
    std::fs::write(&path, format!("{PASSWORD}\n")).unwrap();
    path
}

#[test]
fn what_ansible_vault_encrypts_we_decrypt_in_both_formats() {
    let Some(tool) = ansible_vault() else { return };
    let dir = tempfile::tempdir().unwrap();
    password_file(dir.path());
    std::fs::write(dir.path().join("v11.yml"), PLAINTEXT).unwrap();
    std::fs::write(dir.path().join("v12.yml"), PLAINTEXT).unwrap();
    run(
        &tool,
        dir.path(),
        &["encrypt", "--vault-password-file", "password", "v11.yml"],
        &[],
    );
    run(
        &tool,
        dir.path(),
        &["encrypt", "--vault-id", "prod@password", "v12.yml"],
        &[],
    );

    let secret = VaultSecret::new(PASSWORD);
    let v11 = vault::view_file(&dir.path().join("v11.yml"), &secret).unwrap();
    assert_eq!((v11.plaintext.as_slice(), v11.vault_id), (PLAINTEXT, None));
    let v12 = vault::view_file(&dir.path().join("v12.yml"), &secret).unwrap();
    assert_eq!(
        (v12.plaintext.as_slice(), v12.vault_id.as_deref()),
        (PLAINTEXT, Some("prod"))
    );
}

#[test]
fn with_the_same_salt_we_write_the_same_bytes_as_ansible_vault() {
    let Some(tool) = ansible_vault() else { return };
    let dir = tempfile::tempdir().unwrap();
    password_file(dir.path());
    let salt = "kayobe-fixed-salt";
    let plaintexts: [&[u8]; 3] = [PLAINTEXT, b"", &[b'z'; 200]];
    let mut names = Vec::new();
    for (i, plaintext) in plaintexts.iter().enumerate() {
        for id in ["v11", "v12"] {
            let name = format!("{id}-{i}.yml");
            std::fs::write(dir.path().join(&name), plaintext).unwrap();
            names.push(name);
        }
    }
    let env = [("ANSIBLE_VAULT_ENCRYPT_SALT", salt)];
    let (v11, v12): (Vec<&str>, Vec<&str>) = names
        .iter()
        .map(String::as_str)
        .partition(|n| n.starts_with("v11"));
    let mut args = vec!["encrypt", "--vault-password-file", "password"];
    args.extend(&v11);
    run(&tool, dir.path(), &args, &env);
    let mut args = vec!["encrypt", "--vault-id", "prod@password"];
    args.extend(&v12);
    run(&tool, dir.path(), &args, &env);

    let secret = VaultSecret::new(PASSWORD);
    for (i, plaintext) in plaintexts.iter().enumerate() {
        for (id, vault_id) in [("v11", None), ("v12", Some("prod"))] {
            let theirs = std::fs::read_to_string(dir.path().join(format!("{id}-{i}.yml"))).unwrap();
            let ours =
                vault::encrypt_with_salt(plaintext, &secret, vault_id, salt.as_bytes()).unwrap();
            assert_eq!(ours, theirs, "{id}-{i}");
        }
    }
}

#[test]
fn what_we_encrypt_ansible_vault_decrypts_and_views() {
    let Some(tool) = ansible_vault() else { return };
    let dir = tempfile::tempdir().unwrap();
    password_file(dir.path());
    let secret = VaultSecret::new(PASSWORD);
    let no_newline = b"no final newline";
    std::fs::write(
        dir.path().join("v11.yml"),
        vault::encrypt(PLAINTEXT, &secret, None).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("v12.yml"),
        vault::encrypt(PLAINTEXT, &secret, Some("prod")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("short"),
        vault::encrypt(no_newline, &secret, None).unwrap(),
    )
    .unwrap();

    // `view` prints through Ansible's display, which ends output with a newline.
    let viewed = run(
        &tool,
        dir.path(),
        &["view", "--vault-password-file", "password", "short"],
        &[],
    );
    assert_eq!(viewed, [&no_newline[..], b"\n"].concat());

    run(
        &tool,
        dir.path(),
        &[
            "decrypt",
            "--vault-id",
            "prod@password",
            "v11.yml",
            "v12.yml",
            "short",
        ],
        &[],
    );
    assert_eq!(
        std::fs::read(dir.path().join("v11.yml")).unwrap(),
        PLAINTEXT
    );
    assert_eq!(
        std::fs::read(dir.path().join("v12.yml")).unwrap(),
        PLAINTEXT
    );
    assert_eq!(std::fs::read(dir.path().join("short")).unwrap(), no_newline);
}

#[test]
fn what_we_rekey_ansible_vault_opens_with_the_new_password() {
    let Some(tool) = ansible_vault() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new-password"), "the new one\n").unwrap();
    let path = dir.path().join("secrets.yml");
    std::fs::write(
        &path,
        vault::encrypt(PLAINTEXT, &VaultSecret::new(PASSWORD), Some("old")).unwrap(),
    )
    .unwrap();
    let new = VaultSecret::from_file(&dir.path().join("new-password")).unwrap();
    vault::rekey_file(&path, &VaultSecret::new(PASSWORD), &new, Some("new")).unwrap();
    let header = std::fs::read_to_string(&path).unwrap();
    assert!(header.starts_with("$ANSIBLE_VAULT;1.2;AES256;new\n"));
    run(
        &tool,
        dir.path(),
        &["decrypt", "--vault-id", "new@new-password", "secrets.yml"],
        &[],
    );
    assert_eq!(std::fs::read(&path).unwrap(), PLAINTEXT);
}

#[test]
fn password_scripts_give_the_same_password_to_both() {
    let Some(tool) = ansible_vault() else { return };
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("password.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '\\n  spaced password \\n\\r\\n'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain_file = dir.path().join("whitespace-password");
    std::fs::write(&plain_file, "\t\x0b pass\tword \x0c\r\n\n").unwrap();

    for (password, name) in [(&script, "a.yml"), (&plain_file, "b.yml")] {
        let secret = VaultSecret::from_file(password).unwrap();
        std::fs::write(
            dir.path().join(name),
            vault::encrypt(PLAINTEXT, &secret, None).unwrap(),
        )
        .unwrap();
        let password = password.file_name().unwrap().to_str().unwrap();
        run(
            &tool,
            dir.path(),
            &["decrypt", "--vault-password-file", password, name],
            &[],
        );
        assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), PLAINTEXT);
    }
}

/// Every file under `dir` that is vault data, sorted.
fn vaulted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| entry.into_path())
        .filter(|path| vault::is_vaulted(&std::fs::read(path).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn the_example_repositorys_vaulted_files_decrypt_as_ansible_vault_decrypts_them() {
    let Some(tool) = ansible_vault() else { return };
    let repo = kayobe_automation_tests::example_repo();
    let secret = VaultSecret::from_file(&repo.join(".vault-password")).unwrap();
    let files = vaulted_files(&repo.join("etc/kayobe"));
    assert!(
        files.len() >= 5,
        "the example repo has vaulted files: {files:?}"
    );

    let ours = vault::view_files(&files, &secret);
    let dir = tempfile::tempdir().unwrap();
    let mut copies = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let copy = dir.path().join(format!("{i}.vaulted"));
        std::fs::copy(file, &copy).unwrap();
        copies.push(copy.file_name().unwrap().to_str().unwrap().to_owned());
    }
    let password = repo.join(".vault-password");
    let mut args = vec![
        "decrypt",
        "--vault-password-file",
        password.to_str().unwrap(),
    ];
    args.extend(copies.iter().map(String::as_str));
    run(&tool, dir.path(), &args, &[]);
    for ((file, ours), copy) in files.iter().zip(ours).zip(&copies) {
        let theirs = std::fs::read(dir.path().join(copy)).unwrap();
        assert_eq!(ours.unwrap().plaintext, theirs, "{}", file.display());
    }
}

#[test]
fn the_example_repositorys_inline_vault_value_decrypts_as_ansible_vault_decrypts_it() {
    let Some(tool) = ansible_vault() else { return };
    let repo = kayobe_automation_tests::example_repo();
    let path = repo.join("etc/kayobe/environments/staging/kolla.yml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    // The block scalar after `!vault |`, as YAML reads it: indentation removed.
    let (line, _) = yaml
        .lines()
        .enumerate()
        .find(|(_, l)| l.ends_with("!vault |"))
        .expect("the example has an inline !vault value");
    let block: Vec<&str> = yaml
        .lines()
        .skip(line + 1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    let indent = block[0].len() - block[0].trim_start().len();
    let text: String = block
        .iter()
        .map(|l| format!("{}\n", &l[indent..]))
        .collect();

    let secret = VaultSecret::from_file(&repo.join(".vault-password")).unwrap();
    let at = Location::new(&path, line + 2, indent + 1);
    let ours = vault::decrypt_value(&Value::Vault(text.clone()), &secret, &at).unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("value"), &text).unwrap();
    let password = repo.join(".vault-password");
    let theirs = run(
        &tool,
        dir.path(),
        &[
            "decrypt",
            "--vault-password-file",
            password.to_str().unwrap(),
            "--output",
            "-",
            "value",
        ],
        &[],
    );
    assert_eq!(ours.plaintext, theirs);
}
