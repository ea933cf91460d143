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

/// The replica view's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplicaSort {
    #[default]
    Id,
    /// Live first, then soft-deleted, then deleted for good; by id within each.
    State,
    /// The most recently changed first; by id within a round.
    Round,
}

impl ReplicaSort {
    pub fn next(self) -> ReplicaSort {
        match self {
            ReplicaSort::Id => ReplicaSort::State,
            ReplicaSort::State => ReplicaSort::Round,
            ReplicaSort::Round => ReplicaSort::Id,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ReplicaSort::Id => "by id",
            ReplicaSort::State => "by state",
            ReplicaSort::Round => "by the round of the last change, newest first",
        }
    }
}

/// Puts the shown rows (indices into the id-ordered rows) in `sort`'s order.
pub fn sort_rows(view: &ReplicaView, shown: &mut [usize], sort: ReplicaSort) {
    match sort {
        ReplicaSort::Id => shown.sort_unstable(),
        ReplicaSort::State => shown.sort_unstable_by_key(|&i| (view.rows[i].state, i)),
        ReplicaSort::Round => shown
            .sort_unstable_by(|&a, &b| view.rows[b].round.cmp(&view.rows[a].round).then(a.cmp(&b))),
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
