//! `cargo xtask tidy`: the rules of ARCHITECTURE.md that a program can check,
//! so they hold without anyone remembering them.
//!
//! - **Layers**: every workspace crate sits in one layer of [`LAYERS`] and
//!   depends (normal and build dependencies) only on crates of lower layers,
//!   so no feature crate depends on another and nothing depends upwards.
//! - **Confined dependencies**: the Docker client only in the container
//!   layer, HTTP clients only where a platform or OpenBao is spoken to
//!   ([`CONFINED`]).
//! - **Self-contained documents**: no file names a document that is not in
//!   the repository, and every relative Markdown link resolves.
//! - **Every source file says what it is**: a `//!` doc comment first.
//! - **Library errors speak of values, not flags**: no `#[error(...)]`
//!   message of a library crate names a command-line flag (`` `--x` ``); an
//!   embedder has no flags, and the command line adds its own advice.
//!
//! Each check is a plain function from data to problems, so the tests feed
//! them broken inputs and see them fail.

use std::path::Path;

use serde_json::Value;

use crate::cmd::Cmd;
use crate::error::{Error, Result};

/// The layers, lowest first. A crate may depend only on crates of a lower
/// layer. Tooling (xtask, tests, benches) is outside the layers: it may use
/// anything and nothing ships it.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaf", &["kayobe-stdx"]),
    (
        "foundation",
        &["kayobe-config", "ci-platform", "container-engine"],
    ),
    (
        "feature",
        &[
            "workflow-render",
            "runner-provision",
            "bao-bootstrap",
            "config-diff",
            "tempest-runner",
            "kayobe-runtime",
        ],
    ),
    ("facade", &["kayobe-automation"]),
    ("binary", &["kayobe-automation-cli"]),
];

/// Workspace members outside the layers.
const TOOLING: &[&str] = &[
    "xtask",
    "kayobe-automation-tests",
    "kayobe-automation-benches",
];

/// Third-party crates only the listed workspace crates may depend on.
const CONFINED: &[(&str, &[&str])] = &[
    ("bollard", &["container-engine"]),
    ("reqwest", &["ci-platform", "bao-bootstrap"]),
    ("octocrab", &["ci-platform"]),
    ("vaultrs", &["bao-bootstrap"]),
    ("hyper", &["ci-platform", "bao-bootstrap"]),
    ("ureq", &["ci-platform", "bao-bootstrap"]),
];

/// What an embedder reading only configuration must not build: the facade
/// with `default-features = false, features = ["config"]` pulls none of these.
const NOT_IN_CONFIG_ONLY: &[&str] = &[
    "bollard", "gix", "reqwest", "octocrab", "vaultrs", "hyper", "tokio",
];

/// A document outside the repository that files used to cite. Spelled in two
/// parts so this file does not cite it.
const EXTERNAL_DOCUMENTS: &[[&str; 2]] = &[["SPEC", ".md"]];

/// One workspace package as `cargo metadata` describes it.
#[derive(Debug)]
pub struct Package {
    name: String,
    /// `(dependency name, kind)`: kind is `None` for normal dependencies,
    /// `Some("dev")` or `Some("build")` otherwise.
    dependencies: Vec<(String, Option<String>)>,
}

/// Runs every check and fails listing every problem found.
pub fn run(root: &Path) -> Result<()> {
    let metadata = Cmd::cargo(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .read()?;
    let packages = parse_metadata(&metadata)?;
    let files = tracked_files(root)?;

    let config_only_tree = Cmd::cargo(root)
        .args(["tree", "--offline", "-p", "kayobe-automation"])
        .args(["--no-default-features", "--features", "config"])
        .args(["-e", "normal", "--prefix", "none"])
        .read()?;

    let mut problems = check_layers(&packages);
    problems.extend(check_confined(&packages));
    problems.extend(check_config_only(&config_only_tree));
    for path in &files {
        let Ok(text) = std::fs::read_to_string(root.join(path)) else {
            continue; // binary files say nothing
        };
        problems.extend(check_external_references(path, &text));
        if path.ends_with(".md") {
            problems.extend(check_markdown_links(path, &text, |target| {
                root.join(target).exists()
            }));
        }
        if path.ends_with(".rs") {
            problems.extend(check_doc_comment(path, &text));
            if is_library_source(path) {
                problems.extend(check_error_flags(path, &text));
            }
        }
    }
    if problems.is_empty() {
        println!("tidy: {} crates, {} files: ok", packages.len(), files.len());
        Ok(())
    } else {
        Err(Error::Tidy(problems))
    }
}

fn tracked_files(root: &Path) -> Result<Vec<String>> {
    // Tracked and untracked-but-not-ignored: a new file is checked before it
    // is committed.
    let listing = Cmd::new("git", root)
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .read()?;
    Ok(listing
        .lines()
        .filter(|path| root.join(path).is_file())
        .map(str::to_owned)
        .collect())
}

/// The workspace packages of `cargo metadata --no-deps` output.
pub fn parse_metadata(json: &str) -> Result<Vec<Package>> {
    let bad = |what: &str| Error::Metadata(what.to_owned());
    let value: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    let packages = value["packages"]
        .as_array()
        .ok_or_else(|| bad("no `packages` array"))?;
    packages
        .iter()
        .map(|package| {
            let name = package["name"]
                .as_str()
                .ok_or_else(|| bad("a package without a name"))?
                .to_owned();
            let dependencies = package["dependencies"]
                .as_array()
                .ok_or_else(|| bad("a package without `dependencies`"))?
                .iter()
                .map(|dep| {
                    (
                        dep["name"].as_str().unwrap_or_default().to_owned(),
                        dep["kind"].as_str().map(str::to_owned),
                    )
                })
                .collect();
            Ok(Package { name, dependencies })
        })
        .collect()
}

fn layer_of(name: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, members)| members.contains(&name))
}

fn shipped_dependencies(package: &Package) -> impl Iterator<Item = &str> {
    package
        .dependencies
        .iter()
        .filter(|(_, kind)| kind.as_deref() != Some("dev"))
        .map(|(name, _)| name.as_str())
}

/// Every workspace crate has a layer and depends only downwards.
pub fn check_layers(packages: &[Package]) -> Vec<String> {
    let members: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();
    for package in packages {
        if TOOLING.contains(&package.name.as_str()) {
            continue;
        }
        let Some(layer) = layer_of(&package.name) else {
            problems.push(format!(
                "crate `{}` is in no layer: add it to LAYERS in xtask/src/tidy.rs and to ARCHITECTURE.md",
                package.name
            ));
            continue;
        };
        for dependency in shipped_dependencies(package).filter(|d| members.contains(d)) {
            match layer_of(dependency) {
                Some(below) if below < layer => {}
                Some(other) => problems.push(format!(
                    "`{}` ({} layer) depends on `{dependency}` ({} layer): a crate depends only on lower layers; \
                     move what both need into a layer below",
                    package.name, LAYERS[layer].0, LAYERS[other].0
                )),
                None => problems.push(format!(
                    "`{}` depends on `{dependency}`, which is tooling or in no layer",
                    package.name
                )),
            }
        }
    }
    problems
}

/// The crates of [`CONFINED`] appear only where they are allowed.
pub fn check_confined(packages: &[Package]) -> Vec<String> {
    let mut problems = Vec::new();
    for package in packages {
        if TOOLING.contains(&package.name.as_str()) {
            continue;
        }
        for dependency in shipped_dependencies(package) {
            if let Some((_, allowed)) = CONFINED.iter().find(|(name, _)| *name == dependency)
                && !allowed.contains(&package.name.as_str())
            {
                problems.push(format!(
                    "`{}` depends on `{dependency}`, which only {} may use: go through that crate",
                    package.name,
                    allowed.join(", ")
                ));
            }
        }
    }
    problems
}

/// The `config`-only facade's dependency tree (`cargo tree --prefix none`,
/// one `name version` a line) holds none of [`NOT_IN_CONFIG_ONLY`].
pub fn check_config_only(tree: &str) -> Vec<String> {
    let mut found: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| NOT_IN_CONFIG_ONLY.contains(name))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
        .into_iter()
        .map(|name| {
            format!(
                "the facade with only the `config` feature pulls in `{name}`: \
                 keep Docker, git and HTTP crates behind their own features"
            )
        })
        .collect()
}

/// No line names a document that is not in the repository.
pub fn check_external_references(path: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for [stem, extension] in EXTERNAL_DOCUMENTS {
        let name = format!("{stem}{extension}");
        for (number, line) in text.lines().enumerate() {
            if line.contains(&name) {
                problems.push(format!(
                    "{path}:{}: cites {name}, which is not in the repository: say what it means here",
                    number + 1
                ));
            }
        }
    }
    problems
}

/// Every relative Markdown link (`[text](target)`) of `path` names a file or
/// directory that `exists` (given the path relative to the repository root).
pub fn check_markdown_links(path: &str, text: &str, exists: impl Fn(&str) -> bool) -> Vec<String> {
    let directory = Path::new(path).parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    let mut in_code_block = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
        }
        if in_code_block {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = rest[..end].split('#').next().unwrap_or_default();
            rest = &rest[end..];
            let external =
                target.is_empty() || target.contains("://") || target.starts_with("mailto:");
            if external {
                continue;
            }
            let resolved = normalise(&directory.join(target));
            match resolved {
                Some(resolved) if exists(&resolved) => {}
                _ => problems.push(format!(
                    "{path}:{}: the link `{target}` leads to no file in the repository",
                    number + 1
                )),
            }
        }
    }
    problems
}

/// `a/b/../c` → `a/c`; `None` when the path leaves the repository.
fn normalise(path: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.iter() {
        match part.to_str()? {
            "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

/// A Rust source file opens with a `//!` doc comment saying what it is
/// (inner attributes such as `#![no_main]` may stand before it).
pub fn check_doc_comment(path: &str, text: &str) -> Vec<String> {
    let first = text
        .lines()
        .find(|line| !line.trim().is_empty() && !line.starts_with("#!["));
    if first.is_some_and(|line| line.trim_start().starts_with("//!")) {
        Vec::new()
    } else {
        vec![format!(
            "{path}:1: a source file starts with a `//!` comment saying what it is for"
        )]
    }
}

/// Whether `path` is the source of a library crate (not the binary, nor tests).
fn is_library_source(path: &str) -> bool {
    path.starts_with("crates/")
        && path.contains("/src/")
        && !path.starts_with("crates/kayobe-automation-cli/")
}

/// `#[error(...)]` attributes naming a command-line flag.
pub fn check_error_flags(path: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut inside = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[error(") {
            inside = true;
        }
        if inside {
            let names_flag = line
                .match_indices("`--")
                .any(|(at, _)| line[at + 3..].starts_with(|c: char| c.is_ascii_lowercase()));
            if names_flag {
                problems.push(format!(
                    "{path}:{}: a library error names a command-line flag; speak of the value or file, and let the command line say which flag gives it",
                    index + 1
                ));
            }
            if trimmed.ends_with(")]") {
                inside = false;
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, dependencies: &[(&str, Option<&str>)]) -> Package {
        Package {
            name: name.to_owned(),
            dependencies: dependencies
                .iter()
                .map(|(name, kind)| ((*name).to_owned(), kind.map(str::to_owned)))
                .collect(),
        }
    }

    #[test]
    fn downward_dependencies_pass() {
        let packages = [
            package("kayobe-stdx", &[]),
            package("kayobe-config", &[("kayobe-stdx", None)]),
            package("config-diff", &[("kayobe-config", None), ("serde", None)]),
            package("kayobe-automation", &[("config-diff", None)]),
            package("kayobe-automation-cli", &[("kayobe-automation", None)]),
        ];
        assert_eq!(check_layers(&packages), Vec::<String>::new());
    }

    #[test]
    fn a_feature_depending_on_a_feature_fails() {
        let packages = [
            package("config-diff", &[]),
            package("tempest-runner", &[("config-diff", None)]),
        ];
        let problems = check_layers(&packages);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`tempest-runner` (feature layer) depends on `config-diff`"));
    }

    #[test]
    fn an_upward_dependency_fails_but_a_dev_dependency_is_free() {
        let packages = [
            package("workflow-render", &[]),
            package("kayobe-config", &[("workflow-render", Some("dev"))]),
            package("ci-platform", &[("workflow-render", Some("build"))]),
        ];
        let problems = check_layers(&packages);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("`ci-platform`"));
    }

    #[test]
    fn a_crate_in_no_layer_fails() {
        let problems = check_layers(&[package("new-crate", &[])]);
        assert!(problems[0].contains("in no layer"), "{problems:?}");
    }

    #[test]
    fn confined_crates_only_where_allowed() {
        let packages = [
            package("container-engine", &[("bollard", None)]),
            package(
                "kayobe-runtime",
                &[("bollard", None), ("wiremock", Some("dev"))],
            ),
            package("config-diff", &[("reqwest", None)]),
            package("xtask", &[("reqwest", None)]),
        ];
        let problems = check_confined(&packages);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`kayobe-runtime` depends on `bollard`"));
        assert!(problems[1].contains("`config-diff` depends on `reqwest`"));
    }

    #[test]
    fn the_config_only_facade_must_not_pull_services() {
        let clean = "kayobe-automation v0.1.0 (/w)\nkayobe-config v0.1.0\nserde v1.0.0\n";
        assert!(check_config_only(clean).is_empty());
        let heavy = "kayobe-automation v0.1.0\ntokio v1.0.0\nbollard v0.21.0\ntokio v1.0.0 (*)\n";
        let problems = check_config_only(heavy);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`bollard`") && problems[1].contains("`tokio`"));
    }

    #[test]
    fn citing_an_outside_document_fails_with_its_line() {
        let cited = format!("//! Things\n//! (see {}{} section 4)\n", "SPEC", ".md");
        let problems = check_external_references("a.rs", &cited);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("a.rs:2:"));
        assert!(check_external_references("a.rs", "//! Things\n").is_empty());
    }

    #[test]
    fn markdown_links_must_resolve_inside_the_repository() {
        let exists = |path: &str| ["README.md", "crates/a/src/lib.rs"].contains(&path);
        let text = "[ok](../README.md) [code](../crates/a/src/lib.rs#L3) [web](https://x.y/z)\n\
                    [gone](missing.md)\n```\n[in code](nowhere)\n```\n[out](../../outside.md)\n";
        let problems = check_markdown_links("docs/guide.md", text, exists);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("docs/guide.md:2:"));
        assert!(problems[1].starts_with("docs/guide.md:6:"));
    }

    #[test]
    fn a_library_error_naming_a_flag_fails() {
        let flagged = "#[error(\n    \"no password; pass `--vault-password-file`\"\n)]\nA,\n";
        assert_eq!(
            check_error_flags("crates/x/src/lib.rs", flagged),
            [
                "crates/x/src/lib.rs:2: a library error names a command-line flag; speak of the value or file, and let the command line say which flag gives it"
            ]
        );
        let neutral = "#[error(\"remove the `---`\")]\nA,\n// see `--help`\n";
        assert!(check_error_flags("crates/x/src/lib.rs", neutral).is_empty());
        assert!(is_library_source("crates/kayobe-config/src/repo.rs"));
        assert!(!is_library_source(
            "crates/kayobe-automation-cli/src/main.rs"
        ));
        assert!(!is_library_source("crates/kayobe-config/tests/repo.rs"));
    }

    #[test]
    fn a_source_file_without_a_doc_comment_fails() {
        assert!(check_doc_comment("a.rs", "\n//! What this is.\nfn f() {}\n").is_empty());
        assert!(check_doc_comment("a.rs", "#![no_main]\n//! A fuzz target.\n").is_empty());
        assert_eq!(check_doc_comment("a.rs", "use x;\n").len(), 1);
        assert_eq!(check_doc_comment("a.rs", "// plain comment\n").len(), 1);
        assert_eq!(check_doc_comment("a.rs", "").len(), 1);
    }

    #[test]
    fn metadata_is_read_from_cargo_output() {
        let json = r#"{"packages":[{"name":"a","dependencies":[
            {"name":"b","kind":null},{"name":"c","kind":"dev"}]}]}"#;
        let packages = parse_metadata(json).unwrap();
        assert_eq!(packages[0].name, "a");
        assert_eq!(
            packages[0].dependencies,
            vec![
                ("b".to_owned(), None),
                ("c".to_owned(), Some("dev".to_owned()))
            ]
        );
        assert!(parse_metadata("{}").is_err());
    }
}
