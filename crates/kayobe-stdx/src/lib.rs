//! What kayobe-automation needs that is not Kayobe, in the manner of
//! rust-analyzer's `stdx`: the one output writer every command uses
//! ([`OutputFile`], [`write_output`], [`write_set`]) and the escaping of
//! untrusted text for terminals and HTML ([`escape_line`], [`escape_text`],
//! [`push_html`]) and for rendered Markdown ([`markdown`]), and the one
//! secret type with its reader ([`Secret`], [`read_secret`]). It depends on
//! none of the workspace's crates.

mod escape;
pub mod markdown;
mod output;
mod secret;

pub use escape::{escape_line, escape_text, push_html, push_html_head};
pub use output::{OutputError, OutputFile, OutputOptions, write_output, write_set};
pub use secret::{Secret, SecretNotUtf8, SecretSourceError, read_secret, secret_from_env};
