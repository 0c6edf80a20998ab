//! The minijinja templates: embedded in the crate, each overridable by a file
//! of the same name in a user's template directory.

use std::path::{Path, PathBuf};

use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

/// (name, text) of every embedded template.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "github/workflow.yml.j2",
        include_str!("../templates/github/workflow.yml.j2"),
    ),
    (
        "github/build-kayobe-docker-image.yml.j2",
        include_str!("../templates/github/build-kayobe-docker-image.yml.j2"),
    ),
    (
        "gitlab/gitlab-ci.yml.j2",
        include_str!("../templates/gitlab/gitlab-ci.yml.j2"),
    ),
];

/// The templates to render with.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The embedded templates only.
    pub fn embedded() -> Templates {
        Templates::new(None)
    }

    /// The embedded templates, each replaced by `dir/<name>` when that file
    /// exists (names: `github/workflow.yml.j2`,
    /// `github/build-kayobe-docker-image.yml.j2`, `gitlab/gitlab-ci.yml.j2`).
    pub fn with_overrides(dir: &Path) -> Templates {
        Templates::new(Some(dir.to_path_buf()))
    }

    /// The names of the templates, for users writing overrides.
    pub fn names() -> impl Iterator<Item = &'static str> {
        EMBEDDED.iter().map(|(name, _)| *name)
    }

    fn new(dir: Option<PathBuf>) -> Templates {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("json", json);
        env.set_loader(move |name| {
            if let Some(dir) = &dir {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|error| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("cannot read template {}", path.display()),
                        )
                        .with_source(error)
                    });
                }
            }
            Ok(EMBEDDED
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, text)| (*text).to_owned()))
        });
        Templates { env }
    }

    pub(crate) fn render(
        &self,
        name: &str,
        context: impl serde::Serialize,
    ) -> Result<String, Error> {
        self.env.get_template(name)?.render(context)
    }
}

/// A value as JSON text, which is also a YAML flow value: every scalar a
/// template prints goes through it, so no text can change the YAML's shape.
fn json(value: minijinja::Value) -> Result<String, Error> {
    serde_json::to_string(&value).map_err(|error| {
        Error::new(
            ErrorKind::InvalidOperation,
            "value cannot be written as JSON",
        )
        .with_source(error)
    })
}
