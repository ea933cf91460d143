//! The sign-in flows of `deltascope::auth` against the emulator's identity platform over
//! loopback: client secret, certificate, device code (pending → approve, slow_down,
//! expired_token, declined, cancel, refresh token), caching and refresh before expiry, the Azure
//! CLI, and that no message or Debug output carries a token or a secret.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deltascope::auth::{
    Acquire, AuthError, Authority, Cached, ClientCertificate, ClientCredential, ClientCredentials,
    DeviceCode, DeviceCodeOptions, DevicePrompt, PromptFn, Secret, TokenSource,
};
use deltascope::emulator::{Emulator, EmulatorApp, IdentityConfig};
use serde_json::{Value, json};
use support::auth_fixture;
use support::identity::{claims, start_with_identity};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "flow-test-secret~Zx9_Qv";
const APP: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const CERT_APP: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

async fn start(interval: u64, lifetime: Duration) -> Emulator {
    let cert = std::fs::read_to_string(auth_fixture("app-cert.pem")).unwrap();
    start_with_identity(IdentityConfig {
        enforce: true,
        apps: vec![
            EmulatorApp {
                client_id: APP.into(),
                display_name: "flows".into(),
                secret: Some(SECRET.into()),
                roles: vec!["OnlineMeetingRecording.Read.All".into()],
                delegated_scopes: vec!["OrgContact.Read.All".into()],
                ..Default::default()
            },
            EmulatorApp {
                client_id: CERT_APP.into(),
                display_name: "cert".into(),
                certificate_pem: Some(cert),
                roles: vec!["OrgContact.Read.All".into()],
                ..Default::default()
            },
        ],
        access_token_lifetime: lifetime,
        device_code_interval_secs: interval,
        ..Default::default()
    })
    .await
}

fn authority(emu: &Emulator) -> Authority {
    Authority::custom(&emu.base_url(), &emu.demo().tenant_id).unwrap()
}

fn no_leak(texts: &[String], secrets: &[&str]) {
    for t in texts {
        for s in secrets {
            assert!(!t.contains(s), "leaked a secret in: {t}");
        }
    }
}

#[tokio::test]
async fn client_secret_flow() {
    let emu = start(0, Duration::from_secs(3599)).await;
    let cc = ClientCredentials::new(
        authority(&emu),
        APP,
        ClientCredential::Secret(Secret::new(SECRET)),
        &emu.base_url(),
    )
    .unwrap();
    let src = Cached::new(cc.clone());
    let tok = src.token().await.unwrap();
    let c = claims(tok.secret());
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["roles"], json!(["OnlineMeetingRecording.Read.All"]));
    assert_eq!(c["aud"], emu.base_url().as_str());
    // Cached: the same token until close to expiry; refresh() gets a new one.
    assert_eq!(src.token().await.unwrap(), tok);
    let again = src.refresh().await.unwrap();
    assert_ne!(again, tok);

    let wrong = ClientCredentials::new(
        authority(&emu),
        APP,
        ClientCredential::Secret(Secret::new("not-the-secret-123")),
        &emu.base_url(),
    )
    .unwrap();
    let err = Cached::new(wrong.clone()).token().await.unwrap_err();
    match &err {
        AuthError::Rejected { error, codes, .. } => {
            assert_eq!(error, "invalid_client");
            assert_eq!(codes, &vec![7000215]);
        }
        other => panic!("{other:?}"),
    }
    no_leak(
        &[
            err.to_string(),
            format!("{err:?}"),
            format!("{cc:?}"),
            format!("{src:?}"),
            format!("{wrong:?}"),
            cc.describe(),
            format!("{tok:?}"),
            format!("{tok}"),
        ],
        &[SECRET, "not-the-secret-123", tok.secret(), again.secret()],
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn refreshed_before_expiry() {
    // Tokens living 200 s are inside the 5-minute margin: each use gets a new one.
    let emu = start(0, Duration::from_secs(200)).await;
    let src = Cached::new(
        ClientCredentials::new(
            authority(&emu),
            APP,
            ClientCredential::Secret(Secret::new(SECRET)),
            &emu.base_url(),
        )
        .unwrap(),
    );
    let a = src.token().await.unwrap();
    let b = src.token().await.unwrap();
    assert_ne!(a, b);
    emu.shutdown().await;
}

#[tokio::test]
async fn certificate_flow() {
    let emu = start(0, Duration::from_secs(3599)).await;
    for (cert, key) in [
        (auth_fixture("app-combined.pem"), None),
        (
            auth_fixture("app-cert.pem"),
            Some(auth_fixture("app-key.pem")),
        ),
        (
            auth_fixture("app-cert.pem"),
            Some(auth_fixture("app-key-pkcs1.pem")),
        ),
    ] {
        let c = ClientCertificate::load(&cert, key.as_deref()).unwrap();
        assert_eq!(c.thumbprint().len(), 40);
        let src = Cached::new(
            ClientCredentials::new(
                authority(&emu),
                CERT_APP,
                ClientCredential::Certificate(c),
                &emu.base_url(),
            )
            .unwrap(),
        );
        let tok = src.token().await.unwrap();
        assert_eq!(
            claims(tok.secret())["roles"],
            json!(["OrgContact.Read.All"])
        );
        assert!(!format!("{src:?}").contains("PRIVATE"));
    }

    // A certificate the app does not have: refused by the identity platform.
    let other = ClientCertificate::load(
        &auth_fixture("other-cert.pem"),
        Some(&auth_fixture("other-key.pem")),
    )
    .unwrap();
    let err = Cached::new(
        ClientCredentials::new(
            authority(&emu),
            CERT_APP,
            ClientCredential::Certificate(other),
            &emu.base_url(),
        )
        .unwrap(),
    )
    .token()
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AuthError::Rejected { error, codes, .. } if error == "invalid_client" && codes == &vec![700027]),
        "{err:?}"
    );
    assert!(err.to_string().contains("certificate"), "{err}");

    // A key that does not belong to the certificate: refused before anything is sent.
    let e = ClientCertificate::load(
        &auth_fixture("app-cert.pem"),
        Some(&auth_fixture("other-key.pem")),
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not belong"), "{e}");
    let key_text = std::fs::read_to_string(auth_fixture("other-key.pem")).unwrap();
    let key_body = key_text.lines().nth(1).unwrap();
    assert!(!e.to_string().contains(key_body));
    emu.shutdown().await;
}

struct Prompts {
    seen: Arc<Mutex<Vec<DevicePrompt>>>,
    notify: Arc<tokio::sync::Notify>,
}

fn prompts() -> (Prompts, PromptFn) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let notify = Arc::new(tokio::sync::Notify::new());
    let (s, n) = (seen.clone(), notify.clone());
    let f: PromptFn = Arc::new(move |p: &DevicePrompt| {
        s.lock().unwrap().push(p.clone());
        n.notify_one();
    });
    (Prompts { seen, notify }, f)
}

impl Prompts {
    async fn next_code(&self, n: usize) -> String {
        loop {
            let notified = self.notify.notified();
            if let Some(p) = self.seen.lock().unwrap().get(n - 1) {
                return p.user_code.clone();
            }
            tokio::time::timeout(Duration::from_secs(10), notified)
                .await
                .expect("no device-code prompt");
        }
    }
}

async fn control(emu: &Emulator, what: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/_emulator/devicecode/{what}", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Waits until the emulator has seen at least `n` polls answered pending, by watching the list.
async fn wait_pending(emu: &Emulator) {
    let r: Value = reqwest::get(format!("{}/_emulator/devicecode", emu.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["value"][0]["status"], "pending");
}

fn device(emu: &Emulator, prompt: PromptFn, cancel: CancellationToken) -> DeviceCode {
    DeviceCode::new(
        authority(emu),
        APP,
        &emu.base_url(),
        &["OrgContact.Read.All".to_string()],
        prompt,
        cancel,
    )
    .unwrap()
    .with_options(DeviceCodeOptions {
        slow_down_step: Duration::from_millis(100),
        min_interval: Duration::from_millis(20),
    })
}

#[tokio::test]
async fn device_code_pending_then_approved_then_refresh_token() {
    let emu = start(0, Duration::from_secs(3599)).await;
    let (p, f) = prompts();
    let src = Arc::new(Cached::new(device(&emu, f, CancellationToken::new())));
    let task = tokio::spawn({
        let src = src.clone();
        async move { src.token().await }
    });
    let code = p.next_code(1).await;
    wait_pending(&emu).await;
    // A few polls come back authorization_pending; the flow keeps going.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!task.is_finished());
    control(&emu, "approve", json!({ "user_code": code })).await;
    let tok = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let c = claims(tok.secret());
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["scp"], "OrgContact.Read.All");
    let prompt = p.seen.lock().unwrap()[0].clone();
    assert!(prompt.message.contains(&prompt.user_code));
    assert!(prompt.verification_uri.starts_with(&emu.base_url()));
    // refresh() uses the refresh token: a new token, no new prompt.
    let t2 = src.refresh().await.unwrap();
    assert_ne!(t2, tok);
    assert_eq!(p.seen.lock().unwrap().len(), 1);
    no_leak(&[format!("{src:?}")], &[tok.secret(), t2.secret()]);
    emu.shutdown().await;
}

#[tokio::test]
async fn device_code_slow_down_at_the_server_interval() {
    // Interval 1 s announced: the client waits it (no automatic slow_down), and two forced
    // slow_down answers only lengthen the wait.
    let emu = start(1, Duration::from_secs(3599)).await;
    let (p, f) = prompts();
    let src = Cached::new(device(&emu, f, CancellationToken::new()));
    let started = std::time::Instant::now();
    let (tok, ()) = tokio::join!(src.token(), async {
        let code = p.next_code(1).await;
        control(&emu, "slow_down", json!({ "user_code": code, "count": 2 })).await;
        control(&emu, "approve", json!({ "user_code": code })).await;
    });
    let tok = tok.unwrap();
    assert_eq!(claims(tok.secret())["scp"], "OrgContact.Read.All");
    // 3 polls at ≥ 1 s, 1.1 s, 1.2 s.
    assert!(
        started.elapsed() >= Duration::from_millis(3200),
        "{:?}",
        started.elapsed()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn device_code_expired_declined_and_cancelled() {
    let emu = start(0, Duration::from_secs(3599)).await;

    let (p, f) = prompts();
    let src = Cached::new(device(&emu, f, CancellationToken::new()));
    let (r, ()) = tokio::join!(src.token(), async {
        p.next_code(1).await;
        emu.control().advance_clock(901.0);
    });
    assert_eq!(r.unwrap_err(), AuthError::DeviceCodeExpired);

    let (p, f) = prompts();
    let src = Cached::new(device(&emu, f, CancellationToken::new()));
    let (r, ()) = tokio::join!(src.token(), async {
        let code = p.next_code(1).await;
        control(&emu, "deny", json!({ "user_code": code })).await;
    });
    assert_eq!(r.unwrap_err(), AuthError::Declined);

    let (p, f) = prompts();
    let cancel = CancellationToken::new();
    let src = Cached::new(device(&emu, f, cancel.clone()));
    let (r, ()) = tokio::join!(src.token(), async {
        p.next_code(1).await;
        cancel.cancel();
    });
    assert_eq!(r.unwrap_err(), AuthError::Cancelled);
    emu.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn azure_cli_token() {
    use deltascope::auth::AzureCli;
    use std::os::unix::fs::PermissionsExt as _;
    let dir = support::temp_dir("az");
    let ok = dir.join("az");
    std::fs::write(
        &ok,
        "#!/bin/sh\n[ \"$1 $2 $3 $4\" = \"account get-access-token --resource-type ms-graph\" ] || exit 9\necho '{\"accessToken\":\"az-cli-token-value\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":4070908800,\"tenant\":\"t\",\"tokenType\":\"Bearer\"}'\n",
    )
    .unwrap();
    let bad = dir.join("az-bad");
    std::fs::write(
        &bad,
        "#!/bin/sh\necho 'ERROR: Please run az login to setup account.' >&2\nexit 1\n",
    )
    .unwrap();
    for f in [&ok, &bad] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let src = Cached::new(AzureCli::with_program(&ok, None));
    assert_eq!(src.token().await.unwrap().secret(), "az-cli-token-value");
    assert_eq!(src.expires_at().await.unwrap().timestamp(), 4_070_908_800);
    let e = Cached::new(AzureCli::with_program(&bad, None))
        .token()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("az login"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
