//! `cargo xtask test` and `cargo xtask lint`: what CI runs, in the order that
//! fails fastest. The first failing step stops the run.

use std::path::Path;

use crate::cmd::{Cmd, step};
use crate::error::Result;
use crate::setup;

/// The environment variable through which tests find the reference tools
/// (read by `tests/support/lib.rs`).
pub const TOOLS_BIN_VAR: &str = "KAYOBE_TOOLS_BIN";

/// Formatting and clippy, warnings denied.
pub fn lint(root: &Path) -> Result<()> {
    step("cargo fmt --check", || {
        Cmd::cargo(root)
            .args(["fmt", "--all", "--", "--check"])
            .run()
    })?;
    step("cargo clippy", || {
        Cmd::cargo(root)
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .run()
    })
}

/// Setup, lint, tidy, then every test of the workspace against the reference tools.
///
/// Doctests run first so that the run closes on the summary of the main test
/// run, which is what CI reads to see that tests ran.
pub fn run(root: &Path) -> Result<()> {
    let tools_bin = step("setup reference tools", || setup::run(root))?;
    lint(root)?;
    step("cargo xtask tidy", || crate::tidy::run(root))?;
    step("the config-only facade builds", || {
        Cmd::cargo(root)
            .args(["build", "-p", "kayobe-automation", "--no-default-features"])
            .args(["--features", "config"])
            .run()
    })?;
    let test = |name: &str, args: &[&str]| {
        step(name, || {
            Cmd::cargo(root)
                .args(args)
                .env(TOOLS_BIN_VAR, &tools_bin)
                .run()
        })
    };
    test("cargo test --doc", &["test", "--workspace", "--doc"])?;
    if Cmd::cargo(root).args(["nextest", "--version"]).succeeds() {
        test(
            "cargo nextest run",
            &["nextest", "run", "--workspace", "--no-fail-fast"],
        )
    } else {
        test(
            "cargo test",
            &[
                "test",
                "--workspace",
                "--lib",
                "--bins",
                "--tests",
                "--no-fail-fast",
            ],
        )
    }
}
