//! The control API: change the tenant, inject faults, move the clock. Over HTTP under
//! `/_emulator/` (JSON in, JSON out; never affected by faults, no bearer needed) and in process
//! through [`Control`].
//!
//! | method and path | body | effect / reply |
//! | --- | --- | --- |
//! | `GET /_emulator/state` | | position, clock, counts, organizers, sample ids, faults, churn |
//! | `POST /_emulator/contacts` | partial contact | creates a contact (unspecified properties generated) → the contact |
//! | `POST`, `GET`, `PATCH`, `DELETE /_emulator/users…` | as for contacts | users, object by object, as contacts; a deleted user leaves its groups and stops managing its reports (soft: both kept aside), a restored one rejoins the live groups and manages again those reports that have no manager; `GET` shows `@emulator.manager` |
//! | `GET /_emulator/contacts/{id}` | | the contact with `@emulator.status` |
//! | `PATCH /_emulator/contacts/{id}` | properties (null clears) | updates → the contact |
//! | `DELETE /_emulator/contacts/{id}` | | soft delete (`@removed` reason `changed`) |
//! | `DELETE /_emulator/contacts/{id}?permanent=true` | | hard delete (`@removed` reason `deleted`) |
//! | `POST /_emulator/contacts/{id}/restore` | | restores a soft-deleted contact → the contact |
//! | `POST /_emulator/groups` | partial group, optional `"members": [user ids]` | creates a group → the group |
//! | `GET /_emulator/groups/{id}` | | the group with `@emulator.status` and `@emulator.memberCount` |
//! | `PATCH /_emulator/groups/{id}` | properties (null clears) | updates → the group |
//! | `DELETE /_emulator/groups/{id}` | | soft delete; `?permanent=true`: hard delete |
//! | `POST /_emulator/groups/{id}/restore` | | restores a soft-deleted group → the group |
//! | `GET /_emulator/groups/{id}/members` | | `{"value": [user ids]}` (current members) |
//! | `POST /_emulator/groups/{id}/members` | `{"id": userId}` | adds a member (409 if already one) |
//! | `DELETE /_emulator/groups/{id}/members/{userId}` | | removes a member (404 if not one) |
//! | `GET /_emulator/users/{id}/manager` | | `{"@odata.type", "id"}` of the user's manager (404 if none) |
//! | `PUT /_emulator/users/{id}/manager` | `{"id": managerId}` | sets the manager (400 for an unknown or deleted manager or the user itself, 404 unknown user, 409 soft-deleted user) → `{"id", "manager", "changed"}`; logged |
//! | `DELETE /_emulator/users/{id}/manager` | | removes the manager (404 if none); logged |
//! | `POST /_emulator/recordings` | `{"organizer": id}` (optional) | adds a recording and transcript → the recording |
//! | `POST`, `GET`, `PATCH`, `DELETE /_emulator/{applications,servicePrincipals,devices,administrativeUnits,directoryRoles,oauth2PermissionGrants}…` | as for contacts | applications, service principals, devices, administrative units, activated roles and delegated permission grants, object by object, as contacts (soft and hard deletes, restores; a role cannot be deleted and is activated once per built-in template, a grant is always deleted for good) |
//! | `POST /_emulator/driveItems` | `{"name", "parent": folderId, "folder": bool, "size": n}` (all optional) | creates a file or folder in the demo drive (default: a file in the root) → the item |
//! | `GET`, `PATCH`, `DELETE /_emulator/driveItems/{id}` | `{"name", "size"}` | the item (`@emulator.deleted`); renames / changes the content; deletes (a folder with what it holds) |
//! | `POST /_emulator/messages` | `{"subject", "folder": "inbox" or an id}` | a new message in the demo mailbox → the message |
//! | `GET`, `PATCH`, `DELETE /_emulator/messages/{id}` | `{"isRead", "subject", "importance", "flag"}` | the message; changes it; deletes it |
//! | `POST /_emulator/events`; `GET`, `PATCH`, `DELETE /_emulator/events/{id}` | `{"subject", "start", "minutes"}`; `{"subject", "start"}` | a new calendar event; the event; renames or moves it; deletes it |
//! | `POST /_emulator/mailFolders`; `GET`, `PATCH`, `DELETE /_emulator/mailFolders/{id}` | `{"displayName"}` | a new top-level mail folder; the folder; renames it; deletes it and its messages (a well-known folder: 409) |
//! | `POST /_emulator/personalContacts`; `GET`, `PATCH`, `DELETE /_emulator/personalContacts/{id}` | `{"givenName", "surname", "displayName", "companyName", "jobTitle", "folder"}`; the same and `categories` | a new personal contact (default folder `contacts`); the contact; changes it; deletes it |
//! | `POST /_emulator/todoTasks`; `GET`, `PATCH`, `DELETE /_emulator/todoTasks/{id}` | `{"title", "importance", "dueDateTime", "list"}`; `{"title", "status", "importance", "isReminderOn", "categories"}` | a new To Do task (default list first); the task; changes it (`status: completed` sets `completedDateTime`); deletes it |
//! | `POST /_emulator/mutate` | `{"count": n, "groups": m, "users": u, "applications": a, "servicePrincipals": s, "devices": d, "administrativeUnits": a2, "directoryRoles": r, "oauth2PermissionGrants": o, "driveItems": i, "messages": e, "events": v, "mailFolders": f, "personalContacts": p, "todoTasks": t}` | n (0-100000) random realistic contact/recording changes, m (0-10000) group changes, u (0-10000) user changes, and 0-10000 changes of each of the others (all optional; count defaults to 1 when nothing else is asked) → counts |
//! | `GET /_emulator/faults` | | active faults |
//! | `POST /_emulator/faults` | `{"spec": "throttle:2:0.5"}` or `{"specs": [...]}` | adds faults (N 1-1000000 or `always`, SECS 0-3600, MS 0-600000; at most 100 active) |
//! | `DELETE /_emulator/faults` | | clears faults |
//! | `POST /_emulator/clock` | `{"advance_secs": s}` | moves the emulator clock by s (-315576000 to 315576000, ten years either way; the total offset stays within ±3155760000 s, a hundred years) → `{"now": ...}` |
//! | `POST /_emulator/churn` | `{"per_sec": r}` | sets the background change rate (0-1000 changes per second) |
//!
//! Errors: 400 (bad body), 404 (unknown id), 409 (wrong state), as `{"error":{"code","message"}}`.
//! A number outside its allowed range (NaN and infinities included, see [`super::limits`]) is a
//! 400 `BadRequest` whose message names the range. A handler that panics anyway answers 500
//! `InternalServerError` and leaves the emulator serving: its locks recover from poisoning.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value, json};

use super::clock::graph_datetime;
use super::limits::{CHURN, CLOCK_STEP, MUTATE_COUNT, MUTATE_GROUPS, MUTATE_USERS};
use super::routes::lock;
use super::store::CtlError;
use super::tenant::Coll;
use super::{DemoInfo, Shared, faults};

mod http;
mod items;
#[cfg(test)]
pub(crate) use http::panic_guard;
pub(crate) use http::router;

/// In-process handle with the same operations as the HTTP control API.
#[derive(Clone)]
pub struct Control {
    sh: Arc<Shared>,
}

/// A control operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for ControlError {}

impl From<CtlError> for ControlError {
    fn from(e: CtlError) -> Self {
        let status = match e {
            CtlError::NotFound(_) => 404,
            CtlError::BadRequest(_) => 400,
            CtlError::Conflict(_) => 409,
        };
        ControlError {
            status,
            message: e.to_string(),
        }
    }
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError {
        status: 400,
        message: message.into(),
    }
}

fn as_object(body: &Value) -> Result<&Map<String, Value>, ControlError> {
    body.as_object()
        .ok_or_else(|| bad("the body must be a JSON object of contact properties"))
}

impl Control {
    pub(crate) fn new(sh: Arc<Shared>) -> Self {
        Control { sh }
    }

    pub fn base_url(&self) -> String {
        self.sh.origin(None)
    }

    pub fn demo(&self) -> DemoInfo {
        let store = lock(&self.sh.store);
        DemoInfo {
            tenant_id: store.tenant_id.clone(),
            organizers: store.organizer_ids(),
            sample_contact_ids: (0..store.contacts.next.min(5))
                .map(|i| store.id_of(Coll::Contacts, i))
                .collect(),
            sample_group_ids: sample_groups(&store),
        }
    }

    /// The id of group number `index` (generated groups are 0..groups; 0 is "All Company").
    pub fn group_id(&self, index: u64) -> String {
        lock(&self.sh.store).id_of(Coll::Groups, index)
    }

    /// The id of user number `index`.
    pub fn user_id(&self, index: u64) -> String {
        lock(&self.sh.store).id_of(Coll::Users, index)
    }

    /// Object `id` of collection `c` with `@emulator.status` (a group also with
    /// `@emulator.memberCount`).
    pub fn get(&self, c: Coll, id: &str) -> Result<Value, ControlError> {
        let store = lock(&self.sh.store);
        Ok(match c {
            Coll::Groups => store.get_group(id)?,
            Coll::Users => {
                let mut v = store.get(c, id)?;
                if let (Some(m), Some(u)) = (v.as_object_mut(), store.index_of(c, id)) {
                    let manager = store.manager_now(u).map(|m| store.id_of(c, m));
                    m.insert("@emulator.manager".into(), json!(manager));
                }
                v
            }
            _ => store.get(c, id)?,
        })
    }

    /// User `id`'s manager as a link `{"@odata.type", "id"}` (404 when it has none).
    pub fn manager(&self, id: &str) -> Result<Value, ControlError> {
        Ok(lock(&self.sh.store).get_manager(id)?)
    }

    /// Makes user `manager` the manager of user `id` (logged: the next users delta with
    /// `manager` selected shows it) → `{"id", "manager", "changed"}`. 400 for an unknown or
    /// deleted manager or a user managing itself, 404 for an unknown user.
    pub fn set_manager(&self, id: &str, manager: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).set_manager(id, manager, now)?)
    }

    /// Takes user `id`'s manager away (logged; 404 when it has none).
    pub fn remove_manager(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).remove_manager(id, now)?)
    }

    /// Creates an object of `c` (unspecified properties generated; a group may list its first
    /// `"members"`) → the object.
    pub fn create(&self, c: Coll, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        Ok(match c {
            Coll::Groups => store.create_group(body, now)?,
            _ => store.create(c, body, now)?,
        })
    }

    /// Updates properties of object `id` of `c` (null clears one) → the object.
    pub fn update(&self, c: Coll, id: &str, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        lock(&self.sh.store).update(c, id, body, now)?;
        self.get(c, id)
    }

    /// Soft-deletes (`@removed` reason `changed`) or, `permanent`, hard-deletes (`deleted`)
    /// object `id` of `c`; a user also leaves its groups.
    pub fn delete(&self, c: Coll, id: &str, permanent: bool) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        Ok(match c {
            Coll::Users => store.delete_user(id, permanent, now)?,
            _ => store.delete(c, id, permanent, now)?,
        })
    }

    /// Restores soft-deleted object `id` of `c` (a user rejoins the live groups it left) → the
    /// object.
    pub fn restore(&self, c: Coll, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        let restored = {
            let mut store = lock(&self.sh.store);
            match c {
                Coll::Users => store.restore_user(id, now)?,
                _ => store.restore(c, id, now)?,
            }
        };
        match c {
            Coll::Groups => self.get(c, id),
            _ => Ok(restored),
        }
    }

    pub fn get_group(&self, id: &str) -> Result<Value, ControlError> {
        self.get(Coll::Groups, id)
    }

    pub fn create_group(&self, body: &Value) -> Result<Value, ControlError> {
        self.create(Coll::Groups, body)
    }

    pub fn update_group(&self, id: &str, body: &Value) -> Result<Value, ControlError> {
        self.update(Coll::Groups, id, body)
    }

    pub fn soft_delete_group(&self, id: &str) -> Result<Value, ControlError> {
        self.delete(Coll::Groups, id, false)
    }

    pub fn hard_delete_group(&self, id: &str) -> Result<Value, ControlError> {
        self.delete(Coll::Groups, id, true)
    }

    pub fn restore_group(&self, id: &str) -> Result<Value, ControlError> {
        self.restore(Coll::Groups, id)
    }

    /// The current member ids of a group.
    pub fn group_members(&self, id: &str) -> Result<Vec<String>, ControlError> {
        Ok(lock(&self.sh.store).group_member_ids(id)?)
    }

    /// `count` random realistic group changes (members joining and leaving, edits, deletes,
    /// restores); at most [`MUTATE_GROUPS`]`.max` (a larger count makes that many).
    pub fn mutate_groups(&self, count: u64) -> Value {
        let mut out = json!({});
        for n in batches(count.min(MUTATE_GROUPS.max)) {
            let now = self.sh.clock.now();
            add_counts(&mut out, lock(&self.sh.store).mutate_groups(n, now));
        }
        out
    }

    /// `count` random realistic user changes (edits, new users, soft deletes that take users out
    /// of their groups, restores that put them back); at most [`MUTATE_USERS`]`.max`.
    pub fn mutate_users(&self, count: u64) -> Value {
        let mut out = json!({});
        for n in batches(count.min(MUTATE_USERS.max)) {
            let now = self.sh.clock.now();
            add_counts(&mut out, lock(&self.sh.store).mutate_users(n, now));
        }
        out
    }

    /// Adds user `user` to group `group`.
    pub fn add_member(&self, group: &str, user: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).add_member(group, user, now)?)
    }

    /// Removes user `user` from group `group`.
    pub fn remove_member(&self, group: &str, user: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).remove_member(group, user, now)?)
    }

    /// The id of contact number `index` (generated contacts are 0..contacts).
    pub fn contact_id(&self, index: u64) -> String {
        lock(&self.sh.store).id_of(Coll::Contacts, index)
    }

    /// Position of the change log (number of changes so far).
    pub fn position(&self) -> u64 {
        lock(&self.sh.store).pos()
    }

    pub fn state(&self) -> Value {
        let mut v = self.state_core();
        if let (Some(m), Value::Object(more)) = (v.as_object_mut(), self.state_more()) {
            m.extend(more);
        }
        v
    }

    fn state_core(&self) -> Value {
        let store = lock(&self.sh.store);
        let (live, soft, hard) = store.contacts.counts();
        let (ulive, usoft, uhard) = store.users.counts();
        let (glive, gsoft, ghard) = store.groups.counts();
        let sample: Vec<String> = (0..store.contacts.next.min(5))
            .map(|i| store.id_of(Coll::Contacts, i))
            .collect();
        json!({
            "baseUrl": self.base_url(),
            "tenantId": store.tenant_id,
            "position": store.pos(),
            "clock": graph_datetime(self.sh.clock.now()),
            "clockOffsetSecs": self.sh.clock.offset_secs(),
            "tokenLifetimeSecs": self.sh.config.token_lifetime.as_secs(),
            "contacts": {
                "generated": store.contacts.base, "live": live, "softDeleted": soft,
                "deleted": hard, "pageSize": store.page_size,
                "defaultProperties": Coll::Contacts.schema().names(Coll::Contacts.schema().v1.default),
                "properties": Coll::Contacts.schema().names(Coll::Contacts.schema().v1.exists),
                "betaProperties": Coll::Contacts.schema().names(Coll::Contacts.schema().beta.exists),
            },
            "lastChange": store.log.last().map(|e| graph_datetime(e.at)),
            "users": {
                "generated": store.users.base, "live": ulive, "softDeleted": usoft,
                "deleted": uhard,
                "defaultProperties": Coll::Users.schema().names(Coll::Users.schema().v1.default),
                "properties": Coll::Users.schema().names(Coll::Users.schema().v1.exists),
                "betaProperties": Coll::Users.schema().names(Coll::Users.schema().beta.exists),
            },
            "groups": {
                "generated": store.groups.base, "live": glive, "softDeleted": gsoft,
                "deleted": ghard, "memberSlice": store.member_slice,
                "defaultProperties": Coll::Groups.schema().names(Coll::Groups.schema().v1.default),
                "properties": Coll::Groups.schema().names(Coll::Groups.schema().v1.exists),
                "betaProperties": Coll::Groups.schema().names(Coll::Groups.schema().beta.exists),
            },
            "sampleGroupIds": sample_groups(&store),
            "organizers": store.organizer_ids(),
            "recordings": store.artifacts.len(),
            "sampleContactIds": sample,
            "faults": lock(&self.sh.faults).describe(),
            "churnPerSec": *self.sh.churn.borrow(),
            "graphRequests": self.sh.requests.load(Ordering::Relaxed),
            "seed": store.seed,
        })
    }

    pub fn get_contact(&self, id: &str) -> Result<Value, ControlError> {
        self.get(Coll::Contacts, id)
    }

    pub fn create_contact(&self, body: &Value) -> Result<Value, ControlError> {
        self.create(Coll::Contacts, body)
    }

    pub fn update_contact(&self, id: &str, body: &Value) -> Result<Value, ControlError> {
        self.update(Coll::Contacts, id, body)
    }

    pub fn soft_delete_contact(&self, id: &str) -> Result<Value, ControlError> {
        self.delete(Coll::Contacts, id, false)
    }

    pub fn hard_delete_contact(&self, id: &str) -> Result<Value, ControlError> {
        self.delete(Coll::Contacts, id, true)
    }

    pub fn restore_contact(&self, id: &str) -> Result<Value, ControlError> {
        self.restore(Coll::Contacts, id)
    }

    /// Adds a recording (and its transcript) for `organizer` (default: the first organizer).
    pub fn add_recording(&self, organizer: Option<&str>) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        let root = format!("{}/v1.0", self.base_url());
        Ok(lock(&self.sh.store).add_recording(organizer, now, &root)?)
    }

    /// `count` random realistic changes (updates, creates, deletes, restores, recordings); at
    /// most [`MUTATE_COUNT`]`.max` (a larger count makes that many).
    pub fn mutate(&self, count: u64) -> Value {
        let mut out = json!({});
        for n in batches(count.min(MUTATE_COUNT.max)) {
            let now = self.sh.clock.now();
            add_counts(&mut out, lock(&self.sh.store).mutate(n, now));
        }
        out
    }

    /// Adds a fault (see the `faults` spec table).
    pub fn add_fault(&self, spec: &str) -> Result<(), ControlError> {
        self.add_faults(&[spec])
    }

    /// Adds all of `specs` or, when one is invalid or they would pass the most active faults,
    /// none.
    pub fn add_faults(&self, specs: &[&str]) -> Result<(), ControlError> {
        let parsed = specs
            .iter()
            .map(|s| faults::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let mut list = lock(&self.sh.faults);
        list.room_for(parsed.len()).map_err(bad)?;
        for f in parsed {
            list.add(f).map_err(bad)?;
        }
        Ok(())
    }

    pub fn clear_faults(&self) {
        lock(&self.sh.faults).clear();
    }

    pub fn faults(&self) -> Value {
        lock(&self.sh.faults).describe()
    }

    /// Moves the emulator clock by `secs` (tokens age with it), as far as the allowed range
    /// permits (see [`Control::try_advance_clock`] for the checked form).
    pub fn advance_clock(&self, secs: f64) -> Value {
        let secs = if secs.is_nan() {
            0.0
        } else {
            secs.clamp(CLOCK_STEP.min, CLOCK_STEP.max)
        };
        self.sh.clock.advance_clamped(secs);
        self.clock_reply()
    }

    /// Moves the emulator clock by `secs`: an error (400) naming the allowed range when `secs`
    /// is out of [`CLOCK_STEP`] or would take the clock's offset past a hundred years.
    pub fn try_advance_clock(&self, secs: f64) -> Result<Value, ControlError> {
        if !CLOCK_STEP.contains(secs) {
            return Err(bad(format!(
                "advance_secs must be in {}; got {secs}",
                CLOCK_STEP.describe()
            )));
        }
        self.sh
            .clock
            .advance(secs)
            .map_err(|e| bad(e.to_string()))?;
        Ok(self.clock_reply())
    }

    fn clock_reply(&self) -> Value {
        json!({"now": graph_datetime(self.sh.clock.now()), "offsetSecs": self.sh.clock.offset_secs()})
    }

    /// Sets the background churn (changes per second; 0 stops it), clamped to the allowed
    /// range (NaN stops it; see [`Control::try_set_churn`] for the checked form).
    pub fn set_churn(&self, per_sec: f64) {
        let r = if per_sec.is_nan() {
            0.0
        } else {
            per_sec.clamp(CHURN.min, CHURN.max)
        };
        let _ = self.sh.churn.send(r);
    }

    /// Sets the background churn: an error (400) naming the allowed range when `per_sec` is
    /// out of [`CHURN`].
    pub fn try_set_churn(&self, per_sec: f64) -> Result<(), ControlError> {
        if !CHURN.contains(per_sec) {
            return Err(bad(format!(
                "per_sec must be in {}; got {per_sec}",
                CHURN.describe()
            )));
        }
        let _ = self.sh.churn.send(per_sec);
        Ok(())
    }
}

/// Most changes one hold of the store's lock makes for `mutate`: a large count leaves the lock
/// free between batches, so that Graph requests and the churn interleave with it.
const MUTATE_BATCH: u64 = 256;

/// `total` cut in batches (one empty batch for 0, so that the counts are still reported).
fn batches(total: u64) -> impl Iterator<Item = u64> {
    let mut left = total;
    let mut first = true;
    std::iter::from_fn(move || {
        let n = left.min(MUTATE_BATCH);
        left -= n;
        let go = n > 0 || first;
        first = false;
        go.then_some(n)
    })
}

/// Sums the counts of a batch into `acc`; `position` is the latest.
fn add_counts(acc: &mut Value, batch: Value) {
    let (Some(acc), Value::Object(batch)) = (acc.as_object_mut(), batch) else {
        return;
    };
    for (k, v) in batch {
        let sum = match (k.as_str(), acc.get(&k).and_then(Value::as_u64), v.as_u64()) {
            ("position", _, _) | (_, None, _) | (_, _, None) => v,
            (_, Some(a), Some(b)) => json!(a.saturating_add(b)),
        };
        acc.insert(k, sum);
    }
}

/// A few group ids: the largest group first, then the first generated ones.
fn sample_groups(store: &super::store::Store) -> Vec<String> {
    let mut idx: Vec<u64> = store.largest_group().into_iter().collect();
    for g in 0..store.groups.next.min(5) {
        if !idx.contains(&g) && idx.len() < 5 {
            idx.push(g);
        }
    }
    idx.into_iter()
        .map(|g| store.id_of(Coll::Groups, g))
        .collect()
}
