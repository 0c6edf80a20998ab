//! Renders the GitHub Actions workflows of a configuration repository's
//! writer config in memory and lists them with the secrets they use.
//!
//! `cargo run -p kayobe-automation --example render_workflows -- CONFIG_PATH [VAULT_PASSWORD_FILE]`

use std::path::PathBuf;

use kayobe_automation::workflows::{Platform, ReferenceKind, Templates, WriterConfig, render};
use kayobe_automation::{ConfigRepo, VaultSecret};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let config_path = PathBuf::from(
        args.next()
            .ok_or("usage: CONFIG_PATH [VAULT_PASSWORD_FILE]")?,
    );
    let secret = args
        .next()
        .map(|file| VaultSecret::from_file(&PathBuf::from(file)))
        .transpose()?;
    let repo = ConfigRepo::open(&config_path, None)?;
    let config = WriterConfig::from_repo(&repo, Platform::Github, secret.as_ref())?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    let rendered = render(&config, &Templates::embedded())?;
    for file in &rendered.files {
        println!("{} ({} bytes)", file.path.display(), file.contents.len());
    }
    for reference in &rendered.references {
        let kind = match reference.kind {
            ReferenceKind::Secret => "secret",
            ReferenceKind::Variable => "variable",
            ReferenceKind::OpenBaoKey => "OpenBao key",
        };
        println!("uses {kind} {}", reference.name);
    }
    Ok(())
}
