//! Sign-in on the model side: starting, cancelling, and the outcomes of attempts.
use super::effect::Effect;
use super::fetch::fetch;
use super::model::{Mode, Model};
use crate::tui::json_view::JsonView;
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{FetchState, SignInState, SignInTarget};

/// `what`, and how to cancel the running sign-in (its key in the device-code overlay).
pub(super) fn cancel_hint(m: &Model, what: &str) -> String {
    match m.keymap.key_for(Context::SignIn, Action::CancelSignIn) {
        Some(k) if m.device_code().is_some() => format!("{what} ({k} cancels the sign-in)"),
        _ => what.to_owned(),
    }
}

/// How to get out of a failed sign-in: the keys to sign in again and to choose a profile.
pub(super) fn sign_in_keys(m: &Model) -> String {
    let again = m.keymap.key_for(Context::Global, Action::SignInAgain);
    let profiles = m.keymap.key_for(Context::Global, Action::SwitchProfile);
    match (again, profiles) {
        (Some(a), Some(p)) => format!("press {a} to sign in again or {p} to choose a profile"),
        (Some(a), None) => format!("press {a} to sign in again"),
        (None, Some(p)) => format!("press {p} to choose a profile"),
        (None, None) => "restart the explorer to sign in again".to_owned(),
    }
}

/// No sign-in in force (the first one failed or was cancelled): says so and why.
pub(super) fn not_signed_in_refusal(m: &mut Model) -> bool {
    if m.sign_in == SignInState::SignedOut {
        m.status = Some(format!("not signed in yet: {}", sign_in_keys(m)));
        return true;
    }
    if let SignInState::Failed {
        error,
        previous: None,
        ..
    } = &m.sign_in
    {
        m.status = Some(format!("not signed in ({error}): {}", sign_in_keys(m)));
        return true;
    }
    false
}

/// Requests that continue the session wait for no sign-in: a running one replaces the session.
pub(super) fn sign_in_refusal(m: &mut Model) -> bool {
    if matches!(m.sign_in, SignInState::Running { .. }) {
        m.status = Some(cancel_hint(
            m,
            "signing in: the session starts again with the new sign-in",
        ));
        return true;
    }
    not_signed_in_refusal(m)
}

/// Starts sign-in `target` in the background (a running one is cancelled first).
pub fn begin_sign_in(m: &mut Model, target: SignInTarget) -> Vec<Effect> {
    let mut out = Vec::new();
    let previous = m.signed_in_as().map(str::to_owned);
    if let SignInState::Running { attempt, .. } = &m.sign_in {
        out.push(Effect::CancelSignIn { attempt: *attempt });
    }
    m.sign_in_attempt += 1;
    m.sign_in = SignInState::Running {
        attempt: m.sign_in_attempt,
        target: target.clone(),
        since: m.now,
        prompt: None,
        previous,
        renewal: false,
    };
    m.sign_in_target = target.clone();
    m.status = Some(format!("signing in: {target}…"));
    out.push(Effect::SignIn {
        attempt: m.sign_in_attempt,
        target,
        resource: m.query.current().map(|r| r.name.clone()),
    });
    out
}

pub(super) fn cancel_sign_in(m: &mut Model) -> Vec<Effect> {
    let SignInState::Running { attempt, .. } = m.sign_in else {
        m.status = Some("no sign-in to cancel".to_owned());
        return Vec::new();
    };
    on_sign_in_failed(m, attempt, crate::auth::AuthError::Cancelled.to_string());
    vec![Effect::CancelSignIn { attempt }]
}

pub(super) fn on_sign_in_failed(m: &mut Model, attempt: u64, error: String) {
    let SignInState::Running {
        attempt: a,
        target,
        previous,
        renewal,
        ..
    } = m.sign_in.clone()
    else {
        return;
    };
    if a != attempt {
        return;
    }
    // A renewal that did not happen leaves no working sign-in: a fresh one is needed.
    let previous = if renewal { None } else { previous };
    let dropped = if m.pending_fetch.take().is_some() {
        "; the fetch that waited for it was not sent"
    } else {
        ""
    };
    m.status = Some(match &previous {
        Some(who) if !who.is_empty() => {
            format!("sign-in with {target} failed: {error}{dropped}; still signed in: {who}")
        }
        Some(_) => format!(
            "sign-in with {target} failed: {error}{dropped}; the previous sign-in stays in force"
        ),
        None => format!("not signed in: {error}{dropped}; {}", sign_in_keys(m)),
    });
    m.sign_in = SignInState::Failed {
        target,
        error,
        previous,
    };
}

pub(super) fn on_signed_in(
    m: &mut Model,
    attempt: u64,
    who: String,
    title: String,
    root: &str,
) -> Vec<Effect> {
    let SignInState::Running {
        attempt: a, target, ..
    } = &m.sign_in
    else {
        return Vec::new();
    };
    if *a != attempt {
        return Vec::new();
    }
    m.signed_in_attempt = attempt;
    m.signed_in_target = target.clone();
    m.sign_in = SignInState::Active { who: who.clone() };
    m.title = title;
    m.token = None;
    m.previewer.set_root(root);
    let mut status = format!("signed in: {who}");
    if m.started() || !m.rounds.is_empty() || m.in_flight {
        // The runtime dropped its session with the old sign-in; another identity's rounds must
        // not mix with the new ones.
        drop_session(m);
        status.push_str(
            "; the previous session's rounds were dropped (they belong to the other sign-in)",
        );
    }
    m.refresh_query();
    m.status = Some(status);
    match m.pending_fetch.take() {
        Some(follow) => fetch(m, follow),
        None => Vec::new(),
    }
}

/// Forgets the session: rounds, selection, the JSON pane, the fetch state; the query can be
/// edited again. A late answer of the old session carries an old run id and is dropped.
pub(super) fn drop_session(m: &mut Model) {
    m.current_run += 1;
    m.in_flight = false;
    m.follow = false;
    m.fetch = FetchState::Idle;
    m.rounds.clear();
    m.columns.clear();
    m.sel_round = 0;
    m.sel_page = 0;
    m.sel_row = 0;
    m.row_offset = 0;
    m.json = JsonView::default();
    m.json_key = None;
    m.query.frozen = false;
    m.token_check = None;
}

pub(super) fn choose_profile(m: &mut Model) -> Vec<Effect> {
    let Some(view) = &m.profiles else {
        return Vec::new();
    };
    let target = match m.profile_cursor {
        0 => SignInTarget::Startup,
        i => match view.entries.get(i - 1) {
            Some(e) => SignInTarget::Profile(e.name.clone()),
            None => return Vec::new(),
        },
    };
    m.mode = Mode::Normal;
    begin_sign_in(m, target)
}
