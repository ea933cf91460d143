//! Input: keys (through the keymap, by mode), mouse and paste.
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::actions::{dispatch, quit, scroll};
use super::effect::Effect;
use super::help::help_page;
use super::model::{Focus, LineTarget, Mode, Model, QueryField};
use super::new_query::{keep_query, new_query};
use super::notice::{NoticeEnd, NoticeKind};
use super::sign_in::choose_profile;
use crate::tui::ids::paste_ids;
use crate::tui::keymap::{Action, Context};

/// An overlay (help, the token inspector) has the keyboard: its own keys scroll the help or
/// close it; the key that opened it, and quit, close it too; other keys do nothing behind it.
fn on_overlay_key(m: &mut Model, key: &KeyEvent, opened_with: Action) -> Vec<Effect> {
    match m.keymap.action(Context::Overlay, key) {
        Some(Action::Back) => {
            m.mode = Mode::Normal;
            return Vec::new();
        }
        Some(
            a @ (Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::ScrollTop
            | Action::ScrollBottom),
        ) if m.mode == Mode::Help => return scroll_help(m, a),
        _ => {}
    }
    let action = m.keymap.action(m.focus.context(), key);
    if action.is_some_and(|a| a == opened_with || a == Action::Quit) {
        m.mode = Mode::Normal;
        Vec::new()
    } else {
        m.unchanged()
    }
}

/// Scrolls the help, within what the screen leaves of it.
fn scroll_help(m: &mut Model, action: Action) -> Vec<Effect> {
    let page = help_page(&m.keymap, m.screen());
    let max = page.max_scroll();
    let step = page.visible.saturating_sub(1).max(1);
    let was = m.help_scroll;
    m.help_scroll = match action {
        Action::ScrollUp => was.saturating_sub(1),
        Action::ScrollDown => was + 1,
        Action::PageUp => was.saturating_sub(step),
        Action::PageDown => was + step,
        Action::ScrollTop => 0,
        _ => max,
    }
    .min(max);
    if m.help_scroll == was {
        return m.unchanged();
    }
    Vec::new()
}

pub(super) fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return m.unchanged();
    }
    // Ctrl-C quits from anywhere, text fields included.
    if matches!(key.code, KeyCode::Char('c' | 'C'))
        && key
            .modifiers
            .contains(crossterm::event::KeyModifiers::CONTROL)
    {
        return quit(m);
    }
    // A device code on the screen has the keyboard until the sign-in ends or is cancelled.
    if m.device_code().is_some() {
        return match m.keymap.action(Context::SignIn, &key) {
            Some(
                a @ (Action::CopyCode | Action::CopyUrl | Action::CancelSignIn | Action::Quit),
            ) => dispatch(m, a),
            _ => m.unchanged(),
        };
    }
    match m.mode.clone() {
        Mode::Profiles => match m.keymap.action(Context::Profiles, &key) {
            Some(Action::ScrollUp) => {
                m.profile_cursor = m.profile_cursor.saturating_sub(1);
                Vec::new()
            }
            Some(Action::ScrollDown) => {
                let rows = m.profiles.as_ref().map(|p| p.entries.len()).unwrap_or(0);
                m.profile_cursor = (m.profile_cursor + 1).min(rows);
                Vec::new()
            }
            Some(Action::Activate) => choose_profile(m),
            Some(Action::Back) => {
                m.mode = Mode::Normal;
                Vec::new()
            }
            Some(Action::Quit) => quit(m),
            _ => m.unchanged(),
        },
        Mode::Sessions => super::store::on_sessions_key(m, &key),
        Mode::Resources => super::resources::on_key(m, &key),
        Mode::History => super::store::on_history_key(m, &key),
        Mode::Found => super::search::on_found_key(m, &key),
        Mode::Replica => super::replica::on_replica_key(m, &key),
        Mode::Help => on_overlay_key(m, &key, Action::Help),
        Mode::TokenInspector => on_overlay_key(m, &key, Action::InspectToken),
        Mode::NewQuery => match m.keymap.action(Context::NewQuery, &key) {
            Some(Action::KeepRounds) => new_query(m, true),
            Some(Action::DropRounds) => new_query(m, false),
            Some(Action::Back) => keep_query(m),
            _ => m.unchanged(),
        },
        Mode::Line { target, mut input } => {
            match (m.keymap.action(Context::LineInput, &key), key.code) {
                (Some(Action::Back), _) if target == LineTarget::ReplicaFilter => {
                    m.mode = Mode::Replica;
                }
                (Some(Action::Activate), _) if target == LineTarget::Jq => {
                    return super::replica::run_jq(m, input);
                }
                (Some(Action::Back), _) => m.mode = Mode::Normal,
                (Some(Action::Activate), _) if target == LineTarget::SessionSearch => {
                    return super::search::search_session(m, input);
                }
                (Some(Action::Activate), _) if target == LineTarget::ReplicaFilter => {
                    return super::replica::set_filter(m, input);
                }
                (Some(Action::Activate), _) => {
                    m.mode = Mode::Normal;
                    commit_line(m, target, input);
                }
                (_, KeyCode::Backspace) => {
                    input.pop();
                    m.mode = Mode::Line { target, input };
                }
                (_, KeyCode::Char(c)) => {
                    input.push(c);
                    m.mode = Mode::Line { target, input };
                }
                _ => {}
            }
            Vec::new()
        }
        Mode::EditIds => {
            if m.keymap.action(Context::IdsEditor, &key) == Some(Action::Back) {
                m.mode = Mode::Normal;
            } else {
                m.ids_editor.input(key);
                sync_ids(m);
            }
            Vec::new()
        }
        Mode::Normal => match m.keymap.action(m.context(), &key) {
            Some(a) => dispatch(m, a),
            None => m.unchanged(),
        },
    }
}

pub(super) fn sync_ids(m: &mut Model) {
    m.query.ids = m.ids_editor.lines().to_vec();
    m.refresh_query();
}

pub(super) fn commit_line(m: &mut Model, target: LineTarget, input: String) {
    match target {
        // Sent before it gets here (it answers with the hits).
        LineTarget::SessionSearch | LineTarget::ReplicaFilter | LineTarget::Jq => {}
        LineTarget::Search => {
            let h = m.json_height();
            let n = m.json.search(&input, h);
            m.inform(if input.is_empty() {
                "search cleared".to_owned()
            } else {
                let more = if m.json.capped { "+" } else { "" };
                format!("{n}{more} matches for {input:?}")
            });
        }
        LineTarget::Param(i) => {
            if let Some(p) = m.query.params.get_mut(i) {
                p.value = input.trim().to_owned();
            }
            m.refresh_query();
        }
        LineTarget::Top => {
            if let Some(n) = page_size(m, &input, "$top") {
                m.query.top = n;
            }
            m.refresh_query();
        }
        LineTarget::MaxPage => {
            if let Some(n) = page_size(m, &input, "odata.maxpagesize") {
                m.query.max_page = n;
            }
            m.refresh_query();
        }
        LineTarget::Types => {
            m.query.types = input.trim().to_owned();
            m.refresh_query();
        }
        LineTarget::Path => {
            m.query.path = input.trim().to_owned();
            m.refresh_query();
            let fields = m.query_fields();
            m.query_cursor = fields
                .iter()
                .position(|f| *f == super::model::QueryField::Path)
                .unwrap_or(0);
        }
        LineTarget::NewField => {
            let name = input.trim();
            if !name.is_empty() {
                match m.query.select.items.iter_mut().find(|(p, _)| p == name) {
                    Some(item) => item.1 = true,
                    None => m.query.select.items.push((name.to_owned(), true)),
                }
                m.refresh_query();
            }
        }
    }
}

/// A page size typed for `what`: `Some(None)` when cleared, `Some(Some(n))` for a positive
/// number; `None` (and a warning) for anything else, the value left as it was.
fn page_size(m: &mut Model, input: &str, what: &str) -> Option<Option<u32>> {
    let t = input.trim();
    if t.is_empty() {
        return Some(None);
    }
    match t.parse::<u32>() {
        Ok(n) if n > 0 => Some(Some(n)),
        _ => {
            m.notify(
                NoticeKind::Warning,
                NoticeEnd::Replaced,
                format!("{what} must be a positive number, not {t:?}"),
            );
            None
        }
    }
}

pub(super) fn on_paste(m: &mut Model, text: &str) {
    let on_ids = m.focus == Focus::Query
        && m.query_fields().get(m.query_cursor) == Some(&QueryField::Ids)
        && !m.query.frozen;
    match &mut m.mode {
        Mode::Line { input, .. } => {
            // A one-line field: the first line, and not megabytes of it (drawn every frame).
            let line = text.lines().next().unwrap_or("");
            input.extend(line.chars().take(4096));
        }
        Mode::EditIds => paste_ids_into(m, text),
        Mode::Normal if on_ids => {
            m.mode = Mode::EditIds;
            paste_ids_into(m, text);
        }
        _ => {}
    }
}

pub(super) fn paste_ids_into(m: &mut Model, text: &str) {
    paste_ids(&mut m.ids_editor, text);
    sync_ids(m);
}

pub(super) fn on_mouse(m: &mut Model, ev: MouseEvent) {
    let Some(a) = m.areas() else {
        m.unchanged();
        return;
    };
    let pos = Position::new(ev.column, ev.row);
    let pane = if a.query.contains(pos) {
        Some(Focus::Query)
    } else if a.results.contains(pos) {
        Some(Focus::Results)
    } else if a.json.contains(pos) {
        Some(Focus::Json)
    } else {
        None
    };
    let Some(pane) = pane else {
        m.unchanged();
        return;
    };
    match ev.kind {
        MouseEventKind::Down(MouseButton::Left)
            if m.mode == Mode::Normal || (m.mode == Mode::EditIds && pane != Focus::Query) =>
        {
            m.mode = Mode::Normal;
            m.focus = pane;
        }
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let saved = m.focus;
            m.focus = pane;
            let action = if ev.kind == MouseEventKind::ScrollUp {
                Action::ScrollUp
            } else {
                Action::ScrollDown
            };
            for _ in 0..3 {
                scroll(m, action);
            }
            m.focus = saved;
        }
        _ => {
            m.unchanged();
        }
    }
}
