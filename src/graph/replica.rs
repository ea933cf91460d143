//! The replica: every object as the rounds so far describe them, kept as the page text it came
//! in until someone reads it, and the rules for relationship links (`X@delta` lists).
use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::summary::RoundSummary;

pub type Object = Map<String, Value>;

/// One object of the replica. An object that arrived whole is kept as its JSON text, a shared
/// slice of the page body it came in (no copy: the explorer keeps the same bodies), and parsed
/// the first time someone looks at it: a full round of 100,000 objects then costs no map
/// nobody may read.
#[derive(Clone, Debug, Default)]
pub(super) struct Entry {
    pub(super) raw: Option<bytes::Bytes>,
    parsed: OnceLock<Box<Object>>,
    /// The number of the last round that returned this object (duplicate detection without a
    /// second set of every id).
    pub(super) seen_in: u32,
    /// The number of the last round that changed it (added, updated, removed, restored).
    pub(super) changed_in: u32,
}

/// Id-keyed maps of the replica: foldhash (fast on GUID-sized keys, seeded per map so that
/// ids chosen by a server cannot force collisions); keys that are the id's bytes as a slice of
/// the page body the object came in (see [`id_key`]): no allocation per object, and no UTF-8
/// check per lookup (the body was checked when parsed). An `IndexMap` keeps the entries in a
/// vector beside a table of indices with their hashes, so growing the map while a full round
/// fills it moves small indices, never the entries, and hashes no key again (with a plain hash
/// map, growing was a third of the time spent applying a 100,000-object round).
pub(super) type IdMap<V> = IndexMap<Bytes, V, foldhash::fast::RandomState>;
pub(super) type IdSet = HashSet<Bytes, foldhash::fast::RandomState>;

/// The key for an id read from `body`: a slice of the body when the id lies in it (an id
/// written without escapes), else a copy (an unescaped id).
pub(super) fn id_key(body: &Bytes, id: &[u8]) -> Bytes {
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
    pub(super) fn from_raw(text: bytes::Bytes) -> Entry {
        Entry {
            raw: Some(text),
            parsed: OnceLock::new(),
            seen_in: 0,
            changed_in: 0,
        }
    }

    pub(super) fn from_object(obj: Object) -> Entry {
        Entry {
            raw: None,
            parsed: OnceLock::from(Box::new(obj)),
            seen_in: 0,
            changed_in: 0,
        }
    }

    pub(super) fn object(&self) -> &Object {
        self.parsed.get_or_init(|| {
            // The text passed `Page::parse` as a JSON object, so this does not fail.
            self.raw
                .as_deref()
                .and_then(|t| serde_json::from_slice(t).ok())
                .unwrap_or_default()
        })
    }

    /// The object holds `X@delta` lists (checked without parsing a raw entry).
    pub(super) fn has_links(&self) -> bool {
        match (self.parsed.get(), &self.raw) {
            (Some(obj), _) => obj.keys().any(|k| is_link_list(k)),
            (None, Some(raw)) => memchr::memmem::find(raw, b"@delta\"").is_some(),
            (None, None) => false,
        }
    }

    pub(super) fn into_object(mut self) -> Object {
        self.object();
        self.parsed.take().map(|b| *b).unwrap_or_default()
    }
}

/// The objects as the rounds so far describe them.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    pub(super) active: IdMap<Entry>,
    pub(super) soft_deleted: IdMap<Entry>,
    /// Objects removed for good (`@removed` other than `changed`), with the round that said so.
    pub(super) deleted: IdMap<u32>,
}

/// Where an object stands in the replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectState {
    Live,
    /// Removed with reason `changed`: restorable; its last state is kept.
    SoftDeleted,
    /// Removed for good.
    HardDeleted,
}

impl ObjectState {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::Live => "live",
            ObjectState::SoftDeleted => "soft-deleted",
            ObjectState::HardDeleted => "hard-deleted",
        }
    }
}

/// One object the session knows of, as [`Replica::known`] lists it.
#[derive(Clone, Copy, Debug)]
pub struct Known<'a> {
    pub id: &'a str,
    pub state: ObjectState,
    /// The last round that changed it.
    pub changed_in: u32,
    /// Its JSON as received, when it is kept so (not for an updated or a deleted object).
    pub raw: Option<&'a Bytes>,
    /// Its state as merged by the rounds, when it is kept parsed.
    pub object: Option<&'a Object>,
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
        self.deleted.clear();
    }

    /// Every object the session knows of: live, soft-deleted and deleted for good, in no
    /// particular order (nothing is parsed).
    pub fn known(&self) -> impl Iterator<Item = Known<'_>> + '_ {
        fn kept<'a>(state: ObjectState) -> impl Fn((&'a Bytes, &'a Entry)) -> Known<'a> {
            move |(k, e)| Known {
                id: key_text(k),
                state,
                changed_in: e.changed_in,
                raw: e.raw.as_ref(),
                object: if e.raw.is_some() {
                    None
                } else {
                    e.parsed.get().map(|b| &**b)
                },
            }
        }
        self.active
            .iter()
            .map(kept(ObjectState::Live))
            .chain(self.soft_deleted.iter().map(kept(ObjectState::SoftDeleted)))
            .chain(self.deleted.iter().map(|(k, round)| Known {
                id: key_text(k),
                state: ObjectState::HardDeleted,
                changed_in: *round,
                raw: None,
                object: None,
            }))
    }

    /// How many objects are live, soft-deleted and deleted for good.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.active.len(),
            self.soft_deleted.len(),
            self.deleted.len(),
        )
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

pub(super) fn is_tracked_property(key: &str) -> bool {
    key != "id" && !key.starts_with('@') && !is_link_list(key)
}

/// `X@delta` (`members@delta`, `manager@delta`, ...): a relationship's link changes, objects with
/// an `id`; one with `@removed` is a link taken out.
pub(super) fn is_link_list(key: &str) -> bool {
    key.ends_with("@delta")
}

/// An occurrence that only continues an object's relationships (`id`, `@odata.type` and
/// `X@delta` lists), as a large group's further slices of `members@delta` are: it changes the
/// links and leaves the other properties alone, whatever the round's mode.
pub(super) fn is_relationship_slice(obj: &Object) -> bool {
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
pub(super) fn split_links(obj: Object) -> (Vec<(String, Value)>, Object) {
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
pub(super) fn fold_links(
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
        let (added, removed) = if is_single_valued(&k) {
            apply_single_link(&mut held, &changes)
        } else {
            apply_links(&mut held, &changes)
        };
        round.links_added += added;
        round.links_removed += removed;
        // No links left is no property, as Graph writes a group without members (no
        // `members@delta`, not `[]`): a replica and a fresh full sync then agree.
        if !held.is_empty() {
            obj.insert(k, Value::Array(held));
        }
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

/// A single-valued relationship served as a one-element delta list: a user's `manager@delta`
/// (delta-query-overview.md: `$select` "supports **manager** … Selecting those properties allows
/// tracking of changes to user's manager"). A user has one manager or none, so a new entry
/// replaces the one held rather than joining it.
pub(super) fn is_single_valued(key: &str) -> bool {
    key == "manager@delta"
}

/// Applies a single-valued relationship's list onto the link held (at most one): an entry
/// without `@removed` replaces the link (the last such entry wins); one with `@removed` clears
/// the link when it names the link held, or when the link held came from an earlier round (the
/// server says the relationship is gone: what the replica held is stale); a removal of another
/// id after a new link in the same list (the old manager taken out after the new one was named)
/// leaves the new link. Returns (links added, links removed); a replacement counts as both.
fn apply_single_link(held: &mut Vec<Value>, changes: &Value) -> (usize, usize) {
    let Some(changes) = changes.as_array() else {
        return (0, 0);
    };
    let link_id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
    // Only a link with an id counts as held (Graph's links always carry one).
    let mut current: Option<Value> = held.drain(..).rev().find(|v| link_id(v).is_some());
    let mut set_here = false;
    let (mut added, mut removed) = (0, 0);
    for change in changes {
        let Some(id) = link_id(change) else {
            continue;
        };
        let held_id = current.as_ref().and_then(link_id);
        if change.get("@removed").is_some() {
            if held_id.is_some() && (held_id.as_deref() == Some(id.as_str()) || !set_here) {
                current = None;
                removed += 1;
            }
        } else {
            match held_id {
                Some(h) if h == id => {}
                Some(_) => {
                    removed += 1;
                    added += 1;
                }
                None => added += 1,
            }
            current = Some(change.clone());
            set_here = true;
        }
    }
    held.extend(current);
    (added, removed)
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
