//! Retries with backoff on 429 and 5xx, honouring `Retry-After`, and a
//! timeout on every attempt: one loop shared by both backends.

use std::future::Future;
use std::time::Duration;

use crate::PlatformError;

/// How often and how long to try a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The first backoff; it doubles with each retry.
    pub base_delay: Duration,
    /// The longest wait between attempts, including a `Retry-After` the
    /// platform asks for; a longer request gives up instead of hanging.
    pub max_delay: Duration,
    /// The time one attempt may take.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// An HTTP method, as both backends need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// The method as both HTTP clients take it.
    pub(crate) fn as_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Patch => http::Method::PATCH,
            Method::Delete => http::Method::DELETE,
        }
    }

    /// Whether repeating the call after a timeout cannot do the work twice.
    fn idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }
}

/// One answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    /// GitLab's `X-Next-Page` (GitHub sends none).
    pub next_page: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// An answer from its status, headers and body, whichever HTTP client
    /// brought it (both speak `http` 1).
    pub(crate) fn new(status: http::StatusCode, headers: &http::HeaderMap, body: Vec<u8>) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Self {
            status: status.as_u16(),
            retry_after: header("retry-after").and_then(parse_retry_after),
            next_page: header("x-next-page")
                .filter(|page| !page.is_empty())
                .map(str::to_owned),
            body,
        }
    }

    /// The answer's JSON as `T`, or a `Decode` error naming the call.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        call: &Call,
    ) -> Result<T, PlatformError> {
        serde_json::from_slice(&self.body).map_err(|error| PlatformError::Decode {
            platform: call.platform,
            method: call.method.as_str().to_owned(),
            path: call.path.clone(),
            reason: error.to_string(),
        })
    }
}

/// What is being called, for errors and logs.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub platform: &'static str,
    pub method: Method,
    /// The API path without its query.
    pub path: String,
}

impl Call {
    /// Describes a call to `path`; the query is left out of errors.
    pub(crate) fn new(platform: &'static str, method: Method, path: &str) -> Self {
        let path = path.split('?').next().unwrap_or(path).to_owned();
        Self {
            platform,
            method,
            path,
        }
    }

    /// An error for an unexpected status, with the platform's `message`.
    pub(crate) fn status_error(&self, answer: &Answer) -> PlatformError {
        let message = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| match v.get("message") {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                Some(other) => Some(other.to_string()),
                None => None,
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
        let message: String = message.chars().take(300).collect();
        PlatformError::Status {
            platform: self.platform,
            method: self.method.as_str().to_owned(),
            path: self.path.clone(),
            status: answer.status,
            message: if message.is_empty() {
                "(no message)".to_owned()
            } else {
                message
            },
        }
    }
}

/// One backend's API: how it sends a single attempt of a call. The retries
/// ([`Api::send`]) and the status check ([`Api::expect`]) are the same for
/// every backend and live here.
pub(crate) trait Api: Sync {
    /// `GitHub` or `GitLab`, for errors and logs.
    const PLATFORM: &'static str;

    /// How often and how long to try each call.
    fn policy(&self) -> &RetryPolicy;

    /// Sends `method path` (the path below the API's base URL, query
    /// included) once, authenticated, with `body` as JSON, and reads the
    /// answer whole; a transport failure is its error text (which never
    /// holds a header, so never the token).
    fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> impl Future<Output = Result<Answer, String>> + Send;

    /// Sends one call, retried as the policy says, and returns the answer
    /// whatever its status.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> impl Future<Output = Result<(Call, Answer), PlatformError>> + Send {
        async move {
            let call = Call::new(Self::PLATFORM, method, path);
            let answer =
                send_with_retry(self.policy(), &call, || self.attempt(method, path, body)).await?;
            Ok((call, answer))
        }
    }

    /// Sends one call and accepts only the `expected` statuses.
    fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        expected: &[u16],
    ) -> impl Future<Output = Result<(Call, Answer), PlatformError>> + Send {
        async move {
            let (call, answer) = self.send(method, path, body).await?;
            if expected.contains(&answer.status) {
                Ok((call, answer))
            } else {
                Err(call.status_error(&answer))
            }
        }
    }
}

/// The id of what a call created or read, which is all most answers are read for.
#[derive(serde::Deserialize)]
pub(crate) struct IdJson {
    pub(crate) id: u64,
}

/// [`Api::expect`] for calls whose 403 means the token lacks a permission:
/// the error then says which (`needed`) rather than only the status.
pub(crate) async fn expect_permitted<A: Api + ?Sized>(
    api: &A,
    (method, path, body): (Method, &str, Option<&serde_json::Value>),
    expected: &[u16],
    action: impl FnOnce() -> String,
    needed: &'static str,
) -> Result<(Call, Answer), PlatformError> {
    let (call, answer) = api.send(method, path, body).await?;
    if expected.contains(&answer.status) {
        Ok((call, answer))
    } else if answer.status == 403 {
        Err(PlatformError::Permission {
            platform: A::PLATFORM,
            action: action(),
            needed,
        })
    } else {
        Err(call.status_error(&answer))
    }
}

/// Reads a `Retry-After` header: seconds, or an HTTP date (then the wait is
/// unknown here and the backoff is used).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Sends `attempt()` until it gives a non-retryable answer, following `policy`.
async fn send_with_retry<F, Fut>(
    policy: &RetryPolicy,
    call: &Call,
    mut attempt: F,
) -> Result<Answer, PlatformError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Answer, String>>,
{
    let attempts = policy.attempts.max(1);
    let mut delay = policy.base_delay;
    let mut number = 0;
    loop {
        number += 1;
        let last = number >= attempts;
        match tokio::time::timeout(policy.timeout, attempt()).await {
            Err(_elapsed) => {
                tracing::warn!(
                    platform = call.platform,
                    method = call.method.as_str(),
                    path = call.path.as_str(),
                    attempt = number,
                    "no answer within {:?}",
                    policy.timeout
                );
                if last || !call.method.idempotent() {
                    return Err(PlatformError::Timeout {
                        platform: call.platform,
                        method: call.method.as_str().to_owned(),
                        path: call.path.clone(),
                        timeout: policy.timeout,
                        attempts: number,
                    });
                }
            }
            Ok(Err(reason)) => {
                if last || !call.method.idempotent() {
                    return Err(PlatformError::Transport {
                        platform: call.platform,
                        method: call.method.as_str().to_owned(),
                        path: call.path.clone(),
                        reason,
                    });
                }
            }
            Ok(Ok(answer)) => {
                let retryable = answer.status == 429 || (500..600).contains(&answer.status);
                if !retryable {
                    return Ok(answer);
                }
                let wait = answer.retry_after.unwrap_or(delay);
                tracing::warn!(
                    platform = call.platform,
                    method = call.method.as_str(),
                    path = call.path.as_str(),
                    status = answer.status,
                    attempt = number,
                    "retrying in {wait:?}"
                );
                if last || wait > policy.max_delay {
                    return Err(PlatformError::GaveUp {
                        platform: call.platform,
                        method: call.method.as_str().to_owned(),
                        path: call.path.clone(),
                        status: answer.status,
                        attempts: number,
                    });
                }
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(policy.max_delay);
                continue;
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(policy.max_delay);
    }
}

/// An error and its causes on one line (reqwest's own text omits the cause).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::parse_retry_after;
    use std::time::Duration;

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
