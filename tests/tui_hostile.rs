//! The explorer against a hostile server (issue 11), through the real runtime, engine executor and
//! a `TestBackend`, with a scripted loopback server: escape sequences and bidi overrides in
//! values, names, links, headers and error messages are shown escaped and never reach the
//! screen raw; a deeply nested item is shown folded in memory linear in the body; a paste of
//! 10,000 ids takes linear time and is answered with one clear message.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;
mod support;

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deltascope::auth::AccessToken;
use deltascope::graph::{Catalog, ClientConfig, GraphRoot};
use deltascope::text::is_unsafe;
use deltascope::tui::app::{Mode, Model, Msg, QueryField, update};
use deltascope::tui::engine::{EngineExecutor, EnginePreviewer, query_view};
use deltascope::tui::keymap::Keymap;
use deltascope::tui::runtime::Runtime;
use deltascope::tui::ui;
use loopback::{Reply, Server};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::explorer::{Frame, SharedClipboard, run_scripted, screen_text};

/// What the scripts see after a frame.
#[derive(Clone, Debug, Default)]
struct Seen {
    screen: String,
    pages: usize,
    /// Unsafe characters ever seen on the screen (should stay empty).
    raw: Vec<char>,
    formatting: bool,
    note: Option<String>,
    /// The JSON pane's document: heap bytes, and the body it shows.
    doc_bytes: usize,
    body_bytes: usize,
    json_top: usize,
    status: String,
}

impl Frame for Seen {
    fn context(&self) -> String {
        format!("status: {}\n{}", self.status, self.screen)
    }
}

fn observe(m: &Model, t: &Terminal<TestBackend>, prev: &Seen) -> Seen {
    let screen = screen_text(t);
    let mut raw = prev.raw.clone();
    raw.extend(screen.chars().filter(|&c| c != '\n' && is_unsafe(c)));
    Seen {
        pages: m.rounds.iter().map(|r| r.pages.len()).sum(),
        raw,
        formatting: m.json.pending.is_some(),
        note: m.json.doc.note().map(str::to_owned),
        doc_bytes: m.json.doc.heap_bytes(),
        body_bytes: m.selected_page().map_or(0, |p| p.raw_json.len()),
        json_top: m.json.top,
        status: m.notice_text().unwrap_or_default().to_owned(),
        screen,
    }
}

/// The explorer on the contacts query, against `server`, as the real app runs it.
async fn explore<F, Fut>(server: &Server, script: F)
where
    F: FnOnce(support::explorer::Driver<Seen>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let bridge = EngineExecutor::new(
        Catalog::builtin(),
        GraphRoot::parse(&server.base).unwrap(),
        AccessToken::new("hostile-test-token"),
        ClientConfig::default(),
    )
    .unwrap();
    let mut model = Model::new(
        query_view(Catalog::builtin()),
        Keymap::default(),
        Box::new(bridge.previewer()),
    );
    model.title = format!("hostile server at {}", server.base);
    // A few columns, so that the values are shown whole.
    for (prop, on) in &mut model.query.select.items {
        *on =
            ["displayName", "surname", "mail", "jobTitle", "companyName"].contains(&prop.as_str());
    }
    model.refresh_query();
    let mut runtime = Runtime::new(model, SharedClipboard::default(), bridge);
    run_scripted(&mut runtime, (240, 50), observe, (), script).await;
}

fn key(d: &support::explorer::Driver<Seen>, c: char) {
    d.press(c);
}

const RLO: char = '\u{202e}';

/// An item with an RLO (raw and as a JSON escape), an OSC title sequence ended by BEL, and a C1
/// CSI, in property values and in property names.
fn hostile_page(base: &str) -> String {
    format!(
        concat!(
            r#"{{"@odata.context":"{base}/v1.0/$metadata#contacts","value":["#,
            r#"{{"id":"6f1c452b-7c6a-4d21-9c2e-0d3c9b6a1e11","#,
            r#""displayName":"evil\u202Etxt.exe","#,
            r#""surname":"raw{rlo}override","#,
            r#""mail":"\u001b]0;pwned\u0007@x","#,
            r#""jobTitle":"a\u009b31mred","#,
            r#""na{rlo}me":"x","#,
            r#""ti\u001b]0;t\u0007tle":"y","#,
            r#""companyName":"bi\u2066di\u2069""#,
            r#"}}],"@odata.deltaLink":"{base}/v1.0/contacts/delta?$deltatoken=d{rlo}1"}}"#
        ),
        base = base,
        rlo = RLO
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_and_bidi_overrides_from_the_server_never_reach_the_screen_raw() {
    let server = Server::start_with(|base| {
        let page = hostile_page(base);
        move |n, _: &loopback::Recorded| match n {
            0 => Reply::json(200, page.clone()).header("x-evil", &format!("head{RLO}er")),
            _ => Reply::json(
                400,
                format!(
                    r#"{{"error":{{"code":"bad\u001b[2J","message":"no \u001b]52;c;cHdu\u0007 {RLO}way","innerError":{{"request-id":"r\u009b1"}}}}}}"#
                ),
            ),
        }
    })
    .await;
    explore(&server, |mut d| async move {
        key(&d, 'f');
        let s = d.wait("the page", |s| s.pages == 1).await;
        // The table: values escaped as JSON escapes them.
        for shown in [
            r"evil\u202etxt.exe",
            r"raw\u202eoverride",
            r"\u001b]0;pwned\u0007@x",
            r"a\u009b31mred",
            r"bi\u2066di\u2069",
            // The deltaLink in the pages list.
            r"$deltatoken=d\u202e1",
        ] {
            assert!(
                s.screen.contains(shown),
                "{shown} not on the screen\n{}",
                s.screen
            );
        }
        // The page's JSON: the raw override inside a string (and a name) as its JSON escape.
        assert!(
            s.screen.contains(r#""surname": "raw\u202eoverride""#),
            "{}",
            s.screen
        );
        assert!(s.screen.contains(r#""na\u202eme": "x""#), "{}", s.screen);
        // The object, then the headers.
        key(&d, '3');
        key(&d, 'o');
        let s = d
            .wait("the object view", |s| s.screen.contains("· object "))
            .await;
        assert!(
            s.screen.contains(r#""ti\u001b]0;t\u0007tle": "y""#),
            "{}",
            s.screen
        );
        key(&d, 'H');
        let s = d
            .wait("the headers view", |s| {
                s.screen.contains("Response headers")
            })
            .await;
        assert!(s.screen.contains(r"x-evil: head\u202eer"), "{}", s.screen);
        // A Graph error whose code, message and request-id carry escape sequences.
        key(&d, 'r');
        let s = d.wait("the error", |s| s.screen.contains("✗ 400")).await;
        for shown in [
            r"bad\u001b[2J",
            r"no \u001b]52;c;cHdu\u0007 \u202eway",
            r"r\u009b1",
        ] {
            assert!(
                s.screen.contains(shown),
                "{shown} not on the screen\n{}",
                s.screen
            );
        }
        assert!(s.raw.is_empty(), "raw on the screen: {:?}", s.raw);
        key(&d, 'q');
    })
    .await;
}

/// A page of `bytes` or so whose one item nests `depth` objects deep.
fn deep_page(base: &str, depth: usize) -> String {
    format!(
        r#"{{"value":[{{"id":"6f1c452b-7c6a-4d21-9c2e-0d3c9b6a1e11","displayName":"deep","deep":{}1{}}}],"@odata.deltaLink":"{base}/v1.0/contacts/delta?$deltatoken=d"}}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_item_is_shown_folded_off_the_ui_thread_in_linear_memory() {
    let server = Server::start_with(|base| {
        let page = deep_page(base, 100_000);
        assert!(page.len() > 512 * 1024, "{}", page.len());
        move |_, _: &loopback::Recorded| Reply::json(200, page.clone())
    })
    .await;
    explore(&server, |mut d| async move {
        key(&d, 'f');
        let s = d
            .wait("the page's JSON, folded", |s| {
                s.pages == 1 && !s.formatting && s.note.is_some()
            })
            .await;
        let note = s.note.clone().unwrap();
        assert!(note.contains("deeper than 64 levels"), "{note}");
        assert!(s.screen.contains("deeper than 64 levels"), "{}", s.screen);
        assert!(
            s.doc_bytes <= 2 * s.body_bytes,
            "{} bytes of document for a {}-byte body",
            s.doc_bytes,
            s.body_bytes
        );
        // The object alone, then a scroll to its deepest line: still drawn, still small.
        key(&d, '3');
        key(&d, 'o');
        let s = d
            .wait("the object, folded", |s| {
                s.screen.contains("· object ") && !s.formatting && s.note.is_some()
            })
            .await;
        assert!(s.doc_bytes <= 2 * s.body_bytes);
        key(&d, 'G');
        let s = d.wait("the end of the object", |s| s.json_top > 0).await;
        assert!(s.raw.is_empty(), "{:?}", s.raw);
        key(&d, 'q');
    })
    .await;
}

fn guid(i: usize) -> String {
    format!("{i:08x}-7c6a-4d21-9c2e-0d3c9b6a1e11")
}

/// A model on the contacts query with the engine's own previewer, the ids editor open.
fn ids_editor_model() -> Model {
    let root = GraphRoot::parse("https://graph.microsoft.com").unwrap();
    let mut m = Model::new(
        query_view(Catalog::builtin()),
        Keymap::default(),
        Box::new(EnginePreviewer::new(Catalog::builtin(), root)),
    );
    m.size = (160, 45);
    let row = m
        .query_fields()
        .iter()
        .position(|f| *f == QueryField::Ids)
        .unwrap();
    for _ in 0..row {
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
        );
    }
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(m.mode, Mode::EditIds);
    m
}

/// The fastest of five pastes of `n` ids (each into a fresh editor: a pause of the machine
/// must hit all five to count), and the model after one.
fn paste(n: usize) -> (Duration, Model) {
    let text: String = (0..n).map(|i| guid(i) + "\n").collect();
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..5 {
        let mut m = ids_editor_model();
        let t = Instant::now();
        update(&mut m, Msg::Paste(text.clone()));
        best = best.min(t.elapsed());
        last = Some(m);
    }
    (best, last.unwrap())
}

#[test]
fn pasting_10000_ids_is_linear_and_says_the_limit_first() {
    let (small, _) = paste(1_000);
    let (large, m) = paste(10_000);
    assert_eq!(m.ids_check.count, 10_000);
    let messages: Vec<(&str, bool)> = m
        .query
        .problems
        .iter()
        .filter(|p| p.field == "ids")
        .map(|p| (p.message.as_str(), p.is_error))
        .collect();
    // Valid GUIDs are not called malformed; the limit is the one thing to say.
    assert_eq!(
        messages,
        [(
            "10000 ids: at most 50 are allowed (Graph's limit for an id filter)",
            true
        )]
    );
    // Linear: ten times the ids, about ten times the time (quadratic would be a hundred).
    // Generous bounds: a busy two-core machine must not fail this.
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-4);
    eprintln!("paste: 1,000 ids {small:?}, 10,000 ids {large:?} (x{ratio:.1})");
    assert!(
        ratio < 40.0,
        "1,000 ids: {small:?}, 10,000 ids: {large:?} (x{ratio:.1})"
    );
    assert!(large < Duration::from_secs(2), "10,000 ids: {large:?}");
    // The frame after it: drawn from what the paste prepared.
    let mut m = m;
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let t = Instant::now();
    terminal.draw(|f| ui::draw(f, &m)).unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("10000 ids: at most 50 are allowed"),
        "{screen}"
    );
    // Malformed ids and repeats, after the limit, each said once.
    update(
        &mut m,
        Msg::Paste(format!("nope, {}; {}", guid(3), guid(60_000))),
    );
    let messages: Vec<&str> = m
        .query
        .problems
        .iter()
        .filter(|p| p.field == "ids")
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages[0].starts_with("10003 ids: at most 50"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("1 id is not a GUID on line 10001"),
        "{messages:?}"
    );
    assert_eq!(messages[2], "1 id is given twice on line 10002");
}

#[test]
fn a_pasted_line_of_ids_becomes_one_id_a_line() {
    let mut m = ids_editor_model();
    update(
        &mut m,
        Msg::Paste(format!("{}, {};{}\t{}", guid(1), guid(2), guid(3), guid(4))),
    );
    assert_eq!(m.query.ids, [guid(1), guid(2), guid(3), guid(4)]);
    assert!(m.query.problems.iter().all(|p| p.field != "ids"));
    let url = m.query.preview.url.clone().unwrap();
    assert!(url.contains(&guid(4)), "{url}");
}
