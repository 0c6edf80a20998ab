//! The review comment's Markdown: pinned by a snapshot, rendered to HTML by
//! a CommonMark library as the platforms do, opened in headless Chromium
//! (screenshot kept in `target/test-artifacts`), and proof against values
//! that try to close its fences or add markup.

use std::path::PathBuf;

use config_diff::review::markdown;
use config_diff::{
    Change, ConfigDiff, Entry, FileChange, FileDiff, HostDiff, Membership, Summary, TreeDiff,
};
use kayobe_automation_tests::{chromium, chromium_dom, chromium_screenshot};
use kayobe_config::value::Value;

fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn diff() -> ConfigDiff {
    let host = |name: &str| HostDiff {
        host: name.to_owned(),
        added: vec![Entry {
            path: vec!["nova_cpu_allocation_ratio".to_owned()],
            value: Value::Float(4.0),
        }],
        removed: Vec::new(),
        changed: vec![
            Change {
                path: vec!["timezone".to_owned()],
                base: text("Europe/London"),
                target: text("Europe/Paris"),
            },
            Change {
                path: vec!["secrets_registry_password".to_owned()],
                base: text("<secret sha256:0123456789ab>"),
                target: text("<secret sha256:ba9876543210>"),
            },
        ],
    };
    ConfigDiff {
        hosts: vec![host("compute0"), host("compute1")],
        files: TreeDiff {
            files: vec![FileDiff {
                path: PathBuf::from("kolla/config/nova.conf"),
                change: FileChange::Changed {
                    unified: "--- a/kolla/config/nova.conf\n+++ b/kolla/config/nova.conf\n@@ -1 +1 @@\n-cpu_allocation_ratio = 2.0\n+cpu_allocation_ratio = 4.0\n".to_owned(),
                },
            }],
        },
        warnings: Vec::new(),
        membership: Membership {
            hosts: ["compute0", "compute1", "ctl0"].map(str::to_owned).into(),
            groups: [(
                "compute".to_owned(),
                ["compute0", "compute1"].map(str::to_owned).into(),
            )]
            .into(),
        },
    }
}

fn to_html(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(markdown));
    html
}

#[test]
fn the_comment_reads_summary_first_with_the_detail_folded() {
    let diff = diff();
    assert_eq!(
        Summary::of(&diff).to_string(),
        "2 hosts (2 added, 0 removed, 4 changed variables; 2 secrets), 1 file changed"
    );
    let text = markdown(
        &diff,
        "production",
        Some("https://ci.example.com/report.html"),
    );
    insta::assert_snapshot!(text);

    let html = to_html(&text);
    assert!(
        html.starts_with("<h3>Configuration diff: <code>production</code></h3>"),
        "{html}"
    );
    assert_eq!(html.matches("<details>").count(), 2, "{html}");

    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("comment.html");
    std::fs::write(
        &page,
        format!("<!doctype html><meta charset=utf-8><body style=\"font-family:sans-serif;max-width:60em\">{html}</body>"),
    )
    .unwrap();
    let url = format!("file://{}", page.display());
    let dom = chromium_dom(&chromium, &dir.path().join("profile"), &url);
    assert!(dom.contains("2 hosts (2 added"), "{dom}");
    chromium_screenshot(
        &chromium,
        &dir.path().join("profile"),
        &url,
        "config-diff-comment.png",
    );
}

#[test]
fn values_cannot_break_out_of_the_fences() {
    let mut diff = diff();
    diff.hosts[0].changed[0].target = text(
        "```\n</details><script>alert(1)</script><img src=x onerror=alert(2)>\n[link](javascript:alert(3))",
    );
    diff.hosts[0].host = "compute0 <b>bold</b> ````".to_owned();
    let html = to_html(&markdown(
        &diff,
        "prod`<i>x</i>",
        Some("javascript:alert(4)"),
    ));
    for markup in ["<script", "<img", "<b>", "<i>", "href=\"javascript"] {
        assert!(!html.contains(markup), "{markup} in {html}");
    }
    // The two folded blocks are still the only ones, and still closed.
    assert_eq!(html.matches("<details>").count(), 2, "{html}");
    assert_eq!(html.matches("</details>").count(), 2, "{html}");
}
