//! Item sets: the resources OneDrive, Outlook and To Do serve (the demo drive's items, the demo
//! mailbox's messages, mail folders and personal contacts, its calendar's events, the demo
//! user's To Do tasks). Unlike directory objects they are few, so they are
//! generated whole at start and kept as JSON; every change gives the item a new position in the
//! store's log.
//!
//! A round walks the items in (position, index) order from a cursor that is the key of the last
//! item served: a full round the live items up to the round's end, a delta round every item
//! changed in (from, end] (deleted ones too, in the resource's removal shape). An item changed
//! again during a round moves past the round's end and comes in the next one.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::json::write_value;
use super::store::Store;
use super::tenant::{Mask, Schema, bit};
use super::token::{Frozen, Kind, Resource, TokenState};

mod contacts;
mod drive;
mod folders;
mod outlook;
mod todo;

/// One drive item, message, event, mail folder, personal contact or To Do task.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: String,
    /// Position of its last change (0: as generated).
    pub pos: u64,
    /// Position at which it was created (0: generated).
    pub created: u64,
    /// Time of its last change.
    pub at: DateTime<Utc>,
    pub deleted: bool,
    /// The mail folder id of a message, the contact folder id of a contact, the list id of a
    /// task, the well-known name of a mail folder (empty for the others).
    pub scope: String,
    pub body: Map<String, Value>,
}

impl Item {
    /// An item created now, at log position `pos` (its creation is its last change).
    pub fn created(
        id: String,
        pos: u64,
        now: DateTime<Utc>,
        scope: String,
        body: Map<String, Value>,
    ) -> Item {
        Item {
            id,
            pos,
            created: pos,
            at: now,
            deleted: false,
            scope,
            body,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ItemSet {
    pub items: Vec<Item>,
    index: HashMap<String, usize>,
}

impl ItemSet {
    pub fn push(&mut self, item: Item) -> usize {
        let i = self.items.len();
        self.index.insert(item.id.to_ascii_lowercase(), i);
        self.items.push(item);
        i
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(&id.trim().to_ascii_lowercase()).copied()
    }

    /// The live item `id`, or a control error.
    fn live(&self, id: &str, what: &str) -> Result<usize, crate::emulator::store::CtlError> {
        use crate::emulator::store::CtlError;
        let i = self
            .find(id)
            .ok_or_else(|| CtlError::NotFound(format!("no {what} with id {id}")))?;
        if self.items[i].deleted {
            return Err(CtlError::NotFound(format!("{id} was deleted")));
        }
        Ok(i)
    }
}

/// The demo tenant's drive, mailbox, calendar and To Do lists.
#[derive(Clone, Debug, Default)]
pub struct Sets {
    pub drive_id: String,
    pub drive: ItemSet,
    /// Mail folders (top level), as the mailFolders delta serves them; an item's `scope` is its
    /// well-known name ("" for a folder of the user's own).
    pub mail_folders: ItemSet,
    /// The id of the mailbox's root folder (the top-level folders' `parentFolderId`).
    pub mail_root: String,
    pub mail: ItemSet,
    pub events: ItemSet,
    /// Contact folders: (well-known name or "", id, display name).
    pub contact_folders: Vec<(&'static str, String, &'static str)>,
    pub contacts: ItemSet,
    /// To Do lists: (wellknownListName, id, display name).
    pub todo_lists: Vec<(&'static str, String, &'static str)>,
    pub tasks: ItemSet,
    /// Random source of their changes.
    pub(crate) rng: u64,
    /// The owner of the drive and mailbox (display name, address).
    pub owner: (String, String),
}

/// How many items the demo sets are generated with.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Files in the drive (besides its folders).
    pub files: u64,
    /// Messages in the inbox.
    pub inbox: u64,
    /// Personal contacts in the default contact folder.
    pub contacts: u64,
    /// Tasks in the default To Do list.
    pub tasks: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            files: 36,
            inbox: 36,
            contacts: 36,
            tasks: 20,
        }
    }
}

impl Sets {
    /// The demo sets at their default sizes (36 files, 36 messages in the inbox, 36 contacts,
    /// 20 tasks).
    #[cfg(test)]
    pub fn generate(seed: u64, now: DateTime<Utc>) -> Sets {
        Self::generate_sized(seed, now, Sizes::default())
    }

    /// The demo sets at `sizes`.
    pub fn generate_sized(seed: u64, now: DateTime<Utc>, sizes: Sizes) -> Sets {
        let mut s = Sets {
            rng: seed ^ 0x17E5_C4A2,
            ..Default::default()
        };
        drive::generate(&mut s, seed, now, sizes.files);
        outlook::generate(&mut s, seed, now, sizes.inbox);
        contacts::generate(&mut s, seed, now, sizes.contacts);
        todo::generate(&mut s, seed, now, sizes.tasks);
        s
    }

    pub fn set(&self, r: Resource) -> &ItemSet {
        match r {
            Resource::DriveItems => &self.drive,
            Resource::Events => &self.events,
            Resource::MailFolders => &self.mail_folders,
            Resource::PersonalContacts => &self.contacts,
            Resource::TodoTasks => &self.tasks,
            _ => &self.mail,
        }
    }

    /// The canonical id of live mail folder `name` (a well-known name, any case, or an id).
    pub fn folder(&self, name: &str) -> Option<&str> {
        let name = name.trim();
        self.mail_folders
            .items
            .iter()
            .find(|f| {
                !f.deleted
                    && (f.id == name || !f.scope.is_empty() && f.scope.eq_ignore_ascii_case(name))
            })
            .map(|f| f.id.as_str())
    }

    /// The canonical id of contact folder `name` (an id, or the well-known name `contacts`).
    pub fn contact_folder(&self, name: &str) -> Option<&str> {
        let name = name.trim();
        self.contact_folders
            .iter()
            .find(|(w, id, _)| id == name || !w.is_empty() && w.eq_ignore_ascii_case(name))
            .map(|(_, id, _)| id.as_str())
    }

    /// The canonical id of To Do list `id`.
    pub fn todo_list(&self, id: &str) -> Option<&str> {
        let id = id.trim();
        self.todo_lists
            .iter()
            .find(|(_, l, _)| l == id)
            .map(|(_, l, _)| l.as_str())
    }
}

/// The property list of an item set's entity (for `$select`).
pub fn schema(r: Resource) -> &'static Schema {
    use std::sync::OnceLock;
    static D: OnceLock<Schema> = OnceLock::new();
    static M: OnceLock<Schema> = OnceLock::new();
    static E: OnceLock<Schema> = OnceLock::new();
    static F: OnceLock<Schema> = OnceLock::new();
    static C: OnceLock<Schema> = OnceLock::new();
    static T: OnceLock<Schema> = OnceLock::new();
    match r {
        Resource::MailFolders => F.get_or_init(|| {
            Schema::load(
                include_str!("../../../assets/schema/mailFolder.v1.0.json"),
                include_str!("../../../assets/schema/mailFolder.beta.json"),
            )
        }),
        Resource::PersonalContacts => C.get_or_init(|| {
            Schema::load(
                include_str!("../../../assets/schema/contact.v1.0.json"),
                include_str!("../../../assets/schema/contact.beta.json"),
            )
        }),
        Resource::TodoTasks => T.get_or_init(|| {
            Schema::load(
                include_str!("../../../assets/schema/todoTask.v1.0.json"),
                include_str!("../../../assets/schema/todoTask.beta.json"),
            )
        }),
        Resource::DriveItems => D.get_or_init(|| {
            Schema::load(
                include_str!("../../../assets/schema/driveItem.v1.0.json"),
                include_str!("../../../assets/schema/driveItem.beta.json"),
            )
        }),
        Resource::Events => E.get_or_init(|| {
            Schema::load(
                include_str!("../../../assets/schema/event.v1.0.json"),
                include_str!("../../../assets/schema/event.beta.json"),
            )
        }),
        _ => M.get_or_init(|| {
            Schema::load(
                include_str!("../../../assets/schema/message.v1.0.json"),
                include_str!("../../../assets/schema/message.beta.json"),
            )
        }),
    }
}

/// The link carrying `token`: OneDrive's `?token=` on the drive's own path, Outlook's
/// `%24skiptoken` / `%24deltatoken`, To Do's `$skiptoken` / `$deltatoken`.
pub fn link(root: &str, f: &Frozen, next: bool, token: &str) -> String {
    let user = f.user.as_deref().unwrap_or("me");
    let scope = f.scope.as_deref().unwrap_or("");
    let outlook = if next {
        "%24skiptoken"
    } else {
        "%24deltatoken"
    };
    match f.resource {
        Resource::MailFolders => format!("{root}/{user}/mailFolders/delta?{outlook}={token}"),
        Resource::PersonalContacts => {
            format!("{root}/{user}/contactFolders/{scope}/contacts/delta?{outlook}={token}")
        }
        Resource::TodoTasks => {
            let name = if next { "$skiptoken" } else { "$deltatoken" };
            format!("{root}/{user}/todo/lists/{scope}/tasks/delta?{name}={token}")
        }
        Resource::DriveItems => {
            let drive = f.scope.as_deref().unwrap_or("");
            format!("{root}/drives/{drive}/root/delta?token={token}")
        }
        Resource::Messages => {
            let folder = f.scope.as_deref().unwrap_or("inbox");
            let name = if next {
                "%24skiptoken"
            } else {
                "%24deltatoken"
            };
            format!("{root}/{user}/mailFolders('{folder}')/messages/delta?{name}={token}")
        }
        _ => {
            let name = if next {
                "%24skiptoken"
            } else {
                "%24deltatoken"
            };
            format!("{root}/{user}/calendarView/delta?{name}={token}")
        }
    }
}

/// A page of an item-set round.
pub struct ItemPage {
    pub items: Vec<Vec<u8>>,
    /// (cursor, after) of the next page, when items remain.
    pub next: Option<(u64, u64)>,
    pub remaining: usize,
}

/// The calendar view's window of a query.
fn window(f: &Frozen) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let p = |s: &Option<String>| s.as_deref().and_then(parse_time);
    Some((p(&f.start)?, p(&f.end_time)?))
}

/// An ISO 8601 date-time (`Z`, an offset, or none: UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_matches('\'');
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// Whether event `body` overlaps the window.
fn in_window(body: &Map<String, Value>, (from, to): (DateTime<Utc>, DateTime<Utc>)) -> bool {
    let t = |k: &str| {
        body.get(k)
            .and_then(|v| v["dateTime"].as_str())
            .and_then(parse_time)
    };
    match (t("start"), t("end")) {
        (Some(s), Some(e)) => s < to && e > from,
        _ => false,
    }
}

/// Serves one page of the round `state` describes.
pub fn page(store: &Store, f: &Frozen, state: &TokenState, size: usize) -> ItemPage {
    let set = store.sets.set(f.resource);
    let end = state.end;
    let window = window(f);
    let delta = state.kind == Kind::DeltaPage;
    let since = state
        .since
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0));
    let from = state.position;
    let key_after = (state.cursor, state.after);
    let mut keys: Vec<(u64, u64)> = set
        .items
        .iter()
        .enumerate()
        .filter(|(_, it)| {
            if it.pos > end {
                return false;
            }
            let scoped = matches!(
                f.resource,
                Resource::Messages | Resource::PersonalContacts | Resource::TodoTasks
            );
            if scoped && f.scope.as_deref().is_some_and(|s| it.scope != s) {
                return false;
            }
            if f.resource == Resource::Messages && !message_passes(f, it, delta, from) {
                return false;
            }
            if !delta {
                return !it.deleted && window.is_none_or(|w| in_window(&it.body, w));
            }
            let changed = match since {
                Some(t) => it.at >= t,
                None => it.pos > from,
            };
            // Created and deleted within the round: never seen, nothing to remove.
            changed && !(it.deleted && it.created > from && since.is_none())
        })
        .map(|(i, it)| (it.pos, i as u64))
        .filter(|&(p, i)| (p, Some(i)) > key_after)
        .collect();
    keys.sort_unstable();
    let remaining = keys.len().saturating_sub(size);
    keys.truncate(size);
    let next = (remaining > 0).then(|| keys.last().copied()).flatten();
    let items = keys
        .iter()
        .map(|&(_, i)| {
            let it = &set.items[i as usize];
            let mut o = Vec::with_capacity(512);
            write_item(f, it, window, &mut o);
            o
        })
        .collect();
    ItemPage {
        items,
        next,
        remaining,
    }
}

/// Writes one item in the resource's shape: live (with `$select`), or removed.
fn write_item(
    f: &Frozen,
    it: &Item,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    out: &mut Vec<u8>,
) {
    let odata_type = match f.resource {
        Resource::Messages => "#microsoft.graph.message",
        Resource::Events => "#microsoft.graph.event",
        _ => "",
    };
    let outside = window.is_some_and(|w| !in_window(&it.body, w));
    if it.deleted || outside {
        let v = match f.resource {
            Resource::DriveItems => json!({
                "id": it.id,
                "name": it.body.get("name"),
                "parentReference": it.body.get("parentReference").map(strip_path),
                "deleted": {"state": "deleted"},
            }),
            _ if odata_type.is_empty() => json!({
                "id": it.id,
                "@removed": {"reason": "deleted"},
            }),
            _ => json!({
                "@odata.type": odata_type,
                "id": it.id,
                "@removed": {"reason": "deleted"},
            }),
        };
        write_value(out, &v);
        return;
    }
    let schema = schema(f.resource);
    let mut m = Map::new();
    if !odata_type.is_empty() {
        m.insert("@odata.type".into(), json!(odata_type));
    }
    for (k, v) in &it.body {
        let keep = k.starts_with('@')
            || k == "id"
            || match f.select {
                None => true,
                Some(mask) => schema.index(k).is_some_and(|i| mask & bit(i) != 0),
            };
        if keep {
            let v = if k == "parentReference" {
                strip_path(v)
            } else {
                v.clone()
            };
            m.insert(k.clone(), v);
        }
    }
    write_value(out, &Value::Object(m));
}

/// A parentReference as delta returns it: without `path` (driveitem-delta.md: "the
/// parentReference property on items will not include a value for path").
fn strip_path(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("path");
    }
    v
}

/// Reads `$select` for an item set into a mask over its entity's properties.
pub fn select_mask(r: Resource, beta: bool, list: &str) -> Result<Mask, String> {
    let schema = schema(r);
    let lists = schema.lists(if beta {
        super::tenant::Api::Beta
    } else {
        super::tenant::Api::V1
    });
    let mut mask: Mask = 0;
    for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if p.eq_ignore_ascii_case("id") {
            continue;
        }
        let i = schema
            .index(p)
            .filter(|i| lists.exists & bit(*i) != 0)
            .ok_or_else(|| {
                format!(
                    "Could not find a property named '{p}' on type 'microsoft.graph.{}'.",
                    schema.entity
                )
            })?;
        if lists.delta & bit(i) == 0 {
            return Err(format!(
                "$select is not supported for the property '{p}' in a delta query."
            ));
        }
        mask |= bit(i);
    }
    Ok(mask)
}

/// The options only messages take: `$filter=receivedDateTime ge|gt {time}` (kept in
/// `f.start` as `ge {time}` / `gt {time}`), `$orderby=receivedDateTime desc` (their order
/// already) and `changeType=created|updated|deleted`.
pub fn message_option(k: &str, v: &str, f: &mut Frozen) -> Result<(), String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    match k {
        "filter" => match words[..] {
            [p, op, t]
                if p.eq_ignore_ascii_case("receivedDateTime")
                    && (op.eq_ignore_ascii_case("ge") || op.eq_ignore_ascii_case("gt"))
                    && parse_time(t).is_some() =>
            {
                f.start = Some(format!("{} {t}", op.to_ascii_lowercase()));
                Ok(())
            }
            _ => Err(format!(
                "Unsupported $filter '{v}': a messages delta query takes only \
                 receivedDateTime ge {{time}} or receivedDateTime gt {{time}}."
            )),
        },
        "orderby" => match words[..] {
            [p, d]
                if p.eq_ignore_ascii_case("receivedDateTime") && d.eq_ignore_ascii_case("desc") =>
            {
                Ok(())
            }
            _ => Err(format!(
                "Unsupported $orderby '{v}': a messages delta query takes only receivedDateTime desc."
            )),
        },
        _ => {
            let t = v.trim().to_ascii_lowercase();
            if !matches!(t.as_str(), "created" | "updated" | "deleted") {
                return Err(format!(
                    "Invalid changeType '{v}': use created, updated or deleted."
                ));
            }
            f.change_type = Some(t);
            Ok(())
        }
    }
}

/// Whether message `it` passes the query's `$filter` and `changeType` in a round from `from`
/// (`delta`: a delta round).
fn message_passes(f: &Frozen, it: &Item, delta: bool, from: u64) -> bool {
    if let Some((op, t)) = f.start.as_deref().and_then(|s| s.split_once(' '))
        && let Some(t) = parse_time(t)
        && !it.deleted
    {
        let received = it
            .body
            .get("receivedDateTime")
            .and_then(Value::as_str)
            .and_then(parse_time);
        let ok = received.is_some_and(|r| if op == "gt" { r > t } else { r >= t });
        if !ok {
            return false;
        }
    }
    match f.change_type.as_deref() {
        None => true,
        // A full round's messages are all new to the client.
        Some("created") => !it.deleted && (!delta || it.created > from),
        Some("updated") => delta && !it.deleted && it.created <= from,
        Some(_) => delta && it.deleted,
    }
}

/// A small deterministic random step for the item sets' changes.
/// One random draw for a change of item set `r`: the random number, the kind of change (0 an
/// update when `rand % 10 < updates`, 1 a creation when below `creates` or when nothing is
/// live, else 2 a delete) and the index of a random live item.
pub(super) fn draw(
    store: &mut Store,
    r: Resource,
    updates: u64,
    creates: u64,
) -> (u64, usize, Option<usize>) {
    let rand = next_rand(&mut store.sets.rng);
    let set = store.sets.set(r);
    let live: Vec<usize> = (0..set.items.len())
        .filter(|&i| !set.items[i].deleted)
        .collect();
    let kind = match rand % 10 {
        _ if live.is_empty() => 1,
        k if k < updates => 0,
        k if k < creates => 1,
        _ => 2,
    };
    let i = live.get((rand >> 8) as usize % live.len().max(1)).copied();
    (rand, kind, i)
}

/// Deletes live item `id` of set `r` for good (`@removed` reason `deleted` in its next round);
/// `what` names it in the error for a wrong id.
pub(super) fn delete_item(
    store: &mut Store,
    r: Resource,
    id: &str,
    what: &str,
    now: DateTime<Utc>,
) -> Result<Value, crate::emulator::store::CtlError> {
    let i = store.sets.set(r).live(id, what)?;
    let pos = store.log_item(now);
    let set = match r {
        Resource::Events => &mut store.sets.events,
        Resource::PersonalContacts => &mut store.sets.contacts,
        Resource::TodoTasks => &mut store.sets.tasks,
        Resource::MailFolders => &mut store.sets.mail_folders,
        Resource::DriveItems => &mut store.sets.drive,
        _ => &mut store.sets.mail,
    };
    Ok(outlook::mark_deleted(&mut set.items[i], pos, now))
}

pub(crate) fn next_rand(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    super::tenant::mix(*state)
}

/// `n` random changes of the drive, the mailbox's messages or folders, the calendar, the
/// personal contacts or the To Do tasks (`r`): edits, new items, deletes.
pub fn mutate(store: &mut Store, r: Resource, n: u64, now: DateTime<Utc>) -> Value {
    let mut counts = [0u64; 3];
    for _ in 0..n {
        let k = match r {
            Resource::DriveItems => drive::mutate_one(store, now),
            Resource::Events => outlook::mutate_event_one(store, now),
            Resource::MailFolders => folders::mutate_one(store, now),
            Resource::PersonalContacts => contacts::mutate_one(store, now),
            Resource::TodoTasks => todo::mutate_one(store, now),
            _ => outlook::mutate_one(store, now),
        };
        if let Some(k) = k {
            counts[k] += 1;
        }
    }
    json!({"updated": counts[0], "created": counts[1], "deleted": counts[2], "position": store.pos()})
}

pub use contacts::{create_personal_contact, delete_personal_contact, update_personal_contact};
pub use drive::{create_drive_item, delete_drive_item, update_drive_item};
pub use folders::{create_mail_folder, delete_mail_folder, update_mail_folder};
pub use outlook::{
    create_event, create_message, delete_event, delete_message, update_event, update_message,
};
pub use todo::{create_todo_task, delete_todo_task, update_todo_task};

#[cfg(test)]
mod more_tests;
#[cfg(test)]
mod tests;
