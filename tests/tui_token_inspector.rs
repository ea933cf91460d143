//! The token inspector: the overlay as a snapshot (a JWT-shaped test token, a fixed clock), and
//! key-driven flows through the real explorer against the embedded emulator: a delegated token
//! on recordings says which permission is missing (also pointed at after a 403), and the demo
//! emulator's non-JWT token is explained, not reported as an error. The token never shows.
//!
//! The automatic check: before a session's first request the explorer checks the token about
//! to be sent and says what is missing (status bar, results pane; a snapshot), sends the request
//! anyway, and a 403 names the same missing permission. Pure `update` tests; the engine's
//! messages in order against the emulator with token enforcement on (its own identity platform
//! issues the tokens); flows through the real explorer: a delegated token on recordings is
//! warned about before the request goes out (the request is held until the warning is on the
//! screen), then the 403 names it; an app token with the permission, and the demo emulator's
//! token (not a JWT), show no warning.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deltascope::auth::AuthArgs;
use deltascope::auth::{AccessToken, AuthError, StaticToken, TokenFuture, TokenSource};
use deltascope::emulator::{Emulator, EmulatorApp, EmulatorConfig};
use deltascope::graph::{Catalog, ClientConfig, GraphRoot};
use deltascope::tui::app::{Mode, Model};
use deltascope::tui::clipboard::{Clipboard, ClipboardError, CopyMethod};
use deltascope::tui::engine::{EngineExecutor, query_view, token_view};
use deltascope::tui::explore::prepare;
use deltascope::tui::keymap::Keymap;
use deltascope::tui::runtime::Runtime;
use deltascope::tui::ui;
use deltascope::tui::view::FetchState;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::explorer::{DEADLINE, Driver, Frame, explore_args, run_scripted, screen_text};
use support::fixtures::{self, FakePreviewer};
use support::identity::{
    client_credentials_token, device_code_token, identity, start_with_identity,
};
use tokio::sync::{mpsc, watch};

const MISSING: &str = "callRecording delta needs the application permission OnlineMeetingRecording.Read.All; this is a delegated token";

/// A JWT-shaped token (unsigned: the inspector does not check signatures).
fn jwt(claims: serde_json::Value) -> String {
    let b = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b(&claims)
    )
}

fn delegated_token(exp: i64) -> String {
    jwt(serde_json::json!({
        "aud": "https://graph.microsoft.com",
        "iss": "https://sts.windows.net/11111111-2222-3333-4444-555555555555/",
        "tid": "11111111-2222-3333-4444-555555555555",
        "idtyp": "user",
        "upn": "adele@contoso.example",
        "appid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "app_displayname": "deltascope test",
        "scp": "Contacts.Read User.Read OnlineMeetings.Read",
        "iat": exp - 3600,
        "nbf": exp - 3600,
        "exp": exp,
    }))
}

#[test]
fn token_inspector_overlay_delegated_token_on_recordings() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let token = delegated_token(now.timestamp() + 3000);
    let root = GraphRoot::parse("https://graph.microsoft.com").unwrap();
    let view = token_view(
        &token,
        Catalog::builtin(),
        Some("recordings"),
        (&root, false),
        now,
    );
    assert!(view.problems.iter().any(|p| p == MISSING), "{view:?}");
    let mut m = Model::new(
        fixtures::contacts_query(),
        Keymap::default(),
        Box::new(FakePreviewer),
    );
    m.title = "Graph root https://graph.microsoft.com".into();
    m.mode = Mode::TokenInspector;
    m.token = Some(view);
    m.size = (130, 40);
    let mut t = Terminal::new(TestBackend::new(130, 40)).unwrap();
    t.draw(|f| ui::draw(f, &m)).unwrap();
    let out = t.backend().to_string();
    assert!(!out.contains("eyJ"), "the token is on the screen");
    // The clock is fixed, so the countdown is stable ("in 50 min").
    assert!(out.contains("in 50 min"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn an_opaque_token_is_explained() {
    let now = Utc::now();
    let emu = GraphRoot::parse("http://127.0.0.1:9").unwrap();
    // The embedded emulator with its demo token.
    let v = token_view(
        "demo-token",
        Catalog::builtin(),
        Some("contacts"),
        (&emu, true),
        now,
    );
    assert!(
        v.unavailable
            .as_deref()
            .unwrap()
            .starts_with("the demo emulator accepts any token; nothing to inspect"),
        "{v:?}"
    );
    // An emulator the user started (or any root): the token is theirs, and opaque.
    for root in [
        emu,
        GraphRoot::parse("https://graph.microsoft.com").unwrap(),
    ] {
        let v = token_view("opaque", Catalog::builtin(), None, (&root, false), now);
        let why = v.unavailable.unwrap();
        assert!(
            why.starts_with("the token is opaque (not a JWT): it cannot be decoded"),
            "{why}"
        );
        assert!(!why.contains("demo"), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opaque_token_on_an_emulator_the_user_started_is_not_called_the_demo_token() {
    let emu = deltascope::emulator::start(EmulatorConfig::default(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let (model, bridge) = recordings_explorer(&emu, static_token("opaque-zq81-value"));
    drive(
        model,
        bridge,
        Some("opaque-zq81-value".into()),
        |mut d| async move {
            d.key(KeyCode::Char('i'));
            let s = d
                .wait("the inspector's answer", |s| s.unavailable.is_some())
                .await;
            assert!(
                s.screen
                    .contains("the token is opaque (not a JWT): it cannot be decoded"),
                "{}",
                s.screen
            );
            assert!(!s.screen.contains("demo emulator"), "{}", s.screen);
            d.key(KeyCode::Esc);
            d.wait("closed", |s| s.mode == "Normal").await;
            d.key(KeyCode::Char('q'));
        },
    )
    .await;
    emu.shutdown().await;
}

struct NoClipboard;

impl Clipboard for NoClipboard {
    fn copy(&mut self, _text: &str) -> Result<CopyMethod, ClipboardError> {
        Ok(CopyMethod::Osc52 { tmux: false })
    }
}

#[derive(Clone, Debug, Default)]
struct Seen {
    screen: String,
    mode: String,
    status: String,
    failed_status: Option<u16>,
    problems: Vec<String>,
    unavailable: Option<String>,
    in_flight: bool,
    rows: usize,
    request_id: Option<String>,
    /// The check before the first request: `Some` once it answered (its problems).
    checked: Option<Vec<String>>,
}

impl Frame for Seen {
    fn context(&self) -> String {
        format!("status: {}\n{}", self.status, self.screen)
    }
}

fn observe(m: &Model, t: &Terminal<TestBackend>) -> Seen {
    Seen {
        screen: screen_text(t),
        mode: format!("{:?}", m.mode),
        status: m.notice_text().unwrap_or_default().to_owned(),
        failed_status: match &m.fetch.state {
            FetchState::Failed { error } => error.status,
            _ => None,
        },
        problems: m
            .token
            .as_ref()
            .map(|t| t.problems.clone())
            .unwrap_or_default(),
        unavailable: m.token.as_ref().and_then(|t| t.unavailable.clone()),
        in_flight: m.fetch.in_flight(),
        rows: m
            .rounds
            .iter()
            .flat_map(|r| r.pages.iter())
            .map(|p| p.rows.len())
            .sum(),
        checked: m.token_check.as_ref().map(|c| c.problems.clone()),
        request_id: match &m.fetch.state {
            FetchState::Failed { error } => error.request_id.clone(),
            _ => None,
        },
    }
}

/// What every frame of a [`drive`] showed.
#[derive(Debug, Default)]
struct Frames {
    /// A frame showed a token check's warning (results pane or status bar).
    warned: bool,
}

fn shows_a_warning(s: &Seen) -> bool {
    s.screen.contains("The token check")
        || s.screen.contains(" token check ")
        || s.status.contains("token check")
}

async fn drive<F, Fut>(
    model: Model,
    bridge: EngineExecutor,
    token: Option<String>,
    script: F,
) -> Frames
where
    F: FnOnce(Driver<Seen>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut runtime = Runtime::new(model, NoClipboard, bridge);
    let leaked = std::sync::atomic::AtomicBool::new(false);
    let warned = std::sync::atomic::AtomicBool::new(false);
    let frame = |m: &Model, t: &Terminal<TestBackend>, _: &Seen| {
        let s = observe(m, t);
        if shows_a_warning(&s) {
            warned.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if let Some(tok) = &token
            && (s.screen.contains(tok.as_str()) || s.screen.contains("eyJ"))
        {
            leaked.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        s
    };
    run_scripted(&mut runtime, (160, 45), frame, (), script).await;
    assert!(
        !leaked.load(std::sync::atomic::Ordering::SeqCst),
        "the token was on the screen"
    );
    Frames {
        warned: warned.load(std::sync::atomic::Ordering::SeqCst),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegated_token_on_recordings_is_told_what_is_missing_and_a_403_points_at_the_inspector()
{
    let config = EmulatorConfig {
        faults: vec!["forbidden:1".into()],
        ..Default::default()
    };
    let emu = deltascope::emulator::start(config, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let token = delegated_token(Utc::now().timestamp() + 3600);
    let (model, bridge) = recordings_explorer(&emu, static_token(&token));
    drive(model, bridge, Some(token), |mut d| async move {
        d.key(KeyCode::Char('f'));
        let s = d.wait("the 403", |s| s.failed_status == Some(403)).await;
        assert!(
            s.status.contains("press i to inspect the token"),
            "{}",
            s.status
        );
        // The 403 names what the token check finds missing.
        assert!(s.status.contains(MISSING), "{}", s.status);
        assert!(s.screen.contains("[i: inspect the token]"), "{}", s.screen);
        d.key(KeyCode::Char('i'));
        let s = d
            .wait("the missing permission", |s| {
                s.problems.iter().any(|p| p == MISSING)
                    && s.screen
                        .contains("problem   callRecording delta needs the application")
            })
            .await;
        assert!(s.screen.contains("delegated (user adele@contoso.example)"));
        assert!(s.screen.contains("CANNOT READ"), "{}", s.screen);
        d.key(KeyCode::Esc);
        d.wait("the overlay closed", |s| {
            s.mode == "Normal" && !s.screen.contains("Access token (decoded claims")
        })
        .await;
        d.key(KeyCode::Char('q'));
    })
    .await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_emulator_token_is_explained_not_an_error() {
    let explorer = prepare(
        &explore_args(AuthArgs::default()),
        EmulatorConfig::default(),
    )
    .await
    .unwrap();
    let emulator = explorer.emulator.unwrap();
    // The explorer's demo token (unless DELTASCOPE_TOKEN is set): it must not show either.
    let demo_token = Some("deltascope-emulator-demo-token".to_owned());
    let frames = drive(
        explorer.model,
        explorer.engine,
        demo_token,
        |mut d| async move {
            // Its token is not a JWT: the first request gets no check and no message.
            d.key(KeyCode::Char('f'));
            let s = d
                .wait("the first page", |s| s.rows > 0 && !s.in_flight)
                .await;
            assert_eq!(s.checked, None, "{}", s.status);
            d.key(KeyCode::Char('i'));
            let s = d
                .wait("the demo explanation", |s| s.unavailable.is_some())
                .await;
            assert!(
                s.screen
                    .contains("the demo emulator accepts any token; nothing to inspect"),
                "{}",
                s.screen
            );
            d.key(KeyCode::Esc);
            d.wait("closed", |s| s.mode == "Normal").await;
            d.key(KeyCode::Char('q'));
        },
    )
    .await;
    assert!(!frames.warned, "a warning for a token that is not a JWT");
    emulator.shutdown().await;
}

#[test]
fn the_key_asks_for_the_current_resource_and_esc_closes() {
    use deltascope::tui::app::{Effect, Msg, update};
    use deltascope::tui::view::ErrorView;
    let mut m = Model::new(
        fixtures::contacts_query(),
        Keymap::default(),
        Box::new(FakePreviewer),
    );
    let press =
        |m: &mut Model, code: KeyCode| update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    let effects = press(&mut m, KeyCode::Char('i'));
    assert_eq!(
        effects,
        vec![Effect::InspectToken {
            resource: Some("contacts".into())
        }]
    );
    assert_eq!(m.mode, Mode::TokenInspector);
    assert!(m.token.is_none(), "the last answer is cleared while asking");
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.mode, Mode::Normal);
    // A 403 points at the inspector key.
    let run_id = m.fetch.begin(1, m.now, false);
    update(
        &mut m,
        Msg::FetchFailed {
            run_id,
            error: ErrorView {
                status: Some(403),
                message: "Insufficient privileges".into(),
                ..Default::default()
            },
        },
    );
    assert!(
        m.notice_text()
            .unwrap()
            .contains("press i to inspect the token"),
        "{:?}",
        m.notice_text()
    );
}

// ---------------------------------------------------------------------------------------------
// The automatic check: before the first request, and on a 403 (pure `update`)

/// A recordings query ready to fetch (both organizer parameters set), signed in.
fn recordings_model() -> Model {
    use deltascope::tui::view::SignInState;
    let mut q = fixtures::recordings_query();
    for p in &mut q.params {
        if p.name == "meetingOrganizerUserId" {
            p.value = "9f2d1c44-5b8e-4f6a-a1c3-2b7e4d9a0c11".into();
        }
    }
    let mut m = Model::new(q, Keymap::default(), Box::new(FakePreviewer));
    m.title = "Graph root https://graph.microsoft.com · the token in $DELTASCOPE_TOKEN".into();
    m.sign_in = SignInState::Active(deltascope::tui::view::SignedIn::at_start(
        "the token in $DELTASCOPE_TOKEN",
    ));
    m
}

/// Presses f on `m`, which must start a fetch: its run id.
fn start_fetch(m: &mut Model) -> u64 {
    use deltascope::tui::app::{Effect, Msg, update};
    let effects = update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE)),
    );
    let [Effect::Start { run_id, .. }] = effects.as_slice() else {
        panic!("{effects:?} ({:?})", m.notice_text());
    };
    *run_id
}

fn render_results(m: &mut Model, w: u16, h: u16) -> String {
    m.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| deltascope::tui::panes::results::draw(f, f.area(), m))
        .unwrap();
    t.backend().to_string()
}

fn render_status(m: &mut Model, w: u16) -> String {
    m.size = (w, 2);
    let mut t = Terminal::new(TestBackend::new(w, 2)).unwrap();
    t.draw(|f| deltascope::tui::panes::status::draw(f, f.area(), m))
        .unwrap();
    t.backend().to_string()
}

fn checked(problems: &[&str]) -> deltascope::tui::view::TokenCheckView {
    deltascope::tui::view::TokenCheckView {
        resource: Some("recordings".into()),
        problems: problems.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn the_check_before_the_first_request_is_shown_and_the_403_names_what_is_missing() {
    use deltascope::tui::app::{Msg, update};
    use deltascope::tui::view::ErrorView;
    let mut m = recordings_model();
    let run_id = start_fetch(&mut m);
    // An answer for an older run is dropped.
    update(
        &mut m,
        Msg::TokenChecked {
            run_id: run_id - 1,
            check: checked(&[MISSING]),
        },
    );
    assert_eq!(m.token_check, None);
    let effects = update(
        &mut m,
        Msg::TokenChecked {
            run_id,
            check: checked(&[MISSING]),
        },
    );
    // Nothing is held back: the request is on its way.
    assert!(effects.is_empty(), "{effects:?}");
    assert!(m.fetch.in_flight());
    assert!(matches!(m.fetch.state, FetchState::Fetching { .. }));
    assert_eq!(
        m.notice_text().unwrap(),
        format!(
            "token check: {MISSING}; the request is sent anyway (press i to inspect the token)"
        )
    );
    let pane = render_results(&mut m, 100, 14);
    assert!(
        pane.contains("The token check before the first request found a problem:"),
        "{pane}"
    );
    assert!(
        pane.contains("✗ callRecording delta needs the application"),
        "{pane}"
    );
    assert!(pane.contains("i shows the token's claims."), "{pane}");
    assert!(pane.contains("The request is sent anyway"), "{pane}");
    insta::assert_snapshot!("results_pane_token_check_before_the_first_request", pane);

    // The 403: the same sentence, and the code and request-id the error view always shows.
    update(
        &mut m,
        Msg::FetchFailed {
            run_id,
            error: ErrorView {
                status: Some(403),
                code: Some("Forbidden".into()),
                message: "This API does not support delegated permissions.".into(),
                request_id: Some("5e0c2a11-0000-4000-8000-00000000403a".into()),
                hint: Some("callRecording delta needs an app-only token".into()),
                token_problems: vec![MISSING.into()],
                ..Default::default()
            },
        },
    );
    assert_eq!(
        m.notice_text().unwrap(),
        format!("403 Forbidden: {MISSING} (press i to inspect the token)")
    );
    let bar = render_status(&mut m, 250);
    let (first, second) = bar.split_once('\n').unwrap();
    assert!(first.contains("✗ 403 Forbidden"), "{bar}");
    assert!(first.contains("[i: inspect the token]"), "{bar}");
    assert!(
        first.contains("request-id 5e0c2a11-0000-4000-8000-00000000403a"),
        "{bar}"
    );
    assert!(
        second.contains(" token check  callRecording delta needs"),
        "{bar}"
    );
    assert!(second.contains("this is a delegated token"), "{bar}");
    let pane = render_results(&mut m, 100, 14);
    assert!(
        pane.contains(
            "The server refused the request: 403 Forbidden, request-id 5e0c2a11-0000-4000-8000-00000000403a."
        ) && pane.contains("The token check says why:"),
        "{pane}"
    );
    assert!(!pane.contains("sent anyway"), "{pane}");
    assert!(pane.contains("i shows the token's claims."), "{pane}");
}

#[test]
fn a_check_that_finds_nothing_says_nothing_and_a_403_without_one_points_at_the_inspector() {
    use deltascope::tui::app::{Msg, update};
    use deltascope::tui::view::ErrorView;
    let mut m = recordings_model();
    let run_id = start_fetch(&mut m);
    let before = m.notice.clone();
    update(
        &mut m,
        Msg::TokenChecked {
            run_id,
            check: checked(&[]),
        },
    );
    assert_eq!(m.token_check, Some(checked(&[])));
    assert_eq!(
        m.notice, before,
        "a check without problems interrupts nothing"
    );
    let pane = render_results(&mut m, 100, 14);
    assert!(!pane.contains("token check"), "{pane}");
    // A 403 the check does not explain (it found nothing, or the token is not a JWT).
    update(
        &mut m,
        Msg::FetchFailed {
            run_id,
            error: ErrorView {
                status: Some(403),
                hint: Some("the token lacks the permission".into()),
                ..Default::default()
            },
        },
    );
    assert_eq!(
        m.notice_text().unwrap(),
        "403 Forbidden: press i to inspect the token's permissions"
    );
    let bar = render_status(&mut m, 200);
    assert!(
        bar.contains(" what to do  the token lacks the permission"),
        "{bar}"
    );
}

#[test]
fn a_new_session_forgets_the_last_check() {
    use deltascope::tui::app::{Effect, Msg, update};
    use deltascope::tui::view::SignInTarget;
    let mut m = recordings_model();
    let run_id = start_fetch(&mut m);
    update(
        &mut m,
        Msg::TokenChecked {
            run_id,
            check: checked(&[MISSING]),
        },
    );
    assert!(m.token_check.is_some());
    // Another sign-in drops the session, and with it what was said about the old token.
    let effects = deltascope::tui::app::begin_sign_in(&mut m, SignInTarget::Profile("b".into()));
    let attempt = match effects.last() {
        Some(Effect::SignIn { attempt, .. }) => *attempt,
        other => panic!("{other:?}"),
    };
    update(
        &mut m,
        Msg::SignedIn {
            attempt,
            who: "profile b".into(),
            title: "Graph root https://graph.microsoft.com · profile b".into(),
            root: "https://graph.microsoft.com".into(),
        },
    );
    assert_eq!(m.token_check, None);
    let pane = render_results(&mut m, 100, 14);
    assert!(!pane.contains("token check"), "{pane}");
}

// ---------------------------------------------------------------------------------------------
// Against the emulator with token enforcement on

const RECORDER: &str = "cccccccc-3333-4333-8333-cccccccccccc";
const RECORDER_SECRET: &str = "tui-token-check-secret~Lm4_Rt";

/// An enforcing emulator whose app RECORDER holds the recordings role (app-only) and, signed
/// in as a user, only OrgContact.Read.All (delegated).
async fn enforcing_emulator() -> Emulator {
    start_with_identity(identity(
        true,
        vec![EmulatorApp {
            client_id: RECORDER.into(),
            display_name: "recordings reader".into(),
            secret: Some(RECORDER_SECRET.into()),
            roles: vec!["OnlineMeetingRecording.Read.All".into()],
            delegated_scopes: vec!["OrgContact.Read.All".into()],
            ..Default::default()
        }],
    ))
    .await
}

/// RECORDER's app-only token (client credentials), from the emulator's token endpoint.
async fn app_token(emu: &Emulator) -> String {
    client_credentials_token(emu, RECORDER, RECORDER_SECRET).await
}

/// A delegated token of RECORDER (device code, approved through the emulator's control API).
async fn delegated_emulator_token(emu: &Emulator) -> String {
    device_code_token(
        emu,
        RECORDER,
        "OrgContact.Read.All",
        serde_json::json!({ "user": "adele@contoso.example" }),
    )
    .await
}

/// The recordings query of the emulator's first organizer.
fn recordings_view(emu: &Emulator) -> deltascope::tui::view::QueryView {
    let mut query = query_view(Catalog::builtin());
    let organizer = emu.demo().organizers[0].clone();
    query.param_defaults = vec![
        ("userId".to_owned(), organizer.clone()),
        ("meetingOrganizerUserId".to_owned(), organizer),
    ];
    query.resource = query
        .resources
        .iter()
        .position(|r| r.name == "recordings")
        .unwrap();
    query
}

fn bridge_for(emu: &Emulator, tokens: Arc<dyn TokenSource>) -> EngineExecutor {
    EngineExecutor::with_source(
        Catalog::builtin(),
        GraphRoot::parse(&emu.base_url()).unwrap(),
        tokens,
        ClientConfig::default(),
    )
    .unwrap()
}

/// The explorer's model on the recordings query of the emulator's first organizer, and its
/// engine executor for the emulator, signed in with `tokens`.
fn recordings_explorer(emu: &Emulator, tokens: Arc<dyn TokenSource>) -> (Model, EngineExecutor) {
    let bridge = bridge_for(emu, tokens);
    let model = Model::new(
        recordings_view(emu),
        Keymap::default(),
        Box::new(bridge.previewer()),
    );
    (model, bridge)
}

/// A token source that always gives `token`.
fn static_token(token: &str) -> Arc<dyn TokenSource> {
    Arc::new(StaticToken::new(AccessToken::new(token.to_owned())))
}

/// What the engine executor says for a session's first request, in order, up to the page or the error.
async fn first_request_messages(emu: &Emulator, token: &str) -> Vec<deltascope::tui::app::Msg> {
    use deltascope::tui::app::{Effect, Msg};
    use deltascope::tui::runtime::EffectHandler;
    let (m, mut bridge) = recordings_explorer(emu, static_token(token));
    let (tx, mut rx) = mpsc::unbounded_channel();
    bridge.handle(
        Effect::Start {
            run_id: 1,
            query: m.query.draft(),
            follow: false,
        },
        &tx,
    );
    let mut out = Vec::new();
    loop {
        let msg = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("the engine executor answered")
            .unwrap();
        let end = matches!(msg, Msg::PageArrived { .. } | Msg::FetchFailed { .. });
        out.push(msg);
        if end {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_checks_before_the_first_request_and_again_on_a_403() {
    use deltascope::tui::app::Msg;
    let emu = enforcing_emulator().await;
    let no_token_in = |msgs: &[Msg], token: &str| {
        let all = format!("{msgs:?}");
        assert!(!all.contains(token) && !all.contains("eyJ"), "{all}");
    };

    // A delegated token on recordings: the check comes before anything else, then the 403
    // names the same missing permission, with the code and request-id of the answer.
    let delegated = delegated_emulator_token(&emu).await;
    let msgs = first_request_messages(&emu, &delegated).await;
    no_token_in(&msgs, &delegated);
    match &msgs[0] {
        Msg::TokenChecked { run_id: 1, check } => {
            assert_eq!(check.problems, vec![MISSING.to_owned()]);
            assert_eq!(check.resource.as_deref(), Some("recordings"));
        }
        other => panic!("the check is not first: {other:?}"),
    }
    match msgs.last().unwrap() {
        Msg::FetchFailed { run_id: 1, error } => {
            assert_eq!(error.status, Some(403));
            assert_eq!(error.code.as_deref(), Some("Forbidden"));
            assert!(error.request_id.is_some(), "{error:?}");
            assert_eq!(error.token_problems, vec![MISSING.to_owned()]);
        }
        other => panic!("{other:?}"),
    }

    // An app token with the role: checked (a JWT), nothing found, the page arrives.
    let app = app_token(&emu).await;
    let msgs = first_request_messages(&emu, &app).await;
    no_token_in(&msgs, &app);
    assert!(
        matches!(&msgs[0], Msg::TokenChecked { check, .. } if check.problems.is_empty()),
        "{msgs:?}"
    );
    assert!(matches!(msgs.last().unwrap(), Msg::PageArrived { .. }));

    // A token that is not a JWT: no check and no message (here the server answers 401).
    let msgs = first_request_messages(&emu, "an-opaque-token").await;
    assert!(
        !msgs.iter().any(|m| matches!(m, Msg::TokenChecked { .. })),
        "{msgs:?}"
    );
    match msgs.last().unwrap() {
        Msg::FetchFailed { error, .. } => {
            assert_eq!(error.status, Some(401));
            assert!(error.token_problems.is_empty());
        }
        other => panic!("{other:?}"),
    }
    emu.shutdown().await;
}

/// A static token whose second and later requests for it wait until the test opens the gate:
/// the check before the first request gets it at once, the request itself waits. So the test
/// can see the warning on the screen while the request has not gone out yet.
struct Gated {
    token: AccessToken,
    asked: std::sync::atomic::AtomicUsize,
    open: watch::Receiver<bool>,
}

impl TokenSource for Gated {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            if self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                let mut open = self.open.clone();
                open.wait_for(|o| *o)
                    .await
                    .map_err(|_| AuthError::Cancelled)?;
            }
            Ok(self.token.clone())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegated_token_on_recordings_is_warned_about_before_the_request_then_the_403_names_it()
{
    let emu = enforcing_emulator().await;
    let token = delegated_emulator_token(&emu).await;
    let (open_tx, open) = watch::channel(false);
    let gated = Arc::new(Gated {
        token: AccessToken::new(token.clone()),
        asked: Default::default(),
        open,
    });
    let (model, bridge) = recordings_explorer(&emu, gated.clone());
    let frames = drive(model, bridge, Some(token), |mut d| async move {
        d.key(KeyCode::Char('f'));
        let s = d
            .wait("the warning before the request", |s| {
                s.checked.is_some()
                    && s.screen
                        .contains("The token check before the first request found a problem:")
            })
            .await;
        // The request has not gone out: its token is still held at the gate.
        assert_eq!(s.failed_status, None);
        assert!(s.in_flight && s.rows == 0);
        assert_eq!(s.checked, Some(vec![MISSING.to_owned()]));
        assert!(
            s.status
                .contains("the request is sent anyway (press i to inspect the token)"),
            "{}",
            s.status
        );
        assert!(s.status.contains(MISSING), "{}", s.status);
        assert!(
            s.screen.contains("✗ callRecording delta needs the"),
            "{}",
            s.screen
        );
        assert!(
            s.screen.contains("i shows the token's claims."),
            "{}",
            s.screen
        );
        // Sent anyway: the server has the last word.
        open_tx.send(true).unwrap();
        let s = d.wait("the 403", |s| s.failed_status == Some(403)).await;
        assert_eq!(
            s.status,
            format!("403 Forbidden: {MISSING} (press i to inspect the token)")
        );
        assert!(s.screen.contains("✗ 403 Forbidden"), "{}", s.screen);
        // The request-id, whole, in the results pane (the bar may run out of room for it).
        let id = s.request_id.clone().expect("the 403 has a request-id");
        // The failed request is a row of round 1; the table's place says what failed and why.
        assert!(s.screen.contains("✗ 403 Forbidden"), "{}", s.screen);
        assert!(
            s.screen.contains("The token check says why:"),
            "{}",
            s.screen
        );
        assert!(
            s.screen.contains(&format!("request-id {id}")),
            "{}",
            s.screen
        );
        assert!(s.screen.contains(&id), "{}", s.screen);
        assert!(
            s.screen
                .contains(" token check  callRecording delta needs the")
        );
        d.key(KeyCode::Char('q'));
    })
    .await;
    assert!(frames.warned);
    assert!(
        gated.asked.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "checked, then sent"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_the_permission_shows_no_warning() {
    let emu = enforcing_emulator().await;
    let token = app_token(&emu).await;
    let (model, bridge) = recordings_explorer(&emu, static_token(&token));
    let frames = drive(model, bridge, Some(token), |mut d| async move {
        d.key(KeyCode::Char('f'));
        let s = d
            .wait("the first page", |s| s.rows > 0 && !s.in_flight)
            .await;
        assert_eq!(s.checked, Some(Vec::new()), "checked, and nothing found");
        assert_eq!(s.failed_status, None);
        d.key(KeyCode::Char('q'));
    })
    .await;
    assert!(
        !frames.warned,
        "a warning for a token that has the permission"
    );
    emu.shutdown().await;
}
