//! The example repository's inventories as `inventory list` prints them: a
//! snapshot, so a change in output shows up in review even where the
//! `ansible-inventory` oracle is not installed.

use kayobe_config::inventory::Inventory;

#[test]
fn example_production_inventory_list() {
    let kayobe = kayobe_automation_tests::example_repo().join("etc/kayobe");
    let inventory = Inventory::load(
        &[
            kayobe.join("inventory"),
            kayobe.join("environments/production/inventory"),
        ],
        None,
    )
    .expect("the example inventories load");
    insta::assert_json_snapshot!(inventory.to_ansible_list());
}

#[test]
fn example_accessors() {
    let kayobe = kayobe_automation_tests::example_repo().join("etc/kayobe");
    let inventory = Inventory::load(
        &[
            kayobe.join("inventory"),
            kayobe.join("environments/staging/inventory"),
        ],
        None,
    )
    .expect("the example inventories load");
    assert_eq!(
        inventory.group_hosts("overcloud").unwrap(),
        [
            "ctl01",
            "ctl02",
            "ctl03",
            "storage-a",
            "storage-b",
            "storage-c",
            "compute01",
            "compute02",
            "compute03",
            "compute04"
        ]
    );
    assert_eq!(
        inventory.host_groups("runner01").unwrap(),
        ["github-runners", "gitlab-runners", "infra-vms"]
    );
    let vars = inventory.host_vars("storage-a").unwrap();
    // The host line beats the environment's [overcloud:vars].
    assert_eq!(
        vars["ansible_python_interpreter"],
        "/usr/bin/python3".into()
    );
}

/// Hosts of the same groups without variables of their own share a class;
/// an inline variable, a `host_vars` file or another group sets a host apart.
#[test]
fn hosts_sharing_variables_are_classed_together() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hosts"),
        "[compute]\nc[1:4]\nc5 ansible_host=10.0.0.5\n\
         [gpu]\nc3\n[edge]\ne1\n[edge:children]\ncompute\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("host_vars")).unwrap();
    std::fs::write(dir.path().join("host_vars/c2"), "rack: 7\n").unwrap();
    let inventory = Inventory::load(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(
        inventory.hosts_sharing_variables(),
        [
            vec!["c1", "c4"],
            vec!["c2"],
            vec!["c3"],
            vec!["c5"],
            vec!["e1"],
        ]
    );
}
