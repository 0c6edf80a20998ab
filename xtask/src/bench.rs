//! `cargo xtask bench`: the criterion benchmarks of `benches/`, then the same
//! work done by the reference tools, for a side-by-side comparison.

use std::path::Path;

use crate::cmd::{Cmd, step};
use crate::error::Result;
use crate::setup;
use crate::test::TOOLS_BIN_VAR;

/// Runs the benchmarks, then the comparisons with the reference tools.
pub fn run(root: &Path) -> Result<()> {
    let tools_bin = step("setup reference tools", || setup::run(root))?;
    step("cargo bench", || {
        Cmd::cargo(root)
            .args(["bench", "-p", "kayobe-automation-benches"])
            .env(TOOLS_BIN_VAR, &tools_bin)
            .run()
    })?;
    compare_with_reference_tools(root, &tools_bin)
}

/// Where the side-by-side comparisons live: each one times a reference tool
/// from `tools_bin` (`ansible-inventory --list`, `ansible-vault decrypt`,
/// `subunit2junitxml`, …) on the fixtures the matching criterion benchmark
/// measured, and prints both. Comparisons are added here together with their
/// benchmarks; until then there is nothing to compare and nothing is printed.
fn compare_with_reference_tools(_root: &Path, _tools_bin: &Path) -> Result<()> {
    Ok(())
}
