//! The HTML page of a diff between two revisions, in headless Chromium: the
//! summary comes first with its counts, a changed secret shows as changed
//! with neither of its values anywhere, configuration text stays text; a
//! screenshot is kept in `target/test-artifacts/config-diff.png`.

mod common;

use common::{NEW_SECRET, OLD_SECRET, PASSWORD, history};
use config_diff::{diff_revisions, html};
use kayobe_automation_tests::{chromium, chromium_dom, chromium_screenshot};
use kayobe_config::vault::VaultSecret;

/// The text a reader sees: the body without scripts, tags as spaces,
/// entities decoded, white space collapsed.
fn visible_text(dom: &str) -> String {
    let body = &dom[dom.find("<body").expect("a body")..];
    let mut text = String::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push(' ');
        rest = &rest[start..];
        let end = if rest.starts_with("<script") {
            rest.find("</script>").expect("a closed script") + "</script>".len()
        } else {
            rest.find('>').expect("a closed tag") + 1
        };
        rest = &rest[end..];
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_page_reads_well_in_a_browser() {
    let Some(chromium) = chromium() else { return };
    let secret = VaultSecret::new(PASSWORD);
    let dir = history(&secret);
    let diff = diff_revisions(
        &dir.path().join("etc/kayobe"),
        Some("production"),
        "base",
        "changed",
        Some(&secret),
    )
    .unwrap();
    let page = html::page(&diff);
    let file = dir.path().join("config-diff.html");
    std::fs::write(&file, &page).unwrap();
    let url = format!("file://{}", file.display());
    let profile = dir.path().join("profile");

    let dom = chromium_dom(&chromium, &profile, &url);
    assert!(
        dom.contains("<title>Configuration diff</title>"),
        "the configuration's markup did not run: {dom}"
    );
    let text = visible_text(&dom);
    let cmp01_added = diff.hosts[0].added.len();
    assert!(cmp01_added > 2, "cmp01 is new: every variable added");
    let summary = format!(
        "Configuration diff: changes Hosts changed 2 Distinct changes: added {cmp01_added} Distinct changes: removed 0 Distinct changes: changed 2 Files added 0 Files removed 0 Files changed 1 Groups compute, controllers Expand all Collapse all Variables compute (1 host)"
    );
    assert!(text.starts_with(&summary), "{text}");
    assert!(
        text.contains("controllers (1 host) 2 changes Key Change Base Target registry_password changed \"<secret sha256:"),
        "{text}"
    );
    assert!(
        text.contains("timezone changed \"Europe/London\" \"Europe/Paris\""),
        "{text}"
    );
    assert!(
        text.contains("Files kolla/config/nova.conf changed --- a/kolla/config/nova.conf +++ b/kolla/config/nova.conf @@ -1,2 +1,2 @@ [DEFAULT] -debug = False +debug = True # <script>document.title='pwned'</script>"),
        "{text}"
    );
    for output in [&dom, &page] {
        assert!(!output.contains(OLD_SECRET) && !output.contains(NEW_SECRET));
    }

    chromium_screenshot(&chromium, &profile, &url, "config-diff.png");
}
