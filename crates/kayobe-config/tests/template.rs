//! `Templar` against Ansible's own templar (ansible-core 2.19 from the tools
//! venv) on a corpus of expressions, in one Python process; and a property:
//! values without templates resolve to themselves.

use std::io::Write as _;
use std::process::{Command, Stdio};

use kayobe_config::template::{Templar, TemplateError};
use kayobe_config::value::{Map, Value};
use proptest::prelude::*;

/// Templates each value of `values` with Ansible's templar over `vars`
/// (all strings trusted as templates, as Ansible trusts its YAML files).
/// Each answer is `{"ok": value}`, `{"omit": true}` or `{"error": type}`.
const ORACLE: &str = r#"
import json, sys
from ansible.errors import AnsibleValueOmittedError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

def trust(v):
    if isinstance(v, str):
        return trust_as_template(v)
    if isinstance(v, list):
        return [trust(x) for x in v]
    if isinstance(v, dict):
        return {k: trust(x) for k, x in v.items()}
    return v

request = json.load(sys.stdin)
templar = Templar(loader=DataLoader(), variables=trust(request["vars"]))
answers = []
for value in request["values"]:
    try:
        answers.append({"ok": templar.template(trust(value))})
    except AnsibleValueOmittedError:
        answers.append({"omit": True})
    except Exception as e:
        answers.append({"error": type(e).__name__, "message": str(e).splitlines()[0]})
json.dump(answers, sys.stdout)
"#;

fn ansible_templar(
    vars: &serde_json::Value,
    values: &[serde_json::Value],
) -> Option<Vec<serde_json::Value>> {
    let python = kayobe_automation_tests::tool("python")?;
    let mut child = Command::new(python)
        .args(["-c", ORACLE])
        .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
        .env("ANSIBLE_LOCAL_TEMP", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    let request = serde_json::json!({"vars": vars, "values": values});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "oracle failed");
    Some(serde_json::from_slice(&output.stdout).expect("oracle JSON"))
}

fn corpus_vars() -> serde_json::Value {
    serde_json::json!({
        "a": "x",
        "b": "{{ a }}",
        "n": 3,
        "f": 2.5,
        "t": true,
        "none": null,
        "empty": "",
        "l": [1, "{{ a }}", "b"],
        "m": {"k": "{{ b }}", "o": "{{ zz | default(omit) }}", "num": 1},
        "m2": {"k": "other", "z": [1], "n": {"deep": 1}},
        "m3": {"n": {"deeper": 2}, "z": [2]},
        "yesno": "yes",
        "items": [{"key": "a", "value": 1}, {"key": "b", "value": 2}],
        "nested": "{{ m }}",
        "dup": ["a", "b", "a", "c"],
        "s": "  Padded Text  ",
        "cnt": "12",
        "chain": "{{ b ~ '-' ~ n }}",
        "via_undefined": "{{ not_there }}",
        "cyc_a": "{{ cyc_b }}",
        "cyc_b": "x{{ cyc_a }}",
    })
}

const CORPUS: &[&str] = &[
    "{{ a }}",
    "{{ b }}",
    "{{ chain }}",
    "{{ a ~ '-' ~ b }}",
    "{{ a ~ n }}",
    "{{ l }}",
    "{{ m }}",
    "{{ nested }}",
    "{{ n }}",
    "{{ n + 1 }}",
    "{{ f }}",
    "{{ f * 2 }}",
    "{{ n / 2 }}",
    "{{ n // 2 }}",
    "{{ t }}",
    "{{ none }}",
    "{{ zz | default(omit) }}",
    "{{ zz | default('d') }}",
    "{{ zz | d('d') }}",
    "{{ zz | default }}",
    "{{ empty | default('e') }}",
    "{{ empty | default('e', true) }}",
    "{{ via_undefined | default('fallback') }}",
    "{{ yesno | bool }}",
    "{{ 'Y' | bool }}",
    "{{ 'TRUE' | bool }}",
    "{{ 'off' | bool }}",
    "{{ 0 | bool }}",
    "{{ 1 | bool }}",
    "{{ 2 | bool }}",
    "{{ none | bool }}",
    "{{ t | bool }}",
    "{{ a | upper }}",
    "{{ 'ABC' | lower }}",
    "{{ l | join(',') }}",
    "{{ l | join }}",
    "{{ [t, none, 2] | join('-') }}",
    "{{ m2 | combine(m3) }}",
    "{{ m2 | combine(m3, recursive=true) }}",
    "{{ m2 | combine(m3, list_merge='append') }}",
    "{{ m2 | combine(m3, recursive=true, list_merge='prepend') }}",
    "{{ [m2, m3] | combine }}",
    "{{ m2 | combine({'k': 'new'}, {'x': 1}) }}",
    "{{ m2 | dict2items }}",
    "{{ m2 | dict2items(key_name='k', value_name='v') }}",
    "{{ items | items2dict }}",
    "{{ cnt | int }}",
    "{{ 'x' | int }}",
    "{{ '3.9' | int }}",
    "{{ ' 7 ' | int }}",
    "{{ f | int }}",
    "{{ t | int }}",
    "{{ n | string }}",
    "{{ t | string }}",
    "{{ none | string }}",
    "{{ l | length }}",
    "{{ a | length }}",
    "{{ m2 | length }}",
    "{{ s | trim }}",
    "{{ s | replace('Text', 'T') }}",
    "{{ m2 | list }}",
    "{{ a | list }}",
    "{{ dup | unique }}",
    "{{ dup | unique | list }}",
    "{{ a | mandatory }}",
    "{{ zz | mandatory }}",
    "{{ zz is defined }}",
    "{{ a is defined }}",
    "{{ zz is undefined }}",
    "{{ none is none }}",
    "{{ a is none }}",
    "{{ undefined_thing }}",
    "{{ via_undefined }}",
    "{{ m.k }}",
    "{{ m['num'] }}",
    "{{ m.missing }}",
    "{{ m.missing | default(1) }}",
    "{{ l[1] }}",
    "{{ l | first }}",
    "{{ l | last }}",
    "{{ 'a' if t else 'b' }}",
    "{{ (m2 | dict2items)[0].key }}",
    "{{ m2.keys() | list }}",
    "prefix {{ a }} suffix",
    "{{ a }}\n",
    "  {{ a }}",
    "x{{ t }}{{ none }}",
    "{{ n }}{{ n }}",
    "list: {{ l }}",
    "map: {{ m2 }}",
    "float: {{ f }}",
    "{{ \"quote's\" }} and {{ [\"it's\", 'x', 'a\"b'] }}",
    "{{ m2.items() | list }}",
    "{{ m2.get('k') }} {{ m2.get('nope', 'dflt') }}",
    "{{ a.upper() ~ s.strip() }}",
    "{% if t %}yes{% else %}no{% endif %}",
    "{# comment #}{{ a }}",
    "{{ a + }}",
    "{{ omit }}",
    "a{{ omit }}",
    "{{ [1, zz | default(omit), 2] }}",
    "{{ {'k': zz | default(omit), 'j': 1} }}",
    "{{ n > 2 and t }}",
    "{{ a in l }}",
    "{{ l | map('upper') | list }}",
    "{{ l | select('string') | list }}",
    "{{ a ~ t }}",
    "{{ none ~ 'x' }}",
    "{{ ['a', 'A'] | unique }}",
    "{{ [3, 1] | sort }}",
    "{{ range(3) | list }}",
    "{{ 1.0 }}",
    "{{ 10 / 5 }}",
    "{{ n | float }}",
    "{{ l | default([]) | length }}",
    "{{ 'x' * 3 }}",
    "{{ '1' }}",
    "{{a}}",
    "{{- a -}}",
    "{% set x = 2 %}{{ x }}",
    "{{ l + [4] }}",
    "{{ none | default('d') }}",
    "{{ none | default('d', true) }}",
    "{{ m2 | combine(m3) | dict2items | length }}",
    "{{ {'b': 1, 'a': 2} }}",
    "{{ dict(x=1) }}",
    "{{ a ~ '\n' }}",
    "line1\n{{ a }}\nline3\n",
    "{% if t %}{{ l }}{% endif %}",
    "{% if t %} {{ l }}{% endif %}",
    "{% for i in [1] %}{{ i }}{% endfor %}",
    "{{ via_undefined is defined }}",
    "{{ cyc_a }}",
    "{{ cyc_b | default('d') }}",
    "no template here",
    "{{ '{{ a }}' }}",
];

/// Templates Ansible evaluates and the reader refuses by design (a clear
/// `Unsupported` error, never a guess).
const UNSUPPORTED: &[&str] = &[
    "{{ '%s-%d' % (a, n) }}",
    "{{ m2 | to_json }}",
    "{{ a | regex_replace('x', 'y') }}",
    "{{ m2 | to_nice_yaml }}",
];

#[test]
fn corpus_matches_ansible_templar() {
    let vars_json = corpus_vars();
    let mut values: Vec<serde_json::Value> = CORPUS.iter().map(|s| serde_json::json!(s)).collect();
    values.push(serde_json::json!({"k": "{{ zz | default(omit) }}", "l": ["{{ a }}", "{{ omit }}"], "n": 1}));
    values.push(serde_json::json!(["{{ b }}", 2, null, {"x": "{{ n }}"}]));
    let corpus_len = values.len();
    values.extend(UNSUPPORTED.iter().map(|s| serde_json::json!(s)));
    // One Python process for everything.
    let Some(mut answers) = ansible_templar(&vars_json, &values) else {
        return;
    };
    let answers_unsupported = answers.split_off(corpus_len);
    let unsupported = values.split_off(corpus_len);
    let Value::Map(vars) = Value::from_json(&vars_json) else {
        unreachable!()
    };
    let templar = Templar::new(&vars);
    let mut mismatches = Vec::new();
    for (value, answer) in unsupported.iter().zip(answers_unsupported) {
        assert!(
            answer.get("ok").is_some(),
            "Ansible evaluates {value}: {answer}"
        );
        let ours = templar.resolve(&Value::from_json(value));
        assert!(
            matches!(ours, Err(TemplateError::Unsupported { .. })),
            "{value}: {ours:?}"
        );
    }
    for (value, answer) in values.iter().zip(answers) {
        let ours = templar.resolve(&Value::from_json(value));
        let agrees = match (&ours, &answer) {
            (Ok(Some(v)), answer) if answer.get("ok").is_some() => v.to_json() == answer["ok"],
            (Ok(None), answer) => answer.get("omit").is_some(),
            (Err(e), answer) if answer.get("error").is_some() => {
                let kind = answer["error"].as_str().unwrap_or_default();
                match e {
                    TemplateError::Undefined { .. } => {
                        kind.contains("Undefined")
                            || answer["message"]
                                .as_str()
                                .unwrap_or_default()
                                .contains("Mandatory variable")
                    }
                    TemplateError::Syntax { .. } => kind.contains("Syntax"),
                    _ => true,
                }
            }
            _ => false,
        };
        if !agrees {
            mismatches.push(format!("{value}: ours {ours:?}, Ansible {answer}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "mismatches:\n{}",
        mismatches.join("\n")
    );
}

/// A value with no `{{`, `{%` or `{#` anywhere.
fn plain_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e9f64..1e9).prop_map(Value::Float),
        "[^{]*".prop_map(Value::String),
        "\\PC*".prop_map(Value::Unsafe),
        "[A-Za-z0-9+/\n]*".prop_map(Value::Vault),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::vec(("[a-z{}]{0,4}", inner), 0..4)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>())),
        ]
    })
}

proptest! {
    #[test]
    fn values_without_templates_resolve_to_themselves(value in plain_value()) {
        let templar = Templar::new(&Map::new());
        prop_assert_eq!(templar.resolve(&value), Ok(Some(value.clone())));
    }

    #[test]
    fn resolving_arbitrary_text_never_panics(text in "(\\{\\{|\\}\\}|\\{%|%\\}|[a-z|'\"() ~+.,\\[\\]-]){0,24}") {
        let mut vars = Map::new();
        vars.insert("a".into(), Value::from("x"));
        let _ = Templar::new(&vars).resolve(&Value::from(text));
    }
}
