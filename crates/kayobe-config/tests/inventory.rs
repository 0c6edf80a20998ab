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
