//! Random realistic changes of applications, service principals, devices, administrative
//! units, activated roles and delegated permission grants (`mutate`, the churn): edits, new objects, soft and hard deletes, restores, from their own random source so
//! that the other collections' histories stay as they were.
use super::*;
use crate::emulator::tenant::{ROLE_TEMPLATES, app_update, role_update};

impl Store {
    /// `n` random changes of `c` (one of the plain collections). Returns counts per kind.
    pub fn mutate_apps(&mut self, c: Coll, n: u64, now: DateTime<Utc>) -> Value {
        let mut counts = [0u64; 5];
        for _ in 0..n {
            let kind = match self.arng.below(100) {
                // A role is activated once and never deleted: its object changes little (its
                // members are what change, which the emulator does not track for roles).
                _ if c == Coll::DirectoryRoles => {
                    if (self.coll(c).next as usize) < ROLE_TEMPLATES.len()
                        && self.arng.below(4) == 0
                    {
                        1
                    } else {
                        0
                    }
                }
                0..=59 => 0,
                60..=74 => 1,
                75..=84 => 2,
                85..=89 => 3,
                _ => 4,
            };
            if self.mutate_app_one(c, kind, now) {
                counts[kind] += 1;
            } else if self.mutate_app_one(c, 0, now) {
                counts[0] += 1;
            }
        }
        json!({
            "updated": counts[0], "created": counts[1], "softDeleted": counts[2],
            "hardDeleted": counts[3], "restored": counts[4], "position": self.pos(),
        })
    }

    fn random_live_app(&mut self, c: Coll) -> Option<u64> {
        let n = self.coll(c).next;
        for _ in 0..16 {
            let i = self.arng.below(n);
            if self.coll(c).status(i) == Status::Live {
                return Some(i);
            }
        }
        None
    }

    fn mutate_app_one(&mut self, c: Coll, kind: usize, now: DateTime<Utc>) -> bool {
        match kind {
            0 => {
                let Some(idx) = self.random_live_app(c) else {
                    return false;
                };
                let update = match c {
                    Coll::Applications | Coll::ServicePrincipals | Coll::Devices => {
                        app_update(c, &mut self.arng, self.seed)
                    }
                    _ => role_update(c, &mut self.arng, self.seed),
                };
                let props: Vec<(usize, Value)> = update
                    .into_iter()
                    .filter_map(|(name, v)| c.schema().index(name).map(|i| (i, v)))
                    .collect();
                let before = self.pos();
                self.apply_update(c, idx, props, now);
                self.pos() > before
            }
            1 => self.create(c, &Map::new(), now).is_ok(),
            2 | 3 => {
                let Some(idx) = self.random_live_app(c) else {
                    return false;
                };
                let id = self.id_of(c, idx);
                self.delete(c, &id, kind == 3, now).is_ok()
            }
            _ => {
                let n = self.coll(c).soft.len() as u64;
                if n == 0 {
                    return false;
                }
                let k = self.arng.below(n) as usize;
                let idx = self.coll(c).soft[k];
                let id = self.id_of(c, idx);
                self.restore(c, &id, now).is_ok()
            }
        }
    }
}
