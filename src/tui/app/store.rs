//! The session store on the model side: the stored sessions picker and resuming one, an
//! object's history overlay, exports.
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::actions::quit;
use super::effect::Effect;
use super::fetch::{accept, add_row, begin_run, run_refusal, table_columns};
use super::model::{Mode, Model};
use super::notice::{NoticeEnd, NoticeKind};
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{FetchState, HistoryView, ResumedView};

/// Opens the stored sessions picker (the list is read off the UI thread).
pub(super) fn open_sessions(m: &mut Model) -> Vec<Effect> {
    m.mode = Mode::Sessions;
    m.sessions = None;
    m.session_cursor = 0;
    vec![Effect::LoadSessions]
}

pub(super) fn on_sessions_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    match m.keymap.action(Context::Picker, key) {
        Some(Action::ScrollUp) => {
            m.session_cursor = m.session_cursor.saturating_sub(1);
            Vec::new()
        }
        Some(Action::ScrollDown) => {
            let rows = m.sessions.as_ref().map_or(0, |s| s.entries.len());
            m.session_cursor = (m.session_cursor + 1).min(rows.saturating_sub(1));
            Vec::new()
        }
        Some(Action::Activate) => choose_session(m),
        Some(Action::Back) => {
            m.mode = Mode::Normal;
            Vec::new()
        }
        Some(Action::Quit) => quit(m),
        _ => m.unchanged(),
    }
}

/// Resumes the session under the cursor.
fn choose_session(m: &mut Model) -> Vec<Effect> {
    let Some(entry) = m
        .sessions
        .as_ref()
        .and_then(|s| s.entries.get(m.session_cursor))
        .cloned()
    else {
        return m.unchanged();
    };
    if let Some(why) = entry.refused {
        m.notify(NoticeKind::Warning, NoticeEnd::Replaced, why);
        return Vec::new();
    }
    m.mode = Mode::Normal;
    resume(m, entry.id)
}

/// Resumes stored session `id` (`--resume`, the picker): its rounds come back as they were
/// fetched; the next fetch continues from its last link.
pub(super) fn resume(m: &mut Model, id: i64) -> Vec<Effect> {
    if run_refusal(m) {
        return Vec::new();
    }
    let run_id = begin_run(m, false);
    m.notify(
        NoticeKind::Progress,
        NoticeEnd::RunInFlight(run_id),
        format!("resuming session #{id}: replaying its pages"),
    );
    vec![Effect::Resume {
        run_id,
        session: id,
    }]
}

/// A stored session is back: the query builder shows its query (frozen), the results its rounds.
pub(super) fn on_resumed(m: &mut Model, run_id: u64, view: ResumedView) {
    if !accept(m, run_id) {
        return;
    }
    m.query.load_draft(&view.query);
    m.ids_editor = TextArea::new(m.query.ids.clone());
    m.refresh_query();
    m.query.frozen = true;
    m.columns = table_columns(m);
    m.rounds.clear();
    m.kept_rounds = 0;
    (m.sel_round, m.sel_page, m.sel_row, m.row_offset) = (0, 0, 0, 0);
    for round in view.rounds {
        for row in round.rows {
            add_row(m, round.number, row);
        }
        if let Some(r) = m.rounds.iter_mut().find(|r| r.number == round.number) {
            r.summary_line = round.summary_line;
            if round.delta_link.is_some() {
                r.delta_link = round.delta_link;
            }
        }
    }
    m.resumed = Some(view.session_id);
    let count = m.rounds.len();
    m.fetch.state = match m.last_fetched_round().and_then(|r| r.delta_link.clone()) {
        Some(delta) => FetchState::RoundComplete {
            delta_link: Some(delta),
        },
        None => FetchState::Idle,
    };
    m.notify(
        NoticeKind::Info,
        NoticeEnd::Run(run_id),
        format!(
            "resumed session #{} ({}): {}",
            view.session_id,
            crate::graph::round::plural(count, "round", "rounds"),
            view.next
        ),
    );
}

pub(super) fn on_sessions_loaded(m: &mut Model, view: crate::tui::view::SessionsView) -> bool {
    if m.mode != Mode::Sessions {
        return false;
    }
    m.session_cursor = m.session_cursor.min(view.entries.len().saturating_sub(1));
    m.sessions = Some(view);
    true
}

/// Marks the selected round; on a second round, compares the two (the replica at the end of
/// each, from the store).
pub(super) fn compare_rounds(m: &mut Model) -> Vec<Effect> {
    let Some(round) = m.selected_round().map(|r| r.number) else {
        m.inform("no round yet to compare");
        return Vec::new();
    };
    if m.sel_round < m.kept_rounds {
        m.inform("that round belongs to an earlier query: compare the current query's rounds");
        return Vec::new();
    }
    let key = m.keymap.key_label(Context::Global, Action::CompareRounds);
    match m.compare_mark.take() {
        Some(a) if a != round => {
            m.mode = Mode::History;
            m.history = None;
            m.history_scroll = 0;
            vec![Effect::CompareRounds { a, b: round }]
        }
        _ => {
            m.compare_mark = Some(round);
            m.inform(format!(
                "round {round} marked: select another round and press {key} to compare them"
            ));
            Vec::new()
        }
    }
}

/// Explains the selected round (what a sync must handle that it holds).
pub(super) fn explain_round(m: &mut Model) -> Vec<Effect> {
    let Some(round) = m.selected_round().map(|r| r.number) else {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        m.inform(format!("no round yet: {fetch} fetches the first page"));
        return Vec::new();
    };
    if m.sel_round < m.kept_rounds {
        m.inform(
            "that round belongs to an earlier query: only the current query's rounds are explained",
        );
        return Vec::new();
    }
    m.mode = Mode::History;
    m.history = None;
    m.history_scroll = 0;
    vec![Effect::ExplainRound { round }]
}

/// Opens the history of the selected object.
pub(super) fn object_history(m: &mut Model) -> Vec<Effect> {
    let id = m
        .selected_page()
        .and_then(|p| p.rows.get(m.sel_row))
        .map(|r| r.id().to_owned())
        .filter(|id| !id.is_empty());
    let Some(object_id) = id else {
        m.inform("select an object (a row of a page) to see its history");
        return Vec::new();
    };
    m.mode = Mode::History;
    m.history = None;
    m.history_scroll = 0;
    vec![Effect::History { object_id }]
}

pub(super) fn on_history(m: &mut Model, view: HistoryView) -> bool {
    if m.mode != Mode::History {
        return false;
    }
    m.history = Some(view);
    true
}

/// The history overlay's keys: scroll, close (its own key, back, quit).
pub(super) fn on_history_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    let lines = m.history.as_ref().map_or(0, |h| h.lines.len());
    let visible = usize::from(m.size.1.saturating_sub(6)).max(1);
    let max = lines.saturating_sub(visible);
    let was = m.history_scroll;
    match m.keymap.action(Context::Overlay, key) {
        Some(Action::Back) => {
            close_history(m);
            return Vec::new();
        }
        Some(Action::ScrollUp) => m.history_scroll = was.saturating_sub(1),
        Some(Action::ScrollDown) => m.history_scroll = (was + 1).min(max),
        Some(Action::PageUp) => m.history_scroll = was.saturating_sub(visible),
        Some(Action::PageDown) => m.history_scroll = (was + visible).min(max),
        Some(Action::ScrollTop) => m.history_scroll = 0,
        Some(Action::ScrollBottom) => m.history_scroll = max,
        _ => {
            let action = m.keymap.action(m.focus.context(), key);
            if action.is_some_and(|a| {
                matches!(
                    a,
                    Action::ObjectHistory
                        | Action::ExplainRound
                        | Action::CompareRounds
                        | Action::Quit
                )
            }) {
                close_history(m);
                return Vec::new();
            }
            return m.unchanged();
        }
    }
    if m.history_scroll == was {
        return m.unchanged();
    }
    Vec::new()
}

fn close_history(m: &mut Model) {
    m.mode = Mode::Normal;
    m.history = None;
}

/// Exports the session (from the store, off the UI thread).
pub(super) fn export(m: &mut Model) -> Vec<Effect> {
    if !m.query.frozen {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        m.inform(format!(
            "nothing to export yet: {fetch} fetches the first page"
        ));
        return Vec::new();
    }
    m.inform("exporting the session…");
    vec![Effect::Export {
        columns: m.columns.clone(),
    }]
}
