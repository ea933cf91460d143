//! Keys as data: `assets/keymap.toml` is embedded; a user file of the same shape overrides it.
//! The help overlay and the status-bar hints are generated from the same tables.
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The default bindings, embedded at build time.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

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
const ACTIONS: &[(Action, &str, &str, &str)] = &[
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

fn entry(a: Action) -> &'static (Action, &'static str, &'static str, &'static str) {
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
    fn from_name(s: &str) -> Option<Context> {
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

/// A key with its modifiers, normalised (Shift is folded into the character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    pub fn from_event(ev: &KeyEvent) -> Self {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            KeyCode::BackTab => KeyCode::BackTab,
            other => other,
        };
        if ev.modifiers.contains(KeyModifiers::SHIFT)
            && !matches!(code, KeyCode::Char(_) | KeyCode::BackTab)
        {
            mods |= KeyModifiers::SHIFT;
        }
        Self { code, mods }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            if rest.len() > 1
                && let Some(r) = rest.strip_prefix("ctrl-")
            {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if rest.len() > 1
                && let Some(r) = rest.strip_prefix("alt-")
            {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        if mods.contains(KeyModifiers::CONTROL) {
                            KeyCode::Char(c.to_ascii_lowercase())
                        } else {
                            KeyCode::Char(c)
                        }
                    }
                    _ => match rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                        Some(n) if (1..=24).contains(&n) => KeyCode::F(n),
                        _ => return Err(format!("unknown key {s:?}")),
                    },
                }
            }
        };
        Ok(Self { code, mods })
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Insert => f.write_str("ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError(pub String);

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keymap: {}", self.0)
    }
}

impl std::error::Error for KeymapError {}

/// Bindings per context, each sorted by action.
#[derive(Clone, Debug)]
pub struct Keymap {
    contexts: BTreeMap<Context, Vec<(Action, Vec<KeyChord>)>>,
}

type RawKeymap = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Default for Keymap {
    fn default() -> Self {
        // The embedded file is checked by a unit test; an empty map is the impossible fallback.
        Self::parse(DEFAULT_KEYMAP).unwrap_or(Self {
            contexts: BTreeMap::new(),
        })
    }
}

impl Keymap {
    /// Parses a complete keymap in the TOML shape of `assets/keymap.toml`.
    pub fn parse(text: &str) -> Result<Self, KeymapError> {
        let mut map = Self {
            contexts: BTreeMap::new(),
        };
        map.apply(text)?;
        Ok(map)
    }

    /// The default keymap with a user overlay (same shape) applied: each action it names gets
    /// exactly the keys it lists, in the contexts it names.
    pub fn with_overlay(overlay: &str) -> Result<Self, KeymapError> {
        let mut map = Self::default();
        map.apply(overlay)?;
        Ok(map)
    }

    /// `$XDG_CONFIG_HOME/deltascope/keymap.toml` or `~/.config/deltascope/keymap.toml`.
    pub fn user_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("deltascope").join("keymap.toml"))
    }

    /// The default keymap plus the overlay at `path`, if that file exists.
    pub fn load(path: Option<&Path>) -> Result<Self, KeymapError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::with_overlay(&text)
                .map_err(|e| KeymapError(format!("{}: {}", path.display(), e.0))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(KeymapError(format!("{}: {e}", path.display()))),
        }
    }

    fn apply(&mut self, text: &str) -> Result<(), KeymapError> {
        let raw: RawKeymap = toml::from_str(text).map_err(|e| KeymapError(e.to_string()))?;
        for (ctx_name, actions) in raw {
            let ctx = Context::from_name(&ctx_name)
                .ok_or_else(|| KeymapError(format!("unknown section [{ctx_name}]")))?;
            let list = self.contexts.entry(ctx).or_default();
            for (action_name, keys) in actions {
                let action = Action::from_name(&action_name).ok_or_else(|| {
                    KeymapError(format!("unknown action {action_name:?} in [{ctx_name}]"))
                })?;
                let chords = keys
                    .iter()
                    .map(|k| KeyChord::parse(k).map_err(KeymapError))
                    .collect::<Result<Vec<_>, _>>()?;
                list.retain(|(a, _)| *a != action);
                list.push((action, chords));
            }
            list.sort_by_key(|(a, _)| *a);
        }
        Ok(())
    }

    /// The action `key` means in `ctx`: Ctrl-C always quits; text contexts see only their own
    /// bindings; pane contexts win over global ones.
    pub fn action(&self, ctx: Context, key: &KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let chord = KeyChord::from_event(key);
        if chord.code == KeyCode::Char('c') && chord.mods == KeyModifiers::CONTROL {
            return Some(Action::Quit);
        }
        let find = |c: Context| {
            self.contexts.get(&c).and_then(|list| {
                list.iter()
                    .find(|(_, keys)| keys.contains(&chord))
                    .map(|(a, _)| *a)
            })
        };
        if ctx.is_exclusive() {
            return find(ctx);
        }
        find(ctx).or_else(|| find(Context::Global))
    }

    /// The bindings of one context, in action order.
    pub fn bindings(&self, ctx: Context) -> &[(Action, Vec<KeyChord>)] {
        self.contexts.get(&ctx).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first key bound to `action` in `ctx` (or globally), for hints.
    pub fn key_for(&self, ctx: Context, action: Action) -> Option<KeyChord> {
        let find = |c: Context| {
            self.bindings(c)
                .iter()
                .find(|(a, _)| *a == action)
                .and_then(|(_, k)| k.first().copied())
        };
        find(ctx).or_else(|| {
            if ctx.is_exclusive() {
                None
            } else {
                find(Context::Global)
            }
        })
    }

    /// Status-bar hints for `ctx`: the pane's own bindings, then the essential global ones.
    pub fn hints(&self, ctx: Context) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = self
            .bindings(ctx)
            .iter()
            .filter(|(a, _)| {
                !matches!(
                    a,
                    Action::ScrollUp
                        | Action::ScrollDown
                        | Action::PageUp
                        | Action::PageDown
                        | Action::ScrollTop
                        | Action::ScrollBottom
                )
            })
            .filter_map(|(a, keys)| keys.first().map(|k| (k.to_string(), a.hint_in(ctx))))
            .collect();
        if !ctx.is_exclusive() {
            for a in [
                Action::FetchNext,
                Action::FollowRound,
                Action::NextRound,
                Action::CopyDeltaLink,
                Action::Help,
                Action::Quit,
            ] {
                if let Some(k) = self.key_for(Context::Global, a) {
                    out.push((k.to_string(), a.hint()));
                }
            }
        } else {
            out.push(("ctrl-c".to_owned(), Action::Quit.hint()));
        }
        out
    }

    /// Help overlay lines: (section title, [(keys joined, description)]).
    pub fn help_sections(&self) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
        let mut sections = Vec::new();
        for ctx in [
            Context::Global,
            Context::Query,
            Context::Results,
            Context::Json,
            Context::IdsEditor,
            Context::SignIn,
            Context::Profiles,
        ] {
            let rows: Vec<(String, &'static str)> = self
                .bindings(ctx)
                .iter()
                .filter(|(_, keys)| !keys.is_empty())
                .map(|(a, keys)| {
                    let k: Vec<String> = keys.iter().map(ToString::to_string).collect();
                    (k.join(" "), a.description_in(ctx))
                })
                .collect();
            sections.push((ctx.title(), rows));
        }
        sections
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn every_action_has_an_entry_and_default_parses() {
        let all = [
            Action::FetchNext,
            Action::FollowRound,
            Action::NextRound,
            Action::Cancel,
            Action::Resync,
            Action::ScrollUp,
            Action::ScrollDown,
            Action::PageUp,
            Action::PageDown,
            Action::ScrollTop,
            Action::ScrollBottom,
            Action::PrevPage,
            Action::NextPage,
            Action::PrevChoice,
            Action::NextChoice,
            Action::Activate,
            Action::Toggle,
            Action::AddField,
            Action::ToggleMinimal,
            Action::Search,
            Action::NextMatch,
            Action::PrevMatch,
            Action::ToggleHeaders,
            Action::ToggleObject,
            Action::Back,
            Action::CopyNextLink,
            Action::CopyDeltaLink,
            Action::CopyToken,
            Action::CopyObject,
            Action::CopyPage,
            Action::CopyIds,
            Action::CopyCurl,
            Action::CopyCurlWithToken,
            Action::CopyAccessToken,
            Action::InspectToken,
            Action::SwitchProfile,
            Action::SignInAgain,
            Action::CopyCode,
            Action::CopyUrl,
            Action::CancelSignIn,
            Action::FocusNext,
            Action::FocusPrev,
            Action::FocusQuery,
            Action::FocusResults,
            Action::FocusJson,
            Action::Help,
            Action::Quit,
        ];
        assert_eq!(all.len(), ACTIONS.len());
        for a in all {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        let map = Keymap::parse(DEFAULT_KEYMAP).unwrap();
        assert!(!map.bindings(Context::Global).is_empty());
    }

    #[test]
    fn pane_bindings_win_and_text_fields_only_see_their_own() {
        let map = Keymap::default();
        let n = key(KeyCode::Char('n'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Json, &n), Some(Action::NextMatch));
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Json, &q), Some(Action::Quit));
        assert_eq!(map.action(Context::IdsEditor, &q), None);
        let esc = key(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(map.action(Context::IdsEditor, &esc), Some(Action::Back));
        let ctrl_c = key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map.action(Context::IdsEditor, &ctrl_c), Some(Action::Quit));
        let shift_d = key(KeyCode::Char('D'), KeyModifiers::SHIFT);
        assert_eq!(
            map.action(Context::Results, &shift_d),
            Some(Action::CopyDeltaLink)
        );
    }

    #[test]
    fn sign_in_keys_and_exclusive_overlays() {
        let map = Keymap::default();
        let k = |c: char| key(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            map.action(Context::Results, &k('p')),
            Some(Action::SwitchProfile)
        );
        assert_eq!(
            map.action(Context::Json, &k('S')),
            Some(Action::SignInAgain)
        );
        assert_eq!(map.action(Context::SignIn, &k('c')), Some(Action::CopyCode));
        assert_eq!(map.action(Context::SignIn, &k('u')), Some(Action::CopyUrl));
        let esc = key(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(
            map.action(Context::SignIn, &esc),
            Some(Action::CancelSignIn)
        );
        assert_eq!(map.action(Context::Profiles, &esc), Some(Action::Back));
        // Behind an overlay a global key does nothing; ctrl-c still quits.
        assert_eq!(map.action(Context::SignIn, &k('f')), None);
        assert_eq!(map.action(Context::Profiles, &k('f')), None);
        let ctrl_c = key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map.action(Context::SignIn, &ctrl_c), Some(Action::Quit));
        let sections: Vec<&str> = map.help_sections().iter().map(|s| s.0).collect();
        assert!(sections.contains(&"Device-code sign-in") && sections.contains(&"Profile picker"));
    }

    #[test]
    fn overlay_replaces_named_actions_and_rejects_unknown_ones() {
        let map = Keymap::with_overlay("[global]\nquit = [\"ctrl-q\"]\n").unwrap();
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Results, &q), None);
        let cq = key(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(map.action(Context::Results, &cq), Some(Action::Quit));
        assert!(Keymap::with_overlay("[global]\nfly = [\"x\"]\n").is_err());
        assert!(Keymap::with_overlay("[nowhere]\nquit = [\"x\"]\n").is_err());
        assert!(Keymap::with_overlay("[global]\nquit = [\"hyper-x\"]\n").is_err());
    }

    #[test]
    fn key_names_round_trip() {
        for s in ["ctrl-t", "f5", "enter", "space", "D", "?"] {
            let k = KeyChord::parse(s).unwrap();
            assert_eq!(KeyChord::parse(&k.to_string()).unwrap(), k, "{s}");
        }
    }
}
