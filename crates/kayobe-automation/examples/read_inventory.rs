//! Reads an environment's inventory as Ansible would, and prints it as
//! `ansible-inventory --list` does.
//!
//! `cargo run -p kayobe-automation --example read_inventory -- CONFIG_PATH [ENVIRONMENT] [VAULT_PASSWORD_FILE]`

use std::path::PathBuf;

use kayobe_automation::{ConfigRepo, VaultSecret};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let config_path = PathBuf::from(
        args.next()
            .ok_or("usage: CONFIG_PATH [ENVIRONMENT] [VAULT_PASSWORD_FILE]")?,
    );
    let environment = args.next().map(|e| e.to_string_lossy().into_owned());
    let secret = args
        .next()
        .map(|file| VaultSecret::from_file(&PathBuf::from(file)))
        .transpose()?;
    let repo = ConfigRepo::open(&config_path, environment.as_deref())?;
    let inventory = repo.inventory(secret.as_ref())?;
    println!("{:#}", inventory.to_ansible_list());
    Ok(())
}
