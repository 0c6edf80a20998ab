//! `cargo xtask fuzz [--seconds N] [TARGET…]`: run the fuzz targets in `fuzz/`
//! for a fixed time each, on the stable toolchain (`--sanitizer none`).
//!
//! The fuzz package has its own `[workspace]`, so cargo-fuzz builds it apart
//! from the main workspace; cargo-fuzz is installed here on first use only,
//! since nothing else needs it.

use std::path::Path;

use crate::cmd::{Cmd, step};
use crate::error::{Error, Result};

/// The memory a target may use: an input that makes a parser or the diff
/// need more (an alias bomb, a huge host range) is a finding, not a pass.
pub const RSS_LIMIT_MB: u64 = 512;

/// How long each target runs unless `--seconds` says otherwise.
pub const DEFAULT_SECONDS: u64 = 300;

/// Runs `selected` targets (all of them when empty) for `seconds` each.
pub fn run(root: &Path, seconds: u64, selected: &[String]) -> Result<()> {
    step("cargo-fuzz available", || ensure_cargo_fuzz(root))?;
    let available = list_targets(root)?;
    for target in targets_to_run(&available, selected)? {
        step(&format!("fuzz {target} for {seconds}s"), || {
            Cmd::cargo(root)
                .args(["fuzz", "run", "--sanitizer", "none", target.as_str(), "--"])
                .arg(format!("-max_total_time={seconds}"))
                .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
                .run()
        })?;
    }
    Ok(())
}

fn ensure_cargo_fuzz(root: &Path) -> Result<()> {
    if Cmd::cargo(root).args(["fuzz", "--version"]).succeeds() {
        return Ok(());
    }
    Cmd::cargo(root)
        .args(["install", "cargo-fuzz", "--locked"])
        .run()
}

fn list_targets(root: &Path) -> Result<Vec<String>> {
    let listing = Cmd::cargo(root).args(["fuzz", "list"]).read()?;
    Ok(listing
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The targets to run: every available one when none are named, else the
/// named ones in the order given, each checked against what exists.
fn targets_to_run(available: &[String], selected: &[String]) -> Result<Vec<String>> {
    if selected.is_empty() {
        return Ok(available.to_vec());
    }
    selected
        .iter()
        .map(|name| {
            if available.contains(name) {
                Ok(name.clone())
            } else {
                Err(Error::UnknownFuzzTarget {
                    name: name.clone(),
                    available: available.to_vec(),
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn no_selection_runs_every_target() {
        let available = names(&["yaml", "vault"]);
        assert_eq!(targets_to_run(&available, &[]).unwrap(), available);
    }

    #[test]
    fn a_selection_runs_in_the_order_given() {
        let available = names(&["yaml", "vault", "ini_inventory"]);
        let selected = names(&["ini_inventory", "yaml"]);
        assert_eq!(targets_to_run(&available, &selected).unwrap(), selected);
    }

    #[test]
    fn an_unknown_target_is_an_error_listing_the_real_ones() {
        let available = names(&["yaml", "vault"]);
        let error = targets_to_run(&available, &names(&["yml"])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no fuzz target `yml`; the targets in fuzz/ are: yaml, vault"
        );
    }
}
