//! A real OpenBao server for tests: `bao server` with integrated (raft)
//! storage in files in a temporary directory — OpenBao 2.x no longer has the
//! `file` backend — listening on a free loopback port. Not `-dev`: the server
//! starts uninitialised and sealed, as a real one does.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `bao server`, killed on drop.
pub struct BaoServer {
    bao: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl BaoServer {
    /// Starts a fresh server, or `None` when `bao` is not installed (and not in CI).
    pub fn start() -> Option<Self> {
        let bao = kayobe_automation_tests::tool("bao")?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let cluster_port = free_port();
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage).unwrap();
        let config = format!(
            "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"node1\"\n}}\n\
             listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  \
             cluster_address = \"127.0.0.1:{cluster_port}\"\n  tls_disable = true\n}}\n\
             api_addr = \"http://127.0.0.1:{port}\"\n\
             cluster_addr = \"http://127.0.0.1:{cluster_port}\"\nui = false\n",
            storage.display()
        );
        std::fs::write(dir.path().join("bao.hcl"), config).unwrap();
        let mut server = Self {
            bao,
            dir,
            port,
            child: None,
        };
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(&self.bao)
            .arg("server")
            .arg(format!(
                "-config={}",
                self.dir.path().join("bao.hcl").display()
            ))
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("bao server starts");
        self.child = Some(child);
        self.wait_listening();
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("bao server exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "bao server did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and starts it again on the same storage (it comes
    /// back sealed).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A directory the test may use for files (keys files, configs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the `bao` command line against this server, returning its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(&self.bao)
            .args(args)
            .env("BAO_ADDR", self.addr())
            .env_remove("VAULT_ADDR")
            .output()
            .expect("bao runs");
        assert!(
            output.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for BaoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An ID token as GitLab signs one for a job of project `project_id` on
/// `main`, issued by `issuer` for `audience`, valid for five minutes; signed
/// with `fixtures/jwt-signing-key.pem`, whose public half `fixtures/jwks.json`
/// serves.
pub fn gitlab_id_token(issuer: &str, audience: &str, project_id: &str) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let key = EncodingKey::from_rsa_pem(include_bytes!("../fixtures/jwt-signing-key.pem"))
        .expect("the fixture key is an RSA key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("kayobe-automation-test".to_owned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_secs();
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": audience,
        "sub": "project_path:ops/kayobe-config:ref_type:branch:ref:main",
        "project_id": project_id,
        "project_path": "ops/kayobe-config",
        "user_email": "ci@example.test",
        "ref": "main",
        "ref_type": "branch",
        "ref_protected": "true",
        "environment": "production",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("the claims serialise")
}
