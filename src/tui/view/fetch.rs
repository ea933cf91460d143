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
    /// Fetching page `page` (1-based, within the current round) since `since`; `follow`: the
    /// run goes on to the round's deltaLink.
    Fetching {
        page: u32,
        since: Instant,
        follow: bool,
    },
    /// Waiting out a `Retry-After` until `until`.
    Throttled {
        until: Instant,
        status: u16,
        follow: bool,
    },
    RoundComplete {
        delta_link: Option<String>,
    },
    Failed {
        error: ErrorView,
    },
}

/// The fetch side of the session: the newest run and its state. Messages of any other run are
/// stale. The run id outlives its run: a round's completion is reported after the page that
/// ended the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fetch {
    pub run_id: u64,
    pub state: FetchState,
}

impl Fetch {
    /// A request of the newest run is on the wire, or waits out a `Retry-After`.
    pub fn in_flight(&self) -> bool {
        matches!(
            self.state,
            FetchState::Fetching { .. } | FetchState::Throttled { .. }
        )
    }

    /// The newest run is in flight and goes on to the round's deltaLink.
    pub fn following(&self) -> bool {
        matches!(
            self.state,
            FetchState::Fetching { follow: true, .. } | FetchState::Throttled { follow: true, .. }
        )
    }

    /// Starts run `run_id + 1` at `page`: an answer of any earlier run is stale from now on.
    pub fn begin(&mut self, page: u32, since: Instant, follow: bool) -> u64 {
        self.run_id += 1;
        self.state = FetchState::Fetching {
            page,
            since,
            follow,
        };
        self.run_id
    }

    /// Ends the newest run without an outcome (cancelled, or its session dropped): a late
    /// answer of it is stale.
    pub fn abandon(&mut self) {
        self.run_id += 1;
        self.state = FetchState::Idle;
    }
}
