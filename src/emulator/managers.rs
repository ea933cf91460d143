//! Users' managers: the demo tenant's org chart, the control operations that change it, and how
//! a users delta writes it as `manager@delta`.
//!
//! The org chart: user 0 heads the tenant; every other generated user reports to user
//! `(u - 1) / 5` (a span of five), except a few top-level ones (about one in twenty-five:
//! board members, service accounts) with no manager. Users created while running have none
//! until one is set. Deleting a user takes it away as the manager of its direct reports (each
//! logged, so their next users delta shows the link removed); a soft-deleted one keeps them aside
//! and a restore makes it their manager again where they still have none.
//!
//! Wire format (microsoft/api-guidelines graph/patterns/change-tracking.md, "Get changes for the
//! users entity set", the only documented `manager@delta` body; delta-query-overview.md:
//! "`$select` also supports **manager** … Selecting those properties allows tracking of changes
//! to user's manager"; the link shape of a removed one as in delta-query-groups.md's
//! `members@delta`):
//! - only when `$select` names `manager`;
//! - full round: a user with a manager carries `"manager@delta": [{"@odata.type":
//!   "#microsoft.graph.user", "id": managerId}]`; one without has no `manager@delta`;
//! - later rounds (default and minimal alike): `manager@delta` only on a user whose manager
//!   changed in the range (or that was created or restored in it): the new manager, or, when it
//!   has none any more, the one it had with `"@removed": {"reason": "deleted"}`.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::json::write_str;
use super::store::{Change, CtlError, LogEntry, NO_MANAGER, Op, Status, Store, Target};
use super::tenant::{Coll, h3};

const U: Coll = Coll::Users;

/// Direct reports per manager in the generated org chart.
const SPAN: u64 = 5;

/// The `@odata.type` of a manager link.
const USER_TYPE: &str = "#microsoft.graph.user";

/// The generated manager of user `u` in a tenant whose first `base` users are generated.
pub(crate) fn generated_manager(seed: u64, u: u64, base: u64) -> Option<u64> {
    if u == 0 || u >= base || h3(seed, 0x3A, u).is_multiple_of(25) {
        return None;
    }
    Some((u - 1) / SPAN)
}

impl Store {
    /// The manager of user `u` before log position `p` (its entries below `p` applied).
    pub(crate) fn manager_at(&self, u: u64, p: u64) -> Option<u64> {
        match self.manager_history.get(&u) {
            Some(h) => {
                let k = h.partition_point(|(at, _)| *at < p);
                match k.checked_sub(1).and_then(|k| h.get(k)) {
                    Some((_, m)) => *m,
                    None => generated_manager(self.seed, u, self.users.base),
                }
            }
            None => generated_manager(self.seed, u, self.users.base),
        }
    }

    pub(crate) fn manager_now(&self, u: u64) -> Option<u64> {
        self.manager_at(u, u64::MAX)
    }

    /// The users (not hard-deleted) whose manager is `m` now.
    fn reports_of(&self, m: u64) -> Vec<u64> {
        let first = m.saturating_mul(SPAN).saturating_add(1);
        let generated = (first..first.saturating_add(SPAN).min(self.users.base))
            .filter(|u| !self.manager_history.contains_key(u));
        let changed = self.set_reports.get(&m).into_iter().flatten().copied();
        let mut out: Vec<u64> = generated
            .chain(changed)
            .filter(|&u| {
                self.users.status(u) != Status::HardDeleted && self.manager_now(u) == Some(m)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Sets (or, `None`, clears) user `u`'s manager and logs it; nothing when it is the same.
    fn log_manager(&mut self, u: u64, m: Option<u64>, now: DateTime<Utc>) -> bool {
        if self.manager_now(u) == m {
            return false;
        }
        if let Some(old) = self.manager_now(u)
            && let Some(set) = self.set_reports.get_mut(&old)
        {
            set.remove(&u);
            if set.is_empty() {
                self.set_reports.remove(&old);
            }
        }
        if let Some(new) = m {
            self.set_reports.entry(new).or_default().insert(u);
        }
        let at = self.pos();
        self.manager_history.entry(u).or_default().push((at, m));
        self.log.push(LogEntry {
            target: Target::Dir(U),
            idx: u,
            op: Op::ManagerChange,
            mask: 0,
            member: m.unwrap_or(NO_MANAGER),
            at: now,
        });
        true
    }

    /// Whether making `m` the manager of `u` would close a cycle: `m` is `u` or reports to `u`,
    /// directly or through others. The walk up from `m` stops at a top-level user, and after
    /// as many steps as there are users (the chart has no cycle to start with).
    pub(crate) fn would_cycle(&self, u: u64, m: u64) -> bool {
        let mut cur = Some(m);
        let mut steps = 0u64;
        while let Some(x) = cur {
            if x == u {
                return true;
            }
            steps += 1;
            if steps > self.users.next {
                return true;
            }
            cur = self.manager_now(x);
        }
        false
    }

    /// A user of the control API: 404 when unknown or hard-deleted, 409 when soft-deleted.
    fn user_for_manager(&self, id: &str) -> Result<u64, CtlError> {
        self.live_index(U, id)
    }

    /// The manager reply of the control API for user `u`.
    fn manager_reply(&self, u: u64, changed: bool) -> Value {
        json!({
            "id": self.id_of(U, u),
            "manager": self.manager_now(u).map(|m| self.id_of(U, m)),
            "changed": changed,
        })
    }

    /// User `id`'s manager: `{"id": managerId}` (404 when it has none).
    pub fn get_manager(&self, id: &str) -> Result<Value, CtlError> {
        let u = self
            .index_of(U, id)
            .ok_or_else(|| CtlError::NotFound(format!("no user with id {id}")))?;
        match self.manager_now(u) {
            Some(m) => Ok(json!({"@odata.type": USER_TYPE, "id": self.id_of(U, m)})),
            None => Err(CtlError::NotFound(format!("user {id} has no manager"))),
        }
    }

    /// Makes user `manager` the manager of user `id` (400 for an unknown or deleted manager, a
    /// user managing itself, or a manager who reports to `id` directly or through others, which
    /// would make a cycle; 404 for an unknown user, 409 for a soft-deleted one).
    pub fn set_manager(
        &mut self,
        id: &str,
        manager: &str,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let u = self.user_for_manager(id)?;
        let m = self
            .index_of(U, manager)
            .ok_or_else(|| CtlError::BadRequest(format!("no user with id {manager}")))?;
        if m == u {
            return Err(CtlError::BadRequest(format!(
                "user {id} cannot be its own manager"
            )));
        }
        if self.users.status(m) != Status::Live {
            return Err(CtlError::BadRequest(format!(
                "user {manager} was deleted and cannot be a manager"
            )));
        }
        if self.would_cycle(u, m) {
            return Err(CtlError::BadRequest(format!(
                "user {manager} reports to user {id} (directly or through others): making it \
                 {id}'s manager would make a management cycle"
            )));
        }
        let changed = self.log_manager(u, Some(m), now);
        Ok(self.manager_reply(u, changed))
    }

    /// Takes user `id`'s manager away (404 when it has none).
    pub fn remove_manager(&mut self, id: &str, now: DateTime<Utc>) -> Result<Value, CtlError> {
        let u = self.user_for_manager(id)?;
        if self.manager_now(u).is_none() {
            return Err(CtlError::NotFound(format!("user {id} has no manager")));
        }
        let changed = self.log_manager(u, None, now);
        Ok(self.manager_reply(u, changed))
    }

    /// User `u` is deleted: its direct reports lose it as their manager (kept aside for a
    /// restore when the deletion is soft). Returns how many.
    pub(crate) fn drop_reports(&mut self, u: u64, permanent: bool, now: DateTime<Utc>) -> usize {
        let reports = self.reports_of(u);
        for &r in &reports {
            self.log_manager(r, None, now);
        }
        let n = reports.len();
        if permanent {
            self.suspended_reports.remove(&u);
        } else {
            self.suspended_reports.insert(u, reports);
        }
        n
    }

    /// User `u` is restored: the reports it lost get it back where they have no manager now.
    pub(crate) fn regain_reports(&mut self, u: u64, now: DateTime<Utc>) -> usize {
        let reports = self.suspended_reports.remove(&u).unwrap_or_default();
        let mut n = 0;
        for r in reports {
            // Not when the report has meanwhile become one of `u`'s managers: a cycle.
            if self.users.status(r) != Status::HardDeleted
                && self.manager_now(r).is_none()
                && !self.would_cycle(r, u)
                && self.log_manager(r, Some(u), now)
            {
                n += 1;
            }
        }
        n
    }

    /// A random manager change for a live user `u`: mostly a new manager (a live user other
    /// than `u` who does not report to `u`, so no cycle), now and then none. Whether a change
    /// was made.
    pub(crate) fn mutate_manager(&mut self, u: u64, now: DateTime<Utc>) -> bool {
        let r = self.urng.next_u64();
        if r.is_multiple_of(5) {
            return self.manager_now(u).is_some() && self.log_manager(u, None, now);
        }
        let n = self.users.next;
        for k in 0..8u64 {
            let m = (r >> 8).wrapping_add(k.wrapping_mul(0x9E37)) % n.max(1);
            if self.users.status(m) == Status::Live && !self.would_cycle(u, m) {
                return self.log_manager(u, Some(m), now);
            }
        }
        false
    }

    fn manager_link(&self, m: u64, removed: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"@odata.type\":");
        write_str(out, USER_TYPE);
        out.extend_from_slice(b",\"id\":");
        write_str(out, &self.id_of(U, m));
        if removed {
            out.extend_from_slice(b",\"@removed\":{\"reason\":\"deleted\"}");
        }
        out.push(b'}');
    }

    /// Appends `"manager@delta": [link]` to the object just written at the end of `out`.
    fn append_manager(&self, m: u64, removed: bool, out: &mut Vec<u8>) {
        if out.last() == Some(&b'}') {
            out.pop();
        }
        if out.last() != Some(&b'{') {
            out.push(b',');
        }
        out.extend_from_slice(b"\"manager@delta\":[");
        self.manager_link(m, removed, out);
        out.extend_from_slice(b"]}");
    }

    /// A full round's user `u` (just written to `out`): its current manager, if any.
    pub(crate) fn append_current_manager(&self, u: u64, out: &mut Vec<u8>) {
        if let Some(m) = self.manager_now(u) {
            self.append_manager(m, false, out);
        }
    }

    /// A later round's user change over (`from`, `to`] (just written to `out`): when its
    /// manager changed (or it was created or restored), the manager at `to`, or the one it had
    /// last in the range, removed.
    pub(crate) fn append_manager_change(&self, ch: Change, from: u64, to: u64, out: &mut Vec<u8>) {
        if self.users.status(ch.idx) != Status::Live || !(ch.links || ch.fresh) {
            return;
        }
        if let Some(m) = self.manager_at(ch.idx, to) {
            self.append_manager(m, false, out);
            return;
        }
        // None now: the last manager it had in the range, or at its start.
        let in_range = self.manager_history.get(&ch.idx).and_then(|h| {
            h.iter()
                .rev()
                .filter(|(at, _)| *at >= from && *at < to)
                .find_map(|(_, m)| *m)
        });
        if let Some(m) = in_range.or_else(|| self.manager_at(ch.idx, from)) {
            self.append_manager(m, true, out);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_org_chart_has_a_head_and_few_top_level_users() {
        let base = 1000;
        assert_eq!(generated_manager(7, 0, base), None);
        let none = (0..base)
            .filter(|u| generated_manager(7, *u, base).is_none())
            .count();
        assert!((2..100).contains(&none), "{none}");
        for u in 1..base {
            if let Some(m) = generated_manager(7, u, base) {
                assert!(m < u, "a manager comes before its reports");
            }
        }
        assert_eq!(generated_manager(7, base, base), None);
    }

    #[test]
    fn manager_history_answers_at_every_position() {
        let now = Utc::now();
        let mut s = Store::new(3, 0, 30, 0, 0, now);
        let u = (1..30)
            .find(|u| generated_manager(3, *u, 30).is_some())
            .unwrap();
        let before = s.manager_now(u);
        let id = s.id_of(U, u);
        let other = s.id_of(U, 29 - (u == 29) as u64);
        let p0 = s.pos();
        s.set_manager(&id, &other, now).unwrap();
        let p1 = s.pos();
        s.remove_manager(&id, now).unwrap();
        assert_eq!(s.manager_at(u, p0), before);
        assert_eq!(s.manager_at(u, p1), s.index_of(U, &other));
        assert_eq!(s.manager_now(u), None);
        assert!(matches!(
            s.remove_manager(&id, now),
            Err(CtlError::NotFound(_))
        ));
        assert!(matches!(
            s.set_manager(&id, &id, now),
            Err(CtlError::BadRequest(_))
        ));
    }

    #[test]
    fn a_deleted_manager_loses_its_reports_and_a_restored_one_gets_them_back() {
        let now = Utc::now();
        let mut s = Store::new(5, 0, 40, 0, 0, now);
        // Manager 1: its generated reports and one set through the control API.
        let generated: Vec<u64> = (2..40)
            .filter(|u| generated_manager(5, *u, 40) == Some(1))
            .collect();
        assert!(!generated.is_empty());
        let moved = (2..40)
            .find(|u| generated_manager(5, *u, 40) != Some(1) && *u != 1)
            .unwrap();
        let (m_id, moved_id) = (s.id_of(U, 1), s.id_of(U, moved));
        s.set_manager(&moved_id, &m_id, now).unwrap();
        let mut all = generated.clone();
        all.push(moved);
        all.sort_unstable();
        assert_eq!(s.reports_of(1), all);
        let out = s.delete_user(&m_id, false, now).unwrap();
        assert_eq!(out["lostReports"], all.len());
        assert!(all.iter().all(|u| s.manager_now(*u).is_none()));
        assert!(s.reports_of(1).is_empty());
        // One of them gets another manager meanwhile: it keeps it on the restore.
        let other = s.id_of(U, 0);
        s.set_manager(&moved_id, &other, now).unwrap();
        let out = s.restore_user(&m_id, now).unwrap();
        assert_eq!(out["@emulator.regainedReports"], generated.len());
        assert_eq!(s.reports_of(1), generated);
        assert_eq!(s.manager_now(moved), Some(0));
        // A permanent deletion: gone for good.
        s.delete_user(&m_id, true, now).unwrap();
        assert!(generated.iter().all(|u| s.manager_now(*u).is_none()));
    }

    /// Whether following managers up from any user ever comes back to one already seen.
    fn has_cycle(s: &Store) -> Option<u64> {
        (0..s.users.next).find(|&u| {
            let mut seen = std::collections::HashSet::new();
            let mut cur = Some(u);
            while let Some(x) = cur {
                if !seen.insert(x) {
                    return true;
                }
                cur = s.manager_now(x);
            }
            false
        })
    }

    #[test]
    fn a_manager_who_reports_to_the_user_is_refused() {
        let now = Utc::now();
        let mut s = Store::new(9, 0, 60, 0, 0, now);
        // A chain a <- b <- c <- d (each managed by the previous), set through the API.
        let created: Vec<String> = (0..4)
            .map(|_| {
                let v = s.create(U, &serde_json::Map::new(), now).unwrap();
                v["id"].as_str().unwrap().to_string()
            })
            .collect();
        let [a, b, c, d] = [&created[0], &created[1], &created[2], &created[3]];
        s.set_manager(b, a, now).unwrap();
        s.set_manager(c, b, now).unwrap();
        s.set_manager(d, c, now).unwrap();
        let before = s.pos();
        for (user, manager) in [(a, a), (a, b), (b, c), (a, d), (b, d)] {
            match s.set_manager(user, manager, now) {
                Err(CtlError::BadRequest(m)) => assert!(m.contains(user.as_str()), "{m}"),
                other => panic!("{user} <- {manager}: {other:?}"),
            }
        }
        assert_eq!(s.pos(), before, "a refused change logs nothing");
        // Not a cycle: a manager from another branch, or one further up.
        s.set_manager(d, a, now).unwrap();
        assert!(has_cycle(&s).is_none());
    }

    #[test]
    fn a_restored_manager_does_not_take_back_a_report_that_now_manages_it() {
        let now = Utc::now();
        let mut s = Store::new(9, 0, 60, 0, 0, now);
        let ids: Vec<String> = (0..3)
            .map(|_| {
                let v = s.create(U, &serde_json::Map::new(), now).unwrap();
                v["id"].as_str().unwrap().to_string()
            })
            .collect();
        let (top, mid, low) = (&ids[0], &ids[1], &ids[2]);
        s.set_manager(mid, top, now).unwrap();
        s.set_manager(low, mid, now).unwrap();
        // mid goes away: low loses its manager; meanwhile low becomes top's manager.
        s.delete_user(mid, false, now).unwrap();
        s.set_manager(top, low, now).unwrap();
        let out = s.restore_user(mid, now).unwrap();
        assert_eq!(out["@emulator.regainedReports"], 0);
        assert!(has_cycle(&s).is_none());
    }

    #[test]
    fn random_changes_never_make_a_cycle() {
        let now = Utc::now();
        for seed in 0..4 {
            // A small tenant, so that random managers often land inside a user's own reports.
            let mut s = Store::new(seed, 0, 12, 0, 0, now);
            let mut changed = 0u64;
            for _ in 0..300 {
                let out = s.mutate_users(5, now);
                changed += out["usersManagerChanged"].as_u64().unwrap();
                assert_eq!(has_cycle(&s), None, "seed {seed}");
            }
            assert!(changed > 50, "seed {seed}: {changed} manager changes");
        }
    }
}
