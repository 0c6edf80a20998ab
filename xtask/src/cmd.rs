//! Run programs the way a developer would type them: print the command line,
//! run it in the project root, and fail with that command line on error.
//! Also the step headers with durations that `test`, `lint`, `fuzz` and
//! `bench` print.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::error::{Error, Result};

/// A command to run, printed as it would be typed.
pub struct Cmd {
    command: Command,
    line: String,
}

impl Cmd {
    /// `program`, to be run in `dir`.
    pub fn new(program: impl AsRef<OsStr>, dir: &Path) -> Cmd {
        let program = program.as_ref();
        let mut command = Command::new(program);
        command.current_dir(dir);
        Cmd {
            command,
            line: quote(program),
        }
    }

    /// `cargo` (the one running xtask, so the toolchain matches), run in `dir`.
    pub fn cargo(dir: &Path) -> Cmd {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Cmd::new(cargo, dir);
        cmd.line = "cargo".to_owned();
        cmd
    }

    /// Adds one argument.
    pub fn arg(self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args([arg])
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            let arg = arg.as_ref();
            self.line.push(' ');
            self.line.push_str(&quote(arg));
            self.command.arg(arg);
        }
        self
    }

    /// Sets an environment variable (not printed: values may be long or private).
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// Prints the command line, runs it with inherited stdio, and fails unless
    /// it exits successfully.
    pub fn run(mut self) -> Result<()> {
        println!("$ {}", self.line);
        let status = self.command.status().map_err(|source| Error::Spawn {
            command: self.line.clone(),
            source,
        })?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Failed {
                command: self.line,
                status,
            })
        }
    }

    /// Runs the command quietly and returns its stdout; fails unless it exits
    /// successfully.
    pub fn read(mut self) -> Result<String> {
        let output = self
            .command
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| Error::Spawn {
                command: self.line.clone(),
                source,
            })?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(Error::Failed {
                command: self.line,
                status: output.status,
            })
        }
    }

    /// Whether the command runs and exits successfully; all output discarded.
    /// For probes such as "is cargo-nextest installed".
    pub fn succeeds(mut self) -> bool {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Quotes an argument for display when a shell would split or expand it.
fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Runs one named step of a task: a header before, the outcome and duration after.
pub fn step<T>(name: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {name}");
    let started = Instant::now();
    let result = body();
    let seconds = started.elapsed().as_secs_f64();
    match &result {
        Ok(_) => println!("<== {name}: ok ({seconds:.1}s)"),
        Err(_) => println!("<== {name}: FAILED ({seconds:.1}s)"),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_arguments_are_shown_as_typed() {
        assert_eq!(quote(OsStr::new("--workspace")), "--workspace");
        assert_eq!(
            quote(OsStr::new("-max_total_time=300")),
            "-max_total_time=300"
        );
        assert_eq!(
            quote(OsStr::new("ansible-core==2.19.14")),
            "ansible-core==2.19.14"
        );
    }

    #[test]
    fn arguments_a_shell_would_split_are_quoted() {
        assert_eq!(quote(OsStr::new("a b")), "'a b'");
        assert_eq!(quote(OsStr::new("")), "''");
        assert_eq!(quote(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(quote(OsStr::new("$HOME")), "'$HOME'");
    }

    #[test]
    fn command_line_lists_every_argument() {
        let cmd = Cmd::new("echo", Path::new(".")).args(["a", "b c"]);
        assert_eq!(cmd.line, "echo a 'b c'");
    }

    #[test]
    fn a_failing_command_names_its_command_line() {
        let error = Cmd::new("false", Path::new(".")).run().unwrap_err();
        assert!(matches!(&error, Error::Failed { command, .. } if command == "false"));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let error = Cmd::new("kayobe-xtask-no-such-program", Path::new("."))
            .run()
            .unwrap_err();
        assert!(matches!(error, Error::Spawn { .. }));
    }

    #[test]
    fn step_passes_the_body_result_through() {
        assert_eq!(step("answer", || Ok(42)).unwrap(), 42);
        assert!(step("fails", || Err::<(), _>(Error::Usage("no".into()))).is_err());
    }
}
