//! Text that must be read whole (issue 12, defect 5): error lines and request-ids in the status
//! bar, long links and headers in the JSON pane, GUIDs in the id editor, the request preview's
//! headers under a long URL. Each is driven through `update` with keys and drawn on a
//! TestBackend at 160x45 and 80x24.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deltascope::tui::app::{
    Focus, JsonTarget, Model, Msg, QueryField, areas, refresh_json, update,
};
use deltascope::tui::keymap::Action;
use deltascope::tui::ui;
use deltascope::tui::view::{ErrorView, FetchState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

const SIZES: [(u16, u16); 2] = [(160, 45), (80, 24)];

use fixtures::model;

/// A contacts session: round 1 (3 pages, the last with the deltaLink) and round 2.
fn session() -> Model {
    let mut m = model(fixtures::contacts_query());
    fixtures::with_contacts_session(&mut m, false);
    m
}

fn resize(m: &mut Model, (w, h): (u16, u16)) {
    update(
        m,
        Msg::Resize {
            width: w,
            height: h,
        },
    );
}

fn press(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn render(m: &Model) -> String {
    let (w, h) = m.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    t.backend().to_string()
}

/// The screen's rows without the quotes TestBackend puts around them.
fn rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| {
            let l = l.strip_prefix('"').unwrap_or(l);
            let end = l.rfind('"').unwrap_or(l.len());
            l[..end].to_owned()
        })
        .collect()
}

/// The screen's rows joined without their line breaks or the spaces at their ends: a text
/// wrapped over rows reads as one.
fn joined(screen: &str) -> String {
    rows(screen)
        .iter()
        .map(|r| r.trim_end_matches([' ', '│', '┃']).to_owned())
        .collect::<Vec<_>>()
        .join("")
}

const REQUEST_ID: &str = "b1c2d3e4-5f60-4718-8a9b-0c1d2e3f4a5b";
const MESSAGE: &str = "Invalid filter clause: the property 'mailNickname' cannot be used in a \
    $filter of a delta query on orgContact; a delta query may filter on id only, with at most \
    50 ids joined by 'or'. Remove the clause or use the id filter. (see the known issues)";

fn failed(m: &mut Model) {
    m.fetch.state = FetchState::Failed {
        error: ErrorView {
            status: Some(400),
            code: Some("BadRequest".into()),
            message: MESSAGE.into(),
            request_id: Some(REQUEST_ID.into()),
            hint: Some(
                "the server refused the query: change it (a new query) and fetch again".into(),
            ),
            needs_resync: false,
            token_problems: Vec::new(),
        },
    };
}

#[test]
fn an_error_line_wraps_and_its_request_id_is_whole() {
    let mut m = session();
    failed(&mut m);
    for size in SIZES {
        resize(&mut m, size);
        let screen = render(&m);
        // The request-id on one row, whole: it is pasted into support tickets.
        assert!(
            rows(&screen).iter().any(|r| r.contains(REQUEST_ID)),
            "{screen}"
        );
        let all = joined(&screen);
        for word in ["Invalid", "known", "issues)", "again"] {
            assert!(
                all.contains(word),
                "{word:?} missing at {size:?}:\n{screen}"
            );
        }
        // The panes above keep their room: the status bar is bounded.
        let status_rows = rows(&screen)
            .iter()
            .rev()
            .take_while(|r| !r.starts_with('┗') && !r.starts_with('└'))
            .count();
        assert!(status_rows <= 8, "{status_rows} status rows:\n{screen}");
        insta::assert_snapshot!(format!("error_status_{}x{}", size.0, size.1), screen);
    }
}

/// What the JSON pane's body shows, rows joined, without the line-number gutter: a line
/// wrapped over rows reads as one.
fn json_text(m: &Model) -> String {
    let (w, h) = m.size;
    let screen = Rect::new(0, 0, w, h);
    let a = areas(screen, m.status_height(screen), false).unwrap();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    let buf = t.backend().buffer();
    let gutter = m.json.doc.line_count().to_string().len() + 1;
    let gutter = u16::try_from(gutter).unwrap();
    let mut out = String::new();
    for y in a.json.y + 1..a.json.y + a.json.height - 2 {
        for x in a.json.x + 1 + gutter..a.json.x + a.json.width - 1 {
            out.push_str(buf[(x, y)].symbol());
        }
    }
    out
}

/// A long link in the JSON pane can be read to its end, sideways or wrapped.
#[test]
fn a_long_link_in_the_json_pane_scrolls_sideways_and_wraps() {
    let mut m = session();
    let delta = m.rounds[0].delta_link.clone().unwrap();
    let tail = &delta[delta.len() - 12..];
    m.sel_page = 2;
    m.focus = Focus::Json;
    refresh_json(&mut m);
    for size in SIZES {
        resize(&mut m, size);
        // The page's links come first (its keys are in order).
        press(&mut m, KeyCode::Home);
        let before = render(&m);
        assert!(before.contains("@odata.deltaLink"), "{before}");
        assert!(!before.contains(tail), "{before}");
        // Sideways: → until the end of the link shows.
        let mut presses = 0;
        while !render(&m).contains(tail) {
            press(&mut m, KeyCode::Right);
            presses += 1;
            assert!(presses < 10, "{}", render(&m));
        }
        assert!(render(&m).contains("from column"), "{}", render(&m));
        for _ in 0..presses {
            press(&mut m, KeyCode::Left);
        }
        assert_eq!(m.json.left, 0);
        // Wrapped: the whole link at once.
        press(&mut m, KeyCode::Char('w'));
        let wrapped = render(&m);
        assert!(json_text(&m).contains(&delta), "{wrapped}");
        assert!(wrapped.contains("wrapped"), "{wrapped}");
        insta::assert_snapshot!(
            format!("json_deltalink_wrapped_{}x{}", size.0, size.1),
            wrapped
        );
        press(&mut m, KeyCode::Char('w'));
        assert!(!m.json.wrap);
    }
}

/// The headers view: the request URL and every header value can be read whole.
#[test]
fn long_headers_wrap_in_the_headers_view() {
    let mut m = session();
    let long = format!(
        "{}&$filter={}",
        fixtures::CONTACTS_URL,
        (1..=6)
            .map(|i| format!("id eq '{}'", fixtures::guid(i)))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    m.rounds[0].pages[0].url = long.clone();
    m.focus = Focus::Json;
    m.json_target = JsonTarget::Headers;
    refresh_json(&mut m);
    let end = format!("{}'", &fixtures::guid(6)[24..]);
    for size in SIZES {
        resize(&mut m, size);
        let cut = render(&m);
        assert!(!cut.contains(&end), "{cut}");
        // Sideways to the URL's end.
        let mut presses = 0;
        while !render(&m).contains(&end) {
            press(&mut m, KeyCode::Char('l'));
            presses += 1;
            assert!(presses < 40, "{}", render(&m));
        }
        for _ in 0..presses {
            press(&mut m, KeyCode::Char('h'));
        }
        // Wrapped: the whole URL, and the headers under it (a line takes at most the pane's
        // rows: at 80x24 the URL takes them all, and ↓ brings the headers).
        press(&mut m, KeyCode::Char('w'));
        let wrapped = render(&m);
        if size == (160, 45) {
            assert!(json_text(&m).contains(&long), "{wrapped}");
        } else {
            press(&mut m, KeyCode::Down);
        }
        let wrapped = render(&m);
        assert!(wrapped.contains("Bearer ***"), "{wrapped}");
        insta::assert_snapshot!(
            format!("json_headers_wrapped_{}x{}", size.0, size.1),
            wrapped
        );
        press(&mut m, KeyCode::Char('w'));
    }
}

fn open_ids_editor(m: &mut Model) {
    m.focus = Focus::Query;
    m.query_cursor = m
        .query_fields()
        .iter()
        .position(|f| *f == QueryField::Ids)
        .unwrap();
    update(m, Msg::Action(Action::Activate));
}

#[test]
fn the_id_editor_shows_guids_whole() {
    let ids: Vec<String> = (1..=3).map(fixtures::guid).collect();
    for size in SIZES {
        let mut m = model(fixtures::contacts_query());
        resize(&mut m, size);
        open_ids_editor(&mut m);
        update(&mut m, Msg::Paste(ids.join("\n")));
        let screen = render(&m);
        // In the editor (inside its border), not only in the preview's URL.
        for id in &ids {
            assert!(
                screen.contains(&format!("│{id} ")),
                "{id} cut at {size:?}:\n{screen}"
            );
        }
        insta::assert_snapshot!(format!("ids_editor_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn the_request_preview_keeps_every_header_under_a_long_url() {
    let ids: Vec<String> = (1..=40).map(fixtures::guid).collect();
    for size in SIZES {
        let mut m = model(fixtures::contacts_query());
        resize(&mut m, size);
        update(&mut m, Msg::Action(Action::ToggleMinimal));
        open_ids_editor(&mut m);
        update(&mut m, Msg::Paste(ids.join("\n")));
        press(&mut m, KeyCode::Esc);
        let screen = render(&m);
        let preview_row = |what: &str| {
            rows(&screen)
                .iter()
                .any(|r| r.chars().skip(1).collect::<String>().starts_with(what))
        };
        assert!(preview_row("GET "), "{screen}");
        assert!(preview_row("Authorization: Bearer ***"), "{screen}");
        assert!(preview_row("Prefer: return=minimal"), "{screen}");
        // The URL that does not fit says how to get it whole.
        assert!(screen.contains("C copies it"), "{screen}");
        insta::assert_snapshot!(format!("request_preview_{}x{}", size.0, size.1), screen);
    }
}
