//! Rounds of pages, the session of rounds, the replica they build, and what changed per round.
//!
//! Replica rules (see spec §2):
//! - A new or updated object is upserted. In a default round (and in any initial round) the
//!   object's properties are REPLACED by those received: the server sends every selected property
//!   that has a value, so an absent property is unset. In a `Prefer: return=minimal` later round
//!   the received properties are MERGED (present ones overwrite, `null` sets null).
//! - `@removed` takes the object out of the replica. `reason: changed` (soft-deleted, restorable)
//!   keeps its last state aside, so that a restore in a minimal round merges onto it.
//! - Last occurrence wins; every occurrence of an id after the first in a round is counted as a
//!   duplicate (and still applied), except a continuation of its relationships: one that carries
//!   `X@delta` lists and restates the other properties unchanged (a large group paged across a
//!   round, delta-query-groups.md), or carries nothing but `id` and the lists.
//! - Every item gets an [`Outcome`] on its page's report: what it was to the replica.
//! - When a full round (initial, resync) completes, objects it did not return are dropped
//!   (counted as `vanished`).
use indexmap::map::{RawEntryApiV1, raw_entry_v1::RawEntryMut};
use serde_json::Value;
use std::hash::BuildHasher;

use bytes::Bytes;

use super::error::GraphError;
use super::guard::{RoundGuard, RoundLimits, Stop};
use super::link;
use super::page::{Item, Page, PageRequest, RemovedReason, RequestKind, headers_ask_minimal};
use super::replica::{
    Entry, IdSet, Object, fold_links, id_key, is_link_list, is_relationship_slice,
    is_tracked_property, split_links,
};
pub use super::replica::{Replica, is_relationship_slice_keys};
pub use super::summary::{Outcome, PageReport, RoundSummary, plural};

/// A run of rounds: what to request next, the summaries, the replica.
#[derive(Clone, Debug)]
pub struct Session {
    /// The query's first request, when known (not for a resumed session).
    first: Option<PageRequest>,
    next: Option<PageRequest>,
    /// The round headers, re-sent with every page and every later round.
    headers: Vec<(String, String)>,
    rounds: Vec<RoundSummary>,
    replica: Replica,
    /// Ids removed outright (not soft-deleted) in the round in progress; `None` between rounds.
    /// Other ids seen in the round are marked on their replica entry.
    seen: Option<IdSet>,
    last_delta_link: Option<String>,
    /// `$top` of a callRecording/callTranscript query, for the known issue (a nextLink missing
    /// although items remain). Known from the first request only.
    top_known_issue: Option<usize>,
    /// Notices a round that goes nowhere (link loops, pages without anything new).
    guard: RoundGuard,
}

/// `$top` of a first callRecording/callTranscript request (the documented `$top` issue).
fn top_with_known_issue(first: &PageRequest) -> Option<usize> {
    let url = url::Url::parse(&first.url).ok()?;
    let path = url.path().to_ascii_lowercase();
    if !path.contains("getallrecordings") && !path.contains("getalltranscripts") {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| k.eq_ignore_ascii_case("$top"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .filter(|t| *t > 0)
}

impl Session {
    pub fn new(first: PageRequest) -> Self {
        Session {
            headers: first.headers.clone(),
            next: Some(first.clone()),
            top_known_issue: top_with_known_issue(&first),
            first: Some(first),
            rounds: Vec::new(),
            replica: Replica::default(),
            seen: None,
            last_delta_link: None,
            guard: RoundGuard::default(),
        }
    }

    /// Continues from a saved link. `$deltatoken`/`deltaToken` links start a later round;
    /// `$skiptoken` links continue a round. `skipToken` without `$` (callRecording uses it in
    /// both links) and `token` are taken as deltaLinks; use [`Session::resume_as`] when the
    /// saved state knows better.
    pub fn resume(link: String, headers: Vec<(String, String)>) -> Self {
        let kind = match link::classify(&link) {
            Ok(info) if info.kind == link::TokenKind::Skip && info.dollar => RequestKind::Next,
            _ => RequestKind::Delta,
        };
        Self::resume_as(link, headers, kind)
    }

    /// Continues from a saved link whose kind is known (`Next`: mid-round; `Delta`: a deltaLink).
    pub fn resume_as(link: String, headers: Vec<(String, String)>, kind: RequestKind) -> Self {
        Session {
            first: None,
            next: Some(PageRequest {
                url: link,
                headers: headers.clone(),
                kind,
            }),
            headers,
            rounds: Vec::new(),
            replica: Replica::default(),
            seen: None,
            last_delta_link: None,
            top_known_issue: None,
            guard: RoundGuard::default(),
        }
    }

    /// Sets the limits that stop a round going nowhere (the default: [`RoundLimits::default`]).
    pub fn with_limits(mut self, limits: RoundLimits) -> Self {
        self.guard = RoundGuard::new(limits);
        self
    }

    /// A person chose to go on from a round that stopped (see [`Stop::can_go_on`]): the stop
    /// is lifted and pages without anything new count afresh. Following stops again at the next
    /// link loop or run of idle pages.
    pub fn go_on(&mut self) {
        self.guard.go_on();
        if self.seen.is_some()
            && let Some(r) = self.rounds.last_mut()
            && r.stop.as_ref().is_some_and(Stop::can_go_on)
        {
            r.stop = None;
        }
    }

    /// Tells a resumed session the query's first request, so that [`Session::resync`] can start
    /// a full round of the same query (and the `$top` known issue of callRecording delta is
    /// recognised). The session's next request is not changed.
    pub fn with_first_request(mut self, first: PageRequest) -> Self {
        self.top_known_issue = top_with_known_issue(&first);
        self.first = Some(PageRequest {
            kind: RequestKind::Initial,
            ..first
        });
        self
    }

    /// The query's first request, when the session knows it.
    pub fn first_request(&self) -> Option<&PageRequest> {
        self.first.as_ref()
    }

    /// The next nextLink, or the deltaLink starting the next round. `None` only when the last
    /// page left no way on.
    pub fn next_request(&self) -> Option<PageRequest> {
        self.next.clone()
    }

    /// True mid-round: the next request is a nextLink, or the first request of a round that
    /// has not returned its first page yet (a new session, a restart).
    pub fn in_round(&self) -> bool {
        self.seen.is_some()
            || self
                .next
                .as_ref()
                .is_some_and(|n| matches!(n.kind, RequestKind::Initial | RequestKind::Next))
    }

    pub fn rounds(&self) -> &[RoundSummary] {
        &self.rounds
    }

    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The round headers (e.g. `Prefer: return=minimal`).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The deltaLink of the last completed round.
    pub fn delta_link(&self) -> Option<&str> {
        self.last_delta_link.as_deref()
    }

    pub fn minimal(&self) -> bool {
        headers_ask_minimal(&self.headers)
    }

    fn abandon_current(&mut self) {
        if self.seen.take().is_some()
            && let Some(r) = self.rounds.last_mut()
            && !r.complete
        {
            r.abandoned = true;
        }
    }

    /// Starts a new full round from the query's first request (after `syncStateNotFound`, a
    /// tampered token, a link that cannot be followed …); the round in progress is abandoned.
    /// A session resumed from a saved link knows the first request only when it was given with
    /// [`Session::with_first_request`]; without it nothing changes and the error says so (start
    /// a new session from the query, or [`Session::restart_from`] a first request).
    pub fn resync(&mut self) -> Result<(), GraphError> {
        let Some(first) = self.first.clone() else {
            return Err(GraphError::InvalidRequest(
                "a full resync needs the query's first request, and this session was resumed from a saved link without it: run the query again from the start (a new initial round)"
                    .into(),
            ));
        };
        self.abandon_current();
        self.next = Some(first);
        Ok(())
    }

    /// Moves the requests to come onto `origin` (`scheme://host:port`), the rest of each link
    /// kept verbatim: a session recorded against a server that now listens elsewhere (the
    /// embedded emulator takes a new port each time it starts).
    pub fn move_to_origin(&mut self, origin: &str) {
        let Ok(to) = url::Url::parse(origin) else {
            return;
        };
        let to = to.origin().ascii_serialization();
        let moved = |link: &mut String| {
            if let Ok(u) = url::Url::parse(link) {
                let from = u.origin().ascii_serialization();
                if let Some(rest) = link.strip_prefix(&from) {
                    *link = format!("{to}{rest}");
                }
            }
        };
        for request in [&mut self.next, &mut self.first].into_iter().flatten() {
            moved(&mut request.url);
        }
        if let Some(link) = &mut self.last_delta_link {
            moved(link);
        }
    }

    /// Starts a new full round from `location` (a 410 Gone's Location header).
    pub fn restart_from(&mut self, location: String) {
        self.abandon_current();
        self.next = Some(PageRequest {
            url: location,
            headers: self.headers.clone(),
            kind: RequestKind::Initial,
        });
    }

    /// Applies a fetched page: replica, round summary, what to request next.
    pub fn apply(&mut self, page: &Page) -> PageReport {
        let mut report = PageReport::default();
        if let Some(next) = &self.next
            && next.url != page.request.url
        {
            report.warnings.push(format!(
                "this page answers {} but the session expected {}",
                page.request.url, next.url
            ));
        }
        if self.seen.is_none() {
            self.open_round(page, &mut report);
        }
        let (Some(seen), Some(round)) = (self.seen.as_mut(), self.rounds.last_mut()) else {
            return report;
        };
        let progress_before = progress_of(round);
        round.pages += 1;
        round.items += page.items.len();
        round.bytes += page.body.len() as u64;
        // An empty page is one with no items that still goes on (a nextLink): Graph may send a
        // few. A last page with no items and a deltaLink is the ordinary "nothing (more)".
        if page.items.is_empty() && page.next_link.is_some() {
            round.empty_pages += 1;
            report.empty = true;
        }
        let mut applying = Applying {
            replica: &mut self.replica,
            seen,
            c: Ctx {
                merge: round.minimal && !round.full,
                round_no: round.number,
                round,
                report: &mut report,
                body: &page.body,
            },
        };
        applying.c.report.outcomes.reserve_exact(page.items.len());
        for (i, item) in page.items.iter().enumerate() {
            let outcome = applying.item(i, item);
            applying.c.report.outcomes.push(outcome);
        }
        let progressed = progress_of(round) != progress_before;
        self.go_on_from(page, progressed, report)
    }

    /// The first page of a round: a new summary, nothing seen yet.
    fn open_round(&mut self, page: &Page, report: &mut PageReport) {
        // From now (latest) or a moment (a timestamp token): no full round; a 410 restart is.
        let initial = page.request.kind == RequestKind::Initial;
        let token = link::classify(&page.request.url).ok().filter(|_| initial);
        let latest = token.as_ref().is_some_and(|i| i.latest);
        let full = initial && !token.is_some_and(|i| i.latest || i.is_timestamp());
        if latest && !self.replica.is_empty() {
            report.warnings.push(format!(
                "this round starts from now (latest): changes since the last round are skipped, so the {} already in the replica may be out of date (a full round without latest rebuilds it)",
                plural(self.replica.len(), "object", "objects")
            ));
        }
        self.rounds.push(RoundSummary {
            number: u32::try_from(self.rounds.len() + 1).unwrap_or(u32::MAX),
            full,
            latest,
            minimal: headers_ask_minimal(&page.request.headers),
            ..Default::default()
        });
        self.seen = Some(IdSet::default());
        self.guard.start_round();
    }

    /// After a page's items: the link the round goes on with (or why it stops), and at a
    /// deltaLink the end of the round.
    fn go_on_from(&mut self, page: &Page, progressed: bool, mut report: PageReport) -> PageReport {
        let Some(round) = self.rounds.last_mut() else {
            return report;
        };
        // The link the round goes on with; the other one (a page that carries both) is unused.
        let (which, way_on) = match (&page.next_link, &page.delta_link) {
            (Some(next), delta) => {
                if delta.is_some() {
                    report.warnings.push(
                        "the page carries both a nextLink and a deltaLink; following the nextLink"
                            .into(),
                    );
                }
                ("nextLink", next)
            }
            (None, Some(delta)) => ("deltaLink", delta),
            (None, None) => {
                report.warnings.push(
                    "the page has neither a nextLink nor a deltaLink: the round cannot go on"
                        .into(),
                );
                self.next = None;
                return finish(report, &mut self.rounds);
            }
        };
        // A link is followed only on the origin of the request that returned it, and without
        // credentials of its own: a refused link is never kept as the way on (nor saved).
        let request_url = url::Url::parse(&page.request.url).ok();
        let same_origin = |u: &url::Url| {
            request_url
                .as_ref()
                .is_some_and(|r| r.origin() == u.origin())
        };
        if let Err(refusal) = link::followable(way_on, same_origin) {
            let stop = Stop::RefusedLink {
                which,
                link: way_on.clone(),
                why: format!("{refusal}; a full resync is the way on"),
            };
            round.stop = Some(stop.clone());
            report.stop = Some(stop);
            self.next = None;
            return finish(report, &mut self.rounds);
        }
        if which == "nextLink" {
            if let Some(stop) = self.guard.check(&page.request.url, progressed, way_on) {
                round.stop = Some(stop.clone());
                report.stop = Some(stop);
            }
            self.next = Some(PageRequest {
                url: way_on.clone(),
                headers: self.headers.clone(),
                kind: RequestKind::Next,
            });
            return finish(report, &mut self.rounds);
        }
        let delta = way_on;
        round.delta_link = Some(delta.clone());
        round.complete = true;
        round.stop = None;
        if round.full {
            let round_no = round.number;
            let before = self.replica.active.len();
            self.replica.active.retain(|_, e| e.seen_in == round_no);
            round.vanished = before - self.replica.active.len();
        }
        if let Some(top) = self.top_known_issue
            && page.items.len() >= top
        {
            report.warnings.push(format!(
                "known issue: the round ended on a full page of $top={top} items; with $top, callRecording/callTranscript delta may drop the nextLink although items remain, so some may be missing (run the query without $top to be sure)"
            ));
        }
        report.round_complete = true;
        self.last_delta_link = Some(delta.clone());
        self.next = Some(PageRequest {
            url: delta.clone(),
            headers: self.headers.clone(),
            kind: RequestKind::Delta,
        });
        self.seen = None;
        finish(report, &mut self.rounds)
    }
}

/// One page's items being applied to the replica and counted in the round.
struct Applying<'a> {
    replica: &'a mut Replica,
    /// Ids removed outright earlier in this round (other ids seen are marked on their entry).
    seen: &'a mut IdSet,
    c: Ctx<'a>,
}

impl Applying<'_> {
    fn item(&mut self, i: usize, item: &Item) -> Outcome {
        let Some(id) = item.id_bytes(self.c.body) else {
            self.c.report.warnings.push(format!(
                "item #{} has no id; it is not in the replica",
                i + 1
            ));
            return Outcome::Skipped;
        };
        // Removed outright earlier in this round (the set is empty in most rounds: no hashing
        // then).
        let in_seen = !self.seen.is_empty() && self.seen.contains(id);
        match &item.removed {
            Some(reason) => self.removal(id, reason, in_seen),
            None => self.occurrence(i, item, id, in_seen),
        }
    }

    fn count_duplicate(&mut self) {
        self.c.round.duplicates += 1;
        self.c.report.duplicates += 1;
    }

    /// An `@removed` item: out of the replica; `changed` keeps its last state aside.
    fn removal(&mut self, id: &[u8], reason: &RemovedReason, in_seen: bool) -> Outcome {
        let round_no = self.c.round_no;
        let previous = self.replica.active.swap_remove(id);
        let first_time = !(in_seen
            || previous.as_ref().is_some_and(|e| e.seen_in == round_no)
            || self
                .replica
                .soft_deleted
                .get(id)
                .is_some_and(|e| e.seen_in == round_no));
        if !first_time {
            self.count_duplicate();
        }
        match reason {
            RemovedReason::Changed => {
                let mut keep = previous
                    .or_else(|| self.replica.soft_deleted.swap_remove(id))
                    .unwrap_or_default();
                keep.seen_in = round_no;
                keep.changed_in = round_no;
                // Its own copy of the id: a slice would keep this page's body alive as long as
                // the object stays soft-deleted.
                self.replica
                    .soft_deleted
                    .insert(Bytes::copy_from_slice(id), keep);
            }
            _ => {
                self.replica.soft_deleted.swap_remove(id);
                self.replica
                    .deleted
                    .insert(Bytes::copy_from_slice(id), round_no);
                self.seen.insert(id_key(self.c.body, id));
            }
        }
        if first_time {
            self.c.report.removed += 1;
            match reason {
                RemovedReason::Changed => self.c.round.removed_changed += 1,
                RemovedReason::Deleted => self.c.round.removed_deleted += 1,
                RemovedReason::Other(_) => self.c.round.removed_other += 1,
            }
            Outcome::Removed
        } else {
            Outcome::Duplicate
        }
    }

    /// An object (not removed): an update of one the replica holds, or an addition.
    fn occurrence(&mut self, i: usize, item: &Item, id: &[u8], in_seen: bool) -> Outcome {
        let restored = if self.replica.soft_deleted.is_empty() {
            None
        } else {
            self.replica.soft_deleted.swap_remove(id)
        };
        // Seen before in this round: its entry says so, or it was removed outright here.
        let seen_before = in_seen
            || restored
                .as_ref()
                .is_some_and(|e| e.seen_in == self.c.round_no);
        // One hash of the id per item: the entry is looked up once and filled in place.
        let hash = self.replica.active.hasher().hash_one(id);
        let active = &mut self.replica.active;
        match active.raw_entry_mut_v1().from_key_hashed_nocheck(hash, id) {
            RawEntryMut::Occupied(mut slot) => {
                let (key, existing) = slot.get_key_value_mut();
                // An updated object is kept parsed, so it holds no page body: neither may its
                // key (a slice would keep the old page's body alive, or this one's).
                *key = Bytes::copy_from_slice(id);
                update(existing, i, item, id, seen_before, &mut self.c)
            }
            RawEntryMut::Vacant(slot) => {
                if !self.replica.deleted.is_empty() {
                    self.replica.deleted.swap_remove(id);
                }
                let outcome = if seen_before {
                    self.c.round.duplicates += 1;
                    self.c.report.duplicates += 1;
                    Outcome::Duplicate
                } else {
                    self.c.report.added += 1;
                    self.c.round.added += 1;
                    if restored.is_some() {
                        Outcome::Restored
                    } else {
                        Outcome::Added
                    }
                };
                let entry = addition(restored, i, item, id, &mut self.c);
                // A key slices the body its object's text is a slice of; an object kept parsed
                // gets its own copy of the id.
                let key = if entry.raw.is_some() {
                    id_key(self.c.body, id)
                } else {
                    Bytes::copy_from_slice(id)
                };
                slot.insert_hashed_nocheck(hash, key, entry);
                outcome
            }
        }
    }
}

/// What updating or adding one object needs of the page being applied (the replica's map is
/// borrowed by the entry meanwhile).
struct Ctx<'a> {
    /// A minimal later round: received properties are merged, not replaced.
    merge: bool,
    round_no: u32,
    round: &'a mut RoundSummary,
    report: &'a mut PageReport,
    body: &'a Bytes,
}

/// Item `i` (`id`) passed the page's reading but not serde's (nested past its depth limit, say):
/// the replica keeps what it had, and the page says so.
fn unreadable(report: &mut PageReport, i: usize, id: &[u8], e: &serde_json::Error) {
    report.warnings.push(format!(
        "item #{} ({}) cannot be read: {e}",
        i + 1,
        String::from_utf8_lossy(id)
    ));
}

/// An object the replica holds comes again: replaced (a default or full round) or merged (a
/// minimal later round, a relationship slice), its links folded, the change counted.
fn update(
    existing: &mut Entry,
    i: usize,
    item: &Item,
    id: &[u8],
    seen_before: bool,
    c: &mut Ctx<'_>,
) -> Outcome {
    let first_time = !(seen_before || existing.seen_in == c.round_no);
    // The round that last changed it: this one, unless this is a replay.
    let mut changed_in = c.round_no;
    let text = c.body.get(item.span.clone()).unwrap_or_default();
    let incoming: Object = match serde_json::from_slice(text) {
        Ok(o) => o,
        Err(e) => {
            unreadable(c.report, i, id, &e);
            return Outcome::Skipped;
        }
    };
    // Only links on a first occurrence (the emulator's and Graph's slice shape): merged.
    let mut slice = is_relationship_slice(&incoming);
    let (links, plain) = if item.links {
        split_links(incoming)
    } else {
        (Vec::new(), incoming)
    };
    let outcome = if first_time {
        Outcome::Updated
    } else if slice || continues(existing.object(), &plain, &links, c.merge) {
        // A large group's further members: expected, not a duplicate.
        slice = true;
        c.round.relationship_slices += 1;
        Outcome::Slice
    } else {
        c.round.duplicates += 1;
        c.report.duplicates += 1;
        Outcome::Duplicate
    };
    if first_time {
        c.report.updated += 1;
        c.round.updated += 1;
        let mut changed: Vec<String> = if c.merge || slice {
            plain
                .keys()
                .filter(|k| is_tracked_property(k))
                .cloned()
                .collect()
        } else {
            changed_properties(existing.object(), &plain)
        };
        changed.extend(
            links
                .iter()
                .filter(|(_, changes)| changes.as_array().is_some_and(|a| !a.is_empty()))
                .map(|(k, _)| k.clone()),
        );
        for k in &changed {
            *c.round.property_changes.entry(k.clone()).or_default() += 1;
        }
        if changed.is_empty() && !c.round.full {
            c.round.replays += 1;
            changed_in = existing.changed_in;
        }
        if c.merge {
            c.round.nulls += plain
                .iter()
                .filter(|(k, v)| v.is_null() && is_tracked_property(k))
                .count();
        }
        if !changed.is_empty() {
            c.report.changes.push((i, changed));
        }
    }
    // A full round restates every relationship: its first occurrence of an object starts the
    // links afresh; any later one (a slice, a replay, a later round) changes the links held.
    let restart = first_time && c.round.full;
    if !(c.merge || slice) && links.is_empty() && !existing.has_links() {
        // A plain replace (no relationships on either side): the old object need not be read.
        *existing = Entry::from_object(plain);
        (existing.seen_in, existing.changed_in) = (c.round_no, changed_in);
        return outcome;
    }
    let old = std::mem::take(existing).into_object();
    let obj = if c.merge || slice {
        let mut obj = old;
        obj.extend(plain);
        fold_links(obj, links, None, restart, c.round)
    } else {
        fold_links(plain, links, Some(old), restart, c.round)
    };
    *existing = Entry::from_object(obj);
    (existing.seen_in, existing.changed_in) = (c.round_no, changed_in);
    outcome
}

/// A later occurrence in the round continues an object's relationships when it carries
/// `X@delta` lists and restates its other properties unchanged: Graph pages a large group's
/// members so, "the same property values … but the expanded `members@delta` property now
/// contains a different list of users" (delta-query-groups.md). In a minimal round only the
/// properties that came need to agree; otherwise the two must agree on every property.
fn continues(held: &Object, plain: &Object, links: &[(String, Value)], merge: bool) -> bool {
    if links.is_empty() {
        return false;
    }
    let null = Value::Null;
    let same = |k: &String, v: &Value| !is_tracked_property(k) || held.get(k).unwrap_or(&null) == v;
    plain.iter().all(|(k, v)| same(k, v))
        && (merge
            || held.iter().all(|(k, v)| {
                is_link_list(k) || !is_tracked_property(k) || v.is_null() || plain.contains_key(k)
            }))
}

/// An object the replica does not hold: kept as its text (a slice of the page body) unless it
/// carries relationship lists to fold or is a restore merged onto its soft-deleted state.
fn addition(restored: Option<Entry>, i: usize, item: &Item, id: &[u8], c: &mut Ctx<'_>) -> Entry {
    // The item's text (checked as part of the body when the page was parsed).
    let text = c.body.get(item.span.clone()).unwrap_or_default();
    let mut entry = match restored {
        Some(base) if c.merge => match serde_json::from_slice::<Object>(text) {
            Ok(incoming) => {
                let (links, plain) = split_links(incoming);
                let mut obj = base.into_object();
                // A restored object comes back whole: the relationships it carries are
                // restated, not changes to its old ones, and one it does not carry has no
                // links any more.
                obj.retain(|k, _| !is_link_list(k));
                obj.extend(plain);
                Entry::from_object(fold_links(obj, links, None, true, c.round))
            }
            Err(e) => {
                unreadable(c.report, i, id, &e);
                Entry::from_object(base.into_object())
            }
        },
        // Relationship lists are folded (removed links taken out); other objects keep their
        // text as received.
        _ if item.links => match serde_json::from_slice::<Object>(text) {
            Ok(incoming) => {
                let (links, plain) = split_links(incoming);
                Entry::from_object(fold_links(plain, links, None, true, c.round))
            }
            Err(_) => Entry::from_raw(c.body.slice_ref(text)),
        },
        _ => Entry::from_raw(c.body.slice_ref(text)),
    };
    (entry.seen_in, entry.changed_in) = (c.round_no, c.round_no);
    entry
}

/// What a page can change in a round: when none of it moved, the page brought nothing new.
fn progress_of(r: &RoundSummary) -> [usize; 6] {
    [
        r.added,
        r.updated,
        r.removed(),
        r.links_added,
        r.links_removed,
        r.relationship_slices,
    ]
}

/// The page's warnings go on its round too.
fn finish(report: PageReport, rounds: &mut [RoundSummary]) -> PageReport {
    if !report.warnings.is_empty()
        && let Some(r) = rounds.last_mut()
    {
        r.warnings.extend(report.warnings.iter().cloned());
    }
    report
}

/// Properties whose value differs (absent and null count as the same: not set).
fn changed_properties(old: &Object, new: &Object) -> Vec<String> {
    let null = Value::Null;
    let mut out = Vec::new();
    for (k, v) in new {
        if is_tracked_property(k) && old.get(k).unwrap_or(&null) != v {
            out.push(k.clone());
        }
    }
    for (k, v) in old {
        if is_tracked_property(k) && !new.contains_key(k) && !v.is_null() {
            out.push(k.clone());
        }
    }
    out
}
