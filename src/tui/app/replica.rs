//! The replica view on the model side: open it (a snapshot from the engine), move through it,
//! filter it, and open an object's history from it.
use crossterm::event::{KeyCode, KeyEvent};

use super::actions::quit;
use super::effect::Effect;
use super::model::{LineTarget, Mode, Model};
use crate::tui::keymap::{Action, Context};
use crate::tui::view::ReplicaView;

/// Rows the view shows at the model's size (the overlay's border, title, header and footer
/// take the rest).
fn visible(m: &Model) -> usize {
    usize::from(m.size.1.saturating_sub(8)).max(1)
}

pub(super) fn open_replica(m: &mut Model) -> Vec<Effect> {
    if !m.query.frozen {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        m.inform(format!("no replica yet: {fetch} fetches the first page"));
        return Vec::new();
    }
    m.mode = Mode::Replica;
    m.replica = None;
    vec![Effect::LoadReplica]
}

/// The engine's snapshot came: shown in id order at once; a filter or another order is worked
/// out off the UI thread (`None`: the view was closed meanwhile).
pub(super) fn on_replica(m: &mut Model, view: ReplicaView) -> Option<Vec<Effect>> {
    if m.mode != Mode::Replica {
        return None;
    }
    m.replica_shown = (0..view.rows.len()).collect();
    m.replica = Some(std::sync::Arc::new(view));
    m.replica_cursor = m
        .replica_cursor
        .min(m.replica_shown.len().saturating_sub(1));
    follow_cursor(m);
    Some(arrange(m))
}

/// Asks for the rows the view's filter and order show, unless that is every row in id order
/// (then they are set at once).
fn arrange(m: &mut Model) -> Vec<Effect> {
    let Some(view) = &m.replica else {
        return Vec::new();
    };
    if m.replica_order.is_plain() {
        m.replica_arranging = None;
        m.replica_shown = (0..view.rows.len()).collect();
        follow_cursor(m);
        return Vec::new();
    }
    m.replica_arrangements += 1;
    let seq = m.replica_arrangements;
    m.replica_arranging = Some(seq);
    vec![Effect::ArrangeReplica {
        view: view.clone(),
        order: m.replica_order.clone(),
        seq,
    }]
}

/// Arrangement `seq` came: shown if it is the one the view waits for.
pub(super) fn on_arranged(m: &mut Model, seq: u64, shown: Vec<usize>) -> bool {
    if m.replica_arranging != Some(seq) {
        return false;
    }
    m.replica_arranging = None;
    m.replica_shown = shown;
    m.replica_cursor = 0;
    m.replica_offset = 0;
    follow_cursor(m);
    true
}

pub(super) fn set_filter(m: &mut Model, filter: String) -> Vec<Effect> {
    m.mode = Mode::Replica;
    m.replica_order.filter = filter;
    m.replica_cursor = 0;
    m.replica_offset = 0;
    arrange(m)
}

/// Keeps the cursor in view and reads the rows that are shown (drawing reads nothing).
fn follow_cursor(m: &mut Model) {
    let room = visible(m);
    if m.replica_cursor < m.replica_offset {
        m.replica_offset = m.replica_cursor;
    } else if m.replica_cursor >= m.replica_offset + room {
        m.replica_offset = m.replica_cursor + 1 - room;
    }
    if let Some(view) = &m.replica {
        for &i in m.replica_shown.iter().skip(m.replica_offset).take(room) {
            if let Some(r) = view.rows.get(i) {
                r.row.prepare();
            }
        }
    }
}

pub(super) fn on_replica_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    let n = m.replica_shown.len();
    let page = visible(m).saturating_sub(1).max(1);
    let was = (m.replica_cursor, m.replica_offset);
    match m.keymap.action(Context::Overlay, key) {
        Some(Action::Back) => {
            m.mode = Mode::Normal;
            return Vec::new();
        }
        Some(Action::ScrollUp) => m.replica_cursor = m.replica_cursor.saturating_sub(1),
        Some(Action::ScrollDown) => {
            m.replica_cursor = (m.replica_cursor + 1).min(n.saturating_sub(1))
        }
        Some(Action::PageUp) => m.replica_cursor = m.replica_cursor.saturating_sub(page),
        Some(Action::PageDown) => {
            m.replica_cursor = (m.replica_cursor + page).min(n.saturating_sub(1));
        }
        Some(Action::ScrollTop) => m.replica_cursor = 0,
        Some(Action::ScrollBottom) => m.replica_cursor = n.saturating_sub(1),
        _ if key.code == KeyCode::Char('|') => return ask_jq(m, true),
        _ if key.code == KeyCode::Char('o') => {
            m.replica_order.sort = m.replica_order.sort.next(&m.columns);
            return arrange(m);
        }
        _ if key.code == KeyCode::Char('O') => {
            m.replica_order.reverse = !m.replica_order.reverse;
            return arrange(m);
        }
        _ if key.code == KeyCode::Char('/') => {
            m.mode = Mode::Line {
                target: LineTarget::ReplicaFilter,
                input: m.replica_order.filter.clone(),
            };
            return Vec::new();
        }
        _ => match m.keymap.action(m.focus.context(), key) {
            Some(Action::OpenReplica) => {
                m.mode = Mode::Normal;
                return Vec::new();
            }
            Some(Action::Quit) => return quit(m),
            Some(Action::ObjectHistory) => return history_of_selected(m),
            _ => return m.unchanged(),
        },
    }
    follow_cursor(m);
    if (m.replica_cursor, m.replica_offset) == was {
        return m.unchanged();
    }
    Vec::new()
}

/// The history of the object under the cursor (the history overlay replaces the view).
fn history_of_selected(m: &mut Model) -> Vec<Effect> {
    let id = m
        .replica_shown
        .get(m.replica_cursor)
        .and_then(|&i| m.replica.as_ref()?.rows.get(i))
        .map(|r| r.id.to_string());
    let Some(object_id) = id else {
        return m.unchanged();
    };
    m.mode = Mode::History;
    m.history = None;
    m.history_scroll = 0;
    vec![Effect::History { object_id }]
}

/// Asks for a jq filter: over the selected page, or over the replica when asked from its view.
pub(super) fn ask_jq(m: &mut Model, on_replica: bool) -> Vec<Effect> {
    if !on_replica && m.selected_page().is_none() {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        m.inform(format!("no page yet: {fetch} fetches the first page"));
        return Vec::new();
    }
    m.jq_on_replica = on_replica;
    m.mode = Mode::Line {
        target: LineTarget::Jq,
        input: m.jq_filter.clone(),
    };
    Vec::new()
}

/// Sends the filter off the UI thread.
pub(super) fn run_jq(m: &mut Model, filter: String) -> Vec<Effect> {
    m.mode = Mode::Normal;
    if filter.trim().is_empty() {
        return Vec::new();
    }
    m.jq_filter = filter.clone();
    let page = if m.jq_on_replica {
        None
    } else {
        match m.selected_page() {
            Some(p) => Some(p.raw_json.clone()),
            None => return Vec::new(),
        }
    };
    m.inform(format!("running jq {filter:?}…"));
    vec![Effect::Jq { filter, page }]
}

/// A jq filter's output goes to the JSON pane (until the selection moves); its failure to the
/// status bar.
pub(super) fn on_jq(m: &mut Model, filter: &str, result: Result<(String, String), String>) {
    match result {
        Ok((text, about)) => {
            let h = m.json_height();
            m.json
                .show_json(crate::tui::view::SharedText::from(text), h);
            m.json_key = Some(super::json_pane::json_key(m));
            m.jq_shown = Some(format!("jq {filter}: {about}"));
            m.focus = super::model::Focus::Json;
            m.inform(format!("jq {filter:?}: {about} (in the JSON pane)"));
        }
        Err(why) => m.notify(
            super::notice::NoticeKind::Error,
            super::notice::NoticeEnd::Replaced,
            format!("jq {filter:?}: {why}"),
        ),
    }
}
