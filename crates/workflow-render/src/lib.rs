//! Render CI definitions for a Kayobe config repository.
//!
//! A writer config ([`WriterConfig`], read from the `github-writer` or
//! `gitlab-writer` group_vars through `kayobe-config`) goes in; [`render`]
//! gives the files (GitHub Actions workflows, one per operation, or a GitLab
//! `.gitlab-ci.yml`) and the secrets and variables they reference; [`write()`]
//! puts them on disk atomically, checks them, or prunes files of disabled
//! operations.
//!
//! ```no_run
//! use std::path::Path;
//! use kayobe_config::repo::ConfigRepo;
//! use workflow_render::{Mode, Platform, Templates, WriterConfig, render, write};
//!
//! let repo = ConfigRepo::open(Path::new("etc/kayobe"), None)?;
//! let config = WriterConfig::from_repo(&repo, Platform::Github, None)?;
//! let rendered = render(&config, &Templates::embedded())?;
//! let report = write(&rendered, repo.root(), Mode::Write)?;
//! assert!(report.is_up_to_date() || !report.written.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Templates are minijinja, embedded in the crate; a user's template
//! directory may replace any of them ([`Templates::with_overrides`]). Every
//! scalar a template prints goes through a `json` filter, so no value in the
//! writer config can change the shape of the YAML, and no `${{ }}` expression
//! is ever expanded inside a `run:` script: values reach scripts through `env:`.

mod collection;
mod config;
mod render;
mod templates;
mod workflow;
mod write;

pub use config::{
    Buildx, ConfigError, ConfigWarning, ExtraInput, GitlabSecrets, Hooks, Image, InputType,
    OperationSettings, Platform, Registry, Selector, WriterConfig, deployment_environment,
};
pub use kayobe_config::locate::Place;
pub use render::{Reference, ReferenceKind, RenderError, Rendered, RenderedFile, render};
pub use templates::Templates;
pub use workflow::{Kind, Workflow};
pub use write::{Mode, WriteError, WriteReport, write};
