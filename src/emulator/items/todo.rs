//! The demo user's Microsoft To Do lists and their tasks (`todo/lists/{id}/tasks/delta`):
//! generated from the seed; changes (created, renamed, completed, deleted) through the control
//! API, `mutate` and the churn.
use crate::emulator::token::Resource;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::outlook::{ex_id, time};
use super::{Item, Sets, next_rand};
use crate::emulator::store::{CtlError, Store};
use crate::emulator::tenant::{h3, pick};

/// (wellknownListName, display name, generated tasks; `None`: the configured number)
const LISTS: &[(&str, &str, Option<u64>)] = &[
    ("defaultList", "Tasks", None),
    ("none", "Groceries", Some(5)),
];

const TITLES: &[&str] = &[
    "Prepare the quarterly review",
    "Call the insurance company",
    "Book flights for the offsite",
    "Renew the passport",
    "Send the invoice to Fabrikam",
    "Review the pull request",
    "Water the plants",
    "Update the roadmap slides",
    "Pay the electricity bill",
    "Plan the team lunch",
    "Buy milk",
    "Answer the recruiter",
];

const NOTES: &[&str] = &[
    "",
    "See the email from last week.",
    "Before Friday.",
    "Ask Sam for the numbers first.",
];

const STATUSES: &[&str] = &[
    "notStarted",
    "inProgress",
    "completed",
    "waitingOnOthers",
    "deferred",
];

/// Longest title the control API takes.
const TITLE_MAX: usize = 255;

/// A dateTimeTimeZone in UTC, as To Do writes it.
fn dtz(t: DateTime<Utc>) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": "UTC"})
}

/// The etag of version `version` of task `id`.
fn set_etag(body: &mut Map<String, Value>, id: &str, version: u64) {
    let tail: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .rev()
        .take(16)
        .collect();
    body.insert(
        "@odata.etag".into(),
        json!(format!("W/\"{tail}{version:06}==\"")),
    );
}

/// A task's properties.
fn task(id: &str, title: &str, r: u64, at: DateTime<Utc>) -> Map<String, Value> {
    let mut m = Map::new();
    set_etag(&mut m, id, 1);
    m.insert(
        "importance".into(),
        json!(if r.is_multiple_of(7) {
            "high"
        } else if r.is_multiple_of(11) {
            "low"
        } else {
            "normal"
        }),
    );
    let reminder = r.is_multiple_of(4);
    m.insert("isReminderOn".into(), json!(reminder));
    let status = match r % 6 {
        0..=2 => "notStarted",
        3 => "inProgress",
        _ => "completed",
    };
    m.insert("status".into(), json!(status));
    m.insert("title".into(), json!(title));
    m.insert("createdDateTime".into(), time(at));
    m.insert("lastModifiedDateTime".into(), time(at));
    m.insert("hasAttachments".into(), json!(false));
    m.insert(
        "categories".into(),
        if r.is_multiple_of(5) {
            json!(["Work"])
        } else {
            json!([])
        },
    );
    m.insert("id".into(), json!(id));
    m.insert(
        "body".into(),
        json!({"content": pick(NOTES, r >> 7), "contentType": "text"}),
    );
    m.insert("bodyLastModifiedDateTime".into(), time(at));
    if r.is_multiple_of(3) || reminder {
        let day = at.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let due = day.unwrap_or(at) + Duration::days(1 + (r >> 16) as i64 % 20);
        m.insert("dueDateTime".into(), dtz(due));
        if reminder {
            m.insert("reminderDateTime".into(), dtz(due + Duration::hours(9)));
        }
    }
    if status == "completed" {
        m.insert("completedDateTime".into(), dtz(at + Duration::hours(2)));
    }
    m
}

pub(super) fn generate(s: &mut Sets, seed: u64, now: DateTime<Utc>, count: u64) {
    let mut n = 0u64;
    for (k, &(w, name, fixed)) in LISTS.iter().enumerate() {
        let list = ex_id(seed, 0xA1, k as u64);
        s.todo_lists.push((w, list.clone(), name));
        for _ in 0..fixed.unwrap_or(count) {
            let r = h3(seed, 0xA2, n);
            let at = now - Duration::minutes((60 + r % (1_440 * 90)) as i64);
            let id = ex_id(seed, 0xA3, n);
            let b = task(&id, pick(TITLES, r >> 3), r, at);
            s.tasks.push(Item {
                id,
                pos: 0,
                created: 0,
                at,
                deleted: false,
                scope: list.clone(),
                body: b,
            });
            n += 1;
        }
    }
}

fn title_of(v: &Value) -> Result<String, CtlError> {
    match v {
        Value::String(s) if !s.trim().is_empty() && s.chars().count() <= TITLE_MAX => Ok(s.clone()),
        _ => Err(CtlError::BadRequest(format!(
            "\"title\" must be a string of 1 to {TITLE_MAX} characters"
        ))),
    }
}

fn importance_of(v: &Value) -> Result<&'static str, CtlError> {
    ["low", "normal", "high"]
        .into_iter()
        .find(|i| v.as_str() == Some(i))
        .ok_or_else(|| CtlError::BadRequest("\"importance\" is low, normal or high".into()))
}

/// Adds a task to `"list"` (a list id; default the default list) with `"title"`,
/// `"importance"` and `"dueDateTime"` (a date-time) → the task.
pub fn create_todo_task(
    store: &mut Store,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    const KEYS: &[&str] = &["list", "title", "importance", "dueDateTime"];
    if let Some(k) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(CtlError::BadRequest(format!(
            "a task is created with {}; not {k:?}",
            KEYS.join(", ")
        )));
    }
    let list = match body.get("list") {
        None => store.sets.todo_lists.first().map(|l| l.1.clone()),
        Some(Value::String(l)) => store.sets.todo_list(l).map(str::to_string),
        Some(_) => None,
    }
    .ok_or_else(|| CtlError::NotFound("no such To Do list".into()))?;
    let r = next_rand(&mut store.sets.rng);
    let title = match body.get("title") {
        None => pick(TITLES, r).to_string(),
        Some(v) => title_of(v)?,
    };
    let importance = body.get("importance").map(importance_of).transpose()?;
    let due = match body.get("dueDateTime") {
        None => None,
        Some(v) => Some(v.as_str().and_then(super::parse_time).ok_or_else(|| {
            CtlError::BadRequest(
                "\"dueDateTime\" must be a date-time such as 2025-01-01T00:00:00Z".into(),
            )
        })?),
    };
    let id = ex_id(
        store.seed,
        0xA4,
        store.sets.tasks.items.len() as u64 ^ (r << 20),
    );
    // A new task is not started, whatever the random draw says.
    let mut b = task(&id, &title, r - r % 6, now);
    if let Some(i) = importance {
        b.insert("importance".into(), json!(i));
    }
    if let Some(d) = due {
        b.insert("dueDateTime".into(), dtz(d));
    }
    let pos = store.log_item(now);
    store
        .sets
        .tasks
        .push(Item::created(id, pos, now, list, b.clone()));
    Ok(Value::Object(b))
}

/// Changes `title`, `status` (`completed` sets `completedDateTime`, another status clears it),
/// `importance`, `isReminderOn` or `categories` of a task → the task.
pub fn update_todo_task(
    store: &mut Store,
    id: &str,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = store.sets.tasks.live(id, "task")?;
    let mut changes: Vec<(String, Value)> = Vec::new();
    for (k, v) in body {
        let v = match k.as_str() {
            "title" => json!(title_of(v)?),
            "importance" => json!(importance_of(v)?),
            "status" => json!(STATUSES.iter().find(|s| v.as_str() == Some(s)).ok_or_else(
                || CtlError::BadRequest(format!("\"status\" is one of {}", STATUSES.join(", ")))
            )?),
            "isReminderOn" if v.is_boolean() => v.clone(),
            "categories"
                if v.as_array().is_some_and(|a| {
                    a.len() <= 20
                        && a.iter()
                            .all(|c| c.as_str().is_some_and(|c| c.chars().count() <= 255))
                }) =>
            {
                v.clone()
            }
            _ => {
                return Err(CtlError::BadRequest(format!(
                    "the emulator changes title, status, importance, isReminderOn and \
                     categories of a task; not {k:?} = {v}"
                )));
            }
        };
        changes.push((k.clone(), v));
    }
    if changes.is_empty() {
        return Err(CtlError::BadRequest(
            "give e.g. {\"status\": \"completed\"}".into(),
        ));
    }
    let pos = store.log_item(now);
    let it = &mut store.sets.tasks.items[i];
    for (k, v) in changes {
        if k == "status" {
            if v == "completed" {
                if it.body.get("status") != Some(&v) {
                    it.body.insert("completedDateTime".into(), dtz(now));
                }
            } else {
                it.body.remove("completedDateTime");
            }
        }
        it.body.insert(k, v);
    }
    it.pos = pos;
    it.at = now;
    it.body.insert("lastModifiedDateTime".into(), time(now));
    let id = it.id.clone();
    set_etag(&mut it.body, &id, pos + 1);
    Ok(Value::Object(it.body.clone()))
}

/// Deletes a task (`@removed` reason `deleted`).
pub fn delete_todo_task(
    store: &mut Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    super::delete_item(store, Resource::TodoTasks, id, "task", now)
}

/// One random task change: 0 updated (completed, renamed, made important), 1 created (in the
/// default list), 2 deleted.
pub(super) fn mutate_one(store: &mut Store, now: DateTime<Utc>) -> Option<usize> {
    let (r, kind, i) = super::draw(store, Resource::TodoTasks, 5, 8);
    let id = i.map(|i| store.sets.tasks.items[i].id.clone());
    let ok = match kind {
        0 => {
            let mut b = Map::new();
            match (r >> 16) % 3 {
                0 => b.insert("status".into(), json!("completed")),
                1 => b.insert("title".into(), json!(pick(TITLES, r >> 20))),
                _ => b.insert("importance".into(), json!("high")),
            };
            update_todo_task(store, &id?, &b, now).is_ok()
        }
        1 => create_todo_task(store, &Map::new(), now).is_ok(),
        _ => delete_todo_task(store, &id?, now).is_ok(),
    };
    ok.then_some(kind)
}
