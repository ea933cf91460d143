//! The demo mailbox's personal (Outlook) contacts, in contact folders
//! (`contactFolders/{id}/contacts/delta`): generated from the seed; changes through the control
//! API, `mutate` and the churn.
use crate::emulator::token::Resource;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::outlook::{ex_id, set_version, stamp, time};
use super::{Item, Sets, next_rand};
use crate::emulator::store::{CtlError, Store};
use crate::emulator::tenant::{GIVEN, SURNAME, h3, pick};

/// (well-known name, display name, generated contacts; `None`: the configured number)
const FOLDERS: &[(&str, &str, Option<u64>)] =
    &[("contacts", "Contacts", None), ("", "Suppliers", Some(6))];

const COMPANIES: &[(&str, &str)] = &[
    ("Contoso Ltd", "contoso.com"),
    ("Fabrikam Inc", "fabrikam.com"),
    ("Northwind Traders", "northwindtraders.com"),
    ("Adventure Works", "adventure-works.com"),
    ("Tailspin Toys", "tailspintoys.com"),
    ("Wide World Importers", "wideworldimporters.com"),
    ("Litware Inc", "litwareinc.com"),
    ("Woodgrove Bank", "woodgrovebank.com"),
];

const JOBS: &[&str] = &[
    "Account Manager",
    "Buyer",
    "Chief Financial Officer",
    "Consultant",
    "Office Manager",
    "Product Manager",
    "Sales Representative",
    "Software Engineer",
];

const CATEGORIES: &[&str] = &["Customers", "Suppliers", "Family", "Friends"];

/// Longest string value the control API takes.
const TEXT_MAX: usize = 1000;

/// A contact's properties.
fn contact(
    id: &str,
    folder: &str,
    (given, surname): (&str, &str),
    r: u64,
    at: DateTime<Utc>,
) -> Map<String, Value> {
    let (company, domain) = pick(COMPANIES, r >> 9);
    let local: String = format!("{given}.{surname}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect::<String>()
        .to_ascii_lowercase();
    let name = format!("{given} {surname}").trim().to_string();
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("createdDateTime".into(), time(at));
    m.insert("lastModifiedDateTime".into(), time(at));
    m.insert(
        "categories".into(),
        if r.is_multiple_of(4) {
            json!([pick(CATEGORIES, r >> 21)])
        } else {
            json!([])
        },
    );
    m.insert("parentFolderId".into(), json!(folder));
    m.insert("birthday".into(), Value::Null);
    m.insert("fileAs".into(), json!(format!("{surname}, {given}")));
    m.insert("displayName".into(), json!(name));
    m.insert("givenName".into(), json!(given));
    m.insert("initials".into(), Value::Null);
    m.insert("middleName".into(), Value::Null);
    m.insert("nickName".into(), Value::Null);
    m.insert("surname".into(), json!(surname));
    m.insert("title".into(), Value::Null);
    m.insert("jobTitle".into(), json!(pick(JOBS, r >> 13)));
    m.insert("companyName".into(), json!(company));
    m.insert("department".into(), Value::Null);
    m.insert("officeLocation".into(), Value::Null);
    m.insert("businessHomePage".into(), Value::Null);
    m.insert("mobilePhone".into(), Value::Null);
    m.insert("homePhones".into(), json!([]));
    m.insert(
        "businessPhones".into(),
        json!([format!("+1 425 555 {:04}", r % 10_000)]),
    );
    m.insert("imAddresses".into(), json!([]));
    m.insert(
        "emailAddresses".into(),
        json!([{"name": name, "address": format!("{local}@{domain}")}]),
    );
    m.insert("businessAddress".into(), json!({}));
    m.insert("homeAddress".into(), json!({}));
    m.insert("otherAddress".into(), json!({}));
    m.insert("personalNotes".into(), json!(""));
    set_version(&mut m, id, 1);
    m
}

pub(super) fn generate(s: &mut Sets, seed: u64, now: DateTime<Utc>, count: u64) {
    let mut n = 0u64;
    for (k, &(w, name, fixed)) in FOLDERS.iter().enumerate() {
        let folder = ex_id(seed, 0xC5, k as u64);
        s.contact_folders.push((w, folder.clone(), name));
        for _ in 0..fixed.unwrap_or(count) {
            let r = h3(seed, 0xC6, n);
            let at = now - Duration::minutes((1_440 * 30 + r % (1_440 * 300)) as i64);
            let id = ex_id(seed, 0xC7, n);
            let people = (pick(GIVEN, r), pick(SURNAME, r >> 5));
            let b = contact(&id, &folder, people, r, at);
            s.contacts.push(Item {
                id,
                pos: 0,
                created: 0,
                at,
                deleted: false,
                scope: folder.clone(),
                body: b,
            });
            n += 1;
        }
    }
}

/// A string of a control body, if given (at most [`TEXT_MAX`] characters).
fn text<'a>(body: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, CtlError> {
    match body.get(k) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= TEXT_MAX => Ok(Some(s)),
        Some(_) => Err(CtlError::BadRequest(format!(
            "{k:?} must be a string of at most {TEXT_MAX} characters"
        ))),
    }
}

/// Adds a contact to `"folder"` (an id or `contacts`, the default) with `"givenName"`,
/// `"surname"`, `"displayName"`, `"companyName"`, `"jobTitle"` → the contact.
pub fn create_personal_contact(
    store: &mut Store,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    const KEYS: &[&str] = &[
        "folder",
        "givenName",
        "surname",
        "displayName",
        "companyName",
        "jobTitle",
    ];
    if let Some(k) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(CtlError::BadRequest(format!(
            "a contact is created with {}; not {k:?}",
            KEYS.join(", ")
        )));
    }
    let folder = text(body, "folder")?.unwrap_or("contacts");
    let folder = store
        .sets
        .contact_folder(folder)
        .ok_or_else(|| CtlError::NotFound(format!("no contact folder {folder}")))?
        .to_string();
    let r = next_rand(&mut store.sets.rng);
    let given = text(body, "givenName")?
        .unwrap_or(pick(GIVEN, r))
        .to_string();
    let surname = text(body, "surname")?
        .unwrap_or(pick(SURNAME, r >> 5))
        .to_string();
    let id = ex_id(
        store.seed,
        0xC8,
        store.sets.contacts.items.len() as u64 ^ (r << 20),
    );
    let mut b = contact(&id, &folder, (&given, &surname), r, now);
    for k in ["displayName", "companyName", "jobTitle"] {
        if let Some(v) = text(body, k)? {
            b.insert(k.into(), json!(v));
        }
    }
    let pos = store.log_item(now);
    store
        .sets
        .contacts
        .push(Item::created(id, pos, now, folder, b.clone()));
    Ok(Value::Object(b))
}

/// Changes `displayName`, `givenName`, `surname`, `companyName`, `jobTitle` or `categories` (a
/// list of at most 20 strings) of a contact → the contact.
pub fn update_personal_contact(
    store: &mut Store,
    id: &str,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = store.sets.contacts.live(id, "contact")?;
    let mut changes = Vec::new();
    for (k, v) in body {
        let ok = match k.as_str() {
            "displayName" | "givenName" | "surname" | "companyName" | "jobTitle" => {
                text(body, k)?.is_some()
            }
            "categories" => v.as_array().is_some_and(|a| {
                a.len() <= 20
                    && a.iter()
                        .all(|c| c.as_str().is_some_and(|c| c.chars().count() <= 255))
            }),
            _ => false,
        };
        if !ok {
            return Err(CtlError::BadRequest(format!(
                "the emulator changes displayName, givenName, surname, companyName, jobTitle \
                 and categories of a contact; not {k:?} = {v}"
            )));
        }
        changes.push((k.clone(), v.clone()));
    }
    if changes.is_empty() {
        return Err(CtlError::BadRequest(
            "give e.g. {\"jobTitle\": \"Buyer\"}".into(),
        ));
    }
    let pos = store.log_item(now);
    let it = &mut store.sets.contacts.items[i];
    for (k, v) in changes {
        it.body.insert(k, v);
    }
    Ok(stamp(it, pos, now))
}

/// Deletes a contact (`@removed` reason `deleted`).
pub fn delete_personal_contact(
    store: &mut Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    super::delete_item(store, Resource::PersonalContacts, id, "contact", now)
}

/// One random contact change: 0 updated (job title, company or categories), 1 created (in the
/// default folder), 2 deleted.
pub(super) fn mutate_one(store: &mut Store, now: DateTime<Utc>) -> Option<usize> {
    let (r, kind, i) = super::draw(store, Resource::PersonalContacts, 5, 8);
    let id = i.map(|i| store.sets.contacts.items[i].id.clone());
    let ok = match kind {
        0 => {
            let mut b = Map::new();
            match (r >> 16) % 3 {
                0 => b.insert("jobTitle".into(), json!(pick(JOBS, r >> 20))),
                1 => b.insert("companyName".into(), json!(pick(COMPANIES, r >> 20).0)),
                _ => b.insert("categories".into(), json!([pick(CATEGORIES, r >> 20)])),
            };
            update_personal_contact(store, &id?, &b, now).is_ok()
        }
        1 => create_personal_contact(store, &Map::new(), now).is_ok(),
        _ => delete_personal_contact(store, &id?, now).is_ok(),
    };
    ok.then_some(kind)
}
