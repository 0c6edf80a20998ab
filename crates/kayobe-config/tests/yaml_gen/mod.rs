//! A proptest generator of YAML documents: nested mappings and lists in block
//! and flow style, tricky YAML 1.1 scalars in every quoting style, tags,
//! anchors and aliases, merge keys and comments. Every document it makes is
//! well-formed YAML (for libyaml and saphyr alike); what it means is up to the
//! parser under test.

use proptest::prelude::*;
use proptest::sample::select;

/// Scalars that can be written plain in block context, chosen for their
/// YAML 1.1 meaning.
const PLAIN: &[&str] = &[
    "",
    "~",
    "null",
    "NULL",
    "Null",
    "yes",
    "No",
    "ON",
    "off",
    "True",
    "false",
    "y",
    "n",
    "0",
    "-0",
    "010",
    "08",
    "0x1F",
    "0b101",
    "1_000",
    "+12",
    "-7",
    "1:30",
    "190:20:30",
    "1:60",
    "1.5",
    "-1.5",
    "1.",
    ".5",
    "-.5",
    "1e3",
    "1.0e+3",
    "1.0e3",
    "1:30.5",
    ".inf",
    "-.Inf",
    ".nan",
    "123456789012345678901234567890",
    "9223372036854775808",
    "2001-12-14",
    "2001-12-14 21:59:43.10 -5",
    "2002-12-14t21:59:43Z",
    "2001-02-29",
    "10.0.0.1",
    "192.168.0.0/24",
    "foo",
    "foo bar",
    "é",
    "a=b",
    "x:y",
    "a{b}",
    "eth0.100",
];

/// Scalars that can be mapping keys plain (no timestamps: Ansible cannot
/// print date keys as JSON).
const PLAIN_KEYS: &[&str] = &[
    "a",
    "b",
    "abc",
    "key",
    "é",
    "x y",
    "1",
    "2",
    "1.0",
    "true",
    "yes",
    "Off",
    "null",
    "~",
    "1.5",
    "0x10",
    "010",
    "-1",
    "1e3",
    ".nan",
    ".inf",
    "-.inf",
    "1:30",
    "123456789012345678901234567890",
    "1.5e+16",
];

const VAULT_TEXT: &str = "$ANSIBLE_VAULT;1.1;AES256\n6162636465666768\n3132333435\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScalarTag {
    None,
    Str,
    Unsafe,
    Vault,
}

#[derive(Debug, Clone)]
struct Key {
    text: String,
    style: Style,
    /// `&kN key:` (a scalar anchor later keys and values may alias).
    anchor: bool,
    /// `*aN :` (an alias to an earlier scalar), when there is one.
    alias: Option<usize>,
    /// How a block entry with a one-line value is written: `key: value`,
    /// `key:<tab>value` or `? key` / `: value`.
    form: EntryForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryForm {
    Plain,
    Tab,
    Explicit,
}

#[derive(Debug, Clone)]
enum Merge {
    One(usize),
    Several(Vec<usize>),
    Inline(Vec<(Key, String)>),
}

#[derive(Debug, Clone)]
enum Kind {
    Scalar {
        text: String,
        style: Style,
        tag: ScalarTag,
    },
    Map {
        entries: Vec<(Key, GenNode)>,
        flow: bool,
        merge: Option<(usize, Merge)>,
    },
    List {
        items: Vec<GenNode>,
        flow: bool,
    },
    Alias(usize),
}

/// A node of a generated document.
#[derive(Debug, Clone)]
pub struct GenNode {
    kind: Kind,
    anchor: bool,
    unsafe_tag: bool,
    comment: bool,
}

fn scalar() -> impl Strategy<Value = Kind> {
    let text = prop_oneof![
        3 => select(PLAIN).prop_map(String::from),
        1 => "[a-zA-Z0-9 :#{}\\[\\],'\"\\\\é\t!&*%@`|>-]{0,10}",
        1 => Just(VAULT_TEXT.to_owned()),
    ];
    (text, 0..4u8, 0..10u8).prop_map(|(text, style, tag)| {
        let plain_ok = PLAIN.contains(&text.as_str());
        let style = match style {
            0 | 1 if plain_ok => Style::Plain,
            0 | 1 => Style::Single,
            2 => Style::Double,
            _ if text.starts_with([' ', '\t']) || text.is_empty() => Style::Double,
            _ => Style::Literal,
        };
        let tag = match tag {
            0 => ScalarTag::Str,
            1 => ScalarTag::Unsafe,
            2 if text == VAULT_TEXT => ScalarTag::Vault,
            _ => ScalarTag::None,
        };
        Kind::Scalar { text, style, tag }
    })
}

fn key() -> impl Strategy<Value = Key> {
    let text = prop_oneof![
        3 => select(PLAIN_KEYS).prop_map(|k| (k.to_owned(), Style::Plain)),
        1 => ("[a-z0-9 :#é'\"-]{0,6}", any::<bool>()).prop_map(|(text, single)| {
            (text, if single { Style::Single } else { Style::Double })
        }),
    ];
    (text, 0..16u8, 0..8usize).prop_map(|((text, style), props, target)| Key {
        text,
        style,
        anchor: props == 0,
        alias: (props == 1 || props == 2).then_some(target),
        form: match props {
            3 | 4 => EntryForm::Tab,
            5 => EntryForm::Explicit,
            _ => EntryForm::Plain,
        },
    })
}

fn wrap(kind: Kind, props: u8) -> GenNode {
    GenNode {
        kind,
        anchor: props % 4 == 0,
        unsafe_tag: props % 13 == 1,
        comment: props % 5 == 2,
    }
}

fn node() -> impl Strategy<Value = GenNode> {
    let leaf = prop_oneof![
        4 => scalar(),
        1 => (0..8usize).prop_map(Kind::Alias),
    ];
    let leaf = (leaf, any::<u8>()).prop_map(|(kind, props)| wrap(kind, props));
    leaf.prop_recursive(4, 48, 6, |inner| {
        let merge = prop_oneof![
            (0..8usize).prop_map(Merge::One),
            prop::collection::vec(0..8usize, 1..3).prop_map(Merge::Several),
            prop::collection::vec((key(), select(PLAIN).prop_map(String::from)), 0..3)
                .prop_map(Merge::Inline),
        ];
        let map = (
            prop::collection::vec((key(), inner.clone()), 0..6),
            prop::bool::weighted(0.25),
            prop::option::weighted(0.3, (0..6usize, merge)),
        )
            .prop_map(|(entries, flow, merge)| Kind::Map {
                entries,
                flow,
                merge,
            });
        let list = (
            prop::collection::vec(inner, 0..5),
            prop::bool::weighted(0.25),
        )
            .prop_map(|(items, flow)| Kind::List { items, flow });
        (prop_oneof![2 => map, 1 => list], any::<u8>()).prop_map(|(kind, props)| wrap(kind, props))
    })
}

/// A whole generated document (mostly a mapping at the top, as vars files are).
pub fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec((key(), node()), 0..6), node(), 0..4u8).prop_map(
        |(entries, other, shape)| {
            let root = if shape == 0 {
                other
            } else {
                GenNode {
                    kind: Kind::Map {
                        entries,
                        flow: false,
                        merge: None,
                    },
                    anchor: false,
                    unsafe_tag: false,
                    comment: false,
                }
            };
            let mut renderer = Renderer::default();
            let mut out = String::new();
            if shape == 3 {
                out.push_str("# generated\n---\n");
            }
            for line in renderer.block(&root) {
                out.push_str(&line);
                out.push('\n');
            }
            out
        },
    )
}

#[derive(Default)]
struct Renderer {
    anchors: Vec<String>,
    map_anchors: Vec<String>,
    /// Anchors on scalars (not vault text), which keys may alias.
    scalar_anchors: Vec<String>,
    next_anchor: usize,
    unsafe_depth: usize,
}

fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn single_quoted(text: &str) -> String {
    if text.contains('\n') {
        return double_quoted(text);
    }
    format!("'{}'", text.replace('\'', "''"))
}

/// Plain scalars that stay one plain scalar inside `[...]`/`{...}`.
fn flow_plain_ok(text: &str) -> bool {
    !text.is_empty() && !text.contains([',', '[', ']', '{', '}', ':', '#'])
}

fn render_key_text(key: &Key, flow: bool) -> String {
    match key.style {
        Style::Plain if !flow || flow_plain_ok(&key.text) => key.text.clone(),
        Style::Plain | Style::Single => single_quoted(&key.text),
        _ => double_quoted(&key.text),
    }
}

/// Whether the node is written as a block mapping or list (on lines of its own).
fn is_block_container(node: &GenNode) -> bool {
    match &node.kind {
        Kind::Map {
            entries,
            flow: false,
            merge,
        } => !entries.is_empty() || merge.is_some(),
        Kind::List { items, flow: false } => !items.is_empty(),
        _ => false,
    }
}

impl Renderer {
    /// A mapping key, maybe anchored or an alias to an earlier scalar.
    fn render_key(&mut self, key: &Key, flow: bool) -> String {
        if let Some(target) = key.alias
            && self.unsafe_depth == 0
            && !self.scalar_anchors.is_empty()
        {
            // The space keeps `:` out of the alias name (saphyr allows it there).
            let name = &self.scalar_anchors[target % self.scalar_anchors.len()];
            return format!("*{name} ");
        }
        let text = render_key_text(key, flow);
        if key.anchor && self.unsafe_depth == 0 {
            self.next_anchor += 1;
            let name = format!("k{}", self.next_anchor);
            self.anchors.push(name.clone());
            self.scalar_anchors.push(name.clone());
            return format!("&{name} {text}");
        }
        text
    }

    /// `&aN !unsafe ` for the node, registering nothing yet.
    fn properties(&mut self, node: &GenNode) -> (String, Option<String>) {
        let mut props = String::new();
        let mut anchor = None;
        if node.anchor && !matches!(node.kind, Kind::Alias(_)) {
            self.next_anchor += 1;
            let name = format!("a{}", self.next_anchor);
            props.push('&');
            props.push_str(&name);
            props.push(' ');
            anchor = Some(name);
        }
        if node.unsafe_tag && !matches!(node.kind, Kind::Alias(_) | Kind::Scalar { .. }) {
            props.push_str("!unsafe ");
        }
        (props, anchor)
    }

    /// Makes an anchor available to later aliases. Not one inside `!unsafe`:
    /// PyYAML builds an aliased node once, in its own (lazy) order, so a node
    /// under `!unsafe` that is also reached from outside is unsafe or not
    /// depending on which is built first; we always treat it as unsafe.
    fn register(&mut self, node: &GenNode, anchor: Option<String>) {
        if self.unsafe_depth > 0 {
            return;
        }
        if let Some(name) = anchor {
            // Nor an `!unsafe` mapping as a merge source, for the same reason:
            // the merge builds its values outside the `!unsafe`.
            if matches!(node.kind, Kind::Map { .. }) && !node.unsafe_tag {
                self.map_anchors.push(name.clone());
            }
            if matches!(&node.kind, Kind::Scalar { text, .. } if text != VAULT_TEXT) {
                self.scalar_anchors.push(name.clone());
            }
            self.anchors.push(name);
        }
    }

    fn scalar_inline(&self, text: &str, style: Style, tag: ScalarTag, flow: bool) -> String {
        let tag = match tag {
            ScalarTag::None => "",
            ScalarTag::Str => "!!str ",
            ScalarTag::Unsafe => "!unsafe ",
            ScalarTag::Vault => "!vault ",
        };
        let body = match style {
            Style::Plain if !flow || flow_plain_ok(text) => text.to_owned(),
            Style::Plain | Style::Single => single_quoted(text),
            Style::Double | Style::Literal => double_quoted(text),
        };
        format!("{tag}{body}").trim_end().to_owned()
    }

    /// The node on one line, when it can be (scalars other than literal
    /// blocks, aliases, flow and empty containers).
    fn inline(&mut self, node: &GenNode, flow: bool) -> Option<String> {
        match &node.kind {
            Kind::Scalar {
                style: Style::Literal,
                ..
            } if !flow => None,
            Kind::Map {
                entries,
                flow: false,
                merge,
            } if !flow && (!entries.is_empty() || merge.is_some()) => None,
            Kind::List { items, flow: false } if !flow && !items.is_empty() => None,
            _ => Some(self.flow(node)),
        }
    }

    fn alias(&self, index: usize) -> Option<String> {
        if self.anchors.is_empty() || self.unsafe_depth > 0 {
            return None;
        }
        Some(format!("*{}", self.anchors[index % self.anchors.len()]))
    }

    fn merge_value(&mut self, merge: &Merge) -> Option<String> {
        if self.unsafe_depth > 0 {
            return None;
        }
        match merge {
            Merge::One(i) if !self.map_anchors.is_empty() => {
                Some(format!("*{}", self.map_anchors[i % self.map_anchors.len()]))
            }
            Merge::Several(list) if !self.map_anchors.is_empty() => {
                let names: Vec<String> = list
                    .iter()
                    .map(|i| format!("*{}", self.map_anchors[i % self.map_anchors.len()]))
                    .collect();
                Some(format!("[{}]", names.join(", ")))
            }
            Merge::Inline(entries) => {
                let body: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}: {}",
                            render_key_text(k, true),
                            self.scalar_inline(v, Style::Plain, ScalarTag::None, true)
                        )
                    })
                    .collect();
                Some(format!("{{{}}}", body.join(", ")))
            }
            _ => None,
        }
    }

    /// The node in flow style.
    fn flow(&mut self, node: &GenNode) -> String {
        if let Kind::Alias(i) = node.kind {
            return self.alias(i).unwrap_or_else(|| "alias-less".to_owned());
        }
        let (props, anchor) = self.properties(node);
        let unsafe_container = props.contains("!unsafe");
        if unsafe_container {
            self.unsafe_depth += 1;
        }
        let body = match &node.kind {
            Kind::Scalar { text, style, tag } => self.scalar_inline(text, *style, *tag, true),
            Kind::Map { entries, merge, .. } => {
                let mut parts: Vec<String> = Vec::new();
                for (k, v) in entries {
                    let key = self.render_key(k, true);
                    let value = self.flow(v);
                    parts.push(format!("{key}: {value}"));
                }
                if let Some((at, merge)) = merge
                    && let Some(value) = self.merge_value(merge)
                {
                    parts.insert((*at).min(parts.len()), format!("<<: {value}"));
                }
                format!("{{{}}}", parts.join(", "))
            }
            Kind::List { items, .. } => {
                let parts: Vec<String> = items.iter().map(|item| self.flow(item)).collect();
                format!("[{}]", parts.join(", "))
            }
            Kind::Alias(_) => unreachable!("handled above"),
        };
        if unsafe_container {
            self.unsafe_depth -= 1;
        }
        self.register(node, anchor);
        format!("{props}{body}").trim_end().to_owned()
    }

    /// The node in block style, as lines at indentation 0.
    fn block(&mut self, node: &GenNode) -> Vec<String> {
        if let Some(line) = self.inline(node, false) {
            return vec![line];
        }
        let (props, anchor) = self.properties(node);
        let unsafe_container = props.contains("!unsafe");
        if unsafe_container {
            self.unsafe_depth += 1;
        }
        let mut lines = Vec::new();
        match &node.kind {
            Kind::Scalar { text, tag, .. } => {
                // A literal block scalar: header, then the text indented.
                let tag = match tag {
                    ScalarTag::None => "",
                    ScalarTag::Str => "!!str ",
                    ScalarTag::Unsafe => "!unsafe ",
                    ScalarTag::Vault => "!vault ",
                };
                // Literal or folded: the same for one line; folded joins lines.
                let indicator = if text.len() % 3 == 0 { '>' } else { '|' };
                lines.push(format!("{props}{tag}{indicator}"));
                for line in text.lines() {
                    lines.push(format!("  {line}"));
                }
            }
            Kind::Map { entries, merge, .. } => {
                if !props.is_empty() {
                    lines.push(props.trim_end().to_owned());
                }
                let mut rendered: Vec<Vec<String>> = Vec::new();
                for (k, v) in entries {
                    let key = self.render_key(k, false);
                    let mut entry = self.entry(&key, k.form, v);
                    if v.comment && entry.len() > 1 {
                        entry.insert(0, "# a comment line".to_owned());
                    }
                    rendered.push(entry);
                }
                if let Some((at, merge)) = merge
                    && let Some(value) = self.merge_value(merge)
                {
                    rendered.insert((*at).min(rendered.len()), vec![format!("<<: {value}")]);
                }
                if rendered.is_empty() {
                    rendered.push(vec![format!("{props}{{}}")]);
                    lines.clear();
                }
                for entry in rendered {
                    lines.extend(entry);
                }
            }
            Kind::List { items, .. } => {
                if !props.is_empty() {
                    lines.push(props.trim_end().to_owned());
                }
                for item in items {
                    if item.comment && is_block_container(item) {
                        lines.push("# a comment line".to_owned());
                    }
                    let child = self.block(item);
                    let container = matches!(item.kind, Kind::Map { .. } | Kind::List { .. });
                    let starts_with_props = child[0].starts_with(['&', '!']);
                    if child.len() > 1 && (!container || starts_with_props) {
                        // A literal block or a container with properties: the
                        // header goes on the dash line.
                        lines.push(format!("- {}", child[0]));
                        lines.extend(child[1..].iter().map(|l| format!("  {l}")));
                    } else {
                        let mut first = true;
                        for line in child {
                            lines.push(if first {
                                format!("- {line}")
                            } else {
                                format!("  {line}")
                            });
                            first = false;
                        }
                    }
                }
            }
            Kind::Alias(_) => unreachable!("aliases are inline"),
        }
        if unsafe_container {
            self.unsafe_depth -= 1;
        }
        self.register(node, anchor);
        lines
    }

    /// `key: value` in a block mapping, value lines indented below the key
    /// when they do not fit on its line.
    fn entry(&mut self, key: &str, form: EntryForm, value: &GenNode) -> Vec<String> {
        let block_container = is_block_container(value);
        let child = self.block(value);
        let comment = if value.comment && child.len() == 1 {
            " # trailing comment"
        } else {
            ""
        };
        if child.len() == 1 && !block_container {
            return match form {
                EntryForm::Explicit => vec![format!("? {key}"), format!(": {}{comment}", child[0])],
                _ if child[0].is_empty() => vec![format!("{key}:{comment}")],
                EntryForm::Tab => vec![format!("{key}:\t{}{comment}", child[0])],
                EntryForm::Plain => vec![format!("{key}: {}{comment}", child[0])],
            };
        }
        let mut lines = Vec::new();
        let mut rest = child.as_slice();
        let header_on_key_line = rest
            .first()
            .is_some_and(|l| l.ends_with('|') || (l.starts_with(['&', '!']) && !l.contains(": ")));
        if header_on_key_line {
            lines.push(format!("{key}: {}", rest[0]));
            rest = &rest[1..];
        } else {
            lines.push(format!("{key}:"));
        }
        lines.extend(rest.iter().map(|l| format!("  {l}")));
        lines
    }
}
