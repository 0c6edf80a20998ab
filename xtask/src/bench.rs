//! `cargo xtask bench`: the criterion benchmarks of `benches/`, then the same
//! work done whole-process by our CLI and by the reference tool, side by side
//! in one run (the machines are noisy: only ratios measured together mean much).

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{Cmd, step};
use crate::error::{Error, Result};
use crate::setup;
use crate::test::TOOLS_BIN_VAR;

/// Runs the benchmarks, then the comparisons with the reference tools.
pub fn run(root: &Path) -> Result<()> {
    let tools_bin = step("setup reference tools", || setup::run(root))?;
    step("cargo bench", || {
        Cmd::cargo(root)
            .args(["bench", "-p", "kayobe-automation-benches", "--benches"])
            .env(TOOLS_BIN_VAR, &tools_bin)
            .run()
    })?;
    step("compare with the reference tools", || {
        compare_with_reference_tools(root, &tools_bin)
    })
}

/// How many timed runs of each side; the median is reported.
const RUNS: usize = 5;

/// One piece of work done by both sides, as whole processes.
struct Comparison {
    name: &'static str,
    ours: Command,
    reference: Command,
    /// The speed-up the issue asks for, printed beside the measured one.
    target: f64,
}

/// Builds the release CLI and the fixtures, then times each comparison.
fn compare_with_reference_tools(root: &Path, tools_bin: &Path) -> Result<()> {
    Cmd::cargo(root)
        .args(["build", "--release", "-p", "kayobe-automation-cli"])
        .args(["-p", "kayobe-automation-benches", "--bins"])
        .run()?;
    let release = root.join("target/release");
    let fixtures = root.join("target/bench-fixtures");
    if fixtures.exists() {
        std::fs::remove_dir_all(&fixtures).map_err(|source| Error::Io {
            action: format!("removing {}", fixtures.display()),
            source,
        })?;
    }
    Cmd::new(release.join("bench-fixtures"), root)
        .arg(&fixtures)
        .run()?;

    let ours = release.join("kayobe-automation");
    let example = root.join("examples/kayobe-config/etc/kayobe");
    let vaulted: Vec<OsString> = vaulted_files(&fixtures.join("vault"))?;
    let password = fixtures.join("vault/password");

    let mut example_ours = Command::new(&ours);
    example_ours.arg("--config-path").arg(&example).args([
        "--environment",
        "production",
        "inventory",
        "list",
    ]);
    let mut example_reference = Command::new(tools_bin.join("ansible-inventory"));
    example_reference
        .arg("-i")
        .arg(example.join("inventory"))
        .arg("-i")
        .arg(example.join("environments/production/inventory"))
        .arg("--list")
        .env("ANSIBLE_CONFIG", example.join("ansible.cfg"));

    let mut large_ours = Command::new(&ours);
    large_ours
        .args(["inventory", "list", "--inventory"])
        .arg(fixtures.join("inventory"));
    let mut large_reference = Command::new(tools_bin.join("ansible-inventory"));
    large_reference
        .arg("-i")
        .arg(fixtures.join("inventory"))
        .arg("--list")
        // Kayobe's Ansible settings, which the fixture's group names need and
        // our output follows.
        .env("ANSIBLE_CONFIG", example.join("ansible.cfg"));

    let mut vault_ours = Command::new(&ours);
    vault_ours
        .arg("--vault-password-file")
        .arg(&password)
        .args(["vault", "view"])
        .args(&vaulted);
    let mut vault_reference = Command::new(tools_bin.join("ansible-vault"));
    vault_reference
        .args(["view", "--vault-password-file"])
        .arg(&password)
        .args(&vaulted)
        .env("PAGER", "cat");

    let comparisons = [
        Comparison {
            name: "inventory list, example (production)",
            ours: example_ours,
            reference: example_reference,
            target: 50.0,
        },
        Comparison {
            name: "inventory list, 1000 hosts",
            ours: large_ours,
            reference: large_reference,
            target: 50.0,
        },
        Comparison {
            name: "vault view, 200 files",
            ours: vault_ours,
            reference: vault_reference,
            target: 10.0,
        },
    ];

    println!();
    println!(
        "{:<40} {:>12} {:>12} {:>9} {:>8}",
        "whole process (median of 5)", "ours", "reference", "speed-up", "target"
    );
    for mut comparison in comparisons {
        let ours = median_time(&mut comparison.ours, comparison.name)?;
        let reference = median_time(&mut comparison.reference, comparison.name)?;
        let ratio = reference.as_secs_f64() / ours.as_secs_f64();
        println!(
            "{:<40} {:>10.1}ms {:>10.1}ms {:>8.1}x {:>7.0}x{}",
            comparison.name,
            ours.as_secs_f64() * 1e3,
            reference.as_secs_f64() * 1e3,
            ratio,
            comparison.target,
            if ratio >= comparison.target {
                ""
            } else {
                "  (below target)"
            },
        );
    }
    Ok(())
}

/// The vaulted fixture files, in name order.
fn vaulted_files(dir: &Path) -> Result<Vec<OsString>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        action: format!("listing {}", dir.display()),
        source,
    })?;
    let mut files: Vec<OsString> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .map(|path| path.into_os_string())
        .collect();
    files.sort();
    Ok(files)
}

/// Runs `command` once to warm caches, then [`RUNS`] times; the median wall time.
/// Output is discarded; a failing run fails the comparison.
fn median_time(command: &mut Command, name: &str) -> Result<Duration> {
    command.stdin(Stdio::null()).stdout(Stdio::null());
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        let start = Instant::now();
        let status = command.status().map_err(|source| Error::Spawn {
            command: format!("{name}: {:?}", command.get_program()),
            source,
        })?;
        let elapsed = start.elapsed();
        if !status.success() {
            return Err(Error::Failed {
                command: format!("{name}: {command:?}"),
                status,
            });
        }
        if run > 0 {
            times.push(elapsed);
        }
    }
    times.sort();
    Ok(times[RUNS / 2])
}
