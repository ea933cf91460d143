//! The fetch state machine on the model side: starting runs, accepting their pages, ending them.
use super::effect::Effect;
use super::json_pane::refresh_json;
use super::model::{Focus, Model};
use super::notice::{NoticeEnd, NoticeKind};
use super::sign_in::{cancel_hint, not_signed_in_refusal, sign_in_refusal};
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{ErrorView, FetchState, PageView, RoundView, SignInState};

/// " (press i to inspect the token)", with the inspector's key (nothing without one).
pub(super) fn inspector_hint(m: &Model) -> String {
    m.keymap
        .key_for(Context::Global, Action::InspectToken)
        .map(|k| format!(" (press {k} to inspect the token)"))
        .unwrap_or_default()
}

/// A fetch failed, or its round stopped: nothing is in flight any more and the status says why.
pub(super) fn on_failed(m: &mut Model, error: ErrorView) {
    m.notify(
        NoticeKind::Error,
        NoticeEnd::Run(m.fetch.run_id),
        match (
            error.needs_resync,
            m.keymap.key_for(Context::Global, Action::Resync),
        ) {
            (true, Some(k)) => format!("fetch failed; press {k} for a full resync"),
            _ => match (
                error.status,
                m.keymap.key_for(Context::Global, Action::InspectToken),
            ) {
                // What the token check finds missing, in its own words.
                (Some(403), _) if !error.token_problems.is_empty() => format!(
                    "403 Forbidden: {}{}",
                    error.token_problems.join("; "),
                    inspector_hint(m)
                ),
                (Some(403), Some(k)) => {
                    format!("403 Forbidden: press {k} to inspect the token's permissions")
                }
                _ => "fetch failed (details in the status bar)".to_owned(),
            },
        },
    );
    m.fetch.state = FetchState::Failed { error };
}

pub(super) fn accept(m: &mut Model, run_id: u64) -> bool {
    if run_id == m.fetch.run_id && m.fetch.in_flight() {
        true
    } else {
        m.dropped_stale += 1;
        m.unchanged();
        false
    }
}

/// Puts a row (a page, or a failed request) at the end of round `round`, selected when the
/// selection was on the last row.
pub(super) fn add_row(m: &mut Model, round: u32, page: PageView) {
    let at_end = m.rounds.is_empty()
        || (m.sel_round + 1 == m.rounds.len()
            && m.rounds
                .last()
                .is_some_and(|r| m.sel_page + 1 >= r.pages.len()));
    let minimal = page.minimal();
    // Rounds kept from an earlier query have numbers of their own: only this query's count.
    let kept = m.kept_rounds;
    let ri = match m.current_rounds().iter().position(|r| r.number == round) {
        Some(i) => kept + i,
        None => {
            m.rounds.push(RoundView {
                number: round,
                minimal,
                ..Default::default()
            });
            m.rounds.len() - 1
        }
    };
    let r = &mut m.rounds[ri];
    // A round that began with a failed request is what its first page says it is.
    if page.failure.is_none() || r.fetched().next().is_none() {
        r.full = page.full_round;
    }
    if page.delta_link.is_some() {
        r.delta_link = page.delta_link.clone();
    }
    r.pages.push(page);
    if at_end {
        m.sel_round = ri;
        m.sel_page = m.rounds[ri].pages.len() - 1;
        m.sel_row = 0;
        m.row_offset = 0;
        refresh_json(m);
    }
}

/// A request of the run failed: it becomes a row of the round it was for (the fetch's state
/// follows with `FetchFailed`).
pub(super) fn on_request_failed(m: &mut Model, round: u32, row: PageView) {
    add_row(m, round, row);
}

pub(super) fn on_page(m: &mut Model, round: u32, page: PageView) {
    let delta = page.delta_link.clone();
    let index = page.index;
    add_row(m, round, page);
    if delta.is_some() {
        m.fetch.state = FetchState::RoundComplete { delta_link: delta };
    } else if m.fetch.following() {
        m.fetch.state = FetchState::Fetching {
            page: index + 1,
            since: m.now,
            follow: true,
        };
    } else {
        m.fetch.state = FetchState::Idle;
    }
}

pub(super) fn begin_run(m: &mut Model, follow: bool) -> u64 {
    let page = if m.round_complete() || m.rounds.is_empty() {
        1
    } else {
        m.last_page().map(|p| p.index + 1).unwrap_or(1)
    };
    m.fetch.begin(page, m.now, follow)
}

/// After a 410 / syncStateNotFound the stored link is dead: only a full resync goes on.
pub(super) fn needs_resync_refusal(m: &mut Model) -> bool {
    if let FetchState::Failed { error } = &m.fetch.state
        && error.needs_resync
    {
        let k = m
            .keymap
            .key_for(Context::Global, Action::Resync)
            .map(|k| k.to_string())
            .unwrap_or_else(|| "resync".to_owned());
        m.notify(
            NoticeKind::Warning,
            NoticeEnd::Run(m.fetch.run_id),
            format!("this session needs a full resync: press {k}"),
        );
        return true;
    }
    false
}

/// A new run cannot start while one is in flight, nor go on from a dead link.
pub(super) fn run_refusal(m: &mut Model) -> bool {
    if m.fetch.in_flight() {
        let cancel = m.keymap.key_label(Context::Global, Action::Cancel);
        m.notify(
            NoticeKind::Info,
            NoticeEnd::RunInFlight(m.fetch.run_id),
            format!("a fetch is already running ({cancel} cancels)"),
        );
        return true;
    }
    needs_resync_refusal(m)
}

pub(super) fn fetch(m: &mut Model, follow: bool) -> Vec<Effect> {
    if let SignInState::Running { fetch_after, .. } = &mut m.sign_in {
        // Sent with the new sign-in once it is in force, never with the one it replaces.
        *fetch_after = Some(follow);
        m.notify(
            NoticeKind::Info,
            NoticeEnd::SignInRunning(m.sign_in.last_attempt()),
            cancel_hint(
                m,
                "signing in: the fetch starts as soon as the sign-in completes",
            ),
        );
        return Vec::new();
    }
    if not_signed_in_refusal(m) || run_refusal(m) {
        return Vec::new();
    }
    if !m.query.frozen {
        let errors: Vec<String> = m
            .query
            .problems
            .iter()
            .filter(|p| p.is_error)
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        if !errors.is_empty() {
            m.notify(
                NoticeKind::Error,
                NoticeEnd::QueryErrors,
                format!("fix the query first: {}", errors.join("; ")),
            );
            m.focus = Focus::Query;
            return Vec::new();
        }
        m.query.frozen = true;
        m.columns = table_columns(m);
        // The engine checks the token before this first request; an older answer is stale.
        m.token_check = None;
        let run_id = begin_run(m, follow);
        m.notify(
            NoticeKind::Progress,
            NoticeEnd::RunInFlight(run_id),
            "first request sent; the options are now frozen in the state token",
        );
        return vec![Effect::Start {
            run_id,
            query: m.query.draft(),
            follow,
        }];
    }
    if m.round_complete() {
        if follow {
            // Following is for the round under way: the next round is asked for by name.
            refuse_follow_of_complete_round(m);
            return Vec::new();
        }
        return next_round_with(m, follow);
    }
    let run_id = begin_run(m, follow);
    if follow {
        vec![Effect::FollowRound { run_id }]
    } else {
        vec![Effect::FetchNext { run_id }]
    }
}

/// The table's columns for the query in the builder: its `$select` fields, or the resource's
/// default properties (`id` has a column of its own).
pub(super) fn table_columns(m: &Model) -> Vec<String> {
    let mut columns = if m.query.own_path().is_some() {
        // A path of one's own: its properties are not known here; the id and the marks.
        Vec::new()
    } else if m.query.select.selected().is_empty() {
        m.query
            .current()
            .map(|r| {
                if r.columns.is_empty() {
                    r.default_properties.clone()
                } else {
                    r.columns.clone()
                }
            })
            .unwrap_or_default()
    } else {
        m.query.select.selected()
    };
    columns.retain(|c| c != "id");
    columns
}

pub(super) fn next_round(m: &mut Model) -> Vec<Effect> {
    if sign_in_refusal(m) || run_refusal(m) {
        return Vec::new();
    }
    if !m.query.frozen {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        m.inform(format!(
            "this query has no round yet: {fetch} sends its first request"
        ));
        return Vec::new();
    }
    if !m.round_complete() {
        m.inform("the round is not complete yet: no deltaLink to continue from");
        return Vec::new();
    }
    next_round_with(m, false)
}

/// Follow on a round that already has its deltaLink: nothing to follow; says that the round is
/// complete and which key starts the next one.
fn refuse_follow_of_complete_round(m: &mut Model) {
    let n = m.last_fetched_round().map(|r| r.number).unwrap_or(1);
    let next = m.keymap.key_label(Context::Global, Action::NextRound);
    let follow = m.keymap.key_label(Context::Global, Action::FollowRound);
    m.notify(
        NoticeKind::Info,
        NoticeEnd::Run(m.fetch.run_id),
        format!(
            "round {n} is complete (deltaLink stored): {next} starts round {}, then {follow} follows it",
            n + 1
        ),
    );
}

pub(super) fn next_round_with(m: &mut Model, follow: bool) -> Vec<Effect> {
    let run_id = begin_run(m, follow);
    let n = m.last_fetched_round().map(|r| r.number + 1).unwrap_or(1);
    m.notify(
        NoticeKind::Progress,
        NoticeEnd::RunInFlight(run_id),
        format!("round {n}: calling the deltaLink"),
    );
    if follow {
        // The runtime starts the round from the deltaLink, then keeps following.
        vec![Effect::NextRound { run_id }, Effect::FollowRound { run_id }]
    } else {
        vec![Effect::NextRound { run_id }]
    }
}
