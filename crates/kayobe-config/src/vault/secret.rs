//! The vault password, and reading it from a file or script as Ansible does.

use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};

use kayobe_stdx::Secret;

use super::envelope::strip;
use super::error::{PasswordFileProblem, VaultError};
use super::is_vaulted;

/// A vault password. Its `Debug` output never shows the password, and the
/// password is overwritten when dropped (it is a [`Secret`]).
#[derive(Clone)]
pub struct VaultSecret {
    password: Secret,
}

impl VaultSecret {
    /// A secret holding exactly these password bytes (nothing is stripped).
    pub fn new(password: impl Into<Vec<u8>>) -> Self {
        Self {
            password: Secret::new(password),
        }
    }

    /// Reads a password file as Ansible's `--vault-password-file` does.
    ///
    /// A relative name is a path from the current directory (never looked
    /// up in `PATH`). An executable file is run without arguments and its standard output is
    /// the password, with `\r` and `\n` stripped from both ends; a file whose
    /// name (without extension) ends in `-client` is a client script and gets
    /// `--vault-id default`. Any other file is read and ASCII whitespace is
    /// stripped from both ends. An empty result is an error, as in Ansible.
    pub fn from_file(path: &Path) -> Result<Self, VaultError> {
        let problem = |problem| VaultError::PasswordFile {
            path: path.to_path_buf(),
            problem,
        };
        let metadata = std::fs::metadata(path).map_err(|error| {
            problem(match error.kind() {
                std::io::ErrorKind::NotFound => PasswordFileProblem::NotFound,
                _ => PasswordFileProblem::Read(error),
            })
        })?;
        if metadata.is_dir() {
            return Err(problem(PasswordFileProblem::Directory));
        }
        let password = if is_executable(&metadata) {
            // Ansible runs `os.path.realpath(name)`: a bare name such as
            // `hostname` is the file in the current directory, never a
            // command looked up in PATH.
            let program = std::fs::canonicalize(path)
                .map_err(|error| problem(PasswordFileProblem::Read(error)))?;
            let mut command = Command::new(program);
            if is_client_script(path) {
                command.args(["--vault-id", "default"]);
            }
            let output = command
                .stdin(Stdio::inherit())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|error| problem(PasswordFileProblem::Run(error)))?;
            if !output.status.success() {
                return Err(problem(PasswordFileProblem::ScriptFailed {
                    status: output.status,
                }));
            }
            // Held as a secret so the untrimmed output is wiped too.
            let stdout = Secret::new(output.stdout);
            Secret::new(trim_newlines(stdout.expose()))
        } else {
            let contents = Secret::new(
                std::fs::read(path).map_err(|error| problem(PasswordFileProblem::Read(error)))?,
            );
            // Python's `bytes.strip()`, which also strips `\x0b` unlike `trim_ascii`.
            let stripped = strip(contents.expose()).1;
            if is_vaulted(stripped) {
                return Err(problem(PasswordFileProblem::Vaulted));
            }
            Secret::new(stripped)
        };
        if password.expose().is_empty() {
            return Err(problem(PasswordFileProblem::Empty));
        }
        Ok(Self { password })
    }

    /// The password bytes, for the vault's cipher. Never log or print them.
    pub fn bytes(&self) -> &[u8] {
        self.password.expose()
    }

    /// The password as a [`Secret`], for handing it on (to a container, to
    /// OpenBao as a pipeline secret) without copying it.
    pub fn into_secret(self) -> Secret {
        self.password
    }
}

/// A password read elsewhere (e.g. from an environment variable), used as
/// it is.
impl From<Secret> for VaultSecret {
    fn from(password: Secret) -> Self {
        Self { password }
    }
}

impl fmt::Debug for VaultSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultSecret(<redacted>)")
    }
}

/// Python's `bytes.strip(b"\r\n")`.
fn trim_newlines(bytes: &[u8]) -> &[u8] {
    let is_newline = |b: &&u8| matches!(b, b'\r' | b'\n');
    let front = bytes.iter().take_while(is_newline).count();
    let back = bytes[front..].iter().rev().take_while(is_newline).count();
    &bytes[front..bytes.len() - back]
}

/// Ansible's `is_executable`: any of the owner, group or other execute bits.
#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &std::fs::Metadata) -> bool {
    false
}

/// Ansible's `script_is_client`: the name without extension ends in `-client`.
fn is_client_script(path: &Path) -> bool {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .is_some_and(|stem| stem.ends_with("-client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", VaultSecret::new("hunter2"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn the_password_is_handed_on_as_a_secret() {
        let secret = VaultSecret::from(Secret::new("hunter2"));
        assert_eq!(secret.bytes(), b"hunter2");
        assert_eq!(secret.into_secret().expose(), b"hunter2");
    }

    #[test]
    fn newlines_are_trimmed_but_other_whitespace_kept() {
        assert_eq!(trim_newlines(b"\r\n pw \n\n"), b" pw ");
        assert_eq!(trim_newlines(b"\n\n"), b"");
    }

    #[test]
    fn password_files_are_stripped_as_python_strips() {
        let dir = std::env::temp_dir().join(format!("kayobe-vault-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, b"\x0b\t pass word \r\n\x0c").unwrap();
        assert_eq!(VaultSecret::from_file(&file).unwrap().bytes(), b"pass word");
        std::fs::write(&file, b" \n").unwrap();
        assert!(matches!(
            VaultSecret::from_file(&file),
            Err(VaultError::PasswordFile {
                problem: PasswordFileProblem::Empty,
                ..
            })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn client_scripts_are_recognised_by_name() {
        assert!(is_client_script(Path::new("/x/vault-client.py")));
        assert!(is_client_script(Path::new("keyring-client")));
        assert!(!is_client_script(Path::new("/x/client/password")));
    }
}
