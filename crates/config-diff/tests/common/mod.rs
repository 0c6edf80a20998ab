//! A small configuration repository's git history, shared by the tests
//! that need exact expected diffs: a changed variable, a changed vaulted
//! secret, a new host, a changed configuration file.

use std::path::PathBuf;

use kayobe_automation_tests::{commit, git_init};
use kayobe_config::vault::{self, VaultSecret};

/// The vault password of the history's vaulted files.
pub const PASSWORD: &str = "small-history-vault-password";
/// `registry_password` in `base`.
pub const OLD_SECRET: &str = "old-registry-pass";
/// `registry_password` in `changed`.
pub const NEW_SECRET: &str = "new-registry-pass";
const ENVIRONMENT: &str = "etc/kayobe/environments/production";
const NOVA_CONF: &str = "etc/kayobe/kolla/config/nova.conf";

fn write(path: PathBuf, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Tags `base` (environment `production` by default; ctl01; London; the
/// old secret; nova.conf) and `changed`
/// (cmp01 added; Paris; the new secret; a line of nova.conf changed, to one
/// that would be markup if it were not escaped).
pub fn history(secret: &VaultSecret) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let env = repo.join(ENVIRONMENT);
    let secrets = |value: &str| {
        vault::encrypt(
            format!("registry_password: {value}\n").as_bytes(),
            secret,
            None,
        )
        .unwrap()
    };
    write(repo.join(".environment"), "production\n");
    write(repo.join("etc/kayobe/globals.yml"), "---\n");
    write(env.join("globals.yml"), "timezone: Europe/London\n");
    write(env.join("secrets.yml"), &secrets(OLD_SECRET));
    write(env.join("inventory/hosts"), "[controllers]\nctl01\n");
    write(repo.join(NOVA_CONF), "[DEFAULT]\ndebug = False\n");
    git_init(repo);
    commit(repo, "base");
    write(env.join("globals.yml"), "timezone: Europe/Paris\n");
    write(env.join("secrets.yml"), &secrets(NEW_SECRET));
    write(
        env.join("inventory/hosts"),
        "[controllers]\nctl01\n\n[compute]\ncmp01\n",
    );
    write(
        repo.join(NOVA_CONF),
        "[DEFAULT]\ndebug = True # <script>document.title='pwned'</script>\n",
    );
    commit(repo, "changed");
    dir
}
