//! A real registry for push and preflight tests: Debian's `docker-registry`
//! (the distribution registry) on a free loopback port with htpasswd
//! (bcrypt) authentication. The engine treats 127.0.0.0/8 registries as
//! insecure-allowed, so it pushes to it over plain HTTP.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REGISTRY: &str = "/usr/bin/docker-registry";
const HTPASSWD: &str = "/usr/bin/htpasswd";

/// The user the registry knows.
pub const USER: &str = "kayobe-ci";
/// That user's password.
pub const PASSWORD: &str = "registry-test-password";

/// A running registry, stopped when dropped.
pub struct Registry {
    /// `127.0.0.1:PORT`, the registry part of image names.
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry, or `None` (after saying so) when Debian's
    /// `docker-registry` and `htpasswd` are not installed off CI.
    ///
    /// # Panics
    /// Under `CI=true` when they are missing, or when the registry does not
    /// come up.
    pub fn start() -> Option<Self> {
        if !(Path::new(REGISTRY).is_file() && Path::new(HTPASSWD).is_file()) {
            let message = "docker-registry or htpasswd is not installed: run `cargo xtask setup`";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
            eprintln!("skipping: {message}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let htpasswd = Command::new(HTPASSWD)
            .args(["-Bbn", USER, PASSWORD])
            .output()
            .unwrap();
        assert!(htpasswd.status.success(), "htpasswd failed");
        std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).unwrap();
        // A port free a moment ago; the registry takes it next.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: {host}\n  secret: kayobe-automation-test\nauth:\n  htpasswd:\n    realm: kayobe-test\n    path: {root}/htpasswd\n",
            root = dir.path().display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let registry = Self {
            host,
            child,
            _dir: dir,
        };
        let started = Instant::now();
        while TcpStream::connect(&registry.host).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the registry did not listen on {}",
                registry.host
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
