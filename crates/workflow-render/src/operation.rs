//! The operations kayobe automation runs.

use std::fmt;

/// What kind of job an operation is: it decides triggers, permissions and
/// whether a GitLab job waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Builds and pushes the Kayobe image.
    BuildImage,
    /// Diffs the generated configuration of a merge/pull request.
    ConfigDiff,
    /// Runs Tempest, on a schedule and on demand.
    Tempest,
    /// A Kayobe command that changes the cloud: on demand only.
    Kayobe {
        /// It also runs kolla-ansible, so it takes kolla limits and tags.
        kolla: bool,
    },
}

/// One operation: a workflow on GitHub, a job per environment on GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operation(usize);

/// (name, kind) of every operation, in the order files and jobs are rendered.
const OPERATIONS: &[(&str, Kind)] = &[
    ("build-kayobe-docker-image", Kind::BuildImage),
    ("config-diff", Kind::ConfigDiff),
    ("tempest", Kind::Tempest),
    ("infra-vm-host-configure", Kind::Kayobe { kolla: false }),
    (
        "infra-vm-host-package-update",
        Kind::Kayobe { kolla: false },
    ),
    ("infra-vm-provision", Kind::Kayobe { kolla: false }),
    ("infra-vm-service-deploy", Kind::Kayobe { kolla: false }),
    ("network-connectivity-check", Kind::Kayobe { kolla: false }),
    (
        "overcloud-container-image-pull",
        Kind::Kayobe { kolla: true },
    ),
    ("overcloud-database-backup", Kind::Kayobe { kolla: true }),
    ("overcloud-host-configure", Kind::Kayobe { kolla: true }),
    (
        "overcloud-host-package-update",
        Kind::Kayobe { kolla: false },
    ),
    (
        "overcloud-inventory-discover",
        Kind::Kayobe { kolla: false },
    ),
    ("overcloud-provision", Kind::Kayobe { kolla: false }),
    ("overcloud-service-deploy", Kind::Kayobe { kolla: true }),
    ("overcloud-service-upgrade", Kind::Kayobe { kolla: true }),
    ("seed-host-configure", Kind::Kayobe { kolla: true }),
    ("seed-host-package-update", Kind::Kayobe { kolla: false }),
    (
        "seed-hypervisor-host-configure",
        Kind::Kayobe { kolla: false },
    ),
    (
        "seed-hypervisor-host-package-update",
        Kind::Kayobe { kolla: false },
    ),
    ("seed-service-deploy", Kind::Kayobe { kolla: true }),
    ("seed-vm-provision", Kind::Kayobe { kolla: false }),
];

impl Operation {
    /// Every operation, in rendering order.
    pub fn all() -> impl Iterator<Item = Operation> {
        (0..OPERATIONS.len()).map(Operation)
    }

    /// The operation called `name` (e.g. `overcloud-service-deploy`).
    pub fn from_name(name: &str) -> Option<Operation> {
        OPERATIONS
            .iter()
            .position(|(known, _)| *known == name)
            .map(Operation)
    }

    /// Its name, also the name of its `.automation/pipeline/<name>.sh` script.
    pub fn name(self) -> &'static str {
        OPERATIONS[self.0].0
    }

    /// What kind of job it is.
    pub fn kind(self) -> Kind {
        OPERATIONS[self.0].1
    }

    /// The GitHub workflow file it is written to.
    pub fn github_file(self) -> String {
        match self.kind() {
            Kind::BuildImage => format!("{}.yml", self.name()),
            _ => format!("run-{}.yml", self.name()),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of every operation, for error messages.
pub(crate) fn names() -> String {
    OPERATIONS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}
