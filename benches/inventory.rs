//! Inventory loading and `--list` rendering: the example repository (base +
//! production) and a generated 1000-host Kayobe-like inventory.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;
use kayobe_automation::config::inventory::Inventory;
use kayobe_automation_benches::inventory::write_inventory;

fn inventory(c: &mut Criterion) {
    let example = kayobe_automation_tests_example().join("etc/kayobe");
    let example_sources = [
        example.join("inventory"),
        example.join("environments/production/inventory"),
    ];
    c.bench_function("inventory load + list, example (production)", |b| {
        b.iter(|| {
            let inventory = Inventory::load(black_box(&example_sources), None).expect("loads");
            inventory.to_ansible_list()
        })
    });

    let dir = tempfile::tempdir().expect("temporary directory");
    write_inventory(dir.path(), 1000).expect("write fixture");
    let large = [dir.path().to_path_buf()];
    let mut group = c.benchmark_group("inventory 1000 hosts");
    group.sample_size(20);
    group.bench_function("load", |b| {
        b.iter(|| Inventory::load(black_box(&large), None).expect("loads"))
    });
    let loaded = Inventory::load(&large, None).expect("loads");
    group.bench_function("to_ansible_list", |b| b.iter(|| loaded.to_ansible_list()));
    group.finish();
}

/// The example repository, found from this package's directory.
fn kayobe_automation_tests_example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/kayobe-config")
}

// Written out rather than `criterion_main!`, whose generated `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    inventory(&mut criterion);
    criterion.final_summary();
}
