//! `kayobe-automation inventory`: the inventory as Ansible reads it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::config::ansible_cfg::AnsibleSettings;
use kayobe_automation::config::inventory::Inventory;
use miette::IntoDiagnostic;

use crate::global::Global;

/// Inventory subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the inventory as JSON, as `ansible-inventory --list` does.
    List {
        /// An inventory file or directory, like ansible-inventory's `-i`
        /// (repeat for several; default: the configuration's inventories for
        /// the environment, base first).
        #[arg(long = "inventory", short = 'i', value_name = "PATH")]
        inventories: Vec<PathBuf>,
    },
}

/// Runs an inventory subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    match command {
        Command::List { inventories } => {
            let secret = global.optional_vault_secret()?;
            // The ansible.cfg Kayobe would run Ansible with, or, for
            // inventories named here, the one ansible-inventory would read.
            let (inventory, settings) = if inventories.is_empty() {
                let repo = global.repo()?;
                (
                    repo.inventory(secret.as_ref()).into_diagnostic()?,
                    repo.ansible_settings().into_diagnostic()?,
                )
            } else {
                (
                    Inventory::load(&inventories, secret.as_ref()).into_diagnostic()?,
                    AnsibleSettings::for_ansible().into_diagnostic()?,
                )
            };
            let list = inventory.ansible_list_with(&settings.list_settings().into_diagnostic()?);
            let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut stdout, &list).into_diagnostic()?;
            writeln!(stdout)
                .and_then(|()| stdout.flush())
                .into_diagnostic()?;
            // The process ends next: freeing a large inventory node by node
            // was a fifth of the command's time.
            std::mem::forget(list);
            std::mem::forget(inventory);
            Ok(ExitCode::SUCCESS)
        }
    }
}
