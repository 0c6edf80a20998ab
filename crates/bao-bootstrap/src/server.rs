//! Plain HTTP calls for what vaultrs does not offer (`sys/seal-status`) or
//! where reading a setting back as loose JSON is more robust than vaultrs'
//! typed responses (mounts, auth methods, policies, roles, secrets).

use serde::Deserialize;
use serde_json::Value as Json;

use crate::BootstrapError;

/// What `GET sys/seal-status` says.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SealStatus {
    pub initialized: bool,
    pub sealed: bool,
    /// Keys needed to unseal.
    #[serde(rename = "t")]
    pub threshold: u64,
    /// Keys given so far in an unseal in progress.
    pub progress: u64,
}

/// A connection to one server: its address and, once known, a token.
pub(crate) struct Server {
    http: reqwest::Client,
    addr: String,
}

impl Server {
    pub fn new(addr: &str) -> Result<Self, BootstrapError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|source| BootstrapError::Http {
                addr: addr.to_owned(),
                action: "set up an HTTP client for",
                source,
            })?;
        Ok(Self {
            http,
            addr: addr.trim_end_matches('/').to_owned(),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub async fn seal_status(&self) -> Result<SealStatus, BootstrapError> {
        let json = self
            .get("sys/seal-status", None)
            .await?
            .ok_or_else(|| self.unexpected("read the seal status of", 404))?;
        serde_json::from_value(json).map_err(|_| BootstrapError::UnexpectedResponse {
            addr: self.addr.clone(),
            action: "read the seal status of",
        })
    }

    /// Waits until the server is the active node (`sys/health` answers 200):
    /// with integrated storage an unsealed server elects itself leader only
    /// after a moment, and refuses writes until then.
    pub async fn wait_active(&self, timeout: std::time::Duration) -> Result<(), BootstrapError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let response = self
                .http
                .get(format!("{}/v1/sys/health", self.addr))
                .send()
                .await
                .map_err(|source| BootstrapError::Http {
                    addr: self.addr.clone(),
                    action: "check the health of",
                    source,
                })?;
            let status = response.status().as_u16();
            if status == 200 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.unexpected("wait to become the active node of", status));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Waits until `GET /v1/<path>` answers 200.
    pub async fn wait_ok(
        &self,
        path: &str,
        token: &str,
        timeout: std::time::Duration,
    ) -> Result<(), BootstrapError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.get(path, Some(token)).await {
                Ok(Some(_)) => return Ok(()),
                Ok(None) | Err(BootstrapError::Status { .. })
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Ok(None) => return Err(self.unexpected("read from", 404)),
                Err(error) => return Err(error),
            }
        }
    }

    /// `GET /v1/<path>`: the JSON body, or `None` on 404.
    pub async fn get(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> Result<Option<Json>, BootstrapError> {
        let mut request = self.http.get(format!("{}/v1/{path}", self.addr));
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token);
        }
        let response = request
            .send()
            .await
            .map_err(|source| BootstrapError::Http {
                addr: self.addr.clone(),
                action: "reach",
                source,
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.unexpected("read from", status.as_u16()));
        }
        let json =
            response
                .json::<Json>()
                .await
                .map_err(|_| BootstrapError::UnexpectedResponse {
                    addr: self.addr.clone(),
                    action: "read from",
                })?;
        Ok(Some(json))
    }

    fn unexpected(&self, action: &'static str, status: u16) -> BootstrapError {
        BootstrapError::Status {
            addr: self.addr.clone(),
            action,
            status,
        }
    }
}

/// The `data` of a response (Vault also repeats most of it at the top level).
pub(crate) fn data(json: &Json) -> &Json {
    json.get("data")
        .filter(|data| !data.is_null())
        .unwrap_or(json)
}
