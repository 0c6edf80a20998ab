//! Unit tests of the Ansible-style template evaluation: native values,
//! lazy variables, `omit` and the filters.

use super::*;

fn vars(json: serde_json::Value) -> Map {
    match Value::from_json(&json) {
        Value::Map(map) => map,
        other => panic!("not a map: {other:?}"),
    }
}

fn eval(vars_json: serde_json::Value, template: &str) -> Result<Option<Value>, TemplateError> {
    Templar::new(&vars(vars_json)).resolve(&Value::from(template))
}

fn ok(vars_json: serde_json::Value, template: &str) -> serde_json::Value {
    match eval(vars_json, template) {
        Ok(Some(value)) => value.to_json(),
        other => panic!("{template}: {other:?}"),
    }
}

#[test]
fn single_expression_is_native_and_text_is_string() {
    let v = serde_json::json!({"l": [1, "{{ s }}"], "s": "x", "t": true, "n": null, "i": 3});
    assert_eq!(ok(v.clone(), "{{ l }}"), serde_json::json!([1, "x"]));
    assert_eq!(ok(v.clone(), "{{ i + 1 }}"), serde_json::json!(4));
    assert_eq!(ok(v.clone(), "{{ t }}"), serde_json::json!(true));
    assert_eq!(ok(v.clone(), "{{ n }}"), serde_json::json!(null));
    assert_eq!(ok(v.clone(), "x{{ t }}{{ n }}"), serde_json::json!("xTrue"));
    assert_eq!(ok(v.clone(), "{{ i }}{{ i }}"), serde_json::json!("33"));
    assert_eq!(
        ok(v.clone(), "v={{ {'a': [1, 'b', none]} }}"),
        serde_json::json!("v={'a': [1, 'b', None]}")
    );
    assert_eq!(ok(v, "plain text"), serde_json::json!("plain text"));
}

#[test]
fn omit_removes_keys_elements_and_whole_values() {
    let templar = Templar::new(&vars(serde_json::json!({"a": 1})));
    let value = Value::from_json(&serde_json::json!({
        "keep": "{{ a }}",
        "drop": "{{ missing | default(omit) }}",
        "list": [1, "{{ omit }}", 2],
    }));
    assert_eq!(
        templar.resolve(&value).unwrap().unwrap().to_json(),
        serde_json::json!({"keep": 1, "list": [1, 2]})
    );
    assert_eq!(
        templar.resolve(&Value::from("{{ nope | default(omit) }}")),
        Ok(None)
    );
    assert_eq!(
        templar.resolve(&Value::from("a{{ omit }}")),
        Ok(Some(Value::from("a")))
    );
}

#[test]
fn unsafe_and_vault_pass_through() {
    let mut map = Map::new();
    map.insert(
        "secret".into(),
        Value::Vault("$ANSIBLE_VAULT;1.1;AES256\n61".into()),
    );
    map.insert("raw".into(), Value::Unsafe("{{ not templated }}".into()));
    let templar = Templar::new(&map);
    assert_eq!(
        templar.resolve(&Value::Unsafe("{{ x }}".into())),
        Ok(Some(Value::Unsafe("{{ x }}".into())))
    );
    assert_eq!(
        templar.resolve(&Value::from("{{ raw }}")),
        Ok(Some(Value::from("{{ not templated }}")))
    );
    assert_eq!(
        templar.resolve(&Value::from("{{ secret }}")),
        Ok(Some(map["secret"].clone()))
    );
    assert!(matches!(
        templar.resolve(&Value::from("pw={{ secret }}")),
        Err(TemplateError::VaultInText { .. })
    ));
}

#[test]
fn variables_resolve_lazily_and_cycles_are_errors() {
    let templar = Templar::new(&vars(serde_json::json!({
        "a": "{{ b }}-{{ c }}", "b": "{{ c | upper }}", "c": "x",
        "p": "{{ q }}", "q": "{{ r }}", "r": "{{ p }}",
    })));
    assert_eq!(templar.variable("a"), Ok(Some(Value::from("X-x"))));
    assert_eq!(
        templar.variable("p"),
        Err(TemplateError::Cycle {
            chain: vec!["p".into(), "q".into(), "r".into(), "p".into()]
        })
    );
    assert!(matches!(
        templar.variable("zz"),
        Err(TemplateError::Undefined { .. })
    ));
}

#[test]
fn undefined_names_the_variable_and_expression() {
    let error = eval(serde_json::json!({"a": 1}), "{{ a + nope }}").unwrap_err();
    assert_eq!(
        error,
        TemplateError::Undefined {
            names: vec!["nope".into()],
            expression: "{{ a + nope }}".into()
        }
    );
    assert!(error.to_string().contains("`nope`"));
    // Undefined inside a referenced variable: reported where it is.
    let error = eval(serde_json::json!({"a": "{{ inner }}"}), "x {{ a }}").unwrap_err();
    assert_eq!(
        error,
        TemplateError::Undefined {
            names: vec!["inner".into()],
            expression: "{{ inner }}".into()
        }
    );
    // …but `default` still applies to it, as in Ansible.
    assert_eq!(
        ok(
            serde_json::json!({"a": "{{ inner }}"}),
            "{{ a | default('d') }}"
        ),
        serde_json::json!("d")
    );
    assert!(matches!(
        eval(serde_json::json!({}), "{{ missing | mandatory }}"),
        Err(TemplateError::Undefined { names, .. }) if names == ["missing"]
    ));
}

#[test]
fn unsupported_and_syntax_errors_name_what_and_where() {
    let cases = [
        ("{{ lookup('file', 'x') }}", "lookup('file')"),
        ("{{ query('env', 'HOME') }}", "query('env')"),
        ("{{ a | to_nice_yaml }}", "to_nice_yaml"),
        ("{{ a | regex_replace('a', 'b') }}", "regex_replace"),
        ("{{ a is match('x') }}", "match"),
        ("{{ now() }}", "now"),
    ];
    for (template, name) in cases {
        match eval(serde_json::json!({"a": "x"}), template) {
            Err(TemplateError::Unsupported {
                name: got,
                expression,
            }) => {
                assert_eq!(got, name, "{template}");
                assert_eq!(expression, template);
            }
            other => panic!("{template}: {other:?}"),
        }
    }
    assert!(matches!(
        eval(serde_json::json!({}), "{{ a + }}"),
        Err(TemplateError::Syntax { expression, .. }) if expression == "{{ a + }}"
    ));
}

#[test]
fn ansible_filters() {
    let v = serde_json::json!({
        "d1": {"a": 1, "n": {"x": 1, "l": [1]}},
        "d2": {"b": 2, "n": {"y": 2, "l": [2]}},
        "items": [{"key": "k", "value": "v"}],
    });
    assert_eq!(
        ok(v.clone(), "{{ d1 | combine(d2) }}"),
        serde_json::json!({"a": 1, "n": {"y": 2, "l": [2]}, "b": 2})
    );
    assert_eq!(
        ok(
            v.clone(),
            "{{ d1 | combine(d2, recursive=true, list_merge='append') }}"
        ),
        serde_json::json!({"a": 1, "n": {"x": 1, "l": [1, 2], "y": 2}, "b": 2})
    );
    assert_eq!(
        ok(v.clone(), "{{ [d1, d2] | combine }}"),
        serde_json::json!({"a": 1, "n": {"y": 2, "l": [2]}, "b": 2})
    );
    assert_eq!(
        ok(
            v.clone(),
            "{{ d2 | dict2items | map(attribute='key') | list }}"
        ),
        serde_json::json!(["b", "n"])
    );
    assert_eq!(
        ok(v.clone(), "{{ items | items2dict }}"),
        serde_json::json!({"k": "v"})
    );
    for (text, expected) in [
        ("yes", true),
        ("On", true),
        ("1", true),
        ("y", false),
        ("off", false),
    ] {
        assert_eq!(
            ok(v.clone(), &format!("{{{{ '{text}' | bool }}}}")),
            serde_json::json!(expected),
            "{text}"
        );
    }
    assert_eq!(ok(v.clone(), "{{ ' 42 ' | int }}"), serde_json::json!(42));
    assert_eq!(ok(v.clone(), "{{ 'x' | int }}"), serde_json::json!(0));
    assert_eq!(ok(v.clone(), "{{ '4.7' | int }}"), serde_json::json!(4));
    assert_eq!(
        ok(v.clone(), "{{ true | string }}"),
        serde_json::json!("True")
    );
    assert_eq!(
        ok(v.clone(), "{{ [1, true] | join(',') }}"),
        serde_json::json!("1,True")
    );
    assert_eq!(
        ok(v.clone(), "{{ '' | default('e', true) }}"),
        serde_json::json!("e")
    );
    assert_eq!(ok(v, "{{ nope is defined }}"), serde_json::json!(false));
}

#[test]
fn vault_in_concatenation_is_an_error_not_text() {
    let mut map = Map::new();
    map.insert(
        "secret".into(),
        Value::Vault("$ANSIBLE_VAULT;1.1;AES256\n61".into()),
    );
    map.insert("uses".into(), Value::from("pw={{ secret }}"));
    let templar = Templar::new(&map);
    for template in [
        "{{ 'pw=' ~ secret }}",
        "{{ secret | string }}",
        "{{ uses }}",
        "{{ [secret] | join(',') }}",
    ] {
        let result = templar.resolve(&Value::from(template));
        assert!(
            matches!(result, Err(TemplateError::VaultInText { .. })),
            "{template}: {result:?}"
        );
    }
    assert_eq!(
        templar.resolve(&Value::from("{{ secret | default('x') }}")),
        Ok(Some(map["secret"].clone()))
    );
}
