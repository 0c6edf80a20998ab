//! `kayobe-automation vault …`: view, decrypt, encrypt and rekey ansible-vault
//! files, as `ansible-vault` does, through `kayobe_config::vault`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kayobe_automation::config::vault::{self, VaultError, VaultSecret};

use miette::IntoDiagnostic;

use crate::global::Global;

/// The `vault` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the plaintext of vaulted files to standard output.
    View {
        /// Vaulted files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Decrypt vaulted files in place (or into `--output`).
    Decrypt {
        /// Vaulted files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the plaintext here instead (`-` for standard output); one input file only.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Encrypt files in place (or into `--output`).
    Encrypt {
        /// Plain files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Label the files with this vault id (format 1.2).
        #[arg(long)]
        vault_id: Option<String>,
        /// Write the vaulted text here instead (`-` for standard output); one input file only.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Re-encrypt vaulted files in place with a new password.
    Rekey {
        /// Vaulted files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The file holding the new password (an executable is run, as Ansible does).
        #[arg(long)]
        new_vault_password_file: PathBuf,
        /// Label the files with this vault id (format 1.2); else format 1.1.
        #[arg(long)]
        new_vault_id: Option<String>,
    },
    /// List the configuration's vaulted files (relative to the repository
    /// root): secrets files first, then every other vaulted file.
    Find {
        /// Print JSON: `{"secrets": [..], "others": [..]}`.
        #[arg(long)]
        json: bool,
    },
}

/// A `vault` command failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum VaultCommandError {
    /// The library failed; `help` says where to look.
    #[error("{error}")]
    Vault {
        error: VaultError,
        #[help]
        help: Option<&'static str>,
    },
    /// `--output` with several input files.
    #[error("`--output` takes one input file, but {count} were given")]
    #[diagnostic(help("run the command once per file, or drop `--output` to work in place"))]
    OutputWithManyFiles { count: usize },
    /// Writing to standard output failed.
    #[error("cannot write to standard output: {0}")]
    #[diagnostic(help("check where standard output goes (a closed pipe or a full disk)"))]
    Stdout(#[source] std::io::Error),
}

impl From<VaultError> for VaultCommandError {
    fn from(error: VaultError) -> Self {
        let help = match &error {
            VaultError::WrongPassword { .. } => Some(
                "the password comes from `--vault-password-file`, KAYOBE_VAULT_PASSWORD_FILE or KAYOBE_VAULT_PASSWORD",
            ),
            VaultError::NotVaulted { .. } => Some("`vault encrypt` encrypts a plain file"),
            _ => None,
        };
        VaultCommandError::Vault { error, help }
    }
}

/// Runs a `vault` subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    // Each arm asks for the password itself: not every command needs one.
    match command {
        Command::View { files } => view(&files, &global.vault_secret()?)?,
        Command::Decrypt { files, output } => {
            let output = single_output(&files, output)?;
            let secret = global.vault_secret()?;
            for file in &files {
                match output.as_deref() {
                    Some(path) if path == Path::new("-") => {
                        let decrypted =
                            vault::view_file(file, &secret).map_err(VaultCommandError::from)?;
                        write_stdout(&decrypted.plaintext)?;
                    }
                    output => vault::decrypt_file(file, &secret, output)
                        .map_err(VaultCommandError::from)?,
                }
            }
            eprintln!("Decryption successful");
        }
        Command::Encrypt {
            files,
            vault_id,
            output,
        } => {
            let output = single_output(&files, output)?;
            let secret = global.vault_secret()?;
            for file in &files {
                match output.as_deref() {
                    Some(path) if path == Path::new("-") => {
                        let plaintext = std::fs::read(file).map_err(|source| {
                            VaultCommandError::from(VaultError::Io {
                                path: file.clone(),
                                action: "read",
                                source,
                            })
                        })?;
                        let text = vault::encrypt(&plaintext, &secret, vault_id.as_deref())
                            .map_err(VaultCommandError::from)?;
                        write_stdout(text.as_bytes())?;
                    }
                    output => vault::encrypt_file(file, &secret, vault_id.as_deref(), output)
                        .map_err(VaultCommandError::from)?,
                }
            }
            eprintln!("Encryption successful");
        }
        Command::Rekey {
            files,
            new_vault_password_file,
            new_vault_id,
        } => {
            let secret = global.vault_secret()?;
            let new = VaultSecret::from_file(&new_vault_password_file)
                .map_err(VaultCommandError::from)?;
            for file in &files {
                vault::rekey_file(file, &secret, &new, new_vault_id.as_deref())
                    .map_err(VaultCommandError::from)?;
            }
            eprintln!("Rekey successful");
        }
        Command::Find { json } => find(global, json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints each file's plaintext in order, ending each with a newline as
/// `ansible-vault view` does; stops at the first failure, as it does.
fn view(files: &[PathBuf], secret: &VaultSecret) -> Result<(), VaultCommandError> {
    for result in vault::view_files(files, secret) {
        let mut plaintext = result?.plaintext;
        if !plaintext.ends_with(b"\n") {
            plaintext.push(b'\n');
        }
        write_stdout(&plaintext)?;
    }
    Ok(())
}

/// Lists the vaulted files of the configuration repository.
fn find(global: &Global, json: bool) -> miette::Result<()> {
    let repo = global.repo()?;
    let files = repo.vaulted_files().into_diagnostic()?;
    let relative = |paths: &[PathBuf]| -> Vec<String> {
        paths
            .iter()
            .map(|path| {
                path.strip_prefix(repo.root())
                    .unwrap_or(path)
                    .display()
                    .to_string()
            })
            .collect()
    };
    let (secrets, others) = (relative(&files.secrets), relative(&files.others));
    let text = if json {
        let document = serde_json::json!({ "secrets": secrets, "others": others });
        format!("{document:#}\n")
    } else {
        secrets
            .iter()
            .chain(&others)
            .map(|path| format!("{path}\n"))
            .collect()
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

/// `--output` is only meaningful for one input file.
fn single_output(
    files: &[PathBuf],
    output: Option<PathBuf>,
) -> Result<Option<PathBuf>, VaultCommandError> {
    match output {
        Some(_) if files.len() > 1 => {
            Err(VaultCommandError::OutputWithManyFiles { count: files.len() })
        }
        output => Ok(output),
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), VaultCommandError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(VaultCommandError::Stdout)
}
