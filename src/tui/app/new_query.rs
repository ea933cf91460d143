//! A new query without a restart: the options unfreeze, the rounds fetched so far are kept
//! (shown, labelled as an earlier query's) or dropped, and the next fetch starts a new session
//! from the first request.
use super::effect::Effect;
use super::model::{Focus, Mode, Model};
use super::notice::{NoticeEnd, NoticeKind};
use super::sign_in::drop_session;
use crate::graph::round::plural;
use crate::tui::keymap::{Action, Context};

/// The new-query key: with rounds on the screen, asks whether to keep them first; without,
/// unfreezes at once. Nothing to do while the query was never sent.
pub(super) fn ask_new_query(m: &mut Model) -> Vec<Effect> {
    if !m.query.frozen && !m.fetch.in_flight() {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        m.inform(format!(
            "the query can be edited already: nothing was sent yet ({fetch} sends it)"
        ));
        return Vec::new();
    }
    if m.rounds.is_empty() {
        return new_query(m, false);
    }
    m.mode = Mode::NewQuery;
    Vec::new()
}

/// The answer to the question: `keep` the rounds so far (labelled as an earlier query's) or
/// drop them. A running fetch is cancelled first; its late answers are dropped.
pub(super) fn new_query(m: &mut Model, keep: bool) -> Vec<Effect> {
    m.mode = Mode::Normal;
    let mut out = Vec::new();
    if m.fetch.in_flight() {
        out.push(Effect::Cancel {
            run_id: m.fetch.run_id,
        });
    }
    let rounds = m.rounds.len();
    if keep {
        m.fetch.abandon();
        m.kept_rounds = rounds;
        m.query.frozen = false;
        m.token_check = None;
    } else {
        drop_session(m);
    }
    m.focus = Focus::Query;
    m.refresh_query();
    let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
    let what = match (keep, rounds) {
        (_, 0) => String::new(),
        (true, n) => format!(
            "; {} kept, marked \"earlier query\"",
            plural(n, "round", "rounds")
        ),
        (false, n) => format!("; {} dropped", plural(n, "round", "rounds")),
    };
    let cancelled = if out.is_empty() {
        ""
    } else {
        "; the running fetch was cancelled"
    };
    m.notify(
        NoticeKind::Info,
        NoticeEnd::Replaced,
        format!(
            "new query: edit the options, then {fetch} sends its first request{what}{cancelled}"
        ),
    );
    out
}

/// The question is answered with neither: the query stays as it is.
pub(super) fn keep_query(m: &mut Model) -> Vec<Effect> {
    m.mode = Mode::Normal;
    m.inform("the query stays as it is");
    Vec::new()
}
