//! YAML with Ansible's meaning.
//!
//! Ansible reads YAML with PyYAML's YAML 1.1 `SafeConstructor` plus its own
//! `!vault` and `!unsafe` tags (`AnsibleLoader`). [`parse`] and [`load_file`]
//! give the same [`Value`] that loader gives, built straight from the events of
//! `saphyr-parser` (no intermediate tree):
//!
//! - plain scalars are resolved as YAML 1.1: `yes`/`no`/`on`/`off`/`true`/`false`
//!   (in the three case forms PyYAML knows) are booleans, `~`/`null`/empty are
//!   null, `010` is octal, `0x`/`0b`, `1_000` and sexagesimal `1:30` are
//!   integers, a float needs a `.` (`1e3` is a string, `1.0e+3` a float), and
//!   `.inf`/`.nan` are floats; quoted and block scalars are strings;
//! - timestamps (`2001-12-14`, `2001-12-14 21:59:43.10 -5`) become strings in
//!   the form Ansible's JSON output prints for Python's `date`/`datetime`
//!   (`isoformat()`), e.g. `2001-12-14T21:59:43.100000-05:00`;
//! - integers beyond `i64` (Python's are unbounded) become the nearest
//!   [`Value::Float`], which is the number a JSON reader of Ansible's output
//!   gets; as mapping keys they keep their exact digits;
//! - `!vault` gives [`Value::Vault`] (the ciphertext text); `!unsafe` on a
//!   scalar resolves it as if it were plain and marks strings
//!   [`Value::Unsafe`], and on a mapping or list marks every string inside;
//! - anchors, aliases and merge keys (`<<`) follow PyYAML 6 exactly, including
//!   its order (merged keys first) and which merged value wins;
//! - a duplicate key keeps its first position and takes the last value (a
//!   Python dict); keys that are not strings are stored as Python's `json`
//!   prints them (`1`, `true`, `null`, `1.5`), and keys that Python finds
//!   equal (`1`, `1.0`, `true`) are one key;
//! - one document per file, as Ansible's loader requires.
//!
//! [`parse_data`] and [`load_file`] read vars files as Ansible's `DataLoader`
//! does: JSON first (Ansible tries `json.loads` before YAML), then YAML.
//!
//! Known differences from Ansible, all deliberate or out of reach:
//!
//! - tags kayobe-automation does not support (`!!binary`, `!!set`, `!!omap`,
//!   `!!pairs`) are errors, like unknown tags are in Ansible;
//! - a date used as a mapping key becomes its ISO text (Ansible loads it as
//!   a `date` key, which its JSON output then cannot print);
//! - a node inside an `!unsafe` mapping or list that is also reached from
//!   outside it (through an alias or a merge key) is unsafe everywhere; in
//!   PyYAML it depends on which reference its lazy constructor builds first;
//! - saphyr is a YAML 1.2 parser: it accepts a few documents libyaml rejects
//!   (`[a:]`, `&a.b`), and NEL/LS/PS are not line breaks in it;
//! - in [`parse_data`], JSON `NaN`/`Infinity` (Python-only JSON) are read by
//!   the YAML reader instead, and `-0` is the float `-0.0`.

mod anchors;
mod builder;
mod error;
mod scalar;
mod tabs;

use std::path::Path;

use saphyr_parser::{Event, Parser};

pub use error::{ContentProblem, YamlError};

use crate::value::{Map, Value};
use anchors::AnchorNames;
use builder::Builder;
use tabs::{MAX_TAB_PATCHES, patch_all_tab_separations, tab_separated_indicator};

/// The environment variable raising (or lowering) the alias budget, in MiB.
pub const ALIAS_BUDGET_VAR: &str = "KAYOBE_AUTOMATION_YAML_ALIAS_BUDGET_MIB";

/// The alias budget unless [`ALIAS_BUDGET_VAR`] says otherwise: what all
/// aliases of one document may expand to. Real configuration uses a few
/// small anchors; an alias bomb of a few hundred bytes needs gigabytes.
const DEFAULT_ALIAS_BUDGET_MIB: u64 = 64;

/// The alias budget in bytes (see [`ALIAS_BUDGET_VAR`]).
fn alias_budget_bytes() -> u64 {
    static BUDGET: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::env::var(ALIAS_BUDGET_VAR)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_ALIAS_BUDGET_MIB)
            .saturating_mul(1 << 20)
    })
}

/// Reads one YAML document as Ansible's loader does. `origin` names the text in
/// error locations.
///
/// An empty document, or one with only comments, is [`Value::Null`].
///
/// ```
/// use std::path::Path;
/// use kayobe_config::yaml::{self, YamlError};
///
/// let value = yaml::parse("enabled: yes\nmode: 0644\nratio: 1e3\n", Path::new("globals.yml"))?;
/// assert_eq!(
///     value.to_json(),
///     serde_json::json!({"enabled": true, "mode": 420, "ratio": "1e3"})
/// );
///
/// let error = yaml::parse("a: *undefined\n", Path::new("globals.yml")).unwrap_err();
/// assert!(error.to_string().starts_with("globals.yml:1:4: "));
/// # Ok::<(), YamlError>(())
/// ```
///
/// # Errors
/// [`YamlError::Syntax`] for malformed YAML and [`YamlError::Content`] for YAML
/// Ansible's loader rejects (a second document, unknown tags, undefined
/// aliases, complex keys, bad merges), each with the file, line and column.
pub fn parse(text: &str, origin: &Path) -> Result<Value, YamlError> {
    match parse_once(text, origin, None) {
        Ok(value) => Ok(value),
        Err(Failure::Error(error)) => Err(error),
        Err(Failure::TabSeparation(..)) => parse_tab_separated(text, origin),
    }
}

/// [`parse`] for a text where saphyr rejected a tab after `:` or `-`, which
/// YAML and libyaml accept as separation. Turning such tabs into spaces keeps
/// every position and, outside scalars, the meaning. First all of them at
/// once, kept if none was inside a scalar; otherwise one at a time, where the
/// parser stops.
fn parse_tab_separated(text: &str, origin: &Path) -> Result<Value, YamlError> {
    let (all_patched, patched_at) = patch_all_tab_separations(text);
    let mut scalar_spans = Vec::new();
    if let Ok(value) = parse_once(&all_patched, origin, Some(&mut scalar_spans))
        && !patched_at.iter().any(|at| {
            scalar_spans
                .iter()
                .any(|(start, end)| (*start..*end).contains(at))
        })
    {
        return Ok(value);
    }
    let mut patched = text.to_owned();
    for _ in 0..MAX_TAB_PATCHES {
        match parse_once(&patched, origin, None) {
            Err(Failure::TabSeparation(error, char_index)) => {
                match tab_separated_indicator(&patched, char_index) {
                    Some(next) => patched = next,
                    None => return Err(error),
                }
            }
            Err(Failure::Error(error)) => return Err(error),
            Ok(value) => return Ok(value),
        }
    }
    parse_once(&patched, origin, None).map_err(Failure::into_error)
}

/// Why one parsing pass stopped.
enum Failure {
    Error(YamlError),
    /// saphyr rejects tabs between `:` or `-` and a value, which YAML and
    /// libyaml allow; the value starts at this character.
    TabSeparation(YamlError, usize),
}

impl Failure {
    fn into_error(self) -> YamlError {
        match self {
            Failure::Error(error) | Failure::TabSeparation(error, _) => error,
        }
    }
}

impl From<YamlError> for Failure {
    fn from(error: YamlError) -> Self {
        Failure::Error(error)
    }
}

/// One parsing pass over `text`; `scalar_spans` collects the character
/// ranges of scalars when given.
fn parse_once(
    text: &str,
    origin: &Path,
    mut scalar_spans: Option<&mut Vec<(usize, usize)>>,
) -> Result<Value, Failure> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::new(origin);
    let mut anchors = AnchorNames::new(text);
    let mut documents = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(next) => next,
            Err(error)
                if error
                    .info()
                    .contains("must be followed by a valid YAML whitespace") =>
            {
                let index = error.marker().index();
                return Err(Failure::TabSeparation(builder.scan_error(&error), index));
            }
            Err(error) => return Err(builder.scan_error(&error).into()),
        };
        let start = span.start;
        if let Event::Scalar(_, _, anchor, _)
        | Event::SequenceStart(anchor, _)
        | Event::MappingStart(anchor, _) = &event
            && *anchor != 0
            && !anchors.is_new(start.index())
        {
            return Err(builder.error(start, ContentProblem::DuplicateAnchor).into());
        }
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(builder.error(start, ContentProblem::SecondDocument).into());
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(spans) = scalar_spans.as_deref_mut() {
                    spans.push((start.index(), span.end.index()));
                }
                builder.scalar(text.as_ref(), style, anchor, tag.as_deref(), start);
            }
            Event::Alias(anchor) => builder.alias(anchor, start)?,
            Event::SequenceStart(anchor, tag) => {
                builder.check_depth(start)?;
                builder.start_sequence(anchor, tag.as_deref(), start);
            }
            Event::SequenceEnd => builder.end_sequence(),
            Event::MappingStart(anchor, tag) => {
                builder.check_depth(start)?;
                builder.start_mapping(anchor, tag.as_deref(), start);
            }
            Event::MappingEnd => builder.end_mapping(),
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    builder.finish().map_err(Failure::from)
}

/// Reads a vars file's text as Ansible's `DataLoader` does (`from_yaml`):
/// as JSON when the whole text is JSON, otherwise as YAML ([`parse`]).
///
/// The difference shows in JSON numbers YAML 1.1 reads as strings (`1e3`), and
/// in Ansible's JSON encoding of tagged values, which it reads back:
/// `{"__ansible_vault": "…"}` is [`Value::Vault`] and
/// `{"__ansible_unsafe": "…"}` is [`Value::Unsafe`]. Use this for
/// `group_vars`/`host_vars` and extra-vars files, including the plaintext of
/// a whole-file vault.
///
/// # Errors
/// As [`parse`], when the text is not JSON.
pub fn parse_data(text: &str, origin: &Path) -> Result<Value, YamlError> {
    if let Some(value) = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|json| from_ansible_json(&json))
    {
        return Ok(value);
    }
    parse(text, origin)
}

/// A JSON value as Ansible's JSON decoder reads it, or `None` where it raises
/// (a `__ansible_vault`/`__ansible_unsafe` marker that is not a string), in
/// which case Ansible reads the text as YAML instead.
fn from_ansible_json(json: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as Json;
    Some(match json {
        Json::Object(object) => {
            // Ansible's object hook: the marker key decides, other keys are dropped.
            if let Some(marker) = object.get("__ansible_unsafe") {
                return marker.as_str().map(|s| Value::Unsafe(s.to_owned()));
            }
            if let Some(marker) = object.get("__ansible_vault") {
                return marker.as_str().map(|s| Value::Vault(s.to_owned()));
            }
            let mut map = Map::with_capacity(object.len());
            for (key, value) in object {
                map.insert(key.clone(), from_ansible_json(value)?);
            }
            Value::Map(map)
        }
        Json::Array(items) => Value::List(
            items
                .iter()
                .map(from_ansible_json)
                .collect::<Option<Vec<_>>>()?,
        ),
        other => Value::from_json(other),
    })
}

/// Reads the vars file at `path` as Ansible does ([`parse_data`]: JSON if it
/// is JSON, else YAML). It does not decrypt a whole-file vault: decrypt it
/// first and give its plaintext to [`parse_data`].
///
/// # Errors
/// [`YamlError::Read`] naming the path when the file cannot be read (or is not
/// UTF-8), otherwise as [`parse`].
pub fn load_file(path: &Path) -> Result<Value, YamlError> {
    let text = std::fs::read_to_string(path).map_err(|source| YamlError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_data(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Location;

    fn p(text: &str) -> serde_json::Value {
        parse(text, Path::new("t.yml")).expect("parses").to_json()
    }

    #[test]
    fn reads_yaml_1_1_scalars() {
        assert_eq!(
            p("a: yes\nb: 010\nc: 1e3\nd: ~\ne: '1'\nf: 1:30\n"),
            serde_json::json!({"a": true, "b": 8, "c": "1e3", "d": null, "e": "1", "f": 90})
        );
    }

    #[test]
    fn merges_like_pyyaml() {
        assert_eq!(
            p("x: &x {abc: 1, a: 1}\ny: &y {abc: 2, a: 2}\nz:\n  q: 0\n  <<: [*x, *y]\n"),
            serde_json::json!({"x": {"abc": 1, "a": 1}, "y": {"abc": 2, "a": 2},
                "z": {"abc": 2, "a": 1, "q": 0}})
        );
    }

    #[test]
    fn second_document_is_an_error_at_its_start() {
        let err = parse("a: 1\n---\nb: 2\n", Path::new("f.yml")).unwrap_err();
        assert_eq!(err.location(), Some(&Location::new("f.yml", 2, 1)));
    }

    #[test]
    fn data_is_json_first_then_yaml() {
        let data = |text: &str| parse_data(text, Path::new("v.json")).expect("reads");
        assert_eq!(
            data(r#"{"a": 1e3}"#).to_json(),
            serde_json::json!({"a": 1000.0})
        );
        assert_eq!(data("a: 1e3\n").to_json(), serde_json::json!({"a": "1e3"}));
        assert_eq!(
            data(r#"{"v": {"__ansible_vault": "x"}, "u": {"__ansible_unsafe": "{{ y }}"}}"#),
            Value::Map(Map::from_iter([
                ("v".to_owned(), Value::Vault("x".into())),
                ("u".to_owned(), Value::Unsafe("{{ y }}".into())),
            ]))
        );
        // A marker that is not a string makes Ansible's JSON decoder fail: YAML.
        assert_eq!(
            data(r#"{"v": {"__ansible_vault": 1}}"#).to_json(),
            serde_json::json!({"v": {"__ansible_vault": 1}})
        );
    }

    #[test]
    fn tabs_after_indicators_separate_as_in_libyaml() {
        assert_eq!(
            p("a:\t1\nb:\t\t[x,\ty]\nc: |\n  k:\tv\n"),
            serde_json::json!({"a": 1, "b": ["x", "y"], "c": "k:\tv\n"})
        );
    }

    #[test]
    fn many_tab_separations_are_patched_at_once() {
        let text: String = (0..500).map(|i| format!("k{i}:\tv{i}\n")).collect();
        let value = parse(&text, Path::new("t.yml")).expect("parses");
        assert_eq!(value.as_map().map(Map::len), Some(500));
        // A tab after `:` or `-` inside a scalar stays a tab.
        assert_eq!(
            p("a:\t\"x:\ty\"\nb:\t'-\tz'\nc:\tq-\tr\n"),
            serde_json::json!({"a": "x:\ty", "b": "-\tz", "c": "q-\tr"})
        );
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(parse("# nothing\n", Path::new("f")).unwrap(), Value::Null);
        assert_eq!(parse("", Path::new("f")).unwrap(), Value::Null);
    }
}
