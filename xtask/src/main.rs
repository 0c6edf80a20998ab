//! `cargo xtask`: the developer tasks of kayobe-automation, in plain Rust so
//! they run the same on every machine and in CI (`.ci/run` is
//! `cargo xtask test`).
//!
//! Each task is one module; [`cmd`] runs programs and prints what it runs.

mod bench;
mod cmd;
mod error;
mod fuzz;
mod setup;
mod test;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::{Error, Result};

/// The help text, also shown after a usage error.
const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  setup                          install the pinned reference tools (ansible-core, zizmor, ...)
                                 into target/tools/venv; fast when nothing changed
  lint                           cargo fmt --check and cargo clippy -D warnings
  tidy                           check the architecture's rules: layers, confined dependencies,
                                 no outside documents cited, a doc comment atop every source file
  test                           setup, lint, tidy, then every test of the workspace (what CI runs)
  fuzz [--seconds N] [TARGET...] run the fuzz targets in fuzz/ (default: all, 300 s each)
  bench [--compare]              run the benchmarks and compare with the reference tools
                                 (--compare: only the side-by-side comparison, no criterion)
  help                           show this text";

/// A task and its arguments, as parsed from the command line.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Setup,
    Lint,
    Tidy,
    Test,
    Fuzz { seconds: u64, targets: Vec<String> },
    Bench { compare_only: bool },
    Help,
}

fn parse(args: &[String]) -> Result<Task> {
    let Some((task, rest)) = args.split_first() else {
        return Ok(Task::Help);
    };
    let no_arguments = |task: Task| {
        if rest.is_empty() {
            Ok(task)
        } else {
            Err(Error::Usage(format!(
                "`{}` takes no arguments, got `{}`",
                args[0],
                rest.join(" ")
            )))
        }
    };
    match task.as_str() {
        "setup" => no_arguments(Task::Setup),
        "lint" => no_arguments(Task::Lint),
        "tidy" => no_arguments(Task::Tidy),
        "test" => no_arguments(Task::Test),
        "bench" => match rest {
            [] => Ok(Task::Bench {
                compare_only: false,
            }),
            [flag] if flag == "--compare" => Ok(Task::Bench { compare_only: true }),
            _ => Err(Error::Usage(format!(
                "`bench` takes only `--compare`, got `{}`",
                rest.join(" ")
            ))),
        },
        "help" | "--help" | "-h" => Ok(Task::Help),
        "fuzz" => parse_fuzz(rest),
        other => Err(Error::Usage(format!("unknown task `{other}`"))),
    }
}

fn parse_fuzz(args: &[String]) -> Result<Task> {
    let mut seconds = fuzz::DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            let value = args
                .next()
                .ok_or_else(|| Error::Usage("`--seconds` needs a number".to_owned()))?;
            seconds = value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                Error::Usage(format!(
                    "`--seconds` needs a positive whole number, got `{value}`"
                ))
            })?;
        } else if arg.starts_with('-') {
            return Err(Error::Usage(format!("unknown option `{arg}` for fuzz")));
        } else {
            targets.push(arg.clone());
        }
    }
    Ok(Task::Fuzz { seconds, targets })
}

/// The workspace root: xtask lives in `<root>/xtask`.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

fn run(task: Task) -> Result<()> {
    let root = project_root();
    match task {
        Task::Setup => setup::run(&root).map(drop),
        Task::Lint => test::lint(&root),
        Task::Tidy => tidy::run(&root),
        Task::Test => test::run(&root),
        Task::Fuzz { seconds, targets } => fuzz::run(&root, seconds, &targets),
        Task::Bench { compare_only } => bench::run(&root, compare_only),
        Task::Help => {
            println!("{USAGE}");
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nerror: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Task> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    #[test]
    fn simple_tasks_parse() {
        assert_eq!(parse_line("setup").unwrap(), Task::Setup);
        assert_eq!(parse_line("lint").unwrap(), Task::Lint);
        assert_eq!(parse_line("test").unwrap(), Task::Test);
        assert_eq!(parse_line("tidy").unwrap(), Task::Tidy);
        assert_eq!(
            parse_line("bench").unwrap(),
            Task::Bench {
                compare_only: false
            }
        );
        assert_eq!(
            parse_line("bench --compare").unwrap(),
            Task::Bench { compare_only: true }
        );
        assert!(parse_line("bench --fast").is_err());
        assert_eq!(parse_line("").unwrap(), Task::Help);
        assert_eq!(parse_line("--help").unwrap(), Task::Help);
    }

    #[test]
    fn fuzz_defaults_to_every_target_for_the_default_time() {
        assert_eq!(
            parse_line("fuzz").unwrap(),
            Task::Fuzz {
                seconds: fuzz::DEFAULT_SECONDS,
                targets: vec![]
            }
        );
    }

    #[test]
    fn fuzz_takes_seconds_and_targets_in_any_order() {
        assert_eq!(
            parse_line("fuzz yaml --seconds 30 vault").unwrap(),
            Task::Fuzz {
                seconds: 30,
                targets: vec!["yaml".into(), "vault".into()]
            }
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for line in [
            "frobnicate",
            "test --release",
            "fuzz --seconds",
            "fuzz --seconds 0",
            "fuzz --seconds ten",
            "fuzz --jobs 2",
        ] {
            assert!(
                matches!(parse_line(line), Err(Error::Usage(_))),
                "`{line}` should be a usage error"
            );
        }
    }

    #[test]
    fn the_project_root_holds_the_workspace_manifest() {
        assert!(project_root().join("Cargo.toml").is_file());
        assert!(project_root().join("xtask").is_dir());
    }
}
