//! https: the emulator with TLS (`--tls`, a CA made at start) and deltascope trusting that CA
//! (`--ca-cert`), over real loopback connections. A round over https with https links; no CA,
//! or another run's CA, is a certificate error that says what to do; an http link from an https
//! root is refused before anything is sent; the sign-in goes through the same trust; and the
//! binaries: `deltascope emulator --tls` prints its https address and CA file, `deltascope sync
//! --ca-cert` completes a round with it.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use deltascope::auth::{AuthArgs, DevicePrompt, PromptFn};
use deltascope::emulator::{self, Emulator, EmulatorApp, EmulatorConfig, IdentityConfig};
use deltascope::graph::{
    ApiVersion, Catalog, ClientConfig, DeltaQuery, GraphClient, GraphError, GraphRoot, PageRequest,
    RequestKind, Session,
};
use deltascope::trust::CaCerts;
use deltascope::tui::explore::prepare;
use deltascope::tui::runtime::Runtime;
use deltascope::tui::view::FetchState;
use ratatui::backend::TestBackend;
use support::engine::static_token_client;
use support::temp_dir;
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_deltascope");
const TOKEN: &str = "tls-test-token";

async fn start_tls(config: EmulatorConfig) -> Emulator {
    emulator::start(
        EmulatorConfig {
            tls: true,
            ..config
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap()
}

fn small() -> EmulatorConfig {
    EmulatorConfig {
        contacts: 23,
        page_size: 5,
        ..Default::default()
    }
}

/// The emulator's CA written to a file of `dir`, loaded as `--ca-cert` loads it.
fn ca_file(emu: &Emulator, dir: &Path, name: &str) -> (PathBuf, CaCerts) {
    let path = dir.join(name);
    std::fs::write(&path, emu.ca_pem().unwrap()).unwrap();
    let cas = CaCerts::load(&path).unwrap();
    (path, cas)
}

fn client(emu: &Emulator, cas: Option<CaCerts>) -> GraphClient {
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    static_token_client(
        &root,
        TOKEN,
        ClientConfig {
            ca_certs: cas,
            ..Default::default()
        },
    )
}

fn first(url: String) -> PageRequest {
    PageRequest {
        url,
        headers: vec![],
        kind: RequestKind::Initial,
    }
}

#[tokio::test]
async fn a_contacts_round_over_https_with_the_ca_and_every_link_is_https() {
    let emu = start_tls(small()).await;
    let base = emu.base_url();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    assert!(
        emu.ca_name()
            .unwrap()
            .starts_with("deltascope emulator CA (made ")
    );
    let dir = temp_dir("tls-round");
    let (_, cas) = ca_file(&emu, &dir, "ca.pem");
    let client = client(&emu, Some(cas));
    let root = client.root().clone();
    let catalog = Catalog::builtin();
    let query = DeltaQuery::new("contacts", ApiVersion::V1_0);
    let mut session = Session::new(query.first_request(catalog, &root).unwrap());
    let cancel = CancellationToken::new();
    let (mut pages, mut items) = (0, 0);
    let mut links = Vec::new();
    loop {
        let req = session.next_request().unwrap();
        assert!(req.url.starts_with(&format!("{base}/")), "{}", req.url);
        let page = client.fetch(&req, &cancel, &|_| {}).await.unwrap();
        pages += 1;
        items += page.items.len();
        links.extend(page.next_link.clone());
        links.extend(page.delta_link.clone());
        if session.apply(&page).round_complete {
            break;
        }
        assert!(pages < 100, "the round never completed");
    }
    assert_eq!((pages, items), (5, 23));
    assert_eq!(links.len(), 5, "4 nextLinks and a deltaLink: {links:?}");
    for l in &links {
        assert!(
            l.starts_with(&format!("{base}/v1.0/contacts/delta?")),
            "{l}"
        );
    }
    // A change, and the next round finds it over https too.
    let ctl = emu.control();
    let id = ctl.contact_id(3);
    ctl.update_contact(&id, &serde_json::json!({"jobTitle": "TLS tester"}))
        .unwrap();
    let req = session.next_request().unwrap();
    assert!(req.url.starts_with("https://"), "{}", req.url);
    let page = client.fetch(&req, &cancel, &|_| {}).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.delta_link.unwrap().starts_with("https://"));
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The certificate error as a person reads it: says the certificate is not trusted and what to
/// give.
fn assert_untrusted(e: &GraphError) {
    assert!(matches!(e, GraphError::Untrusted { .. }), "{e:?}");
    let text = format!("{e} / {}", e.hint().unwrap_or_default());
    assert!(text.contains("not trusted"), "{text}");
    assert!(text.contains("--ca-cert"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn without_the_ca_the_certificate_is_refused_with_a_readable_error() {
    let emu = start_tls(small()).await;
    let before = emu.control().state()["graphRequests"].as_u64().unwrap();
    let client = client(&emu, None);
    let e = client
        .fetch(
            &first(format!("{}/v1.0/contacts/delta", emu.base_url())),
            &CancellationToken::new(),
            &|_| {},
        )
        .await
        .unwrap_err();
    assert_untrusted(&e);
    assert_eq!(
        emu.control().state()["graphRequests"].as_u64().unwrap(),
        before,
        "no request reached the emulator"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_ca_of_another_emulator_run_is_refused() {
    let this = start_tls(small()).await;
    let other = start_tls(small()).await;
    let dir = temp_dir("tls-other");
    let (_, other_ca) = ca_file(&other, &dir, "other.pem");
    let e = client(&this, Some(other_ca))
        .fetch(
            &first(format!("{}/v1.0/contacts/delta", this.base_url())),
            &CancellationToken::new(),
            &|_| {},
        )
        .await
        .unwrap_err();
    assert_untrusted(&e);
    this.shutdown().await;
    other.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_http_link_from_an_https_root_is_refused_and_nothing_is_sent() {
    // The https emulator is the root; a plain-http emulator stands where the link points (same
    // host, its own port), and also the same port as the root with http.
    let tls = start_tls(small()).await;
    let plain = emulator::start(small(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let dir = temp_dir("tls-downgrade");
    let (_, cas) = ca_file(&tls, &dir, "ca.pem");
    let client = client(&tls, Some(cas));
    let cancel = CancellationToken::new();
    let same_port = tls.base_url().replacen("https://", "http://", 1);
    for url in [
        format!("{}/v1.0/contacts/delta?$skiptoken=abc", plain.base_url()),
        format!("{same_port}/v1.0/contacts/delta?$skiptoken=abc"),
    ] {
        let mut req = first(url.clone());
        req.kind = RequestKind::Next;
        let e = client.fetch(&req, &cancel, &|_| {}).await.unwrap_err();
        assert!(matches!(e, GraphError::ForeignLink { .. }), "{url}: {e:?}");
        assert!(!e.to_string().contains(TOKEN));
    }
    for emu in [&tls, &plain] {
        assert_eq!(
            emu.control().state()["graphRequests"].as_u64().unwrap(),
            0,
            "nothing was sent to {}",
            emu.base_url()
        );
    }
    tls.shutdown().await;
    plain.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

const APP: &str = "abababab-1313-4313-8313-abababababab";
const SECRET: &str = "tls-sign-in-secret~9Qz";

#[tokio::test]
async fn the_sign_in_uses_the_same_trust() {
    let emu = start_tls(EmulatorConfig {
        identity: IdentityConfig {
            enforce: true,
            apps: vec![EmulatorApp {
                client_id: APP.into(),
                display_name: "contacts reader".into(),
                secret: Some(SECRET.into()),
                roles: vec!["OrgContact.Read.All".into()],
                ..Default::default()
            }],
            ..Default::default()
        },
        ..small()
    })
    .await;
    let base = emu.base_url();
    let dir = temp_dir("tls-sign-in");
    let (path, cas) = ca_file(&emu, &dir, "ca.pem");
    let env = |name: &str| (name == "TLS_TEST_SECRET").then(|| SECRET.to_owned());
    let prompt: PromptFn = Arc::new(|_: &DevicePrompt| {});
    let args = |ca: Option<PathBuf>| AuthArgs {
        tenant: Some(emu.demo().tenant_id),
        client_id: Some(APP.into()),
        client_secret_env: Some("TLS_TEST_SECRET".into()),
        login_host: Some(base.clone()),
        ca_cert: ca,
        ..Default::default()
    };

    // Without the CA: the token request is refused at the handshake, and the message says why.
    let plan = args(None).plan(Some(&base), &[], &env).unwrap();
    let source = plan
        .build(&env, prompt.clone(), Default::default())
        .unwrap();
    let e = source.token().await.unwrap_err().to_string();
    assert!(e.contains("--ca-cert"), "{e}");
    assert!(!e.contains(SECRET), "{e}");

    // With it: a token for the https root, and a round with it (the emulator checks it).
    let plan = args(Some(path.clone()))
        .plan(Some(&base), &[], &env)
        .unwrap();
    assert_eq!(plan.ca_certs.as_ref(), Some(&cas));
    assert!(plan.describe().contains("ca.pem"), "{}", plan.describe());
    let source = plan.build(&env, prompt, Default::default()).unwrap();
    let client = GraphClient::new(
        GraphRoot::parse(&base).unwrap(),
        source,
        ClientConfig {
            ca_certs: Some(cas),
            ..Default::default()
        },
    )
    .unwrap();
    let page = client
        .fetch(
            &first(format!("{base}/v1.0/contacts/delta")),
            &CancellationToken::new(),
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_ca_comes_from_the_flag_else_the_profile_else_the_environment() {
    let dir = temp_dir("tls-ca-choice");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(start_tls(small()));
    let (flag, _) = ca_file(&emu, &dir, "flag.pem");
    let (in_profile, _) = ca_file(&emu, &dir, "profile.pem");
    let (in_env, _) = ca_file(&emu, &dir, "env.pem");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.proxy]\nca_cert = {:?}\n",
            in_profile.display().to_string()
        ),
    )
    .unwrap();
    let env_path = in_env.display().to_string();
    let env = move |name: &str| (name == "DELTASCOPE_CA_CERT").then(|| env_path.clone());
    let with_profile = AuthArgs {
        profile: Some("proxy".into()),
        config: Some(config.clone()),
        ..Default::default()
    };
    let chosen = |a: &AuthArgs| a.ca_certs(&env).unwrap().unwrap().path().to_path_buf();
    assert_eq!(chosen(&AuthArgs::default()), in_env);
    assert_eq!(chosen(&with_profile), in_profile);
    let flagged = AuthArgs {
        ca_cert: Some(flag.clone()),
        ..with_profile.clone()
    };
    assert_eq!(chosen(&flagged), flag);
    assert_eq!(AuthArgs::default().ca_certs(&|_| None).unwrap(), None);
    // A bad file named anywhere is an error naming it.
    let missing = AuthArgs {
        ca_cert: Some(dir.join("nope.pem")),
        ..Default::default()
    };
    let e = missing.ca_certs(&env).unwrap_err().to_string();
    assert!(e.contains("nope.pem"), "{e}");
    rt.block_on(emu.shutdown());
    let _ = std::fs::remove_dir_all(dir);
}

// ----- the explorer ----------------------------------------------------------------------------

/// What the explorer test sees after a frame.
#[derive(Clone, Debug, Default)]
struct Seen {
    title: String,
    /// (round number, pages, deltaLink)
    rounds: Vec<(u32, usize, Option<String>)>,
    failed: Option<String>,
    in_flight: bool,
}

impl support::explorer::Frame for Seen {
    fn context(&self) -> String {
        format!("{self:?}")
    }
}

fn observe(m: &deltascope::tui::app::Model, _: &ratatui::Terminal<TestBackend>, _: &Seen) -> Seen {
    Seen {
        title: m.title.clone(),
        rounds: m
            .rounds
            .iter()
            .map(|r| (r.number, r.fetched().count(), r.delta_link.clone()))
            .collect(),
        failed: match &m.fetch.state {
            FetchState::Failed { error } => Some(format!(
                "{} / {}",
                error.message,
                error.hint.clone().unwrap_or_default()
            )),
            _ => None,
        },
        in_flight: m.fetch.in_flight(),
    }
}

/// The explorer on the https emulator (`--graph-root https://…`, a token file), with `ca_cert`:
/// `f` fetches the first page, `F` follows the round to its deltaLink, or the fetch fails.
async fn explore_tls(emu: &Emulator, dir: &Path, ca_cert: Option<PathBuf>) -> Seen {
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let mut args = support::explorer::explore_args(AuthArgs {
        token_file: Some(token),
        ca_cert,
        ..Default::default()
    });
    args.graph_root = Some(emu.base_url());
    let explorer = prepare(&args, EmulatorConfig::default()).await.unwrap();
    assert!(explorer.emulator.is_none());
    let mut runtime = Runtime::new(
        explorer.model,
        support::explorer::SharedClipboard::default(),
        explorer.engine,
    );
    let last = Arc::new(std::sync::Mutex::new(Seen::default()));
    let out = last.clone();
    support::explorer::run_scripted(&mut runtime, (160, 45), observe, (), |mut d| async move {
        d.wait("signed in", |s| !s.title.contains("signing in"))
            .await;
        d.press('f');
        let s = d
            .wait("page 1 or a failure", |s| {
                s.failed.is_some() || s.rounds.iter().any(|r| r.1 == 1 && !s.in_flight)
            })
            .await;
        let s = if s.failed.is_none() {
            d.press('F');
            d.wait("the round complete or a failure", |s| {
                s.failed.is_some() || s.rounds.iter().any(|r| r.2.is_some())
            })
            .await
        } else {
            s
        };
        *out.lock().unwrap() = s;
        d.press('q');
    })
    .await;
    last.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_walks_a_round_over_https_with_ca_cert_and_says_what_to_do_without() {
    let emu = start_tls(small()).await;
    let dir = temp_dir("tls-explorer");
    let (path, _) = ca_file(&emu, &dir, "ca.pem");
    let s = explore_tls(&emu, &dir, Some(path)).await;
    assert_eq!(s.failed, None, "{s:?}");
    let (_, pages, delta) = s.rounds[0].clone();
    assert_eq!(pages, 5);
    assert!(delta.unwrap().starts_with(&emu.base_url()));

    let s = explore_tls(&emu, &dir, None).await;
    let failed = s.failed.clone().unwrap_or_default();
    assert!(failed.contains("not trusted"), "{failed}");
    assert!(failed.contains("--ca-cert"), "{failed}");
    // No page: the refused request is the round's one row.
    assert!(s.rounds.iter().all(|r| r.1 == 0), "{s:?}");

    // A bad --ca-cert stops the explorer before the screen is taken, naming the file.
    let mut args = support::explorer::explore_args(AuthArgs {
        ca_cert: Some(dir.join("absent.pem")),
        ..Default::default()
    });
    args.graph_root = Some(emu.base_url());
    let e = prepare(&args, EmulatorConfig::default())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("absent.pem"), "{e}");
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

// ----- the binaries ----------------------------------------------------------------------------

/// A `deltascope emulator --tls` child; killed on drop.
struct EmulatorProcess {
    child: Child,
    url: String,
    ca: PathBuf,
}

impl EmulatorProcess {
    fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "--tls", "--listen", "127.0.0.1:0"])
            .args(["--contacts", "30", "--page-size", "10"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut first, mut second) = (String::new(), String::new());
        out.read_line(&mut first).unwrap();
        out.read_line(&mut second).unwrap();
        let url = first
            .trim()
            .strip_prefix("deltascope emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_owned();
        let ca = second
            .trim()
            .strip_prefix("deltascope emulator CA certificate: ")
            .unwrap_or_else(|| panic!("unexpected second line: {second:?}"))
            .into();
        EmulatorProcess { child, url, ca }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sync(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("sync")
        .args(args)
        .env_remove("DELTASCOPE_GRAPH_ROOT")
        .env_remove("DELTASCOPE_CA_CERT")
        .env_remove("DELTASCOPE_PROFILE")
        .env("DELTASCOPE_TOKEN", TOKEN)
        .output()
        .unwrap()
}

#[test]
fn the_emulator_binary_serves_https_and_sync_trusts_its_ca_file() {
    let dir = temp_dir("tls-bin");
    let ca_out = dir.join("emulator-ca.pem");
    let emu = EmulatorProcess::start(&["--ca-out", ca_out.to_str().unwrap()]);
    assert!(emu.url.starts_with("https://127.0.0.1:"), "{}", emu.url);
    assert_eq!(emu.ca, ca_out);
    let pem = std::fs::read_to_string(&emu.ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(!pem.contains("PRIVATE KEY"));

    let ca = emu.ca.to_str().unwrap();
    let ok = sync(&[
        "--graph-root",
        &emu.url,
        "--ca-cert",
        ca,
        "--resource",
        "contacts",
    ]);
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).lines().count(), 30);
    assert!(!stderr.contains(TOKEN));

    // Without the CA: refused at once (not retried), exit 5, and the advice.
    let no_ca = sync(&["--graph-root", &emu.url, "--resource", "contacts"]);
    let stderr = String::from_utf8_lossy(&no_ca.stderr);
    assert_eq!(no_ca.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("not trusted") && stderr.contains("--ca-cert"),
        "{stderr}"
    );
    assert!(!stderr.contains("retry"), "not retried: {stderr}");

    // A bad --ca-cert is a bad command line naming the file, before anything is sent.
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    for bad in ["missing.pem", "empty.pem"] {
        let path = dir.join(bad);
        let out = sync(&[
            "--graph-root",
            &emu.url,
            "--ca-cert",
            path.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(bad), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    drop(emu);
    let _ = std::fs::remove_dir_all(dir);
}

/// Without --ca-out the CA goes to a new file in the temporary directory, removed when the
/// emulator stops.
#[cfg(unix)]
#[test]
fn the_default_ca_file_is_removed_when_the_emulator_stops() {
    let mut emu = EmulatorProcess::start(&[]);
    assert!(
        emu.ca.starts_with(std::env::temp_dir()),
        "{}",
        emu.ca.display()
    );
    assert!(emu.ca.is_file());
    let status = Command::new("kill")
        .args(["-TERM", &emu.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = emu.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(!emu.ca.exists(), "{} is left", emu.ca.display());
}
