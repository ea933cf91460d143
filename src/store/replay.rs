//! A stored session back into the engine: its pages applied again, in order, to a new
//! [`Session`], which then continues where the stored one stopped (the last deltaLink, or the
//! nextLink of a round left mid-way). The engine's rules give the same rounds, numbers,
//! outcomes and replica as when the pages first came.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

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
    let mut session = start(&stored, limits);
    let mut requests = Vec::with_capacity(stored.requests.len());
    for stored_page in stored.requests {
        if stored_page.error.is_some() {
            requests.push((stored_page, None));
            continue;
        }
        let report = step(&mut session, &stored_page);
        requests.push((stored_page, Some(report)));
    }
    Replayed { session, requests }
}

/// The engine session a stored session's pages are applied to: from the query's first request
/// (the usual case), or from the saved link its first page answered (a `sync` run from a
/// state file), knowing the first request for a resync.
fn start(stored: &StoredSession, limits: RoundLimits) -> Session {
    let first = PageRequest {
        url: stored.info.first_url.clone(),
        headers: stored.info.headers.clone(),
        kind: RequestKind::Initial,
    };
    match stored.requests.iter().find(|r| r.error.is_none()) {
        Some(p) if p.page.request.kind == RequestKind::Initial => Session::new(PageRequest {
            url: p.page.request.url.clone(),
            ..first
        }),
        Some(p) => Session::resume_as(
            p.page.request.url.clone(),
            first.headers.clone(),
            p.page.request.kind,
        )
        .with_first_request(first),
        None => Session::new(first),
    }
    .with_limits(limits)
}

/// The replica (normalized: active objects, nulls dropped, links in order) at the end of each
/// round of `rounds` that the stored session completes, by round number.
pub fn replay_until(
    stored: StoredSession,
    rounds: &[u32],
    limits: RoundLimits,
) -> BTreeMap<u32, BTreeMap<String, Value>> {
    let wanted: BTreeSet<u32> = rounds.iter().copied().collect();
    let last = wanted.iter().next_back().copied().unwrap_or(0);
    let mut out = BTreeMap::new();
    let mut session = start(&stored, limits);
    for p in stored.requests.iter().filter(|p| p.error.is_none()) {
        let report = step(&mut session, p);
        if report.round_complete
            && let Some(r) = session.rounds().last()
            && wanted.contains(&r.number)
        {
            out.insert(r.number, session.replica().normalized());
            if r.number >= last {
                break;
            }
        }
    }
    out
}

/// Applies one stored page as [`replay`] does (going on past stops, restarts as recorded).
fn step(session: &mut Session, stored_page: &StoredPage) -> PageReport {
    // A page came after a stop (a link loop, idle pages): a person went on past it.
    if session.rounds().last().is_some_and(|r| r.stop.is_some()) {
        session.go_on();
    }
    // A resync or a restart from a 410's Location: a full round from that URL.
    let request = &stored_page.page.request;
    let expected = session.next_request().map(|r| r.url);
    if request.kind == RequestKind::Initial && expected.as_deref() != Some(request.url.as_str()) {
        session.restart_from(request.url.clone());
    }
    session.apply(&stored_page.page)
}
