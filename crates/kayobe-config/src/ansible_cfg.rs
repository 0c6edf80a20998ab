//! The `ansible.cfg` Ansible would read, and the settings in it that change
//! what `ansible-inventory --list` prints.
//!
//! Which file: `ANSIBLE_CONFIG` (a file, or a directory holding
//! `ansible.cfg`), else — when a Kayobe configuration is in use — the one
//! Kayobe exports as `ANSIBLE_CONFIG`: the selected environment's
//! `environments/<env>/ansible.cfg`, else `etc/kayobe/ansible.cfg`; else
//! Ansible's own search: `ansible.cfg` in the working directory, then
//! `~/.ansible.cfg`, then `/etc/ansible/ansible.cfg`. The first that exists
//! is the only one read, as in Ansible.
//!
//! The file is read as Python's `configparser` reads it for Ansible: `[section]`
//! headers, `key = value` or `key: value`, whole-line `#`/`;` comments and
//! inline `;` comments, keys case-insensitive. Each setting's `ANSIBLE_*`
//! environment variable wins over the file.
//!
//! Settings read: `[defaults] inject_facts_as_vars`
//! (`ANSIBLE_INJECT_FACT_VARS`, default true), `[defaults] hash_behaviour`
//! (`ANSIBLE_HASH_BEHAVIOUR`, default `replace`) and `[defaults]
//! force_valid_group_names` (`ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS`,
//! default `never`). A value that would change the inventory in a way this
//! reader does not reproduce (`hash_behaviour = merge`, group names
//! transformed with `always`/`silently`) is an error naming the file, never
//! silently ignored.

use std::path::{Path, PathBuf};

use crate::inventory::ListSettings;

/// Why the Ansible settings could not be had.
#[derive(Debug, thiserror::Error)]
pub enum AnsibleCfgError {
    /// The file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line that is neither a section, a setting nor a comment.
    #[error("{}:{line}: not an ansible.cfg line (`[section]`, `key = value` or a comment); Ansible rejects this file too", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
    },
    /// A boolean setting that is not one.
    #[error("{origin}: {name} must be a boolean (true/false, yes/no, on/off, 1/0), not `{value}`")]
    InvalidBoolean {
        /// The file or environment variable.
        origin: String,
        /// The setting.
        name: String,
        /// Its value.
        value: String,
    },
    /// A setting whose effect on the inventory is not reproduced.
    #[error(
        "{origin}: {name} = {value} changes the inventory in a way kayobe-automation does not reproduce (it supports {supported}); use a supported value"
    )]
    Unsupported {
        /// The file or environment variable.
        origin: String,
        /// The setting.
        name: String,
        /// Its value.
        value: String,
        /// The values that are supported.
        supported: &'static str,
    },
}

/// A parsed `ansible.cfg`: `(section, key) → (value, line)`.
#[derive(Debug, Clone, Default)]
struct IniFile {
    path: Option<PathBuf>,
    entries: Vec<(String, String, String)>,
}

impl IniFile {
    fn parse(path: &Path, text: &str) -> Result<Self, AnsibleCfgError> {
        let mut section = String::new();
        let mut entries: Vec<(String, String, String)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            // A continuation line (indented) adds to the previous value.
            if raw.starts_with([' ', '\t'])
                && let Some(last) = entries.last_mut()
            {
                last.2.push('\n');
                last.2.push_str(strip_inline_comment(trimmed));
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                section = name.trim().to_owned();
                continue;
            }
            let split = trimmed.find(['=', ':']).ok_or(AnsibleCfgError::Syntax {
                path: path.to_path_buf(),
                line: index + 1,
            })?;
            let key = trimmed[..split].trim().to_ascii_lowercase();
            let value = strip_inline_comment(trimmed[split + 1..].trim()).to_owned();
            entries.retain(|(s, k, _)| !(s == &section && k == &key));
            entries.push((section.clone(), key, value));
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            entries,
        })
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
    }
}

/// `configparser` with `inline_comment_prefixes=(';',)`: a `;` after
/// whitespace starts a comment.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b';' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return value[..i].trim_end();
        }
    }
    value
}

/// The Ansible settings in effect, and the file they came from.
#[derive(Debug, Clone, Default)]
pub struct AnsibleSettings {
    file: IniFile,
}

impl AnsibleSettings {
    /// The settings Ansible reads when Kayobe runs it for the configuration
    /// at `config_path` with `environment` (see the module docs for the
    /// search order).
    pub fn for_kayobe(
        config_path: &Path,
        environment: Option<&str>,
    ) -> Result<Self, AnsibleCfgError> {
        let kayobe = environment
            .map(|env| {
                config_path
                    .join("environments")
                    .join(env)
                    .join("ansible.cfg")
            })
            .into_iter()
            .chain([config_path.join("ansible.cfg")]);
        Self::first_of(kayobe.collect())
    }

    /// The settings `ansible-inventory` reads on its own (no Kayobe):
    /// `ANSIBLE_CONFIG`, then the working directory's, the home directory's
    /// and the system's file.
    pub fn for_ansible() -> Result<Self, AnsibleCfgError> {
        Self::first_of(Vec::new())
    }

    /// The first existing file of: `ANSIBLE_CONFIG`, `kayobe`, then
    /// Ansible's own search path.
    fn first_of(kayobe: Vec<PathBuf>) -> Result<Self, AnsibleCfgError> {
        let mut candidates = Vec::new();
        if let Some(path) = std::env::var_os("ANSIBLE_CONFIG").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            candidates.push(if path.is_dir() {
                path.join("ansible.cfg")
            } else {
                path
            });
        }
        candidates.extend(kayobe);
        candidates.push(PathBuf::from("ansible.cfg"));
        if let Some(home) = std::env::var_os("HOME") {
            candidates.push(PathBuf::from(home).join(".ansible.cfg"));
        }
        candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
        for path in candidates {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return Ok(Self {
                        file: IniFile::parse(&path, &text)?,
                    });
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                    ) => {}
                Err(source) => return Err(AnsibleCfgError::Io { path, source }),
            }
        }
        Ok(Self::default())
    }

    /// The file read, if any.
    pub fn path(&self) -> Option<&Path> {
        self.file.path.as_deref()
    }

    /// A setting: the environment variable, else the file, with where it
    /// came from.
    fn setting(&self, env: &str, section: &str, key: &str) -> Option<(String, String)> {
        if let Ok(value) = std::env::var(env) {
            return Some((value, env.to_owned()));
        }
        let value = self.file.get(section, key)?;
        let origin = format!(
            "{} [{section}] {key}",
            self.file
                .path
                .as_deref()
                .unwrap_or(Path::new("ansible.cfg"))
                .display()
        );
        Some((value.to_owned(), origin))
    }

    fn boolean(
        &self,
        env: &str,
        section: &str,
        key: &str,
        default: bool,
    ) -> Result<bool, AnsibleCfgError> {
        let Some((value, origin)) = self.setting(env, section, key) else {
            return Ok(default);
        };
        // Ansible's `boolean()`: these strings, case-insensitive.
        match value.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => Ok(true),
            "n" | "no" | "off" | "0" | "false" | "f" | "0.0" | "" => Ok(false),
            _ => Err(AnsibleCfgError::InvalidBoolean {
                origin,
                name: key.to_owned(),
                value,
            }),
        }
    }

    /// The settings that change `ansible-inventory --list` output; a value
    /// whose effect is not reproduced is an error.
    pub fn list_settings(&self) -> Result<ListSettings, AnsibleCfgError> {
        if let Some((value, origin)) =
            self.setting("ANSIBLE_HASH_BEHAVIOUR", "defaults", "hash_behaviour")
            && value.trim() != "replace"
        {
            return Err(AnsibleCfgError::Unsupported {
                origin,
                name: "hash_behaviour".to_owned(),
                value,
                supported: "`replace`, Ansible's default",
            });
        }
        if let Some((value, origin)) = self.setting(
            "ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS",
            "defaults",
            "force_valid_group_names",
        ) && !matches!(value.trim(), "never" | "ignore" | "false" | "False")
        {
            return Err(AnsibleCfgError::Unsupported {
                origin,
                name: "force_valid_group_names".to_owned(),
                value,
                supported: "`never` and `ignore`, which keep group names as written",
            });
        }
        Ok(ListSettings {
            inject_facts_as_vars: self.boolean(
                "ANSIBLE_INJECT_FACT_VARS",
                "defaults",
                "inject_facts_as_vars",
                true,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configparser_lines() {
        let file = IniFile::parse(
            Path::new("a.cfg"),
            "# c\n[defaults]\nInject_Facts_As_Vars: False ; why\n; other\nx = a;b\n[inventory]\nx=1\n",
        )
        .unwrap();
        assert_eq!(file.get("defaults", "inject_facts_as_vars"), Some("False"));
        assert_eq!(file.get("defaults", "x"), Some("a;b"));
        assert_eq!(file.get("inventory", "x"), Some("1"));
        let error = IniFile::parse(Path::new("a.cfg"), "[defaults]\nno separator\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.cfg:2: not an ansible.cfg line (`[section]`, `key = value` or a comment); Ansible rejects this file too"
        );
    }
}
