//! One object's history: its occurrences across the session's rounds (from the store's index,
//! [`super::Store::occurrences`]) told as a timeline — first seen, each change with the value
//! before and after, `@removed` and what its reason means, restores, relationship links added
//! and taken out, duplicates and replays. The replica's rules (spec §2) decide what a
//! property's value was: a default or full round restates the object, a minimal round carries
//! only what changed.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::read::Occurrence;

/// What an occurrence was to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// First seen in the session (or again after a deletion for good).
    FirstSeen,
    Changed,
    /// Returned in a later round without a change to any tracked property (a replay).
    Unchanged,
    Removed,
    Restored,
    /// Returned again in the same round.
    Duplicate,
    /// A later occurrence in the round continuing its relationships (a large group's members).
    Slice,
    /// Not applied (unreadable).
    Skipped,
}

/// A property's value before and after (`None`: not set).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub property: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Links of a relationship (`members@delta`, `manager@delta`) added and taken out.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LinkChange {
    pub relationship: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub round: u32,
    pub page: u32,
    pub at: Option<DateTime<Utc>>,
    pub kind: EventKind,
    /// One line, in the spec's words.
    pub summary: String,
    pub changes: Vec<Change>,
    pub links: Vec<LinkChange>,
}

/// What `@removed`'s reason means (spec §2, the reference pages).
pub fn removal_meaning(reason: &str) -> &'static str {
    match reason {
        "changed" => {
            "soft-deleted (restorable for 30 days) or out of the query's scope: it may come back"
        }
        "deleted" => "deleted for good: it will not come back",
        _ => "a reason the documentation does not name",
    }
}

/// The timeline of one object from its occurrences, in the order received.
pub fn timeline(occurrences: &[Occurrence]) -> Vec<Event> {
    let mut state: Option<Map<String, Value>> = None;
    let mut soft_deleted_in: Option<u32> = None;
    let mut ever_seen = false;
    let mut out = Vec::with_capacity(occurrences.len());
    for o in occurrences {
        let incoming: Option<Map<String, Value>> = serde_json::from_str(&o.json).ok();
        let (plain, links) = incoming.map(split).unwrap_or_default();
        let merge = o.outcome == "slice" || (o.minimal && o.round_kind != "full");
        let round_word = match o.round_kind.as_str() {
            "full" => "full round",
            "latest" => "round from now",
            _ if o.minimal => "minimal round",
            _ => "delta round",
        };
        let (kind, summary, changes) = match o.outcome.as_str() {
            "removed" => {
                let reason = o.removed.clone().unwrap_or_default();
                if reason == "changed" {
                    soft_deleted_in = Some(o.round);
                } else {
                    state = None;
                    soft_deleted_in = None;
                }
                (
                    EventKind::Removed,
                    format!(
                        "@removed, reason \"{reason}\": {}",
                        removal_meaning(&reason)
                    ),
                    Vec::new(),
                )
            }
            "skipped" => (
                EventKind::Skipped,
                "could not be read: not applied".to_owned(),
                Vec::new(),
            ),
            outcome => {
                let before = state.clone().unwrap_or_default();
                let after = if merge {
                    let mut m = before.clone();
                    m.extend(plain.clone());
                    m
                } else {
                    plain.clone()
                };
                let changes = if state.is_none() && outcome == "added" {
                    Vec::new()
                } else {
                    diff(&before, &after, merge)
                };
                let (kind, summary) = match outcome {
                    "added" if state.is_none() && ever_seen => (
                        EventKind::FirstSeen,
                        format!("added again in a {round_word}, after its deletion"),
                    ),
                    "added" if state.is_none() => (
                        EventKind::FirstSeen,
                        format!(
                            "first seen in a {round_word}, with {}",
                            crate::graph::round::plural(
                                after.keys().filter(|k| tracked(k)).count(),
                                "property",
                                "properties"
                            )
                        ),
                    ),
                    "restored" => (
                        EventKind::Restored,
                        format!(
                            "restored: back after its soft deletion{}",
                            soft_deleted_in
                                .map(|r| format!(" in round {r}"))
                                .unwrap_or_default()
                        ),
                    ),
                    "duplicate" => (
                        EventKind::Duplicate,
                        "returned again in the same round (a duplicate: the last one wins)".to_owned(),
                    ),
                    "slice" => (
                        EventKind::Slice,
                        "the next slice of its relationships in the same round (expected, not a duplicate)".to_owned(),
                    ),
                    _ if changes.is_empty() && links.iter().all(|l| l.added.is_empty() && l.removed.is_empty()) => (
                        EventKind::Unchanged,
                        format!("returned in a {round_word} with no tracked change (a replay)"),
                    ),
                    _ => (
                        EventKind::Changed,
                        format!(
                            "changed in a {round_word}: {}",
                            changes
                                .iter()
                                .map(|c| c.property.as_str())
                                .chain(links.iter().map(|l| l.relationship.as_str()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                };
                if outcome == "restored" {
                    soft_deleted_in = None;
                }
                state = Some(after);
                ever_seen = true;
                (kind, summary, changes)
            }
        };
        out.push(Event {
            round: o.round,
            page: o.page,
            at: o.at,
            kind,
            summary,
            changes,
            links,
        });
    }
    out
}

fn tracked(key: &str) -> bool {
    key != "id" && !key.starts_with('@') && !key.ends_with("@delta")
}

/// The object's tracked properties, and its relationship changes.
fn split(obj: Map<String, Value>) -> (Map<String, Value>, Vec<LinkChange>) {
    let mut plain = Map::new();
    let mut links = Vec::new();
    for (k, v) in obj {
        if let Some(rel) = k.strip_suffix("@delta") {
            let mut change = LinkChange {
                relationship: rel.to_owned(),
                ..Default::default()
            };
            let list = match v {
                Value::Array(a) => a,
                single @ Value::Object(_) => vec![single],
                _ => Vec::new(),
            };
            for link in list {
                let id = link
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("(no id)")
                    .to_owned();
                if link.get("@removed").is_some() {
                    change.removed.push(id);
                } else {
                    change.added.push(id);
                }
            }
            links.push(change);
        } else if tracked(&k) {
            plain.insert(k, v);
        }
    }
    (plain, links)
}

/// Properties whose value differs (absent and `null` both mean not set). Merging, only the
/// properties that came can change.
fn diff(before: &Map<String, Value>, after: &Map<String, Value>, merge: bool) -> Vec<Change> {
    let set = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    let mut names: Vec<&String> = after.keys().collect();
    if !merge {
        names.extend(before.keys().filter(|k| !after.contains_key(*k)));
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|k| tracked(k))
        .filter_map(|k| {
            let (b, a) = (set(before.get(k)), set(after.get(k)));
            (b != a).then(|| Change {
                property: k.clone(),
                before: b,
                after: a,
            })
        })
        .collect()
}
