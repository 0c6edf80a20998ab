//! ansible-vault decryption: one Kolla-passwords-like file, and `view_files`
//! over 200 of them in parallel.

use std::hint::black_box;

use criterion::Criterion;
use kayobe_automation::config::vault::{self, VaultSecret};
use kayobe_automation_benches::vault::write_vaulted_files;

fn decrypt(c: &mut Criterion) {
    let secret = VaultSecret::new("bench-password");
    let dir = tempfile::tempdir().expect("temporary directory");
    let files = write_vaulted_files(dir.path(), 200, &secret).expect("write fixtures");
    let text = std::fs::read(&files[0]).expect("read fixture");

    c.bench_function("vault decrypt one 8 KB file", |b| {
        b.iter(|| vault::decrypt(black_box(&text), &secret).expect("decrypts"))
    });
    let mut group = c.benchmark_group("vault view_files");
    group.sample_size(10);
    group.bench_function("200 files", |b| {
        b.iter(|| {
            let results = vault::view_files(black_box(&files), &secret);
            assert!(results.iter().all(Result::is_ok));
            results
        })
    });
    group.finish();
}

// Written out rather than `criterion_main!`, whose generated `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    decrypt(&mut criterion);
    criterion.final_summary();
}
