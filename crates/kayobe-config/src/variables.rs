//! Typed values out of Ansible variables: one reader every feature uses, so
//! a value means the same to each of them and every error names the file and
//! line it came from.
//!
//! The coercions are Ansible's, in the strict form a configuration checker
//! wants:
//!
//! | wanted | accepted | as Ansible |
//! |---|---|---|
//! | text | strings; integers, floats and booleans as Python's `str()` prints them (`True`, `1.5`) | `{{ var }}` in a template |
//! | boolean | booleans; `yes`/`on`/`true`/`1` and `no`/`off`/`false`/`0` in any case; the integers 1 and 0 | the `bool` filter, except that anything else is an error rather than false |
//! | integer | integers; text holding one (surrounding white space ignored) | the `int` filter, except that anything else is an error rather than 0 |
//! | list of text | a list, each item text as above; a single string is a list of one | |
//!
//! `null` and an undefined variable both read as "not set". A value still
//! vault-encrypted is an error saying the vault password is needed.

use crate::locate::{Place, VariableFiles, VariablePath};
use crate::template::{Templar, TemplateError};
use crate::value::{Value, python_float_repr};
use crate::vault::NoVaultPassword;

/// Why a variable could not be read as the type wanted.
#[derive(Debug, thiserror::Error)]
pub enum VariableError {
    /// The variable's Jinja could not be evaluated.
    #[error("{place}: `{variable}`{owner} cannot be evaluated: {source}")]
    Template {
        /// Where the variable is written.
        place: Place,
        /// The variable.
        variable: String,
        /// ` of host NAME`, or nothing.
        owner: Owner,
        /// Why.
        source: Box<TemplateError>,
    },
    /// A required variable is not set.
    #[error("{place}: `{path}`{owner} is not defined")]
    Missing {
        /// The file of the group where it belongs.
        place: Place,
        /// The variable, with the path inside it.
        path: String,
        /// ` of host NAME`, or nothing.
        owner: Owner,
    },
    /// A value is not of the type wanted.
    #[error("{place}: `{path}`{owner} must be {expected}, not {found}")]
    WrongType {
        /// Where it is written.
        place: Place,
        /// The variable, with the path inside it.
        path: String,
        /// ` of host NAME`, or nothing.
        owner: Owner,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A value is still vault-encrypted: it was read without the vault password.
    #[error("{place}: `{path}`{owner} is vault-encrypted")]
    Vaulted {
        /// Where it is written.
        place: Place,
        /// The variable, with the path inside it.
        path: String,
        /// ` of host NAME`, or nothing.
        owner: Owner,
        /// The password that is missing.
        source: NoVaultPassword,
    },
}

impl VariableError {
    /// Where the value is written (or belongs).
    pub fn place(&self) -> &Place {
        match self {
            VariableError::Template { place, .. }
            | VariableError::Missing { place, .. }
            | VariableError::WrongType { place, .. }
            | VariableError::Vaulted { place, .. } => place,
        }
    }
}

/// Whose variables an error speaks of: ` of host NAME`, or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner(Option<String>);

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(owner) => write!(f, " of {owner}"),
            None => Ok(()),
        }
    }
}

/// Reads typed values out of one set of variables, evaluated with their
/// Jinja, and says where a wrong one is written.
pub struct VariableReader {
    templar: Templar,
    files: VariableFiles,
    owner: Owner,
}

impl VariableReader {
    /// Reads the variables `templar` evaluates; `files` say where they are written.
    pub fn new(templar: Templar, files: VariableFiles) -> Self {
        VariableReader {
            templar,
            files,
            owner: Owner::default(),
        }
    }

    /// Errors name whose variables these are, e.g. `runner host runner01`.
    pub fn owned_by(mut self, owner: impl Into<String>) -> Self {
        self.owner = Owner(Some(owner.into()));
        self
    }

    /// The evaluator, for values that need more than the types below.
    pub fn templar(&self) -> &Templar {
        &self.templar
    }

    /// Where `path` is written, or the file it belongs in.
    pub fn place(&self, path: &VariablePath) -> Place {
        self.files.place(path)
    }

    /// The variable `path` starts with, evaluated; `None` when it is not
    /// defined, `null` or `omit`.
    pub fn get(&self, path: &VariablePath) -> Result<Option<Value>, VariableError> {
        let name = path.variable();
        if !self.templar.contains(name) {
            return Ok(None);
        }
        match self.templar.variable(name) {
            Ok(Some(Value::Null) | None) => Ok(None),
            Ok(value) => Ok(value),
            Err(source) => Err(VariableError::Template {
                place: self.place(path),
                variable: name.to_owned(),
                owner: self.owner.clone(),
                source: Box::new(source),
            }),
        }
    }

    /// The variable `path` names, which must be set.
    pub fn required(&self, path: &VariablePath) -> Result<Value, VariableError> {
        self.get(path)?.ok_or_else(|| VariableError::Missing {
            place: self.place(path),
            path: path.to_string(),
            owner: self.owner.clone(),
        })
    }

    /// `value` (found at `path`) as text.
    pub fn text(&self, path: &VariablePath, value: &Value) -> Result<String, VariableError> {
        value
            .to_ansible_text()
            .ok_or_else(|| self.wrong(path, value, "a string"))
    }

    /// `value` (found at `path`) as a boolean.
    pub fn bool(&self, path: &VariablePath, value: &Value) -> Result<bool, VariableError> {
        value
            .to_ansible_bool()
            .ok_or_else(|| self.wrong(path, value, "true or false"))
    }

    /// `value` (found at `path`) as an integer.
    pub fn int(&self, path: &VariablePath, value: &Value) -> Result<i64, VariableError> {
        value
            .to_ansible_int()
            .ok_or_else(|| self.wrong(path, value, "an integer"))
    }

    /// `value` (found at `path`) as a list of text; a single string is a
    /// list of one, `null` an empty list.
    pub fn texts(&self, path: &VariablePath, value: &Value) -> Result<Vec<String>, VariableError> {
        match value {
            Value::Null => Ok(Vec::new()),
            Value::String(_) | Value::Unsafe(_) => Ok(vec![self.text(path, value)?]),
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| self.text(&path.index(index), item))
                .collect(),
            _ => Err(self.wrong(path, value, "a list of strings")),
        }
    }

    /// The error for `value` at `path` not being `expected`.
    pub fn wrong(
        &self,
        path: &VariablePath,
        value: &Value,
        expected: &'static str,
    ) -> VariableError {
        let place = self.place(path);
        let path = path.to_string();
        let owner = self.owner.clone();
        match value {
            Value::Vault(_) => VariableError::Vaulted {
                place,
                path,
                owner,
                source: NoVaultPassword,
            },
            _ => VariableError::WrongType {
                place,
                path,
                owner,
                expected,
                found: value.kind(),
            },
        }
    }
}

impl Value {
    /// What the value is, for messages: `a string`, `a list`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) | Value::Unsafe(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Vault(_) => "a vaulted value",
        }
    }

    /// The text Ansible makes of a scalar (Python's `str()`): strings as they
    /// are, `True`/`False`, integers, floats as Python prints them. `None`
    /// for `null`, lists, maps and vaulted values.
    pub fn to_ansible_text(&self) -> Option<String> {
        match self {
            Value::String(text) | Value::Unsafe(text) => Some(text.clone()),
            Value::Bool(flag) => Some(if *flag { "True" } else { "False" }.to_owned()),
            Value::Int(number) => Some(number.to_string()),
            Value::Float(number) => Some(python_float_repr(*number)),
            Value::Null | Value::List(_) | Value::Map(_) | Value::Vault(_) => None,
        }
    }

    /// The boolean Ansible's `bool` filter makes of the value, when it is one
    /// of the words it knows (`yes`, `on`, `true`, `1`, `no`, `off`, `false`,
    /// `0`, any case), a boolean, or the integer 1 or 0; else `None`.
    pub fn to_ansible_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(flag) => Some(*flag),
            Value::Int(1) => Some(true),
            Value::Int(0) => Some(false),
            Value::String(text) | Value::Unsafe(text) => match text.to_ascii_lowercase().as_str() {
                "yes" | "on" | "true" | "1" => Some(true),
                "no" | "off" | "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The integer the value is, or the text holds (white space around it
    /// ignored); else `None`.
    pub fn to_ansible_int(&self) -> Option<i64> {
        match self {
            Value::Int(number) => Some(*number),
            Value::String(text) | Value::Unsafe(text) => text.trim().parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Map;

    #[test]
    fn text_is_what_a_template_prints() {
        let cases = [
            (Value::from("x"), Some("x")),
            (Value::Bool(true), Some("True")),
            (Value::Bool(false), Some("False")),
            (Value::Int(-3), Some("-3")),
            (Value::Float(1.0), Some("1.0")),
            (Value::Float(0.5), Some("0.5")),
            (Value::Null, None),
            (Value::List(vec![]), None),
            (Value::Vault("$ANSIBLE_VAULT;1.1;AES256".into()), None),
        ];
        for (value, text) in cases {
            assert_eq!(value.to_ansible_text().as_deref(), text, "{value:?}");
        }
    }

    #[test]
    fn booleans_are_the_bool_filters_words_and_nothing_else() {
        for word in ["yes", "On", "TRUE", "1"] {
            assert_eq!(Value::from(word).to_ansible_bool(), Some(true), "{word}");
        }
        for word in ["no", "Off", "false", "0"] {
            assert_eq!(Value::from(word).to_ansible_bool(), Some(false), "{word}");
        }
        assert_eq!(Value::Int(1).to_ansible_bool(), Some(true));
        assert_eq!(Value::Int(0).to_ansible_bool(), Some(false));
        for value in [
            Value::from("ture"),
            Value::from(""),
            Value::Int(2),
            Value::Null,
        ] {
            assert_eq!(value.to_ansible_bool(), None, "{value:?}");
        }
    }

    #[test]
    fn integers_come_from_numbers_and_their_text() {
        assert_eq!(Value::Int(7).to_ansible_int(), Some(7));
        assert_eq!(Value::from(" 42 ").to_ansible_int(), Some(42));
        assert_eq!(Value::from("4.2").to_ansible_int(), None);
        assert_eq!(Value::Bool(true).to_ansible_int(), None);
    }

    fn reader(vars: &[(&str, Value)]) -> VariableReader {
        let vars: Map = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        VariableReader::new(Templar::new(&vars), VariableFiles::default())
    }

    #[test]
    fn errors_name_the_variable_its_owner_and_both_types() {
        let reader = reader(&[("labels", Value::List(vec![Value::Map(Map::new())]))])
            .owned_by("runner host r1");
        let path = VariablePath::new("labels");
        let value = reader.required(&path).unwrap();
        let error = reader.texts(&path, &value).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the host's variables: `labels[0]` of runner host r1 must be a string, not a mapping"
        );
        let missing = reader.required(&VariablePath::new("absent")).unwrap_err();
        assert!(
            missing
                .to_string()
                .ends_with("`absent` of runner host r1 is not defined"),
            "{missing}"
        );
    }

    #[test]
    fn null_and_omit_are_not_set_and_templates_are_evaluated() {
        let reader = reader(&[
            ("unset", Value::Null),
            ("name", Value::from("{{ 'a' ~ 'b' }}")),
        ]);
        assert_eq!(reader.get(&VariablePath::new("unset")).unwrap(), None);
        assert_eq!(reader.get(&VariablePath::new("undefined")).unwrap(), None);
        let path = VariablePath::new("name");
        let value = reader.required(&path).unwrap();
        assert_eq!(reader.text(&path, &value).unwrap(), "ab");
    }

    #[test]
    fn a_vaulted_value_asks_for_the_password() {
        let reader = reader(&[("token", Value::Vault("$ANSIBLE_VAULT;1.1;AES256".into()))]);
        let path = VariablePath::new("token");
        let value = reader.required(&path).unwrap();
        let error = reader.text(&path, &value).unwrap_err();
        assert!(matches!(error, VariableError::Vaulted { .. }), "{error}");
    }
}
