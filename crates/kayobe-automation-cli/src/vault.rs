//! (in progress)

use std::process::ExitCode;

use crate::global::Global;

#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub fn run(_global: &Global, command: Command) -> miette::Result<ExitCode> {
    match command {}
}
