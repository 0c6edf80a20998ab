//! A build context: a directory as a tar archive, `.dockerignore` honoured.
//!
//! The rules are Docker's: each line of `.dockerignore` is a pattern
//! (`#` comments and blank lines skipped, a leading `/` dropped) matched
//! against the path relative to the context root, with `*` and `?` not
//! crossing `/`, `**` any number of directories, and `[…]` classes; a path
//! matching a pattern is excluded along with everything below it, unless a
//! later `!` pattern matches it again. The archive is deterministic (sorted,
//! times and owners zeroed), so the same files give the same bytes and
//! BuildKit's cache holds across rebuilds.

use std::path::Path;

use regex::Regex;

/// One `.dockerignore` rule.
struct Rule {
    pattern: Regex,
    exception: bool,
}

/// The rules of a `.dockerignore`.
pub struct DockerIgnore {
    rules: Vec<Rule>,
}

impl DockerIgnore {
    /// Parses `.dockerignore` text.
    pub fn parse(text: &str) -> Self {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let (exception, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let pattern = pattern.trim_start_matches('/').trim_end_matches('/');
                let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
                Some(Rule {
                    pattern: Regex::new(&to_regex(pattern)).ok()?,
                    exception,
                })
            })
            .collect();
        Self { rules }
    }

    /// Whether the relative path `path` (with `/` separators) is excluded:
    /// it, or a directory above it, matches, and no later exception does.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            let mut prefix = String::new();
            let matched = path.split('/').any(|part| {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                rule.pattern.is_match(&prefix)
            });
            if matched {
                excluded = !rule.exception;
            }
        }
        excluded
    }
}

/// A `.dockerignore` pattern as an anchored regex.
fn to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` also matches no directory at all.
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                out.push('[');
                if chars.peek() == Some(&'^') || chars.peek() == Some(&'!') {
                    chars.next();
                    out.push('^');
                }
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    if c == '\\' || c == '[' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push(']');
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push_str(&regex::escape(&next.to_string()));
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

/// The directory `root` as a tar archive, without what its `.dockerignore`
/// excludes (the `.dockerignore` itself and `dockerfile` are always kept,
/// as Docker keeps them).
pub fn context_archive(root: &Path, dockerfile: &str) -> std::io::Result<Vec<u8>> {
    let ignore = match std::fs::read_to_string(root.join(".dockerignore")) {
        Ok(text) => DockerIgnore::parse(&text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => DockerIgnore::parse(""),
        Err(error) => return Err(error),
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let relative = relative.to_string_lossy();
            // A directory is walked even when excluded if an exception
            // could bring something below it back.
            relative == ".dockerignore"
                || relative == dockerfile
                || !ignore.excludes(&relative)
                || (entry.file_type().is_dir() && ignore.rules.iter().any(|rule| rule.exception))
        });
    for entry in walker {
        let entry = entry.map_err(std::io::Error::other)?;
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let name = relative.to_string_lossy();
        let kept = name == ".dockerignore" || name == dockerfile || !ignore.excludes(&name);
        if !kept {
            continue;
        }
        let metadata = entry.path().symlink_metadata()?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata(&metadata);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if metadata.file_type().is_symlink() {
            let target = std::fs::read_link(entry.path())?;
            header.set_size(0);
            builder.append_link(&mut header, relative, target)?;
        } else if metadata.is_dir() {
            builder.append_data(&mut header, relative, std::io::empty())?;
        } else if metadata.is_file() {
            builder.append_data(&mut header, relative, std::fs::File::open(entry.path())?)?;
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_rules_as_docker_reads_them() {
        let ignore = DockerIgnore::parse(
            "# comment\n\n/.git\n*.pyc\nsecrets/\n!secrets/public.txt\n**/cache\ndocs/*.md\nfile?.txt\n",
        );
        for (path, excluded) in [
            (".git", true),
            (".git/config", true),
            ("a.pyc", true),
            ("deep/a.pyc", false),
            ("secrets/key", true),
            ("secrets/public.txt", false),
            ("cache", true),
            ("x/y/cache/z", true),
            ("docs/a.md", true),
            ("docs/sub/a.md", false),
            ("file1.txt", true),
            ("file10.txt", false),
            ("etc/kayobe/globals.yml", false),
        ] {
            assert_eq!(ignore.excludes(path), excluded, "{path}");
        }
    }

    #[test]
    fn the_archive_leaves_out_what_is_ignored_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("etc/kayobe")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(root.join("etc/kayobe/globals.yml"), "a: 1").unwrap();
        std::fs::write(root.join(".dockerignore"), ".git\nDockerfile.ignored\n").unwrap();
        std::fs::write(root.join("Dockerfile.ignored"), "FROM x").unwrap();
        let names = |archive: &[u8]| -> Vec<String> {
            tar::Archive::new(archive)
                .entries()
                .unwrap()
                .map(|entry| entry.unwrap().path().unwrap().display().to_string())
                .collect()
        };
        let first = context_archive(root, "Dockerfile.ignored").unwrap();
        assert_eq!(
            names(&first),
            [
                ".dockerignore",
                "Dockerfile.ignored",
                "etc",
                "etc/kayobe",
                "etc/kayobe/globals.yml"
            ]
        );
        assert_eq!(context_archive(root, "Dockerfile.ignored").unwrap(), first);
        let without = context_archive(root, "Dockerfile").unwrap();
        assert!(!names(&without).contains(&"Dockerfile.ignored".to_owned()));
    }
}
