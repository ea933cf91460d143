//! deltascope: a terminal explorer for Microsoft Graph delta queries.
//!
//! Crate map:
//! - [`graph`]: the delta engine (queries, links, HTTP client, pages, rounds, replica). No UI code.
//! - [`auth`]: token sources behind one trait.
//! - [`emulator`]: the embedded Graph emulator (demo tenant and test server). Shares no code
//!   path with the client it is meant to check.
//! - [`tui`]: the ratatui explorer (panes, keymap, event loop).
//! - [`sync`]: the headless `deltascope sync` command.
//! - [`limits`]: the engine's limits (idle pages, body size) as options of the explorer and `sync`.
//! - [`target`]: where requests go (a Graph root or the embedded emulator), one rule for every command.
//! - [`dirs`]: the platform's config directory (profiles, keymap).
//! - [`fsutil`]: private, atomic file writes for saved state.
//! - [`signals`]: waiting for Ctrl-C / SIGTERM in the long-running commands.
//! - [`text`]: text from outside made safe for a terminal (control characters, bidi overrides).
//! - [`trust`]: extra certificate authorities (`--ca-cert`) for the Graph and sign-in requests.
pub mod auth;
pub mod dirs;
pub mod emulator;
pub mod fsutil;
pub mod graph;
pub mod jq;
pub mod limits;
pub mod signals;
pub mod store;
pub mod store_cmd;
pub mod sync;
pub mod target;
pub mod text;
pub mod token_cmd;
pub mod trust;
pub mod tui;
