//! Keys as data. Each action is declared once with its name, description, hint and default
//! keys ([`actions`]); the default keymap, the shipped `assets/keymap.toml`, the help overlay,
//! the status-bar hints and the README's keys tables all derive from that declaration. A user
//! file of the same shape as `assets/keymap.toml` overlays the defaults.
//!
//! - [`actions`]: what a key can ask for, with everything that belongs to it.
//! - [`context`]: where the keyboard is when a key is looked up (a section of the file).
//! - [`chord`]: a key with its modifiers, and its names in the keymap file.
//! - [`bindings`]: the defaults, the user overlay, and the lookups.
//! - [`docs`]: the documents written from the keymap (the default file, the README's keys).
pub mod actions;
pub mod bindings;
pub mod chord;
pub mod context;
pub mod docs;

pub use actions::{Action, ActionSpec};
pub use bindings::{DEFAULT_KEYMAP, Keymap, KeymapError};
pub use chord::KeyChord;
pub use context::Context;
