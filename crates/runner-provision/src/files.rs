//! The files a runner host needs: GitHub runner directories and systemd
//! units, gitlab-runner's `config.toml`, the Docker registry auth file.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ci_platform::Secret;
use kayobe_config::Value;

use crate::definitions::{GitHubHost, GitHubRunner, GitLabHost, RegistryAuth};

/// Where gitlab-runner reads its configuration.
pub const GITLAB_CONFIG: &str = "/etc/gitlab-runner/config.toml";
/// The Docker registry auth file, mounted read-only into jobs.
pub const DOCKER_AUTH: &str = "/opt/.docker/config.json";

/// One file on a runner host.
#[derive(Clone, PartialEq, Eq)]
pub struct HostFile {
    /// Absolute path on the host.
    pub path: String,
    /// Unix permission bits.
    pub mode: u32,
    /// Whether the contents hold a secret (never printed).
    pub sensitive: bool,
    contents: String,
}

impl HostFile {
    fn new(path: String, mode: u32, sensitive: bool, contents: String) -> Self {
        Self {
            path,
            mode,
            sensitive,
            contents,
        }
    }

    /// The file's contents (secrets included when `sensitive`).
    pub fn contents(&self) -> &str {
        &self.contents
    }
}

impl fmt::Debug for HostFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let contents = if self.sensitive {
            "<redacted>"
        } else {
            &self.contents
        };
        f.debug_struct("HostFile")
            .field("path", &self.path)
            .field("mode", &format_args!("{:o}", self.mode))
            .field("contents", &contents)
            .finish()
    }
}

/// The runner's name on GitHub: `<hostname>-<key>`.
pub fn github_runner_name(host: &str, key: &str) -> String {
    format!("{host}-{key}")
}

/// The runner's directory, `<base_runner_dir>/<key>`.
pub fn github_runner_dir(github: &GitHubHost, runner: &GitHubRunner) -> String {
    format!("{}/{}", github.base_dir.trim_end_matches('/'), runner.key)
}

/// The systemd unit path: `actions.runner.<account>-<repo>.<hostname>-<key>.service`,
/// the name the runner's own `svc.sh` would give it.
pub fn github_unit_path(github: &GitHubHost, host: &str, runner: &GitHubRunner) -> String {
    format!(
        "/etc/systemd/system/actions.runner.{}-{}.{}.service",
        github.account,
        github.repo,
        github_runner_name(host, &runner.key)
    )
}

/// The environment file holding a runner's one-time registration.
pub fn github_registration_path(github: &GitHubHost, runner: &GitHubRunner) -> String {
    format!("{}/registration.env", github_runner_dir(github, runner))
}

/// The systemd unit of one GitHub runner. On first start it registers the
/// runner with the token from `registration.env` (the runner's `.runner`
/// file marks it registered), then runs it.
pub fn github_unit(github: &GitHubHost, host: &str, runner: &GitHubRunner) -> HostFile {
    let dir = github_runner_dir(github, runner);
    let name = github_runner_name(host, &runner.key);
    let contents = format!(
        "[Unit]\n\
         Description=GitHub Actions Runner ({account}-{repo}.{name})\n\
         After=network-online.target docker.service\n\
         Wants=network-online.target\n\
         \n\
         [Service]\n\
         User={user}\n\
         WorkingDirectory={dir}\n\
         EnvironmentFile=-{dir}/registration.env\n\
         ExecStartPre=/bin/sh -c 'test -f .runner || ./config.sh --unattended --replace --url \"$RUNNER_URL\" --token \"$RUNNER_TOKEN\" --name \"$RUNNER_NAME\" --labels \"$RUNNER_LABELS\"'\n\
         ExecStart={dir}/run.sh\n\
         Restart=always\n\
         KillMode=process\n\
         KillSignal=SIGTERM\n\
         TimeoutStopSec=5min\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        account = github.account,
        repo = github.repo,
        user = github.runner_user,
    );
    HostFile::new(
        github_unit_path(github, host, runner),
        0o644,
        false,
        contents,
    )
}

/// The registration environment of one GitHub runner, with its token.
pub fn github_registration(
    github: &GitHubHost,
    host: &str,
    runner: &GitHubRunner,
    token: &Secret,
) -> HostFile {
    let contents = format!(
        "RUNNER_URL={}\nRUNNER_NAME={}\nRUNNER_LABELS={}\nRUNNER_TOKEN={}\n",
        github.repo_url,
        github_runner_name(host, &runner.key),
        runner.labels.join(","),
        text(token)
    );
    HostFile::new(
        github_registration_path(github, runner),
        0o600,
        true,
        contents,
    )
}

/// A token or password as text. Every one here was made from text (the
/// runner definitions' YAML, the platform's JSON), so nothing is replaced.
fn text(secret: &Secret) -> Cow<'_, str> {
    String::from_utf8_lossy(secret.expose())
}

/// The Docker auth file: `{"auths": {"<registry>": {"auth": base64("user:pass")}}}`.
pub fn docker_auth(registry: &RegistryAuth) -> HostFile {
    let auth = STANDARD.encode(format!(
        "{}:{}",
        registry.username,
        text(&registry.password)
    ));
    let json = serde_json::json!({"auths": {registry.registry.as_str(): {"auth": auth}}});
    let mut contents = serde_json::to_string_pretty(&json).unwrap_or_default();
    contents.push('\n');
    HostFile::new(DOCKER_AUTH.to_owned(), 0o600, true, contents)
}

/// A GitLab runner's credential as `config.toml` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabToken {
    /// The runner id, when the runner was created through the API.
    pub id: Option<u64>,
    /// The runner's authentication token.
    pub token: Secret,
}

/// gitlab-runner's `config.toml` for one host, with each runner's token
/// from `tokens` (by runner name); runners without a token are left out.
pub fn gitlab_config(gitlab: &GitLabHost, tokens: &BTreeMap<String, GitLabToken>) -> HostFile {
    let mut root = toml::Table::new();
    root.insert("concurrent".into(), toml::Value::Integer(gitlab.concurrent));
    root.insert("check_interval".into(), toml::Value::Integer(0));
    let mut runners = Vec::new();
    for runner in &gitlab.runners {
        let Some(credential) = tokens.get(&runner.name) else {
            continue;
        };
        let mut table = toml::Table::new();
        table.insert("name".into(), runner.name.clone().into());
        table.insert("url".into(), gitlab.coordinator_url.clone().into());
        if let Some(id) = credential.id {
            table.insert("id".into(), toml::Value::Integer(id as i64));
        }
        table.insert(
            "token".into(),
            toml::Value::String(text(&credential.token).into_owned()),
        );
        table.insert("executor".into(), runner.executor.clone().into());
        if !runner.env_vars.is_empty() {
            table.insert("environment".into(), strings(&runner.env_vars));
        }
        if runner.executor == "docker" {
            let mut docker = toml::Table::new();
            if let Some(image) = &runner.docker_image {
                docker.insert("image".into(), image.clone().into());
            }
            docker.insert("volumes".into(), strings(&runner.docker_volumes));
            table.insert("docker".into(), toml::Value::Table(docker));
        }
        for (path, settings) in &runner.extra_configs {
            // `runners.docker` names the table inside this runner's entry.
            let inner = path.strip_prefix("runners").unwrap_or(path);
            let mut target = &mut table;
            for segment in inner.split('.').filter(|s| !s.is_empty()) {
                let entry = target
                    .entry(segment.to_owned())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if !entry.is_table() {
                    *entry = toml::Value::Table(toml::Table::new());
                }
                target = entry.as_table_mut().expect("made a table just above");
            }
            if let Value::Map(settings) = settings {
                for (key, value) in settings {
                    if let Some(value) = to_toml(value) {
                        target.insert(key.clone(), value);
                    }
                }
            }
        }
        runners.push(toml::Value::Table(table));
    }
    root.insert("runners".into(), toml::Value::Array(runners));
    let contents = toml::to_string(&root).unwrap_or_default();
    HostFile::new(GITLAB_CONFIG.to_owned(), 0o600, true, contents)
}

/// The runners an existing `config.toml` holds: name → id and token.
pub fn read_gitlab_config(text: &str) -> BTreeMap<String, GitLabToken> {
    let mut tokens = BTreeMap::new();
    let Ok(root) = text.parse::<toml::Table>() else {
        return tokens;
    };
    let Some(toml::Value::Array(runners)) = root.get("runners") else {
        return tokens;
    };
    for runner in runners {
        let (Some(name), Some(token)) = (
            runner.get("name").and_then(toml::Value::as_str),
            runner.get("token").and_then(toml::Value::as_str),
        ) else {
            continue;
        };
        let id = runner
            .get("id")
            .and_then(toml::Value::as_integer)
            .and_then(|id| u64::try_from(id).ok());
        tokens.insert(
            name.to_owned(),
            GitLabToken {
                id,
                token: Secret::new(token),
            },
        );
    }
    tokens
}

fn strings(items: &[String]) -> toml::Value {
    toml::Value::Array(items.iter().map(|s| s.clone().into()).collect())
}

fn to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(flag) => toml::Value::Boolean(*flag),
        Value::Int(number) => toml::Value::Integer(*number),
        Value::Float(number) => toml::Value::Float(*number),
        Value::String(text) | Value::Unsafe(text) => text.clone().into(),
        // Ciphertext is no setting; a vaulted value must be a variable of its own.
        Value::Vault(_) => return None,
        Value::List(items) => toml::Value::Array(items.iter().filter_map(to_toml).collect()),
        Value::Map(map) => toml::Value::Table(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), to_toml(v)?)))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_auth_is_base64_user_colon_password() {
        let file = docker_auth(&RegistryAuth {
            registry: "reg:4000".into(),
            username: "kolla".into(),
            password: Secret::new("pw"),
        });
        assert_eq!(file.path, DOCKER_AUTH);
        assert_eq!(file.mode, 0o600);
        let json: serde_json::Value = serde_json::from_str(file.contents()).unwrap();
        assert_eq!(json["auths"]["reg:4000"]["auth"], "a29sbGE6cHc=");
        assert!(!format!("{file:?}").contains("a29sbGE6cHc="));
    }

    #[test]
    fn unreadable_config_toml_holds_no_runners() {
        assert!(read_gitlab_config("not [toml").is_empty());
        assert!(read_gitlab_config("concurrent = 1").is_empty());
        let tokens = read_gitlab_config("[[runners]]\nname = \"a\"\ntoken = \"t\"\nid = -1\n");
        assert_eq!(tokens["a"].id, None);
        assert_eq!(tokens["a"].token.expose(), b"t");
    }
}
