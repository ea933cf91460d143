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
//!   duplicate (and still applied).
//! - When a full round (initial, resync) completes, objects it did not return are dropped
//!   (counted as `vanished`).
use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};
use indexmap::IndexMap;
use indexmap::map::{RawEntryApiV1, raw_entry_v1::RawEntryMut};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use bytes::Bytes;

use serde_json::{Map, Value};

use super::error::GraphError;
use super::guard::{RoundGuard, RoundLimits, Stop};
use super::link;
use super::page::{Page, PageRequest, RemovedReason, RequestKind, headers_ask_minimal};

pub type Object = Map<String, Value>;

/// One object of the replica. An object that arrived whole is kept as its JSON text, a shared
/// slice of the page body it came in (no copy: the explorer keeps the same bodies), and parsed
/// the first time someone looks at it: a full round of 100,000 objects then costs no map
/// nobody may read.
#[derive(Clone, Debug, Default)]
struct Entry {
    raw: Option<bytes::Bytes>,
    parsed: OnceLock<Box<Object>>,
    /// The number of the last round that returned this object (duplicate detection without a
    /// second set of every id).
    seen_in: u32,
}

/// Id-keyed maps of the replica: foldhash (fast on GUID-sized keys, seeded per map so that
/// ids chosen by a server cannot force collisions); keys that are the id's bytes as a slice of
/// the page body the object came in (see [`id_key`]): no allocation per object, and no UTF-8
/// check per lookup (the body was checked when parsed). An `IndexMap` keeps the entries in a
/// vector beside a table of indices with their hashes, so growing the map while a full round
/// fills it moves small indices, never the entries, and hashes no key again (with a plain hash
/// map, growing was a third of the time spent applying a 100,000-object round).
type IdMap<V> = IndexMap<Bytes, V, foldhash::fast::RandomState>;
type IdSet = HashSet<Bytes, foldhash::fast::RandomState>;

/// The key for an id read from `body`: a slice of the body when the id lies in it (an id
/// written without escapes), else a copy (an unescaped id).
fn id_key(body: &Bytes, id: &[u8]) -> Bytes {
    let (start, at) = (body.as_ptr() as usize, id.as_ptr() as usize);
    if at >= start && at + id.len() <= start + body.len() {
        body.slice_ref(id)
    } else {
        Bytes::copy_from_slice(id)
    }
}

/// A key as text. Keys are ids read from UTF-8 bodies (or given as `&str`), so this never
/// comes out empty for a real key.
fn key_text(key: &Bytes) -> &str {
    std::str::from_utf8(key).unwrap_or_default()
}

impl Entry {
    fn from_raw(text: bytes::Bytes) -> Entry {
        Entry {
            raw: Some(text),
            parsed: OnceLock::new(),
            seen_in: 0,
        }
    }

    fn from_object(obj: Object) -> Entry {
        Entry {
            raw: None,
            parsed: OnceLock::from(Box::new(obj)),
            seen_in: 0,
        }
    }

    fn object(&self) -> &Object {
        self.parsed.get_or_init(|| {
            // The text passed `Page::parse` as a JSON object, so this does not fail.
            self.raw
                .as_deref()
                .and_then(|t| serde_json::from_slice(t).ok())
                .unwrap_or_default()
        })
    }

    /// The object holds `X@delta` lists (checked without parsing a raw entry).
    fn has_links(&self) -> bool {
        match (self.parsed.get(), &self.raw) {
            (Some(obj), _) => obj.keys().any(|k| is_link_list(k)),
            (None, Some(raw)) => memchr::memmem::find(raw, b"@delta\"").is_some(),
            (None, None) => false,
        }
    }

    fn into_object(mut self) -> Object {
        self.object();
        self.parsed.take().map(|b| *b).unwrap_or_default()
    }
}

/// The objects as the rounds so far describe them.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    active: IdMap<Entry>,
    soft_deleted: IdMap<Entry>,
}

impl Replica {
    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Object> {
        self.active.get(id.as_bytes()).map(Entry::object)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.active.contains_key(id.as_bytes())
    }

    /// Active objects in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Object)> + '_ {
        sorted(&self.active).map(|(k, v)| (k, v.object()))
    }

    /// Active object ids in order, without parsing anything.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        sorted(&self.active).map(|(k, _)| k)
    }

    /// Objects removed with `reason: changed` (soft-deleted), with their last known state.
    pub fn soft_deleted(&self) -> impl Iterator<Item = (&str, &Object)> + '_ {
        sorted(&self.soft_deleted).map(|(k, v)| (k, v.object()))
    }

    pub fn soft_deleted_len(&self) -> usize {
        self.soft_deleted.len()
    }

    /// The active objects for equality checks: soft-deleted objects are excluded, and in each
    /// object `null` properties are dropped (null and absent both mean "not set") as is
    /// `@removed`; relationship links (`X@delta`) are in id order.
    pub fn normalized(&self) -> BTreeMap<String, Value> {
        self.active
            .iter()
            .map(|(id, entry)| {
                let clean: Object = entry
                    .object()
                    .iter()
                    .filter(|(k, v)| !v.is_null() && k.as_str() != "@removed")
                    .map(|(k, v)| (k.clone(), normalized_links(k, v)))
                    .collect();
                (key_text(id).to_owned(), Value::Object(clean))
            })
            .collect()
    }

    pub fn clear(&mut self) {
        self.active.clear();
        self.soft_deleted.clear();
    }
}

/// A relationship's links are a set: in id order for comparisons (the order they arrived in
/// depends on the rounds). Other values as they are.
fn normalized_links(key: &str, value: &Value) -> Value {
    match value {
        Value::Array(links) if is_link_list(key) => {
            let mut links = links.clone();
            links.sort_by(|a, b| {
                let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
                id(a).cmp(&id(b))
            });
            Value::Array(links)
        }
        _ => value.clone(),
    }
}

/// The entries of an id map in id order (the maps are hashed for speed; order is for people
/// and for tests).
fn sorted(map: &IdMap<Entry>) -> impl Iterator<Item = (&str, &Entry)> + '_ {
    let mut all: Vec<(&str, &Entry)> = map.iter().map(|(k, v)| (key_text(k), v)).collect();
    all.sort_unstable_by(|a, b| a.0.cmp(b.0));
    all.into_iter()
}

fn is_tracked_property(key: &str) -> bool {
    key != "id" && !key.starts_with('@') && !is_link_list(key)
}

/// `X@delta` (`members@delta`, `manager@delta`, ...): a relationship's link changes, objects with
/// an `id`; one with `@removed` is a link taken out.
fn is_link_list(key: &str) -> bool {
    key.ends_with("@delta")
}

/// An occurrence that only continues an object's relationships (`id`, `@odata.type` and
/// `X@delta` lists), as a large group's further slices of `members@delta` are: it changes the
/// links and leaves the other properties alone, whatever the round's mode.
fn is_relationship_slice(obj: &Object) -> bool {
    is_relationship_slice_keys(obj.keys().map(String::as_str))
}

/// [`is_relationship_slice`] on an object's top-level keys (for callers holding the JSON text).
pub fn is_relationship_slice_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> bool {
    let mut any = false;
    for k in keys {
        if is_link_list(k) {
            any = true;
        } else if k != "id" && k != "@odata.type" {
            return false;
        }
    }
    any
}

/// The object's `X@delta` lists apart from its other properties.
fn split_links(obj: Object) -> (Vec<(String, Value)>, Object) {
    let mut links = Vec::new();
    let mut plain = Object::new();
    for (k, v) in obj {
        if is_link_list(&k) && v.is_array() {
            links.push((k, v));
        } else {
            plain.insert(k, v);
        }
    }
    (links, plain)
}

/// Folds link changes into `obj`: each list onto the links held before (in `old` when given,
/// else in `obj` itself; none when `restart`), an entry adding (or replacing) the link with its
/// id, one with `@removed` taking it out. With `old`, lists the occurrence does not mention are
/// kept (a later round says nothing of a relationship that did not change) unless `restart`.
fn fold_links(
    mut obj: Object,
    links: Vec<(String, Value)>,
    mut old: Option<Object>,
    restart: bool,
    round: &mut RoundSummary,
) -> Object {
    for (k, changes) in links {
        let held_before = if restart {
            None
        } else if let Some(old) = old.as_mut() {
            old.remove(&k)
        } else {
            obj.remove(&k)
        };
        let mut held = match held_before {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        let (added, removed) = apply_links(&mut held, &changes);
        round.links_added += added;
        round.links_removed += removed;
        obj.insert(k, Value::Array(held));
    }
    if !restart && let Some(old) = old {
        for (k, v) in old {
            if is_link_list(&k) && v.is_array() && !obj.contains_key(&k) {
                obj.insert(k, v);
            }
        }
    }
    obj
}

/// Applies one `X@delta` list onto the links held. Returns (links added, links removed).
fn apply_links(held: &mut Vec<Value>, changes: &Value) -> (usize, usize) {
    let Some(changes) = changes.as_array() else {
        return (0, 0);
    };
    let link_id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
    let mut index: HashMap<String, usize> = held
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((link_id(v)?, i)))
        .collect();
    let mut gone: HashSet<usize> = HashSet::new();
    let (mut added, mut removed) = (0, 0);
    for change in changes {
        let Some(id) = link_id(change) else {
            continue;
        };
        if change.get("@removed").is_some() {
            if let Some(i) = index.remove(&id) {
                gone.insert(i);
                removed += 1;
            }
        } else if let Some(&i) = index.get(&id) {
            held[i] = change.clone();
        } else {
            index.insert(id, held.len());
            held.push(change.clone());
            added += 1;
        }
    }
    if !gone.is_empty() {
        let mut i = 0;
        held.retain(|_| {
            let keep = !gone.contains(&i);
            i += 1;
            keep
        });
    }
    (added, removed)
}

/// The change one page brought.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageReport {
    /// The page ended the round (it carried the deltaLink).
    pub round_complete: bool,
    pub warnings: Vec<String>,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub duplicates: usize,
    pub empty: bool,
    /// The round stopped at this page (a link loop, pages without anything new, a link that
    /// cannot be followed): following must stop; the reason is also on the round.
    pub stop: Option<Stop>,
}

/// What a round brought. The last entry of [`Session::rounds`] may be the round in progress.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundSummary {
    /// 1-based.
    pub number: u32,
    /// An initial (full) round: the query's first request or a restart.
    pub full: bool,
    pub pages: usize,
    pub items: usize,
    pub bytes: u64,
    pub added: usize,
    pub updated: usize,
    pub removed_changed: usize,
    pub removed_deleted: usize,
    pub removed_other: usize,
    pub duplicates: usize,
    /// Later occurrences of an object that only continue its relationships (a large group's
    /// further slices of `members@delta`): expected, not duplicates.
    pub relationship_slices: usize,
    /// Links added and taken out by `X@delta` lists (`members@delta`, ...).
    pub links_added: usize,
    pub links_removed: usize,
    pub empty_pages: usize,
    /// Full rounds only: objects in the replica that the round did not return (dropped).
    pub vanished: usize,
    /// Property → number of updated objects in which it changed. Minimal rounds: the properties
    /// present; default rounds: those whose value differs from the replica's previous one.
    pub property_changes: BTreeMap<String, usize>,
    pub delta_link: Option<String>,
    pub minimal: bool,
    pub complete: bool,
    /// A resync or restart abandoned this round before its deltaLink.
    pub abandoned: bool,
    /// Why the round stopped before its deltaLink, while it stays stopped.
    pub stop: Option<Stop>,
    /// The warnings of the round's pages, in order (also in each page's [`PageReport`]).
    pub warnings: Vec<String>,
}

impl RoundSummary {
    pub fn removed(&self) -> usize {
        self.removed_changed + self.removed_deleted + self.removed_other
    }
}

/// `n` and the word for it: "1 page", "2 pages" (summaries here and in the explorer).
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl RoundSummary {
    /// What the round brought, without its state (complete, in progress, stopped, abandoned).
    pub fn counts(&self) -> String {
        let mut s = String::new();
        let _ = self.write_counts(&mut s);
        s
    }

    fn write_counts(&self, f: &mut impl fmt::Write) -> fmt::Result {
        write!(
            f,
            "round {}: {}, {}: {} added, {} updated",
            self.number,
            plural(self.pages, "page", "pages"),
            plural(self.items, "item", "items"),
            self.added,
            self.updated
        )?;
        if !self.property_changes.is_empty() {
            let mut props: Vec<(&String, &usize)> = self.property_changes.iter().collect();
            props.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = props.iter().map(|(k, v)| format!("{k} {v}")).collect();
            write!(f, " ({})", list.join(", "))?;
        }
        write!(f, ", {} removed", self.removed())?;
        if self.removed() > 0 {
            let mut parts = vec![
                format!("{} changed", self.removed_changed),
                format!("{} deleted", self.removed_deleted),
            ];
            if self.removed_other > 0 {
                parts.push(format!("{} other", self.removed_other));
            }
            write!(f, " ({})", parts.join(", "))?;
        }
        if self.links_added + self.links_removed > 0 {
            write!(f, ", links +{} -{}", self.links_added, self.links_removed)?;
        }
        write!(
            f,
            ", {}",
            plural(self.duplicates, "duplicate", "duplicates")
        )?;
        if self.relationship_slices > 0 {
            write!(
                f,
                " ({} more relationship {})",
                self.relationship_slices,
                if self.relationship_slices == 1 {
                    "slice"
                } else {
                    "slices"
                }
            )?;
        }
        write!(
            f,
            ", {}",
            plural(self.empty_pages, "empty page", "empty pages")
        )?;
        if self.vanished > 0 {
            write!(f, ", {} no longer returned (dropped)", self.vanished)?;
        }
        Ok(())
    }
}

impl fmt::Display for RoundSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_counts(f)?;
        if let Some(stop) = &self.stop {
            write!(f, " (stopped: {stop})")?;
        }
        if self.abandoned {
            write!(f, " (abandoned)")?;
        } else if !self.complete && self.stop.is_none() {
            write!(f, " (in progress)")?;
        }
        Ok(())
    }
}

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

/// `$top` of a first request on a resource with the documented `$top` known issue
/// (callRecording and callTranscript delta).
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

    pub fn limits(&self) -> RoundLimits {
        self.guard.limits()
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
    ///
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
            let latest = page.request.kind == RequestKind::Initial
                && link::classify(&page.request.url).is_ok_and(|i| i.latest);
            let full = page.request.kind == RequestKind::Initial && !latest;
            if latest && !self.replica.is_empty() {
                report.warnings.push(format!(
                    "this round starts from now ($deltatoken=latest): changes since the last round are skipped, so the {} already in the replica may be out of date (a full round without latest rebuilds it)",
                    plural(self.replica.len(), "object", "objects")
                ));
            }
            self.rounds.push(RoundSummary {
                number: u32::try_from(self.rounds.len() + 1).unwrap_or(u32::MAX),
                full,
                minimal: headers_ask_minimal(&page.request.headers),
                ..Default::default()
            });
            self.seen = Some(IdSet::default());
            self.guard.start_round();
        }
        let (Some(seen), Some(round)) = (self.seen.as_mut(), self.rounds.last_mut()) else {
            return report;
        };
        let merge = round.minimal && !round.full;
        let round_no = round.number;
        let progress_before = progress_of(round);
        round.pages += 1;
        round.items += page.items.len();
        round.bytes += page.body.len() as u64;
        if page.items.is_empty() {
            round.empty_pages += 1;
            report.empty = true;
        }
        for (i, item) in page.items.iter().enumerate() {
            let Some(id) = item.id_bytes(&page.body) else {
                report.warnings.push(format!(
                    "item #{} has no id; it is not in the replica",
                    i + 1
                ));
                continue;
            };
            // Removed outright earlier in this round (the maps are empty in most rounds: no
            // hashing then).
            let in_seen = !seen.is_empty() && seen.contains(id);
            if let Some(reason) = &item.removed {
                let previous = self.replica.active.swap_remove(id);
                let first_time = !(in_seen
                    || previous.as_ref().is_some_and(|e| e.seen_in == round_no)
                    || self
                        .replica
                        .soft_deleted
                        .get(id)
                        .is_some_and(|e| e.seen_in == round_no));
                if !first_time {
                    round.duplicates += 1;
                    report.duplicates += 1;
                }
                match reason {
                    RemovedReason::Changed => {
                        let mut keep = previous
                            .or_else(|| self.replica.soft_deleted.swap_remove(id))
                            .unwrap_or_default();
                        keep.seen_in = round_no;
                        // Its own copy of the id: a slice would keep this page's body
                        // alive as long as the object stays soft-deleted.
                        self.replica
                            .soft_deleted
                            .insert(Bytes::copy_from_slice(id), keep);
                    }
                    _ => {
                        self.replica.soft_deleted.swap_remove(id);
                        seen.insert(id_key(&page.body, id));
                    }
                }
                if first_time {
                    report.removed += 1;
                    match reason {
                        RemovedReason::Changed => round.removed_changed += 1,
                        RemovedReason::Deleted => round.removed_deleted += 1,
                        RemovedReason::Other(_) => round.removed_other += 1,
                    }
                }
                continue;
            }
            let restored = if self.replica.soft_deleted.is_empty() {
                None
            } else {
                self.replica.soft_deleted.swap_remove(id)
            };
            // Seen before in this round: its entry says so, or it was removed outright here.
            let seen_before = in_seen || restored.as_ref().is_some_and(|e| e.seen_in == round_no);
            // One hash of the id per item: the entry is looked up once and filled in place.
            let hash = self.replica.active.hasher().hash_one(id);
            match self
                .replica
                .active
                .raw_entry_mut_v1()
                .from_key_hashed_nocheck(hash, id)
            {
                RawEntryMut::Occupied(mut slot) => {
                    let (key, existing) = slot.get_key_value_mut();
                    // An updated object is kept parsed, so it holds no page body: neither may
                    // its key (a slice would keep the old page's body alive, or this one's).
                    *key = Bytes::copy_from_slice(id);
                    let first_time = !(seen_before || existing.seen_in == round_no);
                    let text = page.body.get(item.span.clone()).unwrap_or_default();
                    let incoming: Object = match serde_json::from_slice(text) {
                        Ok(o) => o,
                        Err(e) => {
                            report.warnings.push(format!(
                                "item #{} ({}) cannot be read: {e}",
                                i + 1,
                                String::from_utf8_lossy(id)
                            ));
                            continue;
                        }
                    };
                    let slice = is_relationship_slice(&incoming);
                    if first_time {
                        // counted below
                    } else if slice {
                        // A large group's further members: expected, not a duplicate.
                        round.relationship_slices += 1;
                    } else {
                        round.duplicates += 1;
                        report.duplicates += 1;
                    }
                    let (links, plain) = if item.links {
                        split_links(incoming)
                    } else {
                        (Vec::new(), incoming)
                    };
                    if first_time {
                        report.updated += 1;
                        round.updated += 1;
                        if merge || slice {
                            for k in plain.keys().filter(|k| is_tracked_property(k)) {
                                *round.property_changes.entry(k.clone()).or_default() += 1;
                            }
                        } else {
                            for k in changed_properties(existing.object(), &plain) {
                                *round.property_changes.entry(k).or_default() += 1;
                            }
                        }
                        for (k, changes) in &links {
                            if changes.as_array().is_some_and(|a| !a.is_empty()) {
                                *round.property_changes.entry(k.clone()).or_default() += 1;
                            }
                        }
                    }
                    // A full round restates every relationship: its first occurrence of an
                    // object starts the links afresh; any later one (a slice, a replay, a
                    // later round) changes the links held.
                    let restart = first_time && round.full;
                    if !(merge || slice) && links.is_empty() && !existing.has_links() {
                        // A plain replace (no relationships on either side): the old object
                        // need not be read.
                        *existing = Entry::from_object(plain);
                        existing.seen_in = round_no;
                        continue;
                    }
                    let old = std::mem::take(existing).into_object();
                    let obj = if merge || slice {
                        let mut obj = old;
                        obj.extend(plain);
                        fold_links(obj, links, None, restart, round)
                    } else {
                        fold_links(plain, links, Some(old), restart, round)
                    };
                    *existing = Entry::from_object(obj);
                    existing.seen_in = round_no;
                }
                RawEntryMut::Vacant(slot) => {
                    if seen_before {
                        round.duplicates += 1;
                        report.duplicates += 1;
                    } else {
                        report.added += 1;
                        round.added += 1;
                    }
                    // The item's text (checked as part of the body when the page was parsed).
                    let text = page.body.get(item.span.clone()).unwrap_or_default();
                    let mut entry = match restored {
                        Some(base) if merge => match serde_json::from_slice::<Object>(text) {
                            Ok(incoming) => {
                                let (links, plain) = split_links(incoming);
                                let mut obj = base.into_object();
                                // A restored object comes back whole: the relationships it
                                // carries are restated, not changes to its old ones, and one
                                // it does not carry has no links any more.
                                obj.retain(|k, _| !is_link_list(k));
                                obj.extend(plain);
                                Entry::from_object(fold_links(obj, links, None, true, round))
                            }
                            Err(e) => {
                                report.warnings.push(format!(
                                    "item #{} ({}) cannot be read: {e}",
                                    i + 1,
                                    String::from_utf8_lossy(id)
                                ));
                                Entry::from_object(base.into_object())
                            }
                        },
                        // Relationship lists are folded (removed links taken out); other
                        // objects keep their text as received.
                        _ if item.links => match serde_json::from_slice::<Object>(text) {
                            Ok(incoming) => {
                                let (links, plain) = split_links(incoming);
                                Entry::from_object(fold_links(plain, links, None, true, round))
                            }
                            Err(_) => Entry::from_raw(page.body.slice_ref(text)),
                        },
                        _ => Entry::from_raw(page.body.slice_ref(text)),
                    };
                    entry.seen_in = round_no;
                    // A key slices the body its object's text is a slice of; an object kept
                    // parsed gets its own copy of the id.
                    let key = if entry.raw.is_some() {
                        id_key(&page.body, id)
                    } else {
                        Bytes::copy_from_slice(id)
                    };
                    slot.insert_hashed_nocheck(hash, key, entry);
                }
            }
        }
        let progressed = progress_of(round) != progress_before;
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
        } else {
            let delta = way_on;
            round.delta_link = Some(delta.clone());
            round.complete = true;
            round.stop = None;
            if round.full {
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
        }
        finish(report, &mut self.rounds)
    }
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
