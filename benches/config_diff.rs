//! The tree diff of config-diff: two generated configuration trees of 5000
//! files, 1% of them changed.

use std::hint::black_box;

use config_diff::tree::diff_dirs;
use criterion::Criterion;
use kayobe_automation_benches::config_tree::write_config_trees;

fn tree_diff(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let changed = write_config_trees(dir.path(), 5000, 100).expect("write fixtures");
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let mut group = c.benchmark_group("config-diff tree");
    group.sample_size(20);
    group.bench_function("5000 files, 1% changed", |b| {
        b.iter(|| {
            let diff = diff_dirs(black_box(&old), black_box(&new)).expect("diffs");
            assert_eq!(diff.files.len(), changed);
            diff
        })
    });
    group.finish();
}

// Written out rather than `criterion_main!`, whose generated `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    tree_diff(&mut criterion);
    criterion.final_summary();
}
