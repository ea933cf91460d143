//! What the explorer shows of the session store: the sessions it can resume, a resumed
//! session's rounds, an object's history.
use super::query::QueryDraft;
use super::rows::PageView;

/// One stored session in the picker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionEntry {
    pub id: i64,
    /// Resource, query, where, who, rounds, the deltaLink's age.
    pub line: String,
    /// Why it cannot be resumed here (another Graph root), if so.
    pub refused: Option<String>,
}

/// The session picker's list (or why there is none).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionsView {
    pub entries: Vec<SessionEntry>,
    /// The store is off or cannot be read: why.
    pub unavailable: Option<String>,
    /// The store's file.
    pub path: String,
}

/// A round of a resumed session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResumedRound {
    pub number: u32,
    pub summary_line: Option<String>,
    pub delta_link: Option<String>,
    /// Each stored request of the round: a page, or a failed request's row.
    pub rows: Vec<PageView>,
}

/// A stored session brought back: its query and its rounds, as when they were fetched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResumedView {
    pub session_id: i64,
    pub query: QueryDraft,
    pub rounds: Vec<ResumedRound>,
    /// What happens next (the last deltaLink's age, the next request).
    pub next: String,
}

/// How a line of an object's history is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryRole {
    /// A step: round, page, what happened.
    Step,
    /// A property's value before and after.
    Change,
    Removed,
    Restored,
    Added,
    /// A duplicate or replay note.
    Note,
}

/// An object's timeline across the session's rounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryView {
    /// The overlay's title ("History of …", "Round 2 explained").
    pub title: String,
    pub object_id: String,
    pub lines: Vec<(HistoryRole, String)>,
    /// No history can be had: why (no store, not recorded).
    pub unavailable: Option<String>,
}
