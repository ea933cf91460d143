//! A stored session back into the engine: its pages applied again, in order, to a new
//! [`Session`], which then continues where the stored one stopped (the last deltaLink, or the
//! nextLink of a round left mid-way). The engine's rules give the same rounds, numbers,
//! outcomes and replica as when the pages first came.
use super::read::{StoredPage, StoredSession};
use crate::graph::guard::RoundLimits;
use crate::graph::page::{PageRequest, RequestKind};
use crate::graph::round::{PageReport, Session};

/// A replayed session: the engine's state, and each stored request with the report the engine
/// gave its page (`None` for a failed request).
pub struct Replayed {
    pub session: Session,
    pub requests: Vec<(StoredPage, Option<PageReport>)>,
}

/// Applies a stored session's pages to a new engine session.
pub fn replay(stored: StoredSession, limits: RoundLimits) -> Replayed {
    let first_page = stored.requests.iter().find(|r| r.error.is_none());
    let headers = stored.info.headers.clone();
    let mut session = match first_page {
        // A session that started with the query's first request (the usual case).
        Some(p) if p.page.request.kind == RequestKind::Initial => Session::new(PageRequest {
            url: p.page.request.url.clone(),
            headers: headers.clone(),
            kind: RequestKind::Initial,
        }),
        // One that started from a saved link (a `sync` run from a state file).
        Some(p) => Session::resume_as(
            p.page.request.url.clone(),
            headers.clone(),
            p.page.request.kind,
        )
        .with_first_request(PageRequest {
            url: stored.info.first_url.clone(),
            headers: headers.clone(),
            kind: RequestKind::Initial,
        }),
        None => Session::new(PageRequest {
            url: stored.info.first_url.clone(),
            headers: headers.clone(),
            kind: RequestKind::Initial,
        }),
    }
    .with_limits(limits);
    let mut requests = Vec::with_capacity(stored.requests.len());
    for stored_page in stored.requests {
        if stored_page.error.is_some() {
            requests.push((stored_page, None));
            continue;
        }
        let request = &stored_page.page.request;
        // A page came after a stop (a link loop, idle pages): a person went on past it.
        if session.rounds().last().is_some_and(|r| r.stop.is_some()) {
            session.go_on();
        }
        let expected = session.next_request().map(|r| r.url);
        if request.kind == RequestKind::Initial && expected.as_deref() != Some(request.url.as_str())
        {
            // A resync or a restart from a 410's Location: a full round from that URL.
            session.restart_from(request.url.clone());
        }
        let report = session.apply(&stored_page.page);
        requests.push((stored_page, Some(report)));
    }
    Replayed { session, requests }
}
