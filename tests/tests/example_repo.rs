//! End to end through the facade: the example repository's runner host, its
//! variables layered as Kayobe layers them and evaluated Ansible-style.

use kayobe_automation::config::repo::ConfigRepo;
use kayobe_automation::config::template::Templar;
use kayobe_automation::config::vault::VaultSecret;
use kayobe_automation::config::{Map, Value};
use kayobe_automation_tests::example_repo;
use pretty_assertions::assert_eq;

fn runner_variables(environment: Option<&str>) -> Map {
    let repo = ConfigRepo::open(&example_repo().join("etc/kayobe"), environment).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    let inventory = repo.inventory(Some(&secret)).unwrap();
    assert_eq!(
        inventory.group_hosts("github-runners"),
        Some(vec!["runner01"])
    );
    repo.host_variables(&inventory, "runner01", Some(&secret))
        .unwrap()
}

fn resolve(vars: &Map, name: &str) -> Value {
    Templar::new(vars).variable(name).unwrap().unwrap()
}

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

#[test]
fn runner_labels_follow_the_environment() {
    let production = runner_variables(Some("production"));
    assert_eq!(
        resolve(&production, "default_runner_labels"),
        strings(&["kayobe", "openstack", "production"])
    );
    // Outside an environment `default(omit)` drops the label.
    let base = runner_variables(None);
    assert_eq!(
        resolve(&base, "default_runner_labels"),
        strings(&["kayobe", "openstack"])
    );
}

#[test]
fn registry_settings_come_from_extra_vars_and_decrypted_secrets() {
    let vars = runner_variables(Some("production"));
    let Value::Map(registry) = resolve(&vars, "github_registry") else {
        panic!("github_registry is a mapping");
    };
    assert_eq!(
        registry.get("url"),
        Some(&resolve(&vars, "kolla_docker_registry"))
    );
    assert_eq!(registry.get("share"), Some(&Value::Bool(true)));
    // The password is the plaintext from the vaulted secrets.yml.
    let Some(Value::String(password)) = registry.get("password") else {
        panic!("the registry password resolves to a string");
    };
    assert!(!password.is_empty() && !password.contains("ANSIBLE_VAULT"));
    assert_eq!(resolve(&vars, "docker_users"), strings(&["stack"]));
}
