//! The fingerprint of what the Kayobe image bakes in.
//!
//! Inputs, each digested on its own so a stale image can name what changed:
//! the Ansible Galaxy requirements ([`GALAXY_REQUIREMENTS`]), the Python
//! requirements ([`PYTHON_REQUIREMENTS`]), the Dockerfile and every other file
//! in its directory (the context), each by its repository-relative path, and
//! every build argument (`build-arg NAME`: the base image, the kayobe and
//! kolla-ansible versions, `KAYOBE_USER_UID`/`KAYOBE_USER_GID`), and the
//! `kayobe-automation` binary the image carries for CI jobs ([`CLI_INPUT`],
//! when [`BuildOptions::cli`] names one).
//!
//! The binary is digested by its bytes alone: they fix its version, and a
//! binary named with `--cli-binary` may be another version than the one
//! running. An image built without the binary lacks that input, so it is
//! stale for options that want one (reported as lacking it, see
//! [`crate::image::ImageStatus::WithoutCli`]), and an image with it is stale
//! for options that want none: fresh always means a build would change
//! nothing.
//!
//! The build context sent to the engine holds exactly these files, so
//! nothing the build can see escapes the fingerprint. A file that does not
//! exist is simply not an input: creating or deleting it is a change.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::image::{BuildOptions, ImageError};

/// The Ansible Galaxy requirements, relative to the repository root.
pub const GALAXY_REQUIREMENTS: &str = "etc/kayobe/ansible/requirements.yml";
/// The Python requirements (kayobe, kolla-ansible), relative to the repository root.
pub const PYTHON_REQUIREMENTS: &str = "requirements.txt";
/// The input name of the `kayobe-automation` binary the image carries.
pub const CLI_INPUT: &str = "kayobe-automation binary";
/// The label holding the overall fingerprint (SHA-256, hex).
pub const FINGERPRINT_LABEL: &str = "org.kayobe-automation.fingerprint";
/// The label holding the per-input digests as a JSON object.
pub const INPUTS_LABEL: &str = "org.kayobe-automation.inputs";

/// Per-input SHA-256 digests (hex), by input name, in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    inputs: BTreeMap<String, String>,
}

/// The files the image bakes in, relative to the repository root, in name
/// order; the Dockerfile's directory must not be the repository root (the
/// whole checkout would become the context).
pub(crate) fn baked_files(options: &BuildOptions) -> Result<Vec<PathBuf>, ImageError> {
    let dockerfile = &options.dockerfile;
    let context = dockerfile.parent().unwrap_or(Path::new(""));
    if context.as_os_str().is_empty() || dockerfile.is_absolute() {
        return Err(ImageError::DockerfilePlace {
            path: dockerfile.clone(),
        });
    }
    if !options.repo.join(dockerfile).is_file() {
        return Err(ImageError::NoDockerfile {
            path: options.repo.join(dockerfile),
        });
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(options.repo.join(context)).follow_links(true) {
        let entry = entry.map_err(|error| ImageError::Read {
            path: error
                .path()
                .map_or_else(|| options.repo.join(context), Path::to_path_buf),
            source: error.into(),
        })?;
        if entry.file_type().is_file() {
            let relative = entry
                .path()
                .strip_prefix(&options.repo)
                .expect("walked below the repository root");
            files.push(relative.to_path_buf());
        }
    }
    for fixed in [GALAXY_REQUIREMENTS, PYTHON_REQUIREMENTS] {
        if options.repo.join(fixed).is_file() {
            files.push(PathBuf::from(fixed));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// A file's digest: its executable bit (the build copies modes) and content.
fn file_digest(path: &Path) -> Result<String, ImageError> {
    let read_error = |source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mode = std::fs::metadata(path)
        .map_err(read_error)?
        .permissions()
        .mode();
    let content = std::fs::read(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    hasher.update(if mode & 0o111 != 0 { b"x" } else { b"-" });
    hasher.update(&content);
    Ok(hex::encode(hasher.finalize()))
}

impl Fingerprint {
    /// Digests the inputs of a build with these options.
    pub fn of(options: &BuildOptions) -> Result<Self, ImageError> {
        let dockerfile = Self::of_dockerfile(options)?;
        let Some(cli) = &options.cli else {
            return Ok(dockerfile);
        };
        let binary = std::fs::read(cli).map_err(|source| ImageError::Read {
            path: cli.clone(),
            source,
        })?;
        Ok(dockerfile.with_cli(&binary))
    }

    /// Digests the inputs of the Dockerfile's build alone: everything but
    /// the `kayobe-automation` binary.
    pub(crate) fn of_dockerfile(options: &BuildOptions) -> Result<Self, ImageError> {
        let mut inputs = BTreeMap::new();
        for file in baked_files(options)? {
            let digest = file_digest(&options.repo.join(&file))?;
            inputs.insert(file.to_string_lossy().into_owned(), digest);
        }
        for (name, value) in options.all_build_args() {
            inputs.insert(
                format!("build-arg {name}"),
                hex::encode(Sha256::digest(value.as_bytes())),
            );
        }
        Ok(Self { inputs })
    }

    /// The same fingerprint with the `kayobe-automation` binary `binary` as
    /// an input.
    #[must_use]
    pub(crate) fn with_cli(mut self, binary: &[u8]) -> Self {
        self.inputs
            .insert(CLI_INPUT.to_owned(), hex::encode(Sha256::digest(binary)));
        self
    }

    /// Whether the `kayobe-automation` binary is one of the inputs.
    pub fn has_cli(&self) -> bool {
        self.inputs.contains_key(CLI_INPUT)
    }

    /// The per-input digests, by input name.
    pub fn inputs(&self) -> &BTreeMap<String, String> {
        &self.inputs
    }

    /// The overall fingerprint: SHA-256 over every input's name and digest.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for (name, digest) in &self.inputs {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(digest.as_bytes());
            hasher.update([b'\n']);
        }
        hex::encode(hasher.finalize())
    }

    /// The image labels recording this fingerprint.
    pub fn labels(&self) -> HashMap<String, String> {
        let inputs = serde_json::Value::Object(
            self.inputs
                .iter()
                .map(|(name, digest)| (name.clone(), digest.clone().into()))
                .collect(),
        );
        HashMap::from([
            (FINGERPRINT_LABEL.to_owned(), self.digest()),
            (INPUTS_LABEL.to_owned(), inputs.to_string()),
        ])
    }

    /// The fingerprint an image's labels record, if they record a whole one
    /// (the per-input digests agree with the overall fingerprint).
    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Self> {
        let recorded = labels.get(FINGERPRINT_LABEL)?;
        let inputs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(labels.get(INPUTS_LABEL)?).ok()?;
        let inputs = inputs
            .into_iter()
            .map(|(name, digest)| Some((name, digest.as_str()?.to_owned())))
            .collect::<Option<BTreeMap<_, _>>>()?;
        let fingerprint = Self { inputs };
        (fingerprint.digest() == *recorded).then_some(fingerprint)
    }

    /// The names of the inputs that differ from `built`'s: changed, added or
    /// removed, in name order.
    pub fn changed_since(&self, built: &Self) -> Vec<String> {
        let mut names: Vec<&String> = self.inputs.keys().chain(built.inputs.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|name| self.inputs.get(*name) != built.inputs.get(*name))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".automation/docker/kayobe/scripts")).unwrap();
        std::fs::create_dir_all(root.join("etc/kayobe/ansible")).unwrap();
        std::fs::write(
            root.join(".automation/docker/kayobe/Dockerfile"),
            "FROM scratch\n",
        )
        .unwrap();
        std::fs::write(
            root.join(".automation/docker/kayobe/scripts/run.sh"),
            "echo\n",
        )
        .unwrap();
        std::fs::write(root.join(GALAXY_REQUIREMENTS), "roles: []\n").unwrap();
        std::fs::write(root.join("README"), "not baked in\n").unwrap();
        dir
    }

    fn options(root: &Path) -> BuildOptions {
        let mut options = BuildOptions::new(root, "kayobe:test").unwrap();
        options.user = (1000, 1000);
        options
    }

    #[test]
    fn names_each_input_and_only_what_the_image_bakes_in() {
        let dir = repo();
        let fingerprint = Fingerprint::of(&options(dir.path())).unwrap();
        let names: Vec<&str> = fingerprint.inputs().keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                ".automation/docker/kayobe/Dockerfile",
                ".automation/docker/kayobe/scripts/run.sh",
                "build-arg KAYOBE_USER_GID",
                "build-arg KAYOBE_USER_UID",
                "etc/kayobe/ansible/requirements.yml",
            ]
        );
        std::fs::write(dir.path().join("README"), "changed\n").unwrap();
        assert_eq!(Fingerprint::of(&options(dir.path())).unwrap(), fingerprint);
    }

    #[test]
    fn reports_changed_added_and_removed_inputs() {
        let dir = repo();
        let before = Fingerprint::of(&options(dir.path())).unwrap();
        std::fs::write(dir.path().join(PYTHON_REQUIREMENTS), "kayobe==17.0.0\n").unwrap();
        std::fs::remove_file(dir.path().join(".automation/docker/kayobe/scripts/run.sh")).unwrap();
        let mut changed = options(dir.path());
        changed.user = (1001, 1000);
        changed
            .build_args
            .insert("KOLLA_ANSIBLE_VERSION".to_owned(), "19.0.0".to_owned());
        let after = Fingerprint::of(&changed).unwrap();
        assert_eq!(
            after.changed_since(&before),
            [
                ".automation/docker/kayobe/scripts/run.sh",
                "build-arg KAYOBE_USER_UID",
                "build-arg KOLLA_ANSIBLE_VERSION",
                "requirements.txt",
            ]
        );
        assert_ne!(after.digest(), before.digest());
    }

    #[test]
    fn the_executable_bit_is_an_input() {
        let dir = repo();
        let before = Fingerprint::of(&options(dir.path())).unwrap();
        let script = dir.path().join(".automation/docker/kayobe/scripts/run.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let after = Fingerprint::of(&options(dir.path())).unwrap();
        assert_eq!(
            after.changed_since(&before),
            [".automation/docker/kayobe/scripts/run.sh"]
        );
    }

    #[test]
    fn the_cli_binary_is_an_input_of_its_own() {
        let dir = repo();
        let without = Fingerprint::of(&options(dir.path())).unwrap();
        assert!(!without.has_cli());
        let binary = dir.path().join("kayobe-automation");
        std::fs::write(&binary, "version 1").unwrap();
        let mut with_cli = options(dir.path());
        with_cli.cli = Some(binary.clone());
        let first = Fingerprint::of(&with_cli).unwrap();
        assert!(first.has_cli());
        assert_eq!(first.changed_since(&without), [CLI_INPUT]);
        assert_eq!(without.changed_since(&first), [CLI_INPUT]);
        std::fs::write(&binary, "version 2").unwrap();
        let second = Fingerprint::of(&with_cli).unwrap();
        assert_eq!(second.changed_since(&first), [CLI_INPUT]);
        assert_eq!(Fingerprint::from_labels(&second.labels()), Some(second));
        std::fs::remove_file(&binary).unwrap();
        let error = Fingerprint::of(&with_cli).unwrap_err();
        assert!(
            matches!(&error, ImageError::Read { path, .. } if *path == binary),
            "{error}"
        );
    }

    #[test]
    fn labels_round_trip_and_tampered_labels_are_rejected() {
        let dir = repo();
        let fingerprint = Fingerprint::of(&options(dir.path())).unwrap();
        let mut labels = fingerprint.labels();
        assert_eq!(Fingerprint::from_labels(&labels), Some(fingerprint.clone()));
        labels.insert(FINGERPRINT_LABEL.to_owned(), "0".repeat(64));
        assert_eq!(Fingerprint::from_labels(&labels), None);
        labels.remove(INPUTS_LABEL);
        assert_eq!(Fingerprint::from_labels(&labels), None);
    }

    #[test]
    fn a_dockerfile_at_the_root_or_missing_is_an_error() {
        let dir = repo();
        let mut at_root = options(dir.path());
        at_root.dockerfile = PathBuf::from("Dockerfile");
        assert!(matches!(
            Fingerprint::of(&at_root),
            Err(ImageError::DockerfilePlace { .. })
        ));
        let mut missing = options(dir.path());
        missing.dockerfile = PathBuf::from("docker/Dockerfile");
        let error = Fingerprint::of(&missing).unwrap_err();
        assert!(error.to_string().contains("docker/Dockerfile"), "{error}");
    }
}
