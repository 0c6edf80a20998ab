//! Building a [`Value`] from saphyr's events with PyYAML's (and Ansible's
//! constructor's) meaning: tags, anchors and aliases, merge keys, Python dict
//! keys, `!unsafe` and `!vault`.

use std::path::Path;
use std::rc::Rc;

use saphyr_parser::{Marker, ScalarStyle, ScanError, Tag};

use super::error::{ContentProblem, YamlError};
use super::scalar::{self, Implicit, Integer, ScalarProblem};
use crate::Location;
use crate::value::{Map, Value};

/// The deepest nesting of mappings and lists read.
const MAX_DEPTH: usize = 256;

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

pub(super) struct Builder<'a> {
    origin: &'a Path,
    stack: Vec<Frame>,
    anchors: Vec<AnchorSlot>,
    unsafe_depth: u32,
    next_node: u32,
    root: Option<Value>,
    /// What aliases may still expand to, in bytes of values (see [`expanded_size`]).
    alias_budget_left: u64,
    /// The first construction error. PyYAML composes the whole document
    /// before constructing values, so syntax and composition errors
    /// (undefined alias, duplicate anchor, second document) found later in
    /// the text are the ones it reports; construction errors wait until the end.
    deferred: Option<YamlError>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(origin: &'a Path) -> Self {
        Builder {
            origin,
            stack: Vec::new(),
            anchors: Vec::new(),
            unsafe_depth: 0,
            next_node: 0,
            root: None,
            alias_budget_left: super::alias_budget_bytes(),
            deferred: None,
        }
    }

    /// The document's value, or the first error building it.
    pub(super) fn finish(self) -> Result<Value, YamlError> {
        match self.deferred {
            Some(error) => Err(error),
            None => Ok(self.root.unwrap_or(Value::Null)),
        }
    }

    fn location(&self, mark: Marker) -> Location {
        Location::new(self.origin, mark.line(), mark.col() + 1)
    }

    pub(super) fn error(&self, mark: Marker, problem: ContentProblem) -> YamlError {
        YamlError::Content {
            location: self.location(mark),
            problem,
        }
    }

    pub(super) fn scan_error(&self, error: &ScanError) -> YamlError {
        if error.info().contains("unknown anchor") {
            return self.error(*error.marker(), ContentProblem::UndefinedAlias);
        }
        YamlError::Syntax {
            location: self.location(*error.marker()),
            message: error.info().to_owned(),
        }
    }

    /// Refuses nesting deeper than `MAX_DEPTH`: PyYAML hits Python's
    /// recursion limit well before that, and our values drop recursively.
    pub(super) fn check_depth(&self, start: Marker) -> Result<(), YamlError> {
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

    pub(super) fn scalar(
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

    pub(super) fn alias(&mut self, anchor: usize, start: Marker) -> Result<(), YamlError> {
        let node = match self.anchors.get(anchor) {
            Some(AnchorSlot::Done(node)) => {
                // Each alias copies its node: a few bytes of aliases can
                // otherwise expand to gigabytes (an alias bomb).
                let left = self.alias_budget_left;
                match expanded_size(&node.value, left) {
                    Some(size) => self.alias_budget_left = left - size,
                    None => {
                        let mib = super::alias_budget_bytes() >> 20;
                        return Err(self.error(start, ContentProblem::AliasBudget { mib }));
                    }
                }
                Node {
                    start,
                    ..node.clone()
                }
            }
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

    pub(super) fn start_mapping(&mut self, anchor: usize, tag: Option<&Tag>, start: Marker) {
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

    pub(super) fn end_mapping(&mut self) {
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

    pub(super) fn start_sequence(&mut self, anchor: usize, tag: Option<&Tag>, start: Marker) {
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

    pub(super) fn end_sequence(&mut self) {
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

/// Roughly how many bytes `value` takes in memory (a fixed cost per node
/// plus its text), or `None` once that passes `limit`: counting stops
/// there, so counting costs no more than the budget allows.
fn expanded_size(value: &Value, limit: u64) -> Option<u64> {
    const PER_NODE: u64 = 64;
    let mut total: u64 = 0;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        total += PER_NODE;
        match value {
            Value::String(text) | Value::Vault(text) | Value::Unsafe(text) => {
                total += text.len() as u64;
            }
            Value::List(items) => pending.extend(items),
            Value::Map(map) => {
                for (key, item) in map {
                    total += key.len() as u64;
                    pending.push(item);
                }
            }
            _ => {}
        }
        if total > limit {
            return None;
        }
    }
    Some(total)
}
