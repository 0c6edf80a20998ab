//! Running bash on `config.sh` and reading back what it leaves set.
//!
//! One `bash --noprofile --norc -c WRAPPER` process per read, in its own
//! process group (so a time limit stops whatever the file started), with
//! only the context's variables in its environment and the context's working
//! directory. The wrapper sources the file as kayobe-automation does
//! (`set -euE -o pipefail`, its standard output sent to standard error, no
//! positional parameters), then prints every variable NUL-separated on
//! standard output. Arrays and unexported variables are read too: pipelines
//! see them, since they source the file into their own shell.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use indexmap::IndexMap;

use super::{AutomationConfError, ConfValue};

/// Prefix of the wrapper's own variables, never reported.
const OWN: &str = "__kayobe_automation_";

/// Where bash is: the first `bash` in an absolute directory of `$PATH`, else
/// the usual places (looked up once per process).
pub(super) fn bash() -> Result<&'static Path, AutomationConfError> {
    static BASH: OnceLock<Option<PathBuf>> = OnceLock::new();
    BASH.get_or_init(|| {
        let on_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        on_path
            .into_iter()
            .filter(|dir| dir.is_absolute())
            .chain([PathBuf::from("/bin"), PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("bash"))
            .find(|candidate| candidate.is_file())
    })
    .as_deref()
    .ok_or(AutomationConfError::BashMissing)
}

/// The wrapper: `$1` is the file. Before the file runs it lists bash's
/// variables (`compgen -v`), after it prints them all with `declare -p`
/// (one builtin, no subshell: listing them one by one in bash costs more
/// than sourcing the file); sections end with NUL, which no value holds.
const WRAPPER: &str = r#"__kayobe_automation_file=$1; builtin shift
builtin compgen -v; builtin printf '\0'
builtin trap 'builtin printf "\n__kayobe_automation_failed %s %s %s\n" "$?" "${LINENO}" "${BASH_SOURCE[0]-}" >&2' ERR
builtin set -euE -o pipefail
builtin source "$__kayobe_automation_file" >&2
builtin trap - ERR
builtin set +euE +o pipefail
builtin declare -p; builtin printf '\0z'
"#;

/// What bash left set: the variables it defined itself before the file ran
/// (`own`), and every variable after.
#[derive(Debug, Default)]
pub(super) struct Dump {
    pub own: Vec<String>,
    pub vars: IndexMap<String, ConfValue>,
}

/// Sources `file` in `working_dir` with exactly `env`, stopping it after
/// `limit`.
pub(super) fn source(
    file: &Path,
    working_dir: &Path,
    env: &IndexMap<String, String>,
    limit: Duration,
) -> Result<Dump, AutomationConfError> {
    let bash = bash()?;
    let mut command = Command::new(bash);
    command
        .args(["--noprofile", "--norc", "-c", WRAPPER, "bash"])
        .arg(file)
        .current_dir(working_dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let spawn_error = |source| AutomationConfError::Spawn {
        bash: bash.to_path_buf(),
        working_dir: working_dir.to_path_buf(),
        source,
    };
    let mut child = command.spawn().map_err(spawn_error)?;
    let group = child.id();
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let errors = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.read_to_end(&mut bytes);
            }
            bytes
        });
        let mut out = Vec::new();
        if let Some(stdout) = stdout.as_mut() {
            let _ = stdout.read_to_end(&mut out);
        }
        let err = errors.join().unwrap_or_default();
        let _ = sender.send((child.wait(), out, err));
    });
    let (status, out, err) = match receiver.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => {
            // The whole group: `$(sleep …)` children hold the pipes open.
            if let Some(pid) = rustix::process::Pid::from_raw(group as i32) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            return Err(AutomationConfError::TimedOut {
                path: file.to_path_buf(),
                limit,
            });
        }
    };
    let status = status.map_err(spawn_error)?;
    let dump = parse_dump(&out);
    match dump {
        Some(dump) if status.success() => Ok(dump),
        _ => Err(rejection(file, status.code(), &err)),
    }
}

/// What the wrapper printed, `None` unless it got to the end (the file may
/// `exit` the shell) and bash's `declare -p` output reads as expected.
fn parse_dump(out: &[u8]) -> Option<Dump> {
    let mut sections = out.split(|&b| b == 0);
    let before = sections.next()?;
    let declared = sections.next()?;
    if sections.next()? != b"z" {
        return None;
    }
    let own = String::from_utf8_lossy(before)
        .lines()
        .filter(|name| !name.is_empty() && !name.starts_with(OWN))
        .map(str::to_owned)
        .collect();
    let mut vars = IndexMap::new();
    let mut reader = Declarations {
        text: declared,
        at: 0,
    };
    loop {
        reader.skip_blanks();
        if reader.at == reader.text.len() {
            break;
        }
        let (name, value) = reader.declaration()?;
        if let Some(value) = value
            && !name.starts_with(OWN)
        {
            vars.insert(name, value);
        }
    }
    Some(Dump { own, vars })
}

/// A reader of `declare -p` output: `declare -FLAGS NAME[=VALUE]` lines,
/// values in `"…"` or `$'…'` quoting, arrays as `([KEY]=VALUE …)`.
struct Declarations<'a> {
    text: &'a [u8],
    at: usize,
}

impl Declarations<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, expected: &[u8]) -> Option<()> {
        self.text[self.at..].starts_with(expected).then(|| {
            self.at += expected.len();
        })
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n')) {
            self.at += 1;
        }
    }

    /// The next declaration: its name and value (`None`: declared without
    /// one); `None` when the text is not what bash prints.
    fn declaration(&mut self) -> Option<(String, Option<ConfValue>)> {
        self.eat(b"declare -")?;
        let flags_start = self.at;
        while self.peek()?.is_ascii_alphabetic() || self.peek()? == b'-' {
            self.at += 1;
        }
        let flags = &self.text[flags_start..self.at];
        let is_array = flags.iter().any(|f| matches!(f, b'a' | b'A'));
        self.eat(b" ")?;
        let name_start = self.at;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
            self.at += 1;
        }
        let name = String::from_utf8_lossy(&self.text[name_start..self.at]).into_owned();
        if self.eat(b"=").is_none() {
            return Some((name, None));
        }
        let value = if is_array {
            self.eat(b"(")?;
            let mut items = Vec::new();
            loop {
                self.skip_blanks();
                if self.eat(b")").is_some() {
                    break;
                }
                self.eat(b"[")?;
                if matches!(self.peek()?, b'"' | b'$') {
                    self.word()?;
                } else {
                    while self.peek()? != b']' {
                        self.at += 1;
                    }
                }
                self.eat(b"]=")?;
                items.push(self.word()?);
            }
            ConfValue::Array(items)
        } else {
            ConfValue::Scalar(self.word()?)
        };
        Some((name, Some(value)))
    }

    /// One quoted word: `"…"` (backslash escapes `$`, `` ` ``, `"`, `\`)
    /// or `$'…'` (ANSI-C escapes, octal bytes).
    fn word(&mut self) -> Option<String> {
        let mut bytes = Vec::new();
        if self.eat(b"\"").is_some() {
            loop {
                match self.peek()? {
                    b'"' => break,
                    b'\\'
                        if matches!(
                            self.text.get(self.at + 1),
                            Some(b'$' | b'`' | b'"' | b'\\')
                        ) =>
                    {
                        bytes.push(self.text[self.at + 1]);
                        self.at += 2;
                    }
                    b => {
                        bytes.push(b);
                        self.at += 1;
                    }
                }
            }
            self.at += 1;
        } else {
            self.eat(b"$'")?;
            loop {
                match self.peek()? {
                    b'\'' => break,
                    b'\\' => {
                        self.at += 1;
                        self.ansi_escape(&mut bytes)?;
                    }
                    b => {
                        bytes.push(b);
                        self.at += 1;
                    }
                }
            }
            self.at += 1;
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The escape after a backslash in `$'…'`.
    fn ansi_escape(&mut self, bytes: &mut Vec<u8>) -> Option<()> {
        let c = self.peek()?;
        self.at += 1;
        let simple = match c {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'e' | b'E' => Some(0x1b),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' | b'\'' | b'"' | b'?' => Some(c),
            _ => None,
        };
        if let Some(byte) = simple {
            bytes.push(byte);
            return Some(());
        }
        let (radix, max, first) = match c {
            b'0'..=b'7' => (8, 3, Some(c)),
            b'x' => (16, 2, None),
            _ => {
                // Not an escape bash prints: keep it as written.
                bytes.extend_from_slice(&[b'\\', c]);
                return Some(());
            }
        };
        let mut digits: Vec<u8> = first.into_iter().collect();
        while digits.len() < max && matches!(self.peek(), Some(d) if (d as char).is_digit(radix)) {
            digits.push(self.peek()?);
            self.at += 1;
        }
        let value = u32::from_str_radix(std::str::from_utf8(&digits).ok()?, radix).ok()?;
        bytes.push(u8::try_from(value & 0xff).ok()?);
        Some(())
    }
}

/// Bash's own complaint about `file`, located: the first `PATH: line N: …`
/// message, else the failed command the ERR trap reported, else the exit.
fn rejection(file: &Path, code: Option<i32>, stderr: &[u8]) -> AutomationConfError {
    let text = String::from_utf8_lossy(stderr);
    for line in text.lines() {
        if let Some((path, rest)) = line.split_once(": line ")
            && let Some((number, message)) = rest.split_once(": ")
            && let Ok(number) = number.parse()
            && !path.is_empty()
        {
            let path = if path == "bash" {
                file.to_path_buf()
            } else {
                PathBuf::from(path)
            };
            return AutomationConfError::Rejected {
                path,
                line: Some(number),
                message: shorten(message),
            };
        }
    }
    let failed = format!("{OWN}failed ");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(&failed) {
            let mut parts = rest.splitn(3, ' ');
            let status = parts.next().unwrap_or_default();
            let number = parts.next().and_then(|n| n.parse().ok());
            let path = parts.next().filter(|p| !p.is_empty()).map(PathBuf::from);
            return AutomationConfError::Rejected {
                path: path.unwrap_or_else(|| file.to_path_buf()),
                line: number,
                message: format!(
                    "a command failed with exit status {status}, which stops kayobe-automation (it sources config.sh with `set -e`)"
                ),
            };
        }
    }
    AutomationConfError::Rejected {
        path: file.to_path_buf(),
        line: None,
        message: match code {
            Some(0) => "the file exits the shell (`exit`) before it ends, which ends kayobe-automation's pipelines too".to_owned(),
            Some(code) => format!("bash exited with status {code}"),
            None => "bash was stopped by a signal".to_owned(),
        },
    }
}

/// One line of at most 200 characters: bash's messages quote the command
/// they stopped at, which is all the context an operator needs.
fn shorten(message: &str) -> String {
    let message = message.trim();
    match message.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    }
}
