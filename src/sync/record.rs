//! `sync --record`: the run's pages, rounds and failed requests into the session store, so
//! that the explorer can open the session afterwards. A run from a state file continues the
//! stored session that saved link belongs to.
use super::*;
use crate::store::record::{FailedRequest, Origin, SessionInfo};
use crate::store::{Recorder, Store};

/// Opens the store and the session to record into. A store that cannot be opened stops the
/// run before anything is sent (the recording was asked for).
pub(super) async fn start_recording(
    args: &SyncArgs,
    root: &GraphRoot,
    embedded: bool,
    query: &DeltaQuery,
    first: &PageRequest,
    saved: Option<&SavedState>,
    tokens: &dyn TokenSource,
) -> Result<Option<Arc<Recorder>>, Failure> {
    if !args.record {
        return Ok(None);
    }
    let path = crate::store::StoreArgs {
        store: args.store.clone(),
        no_store: false,
    }
    .path()
    .ok_or_else(|| {
        fail(
            exit::USAGE,
            "--record: no data directory is known (HOME is not set): give the file with --store",
        )
    })?;
    let store = Store::open(&path).map_err(|e| fail(exit::TRANSPORT, format!("--record: {e}")))?;
    let continued = match saved {
        Some(state) => store
            .continued_by(&root.to_string(), &first.url, &state.link)
            .map_err(|e| fail(exit::TRANSPORT, format!("--record: {e}")))?,
        None => None,
    };
    let recorder = match continued {
        Some((id, offset)) => Recorder::continue_session(store, id, offset),
        None => {
            let mut info = SessionInfo {
                graph_root: root.to_string(),
                embedded,
                tenant_id: None,
                identity: None,
                query: query.clone(),
                first: first.clone(),
                origin: Origin::Sync,
            };
            if !embedded && let Ok(token) = tokens.token().await {
                info = info.with_token_claims(token.secret());
            }
            Recorder::start(store, &info)
        }
    }
    .map_err(|e| fail(exit::TRANSPORT, format!("--record: {e}")))?;
    crate::safe_eprintln!(
        "recording into session {} of {}",
        recorder.session_id(),
        path.display()
    );
    Ok(Some(Arc::new(recorder)))
}

/// A request that got no page, recorded with the round it was for.
pub(super) fn record_failure(
    recorder: Option<&Arc<Recorder>>,
    session: &Session,
    request: &PageRequest,
    error: &GraphError,
    elapsed: Duration,
) {
    let Some(recorder) = recorder else { return };
    let last = session.rounds().last().map_or(0, |r| r.number);
    let round = if request.kind == RequestKind::Next && session.in_round() {
        last.max(1)
    } else {
        last + 1
    };
    recorder.failure(FailedRequest {
        request: request.clone(),
        round,
        error: error.to_string(),
        response: None,
        elapsed,
    });
}
