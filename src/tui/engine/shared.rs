//! What the fetch and sign-in tasks share with the effect executor, behind one lock that is
//! held between awaits, never across one.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::auth::TokenSource;
use crate::graph::{GraphClient, GraphError, GraphRoot, ResourceSpec, Session};

/// A sign-in in force: its tokens and the client that sends them to its root only; `attempt`
/// and `cancel` are those of the sign-in that made it (a renewal's device code is cancelled
/// with them).
#[derive(Clone)]
pub(super) struct Connection {
    pub(super) client: Arc<GraphClient>,
    pub(super) tokens: Arc<dyn TokenSource>,
    pub(super) attempt: u64,
    pub(super) cancel: CancellationToken,
}

/// What the fetch and sign-in tasks share with the handler.
pub(super) struct Shared {
    /// Where requests go (before the first sign-in completes: where they will go).
    pub(super) root: GraphRoot,
    /// `None` until a sign-in succeeded.
    pub(super) connection: Option<Connection>,
    /// The sign-in running in the background, if any.
    pub(super) signing: Option<(u64, CancellationToken)>,
    pub(super) session: Option<Session>,
    /// The run whose results are wanted; `None` when nothing is fetching.
    pub(super) active: Option<Active>,
    /// The last failure (a 410's Location is where the resync starts).
    pub(super) last_error: Option<GraphError>,
    /// The session's resource (what the token is checked against).
    pub(super) resource: Option<&'static ResourceSpec>,
    /// Records the session into the store (`None`: the store is off or failed to open).
    pub(super) recorder: Option<Arc<crate::store::Recorder>>,
    /// The recording's failure was said (once).
    pub(super) store_warned: bool,
}

pub(super) struct Active {
    pub(super) run_id: u64,
    pub(super) cancel: CancellationToken,
    pub(super) follow: Arc<AtomicBool>,
}

/// Why nothing can be sent yet.
pub(super) const NOT_SIGNED_IN: &str = "not signed in yet: the sign-in has not completed";

pub(super) fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panicked fetch task must not take the UI down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}
