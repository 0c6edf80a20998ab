//! The real kayobe-automation scripts, run by the rendered jobs: every job of
//! the example's GitHub workflows and GitLab pipeline has its commands run
//! by bash, with its environment resolved as the platform would, in one
//! `FROM scratch` container holding the real `.automation` at
//! `/src/.automation` and recording stand-ins for Kayobe, git, OpenSSH,
//! python and sudo. The stand-ins' logs show the Kayobe command line each
//! operation reaches, where the vault password and SSH key arrive, and the
//! revision config-diff compares with.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use kayobe_automation::Value;
use kayobe_automation::config::repo::ConfigRepo;
use kayobe_automation::config::vault::VaultSecret;
use kayobe_automation::config::yaml;
use kayobe_automation::workflows::{Platform, Templates, WriterConfig, render};
use kayobe_automation_tests::docker::{RemoveImages, build_test_image, engine, unique_tag};
use kayobe_automation_tests::{conformance, copy_dir, example_repo, tool};

/// Containers running jobs at once.
const SHARDS: usize = 4;
const VAULT_PASSWORD: &str = "vault-pa55-from-the-platform";
const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdGVzdA\n-----END OPENSSH PRIVATE KEY-----";
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
const TARGET_BRANCH: &str = "main";
const PULL_REQUEST_HEAD: &str = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

/// One recording stand-in for every command the scripts call that the
/// image lacks: it appends its name and arguments to `$STANDIN_LOG`, and
/// for `kayobe`/`kolla-ansible` the variables and key file they would read.
const RECORDER: &str = r#"#!/bin/sh
name="${0##*/}"
# One write per line: config-diff.sh runs two gits at once.
line="CALL $name"; for a in "$@"; do line="$line [$a]"; done
printf '%s\n' "$line" >> "$STANDIN_LOG"
case "$name" in
kayobe|kolla-ansible)
    printf 'ENV KAYOBE_ENVIRONMENT=[%s] KAYOBE_CONFIG_PATH=[%s] PWD=[%s]\n' "${KAYOBE_ENVIRONMENT-}" "${KAYOBE_CONFIG_PATH-}" "$PWD" >> "$STANDIN_LOG"
    if [ "${KAYOBE_VAULT_PASSWORD-}" = "$EXPECTED_VAULT_PASSWORD" ]; then echo "VAULT ok" >> "$STANDIN_LOG"; fi
    # What kayobe-automation-run-tempest.yml leaves after a run with no failures.
    for a in "$@"; do
        case "$a" in results_path_local=*) mkdir -p "${a#*=}"; : > "${a#*=}/failed-tests" ;; esac
    done
    key="$HOME/.ssh/${KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME:-id_rsa}"
    if [ -f "$key" ] && [ "$(cat "$key")" = "$EXPECTED_SSH_KEY" ] && [ "$(stat -c %a "$key")" = 600 ]; then echo "KEYFILE ok" >> "$STANDIN_LOG"; fi
    ;;
ssh-agent) echo 'SSH_AUTH_SOCK=/tmp/agent.sock; export SSH_AUTH_SOCK;' ;;
ssh-add) if [ "$(cat)" = "$EXPECTED_SSH_KEY" ]; then echo "AGENT ok" >> "$STANDIN_LOG"; fi ;;
ssh-keygen) case " $* " in *" -y "*) echo 'ssh-ed25519 AAAAstandin test' ;; esac ;;
sudo) while case "$1" in --*) true ;; *) false ;; esac; do shift; done; exec "$@" ;;
git)
    case "$1" in
    clone) for last in "$@"; do :; done; mkdir -p "$last" ;;
    # The remote's default branch is still at the pipeline's commit.
    ls-remote) printf '%s\t%s\n' "$CI_COMMIT_SHA" "$3" ;;
    esac ;;
python3|python)
    if [ "$1" = -m ] && [ "$2" = venv ]; then
        mkdir -p "$3/bin" "$3/share/kayobe/ansible"
        printf 'VIRTUAL_ENV=%s\nexport VIRTUAL_ENV\ndeactivate() { unset VIRTUAL_ENV; }\n' "$3" > "$3/bin/activate"
    fi ;;
esac
exit 0
"#;

/// Commands the recorder stands in for, and where they go.
const STANDINS: [&str; 15] = [
    "/usr/local/bin/kayobe",
    "/usr/local/bin/kolla-ansible",
    "/usr/local/bin/git",
    "/usr/local/bin/ssh-agent",
    "/usr/local/bin/ssh-add",
    "/usr/bin/ssh-keygen",
    "/usr/bin/sudo",
    "/usr/sbin/sshd",
    "/usr/local/bin/python3",
    "/usr/local/bin/python",
    "/usr/local/bin/pip",
    "/usr/local/bin/ansible-vault",
    "/usr/local/bin/docker",
    "/usr/local/bin/kayobe-automation",
    "/usr/local/bin/curl",
];

/// coreutils' `mktemp -d --suffix S`, which config-diff uses and busybox's
/// lacks.
const MKTEMP: &str = r#"#!/bin/sh
suffix=
directory=
while [ $# -gt 0 ]; do
    case "$1" in
    -d) directory=-d ;;
    --suffix) suffix="$2"; shift ;;
    esac
    shift
done
made="$(/bin/mktemp $directory)"
mv "$made" "$made$suffix"
echo "$made$suffix"
"#;

/// What upstream kayobe-config's `kayobe-env` sets, which the example lacks
/// and `activate_kayobe_env` sources.
const KAYOBE_ENV: &str = r#"KAYOBE_CONFIG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export KAYOBE_CONFIG_PATH="$KAYOBE_CONFIG_ROOT/etc/kayobe"
export KOLLA_CONFIG_PATH="$KAYOBE_CONFIG_ROOT/etc/kolla"
"#;

fn list(value: &Value) -> &[Value] {
    match value {
        Value::List(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Null => String::new(),
        Value::Map(map) => map.get("value").map(scalar).unwrap_or_default(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The value of a GitHub context path in the test's event, panicking on
/// one the test does not know: an expression it cannot resolve could be one
/// the platform cannot either.
fn github_value(path: &str) -> String {
    if let Some(name) = path
        .strip_prefix("inputs.")
        .or_else(|| path.strip_prefix("github.event.inputs."))
    {
        return match name {
            "run_previous_failed" => "false".to_owned(),
            "test_suite" => "canary".to_owned(),
            "previous_workflow_id" => String::new(),
            _ => format!("input-{name}"),
        };
    }
    match path {
        // One environment's secret, or each environment's (`PRODUCTION_…`).
        secret if secret.starts_with("secrets.") && secret.ends_with("KAYOBE_VAULT_PASSWORD") => {
            VAULT_PASSWORD.to_owned()
        }
        secret
            if secret.starts_with("secrets.")
                && secret.ends_with("KAYOBE_AUTOMATION_SSH_PRIVATE_KEY") =>
        {
            SSH_KEY.to_owned()
        }
        "github.workspace" => "/src".to_owned(),
        "github.event.pull_request.base.sha" => REVISION.to_owned(),
        "github.ref" => "refs/heads/main".to_owned(),
        "github.ref_name" | "github.event.repository.default_branch" => "main".to_owned(),
        "github.event.pull_request.head.sha" => PULL_REQUEST_HEAD.to_owned(),
        "github.event.pull_request.number" => "7".to_owned(),
        "github.server_url" => "https://github.example".to_owned(),
        "github.repository" => "operator/kayobe-config".to_owned(),
        "github.token" => "github-job-token".to_owned(),
        "github.sha" => "fedcba9876543210fedcba9876543210fedcba98".to_owned(),
        "github.run_id" => "4242".to_owned(),
        "always()" => "true".to_owned(),
        other => match other.split_once('.') {
            Some(("secrets" | "vars", name)) => format!("value-of-{name}"),
            _ => panic!("a GitHub expression the test cannot resolve: {other}"),
        },
    }
}

/// A GitHub expression of context paths and string literals joined by
/// `&&` and `||` (the forms the renderer writes), evaluated with GitHub's
/// meaning: each operator gives one of its operands, `''` and `false` are
/// falsy.
fn github_expression(expression: &str) -> String {
    let truthy = |value: &str| !value.is_empty() && value != "false";
    let term = |term: &str| {
        let term = term.trim();
        match term
            .strip_prefix('\'')
            .and_then(|rest| rest.strip_suffix('\''))
        {
            Some(literal) => literal.to_owned(),
            None => github_value(term),
        }
    };
    let mut result = String::new();
    for alternative in expression.split("||") {
        let mut value = String::new();
        for operand in alternative.split("&&") {
            value = term(operand);
            if !truthy(&value) {
                break;
            }
        }
        result = value;
        if truthy(&result) {
            break;
        }
    }
    result
}

fn resolve_github(text: &str) -> String {
    let pattern = regex::Regex::new(r"\$\{\{(.*?)\}\}").unwrap();
    pattern
        .replace_all(text, |captures: &regex::Captures<'_>| {
            github_expression(&captures[1])
        })
        .into_owned()
}

/// GitLab's expansion of `$NAME`/`${NAME}` in `variables:` values, from
/// the variables known so far.
fn resolve_gitlab(text: &str, known: &BTreeMap<String, String>) -> String {
    let pattern = regex::Regex::new(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?").unwrap();
    pattern
        .replace_all(text, |captures: &regex::Captures<'_>| {
            known
                .get(&captures[1])
                .unwrap_or_else(|| panic!("a GitLab variable the test cannot resolve: {text}"))
                .clone()
        })
        .into_owned()
}

/// A job as bash runs it: its name, operation script and body.
struct Job {
    name: String,
    script: String,
}

fn job_script(env: &[(String, String)], commands: &[String]) -> String {
    let mut script = String::from("set -eo pipefail\ncd /src\n");
    for (key, value) in env {
        writeln!(script, "export {key}={}", quote(value)).unwrap();
    }
    for command in commands {
        script.push_str(command);
        script.push('\n');
    }
    script
}

/// Each GitHub job's `run:` steps up to the one running kayobe-automation
/// (later ones read its results) and config-diff's publishing step, each in
/// a shell of its own with its own `env:`, skipping those whose `if:` is
/// false.
fn github_jobs(files: &[(String, String)]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (path, contents) in files {
        let workflow = yaml::parse(contents, Path::new(path)).unwrap();
        let workflow = workflow.as_map().unwrap();
        for (id, job) in workflow["jobs"].as_map().unwrap() {
            let job = job.as_map().unwrap();
            let mut script = String::from("set -eo pipefail\n");
            let mut ran_operation = false;
            for step in list(&job["steps"]) {
                let step = step.as_map().unwrap();
                let Some(run) = step.get("run") else { continue };
                if ran_operation
                    && step.get("name").map(scalar).as_deref()
                        != Some("Publish the diff on the pull request")
                {
                    break;
                }
                if let Some(condition) = step.get("if") {
                    let condition = scalar(condition);
                    let condition = condition
                        .trim()
                        .trim_start_matches("${{")
                        .trim_end_matches("}}");
                    if github_expression(condition) != "true" {
                        continue;
                    }
                }
                let mut env = Vec::new();
                if let Some(vars) = step.get("env") {
                    for (key, value) in vars.as_map().unwrap() {
                        env.push((key.clone(), resolve_github(&scalar(value))));
                    }
                }
                let run = resolve_github(&scalar(run));
                writeln!(
                    script,
                    "(\n{})",
                    job_script(&env, std::slice::from_ref(&run))
                )
                .unwrap();
                ran_operation |= run.contains(".automation/pipeline/");
            }
            jobs.push(Job {
                name: format!(
                    "github-{}-{id}",
                    path.trim_start_matches(".github/workflows/")
                ),
                script,
            });
        }
    }
    jobs
}

fn gitlab_jobs(contents: &str) -> Vec<Job> {
    let pipeline = yaml::parse(contents, Path::new(".gitlab-ci.yml")).unwrap();
    let pipeline = pipeline.as_map().unwrap();
    let mut known: BTreeMap<String, String> = [
        ("CI_PROJECT_DIR", "/src"),
        ("CI_COMMIT_SHA", "fedcba9876543210fedcba9876543210fedcba98"),
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", TARGET_BRANCH),
        ("CI_PIPELINE_ID", "4242"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_MERGE_REQUEST_IID", "7"),
        ("CI_SERVER_URL", "https://gitlab.example"),
        (
            "CI_JOB_URL",
            "https://gitlab.example/operator/kayobe-config/-/jobs/99",
        ),
        // The project token an operator sets as a CI/CD variable.
        ("GITLAB_TOKEN", "gitlab-project-token"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    // GitLab's predefined variables reach every job's environment.
    let mut global: Vec<(String, String)> = known
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    for (key, value) in pipeline["variables"].as_map().unwrap() {
        // The batch an operator names when starting the hypervisor upgrade.
        let value = if key == "KAYOBE_AUTOMATION_UPGRADE_HOSTS" {
            UPGRADE_BATCH.to_owned()
        } else {
            resolve_gitlab(&scalar(value), &known)
        };
        known.insert(key.clone(), value.clone());
        global.push((key.clone(), value));
    }
    let mut jobs = Vec::new();
    for (name, job) in pipeline {
        let Some(job) = job.as_map() else { continue };
        if name.starts_with('.') || !job.contains_key("script") {
            continue;
        }
        let mut known = known.clone();
        let mut env = global.clone();
        if let Some(vars) = job.get("variables") {
            for (key, value) in vars.as_map().unwrap() {
                let value = resolve_gitlab(&scalar(value), &known);
                known.insert(key.clone(), value.clone());
                env.push((key.clone(), value));
            }
        }
        // What the `.openbao` before_script exports (run for real against
        // OpenBao by the end-to-end test): each name its secret's value.
        if let Some(keys) = known.get("BAO_SECRET_KEYS") {
            for pair in keys.split_whitespace() {
                let (variable, _) = pair.split_once('=').unwrap();
                let value = match variable {
                    "KAYOBE_VAULT_PASSWORD" => VAULT_PASSWORD,
                    "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY" => SSH_KEY,
                    _ => "value-from-openbao",
                };
                env.push((variable.to_owned(), value.to_owned()));
            }
        }
        let mut commands = Vec::new();
        if let Some(before) = job.get("before_script")
            && job.get("extends").map(scalar).as_deref() != Some(".openbao")
        {
            commands.extend(list(before).iter().map(scalar));
        }
        commands.extend(list(&job["script"]).iter().map(scalar));
        jobs.push(Job {
            name: format!("gitlab-{}", name.replace(':', "-")),
            script: job_script(&env, &commands),
        });
    }
    jobs
}

/// The example's GitHub and GitLab renders, as `(path, contents)` pairs.
fn renders(checkout: &Path) -> Vec<(String, String)> {
    let repo = ConfigRepo::open(&checkout.join("etc/kayobe"), None).unwrap();
    let secret = VaultSecret::from_file(&checkout.join(".vault-password")).unwrap();
    let mut files = Vec::new();
    for platform in [Platform::Github, Platform::Gitlab] {
        let writer = WriterConfig::from_repo(&repo, platform, Some(&secret)).unwrap();
        for file in render(&writer, &Templates::embedded()).unwrap().files {
            files.push((file.path.display().to_string(), file.contents));
        }
    }
    files
}

/// The checkout a job sees: the example config with the real
/// kayobe-automation as its `.automation` (`pipeline` is a link to
/// `scripts` there, which the snapshot keeps as a file naming its target).
fn checkout(dir: &Path, automation: &Path) {
    copy_dir(&example_repo(), dir);
    std::fs::write(dir.join("kayobe-env"), KAYOBE_ENV).unwrap();
    // Without it the scripts clone Kayobe from `$KAYOBE_BRANCH` instead.
    std::fs::write(dir.join("requirements.txt"), "kayobe\n").unwrap();
    let target = dir.join(".automation");
    for entry in ["functions", "scripts", "utils", "ansible"] {
        let from = automation.join(entry);
        if from.is_dir() {
            copy_dir(&from, &target.join(entry));
        } else {
            std::fs::create_dir_all(&target).unwrap();
            std::fs::copy(&from, target.join(entry)).unwrap();
        }
    }
    let link = std::fs::read_to_string(automation.join("pipeline")).unwrap();
    std::os::unix::fs::symlink(link.trim(), target.join("pipeline")).unwrap();
}

fn image_files(busybox: &Path, bash: &Path) -> Vec<(String, Vec<u8>, u32)> {
    // One layer: each step of a `nocache` build costs about a second.
    let mut install = String::from(
        "/ctx/busybox mkdir -p /bin /tmp && /ctx/busybox cp /ctx/busybox /bin/busybox && /bin/busybox --install -s /bin && mkdir -p /usr/local/bin /usr/bin /usr/sbin /stack/.ssh /etc && chmod 1777 /tmp && cp /ctx/bash /bin/bash && cp /ctx/passwd /ctx/group /etc/ && cp /ctx/mktemp /ctx/recorder /usr/local/bin/",
    );
    for target in STANDINS {
        write!(install, " && ln -s /usr/local/bin/recorder {target}").unwrap();
    }
    let dockerfile = format!(
        "FROM scratch\nCOPY . /ctx/\nRUN [\"/ctx/busybox\", \"sh\", \"-c\", \"{install} && rm -r /ctx\"]\n"
    );
    vec![
        ("Dockerfile".to_owned(), dockerfile.into_bytes(), 0o644),
        ("busybox".to_owned(), std::fs::read(busybox).unwrap(), 0o755),
        ("bash".to_owned(), std::fs::read(bash).unwrap(), 0o755),
        ("recorder".to_owned(), RECORDER.as_bytes().to_vec(), 0o755),
        ("mktemp".to_owned(), MKTEMP.as_bytes().to_vec(), 0o755),
        (
            "passwd".to_owned(),
            b"root:x:0:0:root:/stack:/bin/bash\n".to_vec(),
            0o644,
        ),
        ("group".to_owned(), b"root:x:0:\n".to_vec(), 0o644),
    ]
}

/// Runs every job one after another in one container (a fresh Kayobe
/// environment under `/stack` each time), leaving `<job>.out`, `.log` and
/// `.rc` in `out`.
fn driver(jobs: &[Job]) -> String {
    let mut driver = String::from("cd /out\n");
    for job in jobs {
        writeln!(
            driver,
            "rm -rf /stack/kayobe-automation-env /stack/.ssh/* /tmp/logs; env -i PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin HOME=/stack STANDIN_LOG=/out/{name}.log EXPECTED_VAULT_PASSWORD={password} EXPECTED_SSH_KEY={key} /bin/bash /out/{name}.sh > /out/{name}.out 2>&1 < /dev/null; echo $? > /out/{name}.rc; touch /out/{name}.log",
            name = job.name,
            password = quote(VAULT_PASSWORD),
            key = quote(SSH_KEY),
        )
        .unwrap();
    }
    driver
}

/// Operations whose kayobe-automation script fails after running Kayobe, and
/// the error it fails with: `overcloud-deployment-image-build.sh` raises its
/// pull request from a variable nothing sets.
const UPSTREAM_FAILURES: [(&str, &str); 1] = [(
    "overcloud-deployment-image-build",
    "KAYOBE_AUTOMATION_ENV_KAYOBE_CONFIG_PATH: unbound variable",
)];

/// The hypervisors the upgrade runbook's jobs are started on.
const UPGRADE_BATCH: &str = "compute01,compute02";

/// The Kayobe (or kolla-ansible) command line an operation reaches, as the
/// stand-in logs it, with the inputs the test gives.
fn expected_command(operation: &str) -> Option<String> {
    match operation {
        "config-diff" | "tempest" => None,
        other => Some(format!("CALL kayobe [{}]", other.replace('-', "] ["))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rendered_job_runs_the_real_scripts() {
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let Some(automation) = conformance("kayobe-automation") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    checkout(&src, &automation);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();

    let files = renders(&src);
    let mut jobs = Vec::new();
    for (path, contents) in &files {
        if path == ".gitlab-ci.yml" {
            jobs.extend(gitlab_jobs(contents));
        }
    }
    jobs.extend(github_jobs(
        &files
            .iter()
            .filter(|(path, _)| path.starts_with(".github/"))
            .cloned()
            .collect::<Vec<_>>(),
    ));
    // The image build's job runs docker, not kayobe-automation.
    jobs.retain(|job| job.script.contains(".automation/pipeline/"));
    assert!(jobs.len() > 30, "{} jobs", jobs.len());
    for job in &jobs {
        std::fs::write(out.join(format!("{}.sh", job.name)), &job.script).unwrap();
    }
    // Containers side by side, each its own `/stack`: one after another the
    // jobs take over a minute.
    let shards: Vec<&[Job]> = jobs.chunks(jobs.len().div_ceil(SHARDS)).collect();
    for (index, shard) in shards.iter().enumerate() {
        std::fs::write(out.join(format!("driver-{index}.sh")), driver(shard)).unwrap();
    }

    let image = unique_tag("jobs-run");
    let _cleanup = RemoveImages(vec![image.clone()]);
    let context = image_files(&busybox, &bash);
    let context: Vec<(&str, &[u8], u32)> = context
        .iter()
        .map(|(path, content, mode)| (path.as_str(), content.as_slice(), *mode))
        .collect();
    build_test_image(&docker, &image, &context).await;
    let runs: Vec<_> = (0..shards.len())
        .map(|index| {
            Command::new("docker")
                .args(["run", "--rm", "--network=none", "--label"])
                .arg(format!("kayobe-automation.test={image}"))
                .arg("--volume")
                .arg(format!("{}:/src", src.display()))
                .arg("--volume")
                .arg(format!("{}:/out", out.display()))
                .args([&image, "/bin/bash"])
                .arg(format!("/out/driver-{index}.sh"))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }

    let operation_pattern = regex::Regex::new(r"\.automation/pipeline/([a-z-]+)\.sh").unwrap();
    let mut failures = Vec::new();
    for job in &jobs {
        let read =
            |ext: &str| std::fs::read_to_string(out.join(format!("{}.{ext}", job.name))).unwrap();
        let (rc, output, log) = (read("rc"), read("out"), read("log"));
        let operation = &operation_pattern.captures(&job.script).unwrap()[1];
        let mut problems = Vec::new();
        match UPSTREAM_FAILURES
            .iter()
            .find(|(name, _)| *name == operation)
        {
            Some((_, error)) if rc.trim() == "0" || !output.contains(error) => {
                problems.push(format!("not the known failure `{error}`"));
            }
            Some(_) => {}
            None if rc.trim() != "0" => problems.push(format!("exit {}", rc.trim())),
            None => {}
        }
        for secret in [VAULT_PASSWORD, "b3BlbnNzaC1rZXktdGVzdA"] {
            if output.contains(secret) {
                problems.push("a secret in the output".to_owned());
            }
        }
        if let Some(expected) = expected_command(operation) {
            if !log.lines().any(|line| line.starts_with(&expected)) {
                problems.push(format!("no `{expected}`"));
            }
            for arrived in ["VAULT ok", "KEYFILE ok"] {
                if !log.contains(arrived) {
                    problems.push(format!("not `{arrived}`"));
                }
            }
        }
        if job.name.contains("in-place-hypervisor-host-upgrade") {
            let limit = format!("[--limit] [{UPGRADE_BATCH}]");
            if !log
                .lines()
                .any(|line| line.starts_with("CALL kayobe") && line.contains(&limit))
            {
                problems.push(format!("no `{limit}`"));
            }
        }
        // Deploys first ask the remote whether their commit is still the
        // default branch's head.
        if job.script.contains("git ls-remote origin")
            && !log.contains("CALL git [ls-remote] [origin] [refs/heads/main]")
        {
            problems.push("no head check".to_owned());
        }
        if operation == "config-diff" {
            let revision = if job.name.starts_with("github") {
                REVISION.to_owned()
            } else {
                format!("origin/{TARGET_BRANCH}")
            };
            // Then our own diff, published on the change.
            let published = if job.name.starts_with("github") {
                format!(
                    "CALL kayobe-automation [--config-path] [/src/etc/kayobe] [config-diff] [--base] [{REVISION}] [--target] [HEAD] [--format] [html] [--out] [/tmp/kayobe-config-diff.html] [--publish] [github] [--change] [7] [--commit] [{PULL_REQUEST_HEAD}] [--report-url] [https://github.example/operator/kayobe-config/actions/runs/4242] [--api-url] ["
                )
            } else {
                format!(
                    "CALL kayobe-automation [--config-path] [/src/etc/kayobe] [config-diff] [--base] [origin/{TARGET_BRANCH}] [--target] [fedcba9876543210fedcba9876543210fedcba98] [--format] [html] [--out] [/src/artifacts/config-diff.html] [--publish] [gitlab] [--report-url] [https://gitlab.example/operator/kayobe-config/-/jobs/99/artifacts/file/artifacts/config-diff.html] [--api-url] [https://gitlab.example]"
                )
            };
            if !log.lines().any(|line| line.starts_with(&published)) {
                problems.push(format!("no `{published}`"));
            }
            for expected in [
                format!("CALL git [checkout] [{revision}]"),
                format!("CALL git [merge] [--no-edit] [{revision}]"),
            ] {
                if !log.contains(&expected) {
                    problems.push(format!("no `{expected}`"));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({operation}): {}\n--- log\n{log}--- output (tail)\n{}",
                job.name,
                problems.join(", "),
                output
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
