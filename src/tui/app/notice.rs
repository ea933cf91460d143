//! Notices: what the status bar says besides the fetch and sign-in states. Each is typed (what
//! kind of news it is) and names the state it describes, so that it ends when that state ends
//! instead of staying until something else happens to be said.
use std::time::Instant;

use super::model::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// An answer to something the person did (copied, matches, nothing to cancel).
    Info,
    /// Something under way (a request sent, a sign-in running).
    Progress,
    /// Something refused or doubtful, with the way on.
    Warning,
    /// Something failed.
    Error,
}

/// The state a notice describes: it ends when that state ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeEnd {
    /// Only another notice replaces it.
    Replaced,
    /// Run `run_id` is in flight: ends when it is not (its page arrived, it failed, was
    /// cancelled or superseded).
    RunInFlight(u64),
    /// Run `run_id` is the newest (its outcome): ends when another run starts or the session is
    /// dropped.
    Run(u64),
    /// Sign-in `attempt` runs: ends when it succeeded, failed or was cancelled.
    SignInRunning(u64),
    /// No sign-in is in force: ends when one is.
    NotSignedIn,
    /// The query has errors: ends when it has none.
    QueryErrors,
    /// The query's options are frozen in the state token: ends when the session is dropped.
    QueryFrozen,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
    pub since: Instant,
    pub ends_with: NoticeEnd,
}

impl Notice {
    /// The state it describes still holds in `m`.
    pub fn holds(&self, m: &Model) -> bool {
        match self.ends_with {
            NoticeEnd::Replaced => true,
            NoticeEnd::RunInFlight(run_id) => m.fetch.run_id == run_id && m.fetch.in_flight(),
            NoticeEnd::Run(run_id) => m.fetch.run_id == run_id,
            NoticeEnd::SignInRunning(attempt) => {
                m.sign_in.running() && m.sign_in.last_attempt() == attempt
            }
            NoticeEnd::NotSignedIn => m.sign_in.in_force().is_none(),
            NoticeEnd::QueryErrors => m.query.problems.iter().any(|p| p.is_error),
            NoticeEnd::QueryFrozen => m.query.frozen,
        }
    }
}

impl Model {
    /// Says `text` in the status bar until `ends_with` ends (or another notice replaces it).
    pub(super) fn notify(
        &mut self,
        kind: NoticeKind,
        ends_with: NoticeEnd,
        text: impl Into<String>,
    ) {
        self.notice = Some(Notice {
            kind,
            text: text.into(),
            since: self.now,
            ends_with,
        });
    }

    /// An answer to something the person did, replaced by the next notice.
    pub(super) fn inform(&mut self, text: impl Into<String>) {
        self.notify(NoticeKind::Info, NoticeEnd::Replaced, text);
    }

    /// The text of the notice shown, if any.
    pub fn notice_text(&self) -> Option<&str> {
        self.notice.as_ref().map(|n| n.text.as_str())
    }

    /// Ends the notice whose state ended; `true` when one did.
    pub(super) fn end_notice(&mut self) -> bool {
        if self.notice.as_ref().is_some_and(|n| !n.holds(self)) {
            self.notice = None;
            return true;
        }
        false
    }
}
