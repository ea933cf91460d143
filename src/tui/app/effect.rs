//! Effects: what `update` asks the runtime to do (fetch, copy, sign in, format a body).
use std::fmt;

use crate::tui::json_view::FormatJob;
use crate::tui::view::{QueryDraft, SignInTarget};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyWhat {
    NextLink,
    DeltaLink,
    StateToken,
    Object,
    Page,
    Ids(usize),
    Curl,
    CurlWithToken,
    AccessToken,
    DeviceCode,
    SignInUrl,
}

impl fmt::Display for CopyWhat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyWhat::NextLink => f.write_str("nextLink"),
            CopyWhat::DeltaLink => f.write_str("deltaLink"),
            CopyWhat::StateToken => f.write_str("state token"),
            CopyWhat::Object => f.write_str("object JSON"),
            CopyWhat::Page => f.write_str("page JSON"),
            CopyWhat::Ids(n) => f.write_str(&crate::graph::round::plural(*n, "id", "ids")),
            CopyWhat::Curl => f.write_str("curl command"),
            CopyWhat::CurlWithToken => f.write_str("curl command with the access token"),
            CopyWhat::AccessToken => f.write_str("access token"),
            CopyWhat::DeviceCode => f.write_str("device code"),
            CopyWhat::SignInUrl => f.write_str("sign-in URL"),
        }
    }
}

/// What the runtime must do. Fetch effects carry the run id their results must be tagged with.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Start a new session with this query: fetch its first page (and the rest of the round if
    /// `follow`).
    Start {
        run_id: u64,
        query: QueryDraft,
        follow: bool,
    },
    /// Fetch the session's next page (nextLink).
    FetchNext {
        run_id: u64,
    },
    /// Fetch pages until the round's deltaLink.
    FollowRound {
        run_id: u64,
    },
    /// Start the next round from the stored deltaLink (first page only).
    NextRound {
        run_id: u64,
    },
    /// Full resync: a new initial round (from the 410 `Location` when there was one).
    Resync {
        run_id: u64,
    },
    /// Cancel the fetch running under `run_id`.
    Cancel {
        run_id: u64,
    },
    /// Put `text` on the clipboard, then send `Msg::Copied`.
    Copy {
        what: CopyWhat,
        text: String,
    },
    /// Copy the session's access token (only the runtime holds it), then send `Msg::Copied`.
    CopyAccessToken,
    /// Copy this request as a curl command with the real access token in it (asked for
    /// explicitly; the plain curl copy carries a placeholder).
    CopyCurlWithToken {
        url: String,
        headers: Vec<(String, String)>,
    },
    /// Decode the session's access token off the UI thread and check it against `resource`
    /// (the query's current one); answered with `Msg::TokenInspected`.
    InspectToken {
        resource: Option<String>,
    },
    /// Sign in with `target` in the background, tagged `attempt`; `resource` is the query's
    /// resource (its delegated permission is the default device-code scope). On success the
    /// runtime replaces the token source, the Graph root and the client, and drops the session;
    /// answered with `Msg::DeviceCode`, then `Msg::SignedIn` or `Msg::SignInFailed`.
    SignIn {
        attempt: u64,
        target: SignInTarget,
        resource: Option<String>,
    },
    /// Cancel the sign-in `attempt` (a device code being waited for).
    CancelSignIn {
        attempt: u64,
    },
    /// Read the profiles of the config file; answered with `Msg::ProfilesLoaded`.
    LoadProfiles,
    /// List the session store's sessions; answered with `Msg::SessionsLoaded`.
    LoadSessions,
    /// Bring stored session `session` back (its rounds replayed), tagged `run_id`; answered
    /// with `Msg::Resumed` or `Msg::FetchFailed`.
    Resume {
        run_id: u64,
        session: i64,
    },
    /// Run a jq filter over `page` (a page body), or over the replica (every live object, in
    /// an array) when `page` is `None`; answered with `Msg::Jq`.
    Jq {
        filter: String,
        page: Option<crate::tui::view::SharedText>,
    },
    /// A snapshot of the engine's replica; answered with `Msg::Replica`.
    LoadReplica,
    /// The rows of the replica view `order` shows (filtered, sorted: a million rows take a
    /// while, so off the UI thread); answered with `Msg::ReplicaArranged` tagged `seq`.
    ArrangeReplica {
        view: std::sync::Arc<crate::tui::view::ReplicaView>,
        order: crate::tui::view::replica::ReplicaOrder,
        seq: u64,
    },
    /// The replica at the end of round `a` against the one at the end of round `b` (from the
    /// session store); answered with `Msg::History` (the notes overlay).
    CompareRounds {
        a: u32,
        b: u32,
    },
    /// What round `round` (the engine's number) holds that a sync must handle; answered with
    /// `Msg::History` (the notes overlay).
    ExplainRound {
        round: u32,
    },
    /// Search every page of the session (off the UI thread); answered with `Msg::Found`.
    SearchSession {
        query: String,
        pages: Vec<crate::tui::view::SearchPage>,
    },
    /// The history of one object across the session's rounds; answered with `Msg::History`.
    History {
        object_id: String,
    },
    /// Export the session (items, replica, HAR) with these table columns; answered with a
    /// notice.
    Export {
        columns: Vec<String>,
    },
    /// Pretty-print a large body off the UI thread; answered with `Msg::JsonFormatted`.
    FormatJson(FormatJob),
    Quit,
}
