//! The control operations of the collections added for issue 15: applications, service
//! principals and devices (random changes; object by object they go through the generic
//! `create`/`update`/`delete`/`restore`), and the item sets (drive items, messages, events,
//! mail folders, personal contacts, To Do tasks).
use serde_json::{Map, Value, json};

use super::super::items;
use super::super::limits::MUTATE_OTHER;
use super::super::routes::lock;
use super::super::tenant::Coll;
use super::super::token::Resource;
use super::{Control, ControlError, add_counts, as_object, batches};

/// What `mutate` can change besides contacts, groups and users, by its body key.
pub(crate) const OTHER_KINDS: &[&str] = &[
    "applications",
    "servicePrincipals",
    "devices",
    "administrativeUnits",
    "directoryRoles",
    "oauth2PermissionGrants",
    "driveItems",
    "messages",
    "events",
    "mailFolders",
    "personalContacts",
    "todoTasks",
];

/// The item sets the control API changes object by object, by path name.
pub(crate) fn item_set(name: &str) -> Option<Resource> {
    if name.eq_ignore_ascii_case("driveItems") {
        Some(Resource::DriveItems)
    } else if name.eq_ignore_ascii_case("messages") {
        Some(Resource::Messages)
    } else if name.eq_ignore_ascii_case("events") {
        Some(Resource::Events)
    } else if name.eq_ignore_ascii_case("mailFolders") {
        Some(Resource::MailFolders)
    } else if name.eq_ignore_ascii_case("personalContacts") {
        Some(Resource::PersonalContacts)
    } else if name.eq_ignore_ascii_case("todoTasks") {
        Some(Resource::TodoTasks)
    } else {
        None
    }
}

impl Control {
    /// `count` random changes of `kind` (one of [`OTHER_KINDS`]); at most
    /// [`MUTATE_OTHER`]`.max`.
    pub fn mutate_other(&self, kind: &str, count: u64) -> Result<Value, ControlError> {
        let mut out = json!({});
        let coll = Coll::from_path(kind).filter(|c| c.is_plain());
        let set = item_set(kind);
        if coll.is_none() && set.is_none() {
            return Err(super::bad(format!(
                "unknown kind {kind:?}; one of {}",
                OTHER_KINDS.join(", ")
            )));
        }
        for n in batches(count.min(MUTATE_OTHER.max)) {
            let now = self.sh.clock.now();
            let mut store = lock(&self.sh.store);
            let batch = match (coll, set) {
                (Some(c), _) => store.mutate_apps(c, n, now),
                (None, Some(r)) => items::mutate(&mut store, r, n, now),
                (None, None) => json!({}),
            };
            add_counts(&mut out, batch);
        }
        Ok(out)
    }

    /// The demo drive's id.
    pub fn drive_id(&self) -> String {
        lock(&self.sh.store).sets.drive_id.clone()
    }

    /// The id of mail folder `name` (a well-known name such as `inbox`).
    pub fn mail_folder_id(&self, name: &str) -> Option<String> {
        lock(&self.sh.store).sets.folder(name).map(str::to_string)
    }

    /// The ids of the personal contact folders (the default one, `contacts`, first).
    pub fn contact_folder_ids(&self) -> Vec<String> {
        let store = lock(&self.sh.store);
        store
            .sets
            .contact_folders
            .iter()
            .map(|f| f.1.clone())
            .collect()
    }

    /// The ids of the To Do lists (the default one first).
    pub fn todo_list_ids(&self) -> Vec<String> {
        let store = lock(&self.sh.store);
        store.sets.todo_lists.iter().map(|l| l.1.clone()).collect()
    }

    /// Creates a drive item (`{"name", "parent", "folder", "size"}`), a message
    /// (`{"subject", "folder"}`), an event (`{"subject", "start", "minutes"}`), a mail folder
    /// (`{"displayName"}`), a personal contact (`{"givenName", "surname", "displayName",
    /// "companyName", "jobTitle", "folder"}`) or a task (`{"title", "importance",
    /// "dueDateTime", "list"}`) → the item.
    pub fn create_item(&self, r: Resource, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        Ok(match r {
            Resource::DriveItems => items::create_drive_item(&mut store, body, now)?,
            Resource::Events => items::create_event(&mut store, body, now)?,
            Resource::MailFolders => items::create_mail_folder(&mut store, body, now)?,
            Resource::PersonalContacts => items::create_personal_contact(&mut store, body, now)?,
            Resource::TodoTasks => items::create_todo_task(&mut store, body, now)?,
            _ => items::create_message(&mut store, body, now)?,
        })
    }

    /// Changes a drive item (`name`, `size`), a message (`isRead`, `subject`, `importance`,
    /// `flag`), an event (`subject`, `start`), a mail folder of the user's own (`displayName`),
    /// a personal contact (`displayName`, `givenName`, `surname`, `companyName`, `jobTitle`,
    /// `categories`) or a task (`title`, `status`, `importance`, `isReminderOn`, `categories`)
    /// → the item.
    pub fn update_item(&self, r: Resource, id: &str, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        Ok(match r {
            Resource::DriveItems => items::update_drive_item(&mut store, id, body, now)?,
            Resource::Events => items::update_event(&mut store, id, body, now)?,
            Resource::MailFolders => items::update_mail_folder(&mut store, id, body, now)?,
            Resource::PersonalContacts => {
                items::update_personal_contact(&mut store, id, body, now)?
            }
            Resource::TodoTasks => items::update_todo_task(&mut store, id, body, now)?,
            _ => items::update_message(&mut store, id, body, now)?,
        })
    }

    /// Deletes a drive item (and what a folder holds), a message, an event, a mail folder of the
    /// user's own (and its messages; a well-known folder is refused, 409), a personal contact or
    /// a task.
    pub fn delete_item(&self, r: Resource, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        Ok(match r {
            Resource::DriveItems => items::delete_drive_item(&mut store, id, now)?,
            Resource::Events => items::delete_event(&mut store, id, now)?,
            Resource::MailFolders => items::delete_mail_folder(&mut store, id, now)?,
            Resource::PersonalContacts => items::delete_personal_contact(&mut store, id, now)?,
            Resource::TodoTasks => items::delete_todo_task(&mut store, id, now)?,
            _ => items::delete_message(&mut store, id, now)?,
        })
    }

    /// The current item (`@emulator.deleted` says whether it was deleted).
    pub fn get_item(&self, r: Resource, id: &str) -> Result<Value, ControlError> {
        let store = lock(&self.sh.store);
        let set = store.sets.set(r);
        let i = set.find(id).ok_or_else(|| ControlError {
            status: 404,
            message: format!("no item with id {id}"),
        })?;
        let it = &set.items[i];
        let mut m: Map<String, Value> = it.body.clone();
        m.insert("@emulator.deleted".into(), json!(it.deleted));
        Ok(Value::Object(m))
    }

    /// Counts and sample ids of the collections and item sets added for issue 15 (for
    /// `GET /_emulator/state`).
    pub(crate) fn state_more(&self) -> Value {
        let store = lock(&self.sh.store);
        let mut out = Map::new();
        for c in Coll::PLAIN {
            let (live, soft, hard) = store.coll(c).counts();
            out.insert(
                c.path_name().into(),
                json!({
                    "generated": store.coll(c).base, "live": live, "softDeleted": soft, "deleted": hard,
                    "sampleIds": (0..store.coll(c).next.min(3)).map(|i| store.id_of(c, i)).collect::<Vec<_>>(),
                }),
            );
        }
        let live = |s: &items::ItemSet| s.items.iter().filter(|i| !i.deleted).count();
        out.insert(
            "drive".into(),
            json!({"id": store.sets.drive_id, "items": live(&store.sets.drive),
                   "rootId": store.sets.drive.items.first().map(|i| i.id.clone())}),
        );
        out.insert(
            "mailbox".into(),
            json!({"owner": store.sets.owner.1, "messages": live(&store.sets.mail),
                   "folders": store.sets.mail_folders.items.iter().filter(|f| !f.deleted).map(|f| json!({"wellKnownName": f.scope, "id": f.id, "displayName": f.body.get("displayName")})).collect::<Vec<_>>(),
                   "contacts": live(&store.sets.contacts),
                   "contactFolders": store.sets.contact_folders.iter().map(|(w, id, name)| json!({"wellKnownName": w, "id": id, "displayName": name})).collect::<Vec<_>>()}),
        );
        out.insert(
            "todo".into(),
            json!({"tasks": live(&store.sets.tasks),
                   "lists": store.sets.todo_lists.iter().map(|(w, id, name)| json!({"wellknownListName": w, "id": id, "displayName": name})).collect::<Vec<_>>()}),
        );
        out.insert(
            "calendar".into(),
            json!({"events": live(&store.sets.events)}),
        );
        Value::Object(out)
    }
}
