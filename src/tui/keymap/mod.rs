//! Keys as data: `assets/keymap.toml` is embedded; a user file of the same shape overrides it.
//! The help overlay and the status-bar hints are generated from the same tables.
//!
//! - [`actions`]: what a key can ask for, and the contexts keys are looked up in.
//! - [`chord`]: a key with its modifiers, and its names in the keymap file.
//! - [`bindings`]: the defaults, the user overlay, and the lookups.
pub mod actions;
pub mod bindings;
pub mod chord;

pub use actions::{Action, Context};
pub use bindings::{DEFAULT_KEYMAP, Keymap, KeymapError};
pub use chord::KeyChord;
