//! `.automation.conf/config.sh` read without bash, checked against bash itself:
//! the example repository's file per environment, and generated scripts within
//! the supported subset.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use kayobe_config::automation_conf::{AutomationConf, AutomationConfError, ConfContext, ConfValue};
use proptest::prelude::*;

/// A bash variable as bash reports it after sourcing a script.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BashValue {
    Unset,
    Set(ConfValue),
}

/// One script for bash: its text, the environment it runs with, and the
/// variables to report.
struct OracleCase<'a> {
    script: &'a str,
    env: &'a [(&'a str, &'a str)],
    names: &'a [&'a str],
}

/// Whether bash can run here (missing is a skip on a developer machine, a
/// failure under CI).
fn have_bash() -> bool {
    let found = Command::new("bash")
        .args(["-c", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "bash is required in CI"
        );
        eprintln!("skipping: bash not found");
    }
    found
}

/// Sources every case's script in its own subshell of ONE bash process and
/// returns, per case, the values of its names, or bash's complaints when the
/// subshell stopped early (a syntax error bash refuses).
fn bash_oracle(cases: &[OracleCase<'_>]) -> Vec<Result<Vec<BashValue>, String>> {
    bash_oracle_in(cases, Path::new("."))
}

/// [`bash_oracle`] with bash running in `cwd` (for file tests).
fn bash_oracle_in(cases: &[OracleCase<'_>], cwd: &Path) -> Vec<Result<Vec<BashValue>, String>> {
    let dir = tempfile::tempdir().unwrap();
    // Each value is printed NUL-separated: S name value | A name count items… | U name;
    // each case ends with `X`.
    let mut driver = String::from(
        r#"__dump() {
  local __n __d
  for __n in "$@"; do
    if ! __d=$(declare -p "$__n" 2>/dev/null); then printf 'U\0%s\0' "$__n"; continue; fi
    __d=${__d#declare -}; __d=${__d%% *}
    if [[ $__d == *a* ]]; then
      eval "__vals=(\"\${${__n}[@]}\")"
      printf 'A\0%s\0%s\0' "$__n" "${#__vals[@]}"
      if (( ${#__vals[@]} )); then printf '%s\0' "${__vals[@]}"; fi
    elif [[ -v $__n ]]; then
      printf 'S\0%s\0%s\0' "$__n" "${!__n}"
    else
      # `export NAME` of an unset variable declares it without a value.
      printf 'U\0%s\0' "$__n"
    fi
  done
}
"#,
    );
    for (i, case) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.sh"));
        std::fs::write(&path, case.script).unwrap();
        driver.push_str("( ");
        for (name, value) in case.env {
            let quoted = value.replace('\'', r"'\''");
            write!(driver, "export {name}='{quoted}'; ").unwrap();
        }
        writeln!(
            driver,
            "echo '@@case {i}' >&2; source '{}'; __dump {} ); printf 'X\\0'",
            path.display(),
            case.names.join(" ")
        )
        .unwrap();
    }
    let output = Command::new("bash")
        .current_dir(cwd)
        .env_clear()
        .args(["--noprofile", "--norc", "-c", &driver])
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let complaints = |i: usize| {
        let start = stderr.find(&format!("@@case {i}\n")).unwrap_or(0);
        let rest = &stderr[start..];
        let end = rest[1..].find("@@case").map_or(rest.len(), |e| e + 1);
        rest[..end].to_owned()
    };
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut fields = stdout.split('\0').peekable();
    let mut results = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut values = Vec::new();
        for name in case.names {
            if fields.peek() == Some(&"X") {
                break;
            }
            let kind = fields.next().unwrap();
            assert_eq!(fields.next(), Some(*name), "bash output out of step");
            values.push(match kind {
                "U" => BashValue::Unset,
                "S" => BashValue::Set(ConfValue::Scalar(fields.next().unwrap().to_owned())),
                "A" => {
                    let count: usize = fields.next().unwrap().parse().unwrap();
                    let items = (0..count)
                        .map(|_| fields.next().unwrap().to_owned())
                        .collect();
                    BashValue::Set(ConfValue::Array(items))
                }
                other => panic!("unexpected bash output kind {other:?}"),
            });
        }
        assert_eq!(fields.next(), Some("X"), "bash output out of step");
        let complaints = complaints(i);
        results.push(
            if values.len() == case.names.len() && !complaints.contains("line ") {
                Ok(values)
            } else {
                Err(complaints)
            },
        );
    }
    results
}

fn ours(conf: &AutomationConf, names: &[&str]) -> Vec<BashValue> {
    names
        .iter()
        .map(|name| match conf.get(name) {
            Some(value) => BashValue::Set(value.clone()),
            None => BashValue::Unset,
        })
        .collect()
}

fn example_config_sh() -> PathBuf {
    kayobe_automation_tests::example_repo().join(".automation.conf/config.sh")
}

fn example_context(environment: Option<&str>) -> Vec<(&'static str, String)> {
    let repo = kayobe_automation_tests::example_repo();
    let mut env = vec![
        (
            "KAYOBE_CONFIG_PATH",
            repo.join("etc/kayobe").display().to_string(),
        ),
        (
            "KAYOBE_AUTOMATION_CONFIG_PATH",
            repo.join(".automation.conf").display().to_string(),
        ),
    ];
    if let Some(environment) = environment {
        env.push(("KAYOBE_ENVIRONMENT", environment.to_owned()));
    }
    env
}

fn load_example(environment: Option<&str>) -> AutomationConf {
    let context: ConfContext = example_context(environment).into_iter().collect();
    AutomationConf::load(&example_config_sh(), &context).unwrap()
}

const EXAMPLE_NAMES: &[&str] = &[
    "TEMPEST_CONCURRENCY",
    "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
    "KAYOBE_AUTOMATION_TEMPEST_SKIPLIST",
    "KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES",
    "KAYOBE_AUTOMATION_RALLY_IMAGE",
    "KAYOBE_AUTOMATION_RALLY_TAG",
    "KAYOBE_AUTOMATION_RALLY_FORCE_PULL",
    "KAYOBE_CONFIG_SECRET_PATHS_EXTRA",
    "KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA",
    "KAYOBE_ENVIRONMENT",
];

#[test]
fn example_production() {
    let conf = load_example(Some("production"));
    let tempest = conf.tempest().unwrap();
    assert_eq!(tempest.concurrency, Some(8));
    assert_eq!(tempest.loadlist, "canary");
    assert_eq!(tempest.skiplist, "production");
    let automation = kayobe_automation_tests::example_repo().join(".automation.conf");
    assert_eq!(
        tempest.loadlist_path,
        automation.join("tempest/load-lists/canary")
    );
    assert_eq!(
        tempest.skiplist_path,
        automation.join("tempest/skip-lists/production")
    );
    assert_eq!(
        tempest.conf_overrides,
        Some(automation.join("tempest/tempest-production.overrides.conf"))
    );
    assert_eq!(
        conf.secret_paths_extra(),
        ["etc/kayobe/environments/production/monitoring-secrets.yml"]
    );
    assert_eq!(
        conf.vaulted_files_paths_extra(),
        ["etc/kayobe/environments/production/kolla/config/glance/ceph.client.glance.keyring"]
    );
    let rally = conf.rally().unwrap();
    assert_eq!(
        rally.image.as_deref(),
        Some("ghcr.io/stackhpc/docker-rally")
    );
    assert_eq!(rally.tag.as_deref(), Some("latest"));
    assert_eq!(rally.force_pull, Some(false));
    assert_eq!(
        conf.location("TEMPEST_CONCURRENCY")
            .map(|l| (l.line, l.column)),
        Some((19, 10))
    );
}

#[test]
fn example_staging_and_no_environment() {
    let staging = load_example(Some("staging"));
    assert_eq!(staging.tempest_concurrency().unwrap(), Some(2));
    let tempest = staging.tempest().unwrap();
    assert_eq!(tempest.loadlist, "default");
    assert_eq!(tempest.skiplist, "default");
    assert_eq!(tempest.conf_overrides, None);
    assert_eq!(tempest.output_dir, Path::new("tempest-artifacts/"));
    assert!(staging.secret_paths_extra().is_empty());
    assert!(staging.vaulted_files_paths_extra().is_empty());

    let none = load_example(None);
    assert_eq!(none.tempest_concurrency().unwrap(), Some(4));
    assert_eq!(none.scalar("KAYOBE_ENVIRONMENT"), None);
}

#[test]
fn example_matches_bash_in_every_environment() {
    if !have_bash() {
        return;
    }
    let script = std::fs::read_to_string(example_config_sh()).unwrap();
    let environments = [Some("production"), Some("staging"), None, Some("")];
    let contexts: Vec<Vec<(&str, String)>> =
        environments.iter().map(|e| example_context(*e)).collect();
    let envs: Vec<Vec<(&str, &str)>> = contexts
        .iter()
        .map(|c| c.iter().map(|(k, v)| (*k, v.as_str())).collect())
        .collect();
    // Also a caller that already chose a load list and rally tag.
    let mut overridden = envs[1].clone();
    overridden.push(("KAYOBE_AUTOMATION_TEMPEST_LOADLIST", "smoke"));
    overridden.push(("KAYOBE_AUTOMATION_RALLY_TAG", ""));
    let mut all_envs = envs.clone();
    all_envs.push(overridden);
    let cases: Vec<OracleCase<'_>> = all_envs
        .iter()
        .map(|env| OracleCase {
            script: &script,
            env,
            names: EXAMPLE_NAMES,
        })
        .collect();
    let expected = bash_oracle(&cases);
    for (env, expected) in all_envs.iter().zip(expected) {
        let expected = expected.expect("bash runs the example");
        let context: ConfContext = env.iter().copied().collect();
        let conf = AutomationConf::parse(&script, &example_config_sh(), &context).unwrap();
        assert_eq!(ours(&conf, EXAMPLE_NAMES), expected, "environment {env:?}");
    }
}

/// A config.sh in the style of StackHPC's (overrides chosen per environment
/// with file tests, `=~` on environment names), against bash.
#[test]
fn upstream_style_config_matches_bash() {
    if !have_bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let automation = dir.path().join(".automation.conf");
    std::fs::create_dir_all(automation.join("tempest")).unwrap();
    std::fs::write(automation.join("tempest/tempest-ci-aio.overrides.conf"), "").unwrap();
    std::fs::write(
        automation.join("tempest/tempest-production-smoke.overrides.conf"),
        "",
    )
    .unwrap();
    let script = r#"
export TEMPEST_CONCURRENCY=16
KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA=( )
if [ ! -z ${KAYOBE_ENVIRONMENT:+x} ]; then
  KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES="${KAYOBE_AUTOMATION_CONFIG_PATH}/tempest/tempest-${KAYOBE_ENVIRONMENT}-${KAYOBE_AUTOMATION_TEMPEST_LOADLIST:-}.overrides.conf"
  # Fall back to the environment's overrides.
  if [ ! -e "${KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES}" ]; then
      KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES="${KAYOBE_AUTOMATION_CONFIG_PATH}/tempest/tempest-${KAYOBE_ENVIRONMENT}.overrides.conf"
  fi
  if [[ "$KAYOBE_ENVIRONMENT" =~ "aio" ]]; then
    export TEMPEST_CONCURRENCY=1
    KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA+=( "etc/kayobe/environments/$KAYOBE_ENVIRONMENT/extra.yml" )
  elif [ "$KAYOBE_ENVIRONMENT" == "production" ] || [ "$KAYOBE_ENVIRONMENT" == "prod2" ]; then
    export TEMPEST_CONCURRENCY=32
  fi
fi
if [[ -z "${KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES:+x}" ]] || [[ ! -e "${KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES}" ]]; then
  KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES=
fi
"#;
    let names = [
        "TEMPEST_CONCURRENCY",
        "KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES",
        "KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA",
    ];
    let automation_path = ".automation.conf";
    let envs: Vec<Vec<(&str, &str)>> = vec![
        vec![("KAYOBE_AUTOMATION_CONFIG_PATH", automation_path)],
        vec![
            ("KAYOBE_AUTOMATION_CONFIG_PATH", automation_path),
            ("KAYOBE_ENVIRONMENT", "ci-aio"),
        ],
        vec![
            ("KAYOBE_AUTOMATION_CONFIG_PATH", automation_path),
            ("KAYOBE_ENVIRONMENT", "production"),
            ("KAYOBE_AUTOMATION_TEMPEST_LOADLIST", "smoke"),
        ],
        vec![
            ("KAYOBE_AUTOMATION_CONFIG_PATH", automation_path),
            ("KAYOBE_ENVIRONMENT", "production"),
        ],
    ];
    let cases: Vec<OracleCase<'_>> = envs
        .iter()
        .map(|env| OracleCase {
            script,
            env,
            names: &names,
        })
        .collect();
    let expected = bash_oracle_in(&cases, dir.path());
    for (env, expected) in envs.iter().zip(expected) {
        let context: ConfContext = env.iter().copied().collect();
        let context = context.with_working_dir(dir.path());
        let conf = AutomationConf::parse(script, Path::new("config.sh"), &context).unwrap();
        assert_eq!(Ok(ours(&conf, &names)), expected, "environment {env:?}");
    }
}

// Generated scripts in the supported subset. Literal text avoids `*?[{~`
// where unquoted (bash would glob or brace-expand them; the reader refuses).

const NAMES: &[&str] = &["A", "B", "C", "E"];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_owned)
}

fn unquoted_literal() -> impl Strategy<Value = String> {
    "[a-z0-9./][a-z0-9._/:@%+,=-]{0,3}"
}

fn single_quoted() -> impl Strategy<Value = String> {
    "[a-c $\"\\\\{}#;|&<>()\n*?\\[\\]]{0,4}".prop_map(|s| format!("'{s}'"))
}

/// Text inside `"…"`: plain characters and the escapes bash knows and does not.
fn dquote_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z '{}#;|&<>()*\n]{1,3}",
        Just(r"\$".to_owned()),
        Just(r#"\""#.to_owned()),
        Just(r"\\".to_owned()),
        Just(r"\q".to_owned()),
        Just("\\\n".to_owned()),
        // A `$` that stays literal (followed by a name or `{` it would expand).
        Just("$.".to_owned()),
    ]
}

/// `$N`, `${N}` or `${N<op>word}` with `word` from `inner`.
fn expansion(inner: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        name().prop_map(|n| format!("${n}")),
        name().prop_map(|n| format!("${{{n}}}")),
        (
            name(),
            prop::sample::select(&[":-", "-", ":+", "+"][..]),
            inner
        )
            .prop_map(|(n, op, w)| format!("${{{n}{op}{w}}}")),
    ]
}

/// A word inside double quotes (without the quotes); `depth` bounds nesting.
fn dquote_body(depth: u32) -> BoxedStrategy<String> {
    let leaf = dquote_text().boxed();
    if depth == 0 {
        return prop::collection::vec(leaf, 0..3)
            .prop_map(|v| v.concat())
            .boxed();
    }
    // Inside `"${N:-word}"`: text without `}`, `"` or `'` (bash pairs single
    // quotes there even though it keeps them; the unit tests cover that),
    // escapes and expansions; inner "…" are refused by the reader.
    let default_word = prop::collection::vec(
        prop_oneof![
            "[a-z #]{1,3}".boxed(),
            dquote_text()
                .prop_filter("no quotes", |t| !t.contains('"'))
                .boxed(),
            expansion(dquote_body(depth - 1)).boxed(),
        ],
        0..3,
    )
    .prop_map(|v| v.concat())
    .boxed();
    prop::collection::vec(prop_oneof![leaf, expansion(default_word).boxed()], 0..4)
        .prop_map(|v| v.concat())
        .boxed()
}

/// A shell word outside quotes; `depth` bounds nesting.
fn word(depth: u32) -> BoxedStrategy<String> {
    let mut parts = vec![
        unquoted_literal().boxed(),
        single_quoted().boxed(),
        dquote_body(depth).prop_map(|b| format!("\"{b}\"")).boxed(),
    ];
    if depth > 0 {
        // The word of an unquoted `${N:-word}` may hold blanks.
        let inner = prop::collection::vec(
            prop_oneof![
                "[a-z ]{1,3}".boxed(),
                single_quoted().boxed(),
                word(depth - 1),
            ],
            0..3,
        )
        .prop_map(|v| v.concat())
        .boxed();
        parts.push(expansion(inner).boxed());
    } else {
        parts.push(name().prop_map(|n| format!("${{{n}}}")).boxed());
    }
    prop::collection::vec(prop::strategy::Union::new(parts), 1..4)
        .prop_map(|v| v.concat())
        .boxed()
}

fn assignment() -> impl Strategy<Value = String> {
    let export = prop::sample::select(&["", "export "][..]);
    let op = prop::sample::select(&["=", "+="][..]);
    let separator = prop::sample::select(&[" ", "\n  ", " # note\n "][..]);
    prop_oneof![
        3 => (export.clone(), name(), op.clone(), word(2)).prop_map(|(e, n, o, w)| format!("{e}{n}{o}{w}")),
        2 => (export, name(), op, prop::collection::vec((separator, word(2)), 0..4)).prop_map(
            |(e, n, o, items)| {
                let body: String = items.into_iter().map(|(s, w)| format!("{s}{w}")).collect();
                format!("{e}{n}{o}({body} )")
            }
        ),
        1 => name().prop_map(|n| format!("export {n}")),
        1 => (name(), Just(";"), name(), word(1))
            .prop_map(|(a, s, b, w)| format!("{a}=x{s} {b}={w}")),
    ]
}

/// A `[[ … ]]` or `[ … ]` test; right-hand sides of `==` in `[[ … ]]` are
/// patterns where unquoted.
fn test_command() -> impl Strategy<Value = String> {
    let pattern_part = prop_oneof![
        unquoted_literal(),
        "[a-c*?-]{1,3}",
        "\\[!?[a-c](-[c-e])?\\]",
        dquote_body(1).prop_map(|b| format!("\"{b}\"")),
        single_quoted(),
        name().prop_map(|n| format!("${{{n}}}")),
    ];
    let rhs = prop::collection::vec(pattern_part, 1..3).prop_map(|v| v.concat());
    let op = prop::sample::select(&["==", "=", "!="][..]);
    let dq = || dquote_body(1).prop_map(|b| format!("\"{b}\""));
    let single = (dq(), op.clone(), dq()).prop_map(|(l, o, r)| format!("[ {l} {o} {r} ]"));
    let double_primary = prop_oneof![
        (word(1), op, rhs).prop_map(|(l, o, r)| format!("{l} {o} {r}")),
        (word(1), dq()).prop_map(|(l, r)| format!("{l} =~ {r}")),
        word(1).prop_map(|w| format!("-n {w}")),
        word(1).prop_map(|w| format!("-z {w}")),
        word(1),
    ];
    let double_expr = double_primary.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("! {e}")),
            inner.clone().prop_map(|e| format!("( {e} )")),
            (
                inner.clone(),
                prop::sample::select(&["&&", "||"][..]),
                inner
            )
                .prop_map(|(l, o, r)| format!("{l} {o} {r}")),
        ]
    });
    let command = prop_oneof![
        3 => double_expr.prop_map(|e| format!("[[ {e} ]]")),
        1 => single,
        1 => dq().prop_map(|w| format!("[ -n {w} ]")),
        1 => dq().prop_map(|w| format!("[ ! -z {w} ]")),
    ];
    let negatable = (prop::bool::weighted(0.2), command)
        .prop_map(|(not, c)| if not { format!("! {c}") } else { c });
    prop::collection::vec(
        (
            negatable,
            prop::sample::select(&[" && ", " || ", " &&\n  "][..]),
        ),
        1..3,
    )
    .prop_map(|items| {
        let n = items.len();
        let mut out = String::new();
        for (i, (command, join)) in items.into_iter().enumerate() {
            out.push_str(&command);
            if i + 1 < n {
                out.push_str(join);
            }
        }
        out
    })
}

fn statements() -> impl Strategy<Value = Vec<String>> {
    let leaf = assignment().prop_map(|a| vec![a]);
    leaf.prop_recursive(2, 12, 4, |inner| {
        let body = prop::collection::vec(inner.clone(), 1..3).prop_map(|v| v.concat().join("\n"));
        let if_block = (
            test_command(),
            body.clone(),
            prop::collection::vec((test_command(), body.clone()), 0..2),
            prop::option::of(body),
            prop::sample::select(&["; then\n", "\nthen\n", "; then "][..]),
        )
            .prop_map(|(cond, then, elifs, otherwise, then_sep)| {
                let mut text = format!("if {cond}{then_sep}{then}\n");
                for (c, b) in elifs {
                    write!(text, "elif {c}; then\n{b}\n").unwrap();
                }
                if let Some(b) = otherwise {
                    write!(text, "else\n{b}\n").unwrap();
                }
                text.push_str("fi");
                vec![text]
            });
        prop_oneof![
            2 => prop::collection::vec(inner, 1..4).prop_map(|v| v.concat()),
            1 => if_block,
        ]
    })
}

fn script() -> impl Strategy<Value = String> {
    prop::collection::vec(statements(), 1..5).prop_map(|v| {
        let mut text = v.concat().join("\n");
        text.push('\n');
        text
    })
}

fn environment() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(&["", "prod", "a  b", "x'y", "-n"][..]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn generated_scripts_match_bash(
        cases in prop::collection::vec((script(), environment()), 12)
    ) {
        if !have_bash() {
            return Ok(());
        }
        let envs: Vec<Vec<(&str, &str)>> = cases
            .iter()
            .map(|(_, e)| e.iter().map(|v| ("E", *v)).collect())
            .collect();
        let names = ["A", "B", "C", "E"];
        let oracle_cases: Vec<OracleCase<'_>> = cases
            .iter()
            .zip(&envs)
            .map(|((script, _), env)| OracleCase { script, env, names: &names })
            .collect();
        let expected = bash_oracle(&oracle_cases);
        for (((script, _), env), expected) in cases.iter().zip(&envs).zip(expected) {
            let context: ConfContext = env.iter().copied().collect();
            let conf = AutomationConf::parse(script, Path::new("gen.sh"), &context);
            match (conf, expected) {
                (Ok(conf), Ok(expected)) => prop_assert_eq!(
                    ours(&conf, &names), expected, "script:\n{}\nenv: {:?}", script, env
                ),
                // Values with a backslash expanded unquoted in an array: bash
                // treats them as file name patterns; the reader refuses them.
                (Err(AutomationConfError::Unsupported { construct, .. }), Ok(_))
                    if construct.contains("expand file names") => {}
                // Bash refused it too (the reader may call it unsupported
                // rather than a syntax error: both refuse).
                (Err(_), Err(_)) => {}
                (conf, expected) => prop_assert!(
                    false,
                    "reader: {:?}\nbash: {:?}\nscript:\n{}\nenv: {:?}", conf.map(|c| ours(&c, &names)), expected, script, env
                ),
            }
        }
    }

    #[test]
    fn parse_never_panics_on_shell_like_text(
        text in "([a-zA-Z_=+$#{}()\\[\\]'\"\\\\`;&|<>!:~*? \t\n-]|if |then |fi|elif |else |export |\\[\\[ | \\]\\]|\\$\\{|:-){0,40}"
    ) {
        let _ = AutomationConf::parse(&text, Path::new("fuzz.sh"), &ConfContext::new());
    }

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        let _ = AutomationConf::parse(&text, Path::new("fuzz.sh"), &ConfContext::new());
    }
}
