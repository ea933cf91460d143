//! A whole `deltascope sync` session against the emulator with token enforcement, signed in for
//! real (a client secret at the emulator's identity platform): every output (stdout, stderr, the
//! state file, a trace-level log file) is searched for the token and the secret. Also the
//! failures: a token without the permission (403), an expired token (401).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use deltascope::auth::{
    Authority, Cached, ClientCredential, ClientCredentials, Secret, TokenSource,
};
use deltascope::emulator::{Emulator, EmulatorApp, IdentityConfig};
use support::identity::start_with_identity;

const SECRET: &str = "session-secret~Pq7_Vn3";
const CONTACTS_APP: &str = "ffffffff-6666-4666-8666-ffffffffffff";
const USERS_APP: &str = "99999999-7777-4777-8777-999999999999";

async fn start() -> Emulator {
    let app = |id: &str, role: &str| EmulatorApp {
        client_id: id.into(),
        display_name: id.into(),
        secret: Some(SECRET.into()),
        roles: vec![role.into()],
        ..Default::default()
    };
    start_with_identity(IdentityConfig {
        enforce: true,
        apps: vec![
            app(CONTACTS_APP, "OrgContact.Read.All"),
            app(USERS_APP, "User.Read.All"),
        ],
        ..Default::default()
    })
    .await
}

async fn token_for(emu: &Emulator, app: &str) -> String {
    Cached::new(
        ClientCredentials::new(
            Authority::custom(&emu.base_url(), &emu.demo().tenant_id).unwrap(),
            app,
            ClientCredential::Secret(Secret::new(SECRET)),
            &emu.base_url(),
        )
        .unwrap(),
    )
    .token()
    .await
    .unwrap()
    .secret()
    .to_string()
}

struct Run {
    code: i32,
    outputs: Vec<(String, String)>,
}

async fn sync(dir: &Path, emu: &Emulator, token: &str, extra: &[&str]) -> Run {
    let state = dir.join("state.json");
    let log = dir.join("trace.log");
    let mut c = Command::new(env!("CARGO_BIN_EXE_deltascope"));
    // `--log-file` is global: given before the subcommand, as in the README.
    c.arg("--log-file")
        .arg(&log)
        .args(["sync", "--graph-root", &emu.base_url()])
        .args(["--token-env", "SESSION_TOKEN", "--state"])
        .arg(&state)
        .args(extra)
        .env("SESSION_TOKEN", token)
        .env("DELTASCOPE_LOG", "trace");
    let o = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    Run {
        code: o.status.code().unwrap_or(-1),
        outputs: vec![
            (
                "stdout".into(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            ),
            (
                "stderr".into(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            ),
            ("state".into(), read(&state)),
            ("log".into(), read(&log)),
        ],
    }
}

impl Run {
    fn get(&self, name: &str) -> &str {
        &self.outputs.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn assert_clean(&self, token: &str) {
        for (name, text) in &self.outputs {
            assert!(!text.contains(token), "the token leaked into {name}");
            assert!(!text.contains(SECRET), "the secret leaked into {name}");
            // Any 40-character slice of the token (its signature, its claims) is a leak too.
            for i in (0..token.len().saturating_sub(40)).step_by(40) {
                assert!(
                    !text.contains(&token[i..i + 40]),
                    "part of the token leaked into {name}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_session_leaks_nothing() {
    let emu = start().await;
    let dir = support::temp_dir("leaks");
    let token = token_for(&emu, CONTACTS_APP).await;

    // Two full rounds of contacts with a change between them.
    let r = sync(
        &dir,
        &emu,
        &token,
        &["--resource", "contacts", "--rounds", "1"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.get("stderr"));
    assert_eq!(r.get("stdout").lines().count(), 250);
    assert!(!r.get("state").is_empty());
    assert!(
        r.get("log").lines().count() > 10,
        "the trace log is nearly empty"
    );
    r.assert_clean(&token);
    emu.control().mutate(5);
    let r = sync(
        &dir,
        &emu,
        &token,
        &["--resource", "contacts", "--rounds", "1"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.get("stderr"));
    r.assert_clean(&token);

    // A token without the permission: 403, said plainly, nothing leaked.
    let users_token = token_for(&emu, USERS_APP).await;
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let r = sync(&other, &emu, &users_token, &["--resource", "contacts"]).await;
    assert_ne!(r.code, 0);
    let err = r.get("stderr");
    assert!(err.contains("403"), "{err}");
    // The token inspector's check said it before the request, and again with the 403.
    let before = err
        .find("warning: the token:")
        .expect("a warning before the request");
    assert!(err[before..].contains("OrgContact.Read.All"), "{err}");
    assert!(
        err.matches("OrgContact.Read.All").count() >= 2,
        "named before the request and with the 403: {err}"
    );
    r.assert_clean(&users_token);

    // An hour later the token has expired: 401, nothing leaked.
    emu.control().advance_clock(3600.0);
    let r = sync(
        &dir,
        &emu,
        &token,
        &["--resource", "contacts", "--rounds", "1"],
    )
    .await;
    assert_ne!(r.code, 0);
    assert!(r.get("stderr").contains("401"), "{}", r.get("stderr"));
    r.assert_clean(&token);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
