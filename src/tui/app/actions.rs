//! Actions: what each keymap action does in the focus and mode in force.
use ratatui_textarea::TextArea;

use super::effect::{CopyWhat, Effect};
use super::fetch::{begin_run, fetch, next_round};
use super::format::{curl_command, state_token};
use super::json_pane::refresh_json;
use super::model::{Focus, JsonTarget, LineTarget, Mode, Model, QueryField};
use super::new_query::{ask_new_query, new_query};
use super::notice::{NoticeEnd, NoticeKind};
use super::sign_in::{begin_sign_in, cancel_hint, cancel_sign_in, sign_in_refusal};
use crate::tui::keymap::{Action, Context};

pub(super) fn quit(m: &mut Model) -> Vec<Effect> {
    m.quit = true;
    let mut out = Vec::new();
    if m.fetch.in_flight() {
        out.push(Effect::Cancel {
            run_id: m.fetch.run_id,
        });
    }
    out.push(Effect::Quit);
    out
}

pub(super) fn frozen_refusal(m: &mut Model) -> bool {
    if m.query.frozen {
        m.notify(
            NoticeKind::Warning,
            NoticeEnd::QueryFrozen,
            "the query options are frozen in the state token (they go on the first request only)"
                .to_owned(),
        );
        true
    } else {
        false
    }
}

/// Runs an action in the current focus.
pub fn dispatch(m: &mut Model, action: Action) -> Vec<Effect> {
    let jh = m.json_height();
    match action {
        Action::Quit => return quit(m),
        Action::Help => {
            m.mode = if m.mode == Mode::Help {
                Mode::Normal
            } else {
                m.help_scroll = 0;
                Mode::Help
            }
        }
        Action::NewQuery => return ask_new_query(m),
        Action::KeepRounds | Action::DropRounds => {
            // Only the new query's question has these keys.
            if m.mode == Mode::NewQuery {
                return new_query(m, action == Action::KeepRounds);
            }
            return m.unchanged();
        }
        Action::LatestPage => select_latest_page(m),
        Action::Back => m.mode = Mode::Normal,
        Action::InspectToken => {
            if m.mode == Mode::TokenInspector {
                m.mode = Mode::Normal;
                return Vec::new();
            }
            m.mode = Mode::TokenInspector;
            m.token = None;
            let resource = m.query.current().map(|r| r.name.clone());
            return vec![Effect::InspectToken { resource }];
        }
        Action::FocusNext | Action::FocusPrev => {
            let i = Focus::ORDER.iter().position(|f| *f == m.focus).unwrap_or(0);
            let n = Focus::ORDER.len();
            let j = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            m.focus = Focus::ORDER[j];
        }
        Action::FocusQuery => m.focus = Focus::Query,
        Action::FocusResults => m.focus = Focus::Results,
        Action::FocusJson => m.focus = Focus::Json,
        Action::OpenSessions => return super::store::open_sessions(m),
        Action::ObjectHistory => return super::store::object_history(m),
        Action::ExplainRound => return super::store::explain_round(m),
        Action::CompareRounds => return super::store::compare_rounds(m),
        Action::OpenReplica => return super::replica::open_replica(m),
        Action::JqFilter => return super::replica::ask_jq(m, false),
        Action::SearchSession => {
            m.mode = Mode::Line {
                target: LineTarget::SessionSearch,
                input: String::new(),
            };
        }
        Action::ExportSession => return super::store::export(m),
        Action::SwitchProfile => {
            m.mode = Mode::Profiles;
            m.profiles = None;
            m.profile_cursor = 0;
            return vec![Effect::LoadProfiles];
        }
        Action::SignInAgain => {
            if m.sign_in.running() {
                m.notify(
                    NoticeKind::Info,
                    NoticeEnd::SignInRunning(m.sign_in.last_attempt()),
                    cancel_hint(m, "a sign-in is already running"),
                );
                return Vec::new();
            }
            let target = m.sign_in.target();
            return begin_sign_in(m, target);
        }
        Action::CopyCode | Action::CopyUrl => {
            let (what, text) = match (m.device_code(), action) {
                (Some(p), Action::CopyCode) => (CopyWhat::DeviceCode, Some(p.code.clone())),
                (Some(p), _) => (CopyWhat::SignInUrl, Some(p.url.clone())),
                (None, _) => (CopyWhat::DeviceCode, None),
            };
            return copy_or_say(m, what, text, "no device code to copy");
        }
        Action::CancelSignIn => return cancel_sign_in(m),
        Action::FetchNext => return fetch(m, false),
        Action::FollowRound => return fetch(m, true),
        Action::NextRound => return next_round(m),
        Action::Cancel => {
            if m.fetch.in_flight() {
                let run_id = m.fetch.run_id;
                m.fetch.abandon();
                m.inform("fetch cancelled");
                return vec![Effect::Cancel { run_id }];
            }
            if m.sign_in.running() {
                return cancel_sign_in(m);
            }
            m.inform("nothing to cancel");
        }
        Action::Resync => {
            if !m.query.frozen {
                return fetch(m, false);
            }
            if sign_in_refusal(m) {
                return Vec::new();
            }
            let mut out = Vec::new();
            if m.fetch.in_flight() {
                out.push(Effect::Cancel {
                    run_id: m.fetch.run_id,
                });
            }
            let run_id = begin_run(m, false);
            m.notify(
                NoticeKind::Progress,
                NoticeEnd::RunInFlight(run_id),
                "full resync: a new initial round",
            );
            out.push(Effect::Resync { run_id });
            return out;
        }
        Action::ToggleMinimal => {
            if !frozen_refusal(m) && m.query.current().is_some_and(|r| r.supports_minimal) {
                m.query.minimal = !m.query.minimal;
                m.refresh_query();
            }
        }
        Action::CopyNextLink => {
            let link = m
                .selected_page()
                .and_then(|p| p.next_link.clone())
                .or_else(|| m.last_page().and_then(|p| p.next_link.clone()));
            return copy_or_say(m, CopyWhat::NextLink, link, "no nextLink on this page");
        }
        Action::CopyDeltaLink => {
            let link = m
                .selected_round()
                .and_then(|r| r.delta_link.clone())
                // Never an earlier query's: its link continues that other query.
                .or_else(|| {
                    m.current_rounds()
                        .iter()
                        .rev()
                        .find_map(|r| r.delta_link.clone())
                });
            return copy_or_say(
                m,
                CopyWhat::DeltaLink,
                link,
                "no deltaLink yet: finish a round",
            );
        }
        Action::CopyStateToken => {
            let token = m.selected_page().and_then(|p| {
                p.next_link
                    .as_deref()
                    .or(p.delta_link.as_deref())
                    .and_then(state_token)
                    .map(str::to_owned)
            });
            return copy_or_say(
                m,
                CopyWhat::StateToken,
                token,
                "no state token ($skiptoken / $deltatoken) in this page's links",
            );
        }
        Action::CopyObject => {
            let json = m
                .selected_page()
                .and_then(|p| p.rows.get(m.sel_row))
                .map(|r| r.json.to_string());
            return copy_or_say(m, CopyWhat::Object, json, "no object selected");
        }
        Action::CopyPage => {
            let json = m.selected_page().map(|p| p.raw_json.to_string());
            return copy_or_say(m, CopyWhat::Page, json, "no page yet");
        }
        Action::CopyIds => {
            let ids: Option<Vec<String>> = m.selected_page().map(|p| {
                p.rows
                    .iter()
                    .filter(|r| !r.id().is_empty())
                    .map(|r| r.id().to_owned())
                    .collect()
            });
            return match ids {
                Some(ids) if !ids.is_empty() => vec![Effect::Copy {
                    what: CopyWhat::Ids(ids.len()),
                    text: ids.join("\n"),
                }],
                _ => {
                    m.inform("no ids on this page");
                    Vec::new()
                }
            };
        }
        Action::CopyCurl => {
            let cmd = shown_request(m).map(|(url, headers)| curl_command(url, headers));
            return copy_or_say(m, CopyWhat::Curl, cmd, "no request to copy yet");
        }
        Action::CopyCurlWithToken => {
            let request = shown_request(m).map(|(url, headers)| (url.to_owned(), headers.to_vec()));
            return match request {
                Some((url, headers)) => vec![Effect::CopyCurlWithToken { url, headers }],
                None => {
                    m.inform("no request to copy yet");
                    Vec::new()
                }
            };
        }
        Action::CopyAccessToken => return vec![Effect::CopyAccessToken],
        Action::Search => {
            if m.focus == Focus::Json {
                m.mode = Mode::Line {
                    target: LineTarget::Search,
                    input: String::new(),
                };
            }
        }
        Action::NextMatch | Action::PrevMatch => {
            if m.json.matches.is_empty() {
                let search = m.keymap.key_label(Context::Json, Action::Search);
                m.inform(format!("no matches ({search} to search)"));
            } else {
                m.json.next_match(action == Action::NextMatch, jh);
                m.inform(format!(
                    "match {}/{}",
                    m.json.current + 1,
                    m.json.matches.len()
                ));
            }
        }
        Action::ToggleHeaders => toggle_json_target(m, JsonTarget::Headers),
        Action::ToggleObject => toggle_json_target(m, JsonTarget::Object),
        Action::ScrollUp
        | Action::ScrollDown
        | Action::PageUp
        | Action::PageDown
        | Action::ScrollTop
        | Action::ScrollBottom => scroll(m, action),
        Action::ScrollLeft | Action::ScrollRight | Action::ToggleWrap => json_sideways(m, action),
        Action::PrevPage | Action::NextPage => return move_page(m, action == Action::NextPage),
        Action::PrevChoice | Action::NextChoice => {
            query_choice(m, action == Action::NextChoice);
        }
        Action::Activate => return activate(m),
        Action::Toggle => query_toggle(m),
        Action::AddField => {
            if !frozen_refusal(m) {
                m.focus = Focus::Query;
                m.mode = Mode::Line {
                    target: LineTarget::NewField,
                    input: String::new(),
                };
            }
        }
    }
    Vec::new()
}

/// The request a copy of "the request" means: the selected page's, else the query's preview.
fn shown_request(m: &Model) -> Option<(&str, &[(String, String)])> {
    match m.selected_page() {
        Some(p) if !p.url.is_empty() => Some((p.url.as_str(), p.request_headers.as_slice())),
        _ => m
            .query
            .preview
            .url
            .as_ref()
            .ok()
            .map(|u| (u.as_str(), m.query.preview.headers.as_slice())),
    }
}

/// Shows `target` in the JSON pane, or the page again when it already shows it.
fn toggle_json_target(m: &mut Model, target: JsonTarget) {
    m.json_target = if m.json_target == target {
        JsonTarget::Page
    } else {
        target
    };
    refresh_json(m);
}

pub(super) fn copy_or_say(
    m: &mut Model,
    what: CopyWhat,
    text: Option<String>,
    none: &str,
) -> Vec<Effect> {
    match text {
        Some(text) => vec![Effect::Copy { what, text }],
        None => {
            m.inform(none.to_owned());
            Vec::new()
        }
    }
}

pub(super) fn scroll(m: &mut Model, action: Action) {
    match m.focus {
        Focus::Json => {
            let h = m.json_height();
            let page = isize::try_from(h.saturating_sub(1).max(1)).unwrap_or(1);
            match action {
                Action::ScrollUp => m.json.scroll_by(-1, h),
                Action::ScrollDown => m.json.scroll_by(1, h),
                Action::PageUp => m.json.scroll_by(-page, h),
                Action::PageDown => m.json.scroll_by(page, h),
                Action::ScrollTop => m.json.scroll_top(),
                _ => m.json.scroll_bottom(h, m.json_width()),
            }
        }
        Focus::Results => {
            let n = m.selected_page().map(|p| p.rows.len()).unwrap_or(0);
            if n == 0 {
                return;
            }
            let h = m.table_height();
            m.sel_row = match action {
                Action::ScrollUp => m.sel_row.saturating_sub(1),
                Action::ScrollDown => (m.sel_row + 1).min(n - 1),
                Action::PageUp => m.sel_row.saturating_sub(h),
                Action::PageDown => (m.sel_row + h).min(n - 1),
                Action::ScrollTop => 0,
                _ => n - 1,
            };
            keep_row_visible(m);
            if m.json_target == JsonTarget::Object {
                refresh_json(m);
            }
        }
        Focus::Query => {
            let n = m.query_fields().len();
            m.query_cursor = match action {
                Action::ScrollUp => m.query_cursor.saturating_sub(1),
                Action::ScrollDown => (m.query_cursor + 1).min(n.saturating_sub(1)),
                Action::ScrollTop | Action::PageUp => 0,
                _ => n.saturating_sub(1),
            };
        }
    }
}

/// Long lines of the JSON pane: scrolled sideways by half the pane's width, or wrapped.
fn json_sideways(m: &mut Model, action: Action) {
    let (h, w) = (m.json_height(), m.json_width());
    let step = isize::try_from((m.json.text_width(w) / 2).max(1)).unwrap_or(1);
    match action {
        Action::ScrollLeft => m.json.scroll_sideways(-step, h, w),
        Action::ScrollRight => m.json.scroll_sideways(step, h, w),
        _ => m.json.toggle_wrap(h),
    }
}

pub(super) fn keep_row_visible(m: &mut Model) {
    let h = m.table_height();
    if m.sel_row < m.row_offset {
        m.row_offset = m.sel_row;
    } else if m.sel_row >= m.row_offset + h {
        m.row_offset = m.sel_row + 1 - h;
    }
}

pub(super) fn clamp_scrolls(m: &mut Model) {
    let h = m.json_height();
    m.json.scroll_by(0, h);
    keep_row_visible(m);
}

pub(super) fn move_page(m: &mut Model, forward: bool) -> Vec<Effect> {
    // Flattened (round, page) positions.
    let flat: Vec<(usize, usize)> = m
        .rounds
        .iter()
        .enumerate()
        .flat_map(|(ri, r)| (0..r.pages.len()).map(move |pi| (ri, pi)))
        .collect();
    let pos = flat
        .iter()
        .position(|&(r, p)| r == m.sel_round && p == m.sel_page);
    let next = match (pos, forward) {
        (Some(i), true) if i + 1 < flat.len() => Some(flat[i + 1]),
        (Some(i), false) if i > 0 => Some(flat[i - 1]),
        (None, _) => flat.first().copied(),
        _ => None,
    };
    match next {
        Some((r, p)) => {
            m.sel_round = r;
            m.sel_page = p;
            m.sel_row = 0;
            m.row_offset = 0;
            refresh_json(m);
            Vec::new()
        }
        None if forward && !m.fetch.in_flight() && !m.round_complete() => fetch(m, false),
        None => Vec::new(),
    }
}

/// Selects the last page of the last round (and its first row): from there, each new page and
/// round is selected as it arrives.
fn select_latest_page(m: &mut Model) {
    let Some(ri) = m.rounds.len().checked_sub(1) else {
        m.inform("no pages yet");
        return;
    };
    let pi = m.rounds[ri].pages.len().saturating_sub(1);
    if (m.sel_round, m.sel_page) == (ri, pi) {
        m.unchanged();
        return;
    }
    m.sel_round = ri;
    m.sel_page = pi;
    m.sel_row = 0;
    m.row_offset = 0;
    refresh_json(m);
}

pub(super) fn activate(m: &mut Model) -> Vec<Effect> {
    match m.focus {
        Focus::Results => {
            if m.selected_page().is_some_and(|p| !p.rows.is_empty()) {
                m.json_target = JsonTarget::Object;
                m.focus = Focus::Json;
                refresh_json(m);
            }
        }
        Focus::Query => {
            let Some(field) = m.query_fields().get(m.query_cursor).copied() else {
                return Vec::new();
            };
            if frozen_refusal(m) {
                return Vec::new();
            }
            match field {
                QueryField::Param(i) => {
                    let input = m
                        .query
                        .params
                        .get(i)
                        .map(|p| p.value.clone())
                        .unwrap_or_default();
                    m.mode = Mode::Line {
                        target: LineTarget::Param(i),
                        input,
                    };
                }
                QueryField::Top => {
                    m.mode = Mode::Line {
                        target: LineTarget::Top,
                        input: m.query.top.map(|t| t.to_string()).unwrap_or_default(),
                    };
                }
                QueryField::MaxPage => {
                    m.mode = Mode::Line {
                        target: LineTarget::MaxPage,
                        input: m.query.max_page.map(|t| t.to_string()).unwrap_or_default(),
                    };
                }
                QueryField::Path => {
                    m.mode = Mode::Line {
                        target: LineTarget::Path,
                        input: m.query.path.clone(),
                    };
                }
                QueryField::Types => {
                    m.mode = Mode::Line {
                        target: LineTarget::Types,
                        input: m.query.types.clone(),
                    };
                }
                QueryField::Ids => m.mode = Mode::EditIds,
                QueryField::Resource => super::resources::open(m),
                QueryField::Api => query_choice(m, true),
                _ => query_toggle(m),
            }
        }
        Focus::Json => {}
    }
    Vec::new()
}

pub(super) fn query_toggle(m: &mut Model) {
    if m.focus != Focus::Query {
        return;
    }
    let Some(field) = m.query_fields().get(m.query_cursor).copied() else {
        return;
    };
    if frozen_refusal(m) {
        return;
    }
    match field {
        QueryField::Select(i) => {
            if let Some(item) = m.query.select.items.get_mut(i) {
                item.1 = !item.1;
            }
        }
        QueryField::Minimal => m.query.minimal = !m.query.minimal,
        QueryField::Latest => m.query.latest = !m.query.latest,
        QueryField::Ids => m.mode = Mode::EditIds,
        QueryField::Resource | QueryField::Api => {
            query_choice(m, true);
            return;
        }
        _ => return,
    }
    m.refresh_query();
}

pub(super) fn query_choice(m: &mut Model, forward: bool) {
    if m.focus != Focus::Query {
        return;
    }
    let Some(field) = m.query_fields().get(m.query_cursor).copied() else {
        return;
    };
    if !matches!(field, QueryField::Resource | QueryField::Api) || frozen_refusal(m) {
        return;
    }
    match field {
        QueryField::Resource => {
            let n = m.query.resources.len();
            if n == 0 {
                return;
            }
            let i = if forward {
                (m.query.resource + 1) % n
            } else {
                (m.query.resource + n - 1) % n
            };
            m.query.path.clear();
            m.query.set_resource(i);
            m.ids_editor = TextArea::new(m.query.ids.clone());
        }
        _ => {
            m.query.api = if m.query.api == "beta" {
                "v1.0".to_owned()
            } else {
                "beta".to_owned()
            };
            // The checklist follows the version (beta knows more properties; the ticks stay).
            let i = m.query.resource;
            m.query.set_resource(i);
        }
    }
    m.refresh_query();
}
