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

impl Eq for ReplicaView {}

/// The replica view's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReplicaSort {
    #[default]
    Id,
    /// Live first, then soft-deleted, then deleted for good; by id within each.
    State,
    /// The most recently changed first; by id within a round.
    Round,
    /// By the value of a table column: numbers by value, then text (ASCII case ignored), then
    /// the objects without it; by id among equals.
    Column(String),
}

impl ReplicaSort {
    /// The next order `o` gives: id, state, round, then each of the table's `columns`.
    pub fn next(&self, columns: &[String]) -> ReplicaSort {
        match self {
            ReplicaSort::Id => ReplicaSort::State,
            ReplicaSort::State => ReplicaSort::Round,
            ReplicaSort::Round => columns
                .first()
                .map_or(ReplicaSort::Id, |c| ReplicaSort::Column(c.clone())),
            ReplicaSort::Column(c) => match columns.iter().position(|x| x == c) {
                Some(k) if k + 1 < columns.len() => ReplicaSort::Column(columns[k + 1].clone()),
                _ => ReplicaSort::Id,
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ReplicaSort::Id => "by id".into(),
            ReplicaSort::State => "by state".into(),
            ReplicaSort::Round => "by the round of the last change, newest first".into(),
            ReplicaSort::Column(c) => format!("by {c}"),
        }
    }
}

/// What the view shows of the replica: the rows holding `filter`, in `sort`'s order (reversed
/// with `reverse`). Worked out off the UI thread ([`arrange`]): a million rows take a while.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaOrder {
    pub filter: String,
    pub sort: ReplicaSort,
    pub reverse: bool,
}

impl ReplicaOrder {
    /// Every row in id order: nothing to work out.
    pub fn is_plain(&self) -> bool {
        self.filter.is_empty() && self.sort == ReplicaSort::Id && !self.reverse
    }

    pub fn describe(&self) -> String {
        let sort = self.sort.describe();
        if self.reverse {
            format!("{sort}, reversed")
        } else {
            sort
        }
    }
}

/// The rows `order` shows (indices into the id-ordered rows).
pub fn arrange(view: &ReplicaView, order: &ReplicaOrder) -> Vec<usize> {
    let mut shown = filter_rows(view, &order.filter);
    sort_rows(view, &mut shown, &order.sort);
    if order.reverse {
        shown.reverse();
    }
    shown
}

/// A column value as the sort compares it.
enum Key {
    Number(f64),
    Text(String),
    Missing,
}

/// Puts the shown rows (indices into the id-ordered rows) in `sort`'s order.
pub fn sort_rows(view: &ReplicaView, shown: &mut Vec<usize>, sort: &ReplicaSort) {
    match sort {
        ReplicaSort::Id => shown.sort_unstable(),
        ReplicaSort::State => shown.sort_unstable_by_key(|&i| (view.rows[i].state, i)),
        ReplicaSort::Round => shown
            .sort_unstable_by(|&a, &b| view.rows[b].round.cmp(&view.rows[a].round).then(a.cmp(&b))),
        ReplicaSort::Column(c) => {
            // The value the table shows, read once per row (each row's JSON is parsed for it:
            // the rows are split among the machine's cores).
            let key_of = |i: usize| {
                let key = match view.rows[i].row.shown().cell(c) {
                    None | Some("") | Some("null") => Key::Missing,
                    Some(v) => match v.parse::<f64>() {
                        Ok(n) if n.is_finite() => Key::Number(n),
                        _ => Key::Text(v.to_ascii_lowercase()),
                    },
                };
                (key, i)
            };
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
            let chunk = shown.len().div_ceil(threads).max(4096);
            let mut keyed: Vec<(Key, usize)> = std::thread::scope(|scope| {
                let parts: Vec<_> = shown
                    .chunks(chunk)
                    .map(|part| {
                        let job = scope.spawn(move || part.iter().map(|&i| key_of(i)).collect());
                        (part, job)
                    })
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|(part, job)| {
                        // A part whose thread failed is read here: no row is lost.
                        job.join()
                            .unwrap_or_else(|_| part.iter().map(|&i| key_of(i)).collect::<Vec<_>>())
                    })
                    .collect()
            });
            keyed.sort_unstable_by(|(ka, a), (kb, b)| {
                let rank = |k: &Key| match k {
                    Key::Number(_) => 0,
                    Key::Text(_) => 1,
                    Key::Missing => 2,
                };
                rank(ka)
                    .cmp(&rank(kb))
                    .then_with(|| match (ka, kb) {
                        (Key::Number(x), Key::Number(y)) => x.total_cmp(y),
                        (Key::Text(x), Key::Text(y)) => x.cmp(y),
                        _ => std::cmp::Ordering::Equal,
                    })
                    .then(a.cmp(b))
            });
            shown.clear();
            shown.extend(keyed.into_iter().map(|(_, i)| i));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn view(objects: &[(&str, &str)]) -> ReplicaView {
        ReplicaView {
            rows: objects
                .iter()
                .enumerate()
                .map(|(k, (id, json))| ReplicaRow {
                    id: (*id).into(),
                    state: if k == 1 {
                        ObjectState::SoftDeleted
                    } else {
                        ObjectState::Live
                    },
                    round: k as u32 % 3,
                    row: ObjectRow::from_json(*json, false, false),
                })
                .collect(),
            live: objects.len() - 1,
            soft_deleted: 1,
            hard_deleted: 0,
        }
    }

    fn ids(v: &ReplicaView, shown: &[usize]) -> Vec<String> {
        shown.iter().map(|&i| v.rows[i].id.to_string()).collect()
    }

    #[test]
    fn a_column_sorts_numbers_by_value_then_text_ignoring_case_then_the_objects_without_it() {
        let v = view(&[
            ("a", r#"{"id":"a","n":10,"name":"delta"}"#),
            ("b", r#"{"id":"b","n":9,"name":"Alpha"}"#),
            ("c", r#"{"id":"c","name":"charlie"}"#),
            ("d", r#"{"id":"d","n":"x","name":null}"#),
            ("e", r#"{"id":"e","n":-1.5,"name":"bravo"}"#),
        ]);
        let order = |sort: ReplicaSort, reverse: bool, filter: &str| ReplicaOrder {
            filter: filter.into(),
            sort,
            reverse,
        };
        let by_n = arrange(&v, &order(ReplicaSort::Column("n".into()), false, ""));
        assert_eq!(ids(&v, &by_n), ["e", "b", "a", "d", "c"]);
        let by_name = arrange(&v, &order(ReplicaSort::Column("name".into()), false, ""));
        assert_eq!(ids(&v, &by_name), ["b", "e", "c", "a", "d"]);
        let back = arrange(&v, &order(ReplicaSort::Column("name".into()), true, ""));
        assert_eq!(ids(&v, &back), ["d", "a", "c", "e", "b"]);
        let state = arrange(&v, &order(ReplicaSort::State, false, ""));
        assert_eq!(ids(&v, &state), ["a", "c", "d", "e", "b"]);
        let filtered = arrange(&v, &order(ReplicaSort::Column("n".into()), false, "ha"));
        assert_eq!(
            ids(&v, &filtered),
            ["b", "c"],
            "rows holding 'ha' (any case)"
        );
        assert!(order(ReplicaSort::Id, false, "").is_plain());
        assert!(!order(ReplicaSort::Id, true, "").is_plain());
    }

    #[test]
    fn o_steps_through_id_state_round_and_each_column() {
        let columns = ["displayName".to_owned(), "mail".to_owned()];
        let mut s = ReplicaSort::Id;
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(s.describe());
            s = s.next(&columns);
        }
        assert_eq!(
            seen,
            [
                "by id",
                "by state",
                "by the round of the last change, newest first",
                "by displayName",
                "by mail",
                "by id"
            ]
        );
        assert_eq!(ReplicaSort::Round.next(&[]), ReplicaSort::Id);
        assert_eq!(
            ReplicaSort::Column("gone".into()).next(&columns),
            ReplicaSort::Id
        );
    }
}
