//! One object's history: its occurrences across the session's rounds (from the store's index,
//! [`super::Store::occurrences`]) told as a timeline — first seen, each change with the value
//! before and after, `@removed` and what its reason means, restores, relationship links added
//! and taken out, duplicates and replays. The replica's rules (spec §2) decide what a
//! property's value was: a default or full round restates the object, a minimal round carries
//! only what changed.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::read::{Occurrence, RoundRow};

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
                        format!(
                            "returned in a {round_word} with no tracked change: a replay, a change to a property it does not carry, or a deletion and restore within the range (Graph sends that as an update)"
                        ),
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

/// Rounds an object is missing from, and why, where the rules say (spec §2): the rounds
/// `from..=to` (complete ones, after it was first seen) that did not carry it for the same
/// reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Absence {
    pub from: u32,
    pub to: u32,
    pub why: String,
}

/// Why the object is in none of the complete rounds it is missing from, once it was first
/// seen: in a delta round nothing it is tracked for changed (`select`: the query's `$select`,
/// empty for the resource's default properties), or it is still soft-deleted; in a full round
/// it was not live any more (the replica drops it: a full round sends no `@removed`). Rounds
/// from now (`latest`) carry no objects and say nothing.
pub fn absences(
    occurrences: &[Occurrence],
    rounds: &[RoundRow],
    select: &[String],
) -> Vec<Absence> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Unseen,
        Live,
        Soft,
        Gone,
    }
    let tracked_text = if select.is_empty() {
        "the resource's default properties are tracked (no $select)".to_owned()
    } else {
        format!(
            "only the selected properties are tracked ({})",
            select.join(", ")
        )
    };
    let mut state = State::Unseen;
    let mut out: Vec<Absence> = Vec::new();
    let mut last_seen = 0u32;
    // The last absence goes on while only rounds that say nothing come between.
    let mut open_run = false;
    for r in rounds {
        let here: Vec<&Occurrence> = occurrences.iter().filter(|o| o.round == r.number).collect();
        if let Some(last) = here.iter().rev().find(|o| o.outcome != "skipped") {
            state = match (last.outcome.as_str(), last.removed.as_deref()) {
                ("removed", Some("changed")) => State::Soft,
                ("removed", _) => State::Gone,
                _ => State::Live,
            };
            last_seen = r.number;
            open_run = false;
            continue;
        }
        if !r.complete || r.kind == "latest" {
            continue;
        }
        let why = match (state, r.kind.as_str()) {
            (State::Unseen | State::Gone, _) => continue,
            (State::Live | State::Soft, "full") => {
                state = State::Gone;
                "a full round restates every live object and sends no @removed: it was not live (or not in the query's scope) when this round began, so the replica drops it".to_owned()
            }
            (State::Soft, _) => {
                "still soft-deleted: a restore would send it again, whole".to_owned()
            }
            (State::Live, _) => format!(
                "nothing Graph tracks about it changed since round {last_seen}: {tracked_text}, so a change to any other property puts it in no round"
            ),
        };
        match out.last_mut() {
            Some(a) if open_run && a.why == why => a.to = r.number,
            _ => out.push(Absence {
                from: r.number,
                to: r.number,
                why,
            }),
        }
        open_run = true;
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
