//! The model and its one mutator, `update`: plain code (no tokio, no network, no terminal).
//! Keys become actions through the keymap; actions and engine events change the model and
//! return effects for the runtime to execute.
//!
//! - [`model`]: the state, and where the keyboard is ([`Focus`], [`Mode`]).
//! - [`msg`] / [`effect`]: what comes in, what goes out.
//! - [`update`]: routes each message; [`keys`] turns input into actions, [`actions`] runs them.
//! - [`fetch`] and [`sign_in`]: the two state machines driven by the engine's answers;
//!   [`new_query`]: a new query, keeping or dropping the rounds so far.
//! - [`json_pane`], [`table`], [`layout`], [`help`], [`format`]: what panes and copies derive from the
//!   model, prepared here so that drawing only reads.
pub mod actions;
pub mod effect;
pub mod fetch;
pub mod format;
pub mod help;
pub mod json_pane;
pub mod keys;
pub mod layout;
pub mod model;
pub mod msg;
pub mod new_query;
pub mod notice;
pub mod replica;
pub mod resources;
pub mod search;
pub mod sign_in;
pub mod store;
pub mod table;
pub mod update;

pub use actions::dispatch;
pub use effect::{CopyWhat, Effect};
pub use format::{
    curl_command, curl_command_with_token, human_bytes, human_bytes_u64, state_token,
};
pub use help::{HelpLine, HelpPage, help_page};
pub use json_pane::refresh_json;
pub use layout::{Areas, MIN_HEIGHT, MIN_WIDTH, areas, results_split};
pub use model::{
    Focus, JsonTarget, LineTarget, Mode, Model, NoPreview, QueryField, QueryPreviewer, query_fields,
};
pub use msg::{Msg, StartUp};
pub use notice::{Notice, NoticeEnd, NoticeKind};
pub use sign_in::begin_sign_in;
pub use update::{update, update_at};
