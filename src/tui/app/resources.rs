//! The resource picker: the catalog's resources grouped (Directory, Outlook, Files, Teams/Calls,
//! To Do) and, last, a delta path of one's own. `enter` on the builder's resource row opens it.
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::actions::{frozen_refusal, quit};
use super::effect::Effect;
use super::model::{LineTarget, Mode, Model};
use crate::tui::keymap::{Action, Context};

/// Opens the picker on the current resource (or on the own path when one is given).
pub(super) fn open(m: &mut Model) {
    if frozen_refusal(m) {
        return;
    }
    m.resource_cursor = if m.query.own_path().is_some() {
        m.query.resources.len()
    } else {
        m.query.resource
    };
    m.mode = Mode::Resources;
}

pub(super) fn on_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    // The resources, then "a delta path of your own".
    let last = m.query.resources.len();
    match m.keymap.action(Context::Picker, key) {
        Some(Action::ScrollUp) => m.resource_cursor = m.resource_cursor.saturating_sub(1),
        Some(Action::ScrollDown) => m.resource_cursor = (m.resource_cursor + 1).min(last),
        Some(Action::Activate) => choose(m),
        Some(Action::Back) => m.mode = Mode::Normal,
        Some(Action::Quit) => return quit(m),
        _ => return m.unchanged(),
    }
    Vec::new()
}

fn choose(m: &mut Model) {
    let i = m.resource_cursor;
    if i >= m.query.resources.len() {
        m.mode = Mode::Line {
            target: LineTarget::Path,
            input: m.query.path.clone(),
        };
        return;
    }
    m.mode = Mode::Normal;
    m.query.path.clear();
    m.query.set_resource(i);
    m.ids_editor = TextArea::new(m.query.ids.clone());
    m.query_cursor = 0;
    m.refresh_query();
}
