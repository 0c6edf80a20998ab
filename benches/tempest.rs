//! Reading a 20 000-test Tempest-like subunit v2 stream: results only, and
//! the full report (summary, JUnit XML, HTML).

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use kayobe_automation::tempest::{ReportPaths, ResultReader, report_stream};
use kayobe_automation_benches::subunit::write_stream;

fn tempest(c: &mut Criterion) {
    let mut stream = Vec::new();
    write_stream(&mut stream, 20_000).expect("write the stream");
    let mut group = c.benchmark_group("tempest 20000 tests");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("results", |b| {
        b.iter(|| {
            ResultReader::new(black_box(&stream[..]))
                .filter(|result| result.as_ref().expect("well formed").outcome.is_failure())
                .count()
        })
    });
    let dir = tempfile::tempdir().expect("temporary directory");
    let paths = ReportPaths {
        junit: Some(dir.path().join("junit.xml")),
        html: Some(dir.path().join("report.html")),
    };
    group.bench_function("report with JUnit and HTML", |b| {
        b.iter(|| {
            report_stream(black_box(&stream[..]), &paths)
                .expect("reports written")
                .summary
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    tempest(&mut criterion);
    criterion.final_summary();
}
