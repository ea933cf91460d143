//! The demo mailbox's mail folders as items of their own (`mailFolders/delta`): the well-known
//! folders the messages sit in, two folders of the user's own, and the ones the control API,
//! `mutate` and the churn create, rename and delete.
//!
//! A folder's `totalItemCount` and `unreadItemCount` follow its messages: a message created,
//! read or deleted changes its folder too, which then comes in the next mailFolders round (as
//! Outlook reports a folder whose counts changed).
//!
//! Well-known folders (Inbox, Sent Items…) are neither renamed nor deleted (Exchange refuses
//! both: `ErrorDeleteDistinguishedFolder`); deleting a folder of the user's own deletes its
//! messages with it (each in its messages round as `@removed`).
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::outlook::ex_id;
use super::{Item, Sets, next_rand};
use crate::emulator::store::{CtlError, Store};
use crate::emulator::tenant::pick;

/// Folders of the user's own generated at start (empty).
const OWN: &[&str] = &["Projects", "Receipts"];

/// Names of the folders `mutate` creates.
const NAMES: &[&str] = &[
    "Travel",
    "Invoices",
    "Team",
    "Newsletters",
    "Customers",
    "Follow up",
    "Hiring",
    "Events",
];

/// Longest folder name the control API takes.
const NAME_MAX: usize = 255;

fn body(id: &str, name: &str, parent: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("displayName".into(), json!(name));
    m.insert("parentFolderId".into(), json!(parent));
    m.insert("childFolderCount".into(), json!(0));
    m.insert("unreadItemCount".into(), json!(0));
    m.insert("totalItemCount".into(), json!(0));
    m.insert("isHidden".into(), json!(false));
    m
}

/// A generated folder (`well_known` its well-known name, "" for one of the user's own).
pub(super) fn push_generated(
    s: &mut Sets,
    well_known: &str,
    id: String,
    name: &str,
    now: DateTime<Utc>,
) {
    let b = body(&id, name, &s.mail_root);
    s.mail_folders.push(Item {
        id,
        pos: 0,
        created: 0,
        at: now - Duration::days(365),
        deleted: false,
        scope: well_known.to_string(),
        body: b,
    });
}

/// The user's own folders, then every folder's counts from the messages generated.
pub(super) fn generate_more(s: &mut Sets, seed: u64, now: DateTime<Utc>) {
    for (k, name) in OWN.iter().enumerate() {
        push_generated(s, "", ex_id(seed, 0xF2, k as u64), name, now);
    }
    let mut counts: std::collections::HashMap<&str, (u64, u64)> = Default::default();
    for m in s.mail.items.iter().filter(|m| !m.deleted) {
        let c = counts.entry(m.scope.as_str()).or_default();
        c.0 += 1;
        c.1 += u64::from(m.body.get("isRead") == Some(&Value::Bool(false)));
    }
    let counts: Vec<(u64, u64)> = s
        .mail_folders
        .items
        .iter()
        .map(|f| counts.get(f.id.as_str()).copied().unwrap_or_default())
        .collect();
    for (f, (total, unread)) in s.mail_folders.items.iter_mut().zip(counts) {
        f.body.insert("totalItemCount".into(), json!(total));
        f.body.insert("unreadItemCount".into(), json!(unread));
    }
}

/// Folder `id` gained `total` messages, `unread` of them unread (negative: lost): its counts
/// change and it moves to a new position (a deleted or unknown folder is left alone).
pub(super) fn recount(store: &mut Store, id: &str, total: i64, unread: i64, now: DateTime<Utc>) {
    let Some(i) = store.sets.mail_folders.find(id) else {
        return;
    };
    if store.sets.mail_folders.items[i].deleted {
        return;
    }
    let pos = store.log_item(now);
    let f = &mut store.sets.mail_folders.items[i];
    for (k, d) in [("totalItemCount", total), ("unreadItemCount", unread)] {
        let n = f.body.get(k).and_then(Value::as_i64).unwrap_or(0);
        f.body.insert(k.into(), json!(n.saturating_add(d).max(0)));
    }
    f.pos = pos;
    f.at = now;
}

/// `"displayName"` of a control body: a string of 1 to 255 characters, not a live folder's.
fn new_name(store: &Store, body: &Map<String, Value>, except: &str) -> Result<String, CtlError> {
    let name = match body.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= NAME_MAX => {
            s.trim().to_string()
        }
        _ => {
            return Err(CtlError::BadRequest(format!(
                "\"displayName\" must be a string of 1 to {NAME_MAX} characters"
            )));
        }
    };
    let taken = store.sets.mail_folders.items.iter().any(|f| {
        !f.deleted
            && f.id != except
            && f.body
                .get("displayName")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
    });
    if taken {
        return Err(CtlError::Conflict(format!(
            "a folder named {name:?} exists already (ErrorFolderExists)"
        )));
    }
    Ok(name)
}

/// Creates a top-level folder (`{"displayName"}`) → the folder.
pub fn create_mail_folder(
    store: &mut Store,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    if let Some(k) = body.keys().find(|k| *k != "displayName") {
        return Err(CtlError::BadRequest(format!(
            "a mail folder is created with {{\"displayName\"}} only; not {k:?}"
        )));
    }
    let name = new_name(store, body, "")?;
    let r = next_rand(&mut store.sets.rng);
    let id = ex_id(
        store.seed,
        0xF3,
        store.sets.mail_folders.items.len() as u64 ^ (r << 20),
    );
    let pos = store.log_item(now);
    let b = body_of(&store.sets, &id, &name);
    store
        .sets
        .mail_folders
        .push(Item::created(id, pos, now, String::new(), b.clone()));
    Ok(Value::Object(b))
}

fn body_of(s: &Sets, id: &str, name: &str) -> Map<String, Value> {
    body(id, name, &s.mail_root)
}

/// The live folder `id` of the user's own (a well-known one is refused: `what` it was asked).
fn own_folder(store: &Store, id: &str, what: &str) -> Result<usize, CtlError> {
    let i = store.sets.mail_folders.live(id, "mail folder")?;
    let f = &store.sets.mail_folders.items[i];
    if !f.scope.is_empty() {
        return Err(CtlError::Conflict(format!(
            "{} is a well-known folder ({}): Outlook does not {what} it",
            f.id, f.scope
        )));
    }
    Ok(i)
}

/// Renames a folder of the user's own (`{"displayName"}`) → the folder.
pub fn update_mail_folder(
    store: &mut Store,
    id: &str,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = own_folder(store, id, "rename")?;
    if body.keys().any(|k| k != "displayName") || body.is_empty() {
        return Err(CtlError::BadRequest(
            "the emulator renames a mail folder: give {\"displayName\": …}".into(),
        ));
    }
    let canonical = store.sets.mail_folders.items[i].id.clone();
    let name = new_name(store, body, &canonical)?;
    let pos = store.log_item(now);
    let f = &mut store.sets.mail_folders.items[i];
    f.body.insert("displayName".into(), json!(name));
    f.pos = pos;
    f.at = now;
    Ok(Value::Object(f.body.clone()))
}

/// Deletes a folder of the user's own and the messages in it.
pub fn delete_mail_folder(
    store: &mut Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = own_folder(store, id, "delete")?;
    let folder = store.sets.mail_folders.items[i].id.clone();
    let messages: Vec<usize> = (0..store.sets.mail.items.len())
        .filter(|&k| {
            let m = &store.sets.mail.items[k];
            !m.deleted && m.scope == folder
        })
        .collect();
    for &k in &messages {
        let pos = store.log_item(now);
        super::outlook::mark_deleted(&mut store.sets.mail.items[k], pos, now);
    }
    let pos = store.log_item(now);
    super::outlook::mark_deleted(&mut store.sets.mail_folders.items[i], pos, now);
    Ok(json!({"id": folder, "status": "deleted", "messagesDeleted": messages.len()}))
}

/// One random folder change: 0 renamed, 1 created, 2 deleted (folders of the user's own).
pub(super) fn mutate_one(store: &mut Store, now: DateTime<Utc>) -> Option<usize> {
    let r = next_rand(&mut store.sets.rng);
    let own: Vec<String> = store
        .sets
        .mail_folders
        .items
        .iter()
        .filter(|f| !f.deleted && f.scope.is_empty())
        .map(|f| f.id.clone())
        .collect();
    let kind = match r % 10 {
        _ if own.is_empty() => 1,
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    };
    let id = own.get((r >> 8) as usize % own.len().max(1)).cloned();
    let name = format!("{} {}", pick(NAMES, r >> 16), (r >> 32) % 10_000);
    let mut b = Map::new();
    b.insert("displayName".into(), json!(name));
    let ok = match kind {
        0 => update_mail_folder(store, &id?, &b, now).is_ok(),
        1 => create_mail_folder(store, &b, now).is_ok(),
        _ => delete_mail_folder(store, &id?, now).is_ok(),
    };
    ok.then_some(kind)
}
