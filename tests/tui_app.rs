//! Key-driven flows through `update` and through the runtime with an injected event stream, a
//! fake engine answering effects with page messages, and a recording clipboard.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::collections::VecDeque;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use deltascope::tui::app::{Effect, Focus, Mode, Model, Msg, QueryField, update};
use deltascope::tui::clipboard::{CopyMethod, RecordingClipboard};
use deltascope::tui::keymap::{Action, Keymap};
use deltascope::tui::runtime::{EffectHandler, Runtime};
use deltascope::tui::view::{FetchState, PageView, QueryView};
use fixtures::FakePreviewer;
use futures_util::stream;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::UnboundedSender;

fn model(q: QueryView) -> Model {
    let mut m = Model::new(q, Keymap::default(), Box::new(FakePreviewer));
    m.size = (160, 45);
    m
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn ev(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Answers fetch effects with the fixture pages, in order, as the engine would.
#[derive(Default)]
struct FakeEngine {
    pages: VecDeque<(u32, PageView)>,
    effects: Vec<Effect>,
}

impl FakeEngine {
    fn contacts() -> Self {
        let mut pages = VecDeque::new();
        for p in fixtures::contacts_round1().pages {
            pages.push_back((1, p));
        }
        for p in fixtures::contacts_round2_minimal().pages {
            pages.push_back((2, p));
        }
        Self {
            pages,
            effects: Vec::new(),
        }
    }

    fn send_one(&mut self, run_id: u64, tx: &UnboundedSender<Msg>) -> bool {
        let Some((round, page)) = self.pages.pop_front() else {
            return false;
        };
        let delta = page.delta_link.clone();
        tx.send(Msg::PageArrived {
            run_id,
            round,
            page,
        })
        .unwrap();
        if delta.is_some() {
            tx.send(Msg::RoundComplete {
                run_id,
                round,
                summary_line: Some(format!("round {round}: done")),
                delta_link: delta,
            })
            .unwrap();
            return false;
        }
        true
    }
}

impl EffectHandler for FakeEngine {
    fn handle(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        self.effects.push(effect.clone());
        match effect {
            Effect::Start {
                run_id,
                follow: false,
                ..
            }
            | Effect::FetchNext { run_id }
            | Effect::NextRound { run_id } => {
                self.send_one(run_id, tx);
            }
            Effect::Start {
                run_id,
                follow: true,
                ..
            }
            | Effect::FollowRound { run_id } => while self.send_one(run_id, tx) {},
            Effect::CopyAccessToken => tx
                .send(Msg::CopyRequest {
                    what: deltascope::tui::app::CopyWhat::AccessToken,
                    text: "eyJ.token".into(),
                })
                .unwrap(),
            _ => {}
        }
    }
}

#[test]
fn focus_cycles_with_tab_and_numbers() {
    let mut m = model(fixtures::contacts_query());
    assert_eq!(m.focus, Focus::Query);
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(m.focus, Focus::Results);
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(m.focus, Focus::Json);
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(m.focus, Focus::Query);
    update(&mut m, code(KeyCode::BackTab));
    assert_eq!(m.focus, Focus::Json);
    update(&mut m, key('2'));
    assert_eq!(m.focus, Focus::Results);
}

#[test]
fn mouse_click_focuses_and_wheel_scrolls() {
    let mut m = model(fixtures::contacts_query());
    m.rounds = vec![fixtures::contacts_round1()];
    deltascope::tui::app::refresh_json(&mut m);
    // The JSON pane is bottom right at 160x45.
    let click = |kind| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 120,
            row: 40,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(
        &mut m,
        click(MouseEventKind::Down(crossterm::event::MouseButton::Left)),
    );
    assert_eq!(m.focus, Focus::Json);
    update(&mut m, click(MouseEventKind::ScrollDown));
    assert_eq!(m.json.top, 3);
}

#[test]
fn help_overlay_opens_and_closes_without_quitting() {
    let mut m = model(fixtures::contacts_query());
    update(&mut m, key('?'));
    assert_eq!(m.mode, Mode::Help);
    let fx = update(&mut m, key('q'));
    assert!(fx.is_empty());
    assert_eq!(m.mode, Mode::Normal);
    update(&mut m, key('?'));
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.mode, Mode::Normal);
    assert!(!m.quit);
}

#[test]
fn ctrl_c_quits_even_in_a_text_field() {
    let mut m = model(fixtures::contacts_query());
    m.mode = Mode::EditIds;
    let fx = update(&mut m, ctrl('c'));
    assert_eq!(fx, vec![Effect::Quit]);
    assert!(m.quit);
}

#[test]
fn copy_delta_link_produces_a_copy_effect() {
    let mut m = model(fixtures::contacts_query());
    m.rounds = vec![fixtures::contacts_round1()];
    let fx = update(&mut m, key('D'));
    let delta = fixtures::contacts_round1().delta_link.unwrap();
    assert_eq!(
        fx,
        vec![Effect::Copy {
            what: deltascope::tui::app::CopyWhat::DeltaLink,
            text: delta
        }]
    );
    // Nothing to copy: a message, no effect.
    let mut empty = model(fixtures::contacts_query());
    assert!(update(&mut empty, key('D')).is_empty());
    assert!(empty.notice_text().unwrap().contains("no deltaLink"));
}

#[test]
fn search_in_json_finds_and_steps_through_matches() {
    let mut m = model(fixtures::contacts_query());
    m.rounds = vec![fixtures::contacts_round1()];
    deltascope::tui::app::refresh_json(&mut m);
    update(&mut m, key('3'));
    update(&mut m, key('/'));
    for c in "SUZUKI".chars() {
        update(&mut m, key(c));
    }
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mode, Mode::Normal);
    // displayName and mail of contact 1 (page 1 has contacts 0..6: Suzuki is 1).
    assert_eq!(m.json.matches.len(), 2, "{:?}", m.notice_text());
    assert!(m.notice_text().unwrap().contains("2 matches"));
    update(&mut m, key('n'));
    assert_eq!(m.json.current, 1);
    update(&mut m, key('n'));
    assert_eq!(m.json.current, 0);
    update(&mut m, key('N'));
    assert_eq!(m.json.current, 1);
}

#[test]
fn ids_typed_on_one_line_with_commas_or_spaces_are_each_an_id() {
    let mut m = model(fixtures::contacts_query());
    let ids_row = m
        .query_fields()
        .iter()
        .position(|f| *f == QueryField::Ids)
        .unwrap();
    for _ in 0..ids_row {
        update(&mut m, code(KeyCode::Down));
    }
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mode, Mode::EditIds);
    // Typed, not pasted: three ids on one line.
    let typed = format!(
        "{}, {} {}",
        fixtures::guid(1),
        fixtures::guid(2),
        fixtures::guid(3)
    );
    for c in typed.chars() {
        update(&mut m, key(c));
    }
    assert_eq!(m.ids_check.count, 3);
    assert_eq!(m.ids_check.lines, vec![None]);
    assert_eq!(m.query.draft().ids.len(), 3);
    assert!(
        m.query.problems.iter().all(|p| p.field != "ids"),
        "{:?}",
        m.query.problems
    );
    let url = m.query.preview.url.clone().unwrap();
    for i in 1..=3 {
        assert!(
            url.contains(&format!("id eq '{}'", fixtures::guid(i))),
            "{url}"
        );
    }
}

#[test]
fn ids_editor_counts_validates_and_feeds_the_preview() {
    let mut m = model(fixtures::contacts_query());
    let ids_row = m
        .query_fields()
        .iter()
        .position(|f| *f == QueryField::Ids)
        .unwrap();
    for _ in 0..ids_row {
        update(&mut m, code(KeyCode::Down));
    }
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mode, Mode::EditIds);
    update(
        &mut m,
        Msg::Paste(format!("{},{}", fixtures::guid(1), fixtures::guid(2))),
    );
    // Typing goes to the editor, not to the keymap ('q' does not quit here).
    update(&mut m, code(KeyCode::Enter));
    for c in "qqq".chars() {
        update(&mut m, key(c));
    }
    assert!(!m.quit);
    assert_eq!(m.query.draft().ids.len(), 3);
    assert!(
        m.query
            .problems
            .iter()
            .any(|p| p.field == "ids" && p.message.contains("1 id is not a GUID")),
        "{:?}",
        m.query.problems
    );
    let url = m.query.preview.url.clone().unwrap();
    assert!(
        url.contains(&format!("id eq '{}'", fixtures::guid(2))),
        "{url}"
    );
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.mode, Mode::Normal);

    // 51 ids: over the limit, an error, and fetching is refused.
    let many: Vec<String> = (0..51).map(fixtures::guid).collect();
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, Msg::Paste(many.join("\n")));
    update(&mut m, code(KeyCode::Esc));
    assert!(
        m.query
            .problems
            .iter()
            .any(|p| p.is_error && p.field == "ids")
    );
    assert!(update(&mut m, key('f')).is_empty());
    assert!(m.notice_text().unwrap().contains("fix the query first"));
}

/// Delivers `page` of `round` as the answer of the run in flight.
fn arrive(m: &mut Model, round: u32, page: PageView) {
    let run_id = m.fetch.run_id;
    update(
        m,
        Msg::PageArrived {
            run_id,
            round,
            page,
        },
    );
}

#[test]
fn a_progress_notice_ends_with_the_request_it_describes() {
    let mut m = model(fixtures::contacts_query());
    update(&mut m, key('f'));
    assert!(m.notice_text().unwrap().starts_with("first request sent"));
    let round1 = fixtures::contacts_round1();
    arrive(&mut m, 1, round1.pages[0].clone());
    assert_eq!(m.notice_text(), None, "the first page arrived");
    for page in &round1.pages[1..] {
        update(&mut m, key('f'));
        arrive(&mut m, 1, page.clone());
    }
    assert!(matches!(m.fetch.state, FetchState::RoundComplete { .. }));
    // The next round's first page (of several) answers the call of the deltaLink: the notice
    // that said it was being called must not stay.
    update(&mut m, Msg::Action(Action::NextRound));
    assert_eq!(
        m.notice_text(),
        Some("round 2: calling the deltaLink"),
        "{:?}",
        m.notice
    );
    arrive(&mut m, 2, round1.pages[0].clone());
    assert_eq!(m.fetch.state, FetchState::Idle);
    assert_eq!(m.notice_text(), None, "a stale \"calling the deltaLink\"");
    // A cancelled run says so, and that stays: it is the answer to the key.
    update(&mut m, key('f'));
    update(&mut m, key('x'));
    assert_eq!(m.notice_text(), Some("fetch cancelled"));
}

#[test]
fn fix_the_query_first_ends_when_the_query_is_fixed() {
    let mut m = model(fixtures::contacts_query());
    let ids_row = m
        .query_fields()
        .iter()
        .position(|f| *f == QueryField::Ids)
        .unwrap();
    for _ in 0..ids_row {
        update(&mut m, code(KeyCode::Down));
    }
    let many: Vec<String> = (0..51).map(fixtures::guid).collect();
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, Msg::Paste(many.join("\n")));
    update(&mut m, code(KeyCode::Esc));
    assert!(update(&mut m, key('f')).is_empty());
    assert!(m.notice_text().unwrap().contains("fix the query first"));
    // Another edit that leaves an error: the refusal still holds.
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Backspace));
    assert!(m.notice_text().unwrap().contains("fix the query first"));
    // Removing the 51st line (the rest of its 36 characters and its line break) fixes it:
    // the refusal goes with the error.
    for _ in 0..36 {
        update(&mut m, code(KeyCode::Backspace));
    }
    update(&mut m, code(KeyCode::Esc));
    assert!(
        m.query.problems.iter().all(|p| !p.is_error),
        "{:?}",
        m.query.problems
    );
    assert_eq!(m.notice_text(), None, "a stale \"fix the query first\"");
    assert!(
        !update(&mut m, key('f')).is_empty(),
        "the fetch goes out now"
    );
}

#[test]
fn stale_run_results_are_dropped() {
    let mut m = model(fixtures::contacts_query());
    let fx = update(&mut m, key('f'));
    let Effect::Start { run_id, .. } = fx[0].clone() else {
        panic!("{fx:?}")
    };
    assert!(m.query.frozen);
    let fx = update(&mut m, key('x'));
    assert_eq!(fx, vec![Effect::Cancel { run_id }]);
    let page = fixtures::contacts_round1().pages[0].clone();
    update(
        &mut m,
        Msg::PageArrived {
            run_id,
            round: 1,
            page: page.clone(),
        },
    );
    assert!(m.rounds.is_empty());
    assert_eq!(m.dropped_stale, 1);
    assert_eq!(m.fetch.state, FetchState::Idle);
    // A new fetch gets a new run id; its page is accepted.
    let fx = update(&mut m, key('f'));
    let Effect::FetchNext { run_id: fresh } = fx[0] else {
        panic!("{fx:?}")
    };
    assert_ne!(fresh, run_id);
    update(
        &mut m,
        Msg::PageArrived {
            run_id: fresh,
            round: 1,
            page,
        },
    );
    assert_eq!(m.rounds.len(), 1);
}

#[test]
fn only_messages_that_change_something_move_the_revision() {
    let mut m = model(fixtures::contacts_query());
    let moved = |m: &mut Model, msg: Msg| {
        let before = m.revision();
        update(m, msg);
        m.revision() != before
    };
    assert!(moved(&mut m, key('f')), "a fetch starts");
    let run_id = m.fetch.run_id;
    assert!(moved(&mut m, key('x')), "it is cancelled");
    let page = fixtures::contacts_round1().pages[0].clone();
    assert!(
        !moved(
            &mut m,
            Msg::PageArrived {
                run_id,
                round: 1,
                page,
            }
        ),
        "a stale page changes nothing"
    );
    assert!(!moved(&mut m, key('§')), "a key bound to nothing");
    assert!(
        !moved(
            &mut m,
            Msg::Mouse(MouseEvent {
                kind: MouseEventKind::Moved,
                column: 5,
                row: 5,
                modifiers: KeyModifiers::NONE,
            })
        ),
        "the mouse moving"
    );
    assert!(
        !moved(
            &mut m,
            Msg::SignInFailed {
                attempt: 7,
                error: "late".into(),
            }
        ),
        "an answer for a sign-in nobody waits for"
    );
    assert!(moved(&mut m, code(KeyCode::Tab)), "the focus moves");
}

#[tokio::test]
async fn the_runtime_draws_only_when_the_model_changed() {
    let m = model(fixtures::contacts_query());
    let mut rt = Runtime::new(m, RecordingClipboard::default(), FakeEngine::default());
    let keys = stream::iter(vec![ev('§'), ev('§'), ev('§')]);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    rt.run(&mut terminal, keys).await.unwrap();
    assert_eq!(
        rt.stats.frames, 1,
        "only the first frame: no key changed anything"
    );
}

#[test]
fn throttle_then_failure_with_resync() {
    let mut m = model(fixtures::contacts_query());
    let fx = update(&mut m, key('f'));
    let Effect::Start { run_id, .. } = fx[0].clone() else {
        panic!()
    };
    let until = m.now + std::time::Duration::from_secs(5);
    update(
        &mut m,
        Msg::Throttled {
            run_id,
            until,
            status: 429,
        },
    );
    assert!(matches!(
        m.fetch.state,
        FetchState::Throttled { status: 429, .. }
    ));
    assert!(m.animating());
    update(
        &mut m,
        Msg::FetchFailed {
            run_id,
            error: deltascope::tui::view::ErrorView {
                status: Some(410),
                needs_resync: true,
                ..Default::default()
            },
        },
    );
    assert!(!m.animating());
    // Fetching again is refused with the way out; R resyncs.
    assert!(update(&mut m, key('f')).is_empty());
    assert!(m.notice_text().unwrap().contains("resync"));
    let fx = update(&mut m, key('R'));
    assert!(matches!(fx[..], [Effect::Resync { .. }]), "{fx:?}");
}

#[tokio::test]
async fn runtime_pages_through_rounds_and_copies() {
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let m = model(fixtures::contacts_query());
    let mut rt = Runtime::new(m, RecordingClipboard::default(), FakeEngine::contacts());
    // f: page 1, → (past the last page): page 2, F: follow to the deltaLink, D: copy it,
    // r: next round, ctrl-t: access token, q: quit.
    let events = vec![
        ev('f'),
        ev('2'),
        Event::Key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE)),
        ev('F'),
        ev('D'),
        ev('r'),
        Event::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL)),
        ev('q'),
        ev('f'),
    ];
    rt.run(&mut terminal, stream::iter(events)).await.unwrap();
    assert!(rt.model.quit);
    assert_eq!(rt.model.rounds.len(), 2);
    assert_eq!(rt.model.rounds[0].pages.len(), 3);
    let delta = fixtures::contacts_round1().delta_link.unwrap();
    assert_eq!(rt.clipboard.copies[0], delta);
    assert_eq!(rt.clipboard.copies[1], "eyJ.token");
    assert!(
        rt.model
            .notice_text()
            .unwrap()
            .contains("copied access token"),
        "{:?}",
        rt.model.notice_text()
    );
    assert!(matches!(
        rt.handler.effects[0],
        Effect::Start { follow: false, .. }
    ));
    assert!(matches!(rt.handler.effects[1], Effect::FetchNext { .. }));
    assert!(matches!(rt.handler.effects[2], Effect::FollowRound { .. }));
    assert!(matches!(rt.handler.effects[3], Effect::NextRound { .. }));
    assert!(rt.stats.frames >= 1);
    // The 'f' after 'q' was never handled: four fetch effects only.
    assert_eq!(
        rt.handler
            .effects
            .iter()
            .filter(|e| !matches!(e, Effect::CopyAccessToken))
            .count(),
        4
    );
}

#[tokio::test]
async fn runtime_reports_the_copy_method_and_failures() {
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let mut m = model(fixtures::contacts_query());
    m.rounds = vec![fixtures::contacts_round1()];
    let mut rt = Runtime::new(m, RecordingClipboard::default(), FakeEngine::default());
    rt.run(&mut terminal, stream::iter(vec![ev('D')]))
        .await
        .unwrap();
    assert!(
        rt.model
            .notice_text()
            .unwrap()
            .starts_with("copied deltaLink"),
    );
    // The method's own words follow: an OSC 52 copy is not confirmed by anyone.
    assert!(
        rt.model
            .notice_text()
            .unwrap()
            .ends_with(&format!("via {}", CopyMethod::Osc52 { tmux: false })),
    );
    assert!(rt.model.notice_text().unwrap().contains("unconfirmed"));
    assert!(terminal.backend().to_string().contains("via OSC 52"));

    rt.clipboard.fail_with = Some("no display and not a terminal".into());
    rt.run(&mut terminal, stream::iter(vec![ev('P')]))
        .await
        .unwrap();
    assert!(
        rt.model
            .notice_text()
            .unwrap()
            .contains("could not copy page JSON: no display")
    );
}
