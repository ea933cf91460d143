//! Changes to the tenant: create, update, delete, restore, and the random changes of `mutate` and the churn.
use super::*;

impl Store {
    /// The properties of a create or update body. Only what a delta query can return is
    /// accepted (in v1.0 or beta): an unknown name, or a property Graph reads only for a single
    /// object (`aboutMe`, `mailboxSettings`, …), is a 400 that names it, rather than a value
    /// stored and then never seen in any delta round.
    fn parse_body(c: Coll, body: &Map<String, Value>) -> Result<Vec<(usize, Value)>, CtlError> {
        let schema = c.schema();
        let accepted = schema.any_delta();
        let mut out = Vec::new();
        for (k, v) in body {
            if k == "id" || k.starts_with('@') {
                continue;
            }
            let Some(i) = schema.index(k) else {
                return Err(CtlError::BadRequest(format!(
                    "unknown {} property {k:?}; delta returns: {}",
                    schema.entity,
                    schema.names(accepted).join(", ")
                )));
            };
            if accepted & bit(i) == 0 {
                return Err(CtlError::BadRequest(format!(
                    "{} property {k:?} is read only for a single object in Graph (not by delta): \
                     the emulator serves only delta, so it does not take it",
                    schema.entity
                )));
            }
            out.push((i, v.clone()));
        }
        Ok(out)
    }

    /// Creates an object: generated values for its new index, overridden by `body`.
    pub fn create(
        &mut self,
        c: Coll,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let props = Self::parse_body(c, body)?;
        let idx = self.coll(c).next;
        if c == Coll::DirectoryRoles && idx >= crate::emulator::tenant::ROLE_TEMPLATES.len() as u64
        {
            return Err(CtlError::Conflict(
                "every built-in role template is activated already".into(),
            ));
        }
        let mut vals = generated_values(self.seed, c, idx);
        for (i, v) in props {
            vals[i] = v;
        }
        let coll = self.coll_mut(c);
        coll.next += 1;
        coll.over.insert(
            idx,
            Entry {
                vals: Some(vals),
                status: Status::Live,
            },
        );
        self.push_log(Target::Dir(c), idx, Op::Create, 0, now);
        Ok(self.object_json(c, idx))
    }

    pub(crate) fn live_index(&self, c: Coll, id: &str) -> Result<u64, CtlError> {
        let idx = self
            .index_of(c, id)
            .ok_or_else(|| CtlError::NotFound(format!("no {} with id {id}", c.schema().entity)))?;
        match self.coll(c).status(idx) {
            Status::Live => Ok(idx),
            Status::SoftDeleted => Err(CtlError::Conflict(format!(
                "{id} is soft-deleted (restore it first)"
            ))),
            Status::HardDeleted => Err(CtlError::NotFound(format!("{id} was deleted"))),
        }
    }

    pub fn get(&self, c: Coll, id: &str) -> Result<Value, CtlError> {
        let idx = self
            .index_of(c, id)
            .ok_or_else(|| CtlError::NotFound(format!("no {} with id {id}", c.schema().entity)))?;
        if self.coll(c).status(idx) == Status::HardDeleted {
            return Err(CtlError::NotFound(format!("{id} was deleted")));
        }
        Ok(self.object_json(c, idx))
    }

    /// Updates properties (null clears one). Only real changes are logged.
    pub fn update(
        &mut self,
        c: Coll,
        id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let idx = self.live_index(c, id)?;
        let props = Self::parse_body(c, body)?;
        self.apply_update(c, idx, props, now);
        Ok(self.object_json(c, idx))
    }

    pub(super) fn apply_update(
        &mut self,
        c: Coll,
        idx: u64,
        props: Vec<(usize, Value)>,
        now: DateTime<Utc>,
    ) {
        let mut vals = self.values(c, idx);
        let mut mask = 0 as Mask;
        for (i, v) in props {
            if vals[i] != v {
                vals[i] = v;
                mask |= bit(i);
            }
        }
        if mask == 0 {
            return;
        }
        let coll = self.coll_mut(c);
        let status = coll.status(idx);
        coll.over.insert(
            idx,
            Entry {
                vals: Some(vals),
                status,
            },
        );
        self.push_log(Target::Dir(c), idx, Op::Update, mask, now);
    }

    pub fn delete(
        &mut self,
        c: Coll,
        id: &str,
        permanent: bool,
        now: DateTime<Utc>,
    ) -> Result<Value, CtlError> {
        let idx = self
            .index_of(c, id)
            .ok_or_else(|| CtlError::NotFound(format!("no {} with id {id}", c.schema().entity)))?;
        if c == Coll::DirectoryRoles {
            return Err(CtlError::BadRequest(
                "an activated directory role cannot be deleted".into(),
            ));
        }
        // A delegated permission grant is deleted for good (it has no deleted-items bin).
        let permanent = permanent || c == Coll::Oauth2PermissionGrants;
        let status = self.coll(c).status(idx);
        match (status, permanent) {
            (Status::HardDeleted, _) => {
                return Err(CtlError::NotFound(format!("{id} was already deleted")));
            }
            (Status::SoftDeleted, false) => {
                return Err(CtlError::Conflict(format!("{id} is already soft-deleted")));
            }
            _ => {}
        }
        self.set_status(
            c,
            idx,
            if permanent {
                Status::HardDeleted
            } else {
                Status::SoftDeleted
            },
        );
        let op = if permanent {
            Op::HardDelete
        } else {
            Op::SoftDelete
        };
        self.push_log(Target::Dir(c), idx, op, 0, now);
        Ok(json!({"id": id, "status": if permanent { "deleted" } else { "softDeleted" }}))
    }

    fn set_status(&mut self, c: Coll, idx: u64, status: Status) {
        let coll = self.coll_mut(c);
        let e = coll.over.entry(idx).or_insert(Entry {
            vals: None,
            status: Status::Live,
        });
        let was = e.status;
        e.status = status;
        if status == Status::HardDeleted {
            e.vals = None;
        }
        if was == status {
            return;
        }
        match was {
            Status::SoftDeleted => {
                if let Ok(at) = coll.soft.binary_search(&idx) {
                    coll.soft.remove(at);
                }
            }
            Status::HardDeleted => coll.hard = coll.hard.saturating_sub(1),
            Status::Live => {}
        }
        match status {
            Status::SoftDeleted => {
                if let Err(at) = coll.soft.binary_search(&idx) {
                    coll.soft.insert(at, idx);
                }
            }
            Status::HardDeleted => coll.hard += 1,
            Status::Live => {}
        }
    }

    pub fn restore(&mut self, c: Coll, id: &str, now: DateTime<Utc>) -> Result<Value, CtlError> {
        let idx = self
            .index_of(c, id)
            .ok_or_else(|| CtlError::NotFound(format!("no {} with id {id}", c.schema().entity)))?;
        match self.coll(c).status(idx) {
            Status::SoftDeleted => {}
            Status::Live => return Err(CtlError::Conflict(format!("{id} is not deleted"))),
            Status::HardDeleted => {
                return Err(CtlError::NotFound(format!(
                    "{id} was permanently deleted and cannot be restored"
                )));
            }
        }
        self.set_status(c, idx, Status::Live);
        self.push_log(Target::Dir(c), idx, Op::Restore, 0, now);
        Ok(self.object_json(c, idx))
    }

    /// Adds a recording (and its transcript) for an organizer (default: the first).
    pub fn add_recording(
        &mut self,
        organizer: Option<&str>,
        now: DateTime<Utc>,
        root: &str,
    ) -> Result<Value, CtlError> {
        let org = match organizer {
            None | Some("") => {
                if self.organizers == 0 {
                    return Err(CtlError::BadRequest(
                        "the tenant has no meeting organizers".into(),
                    ));
                }
                0
            }
            Some(id) => match self.index_of(Coll::Users, id) {
                Some(i) if i < self.organizers => i,
                _ => {
                    return Err(CtlError::NotFound(format!(
                        "{id} is not a meeting organizer of this tenant (see GET /_emulator/state)"
                    )));
                }
            },
        };
        let r = self.rng.next_u64();
        let created = now - chrono::Duration::minutes(1);
        self.artifacts.push(Artifact {
            organizer: org,
            pos: self.pos() + 1,
            created,
            ended: now,
            r,
        });
        let i = self.artifacts.len() - 1;
        self.push_log(Target::Artifact, i as u64, Op::Artifact, 0, now);
        Ok(self.artifact_json(i, false, root, false))
    }

    /// `n` random realistic changes. Returns counts per kind.
    pub fn mutate(&mut self, n: u64, now: DateTime<Utc>) -> Value {
        let mut counts = [0u64; 6];
        for _ in 0..n {
            let roll = self.rng.below(100);
            let kind = match roll {
                0..=59 => 0,
                60..=72 => 1,
                73..=82 => 2,
                83..=87 => 3,
                88..=94 => 4,
                _ => 5,
            };
            if self.mutate_one(kind, now) {
                counts[kind] += 1;
            } else if self.mutate_one(0, now) {
                counts[0] += 1;
            }
        }
        json!({
            "updated": counts[0], "created": counts[1], "softDeleted": counts[2],
            "hardDeleted": counts[3], "restored": counts[4], "recordings": counts[5],
            "position": self.pos(),
        })
    }

    fn random_live(&mut self, c: Coll) -> Option<u64> {
        let n = self.coll(c).next;
        for _ in 0..16 {
            let i = self.rng.below(n);
            if self.coll(c).status(i) == Status::Live {
                return Some(i);
            }
        }
        None
    }

    fn mutate_one(&mut self, kind: usize, now: DateTime<Utc>) -> bool {
        let c = Coll::Contacts;
        match kind {
            0 => {
                let Some(idx) = self.random_live(c) else {
                    return false;
                };
                let current = self.values(c, idx);
                let pool = [
                    "jobTitle",
                    "department",
                    "companyName",
                    "mail",
                    "phones",
                    "addresses",
                    "displayName",
                ];
                let k = 1 + self.rng.below(3);
                let mut props = Vec::new();
                for _ in 0..k {
                    let name = pool[self.rng.below(pool.len() as u64) as usize];
                    if let Some(i) = c.schema().index(name) {
                        let v =
                            random_value(c, name, &mut self.rng, &current).unwrap_or(Value::Null);
                        props.push((i, v));
                    }
                }
                let before = self.pos();
                self.apply_update(c, idx, props, now);
                self.pos() > before
            }
            1 => {
                let (given, surname) = random_person(&mut self.rng);
                let mut body = Map::new();
                body.insert("givenName".into(), json!(given));
                body.insert("surname".into(), json!(surname));
                body.insert("displayName".into(), json!(format!("{given} {surname}")));
                self.create(c, &body, now).is_ok()
            }
            2 | 3 => {
                let Some(idx) = self.random_live(c) else {
                    return false;
                };
                let id = self.id_of(c, idx);
                self.delete(c, &id, kind == 3, now).is_ok()
            }
            4 => {
                // Sorted, so that the same seed makes the same history.
                let soft = &self.contacts.soft;
                if soft.is_empty() {
                    return false;
                }
                let idx = soft[self.rng.below(soft.len() as u64) as usize];
                let id = self.id_of(c, idx);
                self.restore(c, &id, now).is_ok()
            }
            _ => {
                if self.organizers == 0 {
                    return false;
                }
                let org = self.rng.below(self.organizers);
                let id = self.id_of(Coll::Users, org);
                self.add_recording(Some(&id), now, "").is_ok()
            }
        }
    }
}
