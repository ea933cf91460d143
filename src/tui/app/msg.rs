//! Messages: everything that can change the model (input, engine events, effect outcomes).
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyEvent, MouseEvent};

use super::effect::CopyWhat;
use super::notice::NoticeKind;
use crate::tui::clipboard::CopyMethod;
use crate::tui::json_view::JsonDoc;
use crate::tui::keymap::Action;
use crate::tui::view::{
    DeviceCodeView, ErrorView, HistoryView, PageView, ProfilesView, ResumedView, SessionsView,
    TokenCheckView, TokenView,
};

/// Everything that can change the model.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// Time passes (only sent while something animates).
    Tick(Instant),
    /// An action injected directly (tests, scripted runs).
    Action(Action),
    /// A request of run `run_id` is on the wire (also after a throttle wait).
    Fetching {
        run_id: u64,
        page: u32,
    },
    PageArrived {
        run_id: u64,
        /// 1-based round number.
        round: u32,
        page: PageView,
    },
    Throttled {
        run_id: u64,
        until: Instant,
        status: u16,
    },
    FetchFailed {
        run_id: u64,
        error: ErrorView,
    },
    /// A request of run `run_id` failed (an error status, a body that is not a delta page, a
    /// refused link): `row` stands for it in round `round` (sent before `FetchFailed`).
    RequestFailed {
        run_id: u64,
        round: u32,
        row: PageView,
    },
    RoundComplete {
        run_id: u64,
        round: u32,
        summary_line: Option<String>,
        delta_link: Option<String>,
    },
    /// The round stopped before its deltaLink (a link loop, pages without anything new, a link
    /// that cannot be followed): following stops; `error` says why and what to do.
    RoundStopped {
        run_id: u64,
        round: u32,
        summary_line: Option<String>,
        error: ErrorView,
    },
    /// The outcome of an `Effect::Copy` / `Effect::CopyAccessToken`.
    Copied {
        what: CopyWhat,
        bytes: usize,
        result: Result<CopyMethod, String>,
    },
    /// A notice for the status bar from the engine side (why nothing was copied).
    Notice {
        kind: NoticeKind,
        text: String,
    },
    /// Text to copy that only the runtime side has (the access token); becomes `Effect::Copy`
    /// without being stored in the model.
    CopyRequest {
        what: CopyWhat,
        text: String,
    },
    /// What the token inspector found (decoded claims, never the token).
    TokenInspected(TokenView),
    /// What the check of the token about to be sent found, before run `run_id`'s first
    /// request (sent only for a JWT; the request goes out whatever it says).
    TokenChecked {
        run_id: u64,
        check: TokenCheckView,
    },
    /// How the explorer starts, decided before the terminal is taken.
    StartUp(StartUp),
    /// The runtime is about to draw the first frame.
    Started,
    /// Sign-in `attempt` got a device code to show.
    DeviceCode {
        attempt: u64,
        prompt: DeviceCodeView,
    },
    /// Sign-in `attempt` succeeded and is now in force: `who` describes it (never a token),
    /// `title` is the new title bar, `root` the Graph root the requests now go to.
    SignedIn {
        attempt: u64,
        who: String,
        title: String,
        root: String,
    },
    /// Sign-in `attempt` failed (or was cancelled): why, in a sentence without any secret.
    SignInFailed {
        attempt: u64,
        error: String,
    },
    /// The sign-in in force (`attempt`) asked the person again (a new device code) and that
    /// ended: the overlay closes.
    SignInRenewed {
        attempt: u64,
        result: Result<(), String>,
    },
    /// The profiles of the config file (or why there are none).
    ProfilesLoaded(ProfilesView),
    /// The session store's sessions (or why there are none).
    SessionsLoaded(SessionsView),
    /// Stored session brought back by run `run_id` (`Effect::Resume`).
    Resumed {
        run_id: u64,
        view: Box<ResumedView>,
    },
    /// What a jq filter gave (`Effect::Jq`): its output as one JSON text (an array when it gave
    /// several values) and a line about it, or why it failed.
    Jq {
        filter: String,
        result: Result<(String, String), String>,
    },
    /// The engine's replica (`Effect::LoadReplica`).
    Replica(Box<crate::tui::view::ReplicaView>),
    /// The rows of arrangement `seq` of the replica view (`Effect::ArrangeReplica`).
    ReplicaArranged {
        seq: u64,
        shown: Vec<usize>,
    },
    /// What a search of the session found (`Effect::SearchSession`).
    Found(crate::tui::view::SearchView),
    /// An object's history (`Effect::History`).
    History(HistoryView),
    /// The session being fetched is recorded as stored session `Ok(id)`, or is not: why.
    Recording(Result<i64, String>),
    /// The document of `Effect::FormatJson` job `seq` (dropped unless the pane still waits
    /// for it).
    JsonFormatted {
        seq: u64,
        doc: Arc<JsonDoc>,
    },
}

/// How the explorer starts (`explore::prepare`, before the terminal is taken).
#[derive(Debug)]
pub struct StartUp {
    /// The title bar.
    pub title: String,
    /// The start-up sign-in: in force already (`Some(who)`: it needed no step), or to be run
    /// as the runtime starts.
    pub signed_in: Option<String>,
    /// The first status line: how to begin.
    pub greeting: String,
    /// The colours (`--theme`, `DELTASCOPE_THEME`, the config file, `NO_COLOR`); boxed, a
    /// theme is a kilobyte and messages are moved around.
    pub theme: Box<crate::tui::theme::Theme>,
    /// `--resume`: the stored session to bring back once the screen is up.
    pub resume: Option<i64>,
}
