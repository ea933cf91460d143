//! The replica as the explorer shows it: every object the session knows of, live,
//! soft-deleted or deleted for good, with the round that last changed it. Rows keep the
//! object's JSON as a shared slice (nothing is copied or parsed until a row is shown).
use super::rows::ObjectRow;
use crate::graph::replica::ObjectState;

#[derive(Clone, Debug)]
pub struct ReplicaRow {
    pub id: Box<str>,
    pub state: ObjectState,
    /// The last round that changed it.
    pub round: u32,
    pub row: ObjectRow,
}

/// A snapshot of the engine's replica, in id order.
#[derive(Clone, Debug, Default)]
pub struct ReplicaView {
    pub rows: Vec<ReplicaRow>,
    pub live: usize,
    pub soft_deleted: usize,
    pub hard_deleted: usize,
}

impl PartialEq for ReplicaView {
    fn eq(&self, other: &Self) -> bool {
        self.rows.len() == other.rows.len()
            && (self.live, self.soft_deleted, self.hard_deleted)
                == (other.live, other.soft_deleted, other.hard_deleted)
    }
}

/// The rows whose JSON, id or state holds `filter` (smart case: a capital letter matches
/// exactly, else ASCII case is ignored); all rows for an empty filter.
pub fn filter_rows(view: &ReplicaView, filter: &str) -> Vec<usize> {
    if filter.is_empty() {
        return (0..view.rows.len()).collect();
    }
    let exact = filter.chars().any(|c| c.is_ascii_uppercase()) || !filter.is_ascii();
    let needle = filter.as_bytes();
    let holds = |text: &str| {
        let hay = text.as_bytes();
        if exact {
            memchr::memmem::find(hay, needle).is_some()
        } else {
            hay.windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
        }
    };
    view.rows
        .iter()
        .enumerate()
        .filter(|(_, r)| holds(&r.id) || holds(r.state.as_str()) || holds(r.row.json.as_str()))
        .map(|(i, _)| i)
        .collect()
}
