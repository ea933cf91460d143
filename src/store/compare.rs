//! Compare two rounds of a stored session: the replica at the end of each (the session's pages
//! replayed through the engine up to there), and what lies between: objects added, changed
//! (which properties, old → new) and removed.
use std::collections::BTreeMap;

use serde_json::Value;

use super::read::StoredSession;
use super::replay::replay_until;
use crate::graph::guard::RoundLimits;

/// One object's change between the two rounds.
#[derive(Clone, Debug, PartialEq)]
pub enum Difference {
    Added(Value),
    Removed(Value),
    /// (property, before, after); `None`: not set.
    Changed(Vec<(String, Option<Value>, Option<Value>)>),
}

/// What changed from the end of round `a` to the end of round `b`, by object id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    pub a: u32,
    pub b: u32,
    pub objects_a: usize,
    pub objects_b: usize,
    pub differences: BTreeMap<String, Difference>,
}

/// Compares the replica at the end of round `a` with the one at the end of round `b`
/// (`a < b`). `None`: the session has no complete round `b` (or `a`).
pub fn compare(stored: StoredSession, a: u32, b: u32, limits: RoundLimits) -> Option<Comparison> {
    let (a, b) = (a.min(b), a.max(b));
    let mut ends = replay_until(stored, &[a, b], limits);
    let after = ends.remove(&b)?;
    let before = ends.remove(&a)?;
    let mut differences = BTreeMap::new();
    for (id, old) in &before {
        match after.get(id) {
            None => {
                differences.insert(id.clone(), Difference::Removed(old.clone()));
            }
            Some(new) if new != old => {
                differences.insert(id.clone(), Difference::Changed(changes(old, new)));
            }
            Some(_) => {}
        }
    }
    for (id, new) in &after {
        if !before.contains_key(id) {
            differences.insert(id.clone(), Difference::Added(new.clone()));
        }
    }
    Some(Comparison {
        a,
        b,
        objects_a: before.len(),
        objects_b: after.len(),
        differences,
    })
}

/// The properties whose value differs between two normalized objects (nulls dropped).
fn changes(old: &Value, new: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut names: Vec<&String> = o.keys().chain(n.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|k| k.as_str() != "id")
        .filter_map(|k| {
            let (b, a) = (o.get(k).cloned(), n.get(k).cloned());
            (b != a).then(|| (k.clone(), b, a))
        })
        .collect()
}
