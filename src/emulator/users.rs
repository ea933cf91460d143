//! Users that change: deletion and restore with their group memberships and direct reports, and
//! the users' part of `mutate` and the churn (which also moves users between managers, see
//! `managers`). Creates and updates are any directory object's (`store::mutate`).
//!
//! Entra takes a deleted user out of every group it belongs to and puts a restored one back:
//! deleting a user here logs a membership removal for each of its groups (so groups delta shows
//! the user leaving, with `@removed`), keeps a soft-deleted user's groups aside, and a restore
//! logs the user joining those of them that are still live.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::store::{CtlError, Op, Status, Store};
use super::tenant::Coll;

const U: Coll = Coll::Users;

impl Store {
    fn user_index(&self, id: &str) -> Result<u64, CtlError> {
        self.index_of(U, id)
            .ok_or_else(|| CtlError::NotFound(format!("no user with id {id}")))
    }

    /// Soft- or hard-deletes user `id`; it leaves its groups (kept aside for a restore when the
    /// deletion is soft). The reply says how many groups it left.
    pub fn delete_user(
        &mut self,
        id: &str,
        permanent: bool,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let u = self.user_index(id)?;
        let mut out = self.delete(U, id, permanent, now)?;
        let mut groups: Vec<u64> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(&u))
            .map(|(g, _)| *g)
            .collect();
        groups.sort_unstable();
        for &g in &groups {
            if let Some(m) = self.members.get_mut(&g) {
                m.remove(&u);
            }
            self.push_member_log(g, u, Op::MemberRemove, now);
        }
        out["leftGroups"] = json!(groups.len());
        out["lostReports"] = json!(self.drop_reports(u, permanent, now));
        if permanent {
            self.suspended_memberships.remove(&u);
        } else {
            self.suspended_memberships.insert(u, groups);
        }
        Ok(out)
    }

    /// Restores soft-deleted user `id`, back in the groups it left that are still live.
    pub fn restore_user(&mut self, id: &str, now: DateTime<Utc>) -> Result<Value, CtlError> {
        let u = self.user_index(id)?;
        let mut out = self.restore(U, id, now)?;
        let groups = self.suspended_memberships.remove(&u).unwrap_or_default();
        let mut rejoined = 0;
        for g in groups {
            if self.groups.status(g) == Status::Live && self.members.entry(g).or_default().insert(u)
            {
                self.push_member_log(g, u, Op::MemberAdd, now);
                rejoined += 1;
            }
        }
        out["@emulator.rejoinedGroups"] = json!(rejoined);
        out["@emulator.regainedReports"] = json!(self.regain_reports(u, now));
        Ok(out)
    }

    /// A random live user that is not a meeting organizer (their recordings stay theirs).
    fn random_plain_user(&mut self) -> Option<u64> {
        let n = self.users.next;
        (n > self.organizers).then_some(())?;
        for _ in 0..16 {
            let u = self.organizers + self.urng.below(n - self.organizers);
            if self.users.status(u) == Status::Live {
                return Some(u);
            }
        }
        None
    }

    /// `n` random realistic user changes: mostly edits (job title, department, office, phone),
    /// some manager changes and new users, now and then a soft delete or a restore. Returns
    /// counts per kind.
    pub fn mutate_users(&mut self, n: u64, now: DateTime<Utc>) -> Value {
        let mut counts = [0u64; 5];
        for _ in 0..n {
            let kind = match self.urng.below(100) {
                0..=59 => 0,
                60..=69 => 4,
                70..=79 => 1,
                80..=89 => 2,
                _ => 3,
            };
            let made = self
                .mutate_user(kind, now)
                .or_else(|| self.mutate_user(0, now));
            if let Some(k) = made {
                counts[k] += 1;
            }
        }
        json!({
            "usersUpdated": counts[0], "usersCreated": counts[1],
            "usersSoftDeleted": counts[2], "usersRestored": counts[3],
            "usersManagerChanged": counts[4],
        })
    }

    /// One user change of `kind` (0 update, 1 create, 2 soft delete, 3 restore, 4 manager);
    /// the kind made.
    fn mutate_user(&mut self, kind: usize, now: DateTime<Utc>) -> Option<usize> {
        const TITLES: &[&str] = &[
            "Account Manager",
            "Site Reliability Engineer",
            "Program Manager",
            "Support Engineer",
            "Finance Analyst",
            "Designer",
        ];
        const DEPARTMENTS: &[&str] = &["Sales", "Engineering", "Finance", "Support", "Marketing"];
        const OFFICES: &[&str] = &["Seattle", "Dublin", "Singapore", "Sydney", "Toronto"];
        match kind {
            1 => self.create(U, &Map::new(), now).ok().map(|_| 1),
            2 => {
                let u = self.random_plain_user()?;
                let id = self.id_of(U, u);
                self.delete_user(&id, false, now).ok().map(|_| 2)
            }
            4 => {
                let u = self.random_plain_user()?;
                self.mutate_manager(u, now).then_some(4)
            }
            3 => {
                let soft = &self.users.soft;
                let u = *soft.get(self.urng.below(soft.len().max(1) as u64) as usize)?;
                let id = self.id_of(U, u);
                self.restore_user(&id, now).ok().map(|_| 3)
            }
            _ => {
                let u = self.random_plain_user()?;
                let id = self.id_of(U, u);
                let pick = |r: u64, list: &[&str]| Value::from(list[r as usize % list.len()]);
                let r = self.urng.next_u64();
                let mut body = Map::new();
                match r % 4 {
                    0 => body.insert("jobTitle".into(), pick(r >> 8, TITLES)),
                    1 => body.insert("department".into(), pick(r >> 8, DEPARTMENTS)),
                    2 => body.insert("officeLocation".into(), pick(r >> 8, OFFICES)),
                    _ => body.insert(
                        "mobilePhone".into(),
                        Value::from(format!("+1 425 555 {:04}", (r >> 8) % 10_000)),
                    ),
                };
                self.update(U, &id, &body, now).ok().map(|_| 0)
            }
        }
    }
}
