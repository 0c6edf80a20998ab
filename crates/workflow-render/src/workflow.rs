//! What gets rendered: the Kayobe image build, plus one workflow (GitHub) or
//! job per environment (GitLab) for each operation of the catalogue in
//! `kayobe_config::operation`.

use std::fmt;

use kayobe_config::operation::{Group, Operation as Script};

/// What kind of job an operation is: it decides triggers, permissions and
/// whether a GitLab job waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Builds and pushes the Kayobe image.
    BuildImage,
    /// Diffs the generated configuration of a merge/pull request.
    ConfigDiff,
    /// Runs Tempest.
    Tempest,
    /// A pipeline script that changes the cloud: on demand only.
    Kayobe {
        /// It also runs kolla-ansible, so it takes kolla limits and tags.
        kolla: bool,
    },
}

/// The name of the image build, which is no pipeline script.
const BUILD_IMAGE: &str = "build-kayobe-docker-image";

/// One operation: a workflow on GitHub, a job per environment on GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workflow(usize);

impl Workflow {
    /// Every operation, in rendering order: the image build, then the
    /// catalogue's scripts.
    pub fn all() -> impl Iterator<Item = Workflow> {
        (0..=Script::all().len()).map(Workflow)
    }

    /// The operation called `name` (e.g. `overcloud-service-deploy`).
    pub fn from_name(name: &str) -> Option<Workflow> {
        Workflow::all().find(|operation| operation.name() == name)
    }

    /// The catalogue entry of its pipeline script (none for the image
    /// build).
    pub fn script(self) -> Option<&'static Script> {
        self.0.checked_sub(1).map(|index| &Script::all()[index])
    }

    /// Its name, also the name of its `.automation/pipeline/<name>.sh` script.
    pub fn name(self) -> &'static str {
        self.script().map_or(BUILD_IMAGE, Script::name)
    }

    /// What kind of job it is.
    pub fn kind(self) -> Kind {
        match self.script() {
            None => Kind::BuildImage,
            Some(script) if script.name() == "config-diff" => Kind::ConfigDiff,
            Some(script) if script.group() == Group::Tempest => Kind::Tempest,
            Some(script) => Kind::Kayobe {
                kolla: script.takes_kolla_inputs(),
            },
        }
    }

    /// Whether the collection renders it when the writer config says
    /// nothing about it.
    pub fn default_enabled(self, github: bool) -> bool {
        match self.script() {
            None => true,
            Some(script) if github => script.collection_defaults().github,
            Some(script) => script.collection_defaults().gitlab,
        }
    }

    /// Its concurrency group (GitHub) and stage and resource group (GitLab).
    pub fn group(self) -> &'static str {
        self.script()
            .map_or("build", |script| script.group().name())
    }

    /// Whether it may raise a pull request with what it changed.
    pub fn may_open_pull_request(self) -> bool {
        self.script().is_some_and(Script::may_open_pull_request)
    }

    /// Whether it changes the cloud (the image build does not).
    pub fn changes_cloud(self) -> bool {
        self.script().is_some_and(Script::changes_cloud)
    }

    /// The GitHub workflow file it is written to.
    pub fn github_file(self) -> String {
        match self.kind() {
            Kind::BuildImage => format!("{}.yml", self.name()),
            _ => format!("run-{}.yml", self.name()),
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of every operation, for error messages.
pub(crate) fn names() -> String {
    Workflow::all()
        .map(Workflow::name)
        .collect::<Vec<_>>()
        .join(", ")
}
