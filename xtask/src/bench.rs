//! `cargo xtask bench`: the criterion benchmarks of `benches/`, then the same
//! work done whole-process by our CLI and by the reference tool, side by side
//! in one run (the machines are noisy: only ratios measured together mean much).
//! For Tempest reports it also prints each side's peak memory.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{Cmd, step};
use crate::error::{Error, Result};
use crate::setup;
use crate::test::TOOLS_BIN_VAR;

/// Runs the benchmarks (unless `compare_only`), then the comparisons with
/// the reference tools.
pub fn run(root: &Path, compare_only: bool) -> Result<()> {
    let tools_bin = step("setup reference tools", || setup::run(root))?;
    if !compare_only {
        step("cargo bench", || {
            Cmd::cargo(root)
                .args(["bench", "-p", "kayobe-automation-benches", "--benches"])
                .env(TOOLS_BIN_VAR, &tools_bin)
                .run()
        })?;
    }
    step("compare with the reference tools", || {
        compare_with_reference_tools(root, &tools_bin)
    })
}

/// How many timed runs of each side; the median is reported.
const RUNS: usize = 5;

/// One piece of work done by both sides, as whole processes.
struct Comparison {
    name: String,
    ours: Command,
    reference: Command,
    /// The speed-up the issue asks for, printed beside the measured one.
    target: f64,
    /// Whether exit status 1 is success too: diff tools exit 1 when their
    /// inputs differ, as the fixtures do.
    exit_1_is_success: bool,
}

/// Builds the release CLI and the fixtures, then times each comparison.
fn compare_with_reference_tools(root: &Path, tools_bin: &Path) -> Result<()> {
    Cmd::cargo(root)
        .args(["build", "--release", "-p", "kayobe-automation-cli"])
        .args(["-p", "kayobe-automation-benches", "--bins"])
        .run()?;
    // Where cargo put the build: `CARGO_TARGET_DIR` when set, as cargo reads it.
    let release = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
        .join("release");
    let fixtures = root.join("target/bench-fixtures");
    if fixtures.exists() {
        std::fs::remove_dir_all(&fixtures).map_err(|source| Error::Io {
            action: format!("removing {}", fixtures.display()),
            source,
        })?;
    }
    Cmd::new(release.join("bench-fixtures"), root)
        .arg(&fixtures)
        .env(TOOLS_BIN_VAR, tools_bin)
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

    let trees = fixtures.join("config-tree");
    let mut tree_ours = Command::new(release.join("tree-diff"));
    tree_ours.arg(trees.join("old")).arg(trees.join("new"));
    let mut tree_reference = Command::new("git");
    tree_reference
        .args(["--no-pager", "diff", "--no-index", "--no-color"])
        .arg(trees.join("old"))
        .arg(trees.join("new"));

    let run_fixture = fixtures.join("run");
    let (run_ours, run_reference) = run_comparison(root, &ours, &run_fixture)?;
    let (build_ours, build_reference) = image_build_comparison(&ours, &run_fixture)?;
    let workflows = workflows_comparison(root, &ours, &fixtures.join("workflows"))?;

    let mut comparisons = vec![Comparison {
        name: "inventory list, example (production)".to_owned(),
        ours: example_ours,
        reference: example_reference,
        target: 50.0,
        exit_1_is_success: false,
    }];
    for hosts in SCALES {
        let inventory = fixtures.join(format!("inventory-{hosts}"));
        let mut large_ours = Command::new(&ours);
        large_ours
            .args(["inventory", "list", "--inventory"])
            .arg(&inventory);
        let mut large_reference = Command::new(tools_bin.join("ansible-inventory"));
        large_reference
            .arg("-i")
            .arg(&inventory)
            .arg("--list")
            // Kayobe's Ansible settings, which the fixture's group names need and
            // our output follows.
            .env("ANSIBLE_CONFIG", example.join("ansible.cfg"));
        comparisons.push(Comparison {
            name: format!("inventory list, {hosts} hosts"),
            ours: large_ours,
            reference: large_reference,
            target: 50.0,
            exit_1_is_success: false,
        });
    }
    comparisons.extend([
        Comparison {
            name: VAULT_VIEW.to_owned(),
            ours: vault_ours,
            reference: vault_reference,
            target: 10.0,
            exit_1_is_success: false,
        },
        Comparison {
            name: "tree diff, 5000 files, 1% changed".to_owned(),
            ours: tree_ours,
            reference: tree_reference,
            // The issue asks only that ours wins.
            target: 1.0,
            exit_1_is_success: true,
        },
        Comparison {
            name: "run, per-run overhead (`true`)".to_owned(),
            ours: run_ours,
            reference: run_reference,
            // The issue asks for the ratio, not a speed-up: within 1.1x of the docker CLI.
            target: 1.0 / 1.1,
            exit_1_is_success: false,
        },
        Comparison {
            name: "image build, no change (BuildKit/classic)".to_owned(),
            ours: build_ours,
            reference: build_reference,
            // Shown next to `docker build`; BuildKit's session costs a little.
            target: 1.0 / 1.1,
            exit_1_is_success: false,
        },
    ]);
    if let Some((render_ours, render_collection)) = workflows {
        comparisons.push(Comparison {
            name: "workflows render, 5 environments".to_owned(),
            ours: render_ours,
            reference: render_collection,
            // The issue asks for rendering under 10 ms (criterion's
            // `render github for 5 environments` above) beside the
            // collection's time; the whole process only has to win.
            target: 1.0,
            exit_1_is_success: false,
        });
    }

    println!();
    println!(
        "{:<40} {:>12} {:>12} {:>9} {:>8}",
        "whole process (median of 5)", "ours", "reference", "speed-up", "target"
    );
    let mut vault_view = None;
    for mut comparison in comparisons {
        let exit_1 = comparison.exit_1_is_success;
        let ours = median_time(&mut comparison.ours, &comparison.name, exit_1)?;
        if comparison.name == VAULT_VIEW {
            vault_view = Some(ours);
        }
        let reference = median_time(&mut comparison.reference, &comparison.name, exit_1)?;
        let ratio = reference.as_secs_f64() / ours.as_secs_f64();
        println!(
            "{:<40} {:>10.1}ms {:>10.1}ms {:>8.2}x {:>7.2}x{}",
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
    // The images are only for these comparisons; a failed removal leaves a tag.
    let _ = Command::new("docker")
        .args(["rmi", "-f", RUN_IMAGE, REFERENCE_BUILD_IMAGE])
        .stdout(Stdio::null())
        .status();
    if let Some(vault_view) = vault_view {
        compare_pbkdf2_floor(&release, vault_view, vaulted.len())?;
    }
    compare_automation_settings(root, &release)?;
    compare_config_diff_at_scale(&ours, &fixtures)?;
    compare_tempest_reports(&ours, tools_bin, &fixtures.join("tempest"))
}

/// The hosts of the scale fixtures (`bench-fixtures` writes
/// `inventory-<hosts>` and `scale-<hosts>` for each).
const SCALES: [usize; 2] = [1000, 10_000];

/// What config-diff may take at 10 000 hosts.
const CONFIG_DIFF_TIME_TARGET: Duration = Duration::from_millis(500);
const CONFIG_DIFF_MEMORY_TARGET_MIB: f64 = 100.0;

/// `config-diff` of one added line on the example grown to each scale, in
/// every format: median time, max RSS and the size of what a reviewer gets,
/// beside the time of `git diff` of the same revisions (what the line is to
/// git) for scale.
fn compare_config_diff_at_scale(ours: &Path, fixtures: &Path) -> Result<()> {
    println!();
    println!(
        "{:<40} {:>12} {:>12} {:>12} {:>12}",
        "config-diff, one line added", "ours", "max RSS", "output", "git diff"
    );
    for hosts in SCALES {
        let repo = fixtures.join(format!("scale-{hosts}"));
        let mut git_diff = Command::new("git");
        git_diff
            .arg("-C")
            .arg(&repo)
            .args(["--no-pager", "diff", "base", "change"]);
        let git_time = median_time(&mut git_diff, "git diff", false)?;
        for format in ["text", "json", "html"] {
            let output = repo.join(format!("config-diff.{format}"));
            let command = || {
                let mut command = Command::new(ours);
                command
                    .current_dir(&repo)
                    .args(["--environment", "production"])
                    .args(["--vault-password-file", ".vault-password"])
                    .args(["config-diff", "--base", "base", "--target", "change"])
                    .args(["--format", format, "--out"])
                    .arg(&output);
                command
            };
            let name = format!("{hosts} hosts, {format}");
            let (time, rss) = median_run(command, &name)?;
            let size = std::fs::metadata(&output)
                .map_err(|source| Error::Io {
                    action: format!("reading {}", output.display()),
                    source,
                })?
                .len();
            let at_target = hosts < 10_000
                || (time < CONFIG_DIFF_TIME_TARGET
                    && rss.is_none_or(|kib| kib_to_mib(kib) < CONFIG_DIFF_MEMORY_TARGET_MIB));
            println!(
                "{:<40} {:>10.1}ms {:>12} {:>10} B {:>10.1}ms{}",
                name,
                time.as_secs_f64() * 1e3,
                mib(rss),
                size,
                git_time.as_secs_f64() * 1e3,
                if at_target {
                    ""
                } else {
                    "  (target at 10 000 hosts: < 500 ms, < 100 MiB)"
                },
            );
        }
    }
    Ok(())
}

/// The name of the vault comparison, whose time is also set against the
/// PBKDF2 floor.
const VAULT_VIEW: &str = "vault view, 200 files";

/// `vault view`'s whole-process time next to the floor under it: the key
/// derivations of as many files alone, on every core
/// (`benches/fixtures/pbkdf2_floor.rs`); the issue asks for at most 1.2x.
fn compare_pbkdf2_floor(release: &Path, vault_view: Duration, files: usize) -> Result<()> {
    let mut command = Command::new(release.join("pbkdf2-floor"));
    command.arg(files.to_string()).arg("5").stdin(Stdio::null());
    let output = command.output().map_err(|source| Error::Spawn {
        command: format!("{command:?}"),
        source,
    })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    let (true, [floor, cores]) = (output.status.success(), fields.as_slice()) else {
        return Err(Error::Failed {
            command: format!("{command:?} printed `{}`", text.trim()),
            status: output.status,
        });
    };
    let ours = vault_view.as_secs_f64() * 1e3;
    let over = ours / floor;
    println!();
    println!(
        "{:<40} {:>12} {:>12} {:>9} {:>8}",
        "vault view against its floor", "ours", "PBKDF2 only", "ours/floor", "target"
    );
    println!(
        "{:<40} {:>10.1}ms {:>10.1}ms {:>8.2}x {:>7.1}x{}",
        format!("{files} files, {cores} cores"),
        ours,
        floor,
        over,
        1.2,
        if over <= 1.2 { "" } else { "  (above target)" },
    );
    Ok(())
}

/// Reading the example's `config.sh` settings for `production` against
/// bash sourcing it directly, both timed inside one process
/// (`benches/fixtures/automation_settings.rs`): the issue asks for at most
/// twice bash's time.
fn compare_automation_settings(root: &Path, release: &Path) -> Result<()> {
    let example = root.join("examples/kayobe-config/etc/kayobe");
    let mut command = Command::new(release.join("automation-settings"));
    command
        .arg(&example)
        .args(["production", "50"])
        .stdin(Stdio::null());
    let output = command.output().map_err(|source| Error::Spawn {
        command: format!("{command:?}"),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::Failed {
            command: format!("{command:?}"),
            status: output.status,
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let times: Vec<f64> = text
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    let [ours, bash] = times.as_slice() else {
        return Err(Error::Failed {
            command: format!("{command:?} printed `{}`", text.trim()),
            status: output.status,
        });
    };
    let slowdown = ours / bash;
    println!();
    println!(
        "{:<40} {:>12} {:>12} {:>9} {:>8}",
        "in-process (median of 50)", "ours", "bash", "ours/bash", "target"
    );
    println!(
        "{:<40} {:>10.2}ms {:>10.2}ms {:>8.2}x {:>7.1}x{}",
        "config.sh settings, one environment",
        ours,
        bash,
        slowdown,
        2.0,
        if slowdown <= 2.0 {
            ""
        } else {
            "  (above target)"
        },
    );
    Ok(())
}

/// The stand-in Kayobe image the run comparison builds and removes.
const RUN_IMAGE: &str = "kayobe-automation/bench-run:latest";
/// The operation of the run fixture (`benches/fixtures/run.rs`), whose script runs `true`.
const RUN_OPERATION: &str = "seed-vm-provision";

/// Builds the stand-in image from the run fixture with our `image build`,
/// then gives the two sides of the per-run overhead comparison: our `run`
/// of an operation running `true`, and `docker run --rm` of the same script
/// in the same image with the same mount, network and init process.
fn run_comparison(root: &Path, ours: &Path, checkout: &Path) -> Result<(Command, Command)> {
    let config_path = checkout.join("etc/kayobe");
    Cmd::new(ours, root)
        .arg("--config-path")
        .arg(&config_path)
        // The stand-in image has no glibc for our binary to run with.
        .args(["image", "build", "--no-cli", "--tag", RUN_IMAGE])
        .run()?;
    let mut run_ours = Command::new(ours);
    run_ours
        .arg("--config-path")
        .arg(&config_path)
        .args(["run", RUN_OPERATION, "--image", RUN_IMAGE, "--artifacts"])
        .arg(checkout.join("artifacts"))
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env_remove("KAYOBE_AUTOMATION_SSH_PRIVATE_KEY")
        // Its one-line result per run would break up the table.
        .stderr(Stdio::null());
    let mut run_reference = Command::new("docker");
    run_reference
        .args(["run", "--rm", "--init", "--network", "host", "-v"])
        .arg(format!("{}:/src", checkout.display()))
        .arg(RUN_IMAGE)
        // As `run` starts it.
        .arg("bash")
        .arg(format!("/src/.automation/pipeline/{RUN_OPERATION}.sh"));
    Ok((run_ours, run_reference))
}

/// The tag `docker build` gives the reference side of the build comparison.
const REFERENCE_BUILD_IMAGE: &str = "kayobe-automation/bench-run:reference";

/// The two sides of the no-change rebuild comparison, once the run
/// comparison has built the image: our `image build` (BuildKit, the whole
/// checkout as context) and `docker build` of the same context, Dockerfile
/// and build arguments (the classic builder: this docker CLI has no buildx).
fn image_build_comparison(ours: &Path, checkout: &Path) -> Result<(Command, Command)> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(checkout).map_err(|source| Error::Io {
        action: format!("reading {}", checkout.display()),
        source,
    })?;
    let mut build_ours = Command::new(ours);
    build_ours
        .arg("--config-path")
        .arg(checkout.join("etc/kayobe"))
        // As `docker build` builds it: the Dockerfile alone.
        .args(["image", "build", "--no-cli", "--tag", RUN_IMAGE])
        .stderr(Stdio::null())
        .stdout(Stdio::null());
    let mut build_reference = Command::new("docker");
    build_reference
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", REFERENCE_BUILD_IMAGE, "-f"])
        .arg(checkout.join(".automation/docker/kayobe/Dockerfile"))
        .arg("--build-arg")
        .arg(format!("KAYOBE_USER_UID={}", owner.uid()))
        .arg("--build-arg")
        .arg(format!("KAYOBE_USER_GID={}", owner.gid()))
        .arg(checkout)
        .stderr(Stdio::null())
        .stdout(Stdio::null());
    Ok((build_ours, build_reference))
}

/// The writer config of the render comparison: 5 environments chosen by
/// input, a shared registry.
const WRITER_CONFIG: &str = "github_environment_selector: input
github_kayobe_environments: [production, staging, dev, lab-a, lab-b]
github_registry:
  url: registry.example.com:4000
  username: kolla
  share: true
";

/// Our `workflows render` of a 5-environment repository and the
/// `stackhpc.kayobe_workflows` collection (ansible-core 2.17 from setup, on
/// `../shared/conformance/kayobe-workflows`) on the same writer config;
/// `None`, with a note, when the collection's snapshot is not there.
fn workflows_comparison(
    root: &Path,
    ours: &Path,
    dir: &Path,
) -> Result<Option<(Command, Command)>> {
    let snapshot = root.join("../shared/conformance/kayobe-workflows");
    if !snapshot.is_dir() {
        println!(
            "skipping the render comparison: {} is missing",
            snapshot.display()
        );
        return Ok(None);
    }
    let io = |action: String| move |source| Error::Io { action, source };
    let write = |path: &Path, text: &str| -> Result<()> {
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))
            .map_err(io(format!("creating {}", path.display())))?;
        std::fs::write(path, text).map_err(io(format!("writing {}", path.display())))
    };
    let repo = dir.join("repo");
    write(
        &repo.join("etc/kayobe/inventory/hosts"),
        "[github-writer]\nlocalhost\n",
    )?;
    write(
        &repo.join("etc/kayobe/inventory/group_vars/github-writer/writer.yml"),
        WRITER_CONFIG,
    )?;
    for environment in ["production", "staging", "dev", "lab-a", "lab-b"] {
        write(
            &repo.join(format!("etc/kayobe/environments/{environment}/globals.yml")),
            "---\n",
        )?;
    }
    let collections = dir.join("collections/ansible_collections/stackhpc");
    std::fs::create_dir_all(&collections)
        .map_err(io(format!("creating {}", collections.display())))?;
    let link = collections.join("kayobe_workflows");
    if !link.exists() {
        std::os::unix::fs::symlink(&snapshot, &link)
            .map_err(io(format!("linking {}", link.display())))?;
    }
    let bin = setup::collection_venv_dir(root).join("bin");
    write(
        &dir.join("inventory.ini"),
        &format!(
            "[github-writer]\nlocalhost ansible_connection=local ansible_python_interpreter={}\n",
            bin.join("python").display()
        ),
    )?;
    write(
        &dir.join("play.yml"),
        "- hosts: github-writer\n  gather_facts: false\n  roles: [stackhpc.kayobe_workflows.github]\n",
    )?;
    write(
        &dir.join("writer.yml"),
        &format!(
            "{WRITER_CONFIG}github_output_directory: {}\n",
            dir.join("collection-out").display()
        ),
    )?;
    let mut render_ours = Command::new(ours);
    render_ours
        .arg("--config-path")
        .arg(repo.join("etc/kayobe"))
        .args(["workflows", "render", "--platform", "github", "--out"])
        .arg(dir.join("ours-out"))
        .current_dir(dir)
        .env_remove("KAYOBE_ENVIRONMENT")
        .env_remove("KAYOBE_VAULT_PASSWORD");
    let mut render_collection = Command::new(bin.join("ansible-playbook"));
    render_collection
        .current_dir(dir)
        .args(["-i", "inventory.ini", "play.yml", "-e", "@writer.yml"])
        .env("ANSIBLE_COLLECTIONS_PATH", dir.join("collections"));
    Ok(Some((render_ours, render_collection)))
}

/// The Tempest streams `bench-fixtures` writes (`<tests>.subunit`).
const TEMPEST_STREAMS: [usize; 2] = [20_000, 200_000];
/// The peak memory the issue allows our `tempest report`, whatever the stream's size.
const TEMPEST_MEMORY_TARGET_MIB: f64 = 64.0;

/// `tempest report STREAM --junit F` against `subunit2junitxml`, on each
/// generated stream: median wall time of ours over [`RUNS`] runs against one
/// run of the reference (tens of seconds on the large stream), and the peak
/// memory (max RSS) of each, through GNU time when it is installed.
fn compare_tempest_reports(ours: &Path, tools_bin: &Path, streams: &Path) -> Result<()> {
    println!();
    println!(
        "{:<40} {:>12} {:>12} {:>9} {:>8} {:>12} {:>12}",
        "tempest report --junit",
        "ours",
        "reference",
        "speed-up",
        "target",
        "ours max RSS",
        "ref max RSS"
    );
    for tests in TEMPEST_STREAMS {
        let stream = streams.join(format!("{tests}.subunit"));
        let junit = streams.join(format!("{tests}.ours.xml"));
        let reference_junit = streams.join(format!("{tests}.reference.xml"));
        let ours_command = || {
            let mut command = Command::new(ours);
            command
                .args(["tempest", "report"])
                .arg(&stream)
                .arg("--junit")
                .arg(&junit);
            command
        };
        let reference_command = || {
            let mut command = Command::new(tools_bin.join("subunit2junitxml"));
            command
                .arg("--no-passthrough")
                .arg("-o")
                .arg(&reference_junit);
            command
        };
        let name = format!("{tests} tests");
        let (ours_time, ours_rss) = median_run(ours_command, &name)?;
        let (reference_time, reference_rss) = time_run(reference_command(), Some(&stream), &name)?;
        let ratio = reference_time.as_secs_f64() / ours_time.as_secs_f64();
        let memory_ok = ours_rss.is_none_or(|kib| kib_to_mib(kib) < TEMPEST_MEMORY_TARGET_MIB);
        println!(
            "{:<40} {:>10.1}ms {:>10.1}ms {:>8.1}x {:>7.0}x {:>12} {:>12}{}{}",
            name,
            ours_time.as_secs_f64() * 1e3,
            reference_time.as_secs_f64() * 1e3,
            ratio,
            50.0,
            mib(ours_rss),
            mib(reference_rss),
            if ratio >= 50.0 {
                ""
            } else {
                "  (below speed target)"
            },
            if memory_ok {
                ""
            } else {
                "  (above 64 MiB target)"
            },
        );
    }
    if gnu_time().is_none() {
        println!("(max RSS needs GNU time at /usr/bin/time: apt-get install time)");
    }
    Ok(())
}

/// GNU time, which measures max RSS, when it is installed.
fn gnu_time() -> Option<&'static Path> {
    let path = Path::new("/usr/bin/time");
    path.is_file().then_some(path)
}

/// Runs `command()` [`RUNS`] times through [`time_run`]: the median wall
/// time and the largest max RSS.
fn median_run(command: impl Fn() -> Command, name: &str) -> Result<(Duration, Option<u64>)> {
    let mut times = Vec::with_capacity(RUNS);
    let mut rss = None;
    for _ in 0..RUNS {
        let (elapsed, kib) = time_run(command(), None, name)?;
        times.push(elapsed);
        rss = rss.max(kib);
    }
    times.sort();
    Ok((times[RUNS / 2], rss))
}

fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A max RSS as printed: `12.3MiB`, or `n/a` without GNU time.
fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |kib| format!("{:.1}MiB", kib_to_mib(kib)),
    )
}

/// Runs `command` once (stdin from `stdin`, else nothing; stdout discarded)
/// and returns its wall time and, through GNU time, its max RSS in KiB.
/// Exit status 1 is success here: `tempest report`, `subunit2junitxml` and
/// `config-diff` exit 1 on failures or changes, as the fixtures have.
fn time_run(command: Command, stdin: Option<&Path>, name: &str) -> Result<(Duration, Option<u64>)> {
    let gnu_time = gnu_time();
    let rss_file = std::env::temp_dir().join(format!("xtask-bench-rss-{}", std::process::id()));
    let mut command = match gnu_time {
        Some(time) => {
            let mut wrapped = Command::new(time);
            wrapped
                .args(["-f", "%M", "-o"])
                .arg(&rss_file)
                .arg(command.get_program())
                .args(command.get_args());
            if let Some(dir) = command.get_current_dir() {
                wrapped.current_dir(dir);
            }
            wrapped
        }
        None => command,
    };
    let input = match stdin {
        Some(path) => Stdio::from(std::fs::File::open(path).map_err(|source| Error::Io {
            action: format!("opening {}", path.display()),
            source,
        })?),
        None => Stdio::null(),
    };
    command
        .stdin(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = command.status().map_err(|source| Error::Spawn {
        command: format!("{name}: {command:?}"),
        source,
    })?;
    let elapsed = start.elapsed();
    if !matches!(status.code(), Some(0 | 1)) {
        return Err(Error::Failed {
            command: format!("{name}: {command:?}"),
            status,
        });
    }
    let rss = match gnu_time {
        Some(_) => {
            let text = std::fs::read_to_string(&rss_file).map_err(|source| Error::Io {
                action: format!("reading {}", rss_file.display()),
                source,
            })?;
            let _ = std::fs::remove_file(&rss_file);
            // GNU time writes "Command exited with non-zero status 1" first.
            text.lines()
                .last()
                .and_then(|line| line.trim().parse().ok())
        }
        None => None,
    };
    Ok((elapsed, rss))
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
/// Output is discarded; a failing run (exit 1 counting as success when
/// `exit_1_is_success`) fails the comparison.
fn median_time(command: &mut Command, name: &str, exit_1_is_success: bool) -> Result<Duration> {
    command.stdin(Stdio::null()).stdout(Stdio::null());
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        let start = Instant::now();
        let status = command.status().map_err(|source| Error::Spawn {
            command: format!("{name}: {:?}", command.get_program()),
            source,
        })?;
        let elapsed = start.elapsed();
        if !(status.success() || exit_1_is_success && status.code() == Some(1)) {
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
