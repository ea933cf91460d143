//! Groups: membership as `members@delta`, the slicing of large groups in full rounds, and the
//! membership changes of later rounds. The group objects themselves (properties, removals,
//! restores) use the same store and log as contacts; membership is kept beside them as sets of
//! user indexes, with every change logged (`MemberAdd` / `MemberRemove`) so that the membership
//! at any log position can be rebuilt by undoing the later entries.
//!
//! Wire format:
//! - Full round: every group once (its selected properties) with the first slice of its
//!   members (at most `member_slice` links); a group with more members appears again after all
//!   groups, with the same property values and the next slice of `members@delta`, until every
//!   member was sent (delta-query-groups.md, "Paging through members in a large group"). A group
//!   without members has no `members@delta` property.
//! - Members are tracked (`members@delta`) when `$select` is absent, when it names `members`, or
//!   with `$expand=members`, as the groups concept page documents.
//! - Later rounds: a group whose selected properties or (with `members` selected) membership
//!   changed appears once; `members@delta` then holds only the changes (removed links carry
//!   `"@removed": {"reason": "deleted"}`). A created or restored group comes back whole, its
//!   full member list as adds, unless it was live at the token's position (deleted and
//!   restored within the range): then its membership changes since the token.
//! - A replayed round (the `replay` fault) sends the earlier range's link changes first, then
//!   the later ones, so that applied in order they end in the current membership.
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::json::write_str;
use super::store::{Change, CtlError, Emit, LogEntry, Op, Status, Store, Target, page_window};
use super::tenant::{Coll, Mask};
use super::token::{Frozen, Kind, TokenState};

const G: Coll = Coll::Groups;

/// The items of a full round, (group, slice number), and each group's member list.
type FullRound = (Vec<(u64, usize)>, HashMap<u64, Vec<u64>>);

/// The `@odata.type` of a member link.
const USER_TYPE: &str = "#microsoft.graph.user";

/// One object of a later round for a group.
#[derive(Clone, Debug)]
struct GroupChange {
    idx: u64,
    /// Changed selected properties (Mask::MAX for a restore: every selected one).
    mask: Mask,
    /// Created or restored in the range: sent whole.
    fresh: bool,
    /// Live at the start of the range (its first lifecycle entry in the range is a soft
    /// delete): the client knows its members, so they come as the change since then even
    /// when it was deleted and restored in between.
    live_at_start: bool,
    /// A lifecycle entry (create, delete, restore) was seen in the range.
    lifecycle_seen: bool,
    /// Membership touched in the range (only tracked when `members` is selected).
    touched: bool,
    /// Soft- or hard-deleted in the range.
    removed: bool,
    adds: Vec<u64>,
    removes: Vec<u64>,
    /// A replayed round's link changes (user, removed), sent before `adds`/`removes`: the
    /// changes of the round before, again, then what changed since.
    replayed: Vec<(u64, bool)>,
}

/// One page of a groups round.
pub(crate) struct GroupPage {
    pub items: Vec<Vec<u8>>,
    pub next: Option<u64>,
    pub remaining_after_next: usize,
}

impl Store {
    /// The current members of group `g` (user indexes, sorted).
    pub fn members_now(&self, g: u64) -> BTreeSet<u64> {
        self.members.get(&g).cloned().unwrap_or_default()
    }

    /// The members of group `g` at log position `p` (the current set with the later changes
    /// undone).
    fn members_at(&self, g: u64, p: u64) -> BTreeSet<u64> {
        let mut set = self.members_now(g);
        let p = (p as usize).min(self.log.len());
        for e in self.log[p..].iter().rev() {
            if e.idx != g || !matches!(e.target, Target::Dir(Coll::Groups)) {
                continue;
            }
            match e.op {
                Op::MemberAdd => {
                    set.remove(&e.member);
                }
                Op::MemberRemove => {
                    set.insert(e.member);
                }
                _ => {}
            }
        }
        set
    }

    fn user_link(&self, u: u64, removed: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"@odata.type\":");
        write_str(out, USER_TYPE);
        out.extend_from_slice(b",\"id\":");
        write_str(out, &self.id_of(Coll::Users, u));
        if removed {
            out.extend_from_slice(b",\"@removed\":{\"reason\":\"deleted\"}");
        }
        out.push(b'}');
    }

    /// Appends `"members@delta": [...]` to the object just written at the end of `out`.
    fn append_members(
        &self,
        replayed: &[(u64, bool)],
        adds: &[u64],
        removes: &[u64],
        out: &mut Vec<u8>,
    ) {
        if out.last() == Some(&b'}') {
            out.pop();
        }
        if out.last() != Some(&b'{') {
            out.push(b',');
        }
        out.extend_from_slice(b"\"members@delta\":[");
        let mut first = true;
        for &(u, removed) in replayed {
            if !first {
                out.push(b',');
            }
            first = false;
            self.user_link(u, removed, out);
        }
        for (list, removed) in [(adds, false), (removes, true)] {
            for &u in list {
                if !first {
                    out.push(b',');
                }
                first = false;
                self.user_link(u, removed, out);
            }
        }
        out.extend_from_slice(b"]}");
    }

    /// The groups of a full round, in order: every group below `n` (or the filtered ones), then
    /// the further slices of the large ones. The list depends only on the token (not on later
    /// changes), so that a round's cursor stays valid across pages.
    fn full_round_items(
        &self,
        n: u64,
        p: u64,
        ids: Option<&[u64]>,
        with_members: bool,
    ) -> FullRound {
        let groups: Vec<u64> = match ids {
            Some(list) => list.iter().copied().filter(|i| *i < n).collect(),
            None => (0..n).collect(),
        };
        let mut items: Vec<(u64, usize)> = groups.iter().map(|g| (*g, 0)).collect();
        let mut lists = HashMap::new();
        if with_members {
            let slice = self.member_slice.max(1);
            for &g in &groups {
                let list: Vec<u64> = self.members_at(g, p).into_iter().collect();
                let slices = list.len().div_ceil(slice).max(1);
                for k in 1..slices {
                    items.push((g, k));
                }
                lists.insert(g, list);
            }
        }
        (items, lists)
    }

    fn write_full_item(
        &self,
        (g, k): (u64, usize),
        sel: Mask,
        lists: &HashMap<u64, Vec<u64>>,
        with_members: bool,
        out: &mut Vec<u8>,
    ) -> bool {
        if self.groups.status(g) != Status::Live {
            return false;
        }
        let slice = self.member_slice.max(1);
        let part = |list: &Vec<u64>| -> Vec<u64> {
            list.iter().skip(k * slice).take(slice).copied().collect()
        };
        // Every slice restates the group's properties, as Graph does ("the same property values
        // will be returned but the expanded members@delta property now contains a different
        // list of users", delta-query-groups.md); a group without members has no
        // `members@delta` at all ("TestGroup2 does not contain that property because the group
        // does not have any members").
        self.write_object(G, g, Emit::Full { sel }, out);
        if with_members {
            let members = lists.get(&g).map(part).unwrap_or_default();
            if !members.is_empty() {
                self.append_members(&[], &members, &[], out);
            }
        }
        true
    }

    /// The groups changed in (`from`, `to`], sorted by index: selected property updates,
    /// creates, removals, restores and (with `members` selected) net membership changes.
    fn group_changes(
        &self,
        from: u64,
        to: u64,
        sel: Mask,
        members: bool,
        ids: &[u64],
    ) -> Vec<GroupChange> {
        let to = to.min(self.pos());
        let from = from.min(to);
        let mut acc: HashMap<u64, GroupChange> = HashMap::new();
        for e in &self.log[from as usize..to as usize] {
            if !matches!(e.target, Target::Dir(Coll::Groups))
                || (!ids.is_empty() && ids.binary_search(&e.idx).is_err())
            {
                continue;
            }
            let member_op = matches!(e.op, Op::MemberAdd | Op::MemberRemove);
            if (e.op == Op::Update && e.mask & sel == 0) || (member_op && !members) {
                continue;
            }
            let a = acc.entry(e.idx).or_insert(GroupChange {
                idx: e.idx,
                mask: 0,
                fresh: false,
                live_at_start: false,
                lifecycle_seen: false,
                touched: false,
                removed: false,
                adds: Vec::new(),
                removes: Vec::new(),
                replayed: Vec::new(),
            });
            if matches!(
                e.op,
                Op::Create | Op::Restore | Op::SoftDelete | Op::HardDelete
            ) && !a.lifecycle_seen
            {
                a.lifecycle_seen = true;
                a.live_at_start = e.op == Op::SoftDelete;
            }
            match e.op {
                Op::Update => a.mask |= e.mask,
                Op::Create => a.fresh = true,
                Op::Restore => {
                    a.mask = Mask::MAX;
                    a.fresh = true;
                }
                Op::MemberAdd | Op::MemberRemove => a.touched = true,
                Op::SoftDelete | Op::HardDelete => a.removed = true,
                _ => {}
            }
        }
        // Everything here depends on the log range only (not on the current state), so that the
        // list, and the cursor into it, stay the same on every page of the round.
        let mut list: Vec<GroupChange> = acc
            .into_values()
            .filter_map(|mut ch| {
                if members && (ch.fresh || ch.touched) {
                    let now: BTreeSet<u64> = self.members_at(ch.idx, to);
                    if ch.fresh && !ch.live_at_start {
                        ch.adds = now.into_iter().collect();
                    } else {
                        let before = self.members_at(ch.idx, from);
                        ch.adds = now.difference(&before).copied().collect();
                        ch.removes = before.difference(&now).copied().collect();
                        // Joined and left again: no change to show.
                        if ch.adds.is_empty()
                            && ch.removes.is_empty()
                            && ch.mask == 0
                            && !ch.removed
                        {
                            return None;
                        }
                    }
                }
                Some(ch)
            })
            .collect();
        list.sort_by_key(|ch| ch.idx);
        list
    }

    /// The changes of a replayed round: the client is at `client_at` but the round re-sends
    /// the changes since `from` too. Each group comes once: a group changed in both parts
    /// carries the earlier part's link changes first, then the later part's (applied in order,
    /// they end in the current membership); a group that is new to the client (created or
    /// restored since `client_at`) comes whole, without the earlier part's changes.
    fn replayed_group_changes(
        &self,
        from: u64,
        client_at: u64,
        to: u64,
        sel: Mask,
        members: bool,
        ids: &[u64],
    ) -> Vec<GroupChange> {
        let earlier = self.group_changes(from, client_at, sel, members, ids);
        let later = self.group_changes(client_at, to, sel, members, ids);
        let mut by_idx: std::collections::BTreeMap<u64, GroupChange> = earlier
            .into_iter()
            .map(|mut ch| {
                // Earlier link changes go out as a replay of what was sent then.
                let mut links: Vec<(u64, bool)> = ch.adds.iter().map(|&u| (u, false)).collect();
                links.extend(ch.removes.iter().map(|&u| (u, true)));
                ch.replayed = links;
                ch.adds.clear();
                ch.removes.clear();
                (ch.idx, ch)
            })
            .collect();
        for ch in later {
            match by_idx.remove(&ch.idx) {
                Some(old) if !ch.fresh || ch.live_at_start => {
                    let merged = GroupChange {
                        mask: old.mask | ch.mask,
                        fresh: old.fresh || ch.fresh,
                        touched: old.touched || ch.touched,
                        removed: old.removed || ch.removed,
                        replayed: old.replayed,
                        ..ch
                    };
                    by_idx.insert(merged.idx, merged);
                }
                _ => {
                    by_idx.insert(ch.idx, ch);
                }
            }
        }
        by_idx.into_values().collect()
    }

    fn write_group_change(
        &self,
        ch: &GroupChange,
        sel: Mask,
        members: bool,
        minimal: bool,
        out: &mut Vec<u8>,
    ) {
        // The group itself as any directory object's change; then its link changes.
        let change = Change {
            idx: ch.idx,
            mask: ch.mask,
            fresh: ch.fresh,
            links: false,
        };
        self.write_change(G, change, sel, minimal, out);
        // Only link changes make a `members@delta` (a created group without members has none).
        if self.groups.status(ch.idx) == Status::Live
            && members
            && (!ch.adds.is_empty() || !ch.removes.is_empty() || !ch.replayed.is_empty())
        {
            self.append_members(&ch.replayed, &ch.adds, &ch.removes, out);
        }
    }

    /// One page of a groups round (full or later) at `state`, `size` items at most.
    pub(crate) fn group_page(
        &self,
        f: &Frozen,
        state: &TokenState,
        minimal: bool,
        size: usize,
    ) -> GroupPage {
        let sel = f.select.unwrap_or(G.schema().lists(f.api()).default);
        let ids: Option<Vec<u64>> = (!f.ids.is_empty()).then(|| {
            let mut v: Vec<u64> = f.ids.iter().filter_map(|id| self.index_of(G, id)).collect();
            v.sort_unstable();
            v.dedup();
            v
        });
        let mut items: Vec<Vec<u8>> = Vec::with_capacity(size + 3);
        let (next, remaining_after_next) = match state.kind {
            Kind::DeltaPage => {
                if ids.as_ref().is_some_and(|v| v.is_empty()) {
                    return GroupPage {
                        items,
                        next: None,
                        remaining_after_next: 0,
                    };
                }
                let ids = ids.as_deref().unwrap_or(&[]);
                let list = match state.previous_position {
                    // The replay fault: the round starts before the client's position.
                    Some(client_at) if client_at > state.position && client_at < state.end => self
                        .replayed_group_changes(
                            state.position,
                            client_at,
                            state.end,
                            sel,
                            f.members,
                            ids,
                        ),
                    _ => self.group_changes(state.position, state.end, sel, f.members, ids),
                };
                let refs: Vec<&GroupChange> = list.iter().collect();
                page_window(&refs, state.cursor, state.duplicate_from, size, |ch| {
                    let mut o = Vec::with_capacity(256);
                    self.write_group_change(ch, sel, f.members, minimal, &mut o);
                    items.push(o);
                })
            }
            _ => {
                let (list, lists) =
                    self.full_round_items(state.end, state.position, ids.as_deref(), f.members);
                page_window(&list, state.cursor, state.duplicate_from, size, |it| {
                    let mut o = Vec::with_capacity(320);
                    if self.write_full_item(it, sel, &lists, f.members, &mut o) {
                        items.push(o);
                    }
                })
            }
        };
        GroupPage {
            items,
            next,
            remaining_after_next,
        }
    }

    // ----- control -------------------------------------------------------------------------

    /// Creates a group; `members` (user ids) in the body become its first members.
    pub fn create_group(
        &mut self,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let mut body = body.clone();
        let members = match body.remove("members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                let mut v = Vec::new();
                for m in &a {
                    let id = m
                        .as_str()
                        .or_else(|| m.get("id").and_then(Value::as_str))
                        .ok_or_else(|| {
                            CtlError::BadRequest("members must be a list of user ids".into())
                        })?;
                    v.push(self.live_user(id)?);
                }
                v
            }
            Some(_) => {
                return Err(CtlError::BadRequest(
                    "members must be a list of user ids".into(),
                ));
            }
        };
        body.remove("owners");
        let idx = self.groups.next;
        self.create(G, &body, now)?;
        self.members.insert(idx, members.into_iter().collect());
        Ok(self.group_json(idx))
    }

    fn live_user(&self, id: &str) -> Result<u64, CtlError> {
        let u = self
            .index_of(Coll::Users, id)
            .ok_or_else(|| CtlError::NotFound(format!("no user with id {id}")))?;
        if self.users.status(u) != Status::Live {
            return Err(CtlError::NotFound(format!("user {id} was deleted")));
        }
        Ok(u)
    }

    /// A group as the control API shows it: all properties, status, member count.
    pub fn group_json(&self, idx: u64) -> Value {
        let mut v = self.object_json(G, idx);
        if let Some(m) = v.as_object_mut() {
            m.insert(
                "@emulator.memberCount".into(),
                json!(self.members.get(&idx).map_or(0, BTreeSet::len)),
            );
        }
        v
    }

    pub fn get_group(&self, id: &str) -> Result<Value, CtlError> {
        self.get(G, id)?;
        let idx = self.index_of(G, id).unwrap_or(0);
        Ok(self.group_json(idx))
    }

    /// The member ids of a group (live or soft-deleted).
    pub fn group_member_ids(&self, id: &str) -> Result<Vec<String>, CtlError> {
        self.get(G, id)?;
        let idx = self.index_of(G, id).unwrap_or(0);
        Ok(self
            .members_now(idx)
            .into_iter()
            .map(|u| self.id_of(Coll::Users, u))
            .collect())
    }

    pub(crate) fn push_member_log(&mut self, g: u64, u: u64, op: Op, now: DateTime<Utc>) {
        self.log.push(LogEntry {
            target: Target::Dir(G),
            idx: g,
            op,
            mask: 0,
            member: u,
            at: now,
        });
    }

    /// Adds user `user` to group `id` (which must be live).
    pub fn add_member(
        &mut self,
        id: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let g = self.live_index(G, id)?;
        let u = self.live_user(user)?;
        if !self.members.entry(g).or_default().insert(u) {
            return Err(CtlError::Conflict(format!(
                "{user} is already a member of {id}"
            )));
        }
        self.push_member_log(g, u, Op::MemberAdd, now);
        Ok(json!({"group": id, "member": user, "memberCount": self.members[&g].len()}))
    }

    /// Removes user `user` from group `id` (which must be live).
    pub fn remove_member(
        &mut self,
        id: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let g = self.live_index(G, id)?;
        let u = self
            .index_of(Coll::Users, user)
            .ok_or_else(|| CtlError::NotFound(format!("no user with id {user}")))?;
        if !self.members.entry(g).or_default().remove(&u) {
            return Err(CtlError::NotFound(format!(
                "{user} is not a member of {id}"
            )));
        }
        self.push_member_log(g, u, Op::MemberRemove, now);
        Ok(json!({"group": id, "removed": user, "memberCount": self.members[&g].len()}))
    }

    /// `n` random realistic group changes: mostly members joining and leaving, some
    /// description and visibility edits, now and then a soft delete or a restore.
    pub fn mutate_groups(&mut self, n: u64, now: DateTime<Utc>) -> Value {
        let mut counts = [0u64; 5];
        for _ in 0..n {
            let roll = self.grng.below(100);
            let kind = match roll {
                0..=39 => 0,
                40..=74 => 1,
                75..=94 => 2,
                _ => 3,
            };
            if let Some(k) = self.mutate_group(kind, now) {
                counts[k] += 1;
            }
        }
        json!({
            "membersAdded": counts[0], "membersRemoved": counts[1], "updated": counts[2],
            "softDeleted": counts[3], "restored": counts[4], "position": self.pos(),
        })
    }

    fn random_live_group(&mut self) -> Option<u64> {
        let n = self.groups.next;
        for _ in 0..16 {
            let g = self.grng.below(n);
            if self.groups.status(g) == Status::Live {
                return Some(g);
            }
        }
        None
    }

    /// One group change of `kind` (0 add, 1 remove, 2 update, 3 delete or restore); the kind
    /// actually made, if any.
    fn mutate_group(&mut self, kind: usize, now: DateTime<Utc>) -> Option<usize> {
        if kind == 3 {
            let soft = &self.groups.soft;
            if !soft.is_empty() {
                let g = soft[self.grng.below(soft.len() as u64) as usize];
                let id = self.id_of(G, g);
                return self.restore(G, &id, now).ok().map(|_| 4);
            }
            // Keep "All Company" (group 0) alive.
            let g = self.random_live_group().filter(|g| *g != 0)?;
            let id = self.id_of(G, g);
            return self.delete(G, &id, false, now).ok().map(|_| 3);
        }
        let g = self.random_live_group()?;
        let id = self.id_of(G, g);
        // Borrowed, not cloned: "All Company" holds every user.
        let members = self.members.get(&g);
        let count = members.map_or(0, BTreeSet::len);
        let users = self.users.next;
        match kind {
            0 | 1 if kind == 1 && count > 0 => {
                let pick = self.grng.below(count as u64) as usize;
                let u = *members?.iter().nth(pick)?;
                let user = self.id_of(Coll::Users, u);
                self.remove_member(&id, &user, now).ok().map(|_| 1)
            }
            0 | 1 => {
                for _ in 0..16 {
                    let u = self.grng.below(users);
                    let member = members.is_some_and(|m| m.contains(&u));
                    if !member && self.users.status(u) == Status::Live {
                        let user = self.id_of(Coll::Users, u);
                        return self.add_member(&id, &user, now).ok().map(|_| 0);
                    }
                }
                None
            }
            _ => {
                let r = self.grng.next_u64();
                let mut body = Map::new();
                let name = self
                    .get(G, &id)
                    .ok()
                    .and_then(|v| v["displayName"].as_str().map(str::to_string))
                    .unwrap_or_default();
                const NOTES: &[&str] = &[
                    "weekly sync on Tuesdays",
                    "see the pinned channel for onboarding",
                    "owners review membership each quarter",
                    "shared mailbox and calendar",
                    "archived projects moved to the Records site",
                ];
                body.insert(
                    "description".into(),
                    json!(format!(
                        "{name}: {}.",
                        NOTES[(r % NOTES.len() as u64) as usize]
                    )),
                );
                self.update(G, &id, &body, now).ok().map(|_| 2)
            }
        }
    }

    /// The generated group with the most members (for samples and tests).
    pub fn largest_group(&self) -> Option<u64> {
        (0..self.groups.base)
            .max_by_key(|g| (self.members.get(g).map_or(0, BTreeSet::len), u64::MAX - g))
    }
}
