//! The model: everything the explorer shows, and the small enums that say where the keyboard is.
use std::time::Instant;

use ratatui_textarea::TextArea;

use crate::tui::ids::{IdCheck, check_ids};
use crate::tui::json_view::JsonView;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::theme::Theme;
use crate::tui::view::{
    DeviceCodeView, Fetch, PageView, ProblemView, ProfilesView, QueryDraft, QueryView,
    RequestPreview, RoundView, SignInState, TokenCheckView, TokenView,
};

/// Which pane has the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Query,
    Results,
    Json,
}

impl Focus {
    pub(super) const ORDER: [Focus; 3] = [Focus::Query, Focus::Results, Focus::Json];
    pub(super) fn context(self) -> Context {
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
    /// A delta path of the person's own (replaces the resource).
    Path,
    Param(usize),
    Select(usize),
    Minimal,
    Ids,
    Top,
    /// `Prefer: odata.maxpagesize`
    MaxPage,
    /// directoryObjects' `isof` types
    Types,
    Latest,
}

/// What a one-line text input is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineTarget {
    Param(usize),
    Top,
    MaxPage,
    Types,
    Path,
    NewField,
    Search,
    /// A search of every page of the session.
    SessionSearch,
    /// The replica view's filter.
    ReplicaFilter,
    /// A jq filter (over the page, or the replica when typed in its view).
    Jq,
}

/// Modal input state; at most one at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    /// The token inspector overlay (esc closes).
    TokenInspector,
    /// A one-line input (search, a parameter, `$top`, a free `$select` field).
    Line {
        target: LineTarget,
        input: String,
    },
    /// The id filter editor has the keyboard.
    EditIds,
    /// The profile picker (esc closes).
    Profiles,
    /// The stored sessions picker (esc closes).
    Sessions,
    /// The resource picker, grouped (esc closes).
    Resources,
    /// An object's history overlay (esc closes).
    History,
    /// The hits of a search of the session (esc closes, enter goes to one).
    Found,
    /// The replica: every object the session knows of (esc closes).
    Replica,
    /// A new query asks whether the rounds fetched so far are kept or dropped.
    NewQuery,
}

/// What the JSON pane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonTarget {
    Page,
    Object,
    Headers,
}

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
    /// Every style the panes draw with (dark until start-up says otherwise).
    pub theme: Theme,
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
    /// The first `kept_rounds` rounds were fetched by an earlier query and kept when a new
    /// one started (shown, labelled as such, never continued).
    pub kept_rounds: usize,
    /// Table columns: the `$select` fields frozen at the session start (or the defaults).
    pub columns: Vec<String>,
    pub sel_round: usize,
    pub sel_page: usize,
    pub sel_row: usize,
    pub row_offset: usize,
    pub json_target: JsonTarget,
    pub json: JsonView,
    pub(super) json_key: Option<(usize, usize, usize, JsonTarget)>,
    pub fetch: Fetch,
    pub dropped_stale: usize,
    pub now: Instant,
    pub spinner: usize,
    /// What the status bar says besides the states (see [`super::notice`]).
    pub notice: Option<super::notice::Notice>,
    /// The token inspector's last answer (`None` while it is being asked for).
    pub token: Option<TokenView>,
    /// What the token check before the session's first request found (`None`: not checked,
    /// e.g. a token that is not a JWT).
    pub token_check: Option<TokenCheckView>,
    /// Who is signed in, or the sign-in running or failed.
    pub sign_in: SignInState,
    /// The profile picker's list (`None` while the config file is read).
    pub profiles: Option<ProfilesView>,
    pub profile_cursor: usize,
    /// The stored sessions picker's list (`None` while the store is read).
    pub sessions: Option<crate::tui::view::SessionsView>,
    pub session_cursor: usize,
    /// The stored session the rounds on screen belong to, once resumed.
    pub resumed: Option<i64>,
    /// The history overlay's object (`None` while it is read) and first line shown.
    pub history: Option<crate::tui::view::HistoryView>,
    pub history_scroll: usize,
    /// The last search of the session (`None` while it runs) and the hit under the cursor.
    pub found: Option<crate::tui::view::SearchView>,
    pub found_cursor: usize,
    /// The resource picker's cursor: an index into its entries (resources, then the own path).
    pub resource_cursor: usize,
    /// Whether the session on screen is being recorded: its stored session, or why not (a
    /// badge says so while it lasts).
    pub recording: Option<Result<i64, String>>,
    /// The replica view (`None` while it is read), the rows its filter keeps, the cursor
    /// (an index into those) and the first row shown.
    pub replica: Option<std::sync::Arc<crate::tui::view::ReplicaView>>,
    pub replica_shown: Vec<usize>,
    pub replica_cursor: usize,
    pub replica_offset: usize,
    /// The replica view's filter and order.
    pub replica_order: crate::tui::view::replica::ReplicaOrder,
    /// The arrangement (`Effect::ArrangeReplica`) the view waits for, by number; the rows
    /// shown meanwhile are the last arrangement's.
    pub replica_arranging: Option<u64>,
    pub replica_arrangements: u64,
    /// The JSON pane shows a jq filter's output: what it says in the pane's title. Gone when
    /// the selection moves.
    pub jq_shown: Option<String>,
    /// The last jq filter typed, and whether it was typed in the replica view.
    pub jq_filter: String,
    pub jq_on_replica: bool,
    /// The round marked to be compared with the next one chosen (`c`).
    pub compare_mark: Option<u32>,
    /// `--resume`: the stored session to bring back when the runtime starts.
    pub resume_at_start: Option<i64>,
    /// The help overlay's first line shown.
    pub help_scroll: usize,
    pub quit: bool,
    /// Counts the messages that changed what is shown: the runtime draws only when it moved.
    pub(super) revision: u64,
    /// The message being applied changed nothing (a stale answer, a key bound to nothing).
    pub(super) unchanged: bool,
    pub(super) previewer: Box<dyn QueryPreviewer>,
}

impl Model {
    pub fn new(query: QueryView, keymap: Keymap, previewer: Box<dyn QueryPreviewer>) -> Self {
        let mut m = Self {
            keymap,
            theme: Theme::default(),
            title: String::new(),
            size: (80, 24),
            focus: Focus::Query,
            mode: Mode::Normal,
            query,
            query_cursor: 0,
            ids_editor: TextArea::default(),
            ids_check: IdCheck::default(),
            rounds: Vec::new(),
            kept_rounds: 0,
            columns: Vec::new(),
            sel_round: 0,
            sel_page: 0,
            sel_row: 0,
            row_offset: 0,
            json_target: JsonTarget::Page,
            json: JsonView::default(),
            json_key: None,
            fetch: Fetch::default(),
            dropped_stale: 0,
            now: Instant::now(),
            spinner: 0,
            notice: None,
            token: None,
            token_check: None,
            sign_in: SignInState::default(),
            profiles: None,
            profile_cursor: 0,
            sessions: None,
            session_cursor: 0,
            resumed: None,
            history: None,
            history_scroll: 0,
            found: None,
            found_cursor: 0,
            resource_cursor: 0,
            resume_at_start: None,
            compare_mark: None,
            jq_shown: None,
            jq_filter: String::new(),
            jq_on_replica: false,
            replica: None,
            replica_shown: Vec::new(),
            replica_cursor: 0,
            replica_offset: 0,
            replica_order: Default::default(),
            replica_arranging: None,
            replica_arrangements: 0,
            recording: None,
            help_scroll: 0,
            quit: false,
            revision: 0,
            unchanged: false,
            previewer,
        };
        let index = m.query.resource;
        m.query.set_resource(index);
        m.ids_editor = TextArea::new(m.query.ids.clone());
        m.refresh_query();
        m
    }

    /// Moves on whenever a message changed the model (see [`super::update`]).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// What the message being applied did changes nothing on the screen.
    pub(super) fn unchanged(&mut self) -> Vec<super::effect::Effect> {
        self.unchanged = true;
        Vec::new()
    }

    /// The key context in force.
    pub fn context(&self) -> Context {
        if self.device_code().is_some() {
            return Context::SignIn;
        }
        match self.mode {
            Mode::EditIds => Context::IdsEditor,
            Mode::Profiles => Context::Profiles,
            Mode::Sessions | Mode::Found | Mode::Resources => Context::Picker,
            Mode::Help | Mode::TokenInspector | Mode::History | Mode::Replica => Context::Overlay,
            Mode::NewQuery => Context::NewQuery,
            Mode::Line { .. } => Context::LineInput,
            Mode::Normal => self.focus.context(),
        }
    }

    /// Something animates: the runtime ticks only then (a fetch, a throttle countdown, a
    /// sign-in's spinner or a device code's expiry countdown).
    pub fn animating(&self) -> bool {
        self.fetch.in_flight() || self.sign_in.running()
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
        self.sign_in.in_force().map(|s| s.who.as_str())
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

    /// The last page fetched (the rows of failed requests are not pages).
    pub(super) fn last_page(&self) -> Option<&PageView> {
        self.last_fetched_round()?.fetched().last()
    }

    /// The newest round of the query in the builder that brought a page: rounds kept from an
    /// earlier query are not continued, and a round whose first request failed has none yet.
    pub(super) fn last_fetched_round(&self) -> Option<&RoundView> {
        self.current_rounds()
            .iter()
            .rev()
            .find(|r| r.fetched().next().is_some())
    }

    pub(super) fn round_complete(&self) -> bool {
        self.last_fetched_round()
            .is_some_and(|r| r.delta_link.is_some())
    }

    /// The rounds fetched by the query in the builder.
    pub fn current_rounds(&self) -> &[RoundView] {
        self.rounds.get(self.kept_rounds..).unwrap_or(&[])
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
    if q.own_path().is_some() {
        // The path carries the resource, its parameters and options; the headers stay.
        out.extend([QueryField::Minimal, QueryField::MaxPage, QueryField::Path]);
        return out;
    }
    out.extend((0..q.params.len()).map(QueryField::Param));
    let res = q.current();
    if res.is_none_or(|r| r.supports_select) {
        out.extend((0..q.select.items.len()).map(QueryField::Select));
    }
    if res.is_some_and(|r| r.supports_minimal) {
        out.push(QueryField::Minimal);
    }
    if res.is_some_and(|r| r.supports_types) {
        out.push(QueryField::Types);
    }
    if res.is_some_and(|r| r.supports_filter_ids) {
        out.push(QueryField::Ids);
    }
    if res.is_some_and(|r| r.supports_top) {
        out.push(QueryField::Top);
    }
    if res.is_some_and(|r| r.supports_max_page) {
        out.push(QueryField::MaxPage);
    }
    if res.is_some_and(|r| r.supports_latest) {
        out.push(QueryField::Latest);
    }
    out.push(QueryField::Path);
    out
}
