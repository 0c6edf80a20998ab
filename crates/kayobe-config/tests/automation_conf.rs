//! `.automation.conf/config.sh` read through bash, checked against sourcing
//! it with bash directly (the oracle: one subshell per case, `declare -p`):
//! the example repository's file per environment, kayobe-automation's own
//! example, hand-written files using every construct real configurations use,
//! files bash rejects, and generated scripts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use kayobe_config::automation_conf::{AutomationConf, AutomationConfError, ConfContext, ConfValue};
use proptest::prelude::*;

/// A bash variable as bash reports it after sourcing a script.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BashValue {
    Unset,
    Scalar(String),
    Array(Vec<String>),
}

impl From<&ConfValue> for BashValue {
    fn from(value: &ConfValue) -> Self {
        match value {
            ConfValue::Scalar(s) => BashValue::Scalar(s.clone()),
            ConfValue::Array(items) => BashValue::Array(items.clone()),
        }
    }
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

/// Sources every case's script in its own subshell of ONE bash process
/// running in `cwd`, and returns, per case, the values of its names, or
/// bash's complaints when the subshell stopped early.
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
    if [[ $__d == *[aA]* ]]; then
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
        // As kayobe-automation sources it: `functions` runs `set -euE -o pipefail`.
        driver.push_str("( set -euE -o pipefail; ");
        for (name, value) in case.env {
            let quoted = value.replace('\'', r"'\''");
            write!(driver, "export {name}='{quoted}'; ").unwrap();
        }
        writeln!(
            driver,
            "echo '@@case {i}' >&2; source '{}' >&2; set +eu; __dump {} ); printf 'X\\0'",
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
                "S" => BashValue::Scalar(fields.next().unwrap().to_owned()),
                "A" => {
                    let count: usize = fields.next().unwrap().parse().unwrap();
                    let items = (0..count)
                        .map(|_| fields.next().unwrap().to_owned())
                        .collect();
                    BashValue::Array(items)
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
            Some(value) => BashValue::from(value),
            None => BashValue::Unset,
        })
        .collect()
}

/// Reads `script` (written to `path`) through the reader, in `dir`, with
/// exactly `env`.
fn read_in(
    dir: &Path,
    path: &Path,
    script: &str,
    env: &[(&str, &str)],
) -> Result<AutomationConf, AutomationConfError> {
    std::fs::write(path, script).unwrap();
    let context: ConfContext = env.iter().copied().collect();
    AutomationConf::load(path, &context.with_working_dir(dir))
}

/// The line bash's complaint names, e.g. `case3.sh: line 4: …`.
fn complaint_line(complaints: &str) -> Option<usize> {
    let rest = &complaints[complaints.find(".sh: line ")? + ".sh: line ".len()..];
    rest[..rest.find(':')?].parse().ok()
}

/// Each case read by the reader in `dir` equals bash sourcing it directly:
/// the same values, or both refusing it (at the same line when bash says).
fn assert_cases_match_bash(dir: &Path, cases: &[OracleCase<'_>]) {
    let expected = bash_oracle_in(cases, dir);
    // Outside `dir`: the scripts' globs must see the same files as bash's.
    let scripts = tempfile::tempdir().unwrap();
    for (i, (case, expected)) in cases.iter().zip(expected).enumerate() {
        let path = scripts.path().join(format!("ours{i}.sh"));
        let read = read_in(dir, &path, case.script, case.env);
        match (read, expected) {
            (Ok(conf), Ok(expected)) => assert_eq!(
                ours(&conf, case.names),
                expected,
                "script:\n{}\nenv: {:?}",
                case.script,
                case.env
            ),
            (Err(AutomationConfError::Rejected { line, .. }), Err(complaints)) => {
                if let Some(expected) = complaint_line(&complaints) {
                    assert_eq!(line, Some(expected), "bash said: {complaints}");
                }
            }
            (read, expected) => panic!(
                "reader: {:?}\nbash: {expected:?}\nscript:\n{}\nenv: {:?}",
                read.map(|c| ours(&c, case.names)),
                case.script,
                case.env
            ),
        }
    }
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
        ("KAYOBE_ENVIRONMENT", environment.unwrap_or("").to_owned()),
    ];
    if environment.is_none() {
        env.pop();
    }
    env
}

fn load_example(environment: Option<&str>) -> AutomationConf {
    let mut context: ConfContext = example_context(environment).into_iter().collect();
    // Without an environment, kayobe-automation still has KAYOBE_ENVIRONMENT
    // (empty) when CI sets it; the file needs it under `set -u`.
    if environment.is_none() {
        context.set("KAYOBE_ENVIRONMENT", "");
    }
    let context = context.with_working_dir(kayobe_automation_tests::example_repo());
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
    let assigned: Vec<&str> = conf.variables().map(|(name, _)| name).collect();
    assert!(assigned.contains(&"TEMPEST_CONCURRENCY"), "{assigned:?}");
    assert!(!assigned.contains(&"KAYOBE_ENVIRONMENT"), "{assigned:?}");
    assert!(
        !assigned.iter().any(|n| n.starts_with("BASH")),
        "{assigned:?}"
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
    assert_eq!(none.scalar("KAYOBE_ENVIRONMENT"), Some(""));
}

#[test]
fn example_matches_bash_in_every_environment() {
    if !have_bash() {
        return;
    }
    let script = std::fs::read_to_string(example_config_sh()).unwrap();
    let environments = [Some("production"), Some("staging"), Some(""), None];
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
    let dir = tempfile::tempdir().unwrap();
    assert_cases_match_bash(dir.path(), &cases);
}

/// kayobe-automation's own example (`examples/gitlab/.automation.conf`),
/// with and without the variables it defaults.
#[test]
fn kayobe_automation_example_matches_bash() {
    if !have_bash() {
        return;
    }
    let Some(example) = kayobe_automation_tests::conformance("kayobe-automation/examples/gitlab")
    else {
        return;
    };
    let script = std::fs::read_to_string(example.join(".automation.conf/config.sh")).unwrap();
    let automation = example.join(".automation.conf").display().to_string();
    let names = [
        "KAYOBE_EXTRA_ARGS_DEFAULTS",
        "KAYOBE_EXTRA_ARGS",
        "KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES",
        "TEMPEST_CONCURRENCY",
    ];
    let envs: Vec<Vec<(&str, &str)>> = vec![
        vec![("KAYOBE_AUTOMATION_CONFIG_PATH", &automation)],
        vec![
            ("KAYOBE_AUTOMATION_CONFIG_PATH", &automation),
            ("KAYOBE_EXTRA_ARGS_DEFAULTS", "--check"),
            ("KAYOBE_EXTRA_ARGS", "-vvv"),
        ],
    ];
    let cases: Vec<OracleCase<'_>> = envs
        .iter()
        .map(|env| OracleCase {
            script: &script,
            env,
            names: &names,
        })
        .collect();
    assert_cases_match_bash(&example, &cases);
    let dir = tempfile::tempdir().unwrap();
    let conf = read_in(dir.path(), &dir.path().join("config.sh"), &script, &envs[0]).unwrap();
    assert_eq!(
        conf.scalar("KAYOBE_EXTRA_ARGS"),
        Some(" --skip-tags config-validation")
    );
    assert_eq!(conf.tempest_concurrency().unwrap(), Some(2));
}

/// A config.sh in the style of real operators' (StackHPC's): overrides
/// chosen per environment with file tests relative to the repository root,
/// `=~` on environment names, the openrc read from a file with `$(< …)`,
/// `${…:-}`, `:=`, `:+`, `#`, `%`, `$(cmd)`, arrays, functions, export and
/// unset.
const OPERATOR_STYLE: &str = r#"
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
if [[ -f ${KAYOBE_AUTOMATION_REPO_ROOT}/etc/kolla/public-openrc.sh ]]; then
  export TEMPEST_OPENRC="$(< ${KAYOBE_AUTOMATION_REPO_ROOT}/etc/kolla/public-openrc.sh)"
fi
KAYOBE_EXTRA_ARGS_DEFAULTS="${KAYOBE_EXTRA_ARGS_DEFAULTS:=--skip-tags config-validation}"
ENV_SHORT="${KAYOBE_ENVIRONMENT%%-*}"
ENV_TAIL="${KAYOBE_ENVIRONMENT#*-}"
CONFIG_NAME="$(basename "${KAYOBE_AUTOMATION_CONFIG_PATH}")"
pick_loadlist() {
  local name=$1
  if [[ -d .automation.conf/tempest/load-lists ]]; then
    KAYOBE_AUTOMATION_TEMPEST_LOADLIST="${name}"
  fi
}
pick_loadlist "${KAYOBE_ENVIRONMENT:-none}-smoke"
TEMPORARY=1
unset TEMPORARY
export KAYOBE_AUTOMATION_RALLY_FORCE_PULL
declare -A REGISTRIES=([prod]=registry.example.org ["two words"]=$'a\tb')
ODD=$'tab\there \x01 \u00e9 \\ "q" \'s\' $x `y`\nnext line'
ODD_ARRAY=("$ODD" '' "$(printf 'x\ny')")
"#;

const OPERATOR_NAMES: &[&str] = &[
    "TEMPEST_CONCURRENCY",
    "KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES",
    "KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA",
    "TEMPEST_OPENRC",
    "KAYOBE_EXTRA_ARGS_DEFAULTS",
    "ENV_SHORT",
    "ENV_TAIL",
    "CONFIG_NAME",
    "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
    "TEMPORARY",
    "KAYOBE_AUTOMATION_RALLY_FORCE_PULL",
    "REGISTRIES",
    "ODD",
    "ODD_ARRAY",
];

/// A repository root with the files OPERATOR_STYLE tests for.
fn operator_repo(with_openrc: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let automation = dir.path().join(".automation.conf");
    std::fs::create_dir_all(automation.join("tempest/load-lists")).unwrap();
    std::fs::write(automation.join("tempest/tempest-ci-aio.overrides.conf"), "").unwrap();
    std::fs::write(
        automation.join("tempest/tempest-production-smoke.overrides.conf"),
        "",
    )
    .unwrap();
    if with_openrc {
        std::fs::create_dir_all(dir.path().join("etc/kolla")).unwrap();
        std::fs::write(
            dir.path().join("etc/kolla/public-openrc.sh"),
            "export OS_USERNAME=admin\nexport OS_PASSWORD=openrc-secret-9f3a\n",
        )
        .unwrap();
    }
    dir
}

#[test]
fn operator_style_config_matches_bash() {
    if !have_bash() {
        return;
    }
    for with_openrc in [true, false] {
        let repo = operator_repo(with_openrc);
        let root = repo.path().display().to_string();
        let automation = repo.path().join(".automation.conf").display().to_string();
        let base = vec![
            ("KAYOBE_AUTOMATION_CONFIG_PATH", automation.as_str()),
            ("KAYOBE_AUTOMATION_REPO_ROOT", root.as_str()),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut env = base.clone();
            env.extend_from_slice(extra);
            env
        };
        let envs = [
            with(&[("KAYOBE_ENVIRONMENT", "")]),
            with(&[("KAYOBE_ENVIRONMENT", "ci-aio")]),
            with(&[
                ("KAYOBE_ENVIRONMENT", "production"),
                ("KAYOBE_AUTOMATION_TEMPEST_LOADLIST", "smoke"),
            ]),
            with(&[("KAYOBE_ENVIRONMENT", "production")]),
            // `set -u`: KAYOBE_ENVIRONMENT unset is an error in both.
            base.clone(),
        ];
        let cases: Vec<OracleCase<'_>> = envs
            .iter()
            .map(|env| OracleCase {
                script: OPERATOR_STYLE,
                env,
                names: OPERATOR_NAMES,
            })
            .collect();
        assert_cases_match_bash(repo.path(), &cases);
    }
}

#[test]
fn the_openrc_read_through_config_sh_is_never_printed() {
    if !have_bash() {
        return;
    }
    let repo = operator_repo(true);
    let root = repo.path().display().to_string();
    let conf = read_in(
        repo.path(),
        &repo.path().join("config.sh"),
        OPERATOR_STYLE,
        &[
            ("KAYOBE_AUTOMATION_REPO_ROOT", &root),
            ("KAYOBE_AUTOMATION_CONFIG_PATH", ".automation.conf"),
            ("KAYOBE_ENVIRONMENT", "production"),
        ],
    )
    .unwrap();
    let openrc = conf.tempest_openrc().unwrap();
    assert!(openrc.contains("OS_PASSWORD=openrc-secret-9f3a"));
    assert!(!openrc.ends_with('\n'), "`$(< …)` drops trailing newlines");
    let debug = format!("{conf:?} {:?}", conf.get("TEMPEST_OPENRC"));
    assert!(!debug.contains("openrc-secret"), "{debug}");
}

/// Files bash rejects give the file and line bash names, and bash's reason.
#[test]
fn rejected_files_are_located() {
    if !have_bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = [("KAYOBE_ENVIRONMENT", "production")];
    let cases: [(&str, usize, &str); 5] = [
        (
            "A=1\nif [[ $KAYOBE_ENVIRONMENT == x ]]; then\nB=2\n",
            4,
            "syntax error",
        ),
        (
            "A=1\nB=$UNDEFINED_SETTING\n",
            2,
            "UNDEFINED_SETTING: unbound variable",
        ),
        ("A=1\n\nfalse\nB=2\n", 3, "exit status 1"),
        ("A=$(exit 3)\n", 1, "exit status 3"),
        ("A=1\nno-such-command-here --flag\n", 2, "command not found"),
    ];
    for (script, line, reason) in cases {
        let error = read_in(dir.path(), &dir.path().join("config.sh"), script, &env).unwrap_err();
        let AutomationConfError::Rejected {
            path,
            line: found,
            message,
        } = &error
        else {
            panic!("{script}: {error:?}");
        };
        assert_eq!(path, &dir.path().join("config.sh"), "{script}");
        assert_eq!(*found, Some(line), "{script}: {error}");
        assert!(message.contains(reason), "{script}: {error}");
        assert!(
            error.to_string().starts_with(&format!(
                "{}:{line}: ",
                dir.path().join("config.sh").display()
            )),
            "{error}"
        );
    }
    let error = read_in(
        dir.path(),
        &dir.path().join("config.sh"),
        "A=1\nexit 0\n",
        &env,
    )
    .unwrap_err();
    assert!(error.to_string().contains("exits the shell"), "{error}");
}

#[test]
fn a_file_that_runs_too_long_is_stopped() {
    if !have_bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.sh");
    // The child holds the output pipes open: the whole group must go.
    std::fs::write(&path, "A=$(sleep 30; echo late)\n").unwrap();
    let context = ConfContext::new()
        .with_working_dir(dir.path())
        .with_time_limit(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let error = AutomationConf::load(&path, &context).unwrap_err();
    assert!(
        matches!(error, AutomationConfError::TimedOut { .. }),
        "{error}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn the_file_runs_in_a_clean_environment_and_its_output_is_dropped() {
    if !have_bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // HOME and CARGO are set in this process (cargo sets CARGO): neither
    // reaches the file unless the context gives it.
    let conf = read_in(
        dir.path(),
        &dir.path().join("config.sh"),
        "echo 'printed: not a variable'\nSEEN_HOME=${HOME-unset}\nSEEN_CARGO=${CARGO-unset}\nWHERE=$PWD\n",
        &[("KAYOBE_ENVIRONMENT", "x")],
    )
    .unwrap();
    assert_eq!(conf.scalar("SEEN_HOME"), Some("unset"));
    assert_eq!(conf.scalar("SEEN_CARGO"), Some("unset"));
    assert_eq!(
        Path::new(conf.scalar("WHERE").unwrap())
            .canonicalize()
            .unwrap(),
        dir.path().canonicalize().unwrap()
    );
    let names: Vec<&str> = conf.variables().map(|(name, _)| name).collect();
    assert_eq!(names, ["SEEN_CARGO", "SEEN_HOME", "WHERE"]);
}

// Generated scripts: assignments of every quoting, expansions with every
// operator, `if` with `[[ … ]]`/`[ … ]` tests (patterns, `=~`, file tests),
// `$(< file)`, `$(cmd)`, functions and `unset`; run in a directory holding
// `present.txt` and `sub/`.

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
            prop::sample::select(&[":-", "-", ":+", "+", ":=", "#", "##", "%", "%%"][..]),
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
        1 => (name(), prop::sample::select(&["present.txt", "missing.txt", "sub"][..]))
            .prop_map(|(n, f)| format!("{n}=\"$(< {f})\"")),
        1 => (name(), word(1)).prop_map(|(n, w)| format!("{n}=$(printf '%s-' {w})")),
        1 => name().prop_map(|n| format!("unset {n}")),
        1 => (name(), word(1)).prop_map(|(n, w)| format!("set_it() {{ {n}={w}; }}\nset_it")),
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
        1 => (
            prop::sample::select(&["-e", "-f", "-d"][..]),
            prop::sample::select(&["present.txt", "missing.txt", "sub", "./sub/"][..])
        )
            .prop_map(|(t, f)| format!("[[ {t} {f} ]]")),
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
        cases in prop::collection::vec((script(), environment(), prop::option::of("[a b]{0,3}"), "[a b*]{0,3}"), 12)
    ) {
        if !have_bash() {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("present.txt"), "from a file\n\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let envs: Vec<Vec<(&str, &str)>> = cases
            .iter()
            // B and C always set, A and E sometimes: under `set -u` an unset
            // one is an error (checked too, but values are the point).
            .map(|(_, e, a, b)| {
                e.iter()
                    .map(|v| ("E", *v))
                    .chain(a.iter().map(|v| ("A", v.as_str())))
                    .chain([("B", b.as_str()), ("C", "c  d")])
                    .collect()
            })
            .collect();
        let names = ["A", "B", "C", "E"];
        let oracle_cases: Vec<OracleCase<'_>> = cases
            .iter()
            .zip(&envs)
            .map(|((script, _, _, _), env)| OracleCase { script, env, names: &names })
            .collect();
        assert_cases_match_bash(dir.path(), &oracle_cases);
    }
}
