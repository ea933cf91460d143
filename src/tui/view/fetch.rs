//! The fetch state machine's data, and a failed fetch ready to show.
use std::time::Instant;

/// A failed fetch, ready to show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorView {
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// Graph `error.code`.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// What to do about it (from the engine's `GraphError::hint`).
    pub hint: Option<String>,
    /// A full resync is the way out (410, syncStateNotFound): the resync key is offered.
    pub needs_resync: bool,
    /// After a 403: what the token check finds missing, in plain sentences (the decoded
    /// claims' conclusions, never the token). Empty when it finds nothing or the token is not
    /// a JWT.
    pub token_problems: Vec<String>,
}

/// The fetch state machine, one state at a time.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum FetchState {
    #[default]
    Idle,
    /// Fetching page `page` (1-based, within the current round) since `since`.
    Fetching {
        page: u32,
        since: Instant,
    },
    /// Waiting out a `Retry-After` until `until`.
    Throttled {
        until: Instant,
        status: u16,
    },
    RoundComplete {
        delta_link: Option<String>,
    },
    Failed {
        error: ErrorView,
    },
}
