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
use super::json::{write_props, write_str, write_value};
use super::tenant::{
    Coll, Mask, Rng, bit, generated_values, group_members, guid_from, h3, hex32, object_id,
    object_index, random_person, random_value, tenant_id, write_generated, write_generated_object,
};

mod artifacts;
mod mutate;
mod mutate_apps;
mod objects;

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
    /// Users: user `idx`'s manager became user `member` ([`NO_MANAGER`]: none).
    ManagerChange,
}

/// The `member` of a [`Op::ManagerChange`] entry that took the manager away.
pub const NO_MANAGER: u64 = u64::MAX;

#[derive(Clone, Copy, Debug)]
pub enum Target {
    Dir(Coll),
    Artifact,
    /// A drive item, message or event (their item sets keep the state; the log entry gives the
    /// change its position).
    Item,
}

#[derive(Clone, Debug)]
pub struct LogEntry {
    pub target: Target,
    pub idx: u64,
    pub op: Op,
    /// Update: the properties that changed.
    pub mask: Mask,
    /// MemberAdd / MemberRemove: the user's index. ManagerChange: the new manager's index
    /// ([`NO_MANAGER`]: none).
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

/// What one page serves of a round's list of items: with the duplicate fault, up to three items
/// sent before the cursor again (from `dup_from`), then up to `size` items from the cursor, each
/// handed to `write`. Returns the next cursor (none at the end of the list) and how many items
/// remain after it.
pub(crate) fn page_window<T: Copy>(
    list: &[T],
    cursor: u64,
    dup_from: Option<u64>,
    size: usize,
    mut write: impl FnMut(T),
) -> (Option<u64>, usize) {
    let start = usize::try_from(cursor).unwrap_or(usize::MAX);
    if let Some(d) = dup_from {
        let d = usize::try_from(d).unwrap_or(usize::MAX);
        for &it in list.iter().skip(d).take(3.min(start.saturating_sub(d))) {
            write(it);
        }
    }
    for &it in list.iter().skip(start).take(size) {
        write(it);
    }
    let end = start.saturating_add(size);
    (
        (end < list.len()).then_some(end as u64),
        list.len().saturating_sub(end),
    )
}

/// One object of a delta round, after collapsing its log entries.
#[derive(Clone, Copy, Debug)]
pub struct Change {
    pub idx: u64,
    /// Changed properties (updates in the range).
    pub mask: Mask,
    /// Created or restored in the range: sent in full.
    pub fresh: bool,
    /// Users: the manager changed in the range (only counted when `manager` is selected).
    pub links: bool,
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
    /// Every selected property: its value, or `null` (`[]` for a collection) when it has none.
    Full { sel: Mask },
    /// `return=minimal`: only the changed selected properties (null when changed to null).
    Minimal { sel: Mask, changed: Mask },
}

type CacheKey = (u8, u64, u64, Mask, u64);

#[derive(Debug)]
pub struct Store {
    pub seed: u64,
    pub tenant_id: String,
    pub contacts: Collection,
    pub users: Collection,
    pub groups: Collection,
    pub applications: Collection,
    pub service_principals: Collection,
    pub devices: Collection,
    pub administrative_units: Collection,
    /// Activated directory roles (one per built-in template, in `ROLE_TEMPLATES` order).
    pub directory_roles: Collection,
    pub grants: Collection,
    /// Random source of application, service principal and device changes.
    pub(crate) arng: Rng,
    /// The drive items, messages and events (their own item sets, see `items`).
    pub sets: crate::emulator::items::Sets,
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
    /// Random source of user changes (apart, for the same reason).
    pub(crate) urng: Rng,
    /// The groups each soft-deleted user left, to rejoin on a restore.
    pub(crate) suspended_memberships: HashMap<u64, Vec<u64>>,
    /// Users whose manager changed since start: every change as (index of its log entry, the
    /// new manager). The others have their generated manager (`tenant::generated_manager`).
    pub(crate) manager_history: HashMap<u64, Vec<(u64, Option<u64>)>>,
    /// The reverse of `manager_history`'s current managers: manager → the users whose manager
    /// was set to it (generated reports are found from the org chart's formula).
    pub(crate) set_reports: HashMap<u64, BTreeSet<u64>>,
    /// The direct reports each soft-deleted user lost as their manager, to get back on a
    /// restore.
    pub(crate) suspended_reports: HashMap<u64, Vec<u64>>,
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
            applications: Collection::new(0),
            service_principals: Collection::new(0),
            devices: Collection::new(0),
            administrative_units: Collection::new(0),
            directory_roles: Collection::new(0),
            grants: Collection::new(0),
            arng: Rng(seed ^ 0xA995_C4A2),
            sets: Default::default(),
            members: HashMap::new(),
            member_slice: 100,
            organizers,
            artifacts: Vec::new(),
            log: Vec::new(),
            page_size: 100,
            rng: Rng(seed ^ 0x5EED_C4A2),
            grng: Rng(seed ^ 0x6E0_C4A2),
            urng: Rng(seed ^ 0x05E2_C4A2),
            suspended_memberships: HashMap::new(),
            manager_history: HashMap::new(),
            set_reports: HashMap::new(),
            suspended_reports: HashMap::new(),
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

    /// Adds the generated applications, service principals and devices.
    pub fn with_apps(mut self, applications: u64, service_principals: u64, devices: u64) -> Self {
        self.applications = Collection::new(applications);
        self.service_principals = Collection::new(service_principals);
        self.devices = Collection::new(devices);
        self
    }

    /// Adds the generated administrative units, activated roles (at most one per built-in
    /// template) and delegated permission grants.
    pub fn with_directory_extras(mut self, units: u64, roles: u64, grants: u64) -> Self {
        self.administrative_units = Collection::new(units);
        self.directory_roles =
            Collection::new(roles.min(crate::emulator::tenant::ROLE_TEMPLATES.len() as u64));
        self.grants = Collection::new(grants);
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
            Coll::Applications => &self.applications,
            Coll::ServicePrincipals => &self.service_principals,
            Coll::Devices => &self.devices,
            Coll::AdministrativeUnits => &self.administrative_units,
            Coll::DirectoryRoles => &self.directory_roles,
            Coll::Oauth2PermissionGrants => &self.grants,
        }
    }

    fn coll_mut(&mut self, c: Coll) -> &mut Collection {
        match c {
            Coll::Contacts => &mut self.contacts,
            Coll::Users => &mut self.users,
            Coll::Groups => &mut self.groups,
            Coll::Applications => &mut self.applications,
            Coll::ServicePrincipals => &mut self.service_principals,
            Coll::Devices => &mut self.devices,
            Coll::AdministrativeUnits => &mut self.administrative_units,
            Coll::DirectoryRoles => &mut self.directory_roles,
            Coll::Oauth2PermissionGrants => &mut self.grants,
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

    /// Logs a change of an item set's item (drive item, message, event) → its position (the
    /// log's length after it).
    pub(crate) fn log_item(&mut self, at: DateTime<Utc>) -> u64 {
        self.push_log(Target::Item, 0, Op::Update, 0, at);
        self.pos()
    }

    fn push_log(&mut self, target: Target, idx: u64, op: Op, mask: Mask, at: DateTime<Utc>) {
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
}
