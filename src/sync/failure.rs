//! How a run ends badly: exit codes chosen from the error, what to say, what is retried.
use super::*;

pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) message: String,
}

pub(super) fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// What to say when applying a page panicked (a bug).
pub(super) fn internal_error(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!(
        "an internal error stopped the sync while it applied a page ({what}); this is a bug, please report it. Nothing was lost: the state file (if any) continues from that page"
    )
}

/// Full resyncs one run starts on 410 / `syncStateNotFound` before it gives up.
pub(super) const MAX_RESYNCS: u32 = 2;
/// Retries of the same link after a network error, a timeout or a malformed body.
pub(super) const MAX_TRANSIENT_RETRIES: u32 = 3;

/// Errors after which the same link may well work a moment later.
pub(super) fn is_transient(e: &GraphError) -> bool {
    match e {
        GraphError::Malformed { .. } | GraphError::Network(_) | GraphError::Timeout { .. } => true,
        GraphError::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504),
        _ => false,
    }
}

pub(super) fn throttle_notice(p: FetchProgress) {
    if let FetchProgress::Throttled {
        status,
        retry_after,
        attempt,
    } = p
    {
        crate::safe_eprintln!(
            "throttled ({status}); retrying in {:.1}s (attempt {attempt})",
            retry_after.as_secs_f64()
        );
    }
}

/// `token_problems`: what the token's claims lack for this request (said again after a 403).
pub(super) fn graph_failure(e: &GraphError, token_problems: &[String]) -> Failure {
    let code = match e {
        GraphError::Cancelled => exit::INTERRUPTED,
        GraphError::Http { .. } | GraphError::Malformed { .. } => exit::GRAPH,
        _ => exit::TRANSPORT,
    };
    let mut message = e.to_string();
    if let Some(hint) = e.hint() {
        message.push_str("\n  what to do: ");
        message.push_str(&hint);
    }
    if matches!(
        e,
        GraphError::Http {
            status: 401 | 403,
            ..
        }
    ) {
        for p in token_problems {
            message.push_str("\n  the token: ");
            message.push_str(p);
        }
    }
    fail(code, message)
}

/// What the token's claims lack for a request for `resource` at `root` (the token inspector's
/// check), said before anything is sent. A token that is not a JWT (opaque) says nothing.
pub(super) async fn token_problems(
    tokens: &dyn TokenSource,
    resource: Option<&crate::graph::ResourceSpec>,
    root: &GraphRoot,
) -> Vec<String> {
    let Ok(token) = tokens.token().await else {
        return Vec::new();
    };
    match crate::auth::TokenInfo::decode(token.secret()) {
        Ok(info) => {
            info.check(resource, Some(root.as_str()), chrono::Utc::now())
                .problems
        }
        Err(_) => Vec::new(),
    }
}

/// A round that stopped before its deltaLink (see [`Stop`]) ends the run with exit code 4 (5 for
/// a refused link, as a refused foreign link always had). A
/// link loop or a run of idle pages keeps the link to continue from (the state file continues
/// there); a link that cannot be followed is never kept: the session goes back to the query's
/// first request, so that the next run starts the full resync the message recommends.
pub(super) fn stopped(
    stop: &Stop,
    session: &mut Session,
    first: &PageRequest,
    has_state: bool,
) -> Failure {
    // A refused link keeps the exit code of a refused foreign link; the others are the
    // server's misbehaviour, as a malformed page is.
    let code = match stop {
        Stop::RefusedLink { .. } => exit::TRANSPORT,
        _ => exit::GRAPH,
    };
    let then = match stop {
        Stop::RefusedLink { .. } => {
            session.restart_from(first.url.clone());
            if has_state {
                "the state file now starts a full round (the query's first request) on the next run"
            } else {
                "run the query again for a full round"
            }
        }
        _ if has_state => {
            "the state file continues from the last page's link; run again to go on (a link loop stops again at once; --max-idle-pages sets how many idle pages are allowed)"
        }
        _ => "--max-idle-pages sets how many pages without anything new are allowed",
    };
    fail(code, format!("the round stopped: {stop}\n  {then}"))
}
