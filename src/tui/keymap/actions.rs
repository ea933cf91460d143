//! What a key can ask for ([`Action`], with its name, description and hint) and where the
//! keyboard is when it asks ([`Context`]).

/// Everything a key can ask for. The order here is the order of help and hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    FetchNext,
    FollowRound,
    NextRound,
    Cancel,
    Resync,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    ScrollTop,
    ScrollBottom,
    ScrollLeft,
    ScrollRight,
    ToggleWrap,
    PrevPage,
    NextPage,
    PrevChoice,
    NextChoice,
    Activate,
    Toggle,
    AddField,
    ToggleMinimal,
    Search,
    NextMatch,
    PrevMatch,
    ToggleHeaders,
    ToggleObject,
    Back,
    CopyNextLink,
    CopyDeltaLink,
    CopyToken,
    CopyObject,
    CopyPage,
    CopyIds,
    CopyCurl,
    CopyCurlWithToken,
    CopyAccessToken,
    InspectToken,
    SwitchProfile,
    SignInAgain,
    CopyCode,
    CopyUrl,
    CancelSignIn,
    FocusNext,
    FocusPrev,
    FocusQuery,
    FocusResults,
    FocusJson,
    Help,
    Quit,
}

/// (action, name in the TOML file, what it does, short hint for the status bar)
pub(super) const ACTIONS: &[(Action, &str, &str, &str)] = &[
    (
        Action::FetchNext,
        "fetch_next",
        "fetch the next page (starts the query)",
        "fetch",
    ),
    (
        Action::FollowRound,
        "follow_round",
        "follow the whole round to its deltaLink",
        "follow",
    ),
    (
        Action::NextRound,
        "next_round",
        "start the next round from the deltaLink",
        "next round",
    ),
    (
        Action::Cancel,
        "cancel",
        "cancel the running fetch",
        "cancel",
    ),
    (
        Action::Resync,
        "resync",
        "full resync (after 410 / syncStateNotFound)",
        "resync",
    ),
    (Action::ScrollUp, "scroll_up", "move up", "up"),
    (Action::ScrollDown, "scroll_down", "move down", "down"),
    (Action::PageUp, "page_up", "page up", "pg up"),
    (Action::PageDown, "page_down", "page down", "pg down"),
    (Action::ScrollTop, "scroll_top", "go to top", "top"),
    (
        Action::ScrollBottom,
        "scroll_bottom",
        "go to bottom",
        "bottom",
    ),
    (
        Action::ScrollLeft,
        "scroll_left",
        "scroll left (long lines)",
        "left",
    ),
    (
        Action::ScrollRight,
        "scroll_right",
        "scroll right (long lines)",
        "right",
    ),
    (
        Action::ToggleWrap,
        "toggle_wrap",
        "wrap long lines / cut them",
        "wrap",
    ),
    (Action::PrevPage, "prev_page", "previous page", "prev page"),
    (
        Action::NextPage,
        "next_page",
        "next page (past the last one: fetch it)",
        "next page",
    ),
    (
        Action::PrevChoice,
        "prev_choice",
        "previous value",
        "prev value",
    ),
    (
        Action::NextChoice,
        "next_choice",
        "next value",
        "next value",
    ),
    (
        Action::Activate,
        "activate",
        "edit / toggle the field; show the object",
        "edit",
    ),
    (Action::Toggle, "toggle", "toggle the checkbox", "toggle"),
    (
        Action::AddField,
        "add_field",
        "add a $select field by name",
        "add field",
    ),
    (
        Action::ToggleMinimal,
        "toggle_minimal",
        "toggle Prefer: return=minimal",
        "minimal",
    ),
    (Action::Search, "search", "search in the JSON", "search"),
    (Action::NextMatch, "next_match", "next match", "next match"),
    (
        Action::PrevMatch,
        "prev_match",
        "previous match",
        "prev match",
    ),
    (
        Action::ToggleHeaders,
        "toggle_headers",
        "toggle body / request+response headers",
        "headers",
    ),
    (
        Action::ToggleObject,
        "toggle_object",
        "toggle page JSON / selected object JSON",
        "page/object",
    ),
    (Action::Back, "back", "leave the editor", "done"),
    (
        Action::CopyNextLink,
        "copy_next_link",
        "copy the current nextLink",
        "copy nextLink",
    ),
    (
        Action::CopyDeltaLink,
        "copy_delta_link",
        "copy the deltaLink",
        "copy deltaLink",
    ),
    (
        Action::CopyToken,
        "copy_token",
        "copy the bare skip/delta token",
        "copy token",
    ),
    (
        Action::CopyObject,
        "copy_object",
        "copy the selected object's JSON",
        "copy object",
    ),
    (
        Action::CopyPage,
        "copy_page",
        "copy the page's JSON",
        "copy page",
    ),
    (
        Action::CopyIds,
        "copy_ids",
        "copy the ids of the page",
        "copy ids",
    ),
    (
        Action::CopyCurl,
        "copy_curl",
        "copy the request as curl (token placeholder)",
        "copy curl",
    ),
    (
        Action::CopyCurlWithToken,
        "copy_curl_with_token",
        "copy the request as curl, real token",
        "copy curl + token",
    ),
    (
        Action::CopyAccessToken,
        "copy_access_token",
        "copy the access token",
        "copy access token",
    ),
    (
        Action::FocusNext,
        "focus_next",
        "focus the next pane",
        "next pane",
    ),
    (
        Action::FocusPrev,
        "focus_prev",
        "focus the previous pane",
        "prev pane",
    ),
    (
        Action::FocusQuery,
        "focus_query",
        "focus the query builder",
        "query",
    ),
    (
        Action::FocusResults,
        "focus_results",
        "focus the results",
        "results",
    ),
    (
        Action::FocusJson,
        "focus_json",
        "focus the raw JSON",
        "json",
    ),
    (
        Action::InspectToken,
        "inspect_token",
        "inspect the access token (claims only)",
        "token",
    ),
    (
        Action::SwitchProfile,
        "switch_profile",
        "sign in with a profile (config file)",
        "profiles",
    ),
    (
        Action::SignInAgain,
        "sign_in_again",
        "sign in again (after a failure)",
        "sign in again",
    ),
    (
        Action::CopyCode,
        "copy_code",
        "copy the device code",
        "copy code",
    ),
    (
        Action::CopyUrl,
        "copy_url",
        "copy the sign-in page's URL",
        "copy URL",
    ),
    (
        Action::CancelSignIn,
        "cancel_sign_in",
        "cancel the sign-in",
        "cancel sign-in",
    ),
    (Action::Help, "help", "show / hide this help", "help"),
    (Action::Quit, "quit", "quit", "quit"),
];

impl Action {
    pub fn name(self) -> &'static str {
        entry(self).1
    }
    pub fn description(self) -> &'static str {
        entry(self).2
    }
    pub fn hint(self) -> &'static str {
        entry(self).3
    }
    /// What the action does in `ctx` (the picker's keys mean something of their own there).
    pub fn description_in(self, ctx: Context) -> &'static str {
        match (ctx, self) {
            (Context::Profiles, Action::Activate) => "sign in with the selected profile",
            (Context::Profiles, Action::Back) => "close the picker",
            (Context::Profiles, Action::ScrollUp) => "previous profile",
            (Context::Profiles, Action::ScrollDown) => "next profile",
            _ => self.description(),
        }
    }
    /// The status-bar hint in `ctx`.
    pub fn hint_in(self, ctx: Context) -> &'static str {
        match (ctx, self) {
            (Context::Profiles, Action::Activate) => "sign in with it",
            (Context::Profiles, Action::Back) => "close",
            _ => self.hint(),
        }
    }
    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|e| e.1 == name).map(|e| e.0)
    }
}

pub(super) fn entry(a: Action) -> &'static (Action, &'static str, &'static str, &'static str) {
    // ACTIONS lists every variant (checked by a test); fall back to Quit's entry otherwise.
    ACTIONS
        .iter()
        .find(|e| e.0 == a)
        .unwrap_or(&ACTIONS[ACTIONS.len() - 1])
}

/// Where the keyboard focus is, as far as key lookup is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    Global,
    Query,
    Results,
    Json,
    IdsEditor,
    /// The device-code overlay of a sign-in in progress.
    SignIn,
    /// The profile picker.
    Profiles,
}

impl Context {
    pub const ALL: [Context; 7] = [
        Context::Global,
        Context::Query,
        Context::Results,
        Context::Json,
        Context::IdsEditor,
        Context::SignIn,
        Context::Profiles,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Query => "query",
            Context::Results => "results",
            Context::Json => "json",
            Context::IdsEditor => "ids_editor",
            Context::SignIn => "sign_in",
            Context::Profiles => "profiles",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Query => "Query builder",
            Context::Results => "Results",
            Context::Json => "Raw JSON",
            Context::IdsEditor => "Id filter editor",
            Context::SignIn => "Device-code sign-in",
            Context::Profiles => "Profile picker",
        }
    }
    pub(super) fn from_name(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
    /// Contexts that see only their own bindings: a text field (other keys type text) and the
    /// sign-in overlays (a stray key must not start a fetch behind them).
    pub fn is_exclusive(self) -> bool {
        matches!(
            self,
            Context::IdsEditor | Context::SignIn | Context::Profiles
        )
    }
}
