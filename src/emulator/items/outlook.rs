//! The demo mailbox (mail folders and their messages) and calendar (events), generated from the
//! seed; message changes through the control API, `mutate` and the churn.
use crate::emulator::token::Resource;
use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::{Map, Value, json};

use super::{Item, Sets, next_rand};
use crate::emulator::store::{CtlError, Store};
use crate::emulator::tenant::{GIVEN, SURNAME, h3, mix, pick, tenant_domain};

/// (well-known name, display name, generated messages)
const FOLDERS: &[(&str, &str, u64)] = &[
    ("inbox", "Inbox", 36),
    ("sentitems", "Sent Items", 10),
    ("archive", "Archive", 8),
    ("drafts", "Drafts", 2),
    ("deleteditems", "Deleted Items", 0),
];

const SUBJECTS: &[&str] = &[
    "Quarterly review: agenda",
    "Re: Budget 2025 numbers",
    "Offsite logistics",
    "Your expense report was approved",
    "Invitation: Design review",
    "Welcome to the team!",
    "Action required: password expiry",
    "Fw: Customer feedback",
    "Release notes for 4.2",
    "Lunch on Friday?",
    "Updated roadmap",
    "Contract renewal",
    "Weekly status",
    "Re: Phoenix launch date",
    "Training sessions next month",
    "Invoice 1042",
];

const PREVIEWS: &[&str] = &[
    "Hi, please find the details below and let me know if anything is missing.",
    "Thanks for the quick turnaround. A few comments inline.",
    "As discussed in the meeting, here are the next steps.",
    "Just a reminder that this is due by the end of the week.",
    "Can we move this to Thursday afternoon? I have a conflict.",
];

/// An Exchange-style id (`AAMkAG…`).
pub(super) fn ex_id(seed: u64, kind: u64, n: u64) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (a, b) = (h3(seed, kind, n), h3(seed, kind ^ 0x55, n));
    let body: String = (0..64)
        .map(|i| A[(mix(a ^ b.rotate_left(i) ^ u64::from(i)) & 63) as usize] as char)
        .collect();
    format!("AAMkAG{body}AAA=")
}

fn person(seed: u64, r: u64) -> Value {
    let (g, s) = (pick(GIVEN, r), pick(SURNAME, r >> 8));
    let addr: String = format!("{g}.{s}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect::<String>()
        .to_ascii_lowercase();
    json!({"emailAddress": {"name": format!("{g} {s}"), "address": format!("{addr}@{}", tenant_domain(seed))}})
}

pub(super) fn time(t: DateTime<Utc>) -> Value {
    json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

pub(super) fn etag(id: &str, version: u64) -> (Value, Value) {
    let tail: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .rev()
        .take(12)
        .collect();
    let key = format!("CQAAABYAAA{tail}{version:04}");
    (json!(format!("W/\"{key}\"")), json!(key))
}

pub(super) fn set_version(body: &mut Map<String, Value>, id: &str, version: u64) {
    let (e, k) = etag(id, version);
    body.insert("@odata.etag".into(), e);
    body.insert("changeKey".into(), k);
}

/// A message's properties.
fn message(
    s: &Sets,
    seed: u64,
    id: &str,
    folder: &str,
    subject: &str,
    r: u64,
    at: DateTime<Utc>,
) -> Map<String, Value> {
    let sent = s.folder("sentitems") == Some(folder);
    let owner = json!({"emailAddress": {"name": s.owner.0, "address": s.owner.1}});
    let other = person(seed, r >> 5);
    let (from, to) = if sent {
        (owner.clone(), other)
    } else {
        (other, owner)
    };
    let preview = pick(PREVIEWS, r >> 13);
    let conv = ex_id(seed, 0xC0, r % 1000);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("createdDateTime".into(), time(at));
    m.insert("lastModifiedDateTime".into(), time(at));
    m.insert("categories".into(), json!([]));
    m.insert("receivedDateTime".into(), time(at));
    m.insert("sentDateTime".into(), time(at - Duration::seconds(3)));
    m.insert("hasAttachments".into(), json!(r.is_multiple_of(5)));
    m.insert(
        "internetMessageId".into(),
        json!(format!("<{:016x}@{}>", r, tenant_domain(seed))),
    );
    m.insert("subject".into(), json!(subject));
    m.insert("bodyPreview".into(), json!(preview));
    m.insert(
        "importance".into(),
        json!(if r.is_multiple_of(11) {
            "high"
        } else {
            "normal"
        }),
    );
    m.insert("parentFolderId".into(), json!(folder));
    m.insert("conversationId".into(), json!(conv));
    m.insert("isDeliveryReceiptRequested".into(), json!(false));
    m.insert("isReadReceiptRequested".into(), json!(false));
    m.insert("isRead".into(), json!(sent || !r.is_multiple_of(3)));
    m.insert("isDraft".into(), json!(false));
    m.insert(
        "webLink".into(),
        json!(format!(
            "https://outlook.office365.com/owa/?ItemID={id}&exvsurl=1&viewmodel=ReadMessageItem"
        )),
    );
    m.insert("inferenceClassification".into(), json!("focused"));
    m.insert(
        "body".into(),
        json!({"contentType": "html", "content": format!("<html><body><p>{preview}</p></body></html>")}),
    );
    m.insert("sender".into(), from.clone());
    m.insert("from".into(), from);
    m.insert("toRecipients".into(), json!([to]));
    m.insert("ccRecipients".into(), json!([]));
    m.insert("bccRecipients".into(), json!([]));
    m.insert("replyTo".into(), json!([]));
    m.insert(
        "flag".into(),
        json!({"flagStatus": if r.is_multiple_of(13) { "flagged" } else { "notFlagged" }}),
    );
    set_version(&mut m, id, 1);
    m
}

/// An event's properties.
fn event(
    s: &Sets,
    seed: u64,
    id: &str,
    subject: &str,
    r: u64,
    start: DateTime<Utc>,
    minutes: i64,
) -> Map<String, Value> {
    let dt = |t: DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": "UTC"});
    let organizer_is_owner = r.is_multiple_of(3);
    let owner = json!({"emailAddress": {"name": s.owner.0, "address": s.owner.1}});
    let other = person(seed, r >> 7);
    let organizer = if organizer_is_owner {
        owner
    } else {
        other.clone()
    };
    let created = start - Duration::days(7);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("createdDateTime".into(), time(created));
    m.insert("lastModifiedDateTime".into(), time(created));
    m.insert("categories".into(), json!([]));
    m.insert("subject".into(), json!(subject));
    m.insert("bodyPreview".into(), json!(pick(PREVIEWS, r >> 11)));
    m.insert("importance".into(), json!("normal"));
    m.insert("sensitivity".into(), json!("normal"));
    m.insert("isAllDay".into(), json!(false));
    m.insert("isCancelled".into(), json!(false));
    m.insert("isOrganizer".into(), json!(organizer_is_owner));
    m.insert("showAs".into(), json!("busy"));
    m.insert("type".into(), json!("singleInstance"));
    m.insert("start".into(), dt(start));
    m.insert("end".into(), dt(start + Duration::minutes(minutes)));
    m.insert("location".into(), json!({"displayName": if r.is_multiple_of(2) { "Microsoft Teams Meeting" } else { "Conf Room 4/1201" }}));
    m.insert("organizer".into(), organizer);
    let mut a = other;
    a["type"] = json!("required");
    a["status"] = json!({"response": "accepted", "time": "0001-01-01T00:00:00Z"});
    m.insert("attendees".into(), json!([a]));
    m.insert("isOnlineMeeting".into(), json!(r.is_multiple_of(2)));
    m.insert("isDraft".into(), json!(false));
    m.insert("isReminderOn".into(), json!(true));
    m.insert("reminderMinutesBeforeStart".into(), json!(15));
    m.insert("originalStartTimeZone".into(), json!("UTC"));
    m.insert("originalEndTimeZone".into(), json!("UTC"));
    m.insert("transactionId".into(), Value::Null);
    m.insert(
        "iCalUId".into(),
        json!(format!(
            "040000008200E00074C5B7101A82E008{:016X}{:016X}",
            r,
            mix(r)
        )),
    );
    m.insert(
        "responseStatus".into(),
        json!({"response": if organizer_is_owner { "organizer" } else { "accepted" },
               "time": "0001-01-01T00:00:00Z"}),
    );
    m.insert(
        "webLink".into(),
        json!(format!(
            "https://outlook.office365.com/owa/?itemid={id}&exvsurl=1&path=/calendar/item"
        )),
    );
    set_version(&mut m, id, 1);
    m
}

pub(super) fn generate(s: &mut Sets, seed: u64, now: DateTime<Utc>, inbox: u64) {
    s.mail_root = ex_id(seed, 0xF1, 0);
    for (k, &(w, name, _)) in FOLDERS.iter().enumerate() {
        super::folders::push_generated(s, w, ex_id(seed, 0xF0, k as u64), name, now);
    }
    let mut n = 0u64;
    // Messages: received over the last 60 days before the hour of start.
    let base = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .unwrap_or(now);
    for (k, &(_, _, count)) in FOLDERS.iter().enumerate() {
        let count = if k == 0 { inbox } else { count };
        let Some(folder) = s.mail_folders.items.get(k).map(|f| f.id.clone()) else {
            continue;
        };
        for j in 0..count {
            let r = h3(seed, 0xE1, n);
            let at = base - Duration::minutes(((j + 1) * 1_440 + r % 1_400) as i64 * 60 / 60);
            let id = ex_id(seed, 0xE2, n);
            let b = message(s, seed, &id, &folder, pick(SUBJECTS, r), r, at);
            s.mail.push(Item {
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
    super::folders::generate_more(s, seed, now);
    // Events: over 20 days before and 40 days after start, in working hours.
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    for j in 0..30u64 {
        let r = h3(seed, 0xE5, j);
        let start = day + Duration::days((j as i64 * 2) - 20) + Duration::hours(8 + (r % 9) as i64);
        let id = ex_id(seed, 0xE6, j);
        let subject = pick(SUBJECTS, r >> 3)
            .trim_start_matches("Re: ")
            .trim_start_matches("Invitation: ");
        let b = event(
            s,
            seed,
            &id,
            subject,
            r,
            start,
            30 * (1 + (r >> 20) % 4) as i64,
        );
        s.events.push(Item {
            id,
            pos: 0,
            created: 0,
            at: start - Duration::days(7),
            deleted: false,
            scope: String::new(),
            body: b,
        });
    }
}

/// Adds a message to folder `"folder"` (a well-known name or an id; default the inbox) with
/// `"subject"` → the message.
pub fn create_message(
    store: &mut Store,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let folder = body
        .get("folder")
        .and_then(Value::as_str)
        .unwrap_or("inbox");
    let folder = store
        .sets
        .folder(folder)
        .ok_or_else(|| CtlError::NotFound(format!("no mail folder {folder}")))?
        .to_string();
    let r = next_rand(&mut store.sets.rng);
    let subject = match body.get("subject") {
        None => pick(SUBJECTS, r).to_string(),
        Some(Value::String(s)) if s.len() <= 1000 => s.clone(),
        Some(_) => return Err(CtlError::BadRequest("\"subject\" must be a string".into())),
    };
    let id = ex_id(
        store.seed,
        0xE3,
        store.sets.mail.items.len() as u64 ^ (r << 20),
    );
    let pos = store.log_item(now);
    let mut b = message(&store.sets, store.seed, &id, &folder, &subject, r, now);
    b.insert("isRead".into(), json!(false));
    store
        .sets
        .mail
        .push(Item::created(id, pos, now, folder.clone(), b.clone()));
    super::folders::recount(store, &folder, 1, 1, now);
    Ok(Value::Object(b))
}

/// Changes `isRead`, `subject`, `importance` or `flag` of a message → the message.
pub fn update_message(
    store: &mut Store,
    id: &str,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = store.sets.mail.live(id, "message")?;
    let mut changes = Vec::new();
    for (k, v) in body {
        let ok = match k.as_str() {
            "isRead" => v.is_boolean(),
            "subject" | "importance" => v.is_string(),
            "flag" => v.is_object(),
            _ => false,
        };
        if !ok {
            return Err(CtlError::BadRequest(format!(
                "the emulator changes isRead, subject, importance and flag of a message; not {k:?} = {v}"
            )));
        }
        changes.push((k.clone(), v.clone()));
    }
    if changes.is_empty() {
        return Err(CtlError::BadRequest("give e.g. {\"isRead\": true}".into()));
    }
    let pos = store.log_item(now);
    let it = &mut store.sets.mail.items[i];
    let unread = |it: &Item| it.body.get("isRead") == Some(&Value::Bool(false));
    let was_unread = unread(it);
    for (k, v) in changes {
        it.body.insert(k, v);
    }
    let d_unread = i64::from(unread(it)) - i64::from(was_unread);
    let folder = it.scope.clone();
    let out = stamp(it, pos, now);
    if d_unread != 0 {
        super::folders::recount(store, &folder, 0, d_unread, now);
    }
    Ok(out)
}

/// Deletes a message for good (`@removed` reason `deleted`).
pub fn delete_message(store: &mut Store, id: &str, now: DateTime<Utc>) -> Result<Value, CtlError> {
    let i = store.sets.mail.live(id, "message")?;
    let pos = store.log_item(now);
    let it = &mut store.sets.mail.items[i];
    let unread = i64::from(it.body.get("isRead") == Some(&Value::Bool(false)));
    let folder = it.scope.clone();
    let out = mark_deleted(it, pos, now);
    super::folders::recount(store, &folder, -1, -unread, now);
    Ok(out)
}

/// Item `it` changed at log position `pos`: its time, `lastModifiedDateTime` and version (the
/// change key and etag); its body as the control API answers.
pub(super) fn stamp(it: &mut Item, pos: u64, now: DateTime<Utc>) -> Value {
    it.pos = pos;
    it.at = now;
    it.body.insert("lastModifiedDateTime".into(), time(now));
    let id = it.id.clone();
    set_version(&mut it.body, &id, pos + 1);
    Value::Object(it.body.clone())
}

/// Item `it` deleted at log position `pos` (its next round has `@removed`).
pub(super) fn mark_deleted(it: &mut Item, pos: u64, now: DateTime<Utc>) -> Value {
    it.deleted = true;
    it.pos = pos;
    it.at = now;
    json!({"id": it.id, "status": "deleted"})
}

/// One random change: 0 updated (read, flagged), 1 created (a new inbox message), 2 deleted.
pub(super) fn mutate_one(store: &mut Store, now: DateTime<Utc>) -> Option<usize> {
    let (r, kind, i) = super::draw(store, Resource::Messages, 5, 8);
    let id = i.map(|i| store.sets.mail.items[i].id.clone());
    let ok = match kind {
        0 => {
            let mut b = Map::new();
            if r & 0x10000 == 0 {
                b.insert("isRead".into(), json!(true));
            } else {
                b.insert("flag".into(), json!({"flagStatus": "flagged"}));
            }
            update_message(store, &id?, &b, now).is_ok()
        }
        1 => create_message(store, &Map::new(), now).is_ok(),
        _ => delete_message(store, &id?, now).is_ok(),
    };
    ok.then_some(kind)
}

/// Adds an event (`"subject"`, `"start"`: a date-time, default an hour from now, `"minutes"`:
/// 1-1440, default 30) → the event.
pub fn create_event(
    store: &mut Store,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let r = next_rand(&mut store.sets.rng);
    let subject = match body.get("subject") {
        None => pick(SUBJECTS, r).to_string(),
        Some(Value::String(s)) if s.len() <= 1000 => s.clone(),
        Some(_) => return Err(CtlError::BadRequest("\"subject\" must be a string".into())),
    };
    let start = event_start(body)?.unwrap_or(now + Duration::hours(1));
    let minutes = match body.get("minutes") {
        None => 30,
        Some(v) => v
            .as_i64()
            .filter(|m| (1..=1440).contains(m))
            .ok_or_else(|| CtlError::BadRequest("\"minutes\" must be in 1 to 1440".into()))?,
    };
    let id = ex_id(
        store.seed,
        0xE7,
        store.sets.events.items.len() as u64 ^ (r << 20),
    );
    let pos = store.log_item(now);
    let mut b = event(&store.sets, store.seed, &id, &subject, r, start, minutes);
    b.insert("createdDateTime".into(), time(now));
    b.insert("lastModifiedDateTime".into(), time(now));
    store
        .sets
        .events
        .push(Item::created(id, pos, now, String::new(), b.clone()));
    Ok(Value::Object(b))
}

/// `"start"` of a control body, if given.
fn event_start(body: &Map<String, Value>) -> Result<Option<DateTime<Utc>>, CtlError> {
    match body.get("start") {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(super::parse_time)
            .map(Some)
            .ok_or_else(|| {
                CtlError::BadRequest(
                    "\"start\" must be a date-time such as 2025-01-01T09:00:00Z".into(),
                )
            }),
    }
}

/// Changes an event's `subject` or moves it (`start`, keeping its length) → the event.
pub fn update_event(
    store: &mut Store,
    id: &str,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = store.sets.events.live(id, "event")?;
    if body.keys().any(|k| k != "subject" && k != "start") {
        return Err(CtlError::BadRequest(
            "the emulator changes subject and start of an event".into(),
        ));
    }
    let subject = match body.get("subject") {
        None => None,
        Some(Value::String(s)) if s.len() <= 1000 => Some(s.clone()),
        Some(_) => return Err(CtlError::BadRequest("\"subject\" must be a string".into())),
    };
    let start = event_start(body)?;
    if subject.is_none() && start.is_none() {
        return Err(CtlError::BadRequest(
            "give {\"subject\": …} and/or {\"start\": …}".into(),
        ));
    }
    let pos = store.log_item(now);
    let it = &mut store.sets.events.items[i];
    if let Some(s) = subject {
        it.body.insert("subject".into(), json!(s));
    }
    if let Some(new_start) = start {
        let t = |k: &str| {
            it.body
                .get(k)
                .and_then(|v| v["dateTime"].as_str())
                .and_then(super::parse_time)
        };
        let length = match (t("start"), t("end")) {
            (Some(s), Some(e)) => e - s,
            _ => Duration::minutes(30),
        };
        let dt = |t: DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": "UTC"});
        it.body.insert("start".into(), dt(new_start));
        it.body.insert("end".into(), dt(new_start + length));
    }
    Ok(stamp(it, pos, now))
}

/// Deletes (cancels) an event.
pub fn delete_event(store: &mut Store, id: &str, now: DateTime<Utc>) -> Result<Value, CtlError> {
    super::delete_item(store, Resource::Events, id, "event", now)
}

/// One random event change: 0 updated (renamed or moved by a day), 1 created, 2 deleted.
pub(super) fn mutate_event_one(store: &mut Store, now: DateTime<Utc>) -> Option<usize> {
    let (r, kind, i) = super::draw(store, Resource::Events, 6, 8);
    let id = i.map(|i| store.sets.events.items[i].id.clone());
    let ok = match kind {
        0 => {
            let i = i?;
            let mut b = Map::new();
            if r & 0x10000 == 0 {
                b.insert("subject".into(), json!(pick(SUBJECTS, r >> 20)));
            } else {
                let start = store.sets.events.items[i]
                    .body
                    .get("start")
                    .and_then(|v| v["dateTime"].as_str())
                    .and_then(super::parse_time)
                    .unwrap_or(now);
                let moved = start + Duration::days(1);
                b.insert(
                    "start".into(),
                    json!(moved.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                );
            }
            update_event(store, &id?, &b, now).is_ok()
        }
        1 => {
            let mut b = Map::new();
            let start = now + Duration::days((r >> 24) as i64 % 30) + Duration::hours(1);
            b.insert(
                "start".into(),
                json!(start.format("%Y-%m-%dT%H:00:00Z").to_string()),
            );
            create_event(store, &b, now).is_ok()
        }
        _ => delete_event(store, &id?, now).is_ok(),
    };
    ok.then_some(kind)
}
