//! Searching every page of the session (`/` in the results): the query goes off the UI thread
//! with the pages' shared bodies; the hits come back as a list to go to.
use crossterm::event::KeyEvent;

use super::actions::quit;
use super::effect::Effect;
use super::json_pane::refresh_json;
use super::model::{Focus, Mode, Model};
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{SearchPage, SearchView};

/// Sends the search of every page on screen for `query`.
pub(super) fn search_session(m: &mut Model, query: String) -> Vec<Effect> {
    if query.is_empty() {
        m.mode = Mode::Normal;
        return Vec::new();
    }
    let mut pages = Vec::new();
    for (ri, round) in m.rounds.iter().enumerate() {
        for (pi, page) in round.pages.iter().enumerate() {
            if page.failure.is_some() {
                continue;
            }
            let (mut rows, mut ids) = (Vec::new(), Vec::new());
            for row in &page.rows {
                if row.json.same_buffer(&page.raw_json) {
                    rows.push(row.json.span());
                    ids.push(row.id().to_owned());
                }
            }
            pages.push(SearchPage {
                round_index: ri,
                page_index: pi,
                round: round.number,
                page: page.index,
                body: page.raw_json.clone(),
                rows,
                ids,
            });
        }
    }
    m.mode = Mode::Found;
    m.found = None;
    m.found_cursor = 0;
    vec![Effect::SearchSession { query, pages }]
}

pub(super) fn on_found(m: &mut Model, view: SearchView) -> bool {
    if m.mode != Mode::Found {
        return false;
    }
    m.found = Some(view);
    true
}

pub(super) fn on_found_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    let hits = m.found.as_ref().map_or(0, |f| f.hits.len());
    match m.keymap.action(Context::Picker, key) {
        Some(Action::ScrollUp) => m.found_cursor = m.found_cursor.saturating_sub(1),
        Some(Action::ScrollDown) => {
            m.found_cursor = (m.found_cursor + 1).min(hits.saturating_sub(1));
        }
        Some(Action::Activate) => go_to_hit(m),
        Some(Action::Back) => m.mode = Mode::Normal,
        Some(Action::Quit) => return quit(m),
        _ => return m.unchanged(),
    }
    Vec::new()
}

/// Selects the hit's object (or page) in the results.
fn go_to_hit(m: &mut Model) {
    let Some(hit) = m
        .found
        .as_ref()
        .and_then(|f| f.hits.get(m.found_cursor))
        .cloned()
    else {
        return;
    };
    let exists = m
        .rounds
        .get(hit.round_index)
        .and_then(|r| r.pages.get(hit.page_index))
        .is_some();
    m.mode = Mode::Normal;
    if !exists {
        m.inform("that page is no longer on screen");
        return;
    }
    m.sel_round = hit.round_index;
    m.sel_page = hit.page_index;
    m.sel_row = hit.row.unwrap_or(0);
    m.row_offset = m.sel_row.saturating_sub(2);
    m.focus = Focus::Results;
    refresh_json(m);
}
