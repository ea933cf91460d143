//! The model and its one mutator, `update`: plain code (no tokio, no network, no terminal).
//! Keys become actions through the keymap; actions and engine events change the model and
//! return effects for the runtime to execute.
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use ratatui_textarea::TextArea;

use super::clipboard::CopyMethod;
use super::ids::{IdCheck, check_ids, paste_ids};
use super::json_view::{FormatJob, JsonDoc, JsonView, TokenKind};
use super::keymap::{Action, Context, Keymap};
use super::view::{
    DeviceCodeView, ErrorView, FetchState, PageView, ProblemView, ProfilesView, QueryDraft,
    QueryView, RequestPreview, RoundView, SignInState, SignInTarget, TokenCheckView, TokenView,
    redact_header,
};

/// Which pane has the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Query,
    Results,
    Json,
}

impl Focus {
    const ORDER: [Focus; 3] = [Focus::Query, Focus::Results, Focus::Json];
    fn context(self) -> Context {
        match self {
            Focus::Query => Context::Query,
            Focus::Results => Context::Results,
            Focus::Json => Context::Json,
        }
    }
}

/// A row of the query builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryField {
    Resource,
    Api,
    Param(usize),
    Select(usize),
    Minimal,
    Ids,
    Top,
    Latest,
}

/// What a one-line text input is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineTarget {
    Param(usize),
    Top,
    NewField,
    Search,
}

/// Modal input state; at most one at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    /// The token inspector overlay (esc closes).
    Token,
    /// A one-line input (search, a parameter, `$top`, a free `$select` field).
    Line {
        target: LineTarget,
        input: String,
    },
    /// The id filter editor has the keyboard.
    EditIds,
    /// The profile picker (esc closes).
    Profiles,
}

/// What the JSON pane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonTarget {
    Page,
    Object,
    Headers,
}

/// What a copy was of, for the status message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyWhat {
    NextLink,
    DeltaLink,
    Token,
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
            CopyWhat::Token => f.write_str("token"),
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
    /// Pretty-print a large body off the UI thread; answered with `Msg::JsonFormatted`.
    FormatJson(FormatJob),
    Quit,
}

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
    /// A message for the status bar.
    Status(String),
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
    /// The document of `Effect::FormatJson` job `seq` (dropped unless the pane still waits
    /// for it).
    JsonFormatted {
        seq: u64,
        doc: Arc<JsonDoc>,
    },
}

/// Builds the request preview and validation for a draft (the runtime plugs in the engine's
/// `DeltaQuery::validate` / `first_request`; tests plug in a fake).
pub trait QueryPreviewer {
    fn preview(&self, draft: &QueryDraft) -> (RequestPreview, Vec<ProblemView>);
    /// The requests now go to `root` (another sign-in, maybe another cloud).
    fn set_root(&mut self, _root: &str) {}
}

/// A previewer that knows nothing (before the engine is wired).
pub struct NoPreview;

impl QueryPreviewer for NoPreview {
    fn preview(&self, _draft: &QueryDraft) -> (RequestPreview, Vec<ProblemView>) {
        (RequestPreview::default(), Vec::new())
    }
}

/// The whole UI state. Only `update` mutates it; `ui::draw` reads it.
pub struct Model {
    pub keymap: Keymap,
    /// Title bar text (e.g. "demo tenant (embedded emulator) http://127.0.0.1:PORT").
    pub title: String,
    pub size: (u16, u16),
    pub focus: Focus,
    pub mode: Mode,
    pub query: QueryView,
    pub query_cursor: usize,
    pub ids_editor: TextArea<'static>,
    /// What is wrong with the ids editor's lines (checked after each edit, not per frame).
    pub ids_check: IdCheck,
    pub rounds: Vec<RoundView>,
    /// Table columns: the `$select` fields frozen at the session start (or the defaults).
    pub columns: Vec<String>,
    pub sel_round: usize,
    pub sel_page: usize,
    pub sel_row: usize,
    pub row_offset: usize,
    pub json_target: JsonTarget,
    pub json: JsonView,
    json_key: Option<(usize, usize, usize, JsonTarget)>,
    pub fetch: FetchState,
    /// Messages are accepted only from this run; older ones are stale and dropped.
    pub current_run: u64,
    /// A run is in flight (for "already fetching" and cancel).
    pub in_flight: bool,
    pub follow: bool,
    pub dropped_stale: usize,
    pub now: Instant,
    pub spinner: usize,
    pub status: Option<String>,
    /// The token inspector's last answer (`None` while it is being asked for).
    pub token: Option<TokenView>,
    /// What the token check before the session's first request found (`None`: not checked,
    /// e.g. a token that is not a JWT).
    pub token_check: Option<TokenCheckView>,
    /// Who is signed in, or the sign-in running or failed.
    pub sign_in: SignInState,
    /// Sign-in messages are accepted only for this attempt.
    pub sign_in_attempt: u64,
    /// The sign-in "sign in again" repeats (the last one asked for).
    pub sign_in_target: SignInTarget,
    /// The attempt and target of the sign-in in force (0: one that never asks the person).
    pub signed_in_attempt: u64,
    pub signed_in_target: SignInTarget,
    /// Sign in with this when the runtime starts (`Msg::Started`).
    pub sign_in_on_start: Option<SignInTarget>,
    /// A fetch asked for while signing in (`Some(follow)`): sent once signed in.
    pub pending_fetch: Option<bool>,
    /// The profile picker's list (`None` while the config file is read).
    pub profiles: Option<ProfilesView>,
    pub profile_cursor: usize,
    pub quit: bool,
    previewer: Box<dyn QueryPreviewer>,
}

impl Model {
    pub fn new(query: QueryView, keymap: Keymap, previewer: Box<dyn QueryPreviewer>) -> Self {
        let mut m = Self {
            keymap,
            title: String::new(),
            size: (80, 24),
            focus: Focus::Query,
            mode: Mode::Normal,
            query,
            query_cursor: 0,
            ids_editor: TextArea::default(),
            ids_check: IdCheck::default(),
            rounds: Vec::new(),
            columns: Vec::new(),
            sel_round: 0,
            sel_page: 0,
            sel_row: 0,
            row_offset: 0,
            json_target: JsonTarget::Page,
            json: JsonView::default(),
            json_key: None,
            fetch: FetchState::Idle,
            current_run: 0,
            in_flight: false,
            follow: false,
            dropped_stale: 0,
            now: Instant::now(),
            spinner: 0,
            status: None,
            token: None,
            token_check: None,
            sign_in: SignInState::default(),
            sign_in_attempt: 0,
            sign_in_target: SignInTarget::Startup,
            signed_in_attempt: 0,
            signed_in_target: SignInTarget::Startup,
            sign_in_on_start: None,
            pending_fetch: None,
            profiles: None,
            profile_cursor: 0,
            quit: false,
            previewer,
        };
        let index = m.query.resource;
        m.query.set_resource(index);
        m.ids_editor = TextArea::new(m.query.ids.clone());
        m.refresh_query();
        m
    }

    /// The key context in force.
    pub fn context(&self) -> Context {
        if self.device_code().is_some() {
            return Context::SignIn;
        }
        match self.mode {
            Mode::EditIds => Context::IdsEditor,
            Mode::Profiles => Context::Profiles,
            _ => self.focus.context(),
        }
    }

    /// Something animates: the runtime ticks only then (a fetch, a throttle countdown, a
    /// sign-in's spinner or a device code's expiry countdown).
    pub fn animating(&self) -> bool {
        matches!(
            self.fetch,
            FetchState::Fetching { .. } | FetchState::Throttled { .. }
        ) || matches!(self.sign_in, SignInState::Running { .. })
    }

    /// The device code to show, while a sign-in waits for one to be entered.
    pub fn device_code(&self) -> Option<&DeviceCodeView> {
        match &self.sign_in {
            SignInState::Running { prompt, .. } => prompt.as_ref(),
            _ => None,
        }
    }

    /// The sign-in in force (its description), if any: requests can be sent with it.
    pub fn signed_in_as(&self) -> Option<&str> {
        match &self.sign_in {
            SignInState::SignedOut => None,
            SignInState::Active { who } => Some(who.as_str()),
            SignInState::Running { previous, .. } | SignInState::Failed { previous, .. } => {
                previous.as_deref()
            }
        }
    }

    pub fn selected_page(&self) -> Option<&PageView> {
        self.rounds.get(self.sel_round)?.pages.get(self.sel_page)
    }

    pub fn selected_round(&self) -> Option<&RoundView> {
        self.rounds.get(self.sel_round)
    }

    pub fn query_fields(&self) -> Vec<QueryField> {
        query_fields(&self.query)
    }

    /// The session has started: the query lives in the token now.
    pub fn started(&self) -> bool {
        self.query.frozen
    }

    fn last_page(&self) -> Option<&PageView> {
        self.rounds.last()?.pages.last()
    }

    fn round_complete(&self) -> bool {
        self.rounds.last().is_some_and(|r| r.delta_link.is_some())
    }

    /// Recomputes preview, problems, param errors and id-line problems after an edit.
    pub fn refresh_query(&mut self) {
        let draft = self.query.draft();
        let (preview, mut problems) = self.previewer.preview(&draft);
        self.ids_check = check_ids(self.ids_editor.lines());
        let ours = self.ids_check.problems();
        if !ours.is_empty() {
            // The engine says the same per id (10,000 messages for 10,000 ids): one summary
            // each, the limit first.
            problems.retain(|p| p.field != "ids");
            problems.splice(0..0, ours);
        }
        for p in &mut self.query.params {
            p.error = problems
                .iter()
                .find(|pr| pr.field == p.name)
                .map(|pr| pr.message.clone());
        }
        self.query.preview = preview;
        self.query.problems = problems;
    }
}

/// The builder's rows for `q`, in display order.
pub fn query_fields(q: &QueryView) -> Vec<QueryField> {
    let mut out = vec![QueryField::Resource, QueryField::Api];
    out.extend((0..q.params.len()).map(QueryField::Param));
    let res = q.current();
    if res.is_none_or(|r| r.supports_select) {
        out.extend((0..q.select.items.len()).map(QueryField::Select));
    }
    if res.is_some_and(|r| r.supports_minimal) {
        out.push(QueryField::Minimal);
    }
    if res.is_some_and(|r| r.supports_filter_ids) {
        out.push(QueryField::Ids);
    }
    if res.is_some_and(|r| r.supports_top) {
        out.push(QueryField::Top);
    }
    if res.is_some_and(|r| r.supports_latest) {
        out.push(QueryField::Latest);
    }
    out
}

/// The bare state token of a link: the value of `$skiptoken`, `$deltatoken`, `skipToken`,
/// `deltaToken` or `token` (names matched case-insensitively), as it appears in the link.
pub fn bare_token(link: &str) -> Option<&str> {
    let query = link.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let name = name.trim_start_matches('$').to_ascii_lowercase();
        matches!(name.as_str(), "skiptoken" | "deltatoken" | "token").then_some(value)
    })
}

/// A shell-quoted curl command for a request; the token is the shell variable `$TOKEN`
/// (double-quoted so that the shell expands it).
pub fn curl_command(url: &str, headers: &[(String, String)]) -> String {
    curl_command_inner(url, headers, "\"Authorization: Bearer $TOKEN\"".to_owned())
}

/// A shell-quoted curl command for a request, with `token` as the bearer token.
pub fn curl_command_with_token(url: &str, headers: &[(String, String)], token: &str) -> String {
    curl_command_inner(
        url,
        headers,
        shell_quote(&format!("Authorization: Bearer {token}")),
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn curl_command_inner(url: &str, headers: &[(String, String)], auth: String) -> String {
    let q = shell_quote;
    let mut out = String::from("curl -sS");
    out.push_str(" -H ");
    out.push_str(&auth);
    for (n, v) in headers {
        if n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("client-request-id") {
            continue;
        }
        out.push_str(" -H ");
        out.push_str(&q(&format!("{n}: {v}")));
    }
    out.push(' ');
    out.push_str(&q(url));
    out
}

/// Screen areas, shared by drawing and mouse hit-testing (one function, so they agree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    pub query: Rect,
    pub results: Rect,
    pub json: Rect,
    pub status: Rect,
}

/// The smallest terminal the layout is drawn in; below it a message is shown instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

pub fn areas(area: Rect) -> Option<Areas> {
    use ratatui::layout::{Constraint, Layout};
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [title, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(2),
    ])
    .areas(area);
    let (query, right) = if area.width >= 120 {
        let [q, r] =
            Layout::horizontal([Constraint::Percentage(34), Constraint::Fill(1)]).areas(main);
        (q, r)
    } else {
        let [q, r] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Fill(1)]).areas(main);
        (q, r)
    };
    let [results, json] = if area.width >= 120 {
        Layout::vertical([Constraint::Percentage(55), Constraint::Fill(1)]).areas(right)
    } else {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(right)
    };
    Some(Areas {
        title,
        query,
        results,
        json,
        status,
    })
}

/// Rows of the results pane: the pages list on top, the object table under it, the summary at
/// the bottom. Returns (pages list, table incl. header row, summary line) inside the border.
pub fn results_split(inner: Rect, page_lines: usize) -> (Rect, Rect, Rect) {
    use ratatui::layout::{Constraint, Layout};
    let max_list = (inner.height / 3).max(3);
    let list_h = u16::try_from(page_lines)
        .unwrap_or(u16::MAX)
        .clamp(1, max_list);
    let [list, table, summary] = Layout::vertical([
        Constraint::Length(list_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    (list, table, summary)
}

fn inner(r: Rect) -> Rect {
    Rect {
        x: r.x.saturating_add(1),
        y: r.y.saturating_add(1),
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

impl Model {
    fn screen(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// Visible lines of the JSON pane body (one line is kept for the search bar).
    pub fn json_height(&self) -> usize {
        areas(self.screen())
            .map(|a| usize::from(inner(a.json).height.saturating_sub(1)))
            .unwrap_or(1)
            .max(1)
    }

    /// Number of lines of the pages list (round headers + pages).
    pub fn page_lines(&self) -> usize {
        self.rounds.iter().map(|r| 1 + r.pages.len()).sum()
    }

    /// Visible rows of the object table (without its header).
    pub fn table_height(&self) -> usize {
        areas(self.screen())
            .map(|a| {
                let (_, table, _) = results_split(inner(a.results), self.page_lines());
                usize::from(table.height.saturating_sub(1))
            })
            .unwrap_or(1)
            .max(1)
    }
}

/// Applies one message. Pure: the returned effects are the only way out.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let mut out = apply(m, msg);
    // Whatever changed the selection may have left a large body to format.
    if let Some(job) = m.json.take_job() {
        out.push(Effect::FormatJson(job));
    }
    out
}

fn apply(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(m, key),
        Msg::Mouse(ev) => {
            on_mouse(m, ev);
            Vec::new()
        }
        Msg::Paste(text) => {
            on_paste(m, &text);
            Vec::new()
        }
        Msg::Resize { width, height } => {
            m.size = (width, height);
            clamp_scrolls(m);
            Vec::new()
        }
        Msg::Tick(now) => {
            m.now = now;
            m.spinner = m.spinner.wrapping_add(1);
            Vec::new()
        }
        Msg::Action(a) => dispatch(m, a),
        Msg::Status(s) => {
            m.status = Some(s);
            Vec::new()
        }
        Msg::CopyRequest { what, text } => vec![Effect::Copy { what, text }],
        Msg::TokenInspected(view) => {
            m.token = Some(view);
            Vec::new()
        }
        Msg::TokenChecked { run_id, check } => {
            if accept(m, run_id) {
                if let Some(first) = check.problems.first() {
                    let more = match check.problems.len() {
                        1 => String::new(),
                        n => format!(" (and {} more)", n - 1),
                    };
                    m.status = Some(format!(
                        "token check: {first}{more}; the request is sent anyway{}",
                        inspector_hint(m)
                    ));
                }
                m.token_check = Some(check);
            }
            Vec::new()
        }
        Msg::Started => match m.sign_in_on_start.take() {
            Some(target) => begin_sign_in(m, target),
            None => Vec::new(),
        },
        Msg::DeviceCode { attempt, prompt } => {
            match &mut m.sign_in {
                SignInState::Running {
                    attempt: a,
                    prompt: p,
                    ..
                } if *a == attempt => *p = Some(prompt),
                // The sign-in in force needs the person again, in the middle of a request.
                SignInState::Active { .. }
                | SignInState::Failed {
                    previous: Some(_), ..
                } if attempt == m.signed_in_attempt && attempt > 0 => {
                    m.sign_in = SignInState::Running {
                        attempt,
                        target: m.signed_in_target.clone(),
                        since: m.now,
                        prompt: Some(prompt),
                        previous: m.signed_in_as().map(str::to_owned),
                        renewal: true,
                    };
                }
                _ => return Vec::new(),
            }
            m.status = Some(match m.keymap.key_for(Context::SignIn, Action::CopyCode) {
                Some(k) => format!("open the page shown and enter the code ({k} copies it)"),
                None => "open the page shown and enter the code".to_owned(),
            });
            Vec::new()
        }
        Msg::SignInRenewed { attempt, result } => {
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
                        let who = previous.clone().unwrap_or_default();
                        m.status = Some(format!("signed in again: {who}"));
                        m.sign_in = SignInState::Active { who };
                    }
                    Err(error) => on_sign_in_failed(m, attempt, error),
                }
            }
            Vec::new()
        }
        Msg::SignedIn {
            attempt,
            who,
            title,
            root,
        } => on_signed_in(m, attempt, who, title, &root),
        Msg::SignInFailed { attempt, error } => {
            on_sign_in_failed(m, attempt, error);
            Vec::new()
        }
        Msg::JsonFormatted { seq, doc } => {
            let h = m.json_height();
            m.json.formatted(seq, doc, h);
            Vec::new()
        }
        Msg::ProfilesLoaded(view) => {
            if m.mode == Mode::Profiles {
                m.profile_cursor = m.profile_cursor.min(view.entries.len());
                m.profiles = Some(view);
            }
            Vec::new()
        }
        Msg::Copied {
            what,
            bytes,
            result,
        } => {
            m.status = Some(match result {
                Ok(method) => format!("copied {what} ({}) via {method}", human_bytes(bytes)),
                Err(e) => format!("could not copy {what}: {e}"),
            });
            Vec::new()
        }
        Msg::Fetching { run_id, page } => {
            if accept(m, run_id) {
                m.fetch = FetchState::Fetching { page, since: m.now };
            }
            Vec::new()
        }
        Msg::PageArrived {
            run_id,
            round,
            page,
        } => {
            if accept(m, run_id) {
                on_page(m, round, page);
            }
            Vec::new()
        }
        Msg::Throttled {
            run_id,
            until,
            status,
        } => {
            if accept(m, run_id) {
                m.fetch = FetchState::Throttled { until, status };
            }
            Vec::new()
        }
        Msg::FetchFailed { run_id, error } => {
            if accept(m, run_id) {
                on_failed(m, error);
            }
            Vec::new()
        }
        Msg::RoundStopped {
            run_id,
            round,
            summary_line,
            error,
        } => {
            // The page that stopped the round already arrived (and may have ended a
            // one-page fetch), so only the run id tells whether this is stale.
            if run_id == m.current_run {
                if let Some(r) = m.rounds.iter_mut().find(|r| r.number == round) {
                    r.summary_line = summary_line;
                }
                let resync = error.needs_resync;
                on_failed(m, error);
                m.status = Some(match m.keymap.key_for(Context::Global, Action::Resync) {
                    Some(k) if resync => {
                        format!("round {round} stopped; press {k} for a full resync")
                    }
                    _ => format!("round {round} stopped (why, in the status bar)"),
                });
            } else {
                m.dropped_stale += 1;
            }
            Vec::new()
        }
        Msg::RoundComplete {
            run_id,
            round,
            summary_line,
            delta_link,
        } => {
            // The round's last page (with the deltaLink) already ended the fetch, so this
            // arrives with nothing in flight: only the run id tells whether it is stale.
            if run_id == m.current_run {
                if let Some(r) = m.rounds.iter_mut().find(|r| r.number == round) {
                    r.summary_line = summary_line;
                    if delta_link.is_some() {
                        r.delta_link = delta_link.clone();
                    }
                }
                m.in_flight = false;
                m.follow = false;
                m.fetch = FetchState::RoundComplete {
                    delta_link: delta_link.clone(),
                };
                let next = m
                    .keymap
                    .key_for(Context::Global, Action::NextRound)
                    .map(|k| format!(" ({k}: next round)"))
                    .unwrap_or_default();
                m.status = Some(format!("round {round} complete: deltaLink stored{next}"));
            } else {
                m.dropped_stale += 1;
            }
            Vec::new()
        }
    }
}

/// " (press i to inspect the token)", with the inspector's key (nothing without one).
fn inspector_hint(m: &Model) -> String {
    m.keymap
        .key_for(Context::Global, Action::InspectToken)
        .map(|k| format!(" (press {k} to inspect the token)"))
        .unwrap_or_default()
}

/// A fetch failed, or its round stopped: nothing is in flight any more and the status says why.
fn on_failed(m: &mut Model, error: ErrorView) {
    m.in_flight = false;
    m.follow = false;
    m.status = Some(
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
    m.fetch = FetchState::Failed { error };
}

fn accept(m: &mut Model, run_id: u64) -> bool {
    if run_id == m.current_run && m.in_flight {
        true
    } else {
        m.dropped_stale += 1;
        false
    }
}

fn on_page(m: &mut Model, round: u32, page: PageView) {
    let at_end = m.rounds.is_empty()
        || (m.sel_round + 1 == m.rounds.len()
            && m.rounds
                .last()
                .is_some_and(|r| m.sel_page + 1 >= r.pages.len()));
    let minimal = page.minimal();
    let delta = page.delta_link.clone();
    let index = page.index;
    let ri = match m.rounds.iter().position(|r| r.number == round) {
        Some(i) => i,
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
    r.pages.push(page);
    if delta.is_some() {
        r.delta_link = delta.clone();
    }
    if at_end {
        m.sel_round = ri;
        m.sel_page = m.rounds[ri].pages.len() - 1;
        m.sel_row = 0;
        m.row_offset = 0;
        refresh_json(m);
    }
    if delta.is_some() {
        m.in_flight = false;
        m.follow = false;
        m.fetch = FetchState::RoundComplete { delta_link: delta };
    } else if m.follow {
        m.fetch = FetchState::Fetching {
            page: index + 1,
            since: m.now,
        };
    } else {
        m.in_flight = false;
        m.fetch = FetchState::Idle;
    }
}

fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // Ctrl-C quits from anywhere, text fields included.
    if matches!(key.code, KeyCode::Char('c' | 'C'))
        && key
            .modifiers
            .contains(crossterm::event::KeyModifiers::CONTROL)
    {
        return quit(m);
    }
    // A device code on the screen has the keyboard until the sign-in ends or is cancelled.
    if m.device_code().is_some() {
        return match m.keymap.action(Context::SignIn, &key) {
            Some(
                a @ (Action::CopyCode | Action::CopyUrl | Action::CancelSignIn | Action::Quit),
            ) => dispatch(m, a),
            _ => Vec::new(),
        };
    }
    match m.mode.clone() {
        Mode::Profiles => match m.keymap.action(Context::Profiles, &key) {
            Some(Action::ScrollUp) => {
                m.profile_cursor = m.profile_cursor.saturating_sub(1);
                Vec::new()
            }
            Some(Action::ScrollDown) => {
                let rows = m.profiles.as_ref().map(|p| p.entries.len()).unwrap_or(0);
                m.profile_cursor = (m.profile_cursor + 1).min(rows);
                Vec::new()
            }
            Some(Action::Activate) => choose_profile(m),
            Some(Action::Back) => {
                m.mode = Mode::Normal;
                Vec::new()
            }
            Some(Action::Quit) => quit(m),
            _ => Vec::new(),
        },
        Mode::Help => {
            if matches!(
                m.keymap.action(m.focus.context(), &key),
                Some(Action::Help | Action::Quit | Action::Back)
            ) || matches!(key.code, KeyCode::Esc | KeyCode::Enter)
            {
                m.mode = Mode::Normal;
            }
            Vec::new()
        }
        Mode::Token => {
            if matches!(
                m.keymap.action(m.focus.context(), &key),
                Some(Action::InspectToken | Action::Quit | Action::Back)
            ) || matches!(key.code, KeyCode::Esc | KeyCode::Enter)
            {
                m.mode = Mode::Normal;
            }
            Vec::new()
        }
        Mode::Line { target, mut input } => {
            match key.code {
                KeyCode::Esc => m.mode = Mode::Normal,
                KeyCode::Enter => {
                    m.mode = Mode::Normal;
                    commit_line(m, target, input);
                }
                KeyCode::Backspace => {
                    input.pop();
                    m.mode = Mode::Line { target, input };
                }
                KeyCode::Char(c) => {
                    input.push(c);
                    m.mode = Mode::Line { target, input };
                }
                _ => {}
            }
            Vec::new()
        }
        Mode::EditIds => {
            if m.keymap.action(Context::IdsEditor, &key) == Some(Action::Back) {
                m.mode = Mode::Normal;
            } else {
                m.ids_editor.input(key);
                sync_ids(m);
            }
            Vec::new()
        }
        Mode::Normal => match m.keymap.action(m.context(), &key) {
            Some(a) => dispatch(m, a),
            None => Vec::new(),
        },
    }
}

fn sync_ids(m: &mut Model) {
    m.query.ids = m.ids_editor.lines().to_vec();
    m.refresh_query();
}

fn commit_line(m: &mut Model, target: LineTarget, input: String) {
    match target {
        LineTarget::Search => {
            let h = m.json_height();
            let n = m.json.search(&input, h);
            m.status = Some(if input.is_empty() {
                "search cleared".to_owned()
            } else {
                let more = if m.json.capped { "+" } else { "" };
                format!("{n}{more} matches for {input:?}")
            });
        }
        LineTarget::Param(i) => {
            if let Some(p) = m.query.params.get_mut(i) {
                p.value = input.trim().to_owned();
            }
            m.refresh_query();
        }
        LineTarget::Top => {
            let t = input.trim();
            if t.is_empty() {
                m.query.top = None;
            } else {
                match t.parse::<u32>() {
                    Ok(n) if n > 0 => m.query.top = Some(n),
                    _ => m.status = Some(format!("$top must be a positive number, not {t:?}")),
                }
            }
            m.refresh_query();
        }
        LineTarget::NewField => {
            let name = input.trim();
            if !name.is_empty() {
                match m.query.select.items.iter_mut().find(|(p, _)| p == name) {
                    Some(item) => item.1 = true,
                    None => m.query.select.items.push((name.to_owned(), true)),
                }
                m.refresh_query();
            }
        }
    }
}

fn quit(m: &mut Model) -> Vec<Effect> {
    m.quit = true;
    let mut out = Vec::new();
    if m.in_flight {
        out.push(Effect::Cancel {
            run_id: m.current_run,
        });
    }
    out.push(Effect::Quit);
    out
}

fn frozen_refusal(m: &mut Model) -> bool {
    if m.query.frozen {
        m.status = Some(
            "the query options are frozen in the token (they go on the first request only)"
                .to_owned(),
        );
        true
    } else {
        false
    }
}

/// Runs an action in the current focus.
pub fn dispatch(m: &mut Model, action: Action) -> Vec<Effect> {
    let jh = m.json_height();
    match action {
        Action::Quit => return quit(m),
        Action::Help => {
            m.mode = if m.mode == Mode::Help {
                Mode::Normal
            } else {
                Mode::Help
            }
        }
        Action::Back => m.mode = Mode::Normal,
        Action::InspectToken => {
            if m.mode == Mode::Token {
                m.mode = Mode::Normal;
                return Vec::new();
            }
            m.mode = Mode::Token;
            m.token = None;
            let resource = m.query.current().map(|r| r.name.clone());
            return vec![Effect::InspectToken { resource }];
        }
        Action::FocusNext | Action::FocusPrev => {
            let i = Focus::ORDER.iter().position(|f| *f == m.focus).unwrap_or(0);
            let n = Focus::ORDER.len();
            let j = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            m.focus = Focus::ORDER[j];
        }
        Action::FocusQuery => m.focus = Focus::Query,
        Action::FocusResults => m.focus = Focus::Results,
        Action::FocusJson => m.focus = Focus::Json,
        Action::SwitchProfile => {
            m.mode = Mode::Profiles;
            m.profiles = None;
            m.profile_cursor = 0;
            return vec![Effect::LoadProfiles];
        }
        Action::SignInAgain => {
            if matches!(m.sign_in, SignInState::Running { .. }) {
                m.status = Some(cancel_hint(m, "a sign-in is already running"));
                return Vec::new();
            }
            let target = m.sign_in_target.clone();
            return begin_sign_in(m, target);
        }
        Action::CopyCode | Action::CopyUrl => {
            let (what, text) = match (m.device_code(), action) {
                (Some(p), Action::CopyCode) => (CopyWhat::DeviceCode, Some(p.code.clone())),
                (Some(p), _) => (CopyWhat::SignInUrl, Some(p.url.clone())),
                (None, _) => (CopyWhat::DeviceCode, None),
            };
            return copy_or_say(m, what, text, "no device code to copy");
        }
        Action::CancelSignIn => return cancel_sign_in(m),
        Action::FetchNext => return fetch(m, false),
        Action::FollowRound => return fetch(m, true),
        Action::NextRound => return next_round(m),
        Action::Cancel => {
            if m.in_flight {
                let run_id = m.current_run;
                m.current_run += 1;
                m.in_flight = false;
                m.follow = false;
                m.fetch = FetchState::Idle;
                m.status = Some("fetch cancelled".to_owned());
                return vec![Effect::Cancel { run_id }];
            }
            if matches!(m.sign_in, SignInState::Running { .. }) {
                return cancel_sign_in(m);
            }
            m.status = Some("nothing to cancel".to_owned());
        }
        Action::Resync => {
            if !m.started() {
                return fetch(m, false);
            }
            if sign_in_refusal(m) {
                return Vec::new();
            }
            let mut out = Vec::new();
            if m.in_flight {
                out.push(Effect::Cancel {
                    run_id: m.current_run,
                });
            }
            let run_id = begin_run(m, false);
            m.status = Some("full resync: a new initial round".to_owned());
            out.push(Effect::Resync { run_id });
            return out;
        }
        Action::ToggleMinimal => {
            if !frozen_refusal(m) && m.query.current().is_some_and(|r| r.supports_minimal) {
                m.query.minimal = !m.query.minimal;
                m.refresh_query();
            }
        }
        Action::CopyNextLink => {
            let link = m
                .selected_page()
                .and_then(|p| p.next_link.clone())
                .or_else(|| m.last_page().and_then(|p| p.next_link.clone()));
            return copy_or_say(m, CopyWhat::NextLink, link, "no nextLink on this page");
        }
        Action::CopyDeltaLink => {
            let link = m
                .selected_round()
                .and_then(|r| r.delta_link.clone())
                .or_else(|| m.rounds.iter().rev().find_map(|r| r.delta_link.clone()));
            return copy_or_say(
                m,
                CopyWhat::DeltaLink,
                link,
                "no deltaLink yet: finish a round",
            );
        }
        Action::CopyToken => {
            let token = m.selected_page().and_then(|p| {
                p.next_link
                    .as_deref()
                    .or(p.delta_link.as_deref())
                    .and_then(bare_token)
                    .map(str::to_owned)
            });
            return copy_or_say(m, CopyWhat::Token, token, "no token in this page's links");
        }
        Action::CopyObject => {
            let json = m
                .selected_page()
                .and_then(|p| p.rows.get(m.sel_row))
                .map(|r| r.json.to_string());
            return copy_or_say(m, CopyWhat::Object, json, "no object selected");
        }
        Action::CopyPage => {
            let json = m.selected_page().map(|p| p.raw_json.to_string());
            return copy_or_say(m, CopyWhat::Page, json, "no page yet");
        }
        Action::CopyIds => {
            let ids: Option<Vec<String>> = m.selected_page().map(|p| {
                p.rows
                    .iter()
                    .filter(|r| !r.id().is_empty())
                    .map(|r| r.id().to_owned())
                    .collect()
            });
            return match ids {
                Some(ids) if !ids.is_empty() => vec![Effect::Copy {
                    what: CopyWhat::Ids(ids.len()),
                    text: ids.join("\n"),
                }],
                _ => {
                    m.status = Some("no ids on this page".to_owned());
                    Vec::new()
                }
            };
        }
        Action::CopyCurl => {
            let cmd = match m.selected_page() {
                Some(p) if !p.url.is_empty() => Some(curl_command(&p.url, &p.request_headers)),
                _ => m
                    .query
                    .preview
                    .url
                    .as_ref()
                    .ok()
                    .map(|u| curl_command(u, &m.query.preview.headers)),
            };
            return copy_or_say(m, CopyWhat::Curl, cmd, "no request to copy yet");
        }
        Action::CopyCurlWithToken => {
            let request = match m.selected_page() {
                Some(p) if !p.url.is_empty() => Some((p.url.clone(), p.request_headers.clone())),
                _ => m
                    .query
                    .preview
                    .url
                    .as_ref()
                    .ok()
                    .map(|u| (u.clone(), m.query.preview.headers.clone())),
            };
            return match request {
                Some((url, headers)) => vec![Effect::CopyCurlWithToken { url, headers }],
                None => {
                    m.status = Some("no request to copy yet".to_owned());
                    Vec::new()
                }
            };
        }
        Action::CopyAccessToken => return vec![Effect::CopyAccessToken],
        Action::Search => {
            if m.focus == Focus::Json {
                m.mode = Mode::Line {
                    target: LineTarget::Search,
                    input: String::new(),
                };
            }
        }
        Action::NextMatch | Action::PrevMatch => {
            if m.json.matches.is_empty() {
                m.status = Some("no matches (/ to search)".to_owned());
            } else {
                m.json.next_match(action == Action::NextMatch, jh);
                m.status = Some(format!(
                    "match {}/{}",
                    m.json.current + 1,
                    m.json.matches.len()
                ));
            }
        }
        Action::ToggleHeaders => {
            m.json_target = if m.json_target == JsonTarget::Headers {
                JsonTarget::Page
            } else {
                JsonTarget::Headers
            };
            refresh_json(m);
        }
        Action::ToggleObject => {
            m.json_target = if m.json_target == JsonTarget::Object {
                JsonTarget::Page
            } else {
                JsonTarget::Object
            };
            refresh_json(m);
        }
        Action::ScrollUp
        | Action::ScrollDown
        | Action::PageUp
        | Action::PageDown
        | Action::ScrollTop
        | Action::ScrollBottom => scroll(m, action),
        Action::PrevPage | Action::NextPage => return move_page(m, action == Action::NextPage),
        Action::PrevChoice | Action::NextChoice => {
            query_choice(m, action == Action::NextChoice);
        }
        Action::Activate => return activate(m),
        Action::Toggle => query_toggle(m),
        Action::AddField => {
            if !frozen_refusal(m) {
                m.focus = Focus::Query;
                m.mode = Mode::Line {
                    target: LineTarget::NewField,
                    input: String::new(),
                };
            }
        }
    }
    Vec::new()
}

/// `what`, and how to cancel the running sign-in (its key in the device-code overlay).
fn cancel_hint(m: &Model, what: &str) -> String {
    match m.keymap.key_for(Context::SignIn, Action::CancelSignIn) {
        Some(k) if m.device_code().is_some() => format!("{what} ({k} cancels the sign-in)"),
        _ => what.to_owned(),
    }
}

/// How to get out of a failed sign-in: the keys to sign in again and to choose a profile.
fn sign_in_keys(m: &Model) -> String {
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
fn not_signed_in_refusal(m: &mut Model) -> bool {
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
fn sign_in_refusal(m: &mut Model) -> bool {
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

fn cancel_sign_in(m: &mut Model) -> Vec<Effect> {
    let SignInState::Running { attempt, .. } = m.sign_in else {
        m.status = Some("no sign-in to cancel".to_owned());
        return Vec::new();
    };
    on_sign_in_failed(m, attempt, crate::auth::AuthError::Cancelled.to_string());
    vec![Effect::CancelSignIn { attempt }]
}

fn on_sign_in_failed(m: &mut Model, attempt: u64, error: String) {
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

fn on_signed_in(
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
fn drop_session(m: &mut Model) {
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

fn choose_profile(m: &mut Model) -> Vec<Effect> {
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

fn copy_or_say(m: &mut Model, what: CopyWhat, text: Option<String>, none: &str) -> Vec<Effect> {
    match text {
        Some(text) => vec![Effect::Copy { what, text }],
        None => {
            m.status = Some(none.to_owned());
            Vec::new()
        }
    }
}

fn begin_run(m: &mut Model, follow: bool) -> u64 {
    m.current_run += 1;
    m.in_flight = true;
    m.follow = follow;
    let page = if m.round_complete() || m.rounds.is_empty() {
        1
    } else {
        m.last_page().map(|p| p.index + 1).unwrap_or(1)
    };
    m.fetch = FetchState::Fetching { page, since: m.now };
    m.current_run
}

/// After a 410 / syncStateNotFound the stored link is dead: only a full resync goes on.
fn needs_resync_refusal(m: &mut Model) -> bool {
    if let FetchState::Failed { error } = &m.fetch
        && error.needs_resync
    {
        let k = m
            .keymap
            .key_for(Context::Global, Action::Resync)
            .map(|k| k.to_string())
            .unwrap_or_else(|| "resync".to_owned());
        m.status = Some(format!("this session needs a full resync: press {k}"));
        return true;
    }
    false
}

fn fetch(m: &mut Model, follow: bool) -> Vec<Effect> {
    if matches!(m.sign_in, SignInState::Running { .. }) {
        // Sent with the new sign-in once it is in force, never with the one it replaces.
        m.pending_fetch = Some(follow);
        m.status = Some(cancel_hint(
            m,
            "signing in: the fetch starts as soon as the sign-in completes",
        ));
        return Vec::new();
    }
    if not_signed_in_refusal(m) {
        return Vec::new();
    }
    if m.in_flight {
        m.status = Some("a fetch is already running (x cancels)".to_owned());
        return Vec::new();
    }
    if needs_resync_refusal(m) {
        return Vec::new();
    }
    if !m.started() {
        let errors: Vec<String> = m
            .query
            .problems
            .iter()
            .filter(|p| p.is_error)
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        if !errors.is_empty() {
            m.status = Some(format!("fix the query first: {}", errors.join("; ")));
            m.focus = Focus::Query;
            return Vec::new();
        }
        m.query.frozen = true;
        m.columns = if m.query.select.selected().is_empty() {
            m.query
                .current()
                .map(|r| r.default_properties.clone())
                .unwrap_or_default()
        } else {
            m.query.select.selected()
        };
        m.columns.retain(|c| c != "id");
        // The bridge checks the token before this first request; an older answer is stale.
        m.token_check = None;
        let run_id = begin_run(m, follow);
        m.status = Some("first request sent; the options are now frozen in the token".into());
        return vec![Effect::Start {
            run_id,
            query: m.query.draft(),
            follow,
        }];
    }
    if m.round_complete() {
        return next_round_with(m, follow);
    }
    let run_id = begin_run(m, follow);
    if follow {
        vec![Effect::FollowRound { run_id }]
    } else {
        vec![Effect::FetchNext { run_id }]
    }
}

fn next_round(m: &mut Model) -> Vec<Effect> {
    if sign_in_refusal(m) {
        return Vec::new();
    }
    if m.in_flight {
        m.status = Some("a fetch is already running (x cancels)".to_owned());
        return Vec::new();
    }
    if needs_resync_refusal(m) {
        return Vec::new();
    }
    if !m.round_complete() {
        m.status = Some("the round is not complete yet: no deltaLink to continue from".into());
        return Vec::new();
    }
    next_round_with(m, false)
}

fn next_round_with(m: &mut Model, follow: bool) -> Vec<Effect> {
    let run_id = begin_run(m, follow);
    let n = m.rounds.last().map(|r| r.number + 1).unwrap_or(1);
    m.status = Some(format!("round {n}: calling the deltaLink"));
    if follow {
        // The runtime starts the round from the deltaLink, then keeps following.
        vec![Effect::NextRound { run_id }, Effect::FollowRound { run_id }]
    } else {
        vec![Effect::NextRound { run_id }]
    }
}

fn scroll(m: &mut Model, action: Action) {
    match m.focus {
        Focus::Json => {
            let h = m.json_height();
            let page = isize::try_from(h.saturating_sub(1).max(1)).unwrap_or(1);
            match action {
                Action::ScrollUp => m.json.scroll_by(-1, h),
                Action::ScrollDown => m.json.scroll_by(1, h),
                Action::PageUp => m.json.scroll_by(-page, h),
                Action::PageDown => m.json.scroll_by(page, h),
                Action::ScrollTop => m.json.scroll_top(),
                _ => m.json.scroll_bottom(h),
            }
        }
        Focus::Results => {
            let n = m.selected_page().map(|p| p.rows.len()).unwrap_or(0);
            if n == 0 {
                return;
            }
            let h = m.table_height();
            m.sel_row = match action {
                Action::ScrollUp => m.sel_row.saturating_sub(1),
                Action::ScrollDown => (m.sel_row + 1).min(n - 1),
                Action::PageUp => m.sel_row.saturating_sub(h),
                Action::PageDown => (m.sel_row + h).min(n - 1),
                Action::ScrollTop => 0,
                _ => n - 1,
            };
            keep_row_visible(m);
            if m.json_target == JsonTarget::Object {
                refresh_json(m);
            }
        }
        Focus::Query => {
            let n = m.query_fields().len();
            m.query_cursor = match action {
                Action::ScrollUp => m.query_cursor.saturating_sub(1),
                Action::ScrollDown => (m.query_cursor + 1).min(n.saturating_sub(1)),
                Action::ScrollTop | Action::PageUp => 0,
                _ => n.saturating_sub(1),
            };
        }
    }
}

fn keep_row_visible(m: &mut Model) {
    let h = m.table_height();
    if m.sel_row < m.row_offset {
        m.row_offset = m.sel_row;
    } else if m.sel_row >= m.row_offset + h {
        m.row_offset = m.sel_row + 1 - h;
    }
}

fn clamp_scrolls(m: &mut Model) {
    let h = m.json_height();
    m.json.scroll_by(0, h);
    keep_row_visible(m);
}

fn move_page(m: &mut Model, forward: bool) -> Vec<Effect> {
    // Flattened (round, page) positions.
    let flat: Vec<(usize, usize)> = m
        .rounds
        .iter()
        .enumerate()
        .flat_map(|(ri, r)| (0..r.pages.len()).map(move |pi| (ri, pi)))
        .collect();
    let pos = flat
        .iter()
        .position(|&(r, p)| r == m.sel_round && p == m.sel_page);
    let next = match (pos, forward) {
        (Some(i), true) if i + 1 < flat.len() => Some(flat[i + 1]),
        (Some(i), false) if i > 0 => Some(flat[i - 1]),
        (None, _) => flat.first().copied(),
        _ => None,
    };
    match next {
        Some((r, p)) => {
            m.sel_round = r;
            m.sel_page = p;
            m.sel_row = 0;
            m.row_offset = 0;
            refresh_json(m);
            Vec::new()
        }
        None if forward && !m.in_flight && !m.round_complete() => fetch(m, false),
        None => Vec::new(),
    }
}

fn activate(m: &mut Model) -> Vec<Effect> {
    match m.focus {
        Focus::Results => {
            if m.selected_page().is_some_and(|p| !p.rows.is_empty()) {
                m.json_target = JsonTarget::Object;
                m.focus = Focus::Json;
                refresh_json(m);
            }
        }
        Focus::Query => {
            let Some(field) = m.query_fields().get(m.query_cursor).copied() else {
                return Vec::new();
            };
            if frozen_refusal(m) {
                return Vec::new();
            }
            match field {
                QueryField::Param(i) => {
                    let input = m
                        .query
                        .params
                        .get(i)
                        .map(|p| p.value.clone())
                        .unwrap_or_default();
                    m.mode = Mode::Line {
                        target: LineTarget::Param(i),
                        input,
                    };
                }
                QueryField::Top => {
                    m.mode = Mode::Line {
                        target: LineTarget::Top,
                        input: m.query.top.map(|t| t.to_string()).unwrap_or_default(),
                    };
                }
                QueryField::Ids => m.mode = Mode::EditIds,
                QueryField::Resource | QueryField::Api => query_choice(m, true),
                _ => query_toggle(m),
            }
        }
        Focus::Json => {}
    }
    Vec::new()
}

fn query_toggle(m: &mut Model) {
    if m.focus != Focus::Query {
        return;
    }
    let Some(field) = m.query_fields().get(m.query_cursor).copied() else {
        return;
    };
    if frozen_refusal(m) {
        return;
    }
    match field {
        QueryField::Select(i) => {
            if let Some(item) = m.query.select.items.get_mut(i) {
                item.1 = !item.1;
            }
        }
        QueryField::Minimal => m.query.minimal = !m.query.minimal,
        QueryField::Latest => m.query.latest = !m.query.latest,
        QueryField::Ids => m.mode = Mode::EditIds,
        QueryField::Resource | QueryField::Api => {
            query_choice(m, true);
            return;
        }
        _ => return,
    }
    m.refresh_query();
}

fn query_choice(m: &mut Model, forward: bool) {
    if m.focus != Focus::Query {
        return;
    }
    let Some(field) = m.query_fields().get(m.query_cursor).copied() else {
        return;
    };
    if !matches!(field, QueryField::Resource | QueryField::Api) || frozen_refusal(m) {
        return;
    }
    match field {
        QueryField::Resource => {
            let n = m.query.resources.len();
            if n == 0 {
                return;
            }
            let i = if forward {
                (m.query.resource + 1) % n
            } else {
                (m.query.resource + n - 1) % n
            };
            m.query.set_resource(i);
            m.ids_editor = TextArea::new(m.query.ids.clone());
        }
        _ => {
            m.query.api = if m.query.api == "beta" {
                "v1.0".to_owned()
            } else {
                "beta".to_owned()
            };
        }
    }
    m.refresh_query();
}

fn on_paste(m: &mut Model, text: &str) {
    let on_ids = m.focus == Focus::Query
        && m.query_fields().get(m.query_cursor) == Some(&QueryField::Ids)
        && !m.query.frozen;
    match &mut m.mode {
        Mode::Line { input, .. } => {
            // A one-line field: the first line, and not megabytes of it (drawn every frame).
            let line = text.lines().next().unwrap_or("");
            input.extend(line.chars().take(4096));
        }
        Mode::EditIds => paste_ids_into(m, text),
        Mode::Normal if on_ids => {
            m.mode = Mode::EditIds;
            paste_ids_into(m, text);
        }
        _ => {}
    }
}

fn paste_ids_into(m: &mut Model, text: &str) {
    paste_ids(&mut m.ids_editor, text);
    sync_ids(m);
}

fn on_mouse(m: &mut Model, ev: MouseEvent) {
    let Some(a) = areas(m.screen()) else {
        return;
    };
    let pos = Position::new(ev.column, ev.row);
    let pane = if a.query.contains(pos) {
        Some(Focus::Query)
    } else if a.results.contains(pos) {
        Some(Focus::Results)
    } else if a.json.contains(pos) {
        Some(Focus::Json)
    } else {
        None
    };
    let Some(pane) = pane else { return };
    match ev.kind {
        MouseEventKind::Down(MouseButton::Left)
            if m.mode == Mode::Normal || (m.mode == Mode::EditIds && pane != Focus::Query) =>
        {
            m.mode = Mode::Normal;
            m.focus = pane;
        }
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let saved = m.focus;
            m.focus = pane;
            let action = if ev.kind == MouseEventKind::ScrollUp {
                Action::ScrollUp
            } else {
                Action::ScrollDown
            };
            for _ in 0..3 {
                scroll(m, action);
            }
            m.focus = saved;
        }
        _ => {}
    }
}

/// Rebuilds the JSON pane's document if what it should show changed. The pretty-printing
/// happens here, once per selection, never per frame; a large body is left to a job that
/// `update` hands to the runtime (see [`JsonView::show_json`]).
pub fn refresh_json(m: &mut Model) {
    let key = (m.sel_round, m.sel_page, m.sel_row, m.json_target);
    let key = if m.json_target == JsonTarget::Object {
        key
    } else {
        (key.0, key.1, usize::MAX, key.3)
    };
    if m.json_key == Some(key) {
        return;
    }
    let Some(page) = m.selected_page() else {
        m.json = JsonView::default();
        m.json_key = None;
        return;
    };
    let body = match m.json_target {
        JsonTarget::Page => Ok(page.raw_json.clone()),
        JsonTarget::Object => match page.rows.get(m.sel_row) {
            Some(row) => Ok(row.json.clone()),
            None => Err(JsonDoc::plain("(no object on this page)")),
        },
        JsonTarget::Headers => Err(headers_doc(page)),
    };
    let h = m.json_height();
    match body {
        Ok(body) => m.json.show_json(body, h),
        Err(doc) => m.json.show_doc(doc, h),
    }
    m.json_key = Some(key);
}

fn headers_doc(page: &PageView) -> JsonDoc {
    let mut lines: Vec<Vec<(String, TokenKind)>> = Vec::new();
    lines.push(vec![(format!("GET {}", page.url), TokenKind::Plain)]);
    lines.push(vec![("Request headers".to_owned(), TokenKind::Punct)]);
    for (n, v) in &page.request_headers {
        lines.push(vec![
            (format!("  {n}: "), TokenKind::Key),
            (redact_header(n, v), TokenKind::Str),
        ]);
    }
    lines.push(Vec::new());
    lines.push(vec![(
        format!("Response headers (HTTP {})", page.status),
        TokenKind::Punct,
    )]);
    for (n, v) in &page.response_headers {
        lines.push(vec![
            (format!("  {n}: "), TokenKind::Key),
            (redact_header(n, v), TokenKind::Str),
        ]);
    }
    JsonDoc::from_pieces(&lines)
}

pub fn human_bytes(n: usize) -> String {
    human_bytes_u64(u64::try_from(n).unwrap_or(u64::MAX))
}

pub fn human_bytes_u64(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bare_token_handles_every_spelling() {
        assert_eq!(
            bare_token("https://g/v1.0/contacts/delta?$skiptoken=abc"),
            Some("abc")
        );
        assert_eq!(
            bare_token("https://g/v1.0/contacts/delta?$deltaToken=x1&$select=a"),
            Some("x1")
        );
        assert_eq!(
            bare_token("https://g/v1.0/users({u})/x/delta?skipToken=s2"),
            Some("s2")
        );
        assert_eq!(
            bare_token("https://g/drives/1/root/delta?token=t"),
            Some("t")
        );
        assert_eq!(bare_token("https://g/v1.0/contacts/delta"), None);
    }

    #[test]
    fn curl_uses_a_placeholder_and_quotes() {
        let c = curl_command(
            "https://g/v1.0/contacts/delta?$select=a's",
            &[
                ("Authorization".into(), "Bearer secret".into()),
                ("Prefer".into(), "return=minimal".into()),
            ],
        );
        assert!(!c.contains("secret"));
        assert!(c.contains(" -H \"Authorization: Bearer $TOKEN\" "), "{c}");
        let t = curl_command_with_token("https://g/x", &[], "eyJ0");
        assert!(t.contains(" -H 'Authorization: Bearer eyJ0' "), "{t}");
        assert!(c.contains("'Prefer: return=minimal'"));
        assert!(c.ends_with("'https://g/v1.0/contacts/delta?$select=a'\\''s'"));
    }

    #[test]
    fn layout_exists_only_above_the_minimum() {
        assert!(areas(Rect::new(0, 0, 59, 40)).is_none());
        assert!(areas(Rect::new(0, 0, 60, 15)).is_some());
    }
}
