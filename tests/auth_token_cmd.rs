//! `deltascope token` as a user runs it, against the in-process emulator's identity platform:
//! client secret from the azure-identity variables, device code, a token from a variable,
//! profiles; the plain permission messages; and no token or secret in any output.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use deltascope::emulator::{Emulator, EmulatorApp};
use serde_json::json;
use support::identity::{device_code_token, identity, start_with_identity};
use support::temp_dir;

const SECRET: &str = "cmd-test-secret~Hq2_Lw9";
const REC_APP: &str = "cccccccc-3333-4333-8333-cccccccccccc";
const USERS_APP: &str = "dddddddd-4444-4444-8444-dddddddddddd";

/// An enforcing emulator with REC_APP (recordings, app-only; contacts, delegated) and USERS_APP.
async fn start() -> Emulator {
    start_with_identity(identity(
        true,
        vec![
            EmulatorApp {
                client_id: REC_APP.into(),
                display_name: "recordings reader".into(),
                secret: Some(SECRET.into()),
                roles: vec!["OnlineMeetingRecording.Read.All".into()],
                delegated_scopes: vec!["OrgContact.Read.All".into()],
                ..Default::default()
            },
            EmulatorApp {
                client_id: USERS_APP.into(),
                display_name: "users reader".into(),
                secret: Some(SECRET.into()),
                roles: vec!["User.Read.All".into()],
                ..Default::default()
            },
        ],
    ))
    .await
}

/// A scratch home for one run of the binary.
fn scratch() -> PathBuf {
    temp_dir("tokcmd")
}

/// The binary with a clean environment (no AZURE_* of the machine, a scratch config dir).
fn cmd(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deltascope"));
    for v in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "DELTASCOPE_PROFILE",
        "DELTASCOPE_CONFIG",
    ] {
        c.env_remove(v);
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"));
    c.arg("token");
    c
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(mut c: Command) -> Out {
    let o = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// No secret, and nothing JWT-shaped (`eyJ` is how `{"` starts in base64url).
fn clean(o: &Out, secrets: &[&str]) {
    for text in [&o.stdout, &o.stderr] {
        assert!(!text.contains("eyJ"), "a token leaked: {text}");
        for s in secrets {
            assert!(!text.contains(s), "a secret leaked: {text}");
        }
    }
}

fn emu_args(c: &mut Command, emu: &Emulator) {
    c.args([
        "--login-host",
        &emu.base_url(),
        "--graph-root",
        &emu.base_url(),
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_from_azure_identity_variables() {
    let emu = start().await;
    let home = scratch();
    let tenant = emu.demo().tenant_id;

    let mut c = cmd(&home);
    emu_args(&mut c, &emu);
    c.args(["--resource", "recordings"])
        .env("AZURE_TENANT_ID", &tenant)
        .env("AZURE_CLIENT_ID", REC_APP)
        .env("AZURE_CLIENT_SECRET", SECRET);
    let o = run(c).await;
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("kind      app-only"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("roles     OnlineMeetingRecording.Read.All")
    );
    assert!(o.stdout.contains(&format!("tenant    {tenant}")));
    assert!(o.stdout.contains("resource  recordings (OK)"));
    clean(&o, &[SECRET]);

    // The app without the role: told plainly, exit 3.
    let mut c = cmd(&home);
    emu_args(&mut c, &emu);
    c.args(["--resource", "recordings", "--json"])
        .env("AZURE_TENANT_ID", &tenant)
        .env("AZURE_CLIENT_ID", USERS_APP)
        .env("AZURE_CLIENT_SECRET", SECRET);
    let o = run(c).await;
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        v["problems"][0],
        "callRecording delta needs the application permission OnlineMeetingRecording.Read.All; this app-only token has User.Read.All"
    );
    clean(&o, &[SECRET]);

    // A wrong secret: the service's refusal, exit 4, the secret nowhere.
    let mut c = cmd(&home);
    emu_args(&mut c, &emu);
    c.env("AZURE_TENANT_ID", &tenant)
        .env("AZURE_CLIENT_ID", REC_APP)
        .env("AZURE_CLIENT_SECRET", "wrong-secret-77Zp");
    let o = run(c).await;
    assert_eq!(o.code, 4, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("invalid_client"), "{}", o.stderr);
    assert!(o.stderr.contains("AADSTS7000215"), "{}", o.stderr);
    clean(&o, &[SECRET, "wrong-secret-77Zp"]);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_token_from_a_variable_on_recordings() {
    let emu = start().await;
    let home = scratch();
    // A delegated token from the emulator's device-code flow, done by hand.
    let token = device_code_token(&emu, REC_APP, "OrgContact.Read.All", json!({})).await;

    let mut c = cmd(&home);
    c.args(["--token-env", "MY_GRAPH_TOKEN", "--resource", "recordings"])
        .args(["--graph-root", &emu.base_url()])
        .env("MY_GRAPH_TOKEN", &token);
    let o = run(c).await;
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains(
        "problem:  callRecording delta needs the application permission OnlineMeetingRecording.Read.All; this is a delegated token"
    ), "{}", o.stdout);
    assert!(o.stdout.contains("scopes    OrgContact.Read.All"));
    clean(&o, &[&token]);

    // The same token is fine for contacts.
    let mut c = cmd(&home);
    c.args(["--token-env", "MY_GRAPH_TOKEN", "--resource", "contacts"])
        .args(["--graph-root", &emu.base_url()])
        .env("MY_GRAPH_TOKEN", &token);
    let o = run(c).await;
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    clean(&o, &[&token]);

    // Not a JWT: said so, and the value is not echoed.
    let mut c = cmd(&home);
    c.args(["--token-env", "MY_GRAPH_TOKEN"])
        .env("MY_GRAPH_TOKEN", "opaque-zq81-value");
    let o = run(c).await;
    assert_eq!(o.code, 3);
    assert!(o.stderr.contains("not a JWT"), "{}", o.stderr);
    clean(&o, &["zq81"]);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_in_the_terminal() {
    let emu = start().await;
    let home = scratch();
    let mut c = cmd(&home);
    emu_args(&mut c, &emu);
    c.args(["--device-code", "--resource", "contacts"])
        .args(["--tenant", &emu.demo().tenant_id, "--client-id", REC_APP])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    let code = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if let Some(rest) = line.trim().strip_prefix("code: ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    assert!(seen.contains("To sign in"), "{seen}");
    let r = reqwest::Client::new()
        .post(format!("{}/_emulator/devicecode/approve", emu.base_url()))
        .json(&json!({ "user_code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    while let Ok(l) = rx.try_recv() {
        seen.push_str(&l);
    }
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: seen,
    };
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("kind      delegated (user "),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("scopes    OrgContact.Read.All"));
    assert!(o.stdout.contains("resource  contacts (OK)"));
    clean(&o, &[]);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_name_variables_never_hold_secrets() {
    let emu = start().await;
    let home = scratch();
    let cfg_dir = home.join("config").join("deltascope");
    std::fs::create_dir_all(&cfg_dir).unwrap();
    std::fs::write(
        cfg_dir.join("config.toml"),
        format!(
            "[profiles.emu-recordings]\nmethod = \"client-secret\"\ntenant_id = \"{}\"\nclient_id = \"{REC_APP}\"\nclient_secret_env = \"EMU_APP_SECRET\"\nlogin_host = \"{}\"\ngraph_root = \"{}\"\n",
            emu.demo().tenant_id,
            emu.base_url(),
            emu.base_url()
        ),
    )
    .unwrap();
    let mut c = cmd(&home);
    c.args(["--profile", "emu-recordings", "--resource", "recordings"])
        .env("EMU_APP_SECRET", SECRET);
    let o = run(c).await;
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("(profile emu-recordings)"),
        "{}",
        o.stderr
    );
    clean(&o, &[SECRET]);

    let bad = home.join("bad.toml");
    std::fs::write(
        &bad,
        format!("[profiles.leaky]\nclient_secret = \"{SECRET}\"\n"),
    )
    .unwrap();
    let mut c = cmd(&home);
    c.args(["--profile", "leaky", "--config"]).arg(&bad);
    let o = run(c).await;
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("client_secret_env"), "{}", o.stderr);
    clean(&o, &[SECRET]);

    let mut c = cmd(&home);
    c.args(["--profile", "nope"]);
    let o = run(c).await;
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("emu-recordings"), "{}", o.stderr);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(home);
}
