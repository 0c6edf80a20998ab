//! The diff as one self-contained HTML page, for a merge request's artefact:
//! inline style and script, no network assets. A summary comes first (hosts
//! changed, distinct changes added/removed/changed, groups touched, files
//! changed), then one collapsible section per group of changes applying to
//! the same hosts ([`GroupedDiff`]: a change on 10 000 hosts is one section
//! naming them, never 10 000) and per file (its unified diff, coloured);
//! warnings about the configuration come after the summary. A search box
//! (script inline, no network) shows only the sections holding its text.
//! Every piece of text from the configuration is escaped.

use std::fmt::Write as _;

use kayobe_stdx::{push_html, push_html_head};

use crate::diff::ConfigDiff;
use crate::group::{ChangeGroup, GroupedDiff, thousands};
use crate::render::{key_path, summarised_line};
use crate::tree::{FileChange, FileDiff};

/// More sections than this start collapsed: a long page opens as an index.
const OPEN_SECTIONS_UP_TO: usize = 20;

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:80em}
h1{font-size:1.4em}
h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
.summary td.n{text-align:right;font-variant-numeric:tabular-nums}
.keys{width:100%;table-layout:fixed}
.keys th:nth-child(1){width:30%}.keys th:nth-child(2){width:6em}
.keys td.k,.keys td.v{font-family:monospace;word-break:break-all}
details{border:1px solid #ccc;border-radius:4px;margin:.4em 0;padding:.2em .6em}
summary{cursor:pointer;font-family:monospace;font-size:1.05em}
summary .counts{font-family:system-ui,sans-serif;font-size:.85em;color:#555;margin-left:.8em}
pre.diff{margin:.4em 0;font-size:.9em;overflow-x:auto}
pre.diff span{display:inline-block;min-width:100%}
.add{background:#e6ffec;color:#116329}
.del{background:#ffebe9;color:#82071e}
.hunk{color:#0550ae;background:#ddf4ff}
.hdr{color:#555;font-weight:bold}
.kind{font-weight:bold;white-space:nowrap}
.kind.added{color:#116329}.kind.removed{color:#82071e}.kind.changed{color:#9a6700}
.controls button{margin-right:.5em}
.controls input{margin-left:1em;min-width:20em}
.hosts{font-family:monospace;word-break:break-all;color:#555}
.warnings li{color:#9a6700}
"#;

const SCRIPT: &str = r#"
(function(){
  function all(open){document.querySelectorAll('details').forEach(function(d){d.open=open;});}
  document.getElementById('expand').addEventListener('click',function(){all(true);});
  document.getElementById('collapse').addEventListener('click',function(){all(false);});
  document.getElementById('search').addEventListener('input',function(e){
    var q=e.target.value.toLowerCase();
    document.querySelectorAll('details').forEach(function(d){
      var hit=!q||d.textContent.toLowerCase().indexOf(q)>=0;
      d.hidden=!hit;if(q&&hit){d.open=true;}
    });
  });
})();
"#;

/// The diff as a complete HTML document.
pub fn page(diff: &ConfigDiff) -> String {
    let mut out = String::new();
    push_html_head(&mut out, "Configuration diff", STYLE);
    out.push_str("<h1>Configuration diff: ");
    out.push_str(if diff.has_changes() {
        "changes"
    } else {
        "no changes"
    });
    out.push_str("</h1>\n");
    let grouped = GroupedDiff::of(diff);
    summary(&mut out, diff, &grouped);
    if !diff.warnings.is_empty() {
        out.push_str("<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
        for warning in &diff.warnings {
            out.push_str("<li>");
            push_html(&mut out, &warning.to_string());
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    let files = &diff.files.files;
    let open = if grouped.groups.len() + files.len() <= OPEN_SECTIONS_UP_TO {
        " open"
    } else {
        ""
    };
    if diff.has_changes() {
        out.push_str("<p class=\"controls\"><button id=\"expand\" type=\"button\">Expand all</button><button id=\"collapse\" type=\"button\">Collapse all</button><input id=\"search\" type=\"search\" placeholder=\"Search keys, values, hosts\" aria-label=\"Search\"></p>\n");
    }
    if !grouped.is_empty() {
        out.push_str("<h2>Variables</h2>\n");
        for group in &grouped.groups {
            group_section(&mut out, group, open);
        }
    }
    if !files.is_empty() {
        out.push_str("<h2>Files</h2>\n");
        for file in files {
            file_section(&mut out, file, open);
        }
    }
    if diff.has_changes() {
        // The script drives the expand and collapse buttons, shown only then.
        out.push_str("<script>");
        out.push_str(SCRIPT);
        out.push_str("</script>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn summary(out: &mut String, diff: &ConfigDiff, grouped: &GroupedDiff) {
    let files = |kind: &str| {
        diff.files
            .files
            .iter()
            .filter(|file| file_kind(&file.change) == kind)
            .count()
    };
    let rows = [
        ("Hosts changed", grouped.hosts),
        ("Distinct changes: added", grouped.added),
        ("Distinct changes: removed", grouped.removed),
        ("Distinct changes: changed", grouped.changed),
        ("Files added", files("added")),
        ("Files removed", files("removed")),
        ("Files changed", files("changed")),
    ];
    out.push_str("<table class=\"summary\"><tbody>\n");
    for (label, number) in rows {
        let _ = writeln!(
            out,
            "<tr><th>{label}</th><td class=\"n\">{}</td></tr>",
            thousands(number)
        );
    }
    if !grouped.groups_touched.is_empty() {
        out.push_str("<tr><th>Groups</th><td>");
        push_html(out, &grouped.groups_touched.join(", "));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn group_section(out: &mut String, group: &ChangeGroup, open: &str) {
    let _ = write!(out, "<details class=\"group\"{open}><summary>");
    push_html(out, &group.hosts.to_string());
    let _ = writeln!(
        out,
        "<span class=\"counts\">{} {}</span></summary>",
        group.changes.len(),
        if group.changes.len() == 1 {
            "change"
        } else {
            "changes"
        }
    );
    out.push_str("<table class=\"keys\"><thead><tr><th>Key</th><th>Change</th><th>Base</th><th>Target</th></tr></thead><tbody>\n");
    for change in &group.changes {
        let kind = change.kind().as_str();
        out.push_str("<tr><td class=\"k\">");
        push_html(out, &key_path(&change.path));
        let _ = write!(out, "</td><td class=\"kind {kind}\">{kind}</td>");
        for value in [&change.base, &change.target] {
            out.push_str("<td class=\"v\">");
            if let Some(value) = value {
                push_html(out, &value.to_json().to_string());
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></details>\n");
}

/// What happened to a file, as the summary counts it.
fn file_kind(change: &FileChange) -> &'static str {
    match change {
        FileChange::Added { .. } | FileChange::Binary { old: None, .. } => "added",
        FileChange::Removed { .. } | FileChange::Binary { new: None, .. } => "removed",
        FileChange::Changed { .. } | FileChange::Summarised { .. } | FileChange::Binary { .. } => {
            "changed"
        }
    }
}

fn file_section(out: &mut String, file: &FileDiff, open: &str) {
    let kind = file_kind(&file.change);
    let _ = write!(out, "<details class=\"file\"{open}><summary>");
    push_html(out, &file.path.to_string_lossy());
    let _ = writeln!(
        out,
        "<span class=\"counts kind {kind}\">{kind}</span></summary>"
    );
    out.push_str("<pre class=\"diff\">");
    match &file.change {
        FileChange::Added { text } => whole_file(out, text, "add", '+'),
        FileChange::Removed { text } => whole_file(out, text, "del", '-'),
        FileChange::Changed { unified } => {
            let mut in_header = true;
            for line in unified.lines() {
                in_header &= !line.starts_with("@@");
                let class = match line.as_bytes().first() {
                    _ if in_header => "hdr",
                    Some(b'@') => "hunk",
                    Some(b'+') => "add",
                    Some(b'-') => "del",
                    _ => "",
                };
                diff_line(out, class, line);
            }
        }
        FileChange::Summarised { .. } => {
            diff_line(out, "hdr", &summarised_line(&file.path, &file.change));
        }
        FileChange::Binary { old, new } => {
            let digest = |side: &Option<String>| side.as_deref().unwrap_or("(none)").to_owned();
            let line = format!("binary file: {} -> {}", digest(old), digest(new));
            diff_line(out, "hdr", &line);
        }
    }
    out.push_str("</pre></details>\n");
}

/// A file shown in full, every line marked `sign`.
fn whole_file(out: &mut String, text: &str, class: &str, sign: char) {
    if text.is_empty() {
        diff_line(out, "hdr", "(empty file)");
    }
    for line in text.lines() {
        diff_line(out, class, &format!("{sign}{line}"));
    }
}

fn diff_line(out: &mut String, class: &str, line: &str) {
    if class.is_empty() {
        out.push_str("<span>");
    } else {
        let _ = write!(out, "<span class=\"{class}\">");
    }
    push_html(out, line);
    out.push_str("</span>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Change, Entry, HostDiff, KeyPath};
    use crate::files::Warning;
    use crate::group::Membership;
    use crate::tree::TreeDiff;
    use kayobe_config::value::Value;

    /// A diff with every kind of entry, and text that would be markup.
    fn sample() -> ConfigDiff {
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<KeyPath>();
        let file = |path: &str, change| FileDiff {
            path: path.into(),
            change,
        };
        ConfigDiff {
            hosts: vec![HostDiff {
                host: "ctl01".into(),
                added: vec![Entry {
                    path: path(&["nova", "x.y"]),
                    value: Value::from("<b>new</b>"),
                }],
                removed: vec![Entry {
                    path: path(&["old_flag"]),
                    value: Value::Bool(true),
                }],
                changed: vec![Change {
                    path: path(&["secrets_registry_password"]),
                    base: Value::from("<secret sha256:0123456789ab>"),
                    target: Value::from("<secret sha256:ba9876543210>"),
                }],
            }],
            files: TreeDiff {
                files: vec![
                    file(
                        "kolla/config/added.conf",
                        FileChange::Added {
                            text: "[DEFAULT]\nx = <1>\n".into(),
                        },
                    ),
                    file("kolla/config/empty", FileChange::Added { text: "".into() }),
                    file(
                        "kolla/config/gone.conf",
                        FileChange::Removed {
                            text: "a = 1\n".into(),
                        },
                    ),
                    file(
                        "kolla/config/nova.conf",
                        FileChange::Changed {
                            unified: "--- a/kolla/config/nova.conf\n+++ b/kolla/config/nova.conf\n@@ -1,2 +1,2 @@\n [DEFAULT]\n-debug = False\n+debug = True & <on>\n".into(),
                        },
                    ),
                    file(
                        "octavia.pem",
                        FileChange::Binary {
                            old: Some("sha256:aaaa".into()),
                            new: Some("sha256:bbbb".into()),
                        },
                    ),
                ],
            },
            warnings: vec![Warning::UnlistedVaultedFile {
                path: "etc/kayobe/kolla/config/<odd>.pem".into(),
            }],
            membership: Membership {
                hosts: ["ctl01".to_owned(), "<seed>".to_owned()].into(),
                groups: [("controllers".to_owned(), ["ctl01".to_owned()].into())].into(),
            },
        }
    }

    #[test]
    fn page_of_a_fixed_diff() {
        insta::assert_snapshot!(page(&sample()));
    }

    #[test]
    fn an_empty_diff_says_so() {
        let page = page(&ConfigDiff::default());
        assert!(page.contains("<h1>Configuration diff: no changes</h1>"));
        assert!(!page.contains("<h2>") && !page.contains("<details"));
    }
}
