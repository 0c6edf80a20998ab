//! Ansible-style evaluation of the Jinja expressions in variables, with minijinja.
//!
//! Kayobe variables hold templates such as `"{{ foo }}"`,
//! `"{{ x | default(omit) }}"` or `"{{ a ~ '-' ~ b }}"`. A [`Templar`] evaluates
//! them the way Ansible 2.19 does:
//!
//! - a string that is exactly one `{{ expr }}` gives the expression's native
//!   value (list, map, integer, boolean, …); any other template gives a string,
//!   where values print as Python's `str()` prints them and `None` as nothing;
//! - variables are templated lazily when referenced, recursively; a reference
//!   cycle is an error naming the chain;
//! - `omit` makes a map key disappear, a list element disappear, and a whole
//!   value resolve to `None`;
//! - [`Value::Unsafe`] strings are never templated; [`Value::Vault`] values pass
//!   through unchanged (using one inside text is an error: it is not decrypted);
//! - an undefined variable (outside `default`, `is defined`, …) is an error
//!   naming it and the expression.
//!
//! Filters beyond minijinja's built-ins, with Ansible's meaning: `bool`, `int`,
//! `string`, `join`, `combine` (`recursive`, `list_merge`), `dict2items`,
//! `items2dict`, `mandatory`. Lookups (`lookup`, `query`, `q`) and every filter,
//! test or function minijinja does not know are [`TemplateError::Unsupported`].
//!
//! ```
//! use kayobe_config::template::Templar;
//! use kayobe_config::{Map, Value};
//!
//! let mut vars = Map::new();
//! vars.insert("base".into(), Value::from("runner"));
//! vars.insert("name".into(), Value::from("{{ base ~ '-' ~ 1 }}"));
//! vars.insert("labels".into(), Value::List(vec![Value::from("{{ name | upper }}")]));
//! let templar = Templar::new(&vars);
//! assert_eq!(templar.variable("name")?, Some(Value::from("runner-1")));
//! assert_eq!(
//!     templar.resolve(&Value::from("{{ labels }}"))?,
//!     Some(Value::List(vec![Value::from("RUNNER-1")]))
//! );
//! assert_eq!(templar.resolve(&Value::from("{{ nope | default(omit) }}"))?, None);
//! # Ok::<(), kayobe_config::template::TemplateError>(())
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Object, ObjectRepr, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error as JinjaError, ErrorKind, State, UndefinedBehavior};

use crate::value::{Map, Value};

/// Why a value could not be templated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// A variable the expression needs is not defined.
    #[error(
        "undefined variable {} in `{expression}`: define it, or give a default with `| default(…)`",
        names_text(.names)
    )]
    Undefined {
        /// The undefined variables referenced (empty when an attribute or item
        /// of a defined value is missing).
        names: Vec<String>,
        /// The template.
        expression: String,
    },
    /// A filter, test, function or lookup kayobe-automation does not evaluate.
    #[error(
        "`{name}` is not supported in `{expression}`: kayobe-automation evaluates variables without Ansible and knows only plain references, default/omit, bool, int, string, lower/upper, trim, replace, join, length, list, unique, combine, dict2items, items2dict and mandatory; write the value without it"
    )]
    Unsupported {
        /// What is not supported, e.g. `to_nice_yaml` or `lookup('file')`.
        name: String,
        /// The template.
        expression: String,
    },
    /// The template is not valid Jinja.
    #[error("Jinja syntax error in `{expression}`: {message}")]
    Syntax {
        /// The template.
        expression: String,
        /// What the parser reported.
        message: String,
    },
    /// Variables refer to each other in a loop.
    #[error("variables refer to each other in a cycle: {}", .chain.join(" -> "))]
    Cycle {
        /// The variables, starting and ending with the same one.
        chain: Vec<String>,
    },
    /// A vaulted value was used inside text; it would need decrypting.
    #[error(
        "`{expression}` uses a vaulted value inside text: kayobe-automation does not decrypt values while templating; reference the vaulted variable on its own"
    )]
    VaultInText {
        /// The template.
        expression: String,
    },
    /// Evaluation failed (a type error, a failed `mandatory`, …).
    #[error("cannot evaluate `{expression}`: {message}")]
    Evaluation {
        /// The template.
        expression: String,
        /// What went wrong.
        message: String,
    },
}

fn names_text(names: &[String]) -> String {
    if names.is_empty() {
        "(an attribute or item of a value)".to_owned()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Evaluates the templates in values against a set of variables.
#[derive(Clone)]
pub struct Templar {
    shared: Arc<Shared>,
}

impl fmt::Debug for Templar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Variables may hold secrets: show only their names.
        f.debug_struct("Templar")
            .field("variables", &self.shared.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What a [`Templar`] and the Jinja context object share.
struct Shared {
    env: Environment<'static>,
    vars: Map,
    /// Variables already resolved (`None`: omitted).
    cache: Mutex<HashMap<String, Option<Value>>>,
    /// Variables being resolved, outermost first, for cycle detection.
    stack: Mutex<Vec<String>>,
    /// Top-level names looked up and not found, for undefined errors.
    missing: Mutex<Vec<String>>,
    /// An error from resolving a referenced variable, which Jinja itself only
    /// sees as an undefined value.
    inner_error: Mutex<Option<TemplateError>>,
    /// Set when a vaulted value was printed into text.
    vault_in_text: AtomicBool,
    /// Held for a whole public call: the state above belongs to one
    /// evaluation at a time (clones of a `Templar` used from several threads
    /// take turns).
    busy: Mutex<()>,
}

/// The Jinja context: variable lookups resolve (and template) lazily.
#[derive(Debug)]
struct Variables {
    shared: Arc<Shared>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Shared")
    }
}

/// Ansible's `omit` placeholder.
#[derive(Debug)]
struct Omit;

impl Object for Omit {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ansible prints omit inside text as nothing.
        Ok(())
    }
}

/// A `!vault` value inside Jinja: opaque, never printed.
struct Vaulted {
    ciphertext: String,
    shared: Arc<Shared>,
}

impl fmt::Debug for Vaulted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vaulted")
    }
}

impl Object for Vaulted {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rendering cannot fail here (minijinja panics on a failing Display),
        // so flag it; the evaluation then fails with `VaultInText`.
        self.shared.vault_in_text.store(true, Ordering::Relaxed);
        f.write_str("<vaulted>")
    }
}

/// Why a filter or function refused, carried as the source of a Jinja error.
#[derive(Debug, Clone, thiserror::Error)]
enum Refusal {
    #[error("`{0}` is not supported")]
    Unsupported(String),
    #[error("mandatory variable not defined")]
    Mandatory,
}

fn refuse(refusal: Refusal) -> JinjaError {
    JinjaError::new(ErrorKind::InvalidOperation, refusal.to_string()).with_source(refusal)
}

impl Object for Variables {
    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let name = key.as_str()?;
        if !self.shared.vars.contains_key(name) {
            if !GLOBALS.contains(&name) {
                self.shared.missing.lock().unwrap().push(name.to_owned());
            }
            return None;
        }
        match resolve_variable(&self.shared, name) {
            Ok(Some(value)) => Some(to_jinja(&self.shared, &value)),
            Ok(None) => Some(Jinja::from_object(Omit)),
            Err(error) => {
                let mut inner = self.shared.inner_error.lock().unwrap();
                if inner.is_none() {
                    *inner = Some(error);
                }
                None
            }
        }
    }
}

/// Names the environment defines globally (not variables).
const GLOBALS: &[&str] = &[
    "omit",
    "lookup",
    "query",
    "q",
    "range",
    "dict",
    "namespace",
    "debug",
];

impl Templar {
    /// A templar over `vars` (copied), the variables templates may reference.
    pub fn new(vars: &Map) -> Self {
        Self {
            shared: Arc::new(Shared {
                env: environment(),
                vars: vars.clone(),
                cache: Mutex::default(),
                stack: Mutex::default(),
                missing: Mutex::default(),
                inner_error: Mutex::default(),
                vault_in_text: AtomicBool::new(false),
                busy: Mutex::default(),
            }),
        }
    }

    /// `value` with every template in it evaluated, through lists and maps.
    /// `None` when the whole value is `omit`; map entries and list elements
    /// that are `omit` are left out.
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, TemplateError> {
        let _turn = self.shared.busy.lock().unwrap_or_else(|e| e.into_inner());
        resolve_value(&self.shared, value)
    }

    /// Whether `name` is one of the variables.
    pub fn contains(&self, name: &str) -> bool {
        self.shared.vars.contains_key(name)
    }

    /// Variable `name`, templated (`None`: it is `omit`). An unknown name is
    /// [`TemplateError::Undefined`].
    pub fn variable(&self, name: &str) -> Result<Option<Value>, TemplateError> {
        if !self.contains(name) {
            return Err(TemplateError::Undefined {
                names: vec![name.to_owned()],
                expression: format!("{{{{ {name} }}}}"),
            });
        }
        let _turn = self.shared.busy.lock().unwrap_or_else(|e| e.into_inner());
        resolve_variable(&self.shared, name)
    }
}

fn resolve_variable(shared: &Arc<Shared>, name: &str) -> Result<Option<Value>, TemplateError> {
    if let Some(done) = shared.cache.lock().unwrap().get(name) {
        return Ok(done.clone());
    }
    {
        let mut stack = shared.stack.lock().unwrap();
        if let Some(start) = stack.iter().position(|n| n == name) {
            let mut chain = stack[start..].to_vec();
            chain.push(name.to_owned());
            return Err(TemplateError::Cycle { chain });
        }
        stack.push(name.to_owned());
    }
    let result = resolve_value(shared, &shared.vars[name]);
    shared.stack.lock().unwrap().pop();
    if let Ok(resolved) = &result {
        shared
            .cache
            .lock()
            .unwrap()
            .insert(name.to_owned(), resolved.clone());
    }
    result
}

fn resolve_value(shared: &Arc<Shared>, value: &Value) -> Result<Option<Value>, TemplateError> {
    Ok(Some(match value {
        Value::String(s) => return template_string(shared, s),
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.extend(resolve_value(shared, item)?);
            }
            Value::List(out)
        }
        Value::Map(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, item) in map {
                if let Some(resolved) = resolve_value(shared, item)? {
                    out.insert(key.clone(), resolved);
                }
            }
            Value::Map(out)
        }
        other => other.clone(),
    }))
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// The expression of a template that is exactly one `{{ expr }}`.
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    // More than one tag: a template (minijinja's expression lexer also
    // panics on a stray `}}`).
    let tags = ["{{", "}}", "{%", "%}", "{#", "#}"];
    (!tags.iter().any(|t| inner.contains(t))).then_some(inner)
}

fn template_string(shared: &Arc<Shared>, s: &str) -> Result<Option<Value>, TemplateError> {
    if !is_template(s) {
        return Ok(Some(Value::String(s.to_owned())));
    }
    let context = Jinja::from_object(Variables {
        shared: Arc::clone(shared),
    });
    let missing_before = shared.missing.lock().unwrap().len();
    // Nested evaluations (of referenced variables) keep their own flag.
    let outer_vault_flag = shared.vault_in_text.swap(false, Ordering::Relaxed);
    let result = match single_expression(s).and_then(|e| shared.env.compile_expression(e).ok()) {
        Some(expression) => expression.eval(&context).and_then(|v| {
            if v.is_undefined() {
                Err(JinjaError::from(ErrorKind::UndefinedError))
            } else {
                Ok(v)
            }
        }),
        None => render_template(shared, s, &context),
    };
    let missing: Vec<String> = {
        let mut all = shared.missing.lock().unwrap();
        all.drain(missing_before..).collect()
    };
    let inner = shared.inner_error.lock().unwrap().take();
    let vault_in_text = shared
        .vault_in_text
        .swap(outer_vault_flag, Ordering::Relaxed);
    if vault_in_text && inner.is_none() {
        return Err(TemplateError::VaultInText {
            expression: s.to_owned(),
        });
    }
    match (result, inner) {
        // An undefined variable inside a referenced variable is undefined for
        // `default` too, as in Ansible; other inner errors always surface.
        (Ok(_), Some(error)) if !matches!(error, TemplateError::Undefined { .. }) => Err(error),
        (Ok(value), _) => from_jinja(&value, s),
        (Err(_), Some(error)) => Err(error),
        (Err(error), None) => Err(convert_error(&error, s, missing)),
    }
}

thread_local! {
    /// Per render in progress (innermost last): the values its `{{ … }}`
    /// printed, so that output made of one printed value can stay native.
    static PRINTED: RefCell<Vec<Vec<Jinja>>> = const { RefCell::new(Vec::new()) };
}

/// Renders a template. As in Ansible, output that is exactly one printed value
/// (e.g. `{% if x %}{{ n }}{% endif %}`) is that native value; any other
/// output is a string, in which a vaulted value is an error.
fn render_template(shared: &Arc<Shared>, s: &str, context: &Jinja) -> Result<Jinja, JinjaError> {
    PRINTED.with(|p| p.borrow_mut().push(Vec::new()));
    let rendered = shared.env.render_str(s, context);
    let printed = PRINTED.with(|p| p.borrow_mut().pop()).unwrap_or_default();
    let rendered = rendered?;
    if let [only] = printed.as_slice() {
        if printed_text(only) == rendered {
            return Ok(only.clone());
        }
    }
    if printed
        .iter()
        .any(|v| v.downcast_object_ref::<Vaulted>().is_some())
    {
        shared.vault_in_text.store(true, Ordering::Relaxed);
    }
    Ok(Jinja::from(rendered))
}

/// How the formatter prints a value into text.
fn printed_text(value: &Jinja) -> String {
    if value.is_none() {
        String::new()
    } else if value.downcast_object_ref::<Vaulted>().is_some() {
        // Not via `render`, which would flag it: the caller decides.
        "<vaulted>".to_owned()
    } else {
        python_str(value)
    }
}

fn convert_error(error: &JinjaError, expression: &str, mut missing: Vec<String>) -> TemplateError {
    let expression = expression.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return match refusal {
                Refusal::Unsupported(name) => TemplateError::Unsupported {
                    name: name.clone(),
                    expression,
                },
                Refusal::Mandatory => {
                    missing.dedup();
                    TemplateError::Undefined {
                        names: missing,
                        expression,
                    }
                }
            };
        }
        source = cause.source();
    }
    let detail = error.detail().unwrap_or_default().to_owned();
    // Operators on an undefined operand report an invalid operation.
    let undefined_operand = error.kind() == ErrorKind::InvalidOperation
        && detail.contains("undefined")
        && !missing.is_empty();
    if undefined_operand {
        missing.dedup();
        return TemplateError::Undefined {
            names: missing,
            expression,
        };
    }
    if error.kind() == ErrorKind::InvalidOperation && detail.contains("use % operator on") {
        return TemplateError::Unsupported {
            name: "% string formatting".to_owned(),
            expression,
        };
    }
    match error.kind() {
        ErrorKind::UndefinedError => {
            missing.dedup();
            TemplateError::Undefined {
                names: missing,
                expression,
            }
        }
        ErrorKind::UnknownFilter | ErrorKind::UnknownTest => TemplateError::Unsupported {
            name: detail
                .split(' ')
                .nth(1)
                .unwrap_or(detail.as_str())
                .to_owned(),
            expression,
        },
        ErrorKind::UnknownFunction => TemplateError::Unsupported {
            name: detail.trim_end_matches(" is unknown").to_owned(),
            expression,
        },
        ErrorKind::SyntaxError => TemplateError::Syntax {
            expression,
            message: detail,
        },
        _ => TemplateError::Evaluation {
            expression,
            message: error.to_string(),
        },
    }
}

fn to_jinja(shared: &Arc<Shared>, value: &Value) -> Jinja {
    match value {
        Value::Null => Jinja::from(()),
        Value::Bool(b) => Jinja::from(*b),
        Value::Int(i) => Jinja::from(*i),
        Value::Float(f) => Jinja::from(*f),
        Value::String(s) | Value::Unsafe(s) => Jinja::from(s.as_str()),
        Value::List(items) => items.iter().map(|v| to_jinja(shared, v)).collect(),
        Value::Map(map) => map
            .iter()
            .map(|(k, v)| (k.as_str(), to_jinja(shared, v)))
            .collect(),
        Value::Vault(ciphertext) => Jinja::from_object(Vaulted {
            ciphertext: ciphertext.clone(),
            shared: Arc::clone(shared),
        }),
    }
}

/// Our value for a Jinja result (`None` for omit).
fn from_jinja(value: &Jinja, expression: &str) -> Result<Option<Value>, TemplateError> {
    let evaluation = |message: String| TemplateError::Evaluation {
        expression: expression.to_owned(),
        message,
    };
    Ok(Some(match value.kind() {
        ValueKind::Undefined => {
            return Err(TemplateError::Undefined {
                names: Vec::new(),
                expression: expression.to_owned(),
            });
        }
        ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(value.is_true()),
        ValueKind::Number => match i64::try_from(value.clone()) {
            Ok(i) if value.is_integer() => Value::Int(i),
            _ => Value::Float(f64::try_from(value.clone()).map_err(|e| evaluation(e.to_string()))?),
        },
        ValueKind::String => Value::String(value.as_str().unwrap_or_default().to_owned()),
        ValueKind::Bytes => Value::String(
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned(),
        ),
        ValueKind::Seq | ValueKind::Iterable => {
            let mut items = Vec::new();
            for item in value.try_iter().map_err(|e| evaluation(e.to_string()))? {
                items.extend(from_jinja(&item, expression)?);
            }
            Value::List(items)
        }
        ValueKind::Map => {
            let mut map = Map::new();
            for key in value.try_iter().map_err(|e| evaluation(e.to_string()))? {
                let item = value
                    .get_item(&key)
                    .map_err(|e| evaluation(e.to_string()))?;
                if let Some(item) = from_jinja(&item, expression)? {
                    map.insert(python_str(&key), item);
                }
            }
            Value::Map(map)
        }
        _ => {
            if value.downcast_object_ref::<Omit>().is_some() {
                return Ok(None);
            }
            if let Some(vaulted) = value.downcast_object_ref::<Vaulted>() {
                return Ok(Some(Value::Vault(vaulted.ciphertext.clone())));
            }
            return Err(evaluation(format!(
                "the result is a {} which is not a value",
                value.kind()
            )));
        }
    }))
}

/// Python's `str()` of a value, as Ansible prints values inside text.
fn python_str(value: &Jinja) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        _ => python_repr(value),
    }
}

/// Python's `repr()` of a value.
fn python_repr(value: &Jinja) -> String {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => "None".to_owned(),
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.to_owned(),
        ValueKind::String => python_repr_str(value.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<String> = value
                .try_iter()
                .map(|it| it.map(|v| python_repr(&v)).collect())
                .unwrap_or_default();
            format!("[{}]", items.join(", "))
        }
        ValueKind::Map => {
            let items: Vec<String> = value
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let v = value.get_item(&k).unwrap_or_default();
                        format!("{}: {}", python_repr(&k), python_repr(&v))
                    })
                    .collect()
                })
                .unwrap_or_default();
            format!("{{{}}}", items.join(", "))
        }
        _ => value.to_string(),
    }
}

fn python_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // As Ansible configures Jinja.
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_formatter(|out, _state, value| {
        if value.is_undefined() {
            return Err(JinjaError::from(ErrorKind::UndefinedError));
        }
        PRINTED.with(|p| {
            if let Some(frame) = p.borrow_mut().last_mut() {
                frame.push(value.clone());
            }
        });
        out.write_str(&printed_text(value))
            .map_err(|_| JinjaError::from(ErrorKind::WriteFailure))
    });
    env.set_unknown_method_callback(python_method);
    env.add_global("omit", Jinja::from_object(Omit));
    for lookup in ["lookup", "query", "q"] {
        env.add_function(
            lookup,
            move |args: Rest<Jinja>| -> Result<Jinja, JinjaError> {
                let plugin = args.first().map(python_repr).unwrap_or_default();
                Err(refuse(Refusal::Unsupported(format!("{lookup}({plugin})"))))
            },
        );
    }
    env.add_filter("bool", filters::bool);
    env.add_filter("int", filters::int);
    env.add_filter("string", |v: Jinja| python_str(&v));
    env.add_filter("join", filters::join);
    env.add_filter("combine", filters::combine);
    env.add_filter("dict2items", filters::dict2items);
    env.add_filter("items2dict", filters::items2dict);
    env.add_filter("mandatory", filters::mandatory);
    env
}

/// The Python methods templates commonly call on dicts and strings.
fn python_method(
    _: &State,
    value: &Jinja,
    method: &str,
    args: &[Jinja],
) -> Result<Jinja, JinjaError> {
    let arg = |i: usize| args.get(i).and_then(|a| a.as_str()).unwrap_or_default();
    match (value.kind(), method, args.len()) {
        (ValueKind::Map, "keys", 0) => Ok(value.try_iter()?.collect()),
        (ValueKind::Map, "values", 0) => value.try_iter()?.map(|k| value.get_item(&k)).collect(),
        (ValueKind::Map, "items", 0) => value
            .try_iter()?
            .map(|k| Ok(Jinja::from(vec![k.clone(), value.get_item(&k)?])))
            .collect(),
        (ValueKind::Map, "get", 1 | 2) => {
            let found = value.get_item(&args[0])?;
            Ok(if found.is_undefined() {
                args.get(1).cloned().unwrap_or(Jinja::from(()))
            } else {
                found
            })
        }
        (ValueKind::String, _, _) => {
            let s = value.as_str().unwrap_or_default();
            match (method, args.len()) {
                ("lower", 0) => Ok(Jinja::from(s.to_lowercase())),
                ("upper", 0) => Ok(Jinja::from(s.to_uppercase())),
                ("strip", 0) => Ok(Jinja::from(s.trim())),
                ("startswith", 1) => Ok(Jinja::from(s.starts_with(arg(0)))),
                ("endswith", 1) => Ok(Jinja::from(s.ends_with(arg(0)))),
                ("replace", 2) => Ok(Jinja::from(s.replace(arg(0), arg(1)))),
                ("split", 0) => Ok(s.split_whitespace().map(Jinja::from).collect()),
                ("split", 1) if !arg(0).is_empty() => {
                    Ok(s.split(arg(0)).map(Jinja::from).collect())
                }
                _ => Err(refuse(Refusal::Unsupported(format!(".{method}()")))),
            }
        }
        _ => Err(refuse(Refusal::Unsupported(format!(".{method}()")))),
    }
}

/// The Ansible filters minijinja lacks or defines differently.
mod filters {
    use super::*;

    /// Ansible's `bool`: `yes/on/true/1` and `no/off/false/0` (any case),
    /// booleans and integers through their text, anything else equal to 1.
    pub fn bool(value: Jinja) -> Result<bool, JinjaError> {
        if value.is_undefined() {
            return Err(JinjaError::from(ErrorKind::UndefinedError));
        }
        let text = match value.kind() {
            ValueKind::String => Some(value.as_str().unwrap_or_default().to_lowercase()),
            ValueKind::Bool => Some(if value.is_true() { "true" } else { "false" }.to_owned()),
            ValueKind::Number if value.is_integer() => Some(value.to_string()),
            _ => None,
        };
        match text.as_deref() {
            Some("yes" | "on" | "true" | "1") => Ok(true),
            Some("no" | "off" | "false" | "0") => Ok(false),
            _ => Ok(f64::try_from(value).is_ok_and(|f| f == 1.0)),
        }
    }

    /// Jinja's `int(default=0, base=10)`: text as an integer in `base`, else
    /// as a float truncated, else `default`.
    pub fn int(
        value: Jinja,
        default: Option<Jinja>,
        base: Option<u32>,
    ) -> Result<Jinja, JinjaError> {
        if value.is_undefined() {
            return Err(JinjaError::from(ErrorKind::UndefinedError));
        }
        let default = default.unwrap_or_else(|| Jinja::from(0));
        let base = base.unwrap_or(10);
        Ok(match value.kind() {
            ValueKind::Bool => Jinja::from(i64::from(value.is_true())),
            ValueKind::Number => match i64::try_from(value.clone()) {
                Ok(i) => Jinja::from(i),
                Err(_) => f64::try_from(value)
                    .ok()
                    .filter(|f| f.is_finite())
                    .map_or(default, |f| Jinja::from(f.trunc() as i64)),
            },
            ValueKind::String => {
                let text = value.as_str().unwrap_or_default().trim();
                let digits = text.replace('_', "");
                let unsigned = digits.trim_start_matches(['+', '-']);
                let prefixed = match base {
                    16 => unsigned
                        .strip_prefix("0x")
                        .or_else(|| unsigned.strip_prefix("0X")),
                    8 => unsigned
                        .strip_prefix("0o")
                        .or_else(|| unsigned.strip_prefix("0O")),
                    2 => unsigned
                        .strip_prefix("0b")
                        .or_else(|| unsigned.strip_prefix("0B")),
                    _ => None,
                };
                let negative = digits.starts_with('-');
                let parsed = if (2..=36).contains(&base) {
                    i64::from_str_radix(prefixed.unwrap_or(unsigned), base)
                        .ok()
                        .filter(|_| !unsigned.starts_with(['+', '-']))
                        .map(|i| if negative { -i } else { i })
                } else {
                    None
                };
                match parsed {
                    Some(i) => Jinja::from(i),
                    None => text
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map_or(default, |f| Jinja::from(f.trunc() as i64)),
                }
            }
            _ => default,
        })
    }

    /// `join(separator='')` with Python's `str()` of each item.
    pub fn join(value: Jinja, separator: Option<String>) -> Result<String, JinjaError> {
        let items: Vec<String> = value.try_iter()?.map(|v| python_str(&v)).collect();
        Ok(items.join(separator.as_deref().unwrap_or("")))
    }

    fn map_entries(value: &Jinja, what: &str) -> Result<Vec<(Jinja, Jinja)>, JinjaError> {
        if value.kind() != ValueKind::Map {
            return Err(JinjaError::new(
                ErrorKind::InvalidOperation,
                format!("{what} expects a mapping, got {}", value.kind()),
            ));
        }
        value
            .try_iter()?
            .map(|k| {
                let v = value.get_item(&k)?;
                Ok((k, v))
            })
            .collect()
    }

    fn merge(
        low: &Jinja,
        high: &Jinja,
        recursive: bool,
        list_merge: &str,
    ) -> Result<Jinja, JinjaError> {
        let mut merged: indexmap::IndexMap<Jinja, Jinja> =
            map_entries(low, "combine")?.into_iter().collect();
        for (key, high_value) in map_entries(high, "combine")? {
            let new = match merged.get(&key) {
                Some(low_value)
                    if recursive
                        && low_value.kind() == ValueKind::Map
                        && high_value.kind() == ValueKind::Map =>
                {
                    merge(low_value, &high_value, recursive, list_merge)?
                }
                Some(low_value)
                    if low_value.kind() == ValueKind::Seq
                        && high_value.kind() == ValueKind::Seq =>
                {
                    let old: Vec<Jinja> = low_value.try_iter()?.collect();
                    let new: Vec<Jinja> = high_value.try_iter()?.collect();
                    match list_merge {
                        "replace" => high_value,
                        "keep" => low_value.clone(),
                        "append" => old.into_iter().chain(new).collect(),
                        "prepend" => new.into_iter().chain(old).collect(),
                        "append_rp" => old
                            .iter()
                            .filter(|v| !new.contains(v))
                            .cloned()
                            .chain(new.iter().cloned())
                            .collect(),
                        _ => new
                            .iter()
                            .cloned()
                            .chain(old.iter().filter(|v| !new.contains(v)).cloned())
                            .collect(),
                    }
                }
                _ => high_value,
            };
            merged.insert(key, new);
        }
        Ok(merged.into_iter().collect())
    }

    /// Ansible's `combine(*dicts, recursive=False, list_merge='replace')`;
    /// lists of mappings among the inputs are flattened.
    pub fn combine(value: Jinja, rest: Rest<Jinja>, kwargs: Kwargs) -> Result<Jinja, JinjaError> {
        let recursive: Option<bool> = kwargs.get("recursive")?;
        let list_merge: Option<String> = kwargs.get("list_merge")?;
        kwargs.assert_all_used()?;
        let list_merge = list_merge.unwrap_or_else(|| "replace".to_owned());
        if ![
            "replace",
            "keep",
            "append",
            "prepend",
            "append_rp",
            "prepend_rp",
        ]
        .contains(&list_merge.as_str())
        {
            return Err(JinjaError::new(
                ErrorKind::InvalidOperation,
                format!("combine: unknown list_merge `{list_merge}`"),
            ));
        }
        let mut dicts = Vec::new();
        for term in std::iter::once(value).chain(rest.0) {
            if term.kind() == ValueKind::Seq {
                dicts.extend(term.try_iter()?);
            } else {
                dicts.push(term);
            }
        }
        let mut dicts = dicts.into_iter();
        let Some(mut result) = dicts.next() else {
            return Ok(Jinja::from_iter(Vec::<(Jinja, Jinja)>::new()));
        };
        map_entries(&result, "combine")?;
        for high in dicts {
            result = merge(&result, &high, recursive.unwrap_or(false), &list_merge)?;
        }
        Ok(result)
    }

    /// Ansible's `dict2items(key_name='key', value_name='value')`.
    pub fn dict2items(value: Jinja, kwargs: Kwargs) -> Result<Jinja, JinjaError> {
        let key_name: Option<String> = kwargs.get("key_name")?;
        let value_name: Option<String> = kwargs.get("value_name")?;
        kwargs.assert_all_used()?;
        let key_name = key_name.unwrap_or_else(|| "key".to_owned());
        let value_name = value_name.unwrap_or_else(|| "value".to_owned());
        Ok(map_entries(&value, "dict2items")?
            .into_iter()
            .map(|(k, v)| {
                Jinja::from_iter([
                    (Jinja::from(key_name.as_str()), k),
                    (Jinja::from(value_name.as_str()), v),
                ])
            })
            .collect())
    }

    /// Ansible's `items2dict(key_name='key', value_name='value')`.
    pub fn items2dict(value: Jinja, kwargs: Kwargs) -> Result<Jinja, JinjaError> {
        let key_name: Option<String> = kwargs.get("key_name")?;
        let value_name: Option<String> = kwargs.get("value_name")?;
        kwargs.assert_all_used()?;
        let key_name = Jinja::from(key_name.unwrap_or_else(|| "key".to_owned()));
        let value_name = Jinja::from(value_name.unwrap_or_else(|| "value".to_owned()));
        let mut out = Vec::new();
        for item in value.try_iter()? {
            let key = item.get_item(&key_name)?;
            let val = item.get_item(&value_name)?;
            if key.is_undefined() || val.is_undefined() {
                return Err(JinjaError::new(
                    ErrorKind::InvalidOperation,
                    "items2dict: an item lacks the key or value field",
                ));
            }
            out.push((key, val));
        }
        Ok(Jinja::from_iter(out))
    }

    /// Ansible's `mandatory`: the value, or an error when it is undefined.
    pub fn mandatory(
        _state: &State,
        value: Jinja,
        _msg: Option<String>,
    ) -> Result<Jinja, JinjaError> {
        if value.is_undefined() {
            return Err(refuse(Refusal::Mandatory));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests;
