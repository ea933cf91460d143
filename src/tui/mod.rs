//! The terminal explorer: a pure `update(&mut Model, Msg) -> Vec<Effect>` core, panes that draw
//! from a read-only model, a keymap held as data, a clipboard behind a trait, and a runtime that
//! owns the loop. Engine results reach the model as view data ([`view`]).
pub mod app;
pub mod clipboard;
pub mod engine;
pub mod explore;
pub mod ids;
pub mod json_doc;
pub mod json_view;
pub mod keymap;
pub mod panes;
pub mod runtime;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod view;
