//! The INI inventory format, read line by line as Ansible's `ini` plugin does.
//!
//! [`parse_ini`] turns text into [`IniEntry`] values and reports every
//! syntax error; what the entries mean together (which groups exist, pending
//! `:children` references) is decided when they are applied to an inventory.

use std::path::Path;

use super::InventoryError;
use super::pyliteral::parse_value;
use super::range::{HostBudget, expand_hostname_range_within, split_port};
use super::shlex;
use crate::Location;
use crate::value::Value;

/// What a `[section]` header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// `[group]`: host lines follow.
    Hosts,
    /// `[group:children]`: child group names follow.
    Children,
    /// `[group:vars]`: `key=value` lines follow.
    Vars,
}

/// One meaningful line of an INI inventory.
#[derive(Debug, Clone, PartialEq)]
pub enum IniEntry {
    /// A `[group]`, `[group:children]` or `[group:vars]` header.
    Section {
        /// The group name.
        group: String,
        /// What the following lines hold.
        kind: SectionKind,
        /// Where the header is.
        location: Location,
    },
    /// A host line: one host, or several from a range, with inline variables.
    Hosts {
        /// The host names, ranges expanded.
        names: Vec<String>,
        /// The port after `host:`, if any.
        port: Option<u64>,
        /// `key=value` variables in line order.
        vars: Vec<(String, Value)>,
        /// Where the line is.
        location: Location,
    },
    /// A `key=value` line of a `:vars` section.
    Var {
        /// The variable name.
        key: String,
        /// The value, read as a Python literal when it is one.
        value: Value,
        /// Where the line is.
        location: Location,
    },
    /// A child group name in a `:children` section.
    Child {
        /// The child group's name.
        group: String,
        /// Where the line is.
        location: Location,
    },
}

/// Parses the text of an INI inventory file named `origin` (used in locations).
///
/// Lines hosts before any header belong to `ungrouped`, as in Ansible.
pub fn parse_ini(text: &str, origin: &Path) -> Result<Vec<IniEntry>, InventoryError> {
    parse_lines(python_splitlines(text), origin, &mut HostBudget::from_env())
}

/// Python's `str.splitlines()`: every line boundary Python knows, not just `\n`.
pub(crate) fn python_splitlines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(is_line_boundary) {
            Some(i) => {
                let line = &rest[..i];
                let boundary = rest[i..].chars().next().unwrap_or('\n');
                let mut skip = boundary.len_utf8();
                if rest[i..].starts_with("\r\n") {
                    skip = 2;
                }
                rest = &rest[i + skip..];
                Some(line)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

fn is_line_boundary(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Python's `str.isspace()`.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Parses `lines`, expanding host ranges within `budget`.
pub(crate) fn parse_lines<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    origin: &Path,
    budget: &mut HostBudget,
) -> Result<Vec<IniEntry>, InventoryError> {
    let mut entries = Vec::new();
    let mut kind = SectionKind::Hosts;
    for (index, raw_line) in lines.into_iter().enumerate() {
        let line = raw_line.trim_matches(is_python_space);
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let indent = raw_line.chars().take_while(|&c| is_python_space(c)).count();
        let at = |column: usize| Location::new(origin, index + 1, indent + column + 1);
        if let Some((group, tag)) = section_header(line) {
            kind = match tag {
                None | Some("hosts") => SectionKind::Hosts,
                Some("children") => SectionKind::Children,
                Some("vars") => SectionKind::Vars,
                Some(other) => {
                    return Err(InventoryError::UnknownSectionType {
                        location: at(0),
                        group: group.to_owned(),
                        kind: other.to_owned(),
                    });
                }
            };
            entries.push(IniEntry::Section {
                group: group.to_owned(),
                kind,
                location: at(0),
            });
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(InventoryError::InvalidSection {
                location: at(0),
                header: line.to_owned(),
            });
        }
        let entry = match kind {
            SectionKind::Hosts => host_line(line, &at, budget)?,
            SectionKind::Vars => match line.split_once('=') {
                Some((key, value)) => IniEntry::Var {
                    key: key.trim_matches(is_python_space).to_owned(),
                    value: parse_value(value.trim_matches(is_python_space))
                        .map_err(|_| InventoryError::UnhashableKey { location: at(0) })?,
                    location: at(0),
                },
                None => {
                    return Err(InventoryError::ExpectedVariable { location: at(0) });
                }
            },
            SectionKind::Children => match group_name_line(line) {
                Some(group) => IniEntry::Child {
                    group: group.to_owned(),
                    location: at(0),
                },
                None => {
                    return Err(InventoryError::ExpectedGroupName {
                        location: at(0),
                        line: line.to_owned(),
                    });
                }
            },
        };
        entries.push(entry);
    }
    Ok(entries)
}

/// `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`: the group name and optional tag.
fn section_header(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let name_len = rest
        .find(|c: char| c == ':' || c == ']' || is_python_space(c))
        .unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let (name, mut rest) = rest.split_at(name_len);
    let mut tag = None;
    if let Some(after) = rest.strip_prefix(':') {
        let tag_len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if tag_len == 0 {
            return None;
        }
        tag = Some(&after[..tag_len]);
        rest = &after[tag_len..];
    }
    let rest = rest.strip_prefix(']')?;
    ends_in_comment_or_space(rest).then_some((name, tag))
}

/// `^([^:\]\s]+)\s*(?:#.*)?$`: a child group name.
fn group_name_line(line: &str) -> Option<&str> {
    let len = line
        .find(|c: char| c == ':' || c == ']' || is_python_space(c))
        .unwrap_or(line.len());
    (len > 0 && ends_in_comment_or_space(&line[len..])).then_some(&line[..len])
}

fn ends_in_comment_or_space(rest: &str) -> bool {
    let rest = rest.trim_start_matches(is_python_space);
    rest.is_empty() || rest.starts_with('#')
}

fn host_line(
    line: &str,
    at: &dyn Fn(usize) -> Location,
    budget: &mut HostBudget,
) -> Result<IniEntry, InventoryError> {
    let tokens = shlex::split(line).map_err(|error| {
        let (column, reason) = match error {
            shlex::ShlexError::UnclosedQuote { column } => (column, QuotingProblem::UnclosedQuote),
            shlex::ShlexError::TrailingEscape { column } => {
                (column, QuotingProblem::TrailingBackslash)
            }
        };
        InventoryError::Quoting {
            location: at(column - 1),
            problem: reason,
        }
    })?;
    let Some(((_, pattern), assignments)) = tokens.split_first() else {
        return Err(InventoryError::EmptyHostName { location: at(0) });
    };
    let (host, port) = split_port(pattern);
    if pattern.trim_matches(is_python_space).ends_with(':') && port.is_none() {
        return Err(InventoryError::TrailingColon {
            location: at(0),
            pattern: pattern.clone(),
        });
    }
    let names =
        expand_hostname_range_within(host, budget).map_err(|source| InventoryError::HostRange {
            location: at(0),
            pattern: pattern.clone(),
            source,
        })?;
    if names
        .iter()
        .any(|name| name.trim_matches(is_python_space) == "---")
    {
        return Err(InventoryError::LooksLikeYaml { location: at(0) });
    }
    let mut vars = Vec::with_capacity(assignments.len());
    for (start, token) in assignments {
        let Some((key, value)) = token.split_once('=') else {
            return Err(InventoryError::ExpectedAssignment {
                location: at(*start),
            });
        };
        let value = parse_value(value).map_err(|_| InventoryError::UnhashableKey {
            location: at(*start),
        })?;
        vars.push((key.to_owned(), value));
    }
    Ok(IniEntry::Hosts {
        names,
        port,
        vars,
        location: at(0),
    })
}

/// What is wrong with the quoting of a host line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotingProblem {
    /// A quote is never closed.
    UnclosedQuote,
    /// The line ends with a backslash that escapes nothing.
    TrailingBackslash,
}

impl std::fmt::Display for QuotingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QuotingProblem::UnclosedQuote => {
                "this quote is never closed: close it on the same line"
            }
            QuotingProblem::TrailingBackslash => {
                "the line ends with a backslash that escapes nothing: remove it"
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<IniEntry> {
        parse_ini(text, Path::new("hosts")).unwrap()
    }

    fn error(text: &str) -> String {
        parse_ini(text, Path::new("hosts")).unwrap_err().to_string()
    }

    #[test]
    fn reads_sections_hosts_vars_and_children() {
        let entries = parse(
            "h0 a=1\n[web]\nw[1:2]:2222 x='a b' # c\n[web:vars]\nk = [1, 2]\n[all:children]\nweb # c\n",
        );
        assert_eq!(entries.len(), 7);
        assert!(matches!(&entries[0], IniEntry::Hosts { names, .. } if names == &["h0"]));
        match &entries[2] {
            IniEntry::Hosts {
                names, port, vars, ..
            } => {
                assert_eq!(names, &["w1", "w2"]);
                assert_eq!(*port, Some(2222));
                assert_eq!(vars, &[("x".to_owned(), Value::from("a b"))]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&entries[4], IniEntry::Var { key, value: Value::List(items), .. }
            if key == "k" && items.len() == 2)
        );
        assert!(matches!(&entries[6], IniEntry::Child { group, .. } if group == "web"));
    }

    #[test]
    fn errors_name_line_and_column() {
        assert!(
            error("[g]\n  h a='x\n").starts_with("hosts:2:7:"),
            "{}",
            error("[g]\n  h a='x\n")
        );
        assert!(error("[g]\nh a=1 b\n").starts_with("hosts:2:7:"));
        assert!(error("[g:bad]\n").starts_with("hosts:1:1:"));
        assert!(error("[g x]\n").starts_with("hosts:1:1:"));
        assert!(error("[g:vars]\nnovalue\n").starts_with("hosts:2:1:"));
        assert!(error("[g]\nh[1:x]\n").starts_with("hosts:2:1:"));
        assert!(error("[g]\nh:\n").starts_with("hosts:2:1:"));
        assert!(error("---\n").starts_with("hosts:1:1:"));
    }

    #[test]
    fn splits_lines_as_python_does() {
        let lines: Vec<&str> = python_splitlines("a\r\nb\x0bc\u{2028}d\n").collect();
        assert_eq!(lines, ["a", "b", "c", "d"]);
    }
}
