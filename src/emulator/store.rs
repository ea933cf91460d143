//! The tenant's state: lazily generated objects, the modifications made since start (only those
//! are stored), an append-only change log, and the meeting artifacts (recordings/transcripts).
//!
//! Positions: position `p` means "after the first `p` log entries"; the log entry at index `k`
//! moved the state from position `k` to `k + 1`. A delta round over (`from`, `to`] replays
//! `log[from..to]`, collapsed per object.
use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::clock::graph_datetime;
use super::json::{write_key, write_str, write_value};
use super::tenant::{
    Coll, Rng, Schema, generated_values, group_members, guid_from, h3, hex32, object_id,
    object_index, random_person, random_value, tenant_id, write_generated, write_generated_object,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Live,
    SoftDeleted,
    HardDeleted,
}

#[derive(Clone, Debug)]
struct Entry {
    /// Current values (aligned with the schema; Null = no value). None: still as generated.
    vals: Option<Vec<Value>>,
    status: Status,
}

#[derive(Debug)]
pub struct Collection {
    /// Objects 0..base are generated from the seed.
    pub base: u64,
    /// Objects base..next were created while running (their values are always stored).
    pub next: u64,
    over: HashMap<u64, Entry>,
    /// The soft-deleted objects, sorted: a random restore picks from it (the same pick for the
    /// same seed) without walking every changed object, which made the churn slow down as it
    /// ran.
    pub(crate) soft: Vec<u64>,
    hard: u64,
}

impl Collection {
    fn new(base: u64) -> Self {
        Collection {
            base,
            next: base,
            over: HashMap::new(),
            soft: Vec::new(),
            hard: 0,
        }
    }

    pub fn status(&self, idx: u64) -> Status {
        if idx >= self.next {
            return Status::HardDeleted;
        }
        self.over.get(&idx).map_or(Status::Live, |e| e.status)
    }

    pub fn counts(&self) -> (u64, u64, u64) {
        let soft = self.soft.len() as u64;
        (self.next.saturating_sub(soft + self.hard), soft, self.hard)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    SoftDelete,
    HardDelete,
    Restore,
    /// A new recording (and its transcript).
    Artifact,
    /// Groups: user `member` joined group `idx`.
    MemberAdd,
    /// Groups: user `member` left group `idx`.
    MemberRemove,
}

#[derive(Clone, Copy, Debug)]
pub enum Target {
    Dir(Coll),
    Artifact,
}

#[derive(Clone, Debug)]
pub struct LogEntry {
    pub target: Target,
    pub idx: u64,
    pub op: Op,
    /// Update: the properties that changed.
    pub mask: u32,
    /// MemberAdd / MemberRemove: the user's index.
    pub member: u64,
    pub at: DateTime<Utc>,
}

/// A meeting's recording and its transcript.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// Index of the organizing user.
    pub organizer: u64,
    /// Position at which it appeared (0: part of the initial tenant).
    pub pos: u64,
    pub created: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub r: u64,
}

/// One object of a delta round, after collapsing its log entries.
#[derive(Clone, Copy, Debug)]
pub struct Change {
    pub idx: u64,
    /// Changed properties (updates in the range).
    pub mask: u32,
    /// Created or restored in the range: sent in full.
    pub fresh: bool,
}

#[derive(Debug, PartialEq)]
pub enum CtlError {
    NotFound(String),
    BadRequest(String),
    Conflict(String),
}

impl std::fmt::Display for CtlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CtlError::NotFound(m) | CtlError::BadRequest(m) | CtlError::Conflict(m) => {
                f.write_str(m)
            }
        }
    }
}

/// How an object is written into a page.
#[derive(Clone, Copy, Debug)]
pub enum Emit {
    /// Every selected property that has a value.
    Full { sel: u32 },
    /// Default delta behaviour: every selected property with a value, plus changed ones that
    /// became null (as null).
    Default { sel: u32, changed: u32 },
    /// `return=minimal`: only the changed selected properties (null when changed to null).
    Minimal { sel: u32, changed: u32 },
}

type CacheKey = (u8, u64, u64, u32, u64);

#[derive(Debug)]
pub struct Store {
    pub seed: u64,
    pub tenant_id: String,
    pub contacts: Collection,
    pub users: Collection,
    pub groups: Collection,
    /// Current members (user indexes) of every group ever created.
    pub(crate) members: HashMap<u64, BTreeSet<u64>>,
    /// Most member links one group item of a full round carries.
    pub member_slice: usize,
    pub organizers: u64,
    pub artifacts: Vec<Artifact>,
    pub log: Vec<LogEntry>,
    /// Default page size of directory resources.
    pub page_size: usize,
    rng: Rng,
    /// Random source of group changes (apart, so that contact histories stay as they were).
    pub(crate) grng: Rng,
    cache: Option<(CacheKey, Arc<Vec<Change>>)>,
}

impl Store {
    pub fn new(
        seed: u64,
        contacts: u64,
        users: u64,
        organizers: u64,
        recordings: u64,
        now: DateTime<Utc>,
    ) -> Self {
        let users = users.max(organizers);
        let mut s = Store {
            seed,
            tenant_id: tenant_id(seed),
            contacts: Collection::new(contacts),
            users: Collection::new(users),
            groups: Collection::new(0),
            members: HashMap::new(),
            member_slice: 100,
            organizers,
            artifacts: Vec::new(),
            log: Vec::new(),
            page_size: 100,
            rng: Rng(seed ^ 0x5EED_C4A2),
            grng: Rng(seed ^ 0x6E0_C4A2),
            cache: None,
        };
        if organizers > 0 {
            for i in 0..recordings {
                let r = h3(seed, 0xA7, i);
                // Spread over the last ~60 days, oldest first.
                let age_min = (recordings - i) as i64 * 300 + (r % 240) as i64;
                let created = now - chrono::Duration::minutes(age_min);
                s.artifacts.push(Artifact {
                    organizer: i % organizers,
                    pos: 0,
                    created,
                    ended: created + chrono::Duration::minutes(15 + (r >> 8) as i64 % 75),
                    r,
                });
            }
        }
        s
    }

    /// Adds the `n` generated groups (members drawn from the users generated at start).
    pub fn with_groups(mut self, n: u64, member_slice: usize) -> Self {
        self.groups = Collection::new(n);
        self.member_slice = member_slice.max(1);
        let users = self.users.base;
        for g in 0..n {
            self.members
                .insert(g, group_members(self.seed, g, users).into_iter().collect());
        }
        self
    }

    pub fn pos(&self) -> u64 {
        self.log.len() as u64
    }

    pub fn coll(&self, c: Coll) -> &Collection {
        match c {
            Coll::Contacts => &self.contacts,
            Coll::Users => &self.users,
            Coll::Groups => &self.groups,
        }
    }

    fn coll_mut(&mut self, c: Coll) -> &mut Collection {
        match c {
            Coll::Contacts => &mut self.contacts,
            Coll::Users => &mut self.users,
            Coll::Groups => &mut self.groups,
        }
    }

    pub fn id_of(&self, c: Coll, idx: u64) -> String {
        object_id(self.seed, c, idx)
    }

    pub fn index_of(&self, c: Coll, id: &str) -> Option<u64> {
        object_index(self.seed, c, id).filter(|i| *i < self.coll(c).next)
    }

    pub fn organizer_ids(&self) -> Vec<String> {
        (0..self.organizers)
            .map(|i| self.id_of(Coll::Users, i))
            .collect()
    }

    fn push_log(&mut self, target: Target, idx: u64, op: Op, mask: u32, at: DateTime<Utc>) {
        self.log.push(LogEntry {
            target,
            idx,
            op,
            mask,
            member: 0,
            at,
        });
    }

    /// The current values of an object (generated or stored).
    fn values(&self, c: Coll, idx: u64) -> Vec<Value> {
        match self.coll(c).over.get(&idx).and_then(|e| e.vals.clone()) {
            Some(v) => v,
            None => generated_values(self.seed, c, idx),
        }
    }

    // ----- writing objects -------------------------------------------------------------

    /// Writes object `idx` of `c` (which must be live) as `emit` says.
    pub fn write_object(&self, c: Coll, idx: u64, emit: Emit, out: &mut Vec<u8>) {
        let stored = self.coll(c).over.get(&idx).and_then(|e| e.vals.as_deref());
        if let (None, Emit::Full { sel }) = (stored, emit) {
            write_generated_object(self.seed, c, idx, sel, out);
            return;
        }
        let (include, nulls) = match emit {
            Emit::Full { sel } => (sel, 0),
            Emit::Default { sel, changed } => (sel, sel & changed),
            Emit::Minimal { sel, changed } => (sel & changed, sel & changed),
        };
        let id = self.id_of(c, idx);
        let seed = self.seed;
        write_props(
            out,
            &id,
            c.schema(),
            include,
            nulls,
            |i, out| match stored {
                Some(vals) => match vals.get(i) {
                    Some(Value::Null) | None => false,
                    Some(v) => {
                        write_value(out, v);
                        true
                    }
                },
                None => write_generated(seed, c, idx, i, out),
            },
        );
    }

    pub fn write_removed(&self, c: Coll, idx: u64, reason: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        write_str(out, &self.id_of(c, idx));
        let _ = write!(out, ",\"@removed\":{{\"reason\":\"{reason}\"}}}}");
    }

    /// The full current representation of an object, for control replies.
    pub fn object_json(&self, c: Coll, idx: u64) -> Value {
        let mut out = Vec::new();
        self.write_object(
            c,
            idx,
            Emit::Full {
                sel: c.schema().all_mask(),
            },
            &mut out,
        );
        let mut v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            let status = match self.coll(c).status(idx) {
                Status::Live => "live",
                Status::SoftDeleted => "softDeleted",
                Status::HardDeleted => "deleted",
            };
            m.insert("@emulator.status".into(), json!(status));
        }
        v
    }

    // ----- delta rounds ------------------------------------------------------------------

    /// The objects of `c` changed in (`from`, `to`], collapsed per object, sorted by index.
    /// Updates count only when they touch a property of `sel`. `ids` (sorted) restricts.
    pub fn changes(
        &mut self,
        c: Coll,
        from: u64,
        to: u64,
        sel: u32,
        ids: &[u64],
    ) -> Arc<Vec<Change>> {
        let ids_hash = ids
            .iter()
            .fold(ids.len() as u64, |h, i| super::tenant::mix(h ^ *i));
        let key: CacheKey = (
            match c {
                Coll::Contacts => 0,
                Coll::Users => 1,
                Coll::Groups => 2,
            },
            from,
            to,
            sel,
            ids_hash,
        );
        if let Some((k, v)) = &self.cache
            && *k == key
        {
            return v.clone();
        }
        let to = to.min(self.pos());
        let from = from.min(to);
        let mut acc: HashMap<u64, (u32, bool)> = HashMap::new();
        for e in &self.log[from as usize..to as usize] {
            let Target::Dir(ec) = e.target else { continue };
            if ec != c || (!ids.is_empty() && ids.binary_search(&e.idx).is_err()) {
                continue;
            }
            if e.op == Op::Update && e.mask & sel == 0 {
                continue;
            }
            let a = acc.entry(e.idx).or_insert((0, false));
            match e.op {
                Op::Update => a.0 |= e.mask,
                Op::Create => a.1 = true,
                // The client was told the object was removed and may still hold a copy from
                // before: a restored object comes back whole, every selected property spelled
                // out (null when it has no value), so that nothing stale survives a merge.
                Op::Restore => {
                    a.0 = u32::MAX;
                    a.1 = true;
                }
                _ => {}
            }
        }
        let mut list: Vec<Change> = acc
            .into_iter()
            .map(|(idx, (mask, fresh))| Change { idx, mask, fresh })
            .collect();
        list.sort_by_key(|ch| ch.idx);
        let list = Arc::new(list);
        self.cache = Some((key, list.clone()));
        list
    }

    /// Writes one delta-round item for `ch`.
    pub fn write_change(&self, c: Coll, ch: Change, sel: u32, minimal: bool, out: &mut Vec<u8>) {
        match self.coll(c).status(ch.idx) {
            Status::SoftDeleted => self.write_removed(c, ch.idx, "changed", out),
            Status::HardDeleted => self.write_removed(c, ch.idx, "deleted", out),
            Status::Live => {
                // Created or restored in the range: the whole object, plus the properties
                // changed to null in the range as null (for a restore: every selected property
                // without a value, so a client holding the pre-delete copy keeps nothing stale).
                let emit = if ch.fresh {
                    Emit::Default {
                        sel,
                        changed: ch.mask,
                    }
                } else if minimal {
                    Emit::Minimal {
                        sel,
                        changed: ch.mask,
                    }
                } else {
                    Emit::Default {
                        sel,
                        changed: ch.mask,
                    }
                };
                self.write_object(c, ch.idx, emit, out);
            }
        }
    }

    // ----- artifacts -------------------------------------------------------------------

    /// Artifacts of organizer `org` created at or after `start`, that appeared in (`from`, `to`].
    pub fn artifact_list(
        &self,
        org: Option<u64>,
        start: Option<DateTime<Utc>>,
        from: Option<u64>,
        to: u64,
    ) -> Vec<usize> {
        let Some(org) = org else { return Vec::new() };
        self.artifacts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.organizer == org
                    && a.pos <= to
                    && from.is_none_or(|f| a.pos > f)
                    && start.is_none_or(|s| a.created >= s)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn artifact_ids(&self, i: usize) -> (String, String, String, String) {
        let a = &self.artifacts[i];
        let org = self.id_of(Coll::Users, a.organizer);
        let meeting_guid = guid_from(h3(self.seed, 0x3E, a.r), h3(self.seed, 0x3F, a.r));
        let meeting_thread = STANDARD.encode(meeting_guid.as_bytes());
        let meeting_id =
            STANDARD.encode(format!("1*{org}*0**19:meeting_{meeting_thread}@thread.v2"));
        let rec_guid = guid_from(h3(self.seed, 0x4E, a.r), h3(self.seed, 0x4F, a.r));
        let rec_id = STANDARD.encode(format!(
            "V2##1{org}{}040000008200E00074C5B7101A82E008{}00000000000000001000000{}##{rec_guid}",
            self.tenant_id,
            &hex32(a.r, h3(self.seed, 0x50, a.r))[..24],
            hex32(h3(self.seed, 0x51, a.r), h3(self.seed, 0x52, a.r)),
        ));
        let tr_guid = guid_from(h3(self.seed, 0x5E, a.r), h3(self.seed, 0x5F, a.r));
        let tr_id = STANDARD.encode(format!("1##0##{tr_guid}"));
        (org, meeting_id, rec_id, tr_id)
    }

    /// A recording (or transcript) as Graph shows it; content URLs under `root` (`{base}/{v}`).
    pub fn artifact_json(&self, i: usize, transcript: bool, root: &str) -> Value {
        let a = &self.artifacts[i];
        let (org, meeting_id, rec_id, tr_id) = self.artifact_ids(i);
        let call_id = guid_from(h3(self.seed, 0x60, a.r), h3(self.seed, 0x61, a.r));
        let correlation = guid_from(h3(self.seed, 0x62, a.r), h3(self.seed, 0x63, a.r));
        let organizer = json!({
            "application": null,
            "device": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": org,
                "displayName": null,
                "userIdentityType": "aadUser",
                "tenantId": self.tenant_id,
            }
        });
        if transcript {
            json!({
                "@odata.type": "#microsoft.graph.callTranscript",
                "id": tr_id,
                "meetingId": meeting_id,
                "callId": call_id,
                "contentCorrelationId": correlation,
                "createdDateTime": graph_datetime(a.created),
                "endDateTime": graph_datetime(a.ended),
                "transcriptContentUrl": format!("{root}/users/{org}/onlineMeetings/{meeting_id}/transcripts/{tr_id}/content"),
                "meetingOrganizer": organizer,
            })
        } else {
            json!({
                "@odata.type": "#microsoft.graph.callRecording",
                "id": rec_id,
                "meetingId": meeting_id,
                "callId": call_id,
                "contentCorrelationId": correlation,
                "createdDateTime": graph_datetime(a.created),
                "endDateTime": graph_datetime(a.ended),
                "recordingContentUrl": format!("{root}/users/{org}/onlineMeetings/{meeting_id}/recordings/{rec_id}/content"),
                "meetingOrganizer": organizer,
            })
        }
    }

    // ----- mutations -------------------------------------------------------------------

    fn parse_body(c: Coll, body: &Map<String, Value>) -> Result<Vec<(usize, Value)>, CtlError> {
        let schema = c.schema();
        let mut out = Vec::new();
        for (k, v) in body {
            if k == "id" || k.starts_with('@') {
                continue;
            }
            let i = schema.index(k).ok_or_else(|| {
                CtlError::BadRequest(format!(
                    "unknown {} property {k:?}; known: {}",
                    schema.entity,
                    schema.props.join(", ")
                ))
            })?;
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

    fn apply_update(&mut self, c: Coll, idx: u64, props: Vec<(usize, Value)>, now: DateTime<Utc>) {
        let mut vals = self.values(c, idx);
        let mut mask = 0u32;
        for (i, v) in props {
            if vals[i] != v {
                vals[i] = v;
                mask |= 1 << i;
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
        Ok(self.artifact_json(i, false, root))
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

/// Writes `{...}` with `id` in its alphabetical place: the properties of `include` that have a
/// value, and those of `nulls` without one as `null`.
fn write_props(
    out: &mut Vec<u8>,
    id: &str,
    schema: &Schema,
    include: u32,
    nulls: u32,
    mut get: impl FnMut(usize, &mut Vec<u8>) -> bool,
) {
    out.push(b'{');
    let mut first = true;
    let mut id_done = false;
    for (i, name) in schema.props.iter().enumerate() {
        if !id_done && *name > "id" {
            if !first {
                out.push(b',');
            }
            write_key(out, "id");
            write_str(out, id);
            first = false;
            id_done = true;
        }
        let bit = 1u32 << i;
        if (include | nulls) & bit == 0 {
            continue;
        }
        let mark = out.len();
        if !first {
            out.push(b',');
        }
        write_key(out, name);
        if get(i, out) {
            first = false;
        } else if nulls & bit != 0 {
            out.truncate(mark);
            if !first {
                out.push(b',');
            }
            write_key(out, name);
            out.extend_from_slice(b"null");
            first = false;
        } else {
            out.truncate(mark);
        }
    }
    if !id_done {
        if !first {
            out.push(b',');
        }
        write_key(out, "id");
        write_str(out, id);
    }
    out.push(b'}');
}
