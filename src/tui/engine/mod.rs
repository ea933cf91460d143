//! What talks to the delta engine: executes the model's engine effects with [`GraphClient`]
//! and [`Session`] in background tasks, and turns what the engine returns (pages, round
//! summaries, errors, throttling) into view data and messages.
//!
//! - [`effects`]: the executor the runtime hands engine effects to.
//! - [`fetch`]: the fetch worker, one task per run.
//! - [`sign_in`]: sign-ins in the background, and what replaces the connection.
//! - [`shared`]: what those tasks share with the executor.
//! - [`preview`]: the request previewer (the engine's own validation and first request).
//! - [`convert`]: engine data as view data.
//!
//! The UI never sees HTTP; the engine never sees ratatui. One task fetches at a time, tagged
//! with the run id of the effect that started it. The session lives behind a mutex that is only
//! held between awaits (never across one): a task fetches without it, then locks, checks that its
//! run is still the active one, applies the page and sends the messages. A cancel or a newer run
//! changes the active run under the same lock, so a page that arrives for a cancelled or
//! superseded run is neither applied to the session nor shown.
//!
//! Sign-ins run here too, in the background, tagged with an attempt number: the device code goes
//! to the UI as a message, and a successful sign-in replaces the token source, the Graph root and
//! the client (a new [`GraphClient`], which sends the token only to its own root) and drops the
//! session under the same lock, so that no request of the new identity continues the old
//! identity's rounds.
//!
//! [`GraphClient`]: crate::graph::GraphClient
//! [`Session`]: crate::graph::Session
pub mod convert;
pub mod effects;
pub mod fetch;
pub mod preview;
pub mod shared;
pub mod sign_in;
pub mod store;

pub use convert::{
    RoundShape, delta_query, error_view, page_view, profile_entry, profiles_view, query_view,
    resource_view, signed_in_title, stop_view, summary_line, token_check, token_view,
};
pub use effects::EngineExecutor;
pub use preview::EnginePreviewer;
pub use sign_in::{SignInSetup, Startup};
