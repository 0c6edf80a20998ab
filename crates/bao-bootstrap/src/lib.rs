//! OpenBao as the runners' secret store.
//!
//! [`bootstrap`] brings a running OpenBao server to the state GitLab pipelines
//! need, step by step, each step checked before it is done so a second run
//! changes nothing and an interrupted run can simply be run again:
//!
//! 1. **init** (5 key shares, threshold 3 by default) when the server is not
//!    initialised, and the keys **immediately** written to the keys file
//!    ([`KeysFile`]: atomic, mode 0600, optionally ansible-vault encrypted).
//!    A server that is initialised while the keys file is missing is an
//!    error: it is never initialised again, and keys are never overwritten;
//! 2. **unseal** with the keys file's `keys_base64`, confirmed with
//!    `GET sys/seal-status`;
//! 3. a **KV engine** at `kayobe-automation/` (version 1 by default,
//!    [`KvVersion::V2`] as an option);
//! 4. one **secret per environment** at `kayobe-automation/<env>`
//!    ([`EnvironmentSecrets`], from the vaulted configuration);
//! 5. the **policy** `kayobe-automation` (read on `kayobe-automation/*`);
//! 6. **JWT auth** at `auth/jwt/` with `auth/jwt/config` (`jwks_url`,
//!    `bound_issuer`) and the role `gitlab` ([`JwtSettings`]).
//!
//! [`Mode::SecretsOnly`] does steps 1 (never initialising), 2 and 4 only,
//! to add environments to a bootstrapped server.
//!
//! Before that, [`deploy::deploy`] can run OpenBao in Docker on the runner
//! host (image built from the static `bao` binary, storage on a named volume,
//! listening on the loopback interface).
//!
//! Talks to the server with vaultrs, and with plain HTTP for
//! `sys/seal-status` and for reading settings back. Key material, the root
//! token and secret values never appear in logs, errors or `Debug` output.

mod bootstrap;
pub mod deploy;
mod keys;
mod secrets;
mod server;

pub use bootstrap::{
    BootstrapError, BootstrapOptions, Change, JwtSettings, KvVersion, MOUNT, Mode, POLICY,
    POLICY_NAME, ROLE, Report, bootstrap,
};
pub use keys::{KeysFile, KeysFileError, UnsealKeys};
pub use secrets::{EnvironmentSecrets, SecretsError};
