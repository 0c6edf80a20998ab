//! The operation catalogue: every script of kayobe-automation's `pipeline/`
//! directory (`.automation/pipeline/<name>.sh` in a configuration
//! repository), what arguments it takes, which of the `KAYOBE_LIMIT`,
//! `KAYOBE_TAGS`, `KOLLA_LIMIT`, `KOLLA_TAGS` inputs it reads, and whether it
//! may raise a pull request with what it changed (`pull_request` in
//! kayobe-automation's `functions`).
//!
//! Workflow rendering offers every operation (the default set is the one the
//! `stackhpc.kayobe_workflows` collection renders), and `run` runs any script
//! that exists in the checkout, so a newer kayobe-automation's scripts work
//! before this catalogue knows them.

use std::fmt;
use std::path::Path;

/// Where the pipeline scripts live, relative to the repository root.
pub const PIPELINE_DIR: &str = ".automation/pipeline";

/// The pipeline directory in the Kayobe container, below the checkout
/// mounted at `/src`.
pub const CONTAINER_PIPELINE_DIR: &str = "/src/.automation/pipeline";

/// What a script takes on its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arguments {
    /// Optional extra arguments, handed to `kayobe` after the command.
    KayobeExtra,
    /// Exactly one git revision to compare with (`config-diff`).
    Revision,
    /// A playbook path (relative to the repository root), then its extra
    /// arguments (`playbook-run`).
    Playbook,
    /// The kolla-ansible command and its arguments (`kolla-ansible-run`).
    KollaCommand,
    /// A script path (relative to the repository root), then its arguments
    /// (`script-run`).
    Script,
    /// The directory to generate the configuration into
    /// (`overcloud-service-configuration-generate`).
    NodeConfigDir,
    /// Nothing (the `runbook-*` scripts).
    None,
}

impl Arguments {
    /// What to write after the operation's name, for help and errors.
    pub fn usage(self) -> &'static str {
        match self {
            Arguments::KayobeExtra => "[KAYOBE-ARGS…]",
            Arguments::Revision => "REVISION",
            Arguments::Playbook => "PLAYBOOK [ARGS…]",
            Arguments::KollaCommand => "COMMAND [ARGS…]",
            Arguments::Script => "SCRIPT [ARGS…]",
            Arguments::NodeConfigDir => "NODE-CONFIG-DIR",
            Arguments::None => "",
        }
    }

    /// Whether `count` arguments fit.
    fn accepts(self, count: usize) -> bool {
        match self {
            Arguments::KayobeExtra => true,
            Arguments::Revision | Arguments::NodeConfigDir => count == 1,
            Arguments::Playbook | Arguments::KollaCommand | Arguments::Script => count >= 1,
            Arguments::None => count == 0,
        }
    }
}

/// The part of the cloud an operation works on: it decides the concurrency
/// group (GitHub) and the stage and resource group (GitLab), as the
/// collection groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Infrastructure VMs.
    InfraVm,
    /// The physical network.
    Network,
    /// The overcloud.
    Overcloud,
    /// The seed and its hypervisor.
    Seed,
    /// Tempest.
    Tempest,
    /// Checks of a merge or pull request (config-diff).
    MergeRequest,
    /// Operators' own playbooks, scripts and kolla-ansible commands.
    Custom,
    /// kayobe-automation's `runbook-*` scripts.
    Runbook,
}

impl Group {
    /// Its name: a GitLab stage, a concurrency and resource group.
    pub fn name(self) -> &'static str {
        match self {
            Group::InfraVm => "infra-vm",
            Group::Network => "network",
            Group::Overcloud => "overcloud",
            Group::Seed => "seed",
            Group::Tempest => "tempest",
            Group::MergeRequest => "merge-request",
            Group::Custom => "custom",
            Group::Runbook => "runbook",
        }
    }
}

/// Which default set of the collection an operation is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// The GitHub role's `github_workflows`.
    pub github: bool,
    /// The GitLab role's stages.
    pub gitlab: bool,
}

const BOTH: Defaults = Defaults {
    github: true,
    gitlab: true,
};
const GITLAB: Defaults = Defaults {
    github: false,
    gitlab: true,
};
const NEITHER: Defaults = Defaults {
    github: false,
    gitlab: false,
};

/// One pipeline script.
#[derive(Debug, PartialEq, Eq)]
pub struct Operation {
    name: &'static str,
    arguments: Arguments,
    kayobe_inputs: bool,
    kolla_inputs: bool,
    pull_request: bool,
    group: Group,
    defaults: Defaults,
}

/// Shorthand for the table below.
const fn op(
    name: &'static str,
    arguments: Arguments,
    kolla_inputs: bool,
    pull_request: bool,
    group: Group,
    defaults: Defaults,
) -> Operation {
    Operation {
        name,
        arguments,
        kayobe_inputs: true,
        kolla_inputs,
        pull_request,
        group,
        defaults,
    }
}

use Arguments as A;
use Group as G;

/// Every script of kayobe-automation's `pipeline/`, in name order. Kolla
/// inputs are offered where the Kayobe command runs kolla-ansible (Kayobe
/// passes `--kolla-limit`/`--kolla-tags` on to it); every script reading
/// `run_kayobe` honours all four, so the Kayobe inputs are offered
/// everywhere but `tempest` and `config-diff`, which take theirs from the
/// environment only. `pull_request` is set where the script ends with
/// kayobe-automation's `pull_request`.
const CATALOGUE: &[Operation] = &[
    Operation {
        kayobe_inputs: false,
        ..op(
            "config-diff",
            A::Revision,
            false,
            false,
            G::MergeRequest,
            BOTH,
        )
    },
    op(
        "infra-vm-host-configure",
        A::KayobeExtra,
        false,
        true,
        G::InfraVm,
        BOTH,
    ),
    op(
        "infra-vm-host-package-update",
        A::KayobeExtra,
        false,
        false,
        G::InfraVm,
        BOTH,
    ),
    op(
        "infra-vm-provision",
        A::KayobeExtra,
        false,
        true,
        G::InfraVm,
        BOTH,
    ),
    op(
        "infra-vm-service-deploy",
        A::KayobeExtra,
        false,
        true,
        G::InfraVm,
        BOTH,
    ),
    op(
        "kolla-ansible-run",
        A::KollaCommand,
        true,
        true,
        G::Custom,
        NEITHER,
    ),
    op(
        "network-connectivity-check",
        A::KayobeExtra,
        false,
        true,
        G::Network,
        BOTH,
    ),
    op(
        "overcloud-container-image-build",
        A::KayobeExtra,
        false,
        false,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-container-image-pull",
        A::KayobeExtra,
        true,
        false,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-database-backup",
        A::KayobeExtra,
        true,
        false,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-database-recover",
        A::KayobeExtra,
        true,
        false,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-deployment-image-build",
        A::KayobeExtra,
        false,
        true,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-host-command-run",
        A::KayobeExtra,
        false,
        false,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-host-configure",
        A::KayobeExtra,
        true,
        true,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-host-image-build",
        A::KayobeExtra,
        false,
        true,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-host-package-update",
        A::KayobeExtra,
        false,
        false,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-host-upgrade",
        A::KayobeExtra,
        false,
        false,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-inventory-discover",
        A::KayobeExtra,
        false,
        true,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-provision",
        A::KayobeExtra,
        false,
        true,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-service-configuration-generate",
        A::NodeConfigDir,
        true,
        true,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-service-deploy",
        A::KayobeExtra,
        true,
        true,
        G::Overcloud,
        BOTH,
    ),
    op(
        "overcloud-service-reconfigure",
        A::KayobeExtra,
        true,
        true,
        G::Overcloud,
        GITLAB,
    ),
    op(
        "overcloud-service-upgrade",
        A::KayobeExtra,
        true,
        true,
        G::Overcloud,
        BOTH,
    ),
    op(
        "physical-network-configure",
        A::KayobeExtra,
        false,
        true,
        G::Network,
        GITLAB,
    ),
    op("playbook-run", A::Playbook, false, true, G::Custom, NEITHER),
    op(
        "runbook-overcloud-deploy",
        A::None,
        true,
        true,
        G::Runbook,
        NEITHER,
    ),
    op(
        "runbook-overcloud-prepare-snapshot",
        A::None,
        false,
        false,
        G::Runbook,
        NEITHER,
    ),
    op(
        "runbook-overcloud-upgrade",
        A::None,
        true,
        true,
        G::Runbook,
        NEITHER,
    ),
    op(
        "runbook-overcloud-upgrade-staged",
        A::None,
        true,
        true,
        G::Runbook,
        NEITHER,
    ),
    op("script-run", A::Script, false, true, G::Custom, NEITHER),
    op(
        "seed-container-image-build",
        A::KayobeExtra,
        false,
        false,
        G::Seed,
        GITLAB,
    ),
    op(
        "seed-host-configure",
        A::KayobeExtra,
        true,
        true,
        G::Seed,
        BOTH,
    ),
    op(
        "seed-host-package-update",
        A::KayobeExtra,
        false,
        false,
        G::Seed,
        BOTH,
    ),
    op(
        "seed-hypervisor-host-configure",
        A::KayobeExtra,
        false,
        true,
        G::Seed,
        BOTH,
    ),
    op(
        "seed-hypervisor-host-package-update",
        A::KayobeExtra,
        false,
        false,
        G::Seed,
        BOTH,
    ),
    op(
        "seed-service-deploy",
        A::KayobeExtra,
        true,
        true,
        G::Seed,
        BOTH,
    ),
    op(
        "seed-vm-provision",
        A::KayobeExtra,
        false,
        true,
        G::Seed,
        BOTH,
    ),
    Operation {
        kayobe_inputs: false,
        ..op("tempest", A::KayobeExtra, false, false, G::Tempest, BOTH)
    },
];

impl Operation {
    /// Every operation, in name order.
    pub fn all() -> &'static [Operation] {
        CATALOGUE
    }

    /// The operation called `name` (its script's name without `.sh`).
    pub fn find(name: &str) -> Option<&'static Operation> {
        CATALOGUE.iter().find(|operation| operation.name == name)
    }

    /// Its name, also its script's name without `.sh`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What it takes on its command line.
    pub fn arguments(&self) -> Arguments {
        self.arguments
    }

    /// Whether it offers the `KAYOBE_LIMIT` and `KAYOBE_TAGS` inputs.
    pub fn takes_kayobe_inputs(&self) -> bool {
        self.kayobe_inputs
    }

    /// Whether it offers the `KOLLA_LIMIT` and `KOLLA_TAGS` inputs: its
    /// Kayobe command runs kolla-ansible.
    pub fn takes_kolla_inputs(&self) -> bool {
        self.kolla_inputs
    }

    /// Whether it may raise a pull request with what it changed
    /// (when `KAYOBE_AUTOMATION_PR_TYPE` is set).
    pub fn may_open_pull_request(&self) -> bool {
        self.pull_request
    }

    /// Whether it changes the cloud (deploys, configures, upgrades,
    /// provisions, updates packages, recovers a database, runs a runbook or
    /// whatever playbook, script or command it is given). Such operations are
    /// rendered to run only from reviewed commits. Those that only read the
    /// cloud, build or pull images, or generate files are not.
    pub fn changes_cloud(&self) -> bool {
        const LEAVE_CLOUD_AS_IS: &[&str] = &[
            "config-diff",
            "network-connectivity-check",
            "overcloud-database-backup",
            "overcloud-inventory-discover",
            "overcloud-service-configuration-generate",
            "tempest",
        ];
        !(LEAVE_CLOUD_AS_IS.contains(&self.name)
            || self.name.ends_with("-image-build")
            || self.name.ends_with("-image-pull"))
    }

    /// The part of the cloud it works on.
    pub fn group(&self) -> Group {
        self.group
    }

    /// Whether the collection renders it by default.
    pub fn collection_defaults(&self) -> Defaults {
        self.defaults
    }

    /// Its script, relative to the repository root.
    pub fn script(&self) -> String {
        format!("{PIPELINE_DIR}/{}.sh", self.name)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why an operation cannot be run as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// The checkout has no script of that name.
    #[error(
        "there is no operation `{name}`: `{PIPELINE_DIR}/{name}.sh` does not exist in the checkout; the operations there are: {available}"
    )]
    Unknown {
        /// The name given.
        name: String,
        /// The scripts the checkout has (none: the `.automation` submodule
        /// is missing).
        available: String,
    },
    /// The arguments do not fit the operation.
    #[error("`{name}` takes {usage}; got {given} argument(s)")]
    Arguments {
        /// The operation.
        name: &'static str,
        /// What it takes.
        usage: &'static str,
        /// How many were given.
        given: usize,
    },
}

/// An operation with its arguments: what `run` executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    name: String,
    known: Option<&'static Operation>,
    args: Vec<String>,
}

impl Invocation {
    /// The operation `name` with `args`, checked against the scripts of the
    /// checkout at `root`: its script must exist there. A script the
    /// catalogue does not know (a newer kayobe-automation) runs with the
    /// arguments as given.
    ///
    /// # Errors
    /// [`OperationError`] naming the scripts that exist, or what the
    /// operation takes.
    pub fn new(root: &Path, name: &str, args: Vec<String>) -> Result<Self, OperationError> {
        let scripts = available(root);
        let known = Operation::find(name);
        if !scripts.iter().any(|script| script == name) || name.contains('/') {
            return Err(OperationError::Unknown {
                name: name.to_owned(),
                available: if scripts.is_empty() {
                    format!(
                        "none (is the `.automation` submodule checked out? `git submodule update --init`), catalogue: {}",
                        names()
                    )
                } else {
                    scripts.join(", ")
                },
            });
        }
        if let Some(operation) = known {
            if !operation.arguments.accepts(args.len()) {
                return Err(OperationError::Arguments {
                    name: operation.name,
                    usage: match operation.arguments {
                        A::None => "no arguments",
                        other => other.usage(),
                    },
                    given: args.len(),
                });
            }
        }
        Ok(Invocation {
            name: name.to_owned(),
            known,
            args,
        })
    }

    /// Its name, also its script's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The catalogue's entry, when the catalogue knows it.
    pub fn operation(&self) -> Option<&'static Operation> {
        self.known
    }

    /// Whether kolla limits and tags apply (an unknown script may pass them
    /// to kolla-ansible, so they are allowed).
    pub fn runs_kolla_ansible(&self) -> bool {
        self.known.is_none_or(|operation| operation.kolla_inputs)
    }

    /// The command run in the container: bash, its script and arguments.
    /// Through bash, as the rendered jobs run them, because kayobe-automation
    /// does not mark every script executable.
    pub fn command(&self) -> Vec<String> {
        [
            "bash".to_owned(),
            format!("{CONTAINER_PIPELINE_DIR}/{}.sh", self.name),
        ]
        .into_iter()
        .chain(self.args.iter().cloned())
        .collect()
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The names of the scripts in the checkout's pipeline directory, sorted.
pub fn available(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(PIPELINE_DIR)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".sh")?;
            entry.path().is_file().then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names
}

/// Every catalogue name, comma-separated, for messages.
pub fn names() -> String {
    CATALOGUE
        .iter()
        .map(|operation| operation.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(scripts: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = dir.path().join(PIPELINE_DIR);
        std::fs::create_dir_all(&pipeline).unwrap();
        for script in scripts {
            std::fs::write(pipeline.join(format!("{script}.sh")), "#!/bin/bash\n").unwrap();
        }
        dir
    }

    #[test]
    fn names_are_unique_and_sorted() {
        let names: Vec<&str> = CATALOGUE.iter().map(Operation::name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 38);
    }

    #[test]
    fn operations_that_change_the_cloud() {
        let leave: Vec<&str> = CATALOGUE
            .iter()
            .filter(|operation| !operation.changes_cloud())
            .map(Operation::name)
            .collect();
        assert_eq!(
            leave,
            [
                "config-diff",
                "network-connectivity-check",
                "overcloud-container-image-build",
                "overcloud-container-image-pull",
                "overcloud-database-backup",
                "overcloud-deployment-image-build",
                "overcloud-host-image-build",
                "overcloud-inventory-discover",
                "overcloud-service-configuration-generate",
                "seed-container-image-build",
                "tempest",
            ]
        );
        for name in [
            "overcloud-database-recover",
            "overcloud-host-package-update",
            "playbook-run",
            "runbook-overcloud-upgrade",
            "seed-vm-provision",
        ] {
            assert!(Operation::find(name).unwrap().changes_cloud(), "{name}");
        }
    }

    #[test]
    fn a_script_in_the_checkout_runs_with_its_arguments() {
        let dir = checkout(&[
            "config-diff",
            "playbook-run",
            "seed-host-configure",
            "new-op",
        ]);
        let diff = Invocation::new(dir.path(), "config-diff", vec!["origin/main".into()]).unwrap();
        assert_eq!(
            diff.command(),
            [
                "bash",
                "/src/.automation/pipeline/config-diff.sh",
                "origin/main"
            ]
        );
        assert!(!diff.runs_kolla_ansible());
        let unknown = Invocation::new(dir.path(), "new-op", vec!["x".into()]).unwrap();
        assert!(unknown.operation().is_none() && unknown.runs_kolla_ansible());
        assert_eq!(
            Invocation::new(dir.path(), "config-diff", Vec::new()).unwrap_err(),
            OperationError::Arguments {
                name: "config-diff",
                usage: "REVISION",
                given: 0
            }
        );
        assert_eq!(
            Invocation::new(dir.path(), "playbook-run", Vec::new())
                .unwrap_err()
                .to_string(),
            "`playbook-run` takes PLAYBOOK [ARGS…]; got 0 argument(s)"
        );
    }

    #[test]
    fn a_missing_script_names_those_that_exist() {
        let dir = checkout(&["seed-host-configure", "tempest"]);
        let error = Invocation::new(dir.path(), "overcloud-service-deploy", Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with("the operations there are: seed-host-configure, tempest"),
            "{error}"
        );
        let empty = tempfile::tempdir().unwrap();
        let error = Invocation::new(empty.path(), "tempest", Vec::new())
            .unwrap_err()
            .to_string();
        assert!(error.contains("git submodule update --init"), "{error}");
        assert!(Invocation::new(dir.path(), "../tempest", Vec::new()).is_err());
    }
}
