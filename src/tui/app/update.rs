//! `update`: the one mutator of the model; routes each message to its handler.
use std::time::Instant;

use super::actions::clamp_scrolls;
use super::actions::dispatch;
use super::effect::Effect;
use super::fetch::{accept, inspector_hint, on_failed, on_page, on_request_failed};
use super::format::human_bytes;
use super::help::help_page;
use super::keys::{on_key, on_mouse, on_paste};
use super::model::{Mode, Model};
use super::msg::Msg;
use super::notice::{NoticeEnd, NoticeKind};
use super::sign_in::{on_device_code, on_renewed, on_sign_in_failed, on_signed_in, on_started};
use super::table::prepare_visible_rows;
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{FetchState, SignInState, SignInTarget, SignedIn};

/// Applies one message. Pure: the returned effects are the only way out. The model's
/// [`Model::revision`] moves unless the message changed nothing.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    m.unchanged = false;
    let mut out = apply(m, msg);
    // Whatever changed the selection may have left a large body to format.
    if let Some(job) = m.json.take_job() {
        out.push(Effect::FormatJson(job));
    }
    if m.end_notice() {
        m.unchanged = false;
    }
    if !m.unchanged {
        m.revision = m.revision.wrapping_add(1);
        prepare_visible_rows(m);
    }
    out
}

/// [`update`] at `now`: the runtime's clock, for the spinners, countdowns and `since`s (the
/// model reads no clock itself, so tests set the time they want).
pub fn update_at(m: &mut Model, msg: Msg, now: Instant) -> Vec<Effect> {
    m.now = now;
    update(m, msg)
}

pub(super) fn apply(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(m, key),
        Msg::Mouse(ev) => {
            on_mouse(m, ev);
            Vec::new()
        }
        Msg::Paste(text) => {
            on_paste(m, &text);
            Vec::new()
        }
        Msg::Resize { width, height } => {
            m.size = (width, height);
            clamp_scrolls(m);
            m.help_scroll = m
                .help_scroll
                .min(help_page(&m.keymap, m.screen()).max_scroll());
            Vec::new()
        }
        Msg::Tick(now) => {
            m.now = now;
            m.spinner = m.spinner.wrapping_add(1);
            Vec::new()
        }
        Msg::Action(a) => dispatch(m, a),
        Msg::Notice { kind, text } => {
            m.notify(kind, NoticeEnd::Replaced, text);
            Vec::new()
        }
        Msg::CopyRequest { what, text } => vec![Effect::Copy { what, text }],
        Msg::TokenInspected(view) => {
            m.token = Some(view);
            Vec::new()
        }
        Msg::TokenChecked { run_id, check } => {
            if accept(m, run_id) {
                if let Some(first) = check.problems.first() {
                    let more = match check.problems.len() {
                        1 => String::new(),
                        n => format!(" (and {} more)", n - 1),
                    };
                    m.notify(
                        NoticeKind::Warning,
                        NoticeEnd::Run(run_id),
                        format!(
                            "token check: {first}{more}; the request is sent anyway{}",
                            inspector_hint(m)
                        ),
                    );
                }
                m.token_check = Some(check);
            }
            Vec::new()
        }
        Msg::StartUp(start) => {
            m.title = start.title;
            m.theme = *start.theme;
            m.sign_in = match start.signed_in {
                Some(who) => SignInState::Active(SignedIn::at_start(who)),
                None => SignInState::Starting {
                    target: SignInTarget::Startup,
                },
            };
            m.inform(start.greeting);
            m.resume_at_start = start.resume;
            Vec::new()
        }
        Msg::Started => {
            let mut effects = on_started(m);
            // A start-up sign-in would drop the resumed rounds when it completes: the session
            // is resumed once it is in force.
            if !m.sign_in.running()
                && let Some(id) = m.resume_at_start.take()
            {
                effects.extend(super::store::resume(m, id));
            }
            effects
        }
        Msg::DeviceCode { attempt, prompt } => {
            on_device_code(m, attempt, prompt);
            Vec::new()
        }
        Msg::SignInRenewed { attempt, result } => {
            on_renewed(m, attempt, result);
            Vec::new()
        }
        Msg::SignedIn {
            attempt,
            who,
            title,
            root,
        } => {
            let mut effects = on_signed_in(m, attempt, who, title, &root);
            if m.sign_in.in_force().is_some()
                && let Some(id) = m.resume_at_start.take()
            {
                effects.extend(super::store::resume(m, id));
            }
            effects
        }
        Msg::SignInFailed { attempt, error } => {
            on_sign_in_failed(m, attempt, error);
            Vec::new()
        }
        Msg::JsonFormatted { seq, doc } => {
            let h = m.json_height();
            if m.json.formatted(seq, doc, h) {
                Vec::new()
            } else {
                m.unchanged()
            }
        }
        Msg::SessionsLoaded(view) => {
            if super::store::on_sessions_loaded(m, view) {
                Vec::new()
            } else {
                m.unchanged()
            }
        }
        Msg::Resumed { run_id, view } => {
            super::store::on_resumed(m, run_id, *view);
            Vec::new()
        }
        Msg::Recording(result) => {
            if let Err(why) = &result {
                m.notify(NoticeKind::Warning, NoticeEnd::Replaced, why.clone());
            }
            m.recording = Some(result);
            Vec::new()
        }
        Msg::Jq { filter, result } => {
            super::replica::on_jq(m, &filter, result);
            Vec::new()
        }
        Msg::Replica(view) => match super::replica::on_replica(m, *view) {
            Some(effects) => effects,
            None => m.unchanged(),
        },
        Msg::ReplicaArranged { seq, shown } => {
            if super::replica::on_arranged(m, seq, shown) {
                Vec::new()
            } else {
                m.unchanged()
            }
        }
        Msg::Found(view) => {
            if super::search::on_found(m, view) {
                Vec::new()
            } else {
                m.unchanged()
            }
        }
        Msg::History(view) => {
            if super::store::on_history(m, view) {
                Vec::new()
            } else {
                m.unchanged()
            }
        }
        Msg::ProfilesLoaded(view) => {
            if m.mode != Mode::Profiles {
                return m.unchanged();
            }
            m.profile_cursor = m.profile_cursor.min(view.entries.len());
            m.profiles = Some(view);
            Vec::new()
        }
        Msg::Copied {
            what,
            bytes,
            result,
        } => {
            match result {
                Ok(method) => m.inform(format!(
                    "copied {what} ({}) via {method}",
                    human_bytes(bytes)
                )),
                Err(e) => m.notify(
                    NoticeKind::Error,
                    NoticeEnd::Replaced,
                    format!("could not copy {what}: {e}"),
                ),
            }
            Vec::new()
        }
        Msg::Fetching { run_id, page } => {
            if accept(m, run_id) {
                let follow = m.fetch.following();
                m.fetch.state = FetchState::Fetching {
                    page,
                    since: m.now,
                    follow,
                };
            }
            Vec::new()
        }
        Msg::PageArrived {
            run_id,
            round,
            page,
        } => {
            if accept(m, run_id) {
                on_page(m, round, page);
            }
            Vec::new()
        }
        Msg::Throttled {
            run_id,
            until,
            status,
        } => {
            if accept(m, run_id) {
                let follow = m.fetch.following();
                m.fetch.state = FetchState::Throttled {
                    until,
                    status,
                    follow,
                };
            }
            Vec::new()
        }
        Msg::RequestFailed { run_id, round, row } => {
            // Of the newest run only (a refused link is reported after the page that carried
            // it ended the run's fetching).
            if run_id == m.fetch.run_id {
                on_request_failed(m, round, row);
            } else {
                m.dropped_stale += 1;
                m.unchanged();
            }
            Vec::new()
        }
        Msg::FetchFailed { run_id, error } => {
            if accept(m, run_id) {
                on_failed(m, error);
            }
            Vec::new()
        }
        Msg::RoundStopped {
            run_id,
            round,
            summary_line,
            error,
        } => {
            if end_round(m, run_id, round, summary_line, None) {
                let resync = error.needs_resync;
                if resync && let Some(r) = m.rounds.iter_mut().find(|r| r.number == round) {
                    // The round has no way on: a deltaLink that is refused does not complete it.
                    r.delta_link = None;
                }
                on_failed(m, error);
                m.notify(
                    NoticeKind::Warning,
                    NoticeEnd::Run(run_id),
                    match m.keymap.key_for(Context::Global, Action::Resync) {
                        Some(k) if resync => {
                            format!("round {round} stopped; press {k} for a full resync")
                        }
                        _ => format!("round {round} stopped (why, in the status bar)"),
                    },
                );
            }
            Vec::new()
        }
        Msg::RoundComplete {
            run_id,
            round,
            summary_line,
            delta_link,
        } => {
            if end_round(m, run_id, round, summary_line, delta_link.clone()) {
                m.fetch.state = FetchState::RoundComplete {
                    delta_link: delta_link.clone(),
                };
                let next = m
                    .keymap
                    .key_for(Context::Global, Action::NextRound)
                    .map(|k| format!(" ({k}: next round)"))
                    .unwrap_or_default();
                m.notify(
                    NoticeKind::Info,
                    NoticeEnd::Run(run_id),
                    format!("round {round} complete: deltaLink stored{next}"),
                );
            }
            Vec::new()
        }
    }
}

/// The end of round `round` of run `run_id` (complete, or stopped): its summary and deltaLink
/// are kept; `false` for a stale run. The round's last page already ended the fetch, so the
/// run id alone tells whether this is stale.
fn end_round(
    m: &mut Model,
    run_id: u64,
    round: u32,
    summary_line: Option<String>,
    delta_link: Option<String>,
) -> bool {
    if run_id != m.fetch.run_id {
        m.dropped_stale += 1;
        m.unchanged();
        return false;
    }
    let kept = m.kept_rounds;
    if let Some(r) = m.rounds.iter_mut().skip(kept).find(|r| r.number == round) {
        r.summary_line = summary_line;
        if delta_link.is_some() {
            r.delta_link = delta_link;
        }
    }
    true
}
