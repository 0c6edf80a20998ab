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

/// The page of a change to 10 000 hosts: a variable for every production
/// host, another for `compute` but three hosts of their own. Each distinct
/// change shows once, the summary first; Chromium renders it about as fast
/// as an empty page (times printed) and the screenshot is kept in
/// `target/test-artifacts/config-diff-10000-hosts.png`.
#[test]
fn ten_thousand_hosts_read_as_a_few_changes() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    kayobe_automation_tests::copy_dir(&kayobe_automation_tests::example_repo(), repo);
    let production = repo.join("etc/kayobe/environments/production");
    let hosts = production.join("inventory/hosts");
    let text = std::fs::read_to_string(&hosts).unwrap();
    std::fs::write(
        &hosts,
        text.replace("compute[05:08]", "compute[00005:10000]"),
    )
    .unwrap();
    kayobe_automation_tests::git_init(repo);
    kayobe_automation_tests::commit(repo, "base");
    let globals = production.join("globals.yml");
    let text = std::fs::read_to_string(&globals).unwrap();
    std::fs::write(&globals, format!("{text}nova_cpu_allocation_ratio: 4.0\n")).unwrap();
    let nova = production.join("inventory/group_vars/compute/nova");
    let text = std::fs::read_to_string(&nova).unwrap();
    std::fs::write(&nova, text.replace("16384", "32768")).unwrap();
    let host_vars = production.join("inventory/host_vars");
    std::fs::create_dir_all(&host_vars).unwrap();
    for host in ["compute00042", "compute05000", "compute09999"] {
        std::fs::write(host_vars.join(host), "nova_reserved_host_memory_mb: 8192\n").unwrap();
    }
    kayobe_automation_tests::commit(repo, "changed");

    let secret = VaultSecret::from_file(&repo.join(".vault-password")).unwrap();
    let diff = diff_revisions(
        &repo.join("etc/kayobe"),
        Some("production"),
        "base",
        "changed",
        Some(&secret),
    )
    .unwrap();
    assert_eq!(diff.hosts.len(), 10_008);
    let page = html::page(&diff);
    assert!(page.len() < 100_000, "{} bytes", page.len());
    let file = repo.join("config-diff.html");
    std::fs::write(&file, &page).unwrap();
    let empty = repo.join("empty.html");
    std::fs::write(&empty, "<!doctype html><title>empty</title>").unwrap();
    let profile = repo.join("profile");

    let start = std::time::Instant::now();
    chromium_dom(&chromium, &profile, &format!("file://{}", empty.display()));
    let baseline = start.elapsed();
    let url = format!("file://{}", file.display());
    let start = std::time::Instant::now();
    let dom = chromium_dom(&chromium, &profile, &url);
    let rendered = start.elapsed();
    eprintln!("Chromium: an empty page {baseline:?}, the 10 000-host page {rendered:?}");
    assert!(
        rendered < baseline + std::time::Duration::from_secs(5),
        "the page took {rendered:?} against {baseline:?} for an empty one"
    );
    assert_eq!(
        visible_text(&dom),
        "Configuration diff: changes Hosts changed 10 008 \
         Distinct changes: added 1 Distinct changes: removed 0 Distinct changes: changed 2 \
         Files added 0 Files removed 0 Files changed 0 Groups all, compute \
         Expand all Collapse all Variables \
         all hosts (10 008 hosts) 1 change Key Change Base Target \
         nova_cpu_allocation_ratio added 4.0 \
         compute except compute00042, compute05000, compute09999 (9 997 hosts) 1 change \
         Key Change Base Target nova_reserved_host_memory_mb changed 16384 32768 \
         compute00042, compute05000, compute09999 1 change Key Change Base Target \
         nova_reserved_host_memory_mb changed 16384 8192"
    );
    chromium_screenshot(&chromium, &profile, &url, "config-diff-10000-hosts.png");
}
