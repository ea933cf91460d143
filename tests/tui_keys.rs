//! The keymap as the one source of keys: hints that follow a remap, the help overlay that
//! scrolls at 80x24, and the keys of issue 12 (a new query, the latest page, follow on a
//! complete round), through `update` and drawn on ratatui's TestBackend.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deltascope::tui::app::{Effect, Focus, Mode, Model, Msg, help_page, refresh_json, update};
use deltascope::tui::keymap::{Action, Context, Keymap};
use deltascope::tui::ui;
use deltascope::tui::view::{FetchState, QueryView};
use fixtures::FakePreviewer;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

fn model_with(q: QueryView, keymap: Keymap) -> Model {
    let mut m = Model::new(q, keymap, Box::new(FakePreviewer));
    let greeting = format!(
        "press {} to fetch the first page",
        keymap_label(&m, Action::FetchNext)
    );
    update(
        &mut m,
        Msg::StartUp(deltascope::tui::app::StartUp {
            title: "demo tenant (embedded emulator) http://127.0.0.1:PORT".into(),
            signed_in: Some("the demo token".into()),
            greeting,
            theme: Box::new(deltascope::tui::theme::Theme::dark()),
            resume: None,
        }),
    );
    m
}

fn keymap_label(m: &Model, a: Action) -> String {
    m.keymap.key_label(Context::Global, a)
}

/// Round 1 complete and round 2 (minimal) complete, as a session that fetched them.
fn session_with(keymap: Keymap) -> Model {
    let mut m = model_with(fixtures::contacts_query(), keymap);
    fixtures::with_contacts_session(&mut m, false);
    m.fetch.state = FetchState::RoundComplete {
        delta_link: m.rounds[1].delta_link.clone(),
    };
    refresh_json(&mut m);
    m
}

fn session() -> Model {
    session_with(Keymap::default())
}

fn press(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(m: &mut Model, c: char) -> Vec<Effect> {
    press(m, KeyCode::Char(c))
}

fn ctrl(m: &mut Model, c: char) -> Vec<Effect> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn render(m: &mut Model, w: u16, h: u16) -> String {
    update(
        m,
        Msg::Resize {
            width: w,
            height: h,
        },
    );
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    t.backend().to_string()
}

fn notice(m: &Model) -> String {
    m.notice_text().unwrap_or_default().to_owned()
}

// ---- the help overlay ----

#[test]
fn help_at_80x24_says_there_is_more_and_scrolls_to_its_end() {
    let mut m = session();
    render(&mut m, 80, 24);
    ch(&mut m, '?');
    let top = render(&mut m, 80, 24);
    assert!(top.contains("more below"), "{top}");
    assert!(!top.contains("more above"), "{top}");
    insta::assert_snapshot!("help_80x24_top", top);
    // The last section is out of sight at first; the page key brings it in.
    let last = Context::ALL[Context::ALL.len() - 1].title();
    assert!(!top.contains(last), "{top}");
    let page = help_page(&m.keymap, Rect::new(0, 0, 80, 24));
    let mut presses = 0;
    while m.help_scroll < page.max_scroll() {
        press(&mut m, KeyCode::PageDown);
        presses += 1;
        assert!(presses < 20, "page down does not reach the end");
    }
    let end = render(&mut m, 80, 24);
    assert!(end.contains(last), "{end}");
    assert!(
        end.contains("more above") && !end.contains("more below"),
        "{end}"
    );
    insta::assert_snapshot!("help_80x24_end", end);
    // Past the end it stays; up goes back a line; the help key closes it.
    press(&mut m, KeyCode::PageDown);
    assert_eq!(m.help_scroll, page.max_scroll());
    ch(&mut m, 'k');
    assert_eq!(m.help_scroll, page.max_scroll() - 1);
    ch(&mut m, '?');
    assert_eq!(m.mode, Mode::Normal);
    // Reopened, it starts at the top.
    ch(&mut m, '?');
    assert_eq!(m.help_scroll, 0);
}

#[test]
fn help_at_160x45() {
    let mut m = session();
    ch(&mut m, '?');
    let out = render(&mut m, 160, 45);
    insta::assert_snapshot!("help_160x45", out);
}

#[test]
fn a_smaller_screen_brings_the_help_scroll_back_in_range() {
    let mut m = session();
    render(&mut m, 80, 24);
    ch(&mut m, '?');
    press(&mut m, KeyCode::End);
    let far = m.help_scroll;
    assert!(far > 0);
    render(&mut m, 200, 80);
    assert_eq!(m.help_scroll, 0, "everything fits: nothing to scroll");
    assert!(far > 0);
}

// ---- hints follow a remap ----

const REMAP: &str = r#"
[global]
cancel = ["z"]
help = ["f2"]
next_round = ["ctrl-r"]
follow_round = ["W"]
new_query = ["alt-n"]
fetch_next = ["f6"]

[json]
search = ["s"]

[overlay]
back = ["backspace"]

[profiles]
activate = ["space"]
back = ["delete"]

[ids_editor]
back = ["f10"]

[query]
activate = ["e"]

[line_input]
activate = ["ctrl-s"]
back = ["f9"]
"#;

#[test]
fn every_hint_names_the_remapped_key() {
    let keymap = Keymap::with_overlay(REMAP).unwrap();
    let mut m = session_with(keymap.clone());

    // A fetch already running: the cancel key of the keymap.
    m.fetch.state = FetchState::Fetching {
        page: 3,
        since: m.now,
        follow: false,
    };
    ctrl(&mut m, 'r');
    assert_eq!(notice(&m), "a fetch is already running (z cancels)");
    ch(&mut m, 'z');
    assert_eq!(notice(&m), "fetch cancelled");

    // Follow on a complete round: says which key starts the next one.
    m.fetch.state = FetchState::RoundComplete {
        delta_link: m.rounds[1].delta_link.clone(),
    };
    let effects = ch(&mut m, 'W');
    assert!(effects.is_empty(), "{effects:?}");
    assert!(
        notice(&m).contains("ctrl-r starts round 3"),
        "{}",
        notice(&m)
    );

    // No search yet: the search key.
    update(&mut m, Msg::Action(Action::FocusJson));
    ch(&mut m, 'n');
    assert_eq!(notice(&m), "no matches (s to search)");

    // A one-line input: its confirm and cancel keys, in the status bar and in effect.
    ch(&mut m, 's');
    assert!(matches!(m.mode, Mode::Line { .. }));
    let typing = render(&mut m, 160, 45);
    assert!(
        typing.contains(" ctrl-s  confirm  f9  cancel  ctrl-c  quit "),
        "{typing}"
    );
    press(&mut m, KeyCode::Esc);
    assert!(
        matches!(m.mode, Mode::Line { .. }),
        "esc is not this keymap's"
    );
    press(&mut m, KeyCode::F(9));
    assert_eq!(m.mode, Mode::Normal);
    ch(&mut m, 's');
    ch(&mut m, 'D');
    ctrl(&mut m, 's');
    assert_eq!(m.mode, Mode::Normal);
    assert!(notice(&m).contains("matches for \"D\""), "{}", notice(&m));

    // The help's title, and its hints in the status bar.
    press(&mut m, KeyCode::F(2));
    assert_eq!(m.mode, Mode::Help);
    let help = render(&mut m, 160, 45);
    assert!(
        help.contains("Keys (from the keymap; f2 or backspace closes;"),
        "{help}"
    );
    assert!(help.contains(" backspace  close "), "{help}");
    press(&mut m, KeyCode::Backspace);
    assert_eq!(m.mode, Mode::Normal);

    // The token inspector's title.
    update(&mut m, Msg::Action(Action::InspectToken));
    let token = render(&mut m, 160, 45);
    assert!(token.contains("backspace closes"), "{token}");
    press(&mut m, KeyCode::Backspace);
    assert_eq!(m.mode, Mode::Normal);

    // The profile picker's title.
    update(&mut m, Msg::Action(Action::SwitchProfile));
    let picker = render(&mut m, 160, 45);
    assert!(
        picker.contains("Sign in with a profile (space signs in, del closes)"),
        "{picker}"
    );
    press(&mut m, KeyCode::Delete);
    assert_eq!(m.mode, Mode::Normal);

    // The new query's question names its keys; the greeting of an empty session its fetch key.
    let mut fresh = model_with(fixtures::contacts_query(), keymap);
    fresh.focus = Focus::Query;
    let ids_row = fresh
        .query_fields()
        .iter()
        .position(|f| *f == deltascope::tui::app::QueryField::Ids)
        .unwrap();
    fresh.query_cursor = ids_row;
    let screen = render(&mut fresh, 160, 45);
    assert!(
        screen.contains("press f6 to fetch the first page"),
        "{screen}"
    );
    assert!(screen.contains("(e to edit, paste a list)"), "{screen}");
    ch(&mut fresh, 'e');
    assert_eq!(fresh.mode, Mode::EditIds);
    let editing = render(&mut fresh, 160, 45);
    assert!(editing.contains("f10: done"), "{editing}");
}

#[test]
fn an_unbound_key_is_named_as_such_never_as_another_key() {
    let keymap = Keymap::with_overlay("[global]\ncancel = []\n").unwrap();
    let mut m = session_with(keymap);
    m.fetch.state = FetchState::Fetching {
        page: 3,
        since: m.now,
        follow: false,
    };
    ch(&mut m, 'f');
    assert_eq!(
        notice(&m),
        "a fetch is already running ([cancel has no key] cancels)"
    );
}

// ---- F on a complete round ----

#[test]
fn follow_on_a_complete_round_starts_nothing_and_says_how_to_go_on() {
    let mut m = session();
    let effects = ch(&mut m, 'F');
    assert!(effects.is_empty(), "{effects:?}");
    assert!(!m.fetch.in_flight());
    assert_eq!(
        notice(&m),
        "round 2 is complete (deltaLink stored): r starts round 3, then F follows it"
    );
    // r does start it.
    let effects = ch(&mut m, 'r');
    assert!(
        matches!(effects[..], [Effect::NextRound { .. }]),
        "{effects:?}"
    );
}

// ---- the latest page ----

#[test]
fn the_latest_page_key_selects_the_last_page_of_the_last_round() {
    let mut m = session();
    m.sel_round = 0;
    m.sel_page = 1;
    m.sel_row = 2;
    ch(&mut m, '>');
    let last = m.rounds[1].pages.len() - 1;
    assert_eq!((m.sel_round, m.sel_page, m.sel_row), (1, last, 0));
}

// ---- a new query ----

#[test]
fn a_new_query_asks_then_keeps_the_rounds_as_an_earlier_query() {
    let mut m = session();
    // On the last page: the new query's first page is selected when it comes.
    ch(&mut m, '>');
    ctrl(&mut m, 'n');
    assert_eq!(m.mode, Mode::NewQuery);
    let asked = render(&mut m, 100, 30);
    insta::assert_snapshot!("new_query_question", asked);
    ch(&mut m, 'k');
    assert_eq!(m.mode, Mode::Normal);
    assert!(!m.query.frozen, "the options are still frozen");
    assert_eq!(m.rounds.len(), 2);
    assert_eq!(m.kept_rounds, 2);
    assert_eq!(m.focus, Focus::Query);
    let shown = render(&mut m, 160, 45);
    assert_eq!(shown.matches("· earlier query").count(), 2, "{shown}");
    assert!(
        notice(&m).contains("2 rounds kept, marked \"earlier query\""),
        "{}",
        notice(&m)
    );
    // The kept rounds are never continued: r has nothing of this query to go on from.
    let effects = ch(&mut m, 'r');
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        notice(&m),
        "this query has no round yet: f sends its first request"
    );
    // The builder is editable again: minimal toggles.
    let before = m.query.minimal;
    ch(&mut m, 'm');
    assert_ne!(m.query.minimal, before);
    // The next fetch starts a new session from the first request.
    let effects = ch(&mut m, 'f');
    assert!(matches!(effects[..], [Effect::Start { .. }]), "{effects:?}");
    assert!(m.query.frozen);
    let run_id = m.fetch.run_id;
    let page = fixtures::contacts_round1().pages[0].clone();
    update(
        &mut m,
        Msg::PageArrived {
            run_id,
            round: 1,
            page,
        },
    );
    // Its round 1 is a round of its own, after the kept ones, and selected.
    assert_eq!(m.rounds.len(), 3);
    assert_eq!(m.rounds[2].pages.len(), 1);
    assert_eq!(m.rounds[0].pages.len(), 3, "the kept round 1 grew");
    assert_eq!((m.sel_round, m.sel_page), (2, 0));
    let shown = render(&mut m, 160, 45);
    assert!(
        shown.contains("Round 2 · earlier query · changes"),
        "{shown}"
    );
    assert!(shown.contains("Round 1 · initial · in progress"), "{shown}");
}

#[test]
fn a_new_query_can_drop_the_rounds_or_be_cancelled() {
    let mut m = session();
    ctrl(&mut m, 'n');
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.mode, Mode::Normal);
    assert!(m.query.frozen && m.rounds.len() == 2);
    assert_eq!(notice(&m), "the query stays as it is");
    ctrl(&mut m, 'n');
    ch(&mut m, 'd');
    assert!(!m.query.frozen);
    assert!(m.rounds.is_empty());
    assert_eq!(m.kept_rounds, 0);
    assert!(notice(&m).contains("2 rounds dropped"), "{}", notice(&m));
}

#[test]
fn a_new_query_cancels_the_running_fetch() {
    let mut m = session();
    m.fetch.state = FetchState::Fetching {
        page: 1,
        since: m.now,
        follow: true,
    };
    let run_id = m.fetch.run_id;
    ctrl(&mut m, 'n');
    let effects = ch(&mut m, 'k');
    assert!(
        matches!(effects[..], [Effect::Cancel { run_id: r }] if r == run_id),
        "{effects:?}"
    );
    assert!(!m.fetch.in_flight());
    assert!(notice(&m).contains("the running fetch was cancelled"));
    // A late page of the cancelled run is dropped.
    let page = fixtures::contacts_round1().pages[0].clone();
    update(
        &mut m,
        Msg::PageArrived {
            run_id,
            round: 3,
            page,
        },
    );
    assert_eq!(m.rounds.len(), 2);
}

#[test]
fn a_new_query_before_anything_was_sent_has_nothing_to_do() {
    let mut m = model_with(fixtures::contacts_query(), Keymap::default());
    let effects = ctrl(&mut m, 'n');
    assert!(effects.is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert!(
        notice(&m).contains("nothing was sent yet"),
        "{}",
        notice(&m)
    );
}

#[test]
fn a_new_sign_in_drops_the_kept_rounds_too() {
    let mut m = session();
    ctrl(&mut m, 'n');
    ch(&mut m, 'k');
    assert_eq!(m.kept_rounds, 2);
    let effects = update(&mut m, Msg::Action(Action::SignInAgain));
    let attempt = match effects[..] {
        [Effect::SignIn { attempt, .. }] => attempt,
        _ => panic!("{effects:?}"),
    };
    update(
        &mut m,
        Msg::SignedIn {
            attempt,
            who: "someone else".into(),
            title: "another tenant".into(),
            root: "https://graph.microsoft.com".into(),
        },
    );
    assert!(m.rounds.is_empty());
    assert_eq!(m.kept_rounds, 0, "rounds to come would count as kept");
    // The next session's first page is a round of this query, selected.
    ch(&mut m, 'f');
    let run_id = m.fetch.run_id;
    let page = fixtures::contacts_round1().pages[0].clone();
    update(
        &mut m,
        Msg::PageArrived {
            run_id,
            round: 1,
            page,
        },
    );
    assert_eq!(m.current_rounds().len(), 1);
}
