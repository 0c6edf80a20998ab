//! What can go wrong reading YAML, with where.

use std::fmt;
use std::path::PathBuf;

use crate::Location;

/// A YAML file or text that cannot be read as Ansible reads it.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The file could not be read.
    #[error("{}: cannot read the YAML file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The text is not well-formed YAML.
    #[error("{location}: invalid YAML: {message}; fix the syntax at this position")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's description of the problem.
        message: String,
    },
    /// The YAML is well-formed but Ansible's loader rejects it.
    #[error("{location}: {problem}")]
    Content {
        /// The node the problem is at.
        location: Location,
        /// What is wrong.
        problem: ContentProblem,
    },
}

impl YamlError {
    /// Where the problem is, if it is inside the text.
    pub fn location(&self) -> Option<&Location> {
        match self {
            YamlError::Read { .. } => None,
            YamlError::Syntax { location, .. } | YamlError::Content { location, .. } => {
                Some(location)
            }
        }
    }
}

/// Why Ansible's YAML loader rejects a well-formed document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentProblem {
    /// The stream holds a second document.
    SecondDocument,
    /// A tag Ansible has no constructor for.
    UnknownTag(String),
    /// A tag kayobe-automation does not support (binary, sets, ordered maps).
    UnsupportedTag(String),
    /// A tag for scalars on a mapping or sequence, or the other way round.
    TagOnWrongNode {
        /// The tag as written.
        tag: String,
        /// What the tag needs: `"scalar"`, `"mapping"` or `"sequence"`.
        expected: &'static str,
    },
    /// A scalar that its explicit tag cannot read (e.g. `!!int abc`).
    BadScalar {
        /// The tag the scalar was read as.
        tag: &'static str,
    },
    /// A date or time outside the calendar (e.g. `2001-02-30`).
    InvalidTimestamp,
    /// `!vault` on something that is not a string.
    VaultNotString,
    /// `*name` with no `&name` before it.
    UndefinedAlias,
    /// `&name` defined a second time in the document.
    DuplicateAnchor,
    /// `*name` inside the node `&name` is on.
    RecursiveAlias,
    /// The document's aliases expand to more than the alias budget.
    AliasBudget {
        /// The budget, in MiB.
        mib: u64,
    },
    /// A mapping or sequence used as a mapping key.
    ComplexKey,
    /// A `!vault` value used as a mapping key.
    VaultKey,
    /// `<<:` with something other than a mapping or a list of mappings.
    BadMerge,
    /// Mappings and lists nested deeper than this many levels.
    TooDeep(usize),
    /// `<<` or `=` used as a value: PyYAML has no constructor for them there.
    SpecialScalarAsValue(&'static str),
}

impl fmt::Display for ContentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentProblem::SecondDocument => f.write_str(
                "a second YAML document starts here, but Ansible reads one document per file; \
                 remove the `---` or move the document to its own file",
            ),
            ContentProblem::UnknownTag(tag) => write!(
                f,
                "unknown tag `{tag}`: Ansible only knows the YAML core tags (`!!str`, `!!int`, …), \
                 `!vault` and `!unsafe`; remove or fix the tag"
            ),
            ContentProblem::UnsupportedTag(tag) => write!(
                f,
                "tag `{tag}` is not supported by kayobe-automation; use a plain mapping, list or string"
            ),
            ContentProblem::TagOnWrongNode { tag, expected } => write!(
                f,
                "tag `{tag}` needs a {expected} here; remove the tag or change the value"
            ),
            ContentProblem::BadScalar { tag } => write!(
                f,
                "this value cannot be read as `{tag}`; fix the value or remove the tag"
            ),
            ContentProblem::InvalidTimestamp => f.write_str(
                "this date/time is not a valid calendar date or time; fix it or quote it to keep it a string",
            ),
            ContentProblem::VaultNotString => f.write_str(
                "the `!vault` tag requires a string value (the ansible-vault ciphertext); \
                 use `!vault |` followed by the encrypted text",
            ),
            ContentProblem::UndefinedAlias => f.write_str(
                "this alias refers to an anchor that is not defined before it; \
                 define `&name` earlier in the document",
            ),
            ContentProblem::DuplicateAnchor => f.write_str(
                "this anchor name is already defined earlier in the document; \
                 give the anchor a unique name",
            ),
            ContentProblem::AliasBudget { mib } => write!(
                f,
                "the aliases up to here expand to more than {mib} MiB of values (an alias bomb?); \
                 use fewer nested aliases, or raise the limit with {}=N (MiB) if this file is meant to be this large",
                super::ALIAS_BUDGET_VAR
            ),
            ContentProblem::RecursiveAlias => f.write_str(
                "this alias refers to the node it is inside of; recursive structures cannot be loaded",
            ),
            ContentProblem::ComplexKey => f.write_str(
                "a mapping or list cannot be a mapping key; use a string key",
            ),
            ContentProblem::VaultKey => {
                f.write_str("a `!vault` value cannot be a mapping key; use a string key")
            }
            ContentProblem::BadMerge => f.write_str(
                "the merge key `<<` needs a mapping or a list of mappings; fix its value",
            ),
            ContentProblem::TooDeep(levels) => write!(
                f,
                "mappings and lists are nested more than {levels} levels deep here, \
                 which Ansible cannot load either; flatten the structure"
            ),
            ContentProblem::SpecialScalarAsValue(text) => write!(
                f,
                "`{text}` is only meaningful as a mapping key in YAML 1.1; quote it to use it as a string"
            ),
        }
    }
}
