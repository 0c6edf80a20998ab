//! Where a variable is written, for error messages.
//!
//! Variables reach their readers layered and templated, without positions.
//! When a value is wrong, its reader looks for the key in the files that
//! define the host's variables ([`ConfigRepo::host_variable_files`]),
//! highest precedence first, following saphyr-parser's events (positions
//! only: no values are built, so nothing is parsed twice for meaning).
//!
//! [`ConfigRepo::host_variable_files`]: crate::repo::ConfigRepo::host_variable_files

use std::fmt;
use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser};

use crate::Location;

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path to a value: a variable's name, then keys and indexes into it.
/// It prints dotted: `github_operations.tempest.inputs[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariablePath(Vec<Step>);

impl VariablePath {
    /// The variable `name` itself.
    pub fn new(name: &str) -> Self {
        VariablePath(vec![Step::Key(name.to_owned())])
    }

    /// The value under `key` of this one.
    pub fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        VariablePath(steps)
    }

    /// The item `index` of this list.
    pub fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        VariablePath(steps)
    }

    /// The variable's name.
    pub fn variable(&self) -> &str {
        match self.0.first() {
            Some(Step::Key(name)) => name,
            _ => "",
        }
    }

    /// The variable alone.
    fn root(&self) -> &[Step] {
        &self.0[..1]
    }
}

impl fmt::Display for VariablePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if position == 0 => f.write_str(key)?,
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Where something is: a file position when the key was found, else the file
/// it should be in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place(Box<Where>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Where {
    At(Location),
    File(PathBuf),
    Unknown,
}

impl Place {
    /// The exact position, when the key was found in a file.
    pub fn location(&self) -> Option<&Location> {
        match &*self.0 {
            Where::At(location) => Some(location),
            _ => None,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Where::At(location) => write!(f, "{location}"),
            Where::File(file) => write!(f, "{}", file.display()),
            Where::Unknown => f.write_str("the host's variables"),
        }
    }
}

/// The files that may define a host's variables, highest precedence first,
/// and the inventory group whose files a missing key belongs in.
#[derive(Debug, Clone, Default)]
pub struct VariableFiles {
    files: Vec<PathBuf>,
    group: String,
}

impl VariableFiles {
    /// `files` highest precedence first; a value found in none belongs in
    /// the lowest file of `group` (its `group_vars`).
    pub fn new(files: Vec<PathBuf>, group: &str) -> Self {
        VariableFiles {
            files,
            group: group.to_owned(),
        }
    }

    /// Where `path` is defined; else where its variable is defined; else the
    /// lowest file of the group, where a missing key belongs.
    pub fn place(&self, path: &VariablePath) -> Place {
        for file in &self.files {
            if let Some(location) = locate_in_file(file, &path.0) {
                return Place(Box::new(Where::At(location)));
            }
        }
        for file in &self.files {
            if let Some(location) = locate_in_file(file, path.root()) {
                return Place(Box::new(Where::At(location)));
            }
        }
        let home = self.files.iter().rev().find(|file| {
            file.components()
                .any(|c| c.as_os_str() == self.group.as_str())
        });
        Place(Box::new(match home.or(self.files.last()) {
            Some(file) => Where::File(file.clone()),
            None => Where::Unknown,
        }))
    }
}

fn locate_in_file(file: &Path, path: &[Step]) -> Option<Location> {
    let text = std::fs::read_to_string(file).ok()?;
    if text.starts_with("$ANSIBLE_VAULT;") {
        return None;
    }
    locate(&text, file, path)
}

enum Frame {
    Map {
        key: Option<String>,
        awaiting_key: bool,
    },
    Seq {
        index: usize,
    },
}

/// The position of `path` in YAML `text`, or `None` (also for YAML that does
/// not parse: the caller then names the file only).
fn locate(text: &str, origin: &Path, path: &[Step]) -> Option<Location> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let here = |stack: &[Frame], last: Step| -> bool {
        let mut steps = Vec::with_capacity(stack.len());
        for frame in stack.iter().take(stack.len().saturating_sub(1)) {
            match frame {
                Frame::Map { key: Some(key), .. } => steps.push(Step::Key(key.clone())),
                Frame::Seq { index } => steps.push(Step::Index(*index)),
                Frame::Map { key: None, .. } => return false,
            }
        }
        steps.push(last);
        steps == path
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        let location = Location::new(origin, span.start.line(), span.start.col() + 1);
        let is_node = matches!(
            event,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(_)
        );
        if is_node {
            match stack.last_mut() {
                Some(Frame::Map {
                    key,
                    awaiting_key: awaiting @ true,
                }) => {
                    if let Event::Scalar(text, ..) = &event {
                        *key = Some(text.to_string());
                        *awaiting = false;
                        if here(&stack, Step::Key(text.to_string())) {
                            return Some(location);
                        }
                        continue;
                    }
                    // A complex key: not something a writer config has.
                    *key = None;
                    *awaiting = false;
                }
                Some(Frame::Seq { index }) => {
                    let index = *index;
                    if here(&stack, Step::Index(index)) {
                        return Some(location);
                    }
                }
                _ => {}
            }
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map {
                key: None,
                awaiting_key: true,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq { index: 0 }),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Scalar(..) | Event::Alias(_) => value_done(&mut stack),
            Event::StreamEnd => break,
            _ => {}
        }
    }
    None
}

fn value_done(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { awaiting_key, .. }) => *awaiting_key = true,
        Some(Frame::Seq { index }) => *index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn paths_print_dotted() {
        let path = VariablePath::new("github_operations")
            .key("tempest")
            .key("inputs")
            .index(0);
        assert_eq!(path.to_string(), "github_operations.tempest.inputs[0]");
        assert_eq!(path.variable(), "github_operations");
    }

    #[test]
    fn finds_nested_keys_and_list_items() {
        let text = "---\na: 1\nops:\n  deploy:\n    enabled: no\nenvs:\n  - prod\n  - 'bad env'\n";
        let origin = Path::new("w.yml");
        let at = |path: &[Step]| locate(text, origin, path).map(|l| l.to_string());
        assert_eq!(at(&[key("a")]).as_deref(), Some("w.yml:2:1"));
        assert_eq!(
            at(&[key("ops"), key("deploy"), key("enabled")]).as_deref(),
            Some("w.yml:5:5")
        );
        assert_eq!(
            at(&[key("envs"), Step::Index(1)]).as_deref(),
            Some("w.yml:8:5")
        );
        assert_eq!(at(&[key("deploy")]), None);
        assert_eq!(at(&[key("envs"), Step::Index(2)]), None);
    }
}
