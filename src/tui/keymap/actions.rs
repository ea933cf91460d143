//! What a key can ask for: [`Action`], declared once with everything that belongs to it (its
//! name in the keymap file, what it does, its status-bar hint and its default keys per
//! context). A new action that lacks one of them does not compile, and every table derived
//! from them (the default keymap, the help, the README's keys) follows by itself.
use super::context::Context;

/// Everything the explorer knows about one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionSpec {
    /// Its name in the keymap file.
    pub name: &'static str,
    /// What it does, for the help and the README.
    pub description: &'static str,
    /// A word or two for the status bar.
    pub hint: &'static str,
    /// Its default keys, per context (in the keymap file's names; never empty).
    pub defaults: &'static [(Context, &'static [&'static str])],
}

/// Declares [`Action`], [`Action::ALL`] and [`Action::spec`] from one list: each variant must
/// come with `name`, `does`, `hint` and at least one context with at least one key.
macro_rules! actions {
    ($(
        $(#[$meta:meta])*
        $variant:ident {
            name: $name:literal,
            does: $does:literal,
            hint: $hint:literal,
            keys: [$($ctx:ident: [$($key:literal),+ $(,)?]),+ $(,)?] $(,)?
        }
    ),+ $(,)?) => {
        /// Everything a key can ask for. The order here is the order of help and hints.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action {
            $($(#[$meta])* $variant,)+
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            /// Its name, description, hint and default keys.
            pub fn spec(self) -> ActionSpec {
                match self {
                    $(Action::$variant => ActionSpec {
                        name: $name,
                        description: $does,
                        hint: $hint,
                        defaults: &[$((Context::$ctx, &[$($key),+])),+],
                    },)+
                }
            }
        }
    };
}

actions! {
    FetchNext {
        name: "fetch_next",
        does: "fetch the next page (or the next round)",
        hint: "fetch",
        keys: [Global: ["f", "f5"]],
    },
    FollowRound {
        name: "follow_round",
        does: "follow the round to its deltaLink",
        hint: "follow",
        keys: [Global: ["F"]],
    },
    NextRound {
        name: "next_round",
        does: "next round from the stored deltaLink",
        hint: "next round",
        keys: [Global: ["r"]],
    },
    LatestPage {
        name: "latest_page",
        does: "go to the latest page (new ones follow)",
        hint: "latest",
        keys: [Global: [">"]],
    },
    Cancel {
        name: "cancel",
        does: "cancel the running fetch",
        hint: "cancel",
        keys: [Global: ["x"]],
    },
    Resync {
        name: "resync",
        does: "full resync (410, syncStateNotFound)",
        hint: "resync",
        keys: [Global: ["R"]],
    },
    NewQuery {
        name: "new_query",
        does: "new query (keep or drop the rounds)",
        hint: "new query",
        keys: [Global: ["ctrl-n"]],
    },
    ScrollUp {
        name: "scroll_up",
        does: "move up",
        hint: "up",
        keys: [
            Query: ["up", "k"],
            Results: ["up", "k"],
            Json: ["up", "k"],
            Profiles: ["up", "k"],
            Picker: ["up", "k"],
            Overlay: ["up", "k"],
        ],
    },
    ScrollDown {
        name: "scroll_down",
        does: "move down",
        hint: "down",
        keys: [
            Query: ["down", "j"],
            Results: ["down", "j"],
            Json: ["down", "j"],
            Profiles: ["down", "j"],
            Picker: ["down", "j"],
            Overlay: ["down", "j"],
        ],
    },
    PageUp {
        name: "page_up",
        does: "page up",
        hint: "pg up",
        keys: [Results: ["pgup"], Json: ["pgup", "ctrl-b"], Overlay: ["pgup", "ctrl-b"]],
    },
    PageDown {
        name: "page_down",
        does: "page down",
        hint: "pg down",
        keys: [
            Results: ["pgdn"],
            Json: ["pgdn", "ctrl-f", "space"],
            Overlay: ["pgdn", "ctrl-f", "space"],
        ],
    },
    ScrollTop {
        name: "scroll_top",
        does: "go to the top",
        hint: "top",
        keys: [Results: ["home", "g"], Json: ["home", "g"], Overlay: ["home", "g"]],
    },
    ScrollBottom {
        name: "scroll_bottom",
        does: "go to the bottom",
        hint: "bottom",
        keys: [Results: ["end", "G"], Json: ["end", "G"], Overlay: ["end", "G"]],
    },
    ScrollLeft {
        name: "scroll_left",
        does: "scroll long lines left",
        hint: "left",
        keys: [Json: ["left", "h"]],
    },
    ScrollRight {
        name: "scroll_right",
        does: "scroll long lines right",
        hint: "right",
        keys: [Json: ["right", "l"]],
    },
    ToggleWrap {
        name: "toggle_wrap",
        does: "wrap long lines / cut them",
        hint: "wrap",
        keys: [Json: ["w"]],
    },
    PrevPage {
        name: "prev_page",
        does: "previous page",
        hint: "prev page",
        keys: [Results: ["left", "h", "["]],
    },
    NextPage {
        name: "next_page",
        does: "next page (past the last one: fetch it)",
        hint: "next page",
        keys: [Results: ["right", "l", "]"]],
    },
    PrevChoice {
        name: "prev_choice",
        does: "previous resource / API version",
        hint: "prev value",
        keys: [Query: ["left", "h"]],
    },
    NextChoice {
        name: "next_choice",
        does: "next resource / API version",
        hint: "next value",
        keys: [Query: ["right", "l"]],
    },
    Activate {
        name: "activate",
        does: "edit / toggle the field; show the object",
        hint: "edit",
        keys: [
            Query: ["enter"],
            Results: ["enter"],
            Profiles: ["enter"],
            Picker: ["enter"],
            LineInput: ["enter"],
        ],
    },
    Toggle {
        name: "toggle",
        does: "toggle the checkbox",
        hint: "toggle",
        keys: [Query: ["space"]],
    },
    AddField {
        name: "add_field",
        does: "add a $select field by name",
        hint: "add field",
        keys: [Query: ["+"]],
    },
    ToggleMinimal {
        name: "toggle_minimal",
        does: "toggle Prefer: return=minimal",
        hint: "minimal",
        keys: [Query: ["m"]],
    },
    Search {
        name: "search",
        does: "search in the JSON",
        hint: "search",
        keys: [Json: ["/"]],
    },
    NextMatch {
        name: "next_match",
        does: "next match",
        hint: "next match",
        keys: [Json: ["n"]],
    },
    PrevMatch {
        name: "prev_match",
        does: "previous match",
        hint: "prev match",
        keys: [Json: ["N"]],
    },
    ToggleHeaders {
        name: "toggle_headers",
        does: "toggle body / request+response headers",
        hint: "headers",
        keys: [Json: ["H"]],
    },
    ToggleObject {
        name: "toggle_object",
        does: "toggle page JSON / selected object JSON",
        hint: "page/object",
        keys: [Results: ["o"], Json: ["o"]],
    },
    Back {
        name: "back",
        does: "leave the editor",
        hint: "done",
        keys: [
            IdsEditor: ["esc"],
            Profiles: ["esc", "p"],
            Picker: ["esc"],
            Overlay: ["esc", "enter"],
            NewQuery: ["esc"],
            LineInput: ["esc"],
        ],
    },
    KeepRounds {
        name: "keep_rounds",
        does: "keep the rounds (as an earlier query)",
        hint: "keep rounds",
        keys: [NewQuery: ["k"]],
    },
    DropRounds {
        name: "drop_rounds",
        does: "drop the rounds",
        hint: "drop rounds",
        keys: [NewQuery: ["d"]],
    },
    CopyNextLink {
        name: "copy_next_link",
        does: "copy the nextLink",
        hint: "copy nextLink",
        keys: [Global: ["L"]],
    },
    CopyDeltaLink {
        name: "copy_delta_link",
        does: "copy the deltaLink",
        hint: "copy deltaLink",
        keys: [Global: ["D"]],
    },
    CopyStateToken {
        name: "copy_state_token",
        does: "copy the $skiptoken/$deltatoken",
        hint: "copy state token",
        keys: [Global: ["T"]],
    },
    CopyObject {
        name: "copy_object",
        does: "copy the selected object's JSON",
        hint: "copy object",
        keys: [Global: ["O"]],
    },
    CopyPage {
        name: "copy_page",
        does: "copy the page's JSON",
        hint: "copy page",
        keys: [Global: ["P"]],
    },
    CopyIds {
        name: "copy_ids",
        does: "copy the ids of the page",
        hint: "copy ids",
        keys: [Global: ["I"]],
    },
    CopyCurl {
        name: "copy_curl",
        does: "copy the request as curl ($TOKEN)",
        hint: "copy curl",
        keys: [Global: ["C"]],
    },
    CopyCurlWithToken {
        name: "copy_curl_with_token",
        does: "copy the request as curl, access token",
        hint: "copy curl + token",
        keys: [Global: ["ctrl-k"]],
    },
    CopyAccessToken {
        name: "copy_access_token",
        does: "copy the access token",
        hint: "copy access token",
        keys: [Global: ["ctrl-t"]],
    },
    InspectToken {
        name: "inspect_token",
        does: "inspect the access token (claims only)",
        hint: "access token",
        keys: [Global: ["i"]],
    },
    SwitchProfile {
        name: "switch_profile",
        does: "sign in with a profile (config file)",
        hint: "profiles",
        keys: [Global: ["p"]],
    },
    OpenSessions {
        name: "open_sessions",
        does: "stored sessions: resume one",
        hint: "sessions",
        keys: [Global: ["s"]],
    },
    SearchSession {
        name: "search_session",
        does: "search every page of the session",
        hint: "search all",
        keys: [Results: ["/"]],
    },
    ObjectHistory {
        name: "object_history",
        does: "the selected object's history",
        hint: "history",
        keys: [Global: ["t"]],
    },
    JqFilter {
        name: "jq_filter",
        does: "jq filter: the page (or the replica)",
        hint: "jq",
        keys: [Global: ["|"]],
    },
    OpenReplica {
        name: "open_replica",
        does: "the replica: every object, its state",
        hint: "replica",
        keys: [Global: ["v"]],
    },
    CompareRounds {
        name: "compare_rounds",
        does: "compare rounds: mark one, then another",
        hint: "compare",
        keys: [Global: ["c"]],
    },
    ExplainRound {
        name: "explain_round",
        does: "explain what the selected round holds",
        hint: "explain",
        keys: [Global: ["e"]],
    },
    ExportSession {
        name: "export_session",
        does: "export the session (NDJSON, CSV, HAR)",
        hint: "export",
        keys: [Global: ["E"]],
    },
    SignInAgain {
        name: "sign_in_again",
        does: "sign in again (after a failure)",
        hint: "sign in again",
        keys: [Global: ["S"]],
    },
    CopyCode {
        name: "copy_code",
        does: "copy the device code",
        hint: "copy code",
        keys: [SignIn: ["c"]],
    },
    CopyUrl {
        name: "copy_url",
        does: "copy the sign-in page's URL",
        hint: "copy URL",
        keys: [SignIn: ["u"]],
    },
    CancelSignIn {
        name: "cancel_sign_in",
        does: "cancel the sign-in",
        hint: "cancel sign-in",
        keys: [SignIn: ["esc"]],
    },
    FocusNext {
        name: "focus_next",
        does: "focus the next pane",
        hint: "next pane",
        keys: [Global: ["tab"]],
    },
    FocusPrev {
        name: "focus_prev",
        does: "focus the previous pane",
        hint: "prev pane",
        keys: [Global: ["backtab"]],
    },
    FocusQuery {
        name: "focus_query",
        does: "focus the query builder",
        hint: "query",
        keys: [Global: ["1"]],
    },
    FocusResults {
        name: "focus_results",
        does: "focus the results",
        hint: "results",
        keys: [Global: ["2"]],
    },
    FocusJson {
        name: "focus_json",
        does: "focus the raw JSON",
        hint: "json",
        keys: [Global: ["3"]],
    },
    Help {
        name: "help",
        does: "show / hide this help",
        hint: "help",
        keys: [Global: ["?", "f1"]],
    },
    /// Ctrl-C quits too, everywhere, whatever the keymap says.
    Quit {
        name: "quit",
        does: "quit (ctrl-c: also in text fields)",
        hint: "quit",
        keys: [Global: ["q"]],
    },
}

impl Action {
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    pub fn description(self) -> &'static str {
        self.spec().description
    }
    pub fn hint(self) -> &'static str {
        self.spec().hint
    }
    /// What the action does in `ctx` (some keys mean something of their own there).
    pub fn description_in(self, ctx: Context) -> &'static str {
        match (ctx, self) {
            (Context::Profiles, Action::Activate) => "sign in with the selected profile",
            (Context::Profiles, Action::Back) => "close the picker",
            (Context::Profiles, Action::ScrollUp) => "previous profile",
            (Context::Profiles, Action::ScrollDown) => "next profile",
            (Context::Picker, Action::Activate) => "choose / resume / go to the hit",
            (Context::Picker, Action::Back) => "close the list",
            (Context::Picker, Action::ScrollUp) => "previous entry",
            (Context::Picker, Action::ScrollDown) => "next entry",
            (Context::Overlay, Action::Back) => "close the overlay",
            (Context::NewQuery, Action::Back) => "cancel: the query stays as it is",
            (Context::LineInput, Action::Activate) => "confirm the input",
            (Context::LineInput, Action::Back) => "cancel the input",
            (Context::Results, Action::Activate) => "show the object in the JSON pane",
            (Context::Query, Action::Activate) => "pick resource; edit a value or the ids",
            _ => self.description(),
        }
    }
    /// The status-bar hint in `ctx`.
    pub fn hint_in(self, ctx: Context) -> &'static str {
        match (ctx, self) {
            (Context::Profiles, Action::Activate) => "sign in with it",
            (Context::Picker, Action::Activate) => "open",
            (Context::Profiles | Context::Picker | Context::Overlay, Action::Back) => "close",
            (Context::NewQuery | Context::LineInput, Action::Back) => "cancel",
            (Context::LineInput, Action::Activate) => "confirm",
            _ => self.hint(),
        }
    }
    /// The action named `name` in the keymap file; `None` for a name no action has.
    pub fn from_name(name: &str) -> Option<Action> {
        // Its name before "token" meant only the access token.
        let name = if name == "copy_token" {
            "copy_state_token"
        } else {
            name
        };
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_description_fits_a_column_of_the_help() {
        // The help's two columns are 59 wide at most: 2 of indent, 18 of keys, 39 left.
        for &a in Action::ALL {
            for &(ctx, _) in a.spec().defaults {
                let d = a.description_in(ctx);
                assert!(
                    d.chars().count() <= 39,
                    "{a:?} in {ctx:?}: {d:?} is too long"
                );
            }
        }
    }

    #[test]
    fn the_old_name_of_the_state_token_copy_still_reads() {
        assert_eq!(
            Action::from_name("copy_token"),
            Some(Action::CopyStateToken)
        );
        assert_eq!(Action::CopyStateToken.name(), "copy_state_token");
    }

    #[test]
    fn names_are_unique_and_find_their_action() {
        let names: BTreeSet<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        assert_eq!(names.len(), Action::ALL.len(), "two actions share a name");
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            let spec = a.spec();
            assert!(
                !spec.description.is_empty() && !spec.hint.is_empty(),
                "{a:?}"
            );
            assert!(spec.defaults.iter().all(|(_, k)| !k.is_empty()), "{a:?}");
        }
        // An unknown name is no action at all (never a stand-in such as quit).
        assert_eq!(Action::from_name("fly"), None);
        assert_eq!(Action::from_name(""), None);
    }
}
