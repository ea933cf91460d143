//! The token inspector: the overlay as a snapshot (a JWT-shaped test token, a fixed clock), and
//! key-driven flows through the real explorer against the embedded emulator: a delegated token
//! on recordings says which permission is missing (also pointed at after a 403), and the demo
//! emulator's non-JWT token is explained, not reported as an error. The token never shows.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use deltascope::auth::{AccessToken, StaticToken};
use deltascope::emulator::EmulatorConfig;
use deltascope::graph::{Catalog, ClientConfig, GraphRoot};
use deltascope::tui::app::{Mode, Model};
use deltascope::tui::bridge::{EngineBridge, query_view, token_view};
use deltascope::tui::clipboard::{Clipboard, ClipboardError, CopyMethod};
use deltascope::tui::explore::{ExploreArgs, prepare};
use deltascope::tui::fixtures::{self, FakePreviewer};
use deltascope::tui::keymap::Keymap;
use deltascope::tui::runtime::Runtime;
use deltascope::tui::ui;
use deltascope::tui::view::FetchState;
use futures_util::Stream;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};

const DEADLINE: Duration = Duration::from_secs(30);

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
    let view = token_view(&token, Catalog::builtin(), Some("recordings"), &root, now);
    assert!(view.problems.iter().any(|p| p == MISSING), "{view:?}");
    let mut m = Model::new(
        fixtures::contacts_query(),
        Keymap::default(),
        Box::new(FakePreviewer),
    );
    m.title = "Graph root https://graph.microsoft.com".into();
    m.mode = Mode::Token;
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
    let v = token_view(
        "demo-token",
        Catalog::builtin(),
        Some("contacts"),
        &emu,
        now,
    );
    assert!(
        v.unavailable
            .as_deref()
            .unwrap()
            .starts_with("the demo emulator accepts any token; nothing to inspect"),
        "{v:?}"
    );
    let graph = GraphRoot::parse("https://graph.microsoft.com").unwrap();
    let v = token_view("opaque", Catalog::builtin(), None, &graph, now);
    assert!(v.unavailable.unwrap().contains("not a JWT"));
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
}

fn observe(m: &Model, t: &Terminal<TestBackend>) -> Seen {
    let buf = t.backend().buffer();
    let mut screen = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            screen.push_str(buf[(x, y)].symbol());
        }
        screen.push('\n');
    }
    Seen {
        screen,
        mode: format!("{:?}", m.mode),
        status: m.status.clone().unwrap_or_default(),
        failed_status: match &m.fetch {
            FetchState::Failed { error } => error.status,
            _ => None,
        },
        problems: m
            .token
            .as_ref()
            .map(|t| t.problems.clone())
            .unwrap_or_default(),
        unavailable: m.token.as_ref().and_then(|t| t.unavailable.clone()),
    }
}

struct Driver {
    keys: mpsc::UnboundedSender<Event>,
    seen: watch::Receiver<Seen>,
}

impl Driver {
    fn key(&self, code: KeyCode) {
        let _ = self
            .keys
            .send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    async fn wait(&mut self, what: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        let waited = tokio::time::timeout(DEADLINE, async {
            loop {
                {
                    let s = self.seen.borrow_and_update();
                    if pred(&s) {
                        return s.clone();
                    }
                }
                if self.seen.changed().await.is_err() {
                    let s = self.seen.borrow().clone();
                    assert!(pred(&s), "the explorer ended before: {what}");
                    return s;
                }
            }
        })
        .await;
        match waited {
            Ok(s) => s,
            Err(_) => {
                let s = self.seen.borrow().clone();
                panic!(
                    "timed out waiting for: {what}\nstatus: {}\n{}",
                    s.status, s.screen
                );
            }
        }
    }
}

fn key_stream(rx: mpsc::UnboundedReceiver<Event>) -> impl Stream<Item = Event> + Unpin {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }))
}

async fn drive<F, Fut>(model: Model, bridge: EngineBridge, token: Option<String>, script: F)
where
    F: FnOnce(Driver) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (keys, keys_rx) = mpsc::unbounded_channel();
    let (seen_tx, seen) = watch::channel(Seen::default());
    let mut runtime = Runtime::new(model, NoClipboard, bridge);
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let leaked = std::sync::atomic::AtomicBool::new(false);
    let run = runtime.run_observed(&mut terminal, key_stream(keys_rx), |m, t| {
        let s = observe(m, t);
        if let Some(tok) = &token
            && (s.screen.contains(tok.as_str()) || s.screen.contains("eyJ"))
        {
            leaked.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        seen_tx.send_replace(s);
    });
    let (result, ()) = tokio::join!(run, script(Driver { keys, seen }));
    result.unwrap();
    assert!(
        !leaked.load(std::sync::atomic::Ordering::SeqCst),
        "the token was on the screen"
    );
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
    let catalog = Catalog::builtin();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let token = delegated_token(Utc::now().timestamp() + 3600);
    let bridge = EngineBridge::with_source(
        catalog,
        root,
        Arc::new(StaticToken::new(AccessToken::new(token.clone()))),
        ClientConfig::default(),
    )
    .unwrap();
    let mut query = query_view(catalog);
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
    let model = Model::new(query, Keymap::default(), Box::new(bridge.previewer()));
    drive(model, bridge, Some(token), |mut d| async move {
        d.key(KeyCode::Char('f'));
        let s = d.wait("the 403", |s| s.failed_status == Some(403)).await;
        assert!(
            s.status.contains("press i to inspect the token"),
            "{}",
            s.status
        );
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
    let args = ExploreArgs {
        keymap: Some("/nonexistent/deltascope-test-keymap.toml".into()),
        ..Default::default()
    };
    let explorer = prepare(&args, EmulatorConfig::default()).await.unwrap();
    let emulator = explorer.emulator.unwrap();
    // The explorer's demo token (unless DELTASCOPE_TOKEN is set): it must not show either.
    let demo_token = Some("deltascope-emulator-demo-token".to_owned());
    drive(
        explorer.model,
        explorer.bridge,
        demo_token,
        |mut d| async move {
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
    assert_eq!(m.mode, Mode::Token);
    assert!(m.token.is_none(), "the last answer is cleared while asking");
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.mode, Mode::Normal);
    // A 403 points at the inspector key.
    m.in_flight = true;
    let run_id = m.current_run;
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
        m.status
            .as_deref()
            .unwrap()
            .contains("press i to inspect the token"),
        "{:?}",
        m.status
    );
}
