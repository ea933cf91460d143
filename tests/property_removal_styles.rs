//! Random histories over the two ways Graph writes a deletion: `@removed` with a reason
//! (directory, Outlook, To Do: `changed` is a soft delete that may come back, `deleted` is for
//! good) and driveItem's `deleted` facet (never `@removed`). Each history is served as delta
//! rounds in that resource's own shape (its link spellings, random page sizes, an object more
//! than once in a round with its last occurrence the right one, removals of objects the client
//! never saw) and fed to the engine; after every round the replica must be exactly the model's
//! live objects with their last properties, and the round's removal counts must match.
//!
//! Pure engine (no network): the emulator-backed property tests (property_histories.rs,
//! property_users.rs, property_groups.rs) cover `@removed` over HTTP. `PROPTEST_CASES` sets the
//! number of histories (default 64).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use deltascope::graph::page::{Page, PageRequest, RequestKind};
use deltascope::graph::round::Session;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    /// `@removed` with a reason; `$skiptoken` / `$deltatoken` links.
    Removed,
    /// A `deleted` facet; `token=` links.
    Facet,
}

#[derive(Clone, Debug)]
enum Op {
    Create,
    /// Rename object #k (modulo the objects that exist).
    Update(usize, u16),
    /// Delete object #k; `soft`: restorable (`@removed` reason `changed`).
    Delete(usize, bool),
    /// Restore the soft-deleted (or, for drive items, the recycled) object #k.
    Restore(usize),
}

#[derive(Clone, Debug, PartialEq)]
enum State {
    Live,
    Soft,
    Gone,
}

#[derive(Clone, Debug)]
struct Obj {
    name: String,
    size: u64,
    state: State,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Create),
        4 => (any::<usize>(), any::<u16>()).prop_map(|(k, n)| Op::Update(k, n)),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(k, s)| Op::Delete(k, s)),
        1 => any::<usize>().prop_map(Op::Restore),
    ]
}

const ROOT: &str = "https://graph.microsoft.com/v1.0";

fn link(style: Style, next: bool, n: usize) -> String {
    match (style, next) {
        (Style::Removed, true) => {
            format!("{ROOT}/me/mailFolders/inbox/messages/delta?$skiptoken=s{n}")
        }
        (Style::Removed, false) => {
            format!("{ROOT}/me/mailFolders/inbox/messages/delta?$deltatoken=d{n}")
        }
        (Style::Facet, true) => format!("{ROOT}/me/drive/root/delta?token=n{n}"),
        (Style::Facet, false) => format!("{ROOT}/me/drive/root/delta?token=d{n}"),
    }
}

/// The item for object `id` in its current state, in the style's shape.
fn item(style: Style, id: &str, o: &Obj) -> Value {
    match (&o.state, style) {
        (State::Live, _) => json!({"id": id, "name": o.name, "size": o.size}),
        (State::Soft, Style::Removed) => json!({"id": id, "@removed": {"reason": "changed"}}),
        (State::Gone, Style::Removed) => json!({"id": id, "@removed": {"reason": "deleted"}}),
        // Drive items: deleted, recycled or not, the facet and what remains of the item.
        (_, Style::Facet) => json!({"id": id, "name": o.name, "deleted": {}}),
    }
}

struct History {
    style: Style,
    objs: BTreeMap<String, Obj>,
    next_id: usize,
}

impl History {
    fn apply(&mut self, op: &Op) -> Option<String> {
        let ids: Vec<String> = self.objs.keys().cloned().collect();
        let pick = |k: usize, want: &dyn Fn(&Obj) -> bool| {
            let ok: Vec<&String> = ids.iter().filter(|i| want(&self.objs[*i])).collect();
            (!ok.is_empty()).then(|| ok[k % ok.len()].clone())
        };
        match op {
            Op::Create => {
                let id = format!("o{:04}", self.next_id);
                self.next_id += 1;
                let size = self.next_id as u64 * 10;
                self.objs.insert(
                    id.clone(),
                    Obj {
                        name: format!("new {id}"),
                        size,
                        state: State::Live,
                    },
                );
                Some(id)
            }
            Op::Update(k, n) => {
                let id = pick(*k, &|o| o.state == State::Live)?;
                let o = self.objs.get_mut(&id).unwrap();
                o.name = format!("name {n}");
                o.size += 1;
                Some(id)
            }
            Op::Delete(k, soft) => {
                let id = pick(*k, &|o| o.state == State::Live)?;
                self.objs.get_mut(&id).unwrap().state =
                    if *soft { State::Soft } else { State::Gone };
                Some(id)
            }
            Op::Restore(k) => {
                // `@removed` changed may come back; a drive item comes back from the recycle bin.
                let style = self.style;
                let id = pick(*k, &|o| {
                    o.state == State::Soft || (style == Style::Facet && o.state == State::Gone)
                })?;
                self.objs.get_mut(&id).unwrap().state = State::Live;
                Some(id)
            }
        }
    }
}

/// Serves one round of `items` over pages of `sizes` (cycled) and feeds them to the session.
fn serve(s: &mut Session, style: Style, items: Vec<Value>, sizes: &[usize], round: usize) {
    let mut chunks: Vec<Vec<Value>> = Vec::new();
    let mut rest = items.as_slice();
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        chunks.push(rest[..n].to_vec());
        rest = &rest[n..];
        i += 1;
    }
    if chunks.is_empty() {
        chunks.push(Vec::new());
    }
    let last = chunks.len() - 1;
    for (n, chunk) in chunks.into_iter().enumerate() {
        let mut body = json!({"value": chunk});
        let key = if n == last {
            "@odata.deltaLink"
        } else {
            "@odata.nextLink"
        };
        body[key] = json!(link(style, n != last, round * 1000 + n));
        let req = s.next_request().unwrap();
        let page = Page::parse(req, serde_json::to_vec(&body).unwrap()).unwrap();
        let report = s.apply(&page);
        assert_eq!(report.round_complete, n == last);
    }
}

fn run(style: Style, initial: usize, rounds: Vec<Vec<Op>>, sizes: Vec<usize>, dup: usize) {
    let mut h = History {
        style,
        objs: BTreeMap::new(),
        next_id: 0,
    };
    for _ in 0..initial {
        h.apply(&Op::Create);
    }
    let first = PageRequest {
        url: match style {
            Style::Removed => format!("{ROOT}/me/mailFolders/inbox/messages/delta"),
            Style::Facet => format!("{ROOT}/me/drive/root/delta"),
        },
        headers: vec![],
        kind: RequestKind::Initial,
    };
    let mut s = Session::new(first);
    // Round 1: every live object, and a removal of an object the client never saw.
    let mut items: Vec<Value> = h.objs.iter().map(|(id, o)| item(style, id, o)).collect();
    let ghost = Obj {
        name: "ghost".into(),
        size: 0,
        state: State::Gone,
    };
    items.push(item(style, "never-seen", &ghost));
    serve(&mut s, style, items, &sizes, 0);
    check(&s, &h, 0);
    for (r, ops) in rounds.iter().enumerate() {
        let mut touched: Vec<String> = Vec::new();
        let mut earlier: Vec<Value> = Vec::new();
        for op in ops {
            let before = h.objs.clone();
            if let Some(id) = h.apply(op) {
                // Now and then the round also carries an object's earlier state first: the
                // last occurrence must win.
                if dup > 0
                    && touched.len().is_multiple_of(dup)
                    && let Some(o) = before.get(&id)
                {
                    earlier.push(item(style, &id, o));
                }
                touched.retain(|t| *t != id);
                touched.push(id);
            }
        }
        let mut items = earlier;
        items.extend(touched.iter().map(|id| item(style, id, &h.objs[id])));
        serve(&mut s, style, items, &sizes, r + 1);
        check(&s, &h, r + 1);
    }
}

fn check(s: &Session, h: &History, round: usize) {
    let live: BTreeMap<&str, &Obj> = h
        .objs
        .iter()
        .filter(|(_, o)| o.state == State::Live)
        .map(|(id, o)| (id.as_str(), o))
        .collect();
    let ids: Vec<&str> = s.replica().ids().collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        live.keys().copied().collect::<Vec<_>>(),
        "round {round}"
    );
    for (id, o) in &live {
        let got = s.replica().get(id).unwrap();
        assert_eq!(got.get("name"), Some(&json!(o.name)), "{id} round {round}");
        assert_eq!(got.get("size"), Some(&json!(o.size)), "{id} round {round}");
        assert!(got.get("deleted").is_none() && got.get("@removed").is_none());
    }
    let summary = &s.rounds()[round];
    assert!(summary.complete);
    if h.style == Style::Facet {
        assert_eq!(summary.removed_changed, 0, "a facet is never a soft delete");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn removed_with_a_reason_ends_in_the_models_replica(
        initial in 0usize..30,
        rounds in proptest::collection::vec(proptest::collection::vec(op(), 0..25), 1..6),
        sizes in proptest::collection::vec(1usize..12, 1..4),
        dup in 0usize..4,
    ) {
        run(Style::Removed, initial, rounds, sizes, dup);
    }

    #[test]
    fn a_deleted_facet_ends_in_the_models_replica(
        initial in 0usize..30,
        rounds in proptest::collection::vec(proptest::collection::vec(op(), 0..25), 1..6),
        sizes in proptest::collection::vec(1usize..12, 1..4),
        dup in 0usize..4,
    ) {
        run(Style::Facet, initial, rounds, sizes, dup);
    }
}
