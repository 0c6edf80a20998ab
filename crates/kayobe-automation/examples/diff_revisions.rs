//! Diffs the configuration Ansible sees between two git revisions, secrets
//! masked, and prints the summary a reviewer reads first, then the diff.
//!
//! `cargo run -p kayobe-automation --example diff_revisions -- CONFIG_PATH BASE TARGET [ENVIRONMENT] [VAULT_PASSWORD_FILE]`

use std::path::PathBuf;

use kayobe_automation::VaultSecret;
use kayobe_automation::diff::{Summary, diff_revisions, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: CONFIG_PATH BASE TARGET [ENVIRONMENT] [VAULT_PASSWORD_FILE]";
    let mut args = std::env::args().skip(1);
    let config_path = PathBuf::from(args.next().ok_or(usage)?);
    let base = args.next().ok_or(usage)?;
    let target = args.next().ok_or(usage)?;
    let environment = args.next();
    let secret = args
        .next()
        .map(|file| VaultSecret::from_file(&PathBuf::from(file)))
        .transpose()?;
    let diff = diff_revisions(
        &config_path,
        environment.as_deref(),
        &base,
        &target,
        secret.as_ref(),
    )?;
    println!("{}", Summary::of(&diff));
    print!("{}", render::text(&diff));
    Ok(())
}
