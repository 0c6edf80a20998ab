//! The bootstrap steps, each one checked against the server before it is done.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value as Json;
use vaultrs::api::auth::oidc::requests::{SetConfigurationRequest, SetRoleRequest};
use vaultrs::api::sys::requests::EnableEngineRequest;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use std::path::{Path, PathBuf};

use crate::keys::{KeysFile, KeysFileError, UnsealKeys};
use crate::secrets::EnvironmentSecrets;
use crate::server::{Server, data};

/// The KV engine's mount path (without the trailing `/`).
pub const MOUNT: &str = "kayobe-automation";
/// The name of the read policy the JWT role grants.
pub const POLICY_NAME: &str = "kayobe-automation";
/// The policy's rules: read every environment's secret (for KV version 2,
/// `kayobe-automation/data/<env>` matches too).
pub const POLICY: &str = "path \"kayobe-automation/*\" {\n  capabilities = [\"read\"]\n}\n";
/// The JWT role pipelines log in with.
pub const ROLE: &str = "gitlab";
/// How long an unsealed server may take to become active.
const ACTIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Where the JWT auth method is mounted.
const JWT_MOUNT: &str = "jwt";

/// The KV secrets engine version mounted at `kayobe-automation/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KvVersion {
    /// Version 1, which today's pipelines read (`GET /v1/kayobe-automation/<env>`).
    #[default]
    V1,
    /// Version 2 (`GET /v1/kayobe-automation/data/<env>`).
    V2,
}

impl KvVersion {
    fn number(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
        }
    }
}

/// Which steps to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every step: init, unseal, KV mount, secrets, policy, JWT auth.
    #[default]
    Full,
    /// Only unseal (if sealed) and write the secrets, on a server a full
    /// bootstrap has set up (it is never initialised in this mode).
    SecretsOnly,
}

/// The JWT auth settings for GitLab's ID tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    /// Where OpenBao fetches the signing keys (GitLab: `<gitlab>/oauth/discovery/keys`).
    pub jwks_url: String,
    /// The `iss` tokens must have (GitLab: its URL).
    pub bound_issuer: String,
    /// The `aud` tokens must have (the pipelines use the OpenBao address).
    pub bound_audiences: Vec<String>,
    /// The GitLab project whose pipelines may log in (`project_id` claim).
    pub project_id: String,
    /// The claim naming the token's user.
    pub user_claim: String,
    /// How long a login's token lives at most, in seconds.
    pub token_explicit_max_ttl_seconds: u64,
}

impl JwtSettings {
    /// GitLab's settings: keys from `<gitlab_url>/oauth/discovery/keys`,
    /// issuer `gitlab_url`, audience `audience` (usually the OpenBao address),
    /// user claim `user_email`, tokens living 15 minutes at most.
    pub fn gitlab(
        gitlab_url: &str,
        project_id: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        let issuer = gitlab_url.trim_end_matches('/');
        Self {
            jwks_url: format!("{issuer}/oauth/discovery/keys"),
            bound_issuer: issuer.to_owned(),
            bound_audiences: vec![audience.into()],
            project_id: project_id.into(),
            user_claim: "user_email".to_owned(),
            token_explicit_max_ttl_seconds: 900,
        }
    }
}

/// What to bootstrap and how.
#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    /// The server's address, e.g. `http://127.0.0.1:8200`.
    pub addr: String,
    /// Where the unseal keys and root token are kept.
    pub keys_file: KeysFile,
    /// Key shares made at init.
    pub key_shares: u8,
    /// Key shares needed to unseal.
    pub key_threshold: u8,
    /// The KV engine version to mount.
    pub kv_version: KvVersion,
    /// JWT auth settings; `None` leaves JWT auth alone.
    pub jwt: Option<JwtSettings>,
    /// Which steps to run.
    pub mode: Mode,
}

impl BootstrapOptions {
    /// Options with the defaults: 5 shares, threshold 3, KV version 1, full
    /// mode, no JWT auth.
    pub fn new(addr: impl Into<String>, keys_file: KeysFile) -> Self {
        Self {
            addr: addr.into(),
            keys_file,
            key_shares: 5,
            key_threshold: 3,
            kv_version: KvVersion::V1,
            jwt: None,
            mode: Mode::Full,
        }
    }
}

/// One thing a bootstrap changed on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The server was initialised and the keys file written.
    Initialised,
    /// The server was unsealed.
    Unsealed,
    /// The KV engine was mounted.
    MountedKv(KvVersion),
    /// An environment's secret was written (it was missing or different).
    SecretWritten(String),
    /// The policy was written.
    PolicyWritten,
    /// The JWT auth method was enabled.
    JwtAuthEnabled,
    /// `auth/jwt/config` was written.
    JwtConfigWritten,
    /// The role `gitlab` was written.
    JwtRoleWritten,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Initialised => f.write_str("initialised OpenBao and wrote the keys file"),
            Self::Unsealed => f.write_str("unsealed OpenBao"),
            Self::MountedKv(version) => {
                write!(f, "mounted KV version {} at {MOUNT}/", version.number())
            }
            Self::SecretWritten(environment) => write!(f, "wrote secret {MOUNT}/{environment}"),
            Self::PolicyWritten => write!(f, "wrote policy {POLICY_NAME}"),
            Self::JwtAuthEnabled => f.write_str("enabled JWT auth at auth/jwt/"),
            Self::JwtConfigWritten => f.write_str("wrote auth/jwt/config"),
            Self::JwtRoleWritten => write!(f, "wrote JWT role {ROLE}"),
        }
    }
}

/// What a bootstrap did: empty when the server was already as wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The changes, in the order they were made.
    pub changes: Vec<Change>,
}

/// Why a bootstrap stopped. Never holds key material, tokens or secret values.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The server could not be reached.
    #[error("cannot {action} OpenBao at {addr}: {source}")]
    Http {
        /// The server.
        addr: String,
        /// What was being done.
        action: &'static str,
        /// The HTTP error.
        source: reqwest::Error,
    },
    /// The server answered a plain request with an error status.
    #[error("cannot {action} OpenBao at {addr}: it answered HTTP {status}")]
    Status {
        /// The server.
        addr: String,
        /// What was being done.
        action: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// The server's answer was not what OpenBao sends.
    #[error(
        "cannot {action} OpenBao at {addr}: its answer is not what OpenBao sends; is this an OpenBao server?"
    )]
    UnexpectedResponse {
        /// The server.
        addr: String,
        /// What was being done.
        action: &'static str,
    },
    /// A vaultrs call failed.
    #[error("cannot {action} on OpenBao at {addr}: {source}")]
    Api {
        /// The server.
        addr: String,
        /// What was being done.
        action: &'static str,
        /// vaultrs' error (server messages, never request bodies).
        source: ClientError,
    },
    /// The keys file could not be read or written.
    #[error(transparent)]
    KeysFile(#[from] KeysFileError),
    /// The server was initialised but its keys could not be written: they
    /// were printed on standard error instead, the only copy left.
    #[error(
        "OpenBao at {addr} was initialised but its keys could not be written to {path} ({source}); they were printed above on standard error: save them somewhere safe NOW, then write them to {path} (mode 0600) and run again"
    )]
    KeysOnlyOnTerminal {
        /// The server.
        addr: String,
        /// The keys file.
        path: PathBuf,
        /// Why writing failed.
        #[source]
        source: Box<KeysFileError>,
    },
    /// The server is initialised but there are no keys to unseal or log in.
    #[error(
        "OpenBao at {addr} is already initialised but the keys file {path} does not exist: it is never initialised again (that would lose its data); restore the keys file from your backup to that path, or name the file where it is"
    )]
    InitialisedWithoutKeys {
        /// The server.
        addr: String,
        /// The missing keys file.
        path: PathBuf,
    },
    /// The server is not initialised but a keys file exists: its keys belong
    /// to another server and must not be overwritten.
    #[error(
        "OpenBao at {addr} is not initialised, but the keys file {path} already exists (keys of another server?): it is never overwritten; move it away if it is no longer needed, or name another keys file"
    )]
    KeysFileOfAnotherServer {
        /// The server.
        addr: String,
        /// The existing keys file.
        path: PathBuf,
    },
    /// Adding secrets needs a server a full bootstrap has set up.
    #[error(
        "OpenBao at {addr} is not bootstrapped ({missing}): bootstrap it fully first, not only its secrets"
    )]
    NotBootstrapped {
        /// The server.
        addr: String,
        /// What is missing.
        missing: &'static str,
    },
    /// The keys did not unseal the server.
    #[error(
        "the keys in {path} do not unseal OpenBao at {addr} (still sealed after {given} keys, {threshold} needed): is it the keys file of this server?"
    )]
    StillSealed {
        /// The server.
        addr: String,
        /// The keys file.
        path: PathBuf,
        /// Keys given.
        given: usize,
        /// Keys needed.
        threshold: u64,
    },
    /// Something else is mounted at `kayobe-automation/`.
    #[error(
        "OpenBao at {addr} has {found} mounted at {MOUNT}/, not KV version {wanted}: ask for the KV version it has, or move that mount away"
    )]
    MountMismatch {
        /// The server.
        addr: String,
        /// What is mounted.
        found: String,
        /// The version asked for.
        wanted: &'static str,
    },
    /// Something other than JWT auth is mounted at `auth/jwt/`.
    #[error(
        "OpenBao at {addr} has a `{found}` auth method at auth/jwt/, not `jwt`: disable it, then run again"
    )]
    AuthMismatch {
        /// The server.
        addr: String,
        /// The auth method type found.
        found: String,
    },
}

/// Runs the bootstrap (see the crate documentation) and reports what changed.
pub async fn bootstrap(
    options: &BootstrapOptions,
    secrets: &[EnvironmentSecrets],
) -> Result<Report, BootstrapError> {
    let server = Server::new(&options.addr)?;
    let mut report = Report::default();
    let keys = initialise(&server, options, &mut report).await?;
    unseal(&server, options, &keys, &mut report).await?;
    let client = vault_client(&server, &keys.root_token)?;
    let token = keys.root_token.as_str();
    match options.mode {
        Mode::Full => mount_kv(&server, &client, token, options.kv_version, &mut report).await?,
        Mode::SecretsOnly => {
            if mounted_kv(&server, token).await?.is_none() {
                return Err(BootstrapError::NotBootstrapped {
                    addr: server.addr().to_owned(),
                    missing: "no KV engine at kayobe-automation/",
                });
            }
        }
    }
    let kv_version = mounted_kv(&server, token)
        .await?
        .unwrap_or(options.kv_version);
    for environment in secrets {
        write_secret(
            &server,
            &client,
            token,
            kv_version,
            environment,
            &mut report,
        )
        .await?;
    }
    if options.mode == Mode::Full {
        write_policy(&server, &client, token, &mut report).await?;
        if let Some(jwt) = &options.jwt {
            configure_jwt(&server, &client, token, jwt, &mut report).await?;
        }
    }
    Ok(report)
}

fn record(report: &mut Report, change: Change) {
    tracing::info!("{change}");
    report.changes.push(change);
}

fn api_error(server: &Server, action: &'static str) -> impl FnOnce(ClientError) -> BootstrapError {
    let addr = server.addr().to_owned();
    move |source| BootstrapError::Api {
        addr,
        action,
        source,
    }
}

/// Initialises the server if needed (writing the keys file before anything
/// else), and returns the keys.
async fn initialise(
    server: &Server,
    options: &BootstrapOptions,
    report: &mut Report,
) -> Result<UnsealKeys, BootstrapError> {
    let status = server.seal_status().await?;
    let keys_file = &options.keys_file;
    if status.initialized {
        let keys = keys_file
            .read()?
            .ok_or_else(|| BootstrapError::InitialisedWithoutKeys {
                addr: server.addr().to_owned(),
                path: keys_file.path().to_path_buf(),
            })?;
        if let Some(mode) = keys_file.loose_mode() {
            eprintln!(
                "warning: the OpenBao keys file {} has mode {mode:04o}: others can read the unseal keys and root token; run `chmod 600 {}`",
                keys_file.path().display(),
                keys_file.path().display()
            );
        }
        return Ok(keys);
    }
    if options.mode == Mode::SecretsOnly {
        return Err(BootstrapError::NotBootstrapped {
            addr: server.addr().to_owned(),
            missing: "not initialised",
        });
    }
    if keys_file.exists() {
        return Err(BootstrapError::KeysFileOfAnotherServer {
            addr: server.addr().to_owned(),
            path: keys_file.path().to_path_buf(),
        });
    }
    // Keys that cannot be written once the server is initialised are lost:
    // their space is set aside and synced first, so a full disk fails here.
    let reserved = keys_file.reserve()?;
    let client = vault_client(server, "")?;
    let response = vaultrs::sys::start_initialization(
        &client,
        options.key_shares.into(),
        options.key_threshold.into(),
        None,
    )
    .await
    .map_err(api_error(server, "initialise"))?;
    let keys = UnsealKeys {
        keys: response.keys,
        keys_base64: response.keys_base64,
        root_token: response.root_token,
    };
    if let Err(source) = reserved.fill(&keys) {
        // Anything but nowhere: the terminal is the last place left.
        print_keys_loudly(&mut std::io::stderr().lock(), keys_file.path(), &keys);
        return Err(BootstrapError::KeysOnlyOnTerminal {
            addr: server.addr().to_owned(),
            path: keys_file.path().to_path_buf(),
            source: Box::new(source),
        });
    }
    // The first thing said once the keys exist, whatever fails later (and
    // printed here, not by the caller, so a later failure cannot hide it).
    eprintln!(
        "OpenBao at {} is initialised: its unseal keys and root token are in {} (mode 0600), the only copy; back it up now",
        server.addr(),
        keys_file.path().display()
    );
    record(report, Change::Initialised);
    Ok(keys)
}

/// Writes `keys` to `out` between loud warnings: they could not be written
/// to `path`, and this is their only copy.
fn print_keys_loudly(out: &mut impl std::io::Write, path: &Path, keys: &UnsealKeys) {
    let json = serde_json::to_string_pretty(keys).expect("plain strings serialise");
    let rule = "!".repeat(78);
    let _ = writeln!(
        out,
        "{rule}\nOpenBao WAS INITIALISED BUT ITS KEYS COULD NOT BE WRITTEN TO {}.\n\
         BELOW ARE THE ONLY COPY OF THE UNSEAL KEYS AND ROOT TOKEN: SAVE THEM NOW.\n{rule}\n{json}\n{rule}",
        path.display()
    );
    let _ = out.flush();
}

async fn unseal(
    server: &Server,
    options: &BootstrapOptions,
    keys: &UnsealKeys,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let status = server.seal_status().await?;
    if !status.sealed {
        return server.wait_active(ACTIVE_TIMEOUT).await;
    }
    let client = vault_client(server, "")?;
    if status.progress > 0 {
        // Keys given by an interrupted run would count twice otherwise.
        vaultrs::sys::unseal(&client, None, Some(true), None)
            .await
            .map_err(api_error(server, "reset the unseal progress"))?;
    }
    let mut given = 0;
    for key in &keys.keys_base64 {
        let response = vaultrs::sys::unseal(&client, Some(key.clone()), None, None)
            .await
            .map_err(api_error(server, "unseal"))?;
        given += 1;
        if !response.sealed {
            break;
        }
    }
    let status = server.seal_status().await?;
    if status.sealed {
        return Err(BootstrapError::StillSealed {
            addr: server.addr().to_owned(),
            path: options.keys_file.path().to_path_buf(),
            given,
            threshold: status.threshold,
        });
    }
    record(report, Change::Unsealed);
    server.wait_active(ACTIVE_TIMEOUT).await
}

fn vault_client(server: &Server, token: &str) -> Result<VaultClient, BootstrapError> {
    let settings = VaultClientSettingsBuilder::default()
        .address(server.addr())
        .token(token)
        .build()
        .map_err(|_| BootstrapError::UnexpectedResponse {
            addr: server.addr().to_owned(),
            action: "use the address of",
        })?;
    VaultClient::new(settings).map_err(api_error(server, "connect"))
}

/// The KV version mounted at `kayobe-automation/`, `None` if nothing is.
/// Anything other than KV is an error.
async fn mounted_kv(server: &Server, token: &str) -> Result<Option<KvVersion>, BootstrapError> {
    let mounts = server
        .get("sys/mounts", Some(token))
        .await?
        .unwrap_or(Json::Null);
    let Some(mount) = data(&mounts).get(format!("{MOUNT}/")) else {
        return Ok(None);
    };
    let engine = mount.get("type").and_then(Json::as_str).unwrap_or("?");
    let version = mount
        .pointer("/options/version")
        .and_then(Json::as_str)
        .unwrap_or("1");
    match (engine, version) {
        ("kv", "1") => Ok(Some(KvVersion::V1)),
        ("kv", "2") => Ok(Some(KvVersion::V2)),
        _ => Err(BootstrapError::MountMismatch {
            addr: server.addr().to_owned(),
            found: format!("a `{engine}` engine (version {version})"),
            wanted: "1 or 2",
        }),
    }
}

async fn mount_kv(
    server: &Server,
    client: &VaultClient,
    token: &str,
    wanted: KvVersion,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    match mounted_kv(server, token).await? {
        Some(found) if found == wanted => Ok(()),
        Some(found) => Err(BootstrapError::MountMismatch {
            addr: server.addr().to_owned(),
            found: format!("KV version {}", found.number()),
            wanted: wanted.number(),
        }),
        None => {
            let options = HashMap::from([("version".to_owned(), wanted.number().to_owned())]);
            vaultrs::sys::mount::enable(
                client,
                MOUNT,
                "kv",
                Some(EnableEngineRequest::builder().options(options)),
            )
            .await
            .map_err(api_error(server, "mount the KV engine"))?;
            record(report, Change::MountedKv(wanted));
            if wanted == KvVersion::V2 {
                // A new version 2 engine answers 400 ("upgrading") for a moment.
                server
                    .wait_ok(&format!("{MOUNT}/config"), token, ACTIVE_TIMEOUT)
                    .await?;
            }
            Ok(())
        }
    }
}

async fn write_secret(
    server: &Server,
    client: &VaultClient,
    token: &str,
    version: KvVersion,
    secrets: &EnvironmentSecrets,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let environment = secrets.environment();
    let (read_path, current) = match version {
        KvVersion::V1 => (format!("{MOUNT}/{environment}"), "/data"),
        KvVersion::V2 => (format!("{MOUNT}/data/{environment}"), "/data/data"),
    };
    let existing = server.get(&read_path, Some(token)).await?;
    let existing: Option<BTreeMap<String, String>> = existing
        .as_ref()
        .and_then(|json| json.pointer(current))
        .and_then(|data| serde_json::from_value(data.clone()).ok());
    if existing.as_ref() == Some(secrets.values()) {
        return Ok(());
    }
    match version {
        KvVersion::V1 => {
            let values: HashMap<&str, &str> = secrets
                .values()
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect();
            vaultrs::kv1::set(client, MOUNT, environment, &values)
                .await
                .map_err(api_error(server, "write a secret"))?
        }
        KvVersion::V2 => {
            vaultrs::kv2::set(client, MOUNT, environment, secrets.values())
                .await
                .map_err(api_error(server, "write a secret"))?;
        }
    }
    record(report, Change::SecretWritten(environment.to_owned()));
    Ok(())
}

async fn write_policy(
    server: &Server,
    client: &VaultClient,
    token: &str,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let existing = server
        .get(&format!("sys/policy/{POLICY_NAME}"), Some(token))
        .await?;
    let rules = existing
        .as_ref()
        .and_then(|json| data(json).get("rules"))
        .and_then(Json::as_str);
    if rules == Some(POLICY) {
        return Ok(());
    }
    vaultrs::sys::policy::set(client, POLICY_NAME, POLICY)
        .await
        .map_err(api_error(server, "write the policy"))?;
    record(report, Change::PolicyWritten);
    Ok(())
}

async fn configure_jwt(
    server: &Server,
    client: &VaultClient,
    token: &str,
    jwt: &JwtSettings,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let auths = server
        .get("sys/auth", Some(token))
        .await?
        .unwrap_or(Json::Null);
    match data(&auths).get(format!("{JWT_MOUNT}/")) {
        Some(auth) => {
            let found = auth.get("type").and_then(Json::as_str).unwrap_or("?");
            if found != "jwt" {
                return Err(BootstrapError::AuthMismatch {
                    addr: server.addr().to_owned(),
                    found: found.to_owned(),
                });
            }
        }
        None => {
            vaultrs::sys::auth::enable(client, JWT_MOUNT, "jwt", None)
                .await
                .map_err(api_error(server, "enable JWT auth"))?;
            record(report, Change::JwtAuthEnabled);
        }
    }

    let config = server
        .get(&format!("auth/{JWT_MOUNT}/config"), Some(token))
        .await?;
    let config = config.as_ref().map(data);
    let config_matches = config.is_some_and(|config| {
        config.get("jwks_url").and_then(Json::as_str) == Some(jwt.jwks_url.as_str())
            && config.get("bound_issuer").and_then(Json::as_str) == Some(jwt.bound_issuer.as_str())
    });
    if !config_matches {
        vaultrs::auth::oidc::config::set(
            client,
            JWT_MOUNT,
            Some(
                SetConfigurationRequest::builder()
                    .jwks_url(jwt.jwks_url.clone())
                    .bound_issuer(jwt.bound_issuer.clone()),
            ),
        )
        .await
        .map_err(api_error(server, "write auth/jwt/config"))?;
        record(report, Change::JwtConfigWritten);
    }

    let role = server
        .get(&format!("auth/{JWT_MOUNT}/role/{ROLE}"), Some(token))
        .await?;
    let bound_claims = HashMap::from([("project_id".to_owned(), jwt.project_id.clone())]);
    let policies = vec![POLICY_NAME.to_owned()];
    let role_matches = role.as_ref().map(data).is_some_and(|role| {
        let text = |key: &str| role.get(key).and_then(Json::as_str).map(str::to_owned);
        let list = |key: &str| {
            role.get(key)
                .and_then(|value| serde_json::from_value::<Vec<String>>(value.clone()).ok())
        };
        let claims = role
            .get("bound_claims")
            .and_then(|value| serde_json::from_value::<HashMap<String, Json>>(value.clone()).ok())
            .map(|claims| {
                claims
                    .into_iter()
                    .map(|(key, value)| (key, claim_text(&value)))
                    .collect::<HashMap<_, _>>()
            });
        text("role_type").as_deref() == Some("jwt")
            && text("user_claim").as_deref() == Some(jwt.user_claim.as_str())
            && list("bound_audiences").as_ref() == Some(&jwt.bound_audiences)
            && list("token_policies").as_ref() == Some(&policies)
            && role.get("token_explicit_max_ttl").and_then(Json::as_u64)
                == Some(jwt.token_explicit_max_ttl_seconds)
            && claims.as_ref() == Some(&bound_claims)
    });
    if !role_matches {
        vaultrs::auth::oidc::role::set(
            client,
            JWT_MOUNT,
            ROLE,
            &jwt.user_claim,
            Vec::new(),
            Some(
                SetRoleRequest::builder()
                    .role_type("jwt")
                    .bound_audiences(jwt.bound_audiences.clone())
                    .bound_claims(bound_claims)
                    .token_explicit_max_ttl(format!("{}s", jwt.token_explicit_max_ttl_seconds))
                    .token_policies(policies),
            ),
        )
        .await
        .map_err(api_error(server, "write the JWT role"))?;
        record(report, Change::JwtRoleWritten);
    }
    Ok(())
}

/// A bound claim as text (OpenBao may return a one-element list).
fn claim_text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        Json::Array(items) if items.len() == 1 => claim_text(&items[0]),
        other => other.to_string(),
    }
}
