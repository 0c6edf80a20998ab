//! The Docker engine for tests that run real containers: connecting (or
//! skipping off CI), unique image tags, and removing test images afterwards.

use std::time::{SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::query_parameters::RemoveImageOptionsBuilder;

/// The engine, or `None` (after saying so) when it is unreachable off CI.
pub async fn docker() -> Option<Docker> {
    let connected = match Docker::connect_with_local_defaults() {
        Ok(docker) => docker.negotiate_version().await.ok(),
        Err(_) => None,
    };
    if connected.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Docker engine is not reachable"
        );
        eprintln!("skipping: the Docker engine is not reachable");
    }
    connected
}

/// A tag no other test run uses.
pub fn unique_tag(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "kayobe-automation/test-{what}:{}-{nanos}",
        std::process::id()
    )
}

/// Removes the images it names when the test ends, passed or not.
pub struct RemoveImages(pub Vec<String>);

impl Drop for RemoveImages {
    fn drop(&mut self) {
        let tags = std::mem::take(&mut self.0);
        // Its own thread and runtime: dropping may happen inside the test's runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let docker = Docker::connect_with_local_defaults()
                    .unwrap()
                    .negotiate_version()
                    .await
                    .unwrap();
                for tag in tags {
                    let options = RemoveImageOptionsBuilder::new().force(true).build();
                    let _ = docker.remove_image(&tag, Some(options), None).await;
                }
            });
        })
        .join()
        .unwrap();
    }
}
