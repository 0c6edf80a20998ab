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

mod error;
mod scalar;

use std::path::Path;
use std::rc::Rc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

pub use error::{ContentProblem, YamlError};

use crate::Location;
use crate::value::{Map, Value};
use scalar::{Implicit, Integer, ScalarProblem};

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

/// `text` with every tab in the blanks after a `:` or `-` turned into a space,
/// and the character positions of those tabs.
fn patch_all_tab_separations(text: &str) -> (String, Vec<usize>) {
    let mut patched = String::with_capacity(text.len());
    let mut positions = Vec::new();
    let mut after_indicator = false;
    for (index, c) in text.chars().enumerate() {
        match c {
            '\t' if after_indicator => {
                patched.push(' ');
                positions.push(index);
            }
            ' ' if after_indicator => patched.push(' '),
            _ => {
                after_indicator = matches!(c, ':' | '-');
                patched.push(c);
            }
        }
    }
    (patched, positions)
}

/// The deepest nesting of mappings and lists [`parse`] reads.
const MAX_DEPTH: usize = 256;

/// How many `:<tab>` separations [`parse`] patches one at a time (one
/// re-parse each) before it reports the next one as an error.
const MAX_TAB_PATCHES: usize = 64;

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

/// `text` with the tabs between an indicator (`:` or `-`) and the value
/// starting at `char_index` turned into spaces (same positions, same meaning:
/// they separate tokens), or `None` if that is not what is there.
fn tab_separated_indicator(text: &str, char_index: usize) -> Option<String> {
    let end = text
        .char_indices()
        .nth(char_index)
        .map_or(text.len(), |(i, _)| i);
    let before = &text.as_bytes()[..end];
    let run = before
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let start = end - run;
    if start == 0 || !matches!(before[start - 1], b':' | b'-') || !before[start..].contains(&b'\t')
    {
        return None;
    }
    let mut patched = String::with_capacity(text.len());
    patched.push_str(&text[..start]);
    patched.push_str(&text[start..end].replace('\t', " "));
    patched.push_str(&text[end..]);
    Some(patched)
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
    match builder.deferred {
        Some(error) => Err(error.into()),
        None => Ok(builder.root.unwrap_or(Value::Null)),
    }
}

/// The anchor names of a document, to reject one defined twice as PyYAML's
/// composer does (saphyr numbers anchors and accepts redefinitions).
struct AnchorNames<'t> {
    text: &'t str,
    /// Whether character and byte positions coincide (found out on first use).
    ascii: Option<bool>,
    /// A (character, byte) position pair to resume the character count from.
    cursor: (usize, usize),
    seen: std::collections::HashSet<&'t str>,
}

impl<'t> AnchorNames<'t> {
    fn new(text: &'t str) -> Self {
        AnchorNames {
            text,
            ascii: None,
            cursor: (0, 0),
            seen: std::collections::HashSet::new(),
        }
    }

    fn byte_offset(&mut self, char_index: usize) -> usize {
        if *self.ascii.get_or_insert_with(|| self.text.is_ascii()) {
            return char_index;
        }
        if char_index < self.cursor.0 {
            self.cursor = (0, 0);
        }
        let (mut chars, mut bytes) = self.cursor;
        for c in self.text[bytes..].chars() {
            if chars == char_index {
                break;
            }
            chars += 1;
            bytes += c.len_utf8();
        }
        self.cursor = (chars, bytes);
        bytes
    }

    /// Records the anchor of the node whose properties start at
    /// `char_index` (`&name`, possibly after a tag); false if already seen.
    fn is_new(&mut self, char_index: usize) -> bool {
        let start = self.byte_offset(char_index).min(self.text.len());
        let rest = &self.text[start..];
        let is_end = |c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}');
        let rest = if rest.starts_with('!') {
            let tag_end = rest.find(is_end).unwrap_or(rest.len());
            rest[tag_end..].trim_start()
        } else {
            rest
        };
        let Some(after) = rest.strip_prefix('&') else {
            return true;
        };
        let name = &after[..after.find(is_end).unwrap_or(after.len())];
        self.seen.insert(name)
    }
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

/// What a tag asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    /// `!`: resolved as a plain scalar would be, whatever its style (libyaml).
    NonSpecific,
    Str,
    Int,
    Float,
    Bool,
    Null,
    Timestamp,
    Merge,
    Map,
    Seq,
    Unsafe,
    Vault,
    Unsupported,
    Unknown,
}

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

fn classify(tag: &Tag) -> TagKind {
    let full;
    let name = if tag.handle.is_empty() {
        tag.suffix.as_str()
    } else {
        full = format!("{}{}", tag.handle, tag.suffix);
        full.as_str()
    };
    if let Some(core) = name.strip_prefix(CORE_PREFIX) {
        return match core {
            "str" | "python/unicode" => TagKind::Str,
            "int" => TagKind::Int,
            "float" => TagKind::Float,
            "bool" => TagKind::Bool,
            "null" => TagKind::Null,
            "timestamp" => TagKind::Timestamp,
            "merge" => TagKind::Merge,
            "map" | "python/dict" => TagKind::Map,
            "seq" => TagKind::Seq,
            "binary" | "set" | "omap" | "pairs" => TagKind::Unsupported,
            _ => TagKind::Unknown,
        };
    }
    match name {
        "!" => TagKind::NonSpecific,
        "!unsafe" => TagKind::Unsafe,
        "!vault" | "!vault-encrypted" => TagKind::Vault,
        _ => TagKind::Unknown,
    }
}

/// A tag as the user wrote it (`!!str` rather than `tag:yaml.org,2002:str`).
fn display_tag(tag: &Tag) -> String {
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix(CORE_PREFIX) {
        Some(core) => format!("!!{core}"),
        None => full,
    }
}

/// The identity PyYAML's merge uses to skip a key it has already merged:
/// `id()` of the key's text. CPython shares the string object for the empty
/// string and single Latin-1 characters, so those are equal by text; any
/// other key is only the same when it is the same node (through an alias).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KeyId {
    Shared(Option<char>),
    Node(u32),
}

/// A mapping key as stored: its JSON text, and for keys that are not strings
/// the class of keys Python finds equal to it (`1`, `1.0` and `true`).
#[derive(Debug, Clone)]
struct MapKey {
    text: String,
    class: Option<Box<str>>,
}

/// A key/value pair of a mapping after its own merges, duplicates kept, as
/// PyYAML's `flatten_mapping` leaves a node that is merged elsewhere.
#[derive(Debug, Clone)]
struct RawPair {
    id: KeyId,
    key: MapKey,
    value: Value,
}

type Pairs = Rc<[RawPair]>;

/// A finished node.
#[derive(Debug, Clone)]
struct Node {
    value: Value,
    start: Marker,
    identity: KeyId,
    /// The exact digits of an integer beyond `i64` (the value holds a float).
    big_int: Option<Rc<str>>,
    /// For a mapping that can be merged: its pairs.
    pairs: Option<Pairs>,
    /// For a list that can be a merge value: each item's pairs.
    item_pairs: Option<Rc<[Option<Pairs>]>>,
}

/// A Python dict key: a string, or the equality class of any other key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PyKey {
    Str(String),
    Other(Box<str>),
}

/// A mapping under construction, with a Python dict's behaviour: first
/// position, last value; `1 == 1.0 == True`; and the string `"1"` a different
/// key from the number `1`, even though both print as `"1"` in JSON (where
/// the one later in the dict wins for a JSON reader).
#[derive(Debug)]
enum MapAccumulator {
    /// Only string keys so far (the usual case): the map itself.
    Strings(Map),
    /// Some keys are not strings: Python's keys in dict order, with their JSON text.
    Mixed(indexmap::IndexMap<PyKey, (String, Value)>),
}

impl Default for MapAccumulator {
    fn default() -> Self {
        MapAccumulator::Strings(Map::new())
    }
}

impl MapAccumulator {
    fn insert(&mut self, key: MapKey, value: Value) {
        if let (MapAccumulator::Strings(map), None) = (&mut *self, &key.class) {
            map.insert(key.text, value);
            return;
        }
        if let MapAccumulator::Strings(map) = self {
            let mixed = std::mem::take(map)
                .into_iter()
                .map(|(text, value)| (PyKey::Str(text.clone()), (text, value)))
                .collect();
            *self = MapAccumulator::Mixed(mixed);
        }
        let MapAccumulator::Mixed(mixed) = self else {
            unreachable!("converted above");
        };
        let py_key = match key.class {
            None => PyKey::Str(key.text.clone()),
            Some(class) => PyKey::Other(class),
        };
        match mixed.get_mut(&py_key) {
            Some(slot) => slot.1 = value,
            None => {
                mixed.insert(py_key, (key.text, value));
            }
        }
    }

    /// The mapping as a JSON reader of Python's output sees it.
    fn into_map(self) -> Map {
        match self {
            MapAccumulator::Strings(map) => map,
            MapAccumulator::Mixed(mixed) => {
                let mut map = Map::with_capacity(mixed.len());
                for (text, value) in mixed.into_values() {
                    map.insert(text, value);
                }
                map
            }
        }
    }

    /// The entries as keys with their classes, in dict order.
    fn into_entries(self) -> Vec<(MapKey, Value)> {
        match self {
            MapAccumulator::Strings(map) => map
                .into_iter()
                .map(|(text, value)| (MapKey { text, class: None }, value))
                .collect(),
            MapAccumulator::Mixed(mixed) => mixed
                .into_iter()
                .map(|(py_key, (text, value))| {
                    let class = match py_key {
                        PyKey::Str(_) => None,
                        PyKey::Other(class) => Some(class),
                    };
                    (MapKey { text, class }, value)
                })
                .collect(),
        }
    }
}

#[derive(Debug)]
enum PendingKey {
    Merge,
    Key(MapKey, KeyId),
}

#[derive(Debug)]
struct MapFrame {
    entries: MapAccumulator,
    key: Option<PendingKey>,
    anchor: usize,
    start: Marker,
    is_unsafe: bool,
    /// Explicit pairs, kept when this mapping may be merged elsewhere.
    raw: Option<Vec<RawPair>>,
    /// Pairs from merge keys, in PyYAML's order, already de-duplicated.
    merged: Vec<RawPair>,
    merged_ids: std::collections::HashSet<KeyId>,
    has_merge: bool,
}

#[derive(Debug)]
struct SeqFrame {
    items: Vec<Value>,
    anchor: usize,
    start: Marker,
    is_unsafe: bool,
    /// The value of a merge key: every item must be a mapping.
    merge_source: bool,
    item_pairs: Option<Vec<Option<Pairs>>>,
}

#[derive(Debug)]
enum Frame {
    Map(MapFrame),
    Seq(SeqFrame),
}

#[derive(Debug)]
enum AnchorSlot {
    Unset,
    Pending,
    Done(Node),
}

struct Builder<'a> {
    origin: &'a Path,
    stack: Vec<Frame>,
    anchors: Vec<AnchorSlot>,
    unsafe_depth: u32,
    next_node: u32,
    root: Option<Value>,
    /// The first construction error. PyYAML composes the whole document
    /// before constructing values, so syntax and composition errors
    /// (undefined alias, duplicate anchor, second document) found later in
    /// the text are the ones it reports; construction errors wait until the end.
    deferred: Option<YamlError>,
}

impl<'a> Builder<'a> {
    fn new(origin: &'a Path) -> Self {
        Builder {
            origin,
            stack: Vec::new(),
            anchors: Vec::new(),
            unsafe_depth: 0,
            next_node: 0,
            root: None,
            deferred: None,
        }
    }

    fn location(&self, mark: Marker) -> Location {
        Location::new(self.origin, mark.line(), mark.col() + 1)
    }

    fn error(&self, mark: Marker, problem: ContentProblem) -> YamlError {
        YamlError::Content {
            location: self.location(mark),
            problem,
        }
    }

    fn scan_error(&self, error: &ScanError) -> YamlError {
        if error.info().contains("unknown anchor") {
            return self.error(*error.marker(), ContentProblem::UndefinedAlias);
        }
        YamlError::Syntax {
            location: self.location(*error.marker()),
            message: error.info().to_owned(),
        }
    }

    /// Refuses nesting deeper than [`MAX_DEPTH`]: PyYAML hits Python's
    /// recursion limit well before that, and our values drop recursively.
    fn check_depth(&self, start: Marker) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(start, ContentProblem::TooDeep(MAX_DEPTH)));
        }
        Ok(())
    }

    fn defer(&mut self, error: YamlError) {
        self.deferred.get_or_insert(error);
    }

    fn fresh_id(&mut self) -> u32 {
        self.next_node = self.next_node.wrapping_add(1);
        self.next_node
    }

    /// Whether the next node is a mapping key.
    fn at_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map(m)) if m.key.is_none())
    }

    /// Whether a mapping starting now may be merged into another one, so its
    /// raw pairs must be kept.
    fn in_merge_context(&self) -> bool {
        match self.stack.last() {
            Some(Frame::Map(m)) => matches!(m.key, Some(PendingKey::Merge)),
            Some(Frame::Seq(s)) => s.item_pairs.is_some(),
            None => false,
        }
    }

    fn begin_anchor(&mut self, anchor: usize) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize_with(anchor + 1, || AnchorSlot::Unset);
        }
        self.anchors[anchor] = AnchorSlot::Pending;
    }

    fn finish_anchor(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors[anchor] = AnchorSlot::Done(node.clone());
        }
    }

    fn string(&self, text: &str, is_unsafe: bool) -> Value {
        if is_unsafe || self.unsafe_depth > 0 {
            Value::Unsafe(text.to_owned())
        } else {
            Value::String(text.to_owned())
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: Marker,
    ) {
        let kind = tag.map(classify);
        let at_key = self.at_key();
        let plain_implicit = match kind {
            None => style == ScalarStyle::Plain,
            Some(TagKind::NonSpecific) => true,
            _ => false,
        };
        let implicit = if plain_implicit {
            Some(scalar::resolve(text))
        } else {
            None
        };
        if at_key && (implicit == Some(Implicit::Merge) || kind == Some(TagKind::Merge)) {
            if let Some(Frame::Map(map)) = self.stack.last_mut() {
                map.key = Some(PendingKey::Merge);
                map.has_merge = true;
            }
            return;
        }
        let mut big_int = None;
        let value = match self.scalar_value(text, kind, tag, implicit, at_key, start, &mut big_int)
        {
            Ok(value) => value,
            Err(error) => {
                self.defer(error);
                Value::Null
            }
        };
        let identity = key_identity(text).unwrap_or_else(|| KeyId::Node(self.fresh_id()));
        let node = Node {
            value,
            start,
            identity,
            big_int,
            pairs: None,
            item_pairs: None,
        };
        if anchor != 0 {
            self.begin_anchor(anchor);
            self.finish_anchor(anchor, &node);
        }
        self.attach(node);
    }

    /// The value of a scalar, as its tag (`kind`) or PyYAML's resolver
    /// (`implicit`, for plain scalars) asks.
    #[allow(clippy::too_many_arguments)]
    fn scalar_value(
        &self,
        text: &str,
        kind: Option<TagKind>,
        tag: Option<&Tag>,
        implicit: Option<Implicit>,
        at_key: bool,
        start: Marker,
        big_int: &mut Option<Rc<str>>,
    ) -> Result<Value, YamlError> {
        let bad = |problem: ScalarProblem, tag_name: &'static str| {
            self.error(
                start,
                match problem {
                    ScalarProblem::InvalidDate => ContentProblem::InvalidTimestamp,
                    _ => ContentProblem::BadScalar { tag: tag_name },
                },
            )
        };
        Ok(match (kind, implicit) {
            (_, Some(resolved)) => {
                self.construct_resolved(text, resolved, at_key, false, start, big_int)?
            }
            (None, None) | (Some(TagKind::Str), _) => self.string(text, false),
            (Some(TagKind::Unsafe), _) => {
                let resolved = scalar::resolve(text);
                self.construct_resolved(text, resolved, false, true, start, big_int)?
            }
            (Some(TagKind::Vault), _) => match scalar::resolve(text) {
                Implicit::Str => Value::Vault(text.to_owned()),
                _ => return Err(self.error(start, ContentProblem::VaultNotString)),
            },
            (Some(TagKind::Int), _) => integer_value(
                scalar::construct_int(text).map_err(|p| bad(p, "!!int"))?,
                big_int,
            ),
            (Some(TagKind::Float), _) => {
                Value::Float(scalar::construct_float(text).map_err(|p| bad(p, "!!float"))?)
            }
            (Some(TagKind::Bool), _) => {
                Value::Bool(scalar::construct_bool(text).map_err(|p| bad(p, "!!bool"))?)
            }
            (Some(TagKind::Null), _) => Value::Null,
            (Some(TagKind::Timestamp), _) => {
                Value::String(scalar::construct_timestamp(text).map_err(|p| bad(p, "!!timestamp"))?)
            }
            (Some(TagKind::Merge), _) => {
                return Err(self.error(start, ContentProblem::SpecialScalarAsValue("<<")));
            }
            (Some(TagKind::Map | TagKind::Seq), _) => {
                let expected = if kind == Some(TagKind::Map) {
                    "mapping"
                } else {
                    "sequence"
                };
                return Err(
                    self.tag_error(tag, start, |tag| ContentProblem::TagOnWrongNode {
                        tag,
                        expected,
                    }),
                );
            }
            (Some(TagKind::Unsupported), _) => {
                return Err(self.tag_error(tag, start, ContentProblem::UnsupportedTag));
            }
            (Some(TagKind::Unknown | TagKind::NonSpecific), _) => {
                return Err(self.tag_error(tag, start, ContentProblem::UnknownTag));
            }
        })
    }

    fn tag_error(
        &self,
        tag: Option<&Tag>,
        start: Marker,
        problem: impl FnOnce(String) -> ContentProblem,
    ) -> YamlError {
        let name = tag.map(display_tag).unwrap_or_default();
        self.error(start, problem(name))
    }

    /// A scalar whose type PyYAML's resolver chose (`resolved`).
    fn construct_resolved(
        &self,
        text: &str,
        resolved: Implicit,
        at_key: bool,
        is_unsafe: bool,
        start: Marker,
        big_int: &mut Option<Rc<str>>,
    ) -> Result<Value, YamlError> {
        let bad = |problem: ScalarProblem, tag: &'static str| {
            self.error(
                start,
                match problem {
                    ScalarProblem::InvalidDate => ContentProblem::InvalidTimestamp,
                    _ => ContentProblem::BadScalar { tag },
                },
            )
        };
        Ok(match resolved {
            Implicit::Null => Value::Null,
            Implicit::Bool => {
                Value::Bool(scalar::construct_bool(text).map_err(|p| bad(p, "!!bool"))?)
            }
            Implicit::Int => integer_value(
                scalar::construct_int(text).map_err(|p| bad(p, "!!int"))?,
                big_int,
            ),
            Implicit::Float => {
                Value::Float(scalar::construct_float(text).map_err(|p| bad(p, "!!float"))?)
            }
            Implicit::Timestamp => {
                Value::String(scalar::construct_timestamp(text).map_err(|p| bad(p, "!!timestamp"))?)
            }
            // `=` as a key becomes the string "=" (PyYAML's flatten_mapping).
            Implicit::ValueKey if at_key && !is_unsafe => self.string(text, false),
            Implicit::ValueKey => {
                return Err(self.error(start, ContentProblem::SpecialScalarAsValue("=")));
            }
            Implicit::Merge => {
                return Err(self.error(start, ContentProblem::SpecialScalarAsValue("<<")));
            }
            Implicit::YamlIndicator => {
                return Err(self.error(start, ContentProblem::SpecialScalarAsValue("!, & or *")));
            }
            Implicit::Str => self.string(text, is_unsafe),
        })
    }

    fn alias(&mut self, anchor: usize, start: Marker) -> Result<(), YamlError> {
        let node = match self.anchors.get(anchor) {
            Some(AnchorSlot::Done(node)) => Node {
                start,
                ..node.clone()
            },
            Some(AnchorSlot::Pending) => {
                let error = self.error(start, ContentProblem::RecursiveAlias);
                self.defer(error);
                Node {
                    value: Value::Null,
                    start,
                    identity: KeyId::Node(self.fresh_id()),
                    big_int: None,
                    pairs: None,
                    item_pairs: None,
                }
            }
            Some(AnchorSlot::Unset) | None => {
                return Err(self.error(start, ContentProblem::UndefinedAlias));
            }
        };
        self.attach(node);
        Ok(())
    }

    /// Checks a container's tag; returns whether it is `!unsafe`.
    fn container_tag(
        &self,
        tag: Option<&Tag>,
        own: TagKind,
        start: Marker,
    ) -> Result<bool, YamlError> {
        let Some(kind) = tag.map(classify) else {
            return Ok(false);
        };
        match kind {
            TagKind::NonSpecific => Ok(false),
            k if k == own => Ok(false),
            TagKind::Unsafe => Ok(true),
            TagKind::Vault => Err(self.error(start, ContentProblem::VaultNotString)),
            TagKind::Unsupported => Err(self.tag_error(tag, start, ContentProblem::UnsupportedTag)),
            TagKind::Unknown => Err(self.tag_error(tag, start, ContentProblem::UnknownTag)),
            TagKind::Map | TagKind::Seq => {
                let expected = if kind == TagKind::Map {
                    "mapping"
                } else {
                    "sequence"
                };
                Err(
                    self.tag_error(tag, start, |tag| ContentProblem::TagOnWrongNode {
                        tag,
                        expected,
                    }),
                )
            }
            _ => Err(
                self.tag_error(tag, start, |tag| ContentProblem::TagOnWrongNode {
                    tag,
                    expected: "scalar",
                }),
            ),
        }
    }

    fn start_mapping(&mut self, anchor: usize, tag: Option<&Tag>, start: Marker) {
        let is_unsafe = self
            .container_tag(tag, TagKind::Map, start)
            .unwrap_or_else(|error| {
                self.defer(error);
                false
            });
        if is_unsafe {
            self.unsafe_depth += 1;
        }
        let keep_raw = anchor != 0 || self.in_merge_context();
        self.begin_anchor(anchor);
        self.stack.push(Frame::Map(MapFrame {
            entries: MapAccumulator::default(),
            key: None,
            anchor,
            start,
            is_unsafe,
            raw: keep_raw.then(Vec::new),
            merged: Vec::new(),
            merged_ids: std::collections::HashSet::new(),
            has_merge: false,
        }));
    }

    fn end_mapping(&mut self) {
        let Some(Frame::Map(frame)) = self.stack.pop() else {
            unreachable!("the parser ends only the mapping it started");
        };
        if frame.is_unsafe {
            self.unsafe_depth -= 1;
        }
        let entries = if frame.has_merge {
            // PyYAML puts the merged pairs before the mapping's own.
            let mut entries = MapAccumulator::default();
            for pair in &frame.merged {
                entries.insert(pair.key.clone(), pair.value.clone());
            }
            for (key, value) in frame.entries.into_entries() {
                entries.insert(key, value);
            }
            entries
        } else {
            frame.entries
        };
        let pairs = frame.raw.map(|raw| {
            let mut all = frame.merged;
            all.extend(raw);
            Pairs::from(all)
        });
        let node = Node {
            value: Value::Map(entries.into_map()),
            start: frame.start,
            identity: KeyId::Node(self.fresh_id()),
            big_int: None,
            pairs,
            item_pairs: None,
        };
        self.finish_anchor(frame.anchor, &node);
        self.attach(node);
    }

    fn start_sequence(&mut self, anchor: usize, tag: Option<&Tag>, start: Marker) {
        let is_unsafe = self
            .container_tag(tag, TagKind::Seq, start)
            .unwrap_or_else(|error| {
                self.defer(error);
                false
            });
        if is_unsafe {
            self.unsafe_depth += 1;
        }
        let merge_source = matches!(
            self.stack.last(),
            Some(Frame::Map(MapFrame {
                key: Some(PendingKey::Merge),
                ..
            }))
        );
        let keep_pairs = merge_source || anchor != 0;
        self.begin_anchor(anchor);
        self.stack.push(Frame::Seq(SeqFrame {
            items: Vec::new(),
            anchor,
            start,
            is_unsafe,
            merge_source,
            item_pairs: keep_pairs.then(Vec::new),
        }));
    }

    fn end_sequence(&mut self) {
        let Some(Frame::Seq(frame)) = self.stack.pop() else {
            unreachable!("the parser ends only the sequence it started");
        };
        if frame.is_unsafe {
            self.unsafe_depth -= 1;
        }
        let node = Node {
            value: Value::List(frame.items),
            start: frame.start,
            identity: KeyId::Node(self.fresh_id()),
            big_int: None,
            pairs: None,
            item_pairs: frame.item_pairs.map(Rc::from),
        };
        self.finish_anchor(frame.anchor, &node);
        self.attach(node);
    }

    /// Puts a finished node where it belongs: the root, a list item, a key, a
    /// value or a merge.
    fn attach(&mut self, node: Node) {
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node.value);
            return;
        };
        let problem = match parent {
            Frame::Seq(seq) => attach_item(seq, node, &mut self.next_node),
            Frame::Map(map) => match map.key.take() {
                None => {
                    let (start, identity) = (node.start, node.identity);
                    match map_key(node) {
                        Ok(key) => {
                            map.key = Some(PendingKey::Key(key, identity));
                            None
                        }
                        Err(problem) => {
                            // Keep reading (PyYAML reports errors found while
                            // composing first) with a stand-in key.
                            let stand_in = MapKey {
                                text: String::new(),
                                class: None,
                            };
                            map.key = Some(PendingKey::Key(stand_in, identity));
                            Some((start, problem))
                        }
                    }
                }
                Some(PendingKey::Key(key, id)) => {
                    if let Some(raw) = &mut map.raw {
                        raw.push(RawPair {
                            id,
                            key: key.clone(),
                            value: node.value.clone(),
                        });
                    }
                    map.entries.insert(key, node.value);
                    None
                }
                Some(PendingKey::Merge) => merge_into(map, &node, &mut self.next_node),
            },
        };
        if let Some((start, problem)) = problem {
            let error = self.error(start, problem);
            self.defer(error);
        }
    }
}

/// Appends a list item; an item of a merge key's list must be a mapping.
fn attach_item(
    seq: &mut SeqFrame,
    node: Node,
    next_node: &mut u32,
) -> Option<(Marker, ContentProblem)> {
    if seq.merge_source && !matches!(node.value, Value::Map(_)) {
        return Some((node.start, ContentProblem::BadMerge));
    }
    if let Some(item_pairs) = &mut seq.item_pairs {
        item_pairs.push(
            node.pairs
                .clone()
                .or_else(|| pairs_of_value(&node.value, next_node)),
        );
    }
    seq.items.push(node.value);
    None
}

/// Adds the value of a merge key (`<<`) to the merged pairs, as PyYAML's
/// `flatten_mapping` does: a mapping's pairs, or each listed mapping's pairs
/// in order, skipping a pair whose key was merged already (by identity).
fn merge_into(
    map: &mut MapFrame,
    node: &Node,
    next_node: &mut u32,
) -> Option<(Marker, ContentProblem)> {
    let sources: Vec<Pairs> = match &node.value {
        Value::Map(_) => vec![
            node.pairs
                .clone()
                .or_else(|| pairs_of_value(&node.value, next_node))
                .unwrap_or_else(|| Pairs::from(Vec::new())),
        ],
        Value::List(items) => {
            let item_pairs: Vec<Option<Pairs>> = match &node.item_pairs {
                Some(pairs) => pairs.to_vec(),
                None => items
                    .iter()
                    .map(|item| pairs_of_value(item, next_node))
                    .collect(),
            };
            match item_pairs.into_iter().collect::<Option<Vec<Pairs>>>() {
                Some(sources) => sources,
                None => return Some((node.start, ContentProblem::BadMerge)),
            }
        }
        _ => return Some((node.start, ContentProblem::BadMerge)),
    };
    for pair in sources.iter().flat_map(|source| source.iter()) {
        if map.merged_ids.insert(pair.id) {
            map.merged.push(pair.clone());
        }
    }
    None
}

/// The pairs of a mapping value whose raw pairs were not kept (a fallback:
/// every mapping that can be merged keeps them). Each key is its own node.
fn pairs_of_value(value: &Value, next_node: &mut u32) -> Option<Pairs> {
    let Value::Map(map) = value else {
        return None;
    };
    Some(
        map.iter()
            .map(|(k, v)| RawPair {
                id: key_identity(k).unwrap_or_else(|| {
                    *next_node = next_node.wrapping_add(1);
                    KeyId::Node(*next_node)
                }),
                key: MapKey {
                    text: k.clone(),
                    class: None,
                },
                value: v.clone(),
            })
            .collect(),
    )
}

/// The identity CPython gives a key's text when it shares the object.
fn key_identity(text: &str) -> Option<KeyId> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Some(KeyId::Shared(None)),
        (Some(c), None) if u32::from(c) < 256 => Some(KeyId::Shared(Some(c))),
        _ => None,
    }
}

fn integer_value(integer: Integer, big_int: &mut Option<Rc<str>>) -> Value {
    match integer {
        Integer::Small(i) => Value::Int(i),
        Integer::Big(digits) => {
            let value = digits.parse::<f64>().unwrap_or(f64::NAN);
            *big_int = Some(Rc::from(digits));
            Value::Float(value)
        }
    }
}

/// A node as a mapping key: strings as they are, other scalars as Python's
/// `json` prints them, with the equality class Python's dict uses.
fn map_key(node: Node) -> Result<MapKey, ContentProblem> {
    let (text, class) = match node.value {
        Value::String(s) | Value::Unsafe(s) => {
            return Ok(MapKey {
                text: s,
                class: None,
            });
        }
        Value::Null => ("null".to_owned(), "None".to_owned()),
        Value::Bool(b) => (b.to_string(), u8::from(b).to_string()),
        Value::Int(i) => (i.to_string(), i.to_string()),
        Value::Float(f) => match node.big_int {
            Some(digits) => (digits.to_string(), digits.to_string()),
            None => {
                let class = if f.is_nan() {
                    // NaN equals nothing, and Ansible tags each float as a new
                    // object: only the same node (an alias) is the same key.
                    match node.identity {
                        KeyId::Node(id) => format!("nan:{id}"),
                        KeyId::Shared(_) => "nan".to_owned(),
                    }
                } else if f == 0.0 {
                    "0".to_owned()
                } else if f.is_finite() && f.fract() == 0.0 {
                    format!("{f:.0}")
                } else {
                    scalar::python_float_repr(f)
                };
                (scalar::python_float_repr(f), class)
            }
        },
        Value::Vault(_) => return Err(ContentProblem::VaultKey),
        Value::List(_) | Value::Map(_) => return Err(ContentProblem::ComplexKey),
    };
    Ok(MapKey {
        text,
        class: Some(class.into_boxed_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
