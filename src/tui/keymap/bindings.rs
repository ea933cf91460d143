//! The bindings: the embedded defaults, a user file laid over them, and the lookups the
//! explorer makes (the action for a key, the key for an action, hints and help).
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::actions::Action;
use super::chord::KeyChord;
use super::context::Context;

/// The default keymap file as shipped in `assets/keymap.toml`: what [`Keymap::defaults_toml`]
/// writes from the actions' own defaults (a test keeps the two the same), for users to copy.
pub const DEFAULT_KEYMAP: &str = include_str!("../../../assets/keymap.toml");

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

/// A row of the help: the keys' names and what they do.
pub type HelpRow = (Vec<String>, &'static str);

type RawKeymap = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Default for Keymap {
    /// Every action's default keys, from its declaration ([`Action::spec`]).
    fn default() -> Self {
        let mut contexts: BTreeMap<Context, Vec<(Action, Vec<KeyChord>)>> = BTreeMap::new();
        for &action in Action::ALL {
            for (ctx, keys) in action.spec().defaults {
                // Every default key parses (a unit test checks them all).
                let chords = keys
                    .iter()
                    .filter_map(|k| KeyChord::parse(k).ok())
                    .collect();
                contexts.entry(*ctx).or_default().push((action, chords));
            }
        }
        Self { contexts }
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

    /// `keymap.toml` in the config directory ([`crate::dirs::config_dir`]: the profiles' too).
    pub fn user_path() -> Option<PathBuf> {
        // The same directory as the profiles' config.toml, on every platform.
        crate::dirs::config_dir().map(|d| d.join("keymap.toml"))
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

    /// The key to name in a sentence about `action` in `ctx` (hints in notices, titles and
    /// overlays): its first key, or, when the user's keymap left it without one, its name in
    /// the keymap file, so that the sentence never names a key that does something else.
    pub fn key_label(&self, ctx: Context, action: Action) -> String {
        match self.key_for(ctx, action) {
            Some(k) => k.to_string(),
            None => format!("[{} has no key]", action.name()),
        }
    }

    /// The help's sections: each context with its bindings, as (key names, what it does there).
    pub fn help_sections(&self) -> Vec<(Context, Vec<HelpRow>)> {
        Context::ALL
            .into_iter()
            .map(|ctx| {
                let rows = self
                    .bindings(ctx)
                    .iter()
                    .filter(|(_, keys)| !keys.is_empty())
                    .map(|(a, keys)| {
                        let k: Vec<String> = keys.iter().map(ToString::to_string).collect();
                        (k, a.description_in(ctx))
                    })
                    .collect();
                (ctx, rows)
            })
            .collect()
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
    fn every_action_has_a_default_key_in_a_context_that_reaches_it() {
        let map = Keymap::default();
        for &a in Action::ALL {
            let bound = Context::ALL.iter().any(|&c| map.key_for(c, a).is_some());
            assert!(bound, "{a:?} has no default key");
        }
    }

    #[test]
    fn no_pane_hides_a_global_default_key() {
        // A global key that a pane binds to something else would make every hint that names
        // it wrong in that pane.
        let map = Keymap::default();
        for (action, keys) in map.bindings(Context::Global) {
            for ctx in [Context::Query, Context::Results, Context::Json] {
                for k in keys {
                    let ev = KeyEvent::new(k.code, k.mods);
                    assert_eq!(map.action(ctx, &ev), Some(*action), "{k} in {ctx:?}");
                }
            }
        }
    }

    #[test]
    fn an_unbound_action_is_named_not_given_a_key() {
        let map = Keymap::with_overlay("[global]\ncancel = []\n").unwrap();
        assert_eq!(map.key_for(Context::Results, Action::Cancel), None);
        assert_eq!(
            map.key_label(Context::Results, Action::Cancel),
            "[cancel has no key]"
        );
        assert_eq!(map.key_label(Context::Results, Action::Quit), "q");
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
        let sections: Vec<Context> = map.help_sections().iter().map(|s| s.0).collect();
        assert!(sections.contains(&Context::SignIn) && sections.contains(&Context::Profiles));
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
