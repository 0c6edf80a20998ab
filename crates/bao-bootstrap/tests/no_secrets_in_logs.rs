//! Every log line of a bootstrap (ours, vaultrs', reqwest's, at TRACE level)
//! and every error is free of key material, tokens and secret values.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use bao_bootstrap::{BootstrapOptions, EnvironmentSecrets, KeysFile, bootstrap};
use support::BaoServer;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn bootstrap_logs_and_errors_hold_no_secret() {
    let Some(mut server) = BaoServer::start() else {
        return;
    };
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let secret_values = [
        "VaultPasswordValue123",
        "SshKeyMaterialValue456",
        "OpenrcPasswordValue789",
    ];
    let secrets = EnvironmentSecrets::new(
        "production",
        BTreeMap::from([
            (
                "kayobe_vault_password".to_owned(),
                secret_values[0].to_owned(),
            ),
            (
                "kayobe_automation_ssh_private_key".to_owned(),
                secret_values[1].to_owned(),
            ),
            (
                "kayobe_tempest_openrc".to_owned(),
                secret_values[2].to_owned(),
            ),
        ]),
    )
    .unwrap();
    let keys_file = KeysFile::new(server.dir().join("vault/keys.json"), None);
    let options = BootstrapOptions::new(server.addr(), keys_file.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut errors = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            bootstrap(&options, std::slice::from_ref(&secrets))
                .await
                .unwrap();
            server.restart();
            bootstrap(&options, std::slice::from_ref(&secrets))
                .await
                .unwrap();
            // Errors too: keys that do not unseal this server.
            server.restart();
            let mut wrong = keys_file.read().unwrap().unwrap();
            wrong.keys_base64.reverse();
            wrong.keys_base64.truncate(2);
            let wrong_file = KeysFile::new(server.dir().join("vault/wrong.json"), None);
            wrong_file.write(&wrong).unwrap();
            let wrong_options = BootstrapOptions::new(server.addr(), wrong_file);
            let error = bootstrap(&wrong_options, &[]).await.unwrap_err();
            errors.push(format!("{error} {error:?}"));
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("unsealed OpenBao"),
        "our own lines are captured"
    );
    assert!(
        logs.contains("Sending Request"),
        "vaultrs' lines are captured"
    );
    let keys = keys_file.read().unwrap().unwrap();
    let mut forbidden: Vec<&str> = secret_values.to_vec();
    forbidden.push(&keys.root_token);
    forbidden.extend(keys.keys.iter().map(String::as_str));
    forbidden.extend(keys.keys_base64.iter().map(String::as_str));
    for text in std::iter::once(&logs).chain(&errors) {
        for secret in &forbidden {
            assert!(!text.contains(secret), "a secret leaked into: {text}");
        }
    }
}
