//! The per-run overhead of `run`: create, start, wait for and remove a
//! container whose operation runs `true`, through kayobe-runtime and through
//! the `docker` CLI (`docker run --rm`, same image, mount and network).

use std::process::{Command, Stdio};

use criterion::Criterion;
use kayobe_automation::runtime::{
    BuildOptions, Invocation, RunOptions, RunSecrets, build_image, connect_docker, run_operation,
};
use kayobe_automation_benches::run::{OPERATION, write_trivial_checkout};
use kayobe_automation_tests::docker::{RemoveImages, unique_tag};
use kayobe_automation_tests::tool;

fn run(c: &mut Criterion) {
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let docker = match runtime.block_on(connect_docker()) {
        Ok(docker) => docker,
        Err(error) => {
            eprintln!("skipping the run benchmark: {error}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    write_trivial_checkout(dir.path(), &busybox, &bash).expect("write the checkout");
    let image = unique_tag("bench-run");
    let _cleanup = RemoveImages(vec![image.clone()]);
    let build = BuildOptions::new(dir.path(), &image).expect("build options");
    runtime
        .block_on(build_image(&docker, &build, |_| {}))
        .expect("build the stand-in image");
    let operation =
        Invocation::new(dir.path(), OPERATION, Vec::new()).expect("the checkout's operation");
    let options = RunOptions::new(&image, dir.path(), operation, &dir.path().join("artifacts"));

    let mut group = c.benchmark_group("run, operation running `true`");
    group.sample_size(10);
    group.bench_function("kayobe-runtime run_operation", |b| {
        b.iter(|| {
            let outcome = runtime
                .block_on(run_operation(
                    &docker,
                    &options,
                    &RunSecrets::default(),
                    |_| {},
                    std::future::pending(),
                ))
                .expect("the run");
            assert!(outcome.is_success());
        })
    });
    group.bench_function("docker run --rm (docker CLI)", |b| {
        b.iter(|| {
            let status = Command::new("docker")
                .args(["run", "--rm", "--init", "--network", "host", "-v"])
                .arg(format!("{}:/src", dir.path().display()))
                .arg(&image)
                .arg("bash")
                .arg(format!("/src/.automation/pipeline/{OPERATION}.sh"))
                .stdout(Stdio::null())
                .status()
                .expect("run the docker CLI");
            assert!(status.success());
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    run(&mut criterion);
    criterion.final_summary();
}
