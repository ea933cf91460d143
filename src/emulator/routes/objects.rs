//! `directoryObjects/delta`: several directory collections in one feed, each object with its
//! `@odata.type`, narrowed by `$filter=isof('microsoft.graph.user') or isof(...)`, with a
//! `$select` per type (`microsoft.graph.user/surname,microsoft.graph.group/displayName`), as
//! directoryobject-delta.md documents it.
//!
//! A round walks the types in [`TYPES`] order, each as its own resource would: a full round
//! every live object up to the type's size at the snapshot (`TokenState::ends`), a delta round
//! each type's changes in (position, end]. The cursor is (type << 48 | offset within the type).
//! Relationships (`members@delta`, `manager@delta`) are not written in this feed: said in the
//! README.
use super::*;
use crate::emulator::tenant::{Mask, bit};

/// The types the feed serves, in the order a round walks them.
pub(crate) const TYPES: [(Coll, &str); 8] = [
    (Coll::Users, "user"),
    (Coll::Groups, "group"),
    (Coll::Contacts, "orgContact"),
    (Coll::Applications, "application"),
    (Coll::ServicePrincipals, "servicePrincipal"),
    (Coll::Devices, "device"),
    (Coll::AdministrativeUnits, "administrativeUnit"),
    (Coll::DirectoryRoles, "directoryRole"),
];

const SHIFT: u32 = 48;
const OFFSET: u64 = (1 << SHIFT) - 1;

/// The type a name stands for: `microsoft.graph.user` or `#microsoft.graph.user` (any case).
fn type_of(name: &str) -> Option<usize> {
    let name = name.trim().trim_start_matches('#');
    let short = name
        .get(..16)
        .filter(|p| p.eq_ignore_ascii_case("microsoft.graph."))
        .map(|_| &name[16..])?;
    TYPES
        .iter()
        .position(|(_, t)| t.eq_ignore_ascii_case(short))
}

/// The positions in [`TYPES`] a frozen query walks.
fn active(f: &Frozen) -> Vec<usize> {
    (0..TYPES.len())
        .filter(|i| f.types == 0 || f.types & (1 << i) != 0)
        .collect()
}

/// Reads `$filter` of a directoryObjects query: `isof('microsoft.graph.T')` terms set
/// `types`, `id eq '…'` terms the ids, all joined by `or`; both kinds together give the
/// chosen ids of the chosen types (directoryobject-delta.md). False when there is no `isof`
/// term (the id filter every directory resource takes reads it).
pub(super) fn read_filter(v: &str, f: &mut Frozen) -> Result<bool, String> {
    let trimmed = v.trim();
    let body = trimmed
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(trimmed);
    if !body.to_ascii_lowercase().contains("isof(") {
        return Ok(false);
    }
    let mut types = 0u16;
    let mut ids = Vec::new();
    for term in split_or(body) {
        let term = term.trim();
        let isof = term
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("isof("))
            .and_then(|_| term[5..].strip_suffix(')'))
            .map(|s| s.trim().trim_matches('\''));
        match isof {
            Some(inner) => {
                let t = type_of(inner).ok_or_else(|| {
                    format!(
                        "The emulator's directoryObjects delta does not serve '{inner}' (it serves {}).",
                        TYPES
                            .iter()
                            .map(|(_, t)| format!("microsoft.graph.{t}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
                types |= 1 << t;
            }
            None => ids.extend(crate::emulator::request::parse_id_filter(term)?),
        }
    }
    if ids.len() + (types.count_ones() as usize) > MAX_FILTER_IDS {
        return Err(format!(
            "The $filter has more than {MAX_FILTER_IDS} expressions."
        ));
    }
    f.types = types;
    f.ids = ids;
    Ok(true)
}

/// The terms of a filter joined by ` or ` (outside quotes, any case).
fn split_or(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let (mut out, mut start, mut quoted, mut i) = (Vec::new(), 0, false, 0);
    while i < b.len() {
        if b[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted
            && b[i].is_ascii_whitespace()
            && b.get(i + 1..i + 4)
                .is_some_and(|w| w[..2].eq_ignore_ascii_case(b"or") && w[2].is_ascii_whitespace())
        {
            out.push(&s[start..i]);
            i += 4;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Reads `$select` of a directoryObjects query: `microsoft.graph.T/prop` for a type's
/// property, or a directoryObject property (`id`, `deletedDateTime`) for every type.
pub(super) fn read_select(v: &str, f: &mut Frozen) -> Result<(), String> {
    let mut sels: Vec<(u8, Mask)> = Vec::new();
    let mut add = |t: usize, i: usize| match sels.iter_mut().find(|(k, _)| *k as usize == t) {
        Some((_, m)) => *m |= bit(i),
        None => sels.push((t as u8, bit(i))),
    };
    for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if p.eq_ignore_ascii_case("id") {
            continue;
        }
        let not_found = |on: &str| {
            format!(
                "Parsing OData Select and Expand failed: Could not find a property named '{p}' on type '{on}'."
            )
        };
        match p.rsplit_once('/') {
            Some((cast, prop)) => {
                let t =
                    type_of(cast).ok_or_else(|| not_found("microsoft.graph.directoryObject"))?;
                let (c, name) = TYPES[t];
                let schema = c.schema();
                let i = schema
                    .index(prop)
                    .filter(|i| schema.lists(f.api()).exists & bit(*i) != 0)
                    .ok_or_else(|| not_found(&format!("microsoft.graph.{name}")))?;
                add(t, i);
            }
            None if p.eq_ignore_ascii_case("deletedDateTime") => {
                for (t, (c, _)) in TYPES.iter().enumerate() {
                    if let Some(i) = c.schema().index(p) {
                        add(t, i);
                    }
                }
            }
            None => return Err(not_found("microsoft.graph.directoryObject")),
        }
    }
    sels.sort_unstable();
    f.select = Some(0);
    f.type_sels = sels;
    Ok(())
}

/// The properties written for type `t`: its `$select`, or its default list.
fn sel_of(f: &Frozen, t: usize) -> Mask {
    let c = TYPES[t].0;
    match f.select {
        Some(_) => f
            .type_sels
            .iter()
            .find(|(k, _)| *k as usize == t)
            .map_or(0, |(_, m)| *m),
        None => c.schema().lists(f.api()).default,
    }
}

/// Each active type's size now (a full round's `ends`).
pub(super) fn ends_now(store: &Store, f: &Frozen) -> Vec<u64> {
    active(f)
        .into_iter()
        .map(|t| store.coll(TYPES[t].0).next)
        .collect()
}

/// Whether a directoryObjects token's sizes and cursor are ones this store can have issued.
pub(super) fn fits(store: &Store, st: &TokenState) -> bool {
    let types = active(&st.query);
    let (t, off) = ((st.cursor >> SHIFT) as usize, st.cursor & OFFSET);
    match st.kind {
        Kind::Initial => {
            st.ends.len() == types.len()
                && st
                    .ends
                    .iter()
                    .zip(&types)
                    .all(|(e, t)| *e <= store.coll(TYPES[*t].0).next)
                && (t < types.len() && off <= st.ends[t] || st.cursor == 0)
        }
        _ => t <= types.len(),
    }
}

/// Writes `item` (an object) with `@odata.type` first.
fn typed(t: usize, item: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(item.len() + 40);
    o.extend_from_slice(b"{\"@odata.type\":\"#microsoft.graph.");
    o.extend_from_slice(TYPES[t].1.as_bytes());
    o.push(b'"');
    match item.get(1..) {
        Some(rest) if rest.first() != Some(&b'}') => {
            o.push(b',');
            o.extend_from_slice(rest);
        }
        _ => o.push(b'}'),
    }
    o
}

/// One page of a directoryObjects round: (items, next cursor, items left after it).
pub(super) fn page(
    store: &mut Store,
    f: &Frozen,
    state: &TokenState,
    minimal: bool,
    size: usize,
) -> (Vec<Vec<u8>>, Option<u64>, usize) {
    let types = active(f);
    let mut items: Vec<Vec<u8>> = Vec::with_capacity(size);
    let (first, mut off) = ((state.cursor >> SHIFT) as usize, state.cursor & OFFSET);
    // The `$filter=id eq` ids of each type (None: no id filter).
    let ids_of = |store: &Store, c: Coll| -> Option<Vec<u64>> {
        (!f.ids.is_empty()).then(|| {
            let mut v: Vec<u64> = f
                .ids
                .iter()
                .filter_map(|id| store.index_of(c, id))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
    };
    for (k, &t) in types.iter().enumerate().skip(first) {
        let c = TYPES[t].0;
        let sel = sel_of(f, t);
        let ids = ids_of(store, c);
        if k > first {
            off = 0;
        }
        let mut buf = Vec::with_capacity(256);
        match state.kind {
            Kind::DeltaPage => {
                if ids.as_ref().is_some_and(|v| v.is_empty()) {
                    continue;
                }
                let list = store.changes(
                    c,
                    state.position,
                    state.end,
                    sel,
                    ids.as_deref().unwrap_or(&[]),
                    false,
                );
                let mut i = off as usize;
                while i < list.len() && items.len() < size {
                    buf.clear();
                    store.write_change(c, list[i], sel, minimal, &mut buf);
                    items.push(typed(t, &buf));
                    i += 1;
                }
                if items.len() >= size {
                    let left = list.len().saturating_sub(i);
                    return if i < list.len() {
                        (items, Some(((k as u64) << SHIFT) | i as u64), left)
                    } else if k + 1 < types.len() {
                        (items, Some((k as u64 + 1) << SHIFT), usize::MAX)
                    } else {
                        (items, None, 0)
                    };
                }
            }
            _ => {
                let end = state.ends.get(k).copied().unwrap_or(0);
                let coll = store.coll(c);
                let list: Vec<u64> = match &ids {
                    Some(v) => v
                        .iter()
                        .copied()
                        .filter(|i| *i >= off && *i < end)
                        .collect(),
                    None => Vec::new(),
                };
                let mut walk = |idx: u64, items: &mut Vec<Vec<u8>>| {
                    if coll.status(idx) == Status::Live {
                        buf.clear();
                        store.write_object(c, idx, Emit::Full { sel }, &mut buf);
                        items.push(typed(t, &buf));
                    }
                };
                let mut idx = off;
                if ids.is_some() {
                    for &i in &list {
                        if items.len() >= size {
                            idx = i;
                            break;
                        }
                        walk(i, &mut items);
                        idx = i + 1;
                    }
                    if items.len() >= size && list.last().is_some_and(|l| *l >= idx) {
                        return (items, Some(((k as u64) << SHIFT) | idx), usize::MAX);
                    }
                    idx = end;
                } else {
                    while idx < end && items.len() < size {
                        walk(idx, &mut items);
                        idx += 1;
                    }
                }
                if items.len() >= size {
                    return if idx < end {
                        let left = (end - idx) as usize;
                        (items, Some(((k as u64) << SHIFT) | idx), left)
                    } else if k + 1 < types.len() {
                        (items, Some((k as u64 + 1) << SHIFT), usize::MAX)
                    } else {
                        (items, None, 0)
                    };
                }
            }
        }
    }
    (items, None, 0)
}
