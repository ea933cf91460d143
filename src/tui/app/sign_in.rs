//! Sign-in on the model side: starting, cancelling, and the outcomes of attempts.
use super::effect::Effect;
use super::fetch::fetch;
use super::model::{Mode, Model};
use super::notice::{NoticeEnd, NoticeKind};
use crate::tui::json_view::JsonView;
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{DeviceCodeView, SignInState, SignInTarget, SignedIn};

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

/// No sign-in in force (none yet, or the first one failed or was cancelled): says so and why.
pub(super) fn not_signed_in_refusal(m: &mut Model) -> bool {
    match &m.sign_in {
        SignInState::SignedOut | SignInState::Starting { .. } => {
            m.notify(
                NoticeKind::Warning,
                NoticeEnd::NotSignedIn,
                format!("not signed in yet: {}", sign_in_keys(m)),
            );
            true
        }
        SignInState::Failed {
            error,
            previous: None,
            ..
        } => {
            m.notify(
                NoticeKind::Warning,
                NoticeEnd::NotSignedIn,
                format!("not signed in ({error}): {}", sign_in_keys(m)),
            );
            true
        }
        _ => false,
    }
}

/// Requests that continue the session wait for no sign-in: a running one replaces the session.
pub(super) fn sign_in_refusal(m: &mut Model) -> bool {
    if m.sign_in.running() {
        m.notify(
            NoticeKind::Info,
            NoticeEnd::SignInRunning(m.sign_in.last_attempt()),
            cancel_hint(
                m,
                "signing in: the session starts again with the new sign-in",
            ),
        );
        return true;
    }
    not_signed_in_refusal(m)
}

/// The runtime started: the start-up sign-in begins, when one is to be run.
pub(super) fn on_started(m: &mut Model) -> Vec<Effect> {
    match &m.sign_in {
        SignInState::Starting { target } => {
            let target = target.clone();
            begin_sign_in(m, target)
        }
        _ => Vec::new(),
    }
}

/// Starts sign-in `target` in the background (a running one is cancelled first; a fetch that
/// waited for it waits for this one).
pub fn begin_sign_in(m: &mut Model, target: SignInTarget) -> Vec<Effect> {
    let mut out = Vec::new();
    let previous = m.sign_in.in_force().cloned();
    let mut fetch_after = None;
    if let SignInState::Running {
        attempt,
        fetch_after: waiting,
        ..
    } = &m.sign_in
    {
        out.push(Effect::CancelSignIn { attempt: *attempt });
        fetch_after = *waiting;
    }
    let attempt = m.sign_in.last_attempt() + 1;
    m.sign_in = SignInState::Running {
        attempt,
        target: target.clone(),
        since: m.now,
        prompt: None,
        previous,
        renewal: false,
        fetch_after,
    };
    m.notify(
        NoticeKind::Progress,
        NoticeEnd::SignInRunning(attempt),
        format!("signing in: {target}…"),
    );
    out.push(Effect::SignIn {
        attempt,
        target,
        resource: m.query.current().map(|r| r.name.clone()),
    });
    out
}

pub(super) fn cancel_sign_in(m: &mut Model) -> Vec<Effect> {
    let SignInState::Running { attempt, .. } = m.sign_in else {
        m.inform("no sign-in to cancel");
        return Vec::new();
    };
    on_sign_in_failed(m, attempt, crate::auth::AuthError::Cancelled.to_string());
    vec![Effect::CancelSignIn { attempt }]
}

/// Sign-in `attempt` got a device code: shown over the explorer. Also when the sign-in in force
/// needs the person again, in the middle of a request (a renewal).
pub(super) fn on_device_code(m: &mut Model, attempt: u64, prompt: DeviceCodeView) {
    match &mut m.sign_in {
        SignInState::Running {
            attempt: a,
            prompt: p,
            ..
        } if *a == attempt => *p = Some(prompt),
        SignInState::Active(s)
        | SignInState::Failed {
            previous: Some(s), ..
        } if s.attempt == attempt && attempt > 0 => {
            let previous = s.clone();
            m.sign_in = SignInState::Running {
                attempt,
                target: previous.target.clone(),
                since: m.now,
                prompt: Some(prompt),
                previous: Some(previous),
                renewal: true,
                fetch_after: None,
            };
        }
        _ => {
            m.unchanged();
            return;
        }
    }
    m.notify(
        NoticeKind::Progress,
        NoticeEnd::SignInRunning(attempt),
        match m.keymap.key_for(Context::SignIn, Action::CopyCode) {
            Some(k) => format!("open the page shown and enter the code ({k} copies it)"),
            None => "open the page shown and enter the code".to_owned(),
        },
    );
}

/// The renewal of the sign-in in force (`attempt`) ended: the overlay closes.
pub(super) fn on_renewed(m: &mut Model, attempt: u64, result: Result<(), String>) {
    if let SignInState::Running {
        attempt: a,
        renewal: true,
        previous,
        ..
    } = &m.sign_in
        && *a == attempt
    {
        match result {
            Ok(()) => {
                let signed_in = previous.clone().unwrap_or_default();
                m.inform(format!("signed in again: {}", signed_in.who));
                m.sign_in = SignInState::Active(signed_in);
            }
            Err(error) => on_sign_in_failed(m, attempt, error),
        }
    } else {
        m.unchanged();
    }
}

pub(super) fn on_sign_in_failed(m: &mut Model, attempt: u64, error: String) {
    let SignInState::Running {
        attempt: a,
        target,
        previous,
        renewal,
        fetch_after,
        ..
    } = m.sign_in.clone()
    else {
        m.unchanged();
        return;
    };
    if a != attempt {
        m.unchanged();
        return;
    }
    // A renewal that did not happen leaves no working sign-in: a fresh one is needed.
    let previous = if renewal { None } else { previous };
    let dropped = if fetch_after.is_some() {
        "; the fetch that waited for it was not sent"
    } else {
        ""
    };
    m.notify(NoticeKind::Error, if previous.is_some() { NoticeEnd::Replaced } else { NoticeEnd::NotSignedIn }, match previous.as_ref().map(|p| p.who.as_str()) {
        Some(who) if !who.is_empty() => {
            format!("sign-in with {target} failed: {error}{dropped}; still signed in: {who}")
        }
        Some(_) => format!(
            "sign-in with {target} failed: {error}{dropped}; the previous sign-in stays in force"
        ),
        None => format!("not signed in: {error}{dropped}; {}", sign_in_keys(m)),
    });
    m.sign_in = SignInState::Failed {
        attempt,
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
        attempt: a,
        target,
        fetch_after,
        ..
    } = &m.sign_in
    else {
        return m.unchanged();
    };
    if *a != attempt {
        return m.unchanged();
    }
    let fetch_after = *fetch_after;
    m.sign_in = SignInState::Active(SignedIn {
        who: who.clone(),
        attempt,
        target: target.clone(),
    });
    m.title = title;
    m.token = None;
    m.previewer.set_root(root);
    let mut status = format!("signed in: {who}");
    if m.query.frozen || !m.rounds.is_empty() || m.fetch.in_flight() {
        // The runtime dropped its session with the old sign-in; another identity's rounds must
        // not mix with the new ones.
        drop_session(m);
        status.push_str(
            "; the previous session's rounds were dropped (they belong to the other sign-in)",
        );
    }
    m.refresh_query();
    m.inform(status);
    match fetch_after {
        Some(follow) => fetch(m, follow),
        None => Vec::new(),
    }
}

/// Forgets the session: rounds, selection, the JSON pane, the fetch state; the query can be
/// edited again. A late answer of the old session carries an old run id and is dropped.
pub(super) fn drop_session(m: &mut Model) {
    m.fetch.abandon();
    m.rounds.clear();
    m.kept_rounds = 0;
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
