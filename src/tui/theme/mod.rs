//! Colours and emphasis, named by what they mark: every style a pane draws with is a role of
//! the [`Theme`] in the model. Three themes are built in (`assets/themes/*.toml`, embedded):
//! `dark` (the look the explorer always had), `light` (for a white background) and `mono` (no
//! colour at all, emphasis by modifiers only: what `NO_COLOR` asks for). A user file of the
//! same shape lays roles over one of them.
//!
//! - [`file`]: the file format, and its errors (with the line they are on).
//! - [`choose`]: which theme: `--theme`, `DELTASCOPE_THEME`, the config file, `NO_COLOR`.
mod choose;
mod file;

use std::sync::LazyLock;

use ratatui::style::Style;

pub use choose::{ThemeSettings, choose};
pub use file::ThemeError;

/// Declares the roles once: the struct, the names a theme file uses and what each marks.
macro_rules! roles {
    ($($(#[doc = $doc:literal])+ $name:ident,)*) => {
        /// Every style the explorer draws with, by what it marks. Drawing reads it from the
        /// model; nothing else picks a colour.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Theme {
            $($(#[doc = $doc])+ pub $name: Style,)*
        }

        /// Each role's name (as a theme file spells it) and what it marks.
        pub const ROLES: &[(&str, &str)] = &[$((stringify!($name), concat!($($doc),+)),)*];

        impl Theme {
            /// No style at all (a built-in theme file fills every role).
            fn blank() -> Self {
                Self { $($name: Style::new(),)* }
            }

            fn role_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($name) => Some(&mut self.$name),)*
                    _ => None,
                }
            }

            /// The role called `name` in a theme file.
            pub fn role(&self, name: &str) -> Option<Style> {
                match name {
                    $(stringify!($name) => Some(self.$name),)*
                    _ => None,
                }
            }
        }
    };
}

roles! {
    /// The name badge at the left of the title bar.
    title_badge,
    /// Pane titles, round headers, the chosen resource.
    heading,
    /// Secondary text: labels, hints, links' text, empty states.
    muted,
    /// A sentence quoted from a service (the sign-in page's instructions).
    quote,
    /// Labels in the overlays (token inspector, sign-in, profiles).
    label,
    /// Section titles and table headers in the overlays (help, profiles).
    overlay_heading,
    /// A URL to open.
    link,
    /// The border of a pane without the focus.
    border,
    /// The border of the focused pane and of the overlays.
    border_focused,
    /// The border of the id editor while it has the keyboard.
    border_editing,
    /// The selected line of the focused pane (query row, page, object).
    selection,
    /// The selected object while the results pane has not the focus.
    selection_unfocused,
    /// The chosen profile in the profile picker.
    picker_selection,
    /// A text being typed (a parameter, `$top`, a search).
    input,
    /// The prompt before a search being typed.
    prompt,
    /// Something went well (a 2xx status, a complete round, a valid id).
    ok,
    /// The verdict that the token can read the resource.
    ok_strong,
    /// An error, a failed check.
    error,
    /// The heading of an error, a count over its limit.
    error_strong,
    /// Something to look at (retries, a frozen query, what to do).
    warning,
    /// A warning that stands out (nothing to inspect, a profile problem).
    warning_strong,
    /// Something running now (a fetch, formatting).
    busy,
    /// A round not complete yet.
    pending,
    /// The status badge of a completed round.
    badge_ok,
    /// The status badge of a wait or of something to do (throttled, not signed in).
    badge_warning,
    /// The status badge of a failure.
    badge_error,
    /// The status badge of a sign-in running.
    badge_busy,
    /// A status notice that informs.
    notice_info,
    /// A status notice about something under way.
    notice_progress,
    /// A status notice that warns.
    notice_warning,
    /// A status notice about an error.
    notice_error,
    /// The key that gets out of a failure (full resync, inspect the token).
    action_hint,
    /// Keys in the help overlay.
    key,
    /// Keys in the status bar's and the sign-in overlay's hints.
    key_badge,
    /// What a key in the status bar's hints does.
    key_hint,
    /// The header row of the objects table.
    table_header,
    /// The mark of an object new to the session in a change round (`new`).
    added,
    /// The mark of an object back after a soft deletion (`restored`).
    restored,
    /// The mark of a removed object.
    removed,
    /// The row of a removed object (on top of the row's other styles).
    removed_row,
    /// A property changed in a minimal round (`*value`).
    changed,
    /// The mark of an object seen twice in a round.
    duplicate,
    /// The mark of a large group's next members (not a duplicate).
    slice,
    /// A trait worth noticing: a minimal round, an empty page, a `$select` field the catalog
    /// does not know.
    flag,
    /// The label of a page's nextLink.
    next_link,
    /// The label of a page's deltaLink.
    delta_link,
    /// The method of the request preview (`GET`).
    http_method,
    /// JSON property names.
    json_key,
    /// JSON strings.
    json_string,
    /// JSON numbers.
    json_number,
    /// JSON `true`, `false` and `null`.
    json_literal,
    /// JSON punctuation (braces, brackets, commas, colons).
    json_punct,
    /// The line numbers of the JSON pane.
    line_number,
    /// A search match in the JSON pane.
    search_match,
    /// The current search match.
    search_current,
    /// The device code to type on the sign-in page.
    device_code,
}

/// The built-in themes' files, embedded at build time.
pub const DARK: &str = include_str!("../../../assets/themes/dark.toml");
pub const LIGHT: &str = include_str!("../../../assets/themes/light.toml");
pub const MONO: &str = include_str!("../../../assets/themes/mono.toml");

/// The built-in themes by name, as `--theme` and a file's `base` take them.
pub const BUILT_IN: [(&str, &str); 3] = [("dark", DARK), ("light", LIGHT), ("mono", MONO)];

// Parsed once, on first use (never during a draw: the model holds its own copy). The files are
// checked by unit tests; a blank theme is the impossible fallback.
static PARSED: LazyLock<[Theme; 3]> = LazyLock::new(|| {
    BUILT_IN.map(|(_, text)| file::parse_built_in(text).unwrap_or_else(|_| Theme::blank()))
});

impl Theme {
    /// The look the explorer always had, for a dark background.
    pub fn dark() -> Self {
        PARSED[0].clone()
    }

    /// For a light background: no fixed dark backgrounds, text colours dark enough to read.
    pub fn light() -> Self {
        PARSED[1].clone()
    }

    /// No colour at all: emphasis by modifiers only (reversed selection, bold headings).
    pub fn mono() -> Self {
        PARSED[2].clone()
    }

    /// The built-in theme called `name` (`dark`, `light`, `mono`).
    pub fn built_in(name: &str) -> Option<Self> {
        BUILT_IN
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|i| PARSED[i].clone())
    }
}

impl Default for Theme {
    fn default() -> Self {
        Self::dark()
    }
}

#[cfg(test)]
mod tests;
