//! deltascope: a terminal explorer for Microsoft Graph delta queries.
//!
//! Crate map:
//! - [`graph`]: the delta engine (queries, links, HTTP client, pages, rounds, replica). No UI code.
//! - [`auth`]: token sources behind one trait.
//! - [`emulator`]: the embedded Graph emulator (demo tenant and test server). Shares no code
//!   path with the client it is meant to check.
//! - [`sync`]: the headless `deltascope sync` command.
//! - [`tui`]: the terminal explorer (model, update, panes, keymap, clipboard, runtime).
pub mod fsutil;
pub mod tui;
