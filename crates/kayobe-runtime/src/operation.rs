//! The operations that run in the Kayobe container.
//!
//! Each runs `/src/.automation/pipeline/<name>.sh`, as the rendered workflows
//! do. The names are section 5's list (the one `workflow-render` renders
//! workflows for), except `build-kayobe-docker-image`, which is not run in
//! the container but builds it ([`crate::build_image`]), plus `playbook-run`
//! (a playbook path) and `kolla-ansible-run` (a kolla-ansible command).

use std::fmt;

/// The directory of the pipeline scripts in the container, below the
/// checkout mounted at `/src`.
pub const PIPELINE_DIR: &str = "/src/.automation/pipeline";

/// The section 5 operation that builds the image rather than running in it.
const BUILD_IMAGE: &str = "build-kayobe-docker-image";

/// (name, whether it also runs kolla-ansible and so takes kolla limits and
/// tags) of every operation run as a plain script, in section 5's order.
pub const OPERATIONS: &[(&str, bool)] = &[
    ("config-diff", false),
    ("tempest", false),
    ("infra-vm-host-configure", false),
    ("infra-vm-host-package-update", false),
    ("infra-vm-provision", false),
    ("infra-vm-service-deploy", false),
    ("network-connectivity-check", false),
    ("overcloud-container-image-pull", true),
    ("overcloud-database-backup", true),
    ("overcloud-host-configure", true),
    ("overcloud-host-package-update", false),
    ("overcloud-inventory-discover", false),
    ("overcloud-provision", false),
    ("overcloud-service-deploy", true),
    ("overcloud-service-upgrade", true),
    ("seed-host-configure", true),
    ("seed-host-package-update", false),
    ("seed-hypervisor-host-configure", false),
    ("seed-hypervisor-host-package-update", false),
    ("seed-service-deploy", true),
    ("seed-vm-provision", false),
];

/// Runs a playbook given by its path (relative to the repository root, or
/// absolute in the container).
pub const PLAYBOOK_RUN: &str = "playbook-run";
/// Runs a kolla-ansible command (`deploy`, `reconfigure`, …) through Kayobe.
pub const KOLLA_ANSIBLE_RUN: &str = "kolla-ansible-run";

/// One operation with its arguments: what the container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    name: &'static str,
    kolla: bool,
    args: Vec<String>,
}

/// An operation name or its arguments were wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// No operation has this name.
    #[error(
        "there is no operation `{name}`; the operations are: {}",
        known_names()
    )]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The image build is not run in the container.
    #[error(
        "`{BUILD_IMAGE}` builds the container rather than running in it: use `kayobe-automation image build`"
    )]
    BuildImage,
    /// `playbook-run` needs exactly one playbook path.
    #[error(
        "`{PLAYBOOK_RUN}` takes exactly one playbook path (relative to the repository root), e.g. `{PLAYBOOK_RUN} etc/kayobe/ansible/fix.yml`; got {given}"
    )]
    Playbook {
        /// How many arguments were given.
        given: usize,
    },
    /// `kolla-ansible-run` needs a kolla-ansible command.
    #[error(
        "`{KOLLA_ANSIBLE_RUN}` takes the kolla-ansible command to run, e.g. `{KOLLA_ANSIBLE_RUN} reconfigure`"
    )]
    KollaCommand,
    /// A fixed operation was given arguments.
    #[error(
        "`{name}` takes no arguments; limits and tags go in `--limit`, `--tags`, `--kolla-limit` and `--kolla-tags`"
    )]
    Arguments {
        /// The operation.
        name: &'static str,
    },
}

fn known_names() -> String {
    OPERATIONS
        .iter()
        .map(|(name, _)| *name)
        .chain([PLAYBOOK_RUN, KOLLA_ANSIBLE_RUN])
        .collect::<Vec<_>>()
        .join(", ")
}

impl Operation {
    /// The operation `name` with its arguments: none for section 5's
    /// operations, the playbook path for `playbook-run`, the kolla-ansible
    /// command for `kolla-ansible-run`.
    pub fn new(name: &str, args: Vec<String>) -> Result<Self, OperationError> {
        let (name, kolla) = match name {
            PLAYBOOK_RUN if args.len() == 1 => (PLAYBOOK_RUN, false),
            PLAYBOOK_RUN => return Err(OperationError::Playbook { given: args.len() }),
            KOLLA_ANSIBLE_RUN if !args.is_empty() => (KOLLA_ANSIBLE_RUN, true),
            KOLLA_ANSIBLE_RUN => return Err(OperationError::KollaCommand),
            BUILD_IMAGE => return Err(OperationError::BuildImage),
            _ => {
                let &(name, kolla) = OPERATIONS
                    .iter()
                    .find(|(known, _)| *known == name)
                    .ok_or_else(|| OperationError::Unknown {
                        name: name.to_owned(),
                    })?;
                if !args.is_empty() {
                    return Err(OperationError::Arguments { name });
                }
                (name, kolla)
            }
        };
        Ok(Self { name, kolla, args })
    }

    /// Its name, also its script's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether it runs kolla-ansible, so kolla limits and tags apply.
    pub fn runs_kolla_ansible(&self) -> bool {
        self.kolla
    }

    /// The command run in the container: its script and arguments.
    pub fn command(&self) -> Vec<String> {
        std::iter::once(format!("{PIPELINE_DIR}/{}.sh", self.name))
            .chain(self.args.iter().cloned())
            .collect()
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_runs_its_pipeline_script() {
        for (name, kolla) in OPERATIONS {
            let operation = Operation::new(name, Vec::new()).unwrap();
            assert_eq!(
                operation.command(),
                [format!("/src/.automation/pipeline/{name}.sh")]
            );
            assert_eq!(operation.runs_kolla_ansible(), *kolla);
        }
        assert_eq!(
            Operation::new(PLAYBOOK_RUN, vec!["etc/kayobe/ansible/fix.yml".into()])
                .unwrap()
                .command(),
            [
                "/src/.automation/pipeline/playbook-run.sh",
                "etc/kayobe/ansible/fix.yml"
            ]
        );
        let kolla = Operation::new(KOLLA_ANSIBLE_RUN, vec!["reconfigure".into()]).unwrap();
        assert!(kolla.runs_kolla_ansible());
        assert_eq!(
            kolla.command(),
            [
                "/src/.automation/pipeline/kolla-ansible-run.sh",
                "reconfigure"
            ]
        );
    }

    #[test]
    fn wrong_names_and_arguments_say_what_to_do() {
        let unknown = Operation::new("overcloud-deploy", Vec::new()).unwrap_err();
        assert!(
            unknown.to_string().contains("overcloud-service-deploy, ")
                && unknown
                    .to_string()
                    .ends_with("playbook-run, kolla-ansible-run"),
            "{unknown}"
        );
        assert_eq!(
            Operation::new(BUILD_IMAGE, Vec::new()).unwrap_err(),
            OperationError::BuildImage
        );
        assert_eq!(
            Operation::new(PLAYBOOK_RUN, Vec::new()).unwrap_err(),
            OperationError::Playbook { given: 0 }
        );
        assert_eq!(
            Operation::new(KOLLA_ANSIBLE_RUN, Vec::new()).unwrap_err(),
            OperationError::KollaCommand
        );
        assert_eq!(
            Operation::new("seed-host-configure", vec!["x".into()]).unwrap_err(),
            OperationError::Arguments {
                name: "seed-host-configure"
            }
        );
    }
}
