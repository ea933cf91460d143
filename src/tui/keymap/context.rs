//! Where the keyboard is when a key is looked up ([`Context`]): a section of the keymap file.

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
    /// A picker of the session store's: stored sessions, search hits.
    Picker,
    /// The help and the token inspector overlays.
    Overlay,
    /// The question a new query asks when there are rounds: keep them or drop them.
    NewQuery,
    /// A one-line input (search, a parameter, `$top`, a free `$select` field): other keys
    /// type text.
    LineInput,
}

impl Context {
    pub const ALL: [Context; 11] = [
        Context::Global,
        Context::Query,
        Context::Results,
        Context::Json,
        Context::IdsEditor,
        Context::SignIn,
        Context::Profiles,
        Context::Picker,
        Context::Overlay,
        Context::NewQuery,
        Context::LineInput,
    ];
    /// The section's name in the keymap file.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Query => "query",
            Context::Results => "results",
            Context::Json => "json",
            Context::IdsEditor => "ids_editor",
            Context::SignIn => "sign_in",
            Context::Profiles => "profiles",
            Context::Picker => "picker",
            Context::Overlay => "overlay",
            Context::NewQuery => "new_query",
            Context::LineInput => "line_input",
        }
    }
    /// The section's title in the help and the README.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Query => "Query builder",
            Context::Results => "Results",
            Context::Json => "Raw JSON",
            Context::IdsEditor => "Id filter editor",
            Context::SignIn => "Device-code sign-in",
            Context::Profiles => "Profile picker",
            Context::Picker => "Resource picker, stored sessions and search hits",
            Context::Overlay => "Help, token inspector, history",
            Context::NewQuery => "New query (when there are rounds)",
            Context::LineInput => "One-line input",
        }
    }
    /// When the section's keys apply, in a sentence for the README and the keymap file.
    pub fn when(self) -> &'static str {
        match self {
            Context::Global => "in every pane, not inside a text field",
            Context::Query => "when the query builder has the focus",
            Context::Results => "when the results pane has the focus",
            Context::Json => "when the raw JSON pane has the focus",
            Context::IdsEditor => "while editing the id filter (every other key types text)",
            Context::SignIn => "while a device code is shown (no other key acts behind it)",
            Context::Profiles => "in the profile picker",
            Context::Picker => {
                "in the resource picker, the stored sessions picker and the list of search hits"
            }
            Context::Overlay => {
                "while the help, the token inspector or an object's history is shown (the key that opened it, and quit, close it too)"
            }
            Context::NewQuery => "while the new query asks what becomes of the rounds",
            Context::LineInput => {
                "while typing a search, a parameter, a path, $top, a page size or a field name (other keys type text)"
            }
        }
    }
    pub(super) fn from_name(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
    /// Contexts that see only their own bindings: a text field (other keys type text), the
    /// sign-in overlays (a stray key must not start a fetch behind them) and the other
    /// overlays.
    pub fn is_exclusive(self) -> bool {
        matches!(
            self,
            Context::IdsEditor
                | Context::SignIn
                | Context::Profiles
                | Context::Picker
                | Context::Overlay
                | Context::NewQuery
                | Context::LineInput
        )
    }
}
