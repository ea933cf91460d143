//! Signing in inside the explorer: the device-code overlay and the profile picker as snapshots
//! (fixed clock), the sign-in state machine of `update` (pure), and key-driven flows through the
//! real explorer against the emulator with token enforcement on: a device code shown in the UI,
//! approved through the emulator's control API, then a fetch; cancel with esc; declined and
//! expired codes; a switch from profile A to profile B after which the requests carry B's token
//! and A's rounds are gone. No screen or status of any flow ever shows a token.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deltascope::auth::{AuthArgs, Profiles};
use deltascope::emulator::{Control, Emulator, EmulatorApp, EmulatorConfig};
use deltascope::tui::app::{CopyWhat, Effect, Mode, Model, Msg, update};
use deltascope::tui::engine::{profile_entry, profiles_view};
use deltascope::tui::explore::prepare;
use deltascope::tui::keymap::{Action, Keymap};
use deltascope::tui::runtime::Runtime;
use deltascope::tui::ui;
use deltascope::tui::view::{
    DeviceCodeView, FetchState, ProfilesView, SignInState, SignInTarget, SignedIn,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use support::explorer::{Frame, SharedClipboard, explore_args, run_scripted, screen_text};
use support::fixtures::{self, FakePreviewer};
use support::identity::{client_credentials_token, identity, start_with_identity};
use support::temp_dir;
use tokio::sync::mpsc::UnboundedSender;
const APP_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const APP_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
const SECRET_A: &str = "tui-sign-in-secret~Qz7_Wv";

fn model() -> Model {
    Model::new(
        fixtures::contacts_query(),
        Keymap::default(),
        Box::new(FakePreviewer),
    )
}

fn render(m: &mut Model, w: u16, h: u16) -> String {
    m.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    t.backend().to_string()
}

fn press(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn prompt(now: Instant) -> DeviceCodeView {
    DeviceCodeView {
        code: "GQ7K-MXR2".into(),
        url: "https://microsoft.com/devicelogin".into(),
        message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code GQ7K-MXR2 to authenticate.".into(),
        expires_at: now + Duration::from_secs(14 * 60 + 32),
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn device_code_overlay() {
    let mut m = model();
    let now = Instant::now();
    m.now = now;
    m.title = "Graph root https://graph.microsoft.us · signing in…".into();
    m.sign_in = SignInState::Running {
        attempt: 1,
        target: SignInTarget::Profile("gcch-contacts".into()),
        since: now,
        prompt: Some(prompt(now)),
        previous: None,
        renewal: false,
        fetch_after: None,
    };
    let out = render(&mut m, 110, 32);
    // The clock is fixed: the countdown is stable.
    assert!(out.contains("in 14:32"), "{out}");
    assert!(out.contains(" GQ7K-MXR2 "), "{out}");
    assert!(out.contains("copy the code"), "{out}");
    insta::assert_snapshot!(out);

    // Past the expiry it says so instead of counting below zero.
    m.now = now + Duration::from_secs(15 * 60);
    let out = render(&mut m, 110, 32);
    assert!(out.contains("expired: the sign-in will fail"), "{out}");
}

const CONFIG: &str = r#"
[profiles.contoso-recordings]
cloud = "global"
method = "client-certificate"
tenant_id = "contoso.onmicrosoft.com"
client_id = "00000000-0000-0000-0000-000000000000"
certificate_path = "/home/admin/.secrets/contoso-graph.pem"

[profiles.gcch-contacts]
cloud = "usgov"
method = "device-code"
tenant_id_env = "GCCH_TENANT_ID"
client_id_env = "GCCH_CLIENT_ID"
scopes = ["OrgContact.Read.All"]

[profiles.lab]
method = "token-file"
token_file = "/tmp/lab.token"
graph_root = "http://127.0.0.1:8750"
"#;

#[test]
fn profile_picker() {
    let profiles = Profiles::parse(CONFIG).unwrap();
    let mut m = model();
    m.title =
        "Graph root https://graph.microsoft.com · the token in $DELTASCOPE_TOKEN, cloud global"
            .into();
    m.sign_in = SignInState::Active(SignedIn::at_start(
        "the token in $DELTASCOPE_TOKEN, cloud global",
    ));
    m.mode = Mode::Profiles;
    m.profiles = Some(ProfilesView {
        path: Some("/home/admin/.config/deltascope/config.toml".into()),
        startup: "the token in $DELTASCOPE_TOKEN, cloud global".into(),
        entries: profiles
            .profiles
            .iter()
            .map(|(n, p)| profile_entry(n, p))
            .collect(),
        problem: None,
    });
    m.profile_cursor = 2;
    let out = render(&mut m, 130, 30);
    assert!(out.contains("▶ gcch-contacts"), "{out}");
    assert!(out.contains("$GCCH_TENANT_ID"), "{out}");
    assert!(out.contains("usgov"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn the_picker_says_plainly_when_there_is_no_config_or_it_is_invalid() {
    let dir = temp_dir("picker");
    let missing = dir.join("config.toml");
    let v = profiles_view(Some(&missing), "start");
    let problem = v.problem.unwrap();
    assert!(problem.contains("there is no config file at"), "{problem}");
    assert!(
        problem.contains(&missing.display().to_string()),
        "{problem}"
    );

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[profiles.x]\nclient_secret = \"hunter2-picker-secret\"\n",
    )
    .unwrap();
    let v = profiles_view(Some(&bad), "start");
    let problem = v.problem.unwrap();
    assert!(problem.contains("not valid"), "{problem}");
    assert!(problem.contains(&bad.display().to_string()), "{problem}");
    assert!(!problem.contains("hunter2"), "{problem}");
    assert!(v.entries.is_empty());

    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    assert!(
        profiles_view(Some(&empty), "start")
            .problem
            .unwrap()
            .contains("has no profiles")
    );
    assert!(
        profiles_view(None, "start")
            .problem
            .unwrap()
            .contains("--config")
    );

    let good = dir.join("good.toml");
    std::fs::write(&good, CONFIG).unwrap();
    let v = profiles_view(Some(&good), "start");
    assert_eq!(v.problem, None);
    let names: Vec<&str> = v.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["contoso-recordings", "gcch-contacts", "lab"]);
    assert_eq!(v.entries[2].method, "token-file");
    assert_eq!(
        v.entries[2].graph_root.as_deref(),
        Some("http://127.0.0.1:8750")
    );

    // The picker draws the problem, and the start-up sign-in stays choosable.
    let mut m = model();
    m.mode = Mode::Profiles;
    m.profiles = Some(profiles_view(Some(&missing), "the start-up one"));
    let out = render(&mut m, 130, 30);
    assert!(out.contains("there is no config file at"), "{out}");
    assert!(out.contains("▶ (start-up)"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// The state machine (pure)

fn running(m: &mut Model, target: SignInTarget) -> u64 {
    let effects = deltascope::tui::app::begin_sign_in(m, target.clone());
    let attempt = m.sign_in.last_attempt();
    assert!(
        effects.contains(&Effect::SignIn {
            attempt,
            target,
            resource: Some("contacts".into()),
        }),
        "{effects:?}"
    );
    attempt
}

#[test]
fn a_fetch_asked_for_while_signing_in_waits_for_it() {
    let mut m = model();
    m.sign_in = SignInState::SignedOut;
    assert!(press(&mut m, KeyCode::Char('f')).is_empty());
    assert!(
        m.notice_text().unwrap().starts_with("not signed in yet"),
        "{:?}",
        m.notice_text()
    );
    m.sign_in = SignInState::Starting {
        target: SignInTarget::Startup,
    };
    let effects = update(&mut m, Msg::Started);
    assert!(matches!(effects[..], [Effect::SignIn { attempt: 1, .. }]));
    // Nothing goes out before the sign-in: the fetch is kept and said so.
    assert!(press(&mut m, KeyCode::Char('f')).is_empty());
    assert!(
        m.notice_text()
            .unwrap()
            .contains("the fetch starts as soon as the sign-in completes"),
        "{:?}",
        m.notice_text()
    );
    // A stale attempt changes nothing.
    let e = update(
        &mut m,
        Msg::SignedIn {
            attempt: 0,
            who: "x".into(),
            title: "x".into(),
            root: "https://graph.microsoft.com".into(),
        },
    );
    assert!(e.is_empty());
    assert!(matches!(m.sign_in, SignInState::Running { .. }));
    // Signed in: the waiting fetch starts, and the status says who is signed in.
    let effects = update(
        &mut m,
        Msg::SignedIn {
            attempt: 1,
            who: "delegated sign-in with a device code, cloud global".into(),
            title: "Graph root https://graph.microsoft.com · delegated".into(),
            root: "https://graph.microsoft.com".into(),
        },
    );
    assert!(
        matches!(effects[..], [Effect::Start { follow: false, .. }]),
        "{effects:?}"
    );
    assert_eq!(
        m.title,
        "Graph root https://graph.microsoft.com · delegated"
    );
    assert!(matches!(m.sign_in, SignInState::Active { .. }));
}

#[test]
fn the_device_code_overlay_copies_and_cancels_and_a_failure_can_be_retried() {
    let mut m = model();
    m.sign_in = SignInState::SignedOut;
    let attempt = running(&mut m, SignInTarget::Startup);
    let now = Instant::now();
    update(
        &mut m,
        Msg::DeviceCode {
            attempt,
            prompt: prompt(now),
        },
    );
    assert!(m.device_code().is_some());
    assert!(m.animating(), "the countdown ticks");
    // The overlay has the keyboard: f does not fetch behind it.
    assert!(press(&mut m, KeyCode::Char('f')).is_empty());
    assert_eq!(
        press(&mut m, KeyCode::Char('c')),
        vec![Effect::Copy {
            what: CopyWhat::DeviceCode,
            text: "GQ7K-MXR2".into()
        }]
    );
    assert_eq!(
        press(&mut m, KeyCode::Char('u')),
        vec![Effect::Copy {
            what: CopyWhat::SignInUrl,
            text: "https://microsoft.com/devicelogin".into()
        }]
    );
    // Esc cancels: the overlay goes, the reason stays, the explorer is usable.
    assert_eq!(
        press(&mut m, KeyCode::Esc),
        vec![Effect::CancelSignIn { attempt }]
    );
    assert!(m.device_code().is_none());
    assert!(
        matches!(&m.sign_in, SignInState::Failed { error, previous: None, .. } if error == "the sign-in was cancelled")
    );
    assert!(
        m.notice_text()
            .unwrap()
            .contains("press S to sign in again or p to choose a profile"),
        "{:?}",
        m.notice_text()
    );
    // The query builder still works; a fetch says why it cannot go.
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.query_cursor, 1);
    assert!(press(&mut m, KeyCode::Char('f')).is_empty());
    assert!(
        m.notice_text()
            .unwrap()
            .starts_with("not signed in (the sign-in was cancelled)"),
        "{:?}",
        m.notice_text()
    );
    // A late answer of the cancelled attempt is dropped.
    update(
        &mut m,
        Msg::SignInFailed {
            attempt,
            error: "the user declined the sign-in".into(),
        },
    );
    assert!(
        matches!(&m.sign_in, SignInState::Failed { error, .. } if error == "the sign-in was cancelled")
    );
    // S tries the same sign-in again.
    let effects = press(&mut m, KeyCode::Char('S'));
    assert!(
        matches!(&effects[..], [Effect::SignIn { target: SignInTarget::Startup, attempt: a, .. }] if *a == attempt + 1),
        "{effects:?}"
    );
}

#[test]
fn a_switch_drops_the_rounds_and_a_failed_switch_keeps_the_sign_in_in_force() {
    let mut m = model();
    m.sign_in = SignInState::Active(SignedIn::at_start("profile a"));
    m.rounds = vec![fixtures::contacts_round1()];
    m.query.frozen = true;
    // A failed switch: the session and the sign-in in force stay.
    let attempt = running(&mut m, SignInTarget::Profile("b".into()));
    update(
        &mut m,
        Msg::SignInFailed {
            attempt,
            error: "the sign-in service refused: invalid_client: nope".into(),
        },
    );
    assert_eq!(m.rounds.len(), 1);
    assert_eq!(m.signed_in_as(), Some("profile a"));
    assert!(
        m.notice_text()
            .unwrap()
            .contains("still signed in: profile a"),
        "{:?}",
        m.notice_text()
    );
    // The fetch key still works with the sign-in in force.
    assert!(!press(&mut m, KeyCode::Char('f')).is_empty());
    m.fetch.state = FetchState::Idle;
    // A switch that succeeds drops the old identity's rounds and says so.
    let attempt = running(&mut m, SignInTarget::Profile("b".into()));
    update(
        &mut m,
        Msg::SignedIn {
            attempt,
            who: "profile b".into(),
            title: "Graph root http://127.0.0.1:9 · profile b".into(),
            root: "http://127.0.0.1:9".into(),
        },
    );
    assert!(m.rounds.is_empty());
    assert!(!m.query.frozen, "the query can be edited again");
    assert_eq!(m.fetch.state, FetchState::Idle);
    assert!(
        m.notice_text()
            .unwrap()
            .contains("previous session's rounds were dropped"),
        "{:?}",
        m.notice_text()
    );
}

#[test]
fn the_picker_is_driven_by_keys() {
    let mut m = model();
    assert_eq!(
        press(&mut m, KeyCode::Char('p')),
        vec![Effect::LoadProfiles]
    );
    assert_eq!(m.mode, Mode::Profiles);
    update(
        &mut m,
        Msg::ProfilesLoaded(ProfilesView {
            path: Some("/x/config.toml".into()),
            startup: "start".into(),
            entries: Profiles::parse(CONFIG)
                .unwrap()
                .profiles
                .iter()
                .map(|(n, p)| profile_entry(n, p))
                .collect(),
            problem: None,
        }),
    );
    // f does nothing behind the picker; j j moves to the second profile.
    assert!(press(&mut m, KeyCode::Char('f')).is_empty());
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.profile_cursor, 3, "stops at the last one");
    press(&mut m, KeyCode::Char('k'));
    let effects = press(&mut m, KeyCode::Enter);
    assert!(
        matches!(&effects[..], [Effect::SignIn { target: SignInTarget::Profile(p), .. }] if p == "gcch-contacts"),
        "{effects:?}"
    );
    assert_eq!(m.mode, Mode::Normal);
    // With no fetch running, x cancels the sign-in (before any device code came).
    let attempt = m.sign_in.last_attempt();
    assert_eq!(
        press(&mut m, KeyCode::Char('x')),
        vec![Effect::CancelSignIn { attempt }]
    );
    // Esc closes without signing in.
    press(&mut m, KeyCode::Char('p'));
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(
        Keymap::default()
            .key_for(
                deltascope::tui::keymap::Context::Global,
                Action::SwitchProfile
            )
            .map(|k| k.to_string()),
        Some("p".into())
    );
}

// ---------------------------------------------------------------------------------------------
// Flows against the emulator (token enforcement on)

/// An enforcing emulator with app A (app-only, contacts) and app B (device code, delegated).
async fn start_emulator() -> Emulator {
    start_with_identity(identity(
        true,
        vec![
            EmulatorApp {
                client_id: APP_A.into(),
                display_name: "contacts reader".into(),
                secret: Some(SECRET_A.into()),
                roles: vec!["OrgContact.Read.All".into()],
                ..Default::default()
            },
            EmulatorApp {
                client_id: APP_B.into(),
                display_name: "deltascope explorer".into(),
                delegated_scopes: vec!["OrgContact.Read.All".into(), "User.Read".into()],
                ..Default::default()
            },
        ],
    ))
    .await
}

/// An app-only token of app A, straight from the emulator's token endpoint.
async fn app_token(emu: &Emulator) -> String {
    client_credentials_token(emu, APP_A, SECRET_A).await
}

/// A config file with profile `a` (A's app token in a file) and `b` (device code of app B),
/// both on the emulator.
fn write_config(dir: &Path, emu: &Emulator, a_token: &str) -> PathBuf {
    let base = emu.base_url();
    let token_file = dir.join("a.token");
    std::fs::write(&token_file, a_token).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"[profiles.a]
method = "token-file"
token_file = "{}"
graph_root = "{base}"

[profiles.b]
method = "device-code"
tenant_id = "{}"
client_id = "{APP_B}"
login_host = "{base}"
graph_root = "{base}"
scopes = ["OrgContact.Read.All"]
"#,
            token_file.display(),
            emu.demo().tenant_id
        ),
    )
    .unwrap();
    config
}

#[derive(Clone, Debug, Default)]
struct Seen {
    screen: String,
    title: String,
    status: String,
    sign_in: String,
    device_code: Option<(String, String)>,
    profiles: Vec<String>,
    mode: String,
    rows: usize,
    failed_status: Option<u16>,
    in_flight: bool,
    token_lines: Vec<(String, String)>,
}

impl Frame for Seen {
    fn context(&self) -> String {
        format!(
            "sign-in: {}\nstatus: {}\n{}",
            self.sign_in, self.status, self.screen
        )
    }
}

fn observe(m: &Model, t: &Terminal<TestBackend>) -> Seen {
    Seen {
        screen: screen_text(t),
        title: m.title.clone(),
        status: m.notice_text().unwrap_or_default().to_owned(),
        sign_in: match &m.sign_in {
            SignInState::SignedOut | SignInState::Starting { .. } => "signed out".into(),
            SignInState::Active { .. } => "active".into(),
            SignInState::Running { .. } => "running".into(),
            SignInState::Failed { error, .. } => format!("failed: {error}"),
        },
        device_code: m.device_code().map(|p| (p.code.clone(), p.url.clone())),
        profiles: m
            .profiles
            .as_ref()
            .map(|p| p.entries.iter().map(|e| e.name.clone()).collect())
            .unwrap_or_default(),
        mode: format!("{:?}", m.mode),
        rows: m
            .rounds
            .iter()
            .flat_map(|r| r.pages.iter())
            .map(|p| p.rows.len())
            .sum(),
        failed_status: match &m.fetch.state {
            FetchState::Failed { error } => error.status,
            _ => None,
        },
        in_flight: m.fetch.in_flight(),
        token_lines: m
            .token
            .as_ref()
            .map(|t| t.lines.clone())
            .unwrap_or_default(),
    }
}

/// What the scripts get besides keys and frames: the explorer's messages, the clipboard and
/// the emulator's base URL.
struct Extra {
    msgs: UnboundedSender<Msg>,
    clipboard: SharedClipboard,
    base: String,
}

type Driver = support::explorer::Driver<Seen, Extra>;

impl Driver {
    /// Opens the token inspector (i), waits for the claims (`what`) and checks that they are of
    /// a delegated token of `user`.
    async fn inspect_delegated_token_of(&mut self, what: &str, user: &str) {
        self.press('i');
        let s = self.wait(what, |s| !s.token_lines.is_empty()).await;
        let delegated = format!("delegated (user {user})");
        assert!(
            s.token_lines.iter().any(|(_, v)| v.contains(&delegated)),
            "{:?}",
            s.token_lines
        );
    }

    /// The device code on the screen (waits for the overlay).
    async fn device_code(&mut self) -> String {
        let s = self
            .wait("the device-code overlay", |s| {
                s.device_code.is_some() && s.screen.contains("with a device code (")
            })
            .await;
        let (code, url) = s.device_code.unwrap();
        assert!(s.screen.contains(&code), "the code is on the screen");
        assert!(s.screen.contains(&url), "the page is on the screen");
        assert!(url.starts_with(&self.base), "{url}");
        code
    }

    async fn control(&self, what: &str, body: serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/_emulator/devicecode/{what}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// Runs the real explorer signed in with `profile` of `config`, and `script` against it.
/// Every frame is checked for tokens: `secrets`, and anything JWT-shaped (`eyJ`).
async fn explore<F, Fut>(
    emu: &Emulator,
    config: &Path,
    profile: &str,
    secrets: Vec<String>,
    script: F,
) where
    F: FnOnce(Driver) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let args = explore_args(AuthArgs {
        profile: Some(profile.into()),
        config: Some(config.to_path_buf()),
        ..Default::default()
    });
    let explorer = prepare(&args, EmulatorConfig::default()).await.unwrap();
    assert!(explorer.emulator.is_none(), "the profile names the root");
    let clipboard = SharedClipboard::default();
    let mut runtime = Runtime::new(explorer.model, clipboard.clone(), explorer.engine);
    let msgs = runtime.sender();
    let leaks = Mutex::new(Vec::new());
    let frame = |m: &Model, t: &Terminal<TestBackend>, _: &Seen| {
        let s = observe(m, t);
        for text in [&s.screen, &s.status, &s.title] {
            if text.contains("eyJ") || secrets.iter().any(|t| text.contains(t.as_str())) {
                leaks.lock().unwrap().push(text.clone());
            }
        }
        s
    };
    let extra = Extra {
        msgs,
        clipboard: clipboard.clone(),
        base: emu.base_url(),
    };
    run_scripted(&mut runtime, (160, 45), frame, extra, script).await;
    let leaks = leaks.into_inner().unwrap();
    assert!(leaks.is_empty(), "a token was on the screen:\n{}", leaks[0]);
    for copy in clipboard.0.lock().unwrap().iter() {
        assert!(!copy.contains("eyJ"), "a token was copied unasked: {copy}");
    }
}

/// Runs `script` in the explorer signed in with `profile` of the two-profile config (see
/// [`write_config`]) on a fresh enforcing emulator, with a scratch directory named after
/// `what`; A's token must never show. The script also gets the emulator's control API.
async fn explore_profiles<F, Fut>(what: &str, profile: &str, script: F)
where
    F: FnOnce(Driver, Control) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let emu = start_emulator().await;
    let dir = temp_dir(what);
    let a_token = app_token(&emu).await;
    let config = write_config(&dir, &emu, &a_token);
    let control = emu.control();
    explore(&emu, &config, profile, vec![a_token], |d| {
        script(d, control)
    })
    .await;
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_code_is_shown_in_the_ui_approved_and_then_a_fetch_succeeds() {
    explore_profiles("tui-device-code", "b", |mut d, _| async move {
        let code = d.device_code().await;
        let s = d
            .wait("the title", |s| s.title.contains("signing in"))
            .await;
        assert!(
            s.screen.contains("waiting for the device-code sign-in"),
            "{}",
            s.screen
        );
        // Copy the code and the URL.
        d.press('c');
        d.wait("the code copied", |s| {
            s.status.starts_with("copied device code")
        })
        .await;
        d.press('u');
        d.wait("the URL copied", |s| {
            s.status.starts_with("copied sign-in URL")
        })
        .await;
        {
            let copies = d.clipboard.0.lock().unwrap();
            assert_eq!(copies[0], code);
            assert!(copies[1].starts_with(&d.base), "{}", copies[1]);
        }
        // A fetch asked for before the sign-in completed waits for it.
        d.msgs.send(Msg::Action(Action::FetchNext)).unwrap();
        d.wait("the fetch is kept", |s| {
            s.status
                .contains("the fetch starts as soon as the sign-in completes")
        })
        .await;
        d.control(
            "approve",
            json!({ "user_code": code, "user": "adele@contoso.example" }),
        )
        .await;
        let s = d
            .wait("signed in, the overlay closed, the page fetched", |s| {
                s.sign_in == "active" && s.device_code.is_none() && s.rows > 0 && !s.in_flight
            })
            .await;
        assert!(
            s.title.contains("delegated sign-in with a device code"),
            "{}",
            s.title
        );
        assert!(s.title.contains("(profile b)"), "{}", s.title);
        assert!(!s.screen.contains("Sign in with a device code"));
        // The token inspector inspects the new token.
        d.inspect_delegated_token_of("the claims", "adele@contoso.example")
            .await;
        d.key(KeyCode::Esc);
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_declined_and_expired_sign_ins_are_shown_and_can_be_retried() {
    explore_profiles(
        "tui-device-code-failures",
        "b",
        |mut d, control| async move {
            // Esc cancels: the reason is shown, the explorer stays usable.
            d.device_code().await;
            d.key(KeyCode::Esc);
            let s = d
                .wait("cancelled", |s| {
                    s.sign_in == "failed: the sign-in was cancelled"
                })
                .await;
            assert!(s.device_code.is_none());
            assert!(s.screen.contains("not signed in"), "{}", s.screen);
            assert!(
                s.status.contains("press S to sign in again"),
                "{}",
                s.status
            );
            d.press('f');
            d.wait("the fetch says why not", |s| {
                s.status
                    .starts_with("not signed in (the sign-in was cancelled)")
            })
            .await;

            // Sign in again: the user declines on the page.
            d.press('S');
            let code = d.device_code().await;
            d.control("deny", json!({ "user_code": code })).await;
            let s = d
                .wait("declined", |s| {
                    s.sign_in == "failed: the user declined the sign-in"
                })
                .await;
            assert!(
                s.status.contains("the user declined the sign-in"),
                "{}",
                s.status
            );

            // Again: the code expires before anyone signs in.
            d.press('S');
            d.device_code().await;
            control.advance_clock(901.0);
            let s = d
                .wait("expired", |s| {
                    s.sign_in.starts_with("failed: the device code expired")
                })
                .await;
            assert!(s.status.contains("start the sign-in again"), "{}", s.status);
            assert!(s.device_code.is_none());
            d.press('q');
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_from_profile_a_to_b_sends_b_token_and_drops_a_rounds() {
    explore_profiles("tui-profile-switch", "a", |mut d, _| async move {
        // A (app-only, OrgContact.Read.All) signs in without a prompt and reads contacts.
        d.wait("signed in with a", |s| {
            s.sign_in == "active" && s.title.contains("(profile a)")
        })
        .await;
        d.press('f');
        let s = d
            .wait("A's first page", |s| s.rows > 0 && !s.in_flight)
            .await;
        assert_eq!(s.failed_status, None);

        // p lists the profiles of the config file; choose b.
        d.press('p');
        let s = d
            .wait("the picker", |s| {
                s.mode == "Profiles" && s.profiles.len() == 2
            })
            .await;
        assert_eq!(s.profiles, ["a", "b"]);
        assert!(s.screen.contains("device-code"), "{}", s.screen);
        assert!(s.screen.contains("token-file"), "{}", s.screen);
        d.press('j');
        d.press('j');
        d.key(KeyCode::Enter);
        let code = d.device_code().await;
        // The user consents to User.Read only: B's token cannot read contacts, A's could.
        d.control(
            "approve",
            json!({ "user_code": code, "user": "megan@contoso.example", "scopes": ["User.Read"] }),
        )
        .await;
        let s = d
            .wait("signed in with b, A's rounds gone", |s| {
                s.sign_in == "active" && s.title.contains("(profile b)")
            })
            .await;
        assert_eq!(s.rows, 0, "A's rounds are gone");
        assert!(
            s.status
                .contains("the previous session's rounds were dropped"),
            "{}",
            s.status
        );
        // The inspector shows B's claims.
        d.inspect_delegated_token_of("B's claims", "megan@contoso.example")
            .await;
        d.key(KeyCode::Esc);
        d.wait("closed", |s| s.mode == "Normal").await;
        // The same request now carries B's token: the emulator refuses it.
        d.press('f');
        let s = d.wait("B's 403", |s| s.failed_status == Some(403)).await;
        assert_eq!(s.rows, 0);

        // Back to A through the picker: no prompt, contacts again.
        d.press('p');
        d.wait("the picker", |s| {
            s.mode == "Profiles" && s.profiles.len() == 2
        })
        .await;
        d.press('j');
        d.key(KeyCode::Enter);
        d.wait("signed in with a again", |s| {
            s.sign_in == "active" && s.title.contains("(profile a)")
        })
        .await;
        d.press('f');
        d.wait("A's page again", |s| {
            s.rows > 0 && !s.in_flight && s.failed_status.is_none()
        })
        .await;
        d.press('q');
    })
    .await;
}

#[test]
fn a_renewal_that_needs_the_person_shows_the_code_and_closes_when_done() {
    let mut m = model();
    m.sign_in = SignInState::SignedOut;
    let attempt = running(&mut m, SignInTarget::Profile("b".into()));
    update(
        &mut m,
        Msg::SignedIn {
            attempt,
            who: "profile b".into(),
            title: "t".into(),
            root: "http://127.0.0.1:9".into(),
        },
    );
    // Much later a request needs the person again: its code is shown over the explorer.
    let now = Instant::now();
    update(
        &mut m,
        Msg::DeviceCode {
            attempt,
            prompt: prompt(now),
        },
    );
    assert!(matches!(
        m.sign_in,
        SignInState::Running { renewal: true, .. }
    ));
    m.size = (110, 32);
    let mut t = Terminal::new(TestBackend::new(110, 32)).unwrap();
    t.draw(|f| ui::draw(f, &m)).unwrap();
    assert!(
        t.backend()
            .to_string()
            .contains("Sign in again with a device code (profile b"),
        "{}",
        t.backend()
    );
    update(
        &mut m,
        Msg::SignInRenewed {
            attempt,
            result: Ok(()),
        },
    );
    assert_eq!(
        m.sign_in,
        SignInState::Active(SignedIn {
            who: "profile b".into(),
            attempt,
            target: SignInTarget::Profile("b".into()),
        })
    );
    // A renewal given up on (esc) leaves nobody signed in: a fresh sign-in is needed.
    update(
        &mut m,
        Msg::DeviceCode {
            attempt,
            prompt: prompt(now),
        },
    );
    assert_eq!(
        press(&mut m, KeyCode::Esc),
        vec![Effect::CancelSignIn { attempt }]
    );
    assert!(matches!(
        m.sign_in,
        SignInState::Failed { previous: None, .. }
    ));
    // A prompt of an older sign-in than the one in force is not shown.
    update(
        &mut m,
        Msg::DeviceCode {
            attempt: attempt - 1,
            prompt: prompt(now),
        },
    );
    assert!(m.device_code().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_token_brings_the_code_back_mid_round_and_the_round_goes_on() {
    explore_profiles("tui-renewal", "b", |mut d, control| async move {
        let code = d.device_code().await;
        d.control(
            "approve",
            json!({ "user_code": code, "user": "adele@contoso.example" }),
        )
        .await;
        d.wait("signed in", |s| s.sign_in == "active").await;
        d.press('f');
        let s = d.wait("page 1", |s| s.rows > 0 && !s.in_flight).await;
        let first = s.rows;
        // An hour later the token has expired and the user's sessions were revoked: the
        // refresh token is refused, so the next page needs the person again.
        d.control("revoke", json!({ "user": "adele@contoso.example" }))
            .await;
        control.advance_clock(3600.0);
        d.press('f');
        let code = d.device_code().await;
        let s = d
            .wait("the renewal overlay", |s| {
                s.screen.contains("Sign in again")
            })
            .await;
        assert!(s.in_flight, "the page waits for the sign-in");
        d.control(
            "approve",
            json!({ "user_code": code, "user": "adele@contoso.example" }),
        )
        .await;
        let s = d
            .wait("the overlay closed and page 2 arrived", |s| {
                s.sign_in == "active" && s.device_code.is_none() && s.rows > first && !s.in_flight
            })
            .await;
        assert_eq!(s.failed_status, None);
        assert!(
            s.status.starts_with("signed in again: delegated sign-in"),
            "{}",
            s.status
        );
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_that_cannot_start_is_shown_whole_and_the_explorer_stays_usable() {
    let emu = start_emulator().await;
    let dir = temp_dir("tui-broken-profile");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.broken]\nmethod = \"client-secret\"\ntenant_id = \"t\"\nclient_id = \"{APP_A}\"\nclient_secret_env = \"DELTASCOPE_TEST_SURELY_UNSET_SECRET_VAR\"\nlogin_host = \"{base}\"\ngraph_root = \"{base}\"\n",
            base = emu.base_url()
        ),
    )
    .unwrap();
    explore(&emu, &config, "broken", Vec::new(), |mut d| async move {
        let s = d
            .wait("the failure", |s| s.sign_in.starts_with("failed:"))
            .await;
        assert!(
            s.sign_in.contains(
                "the client secret variable DELTASCOPE_TEST_SURELY_UNSET_SECRET_VAR is not set"
            ),
            "{}",
            s.sign_in
        );
        // The whole reason is in the results pane, with the way out.
        assert!(
            s.screen.contains("Not signed in (the start-up sign-in):"),
            "{}",
            s.screen
        );
        assert!(
            s.screen.contains("S signs in again, p chooses a profile."),
            "{}",
            s.screen
        );
        assert!(s.screen.contains("✗ not signed in"), "{}", s.screen);
        // The query builder answers; a fetch says why it cannot go.
        d.press('j');
        d.press('f');
        d.wait("the refusal", |s| {
            s.status
                .starts_with("not signed in (cannot sign in: the client secret variable")
        })
        .await;
        d.press('q');
    })
    .await;
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
