//! Mail folders, personal contacts and To Do tasks: generation (deterministic, consistent) and
//! their changes (counts that follow the messages, refusals, hostile control bodies).
#![allow(clippy::unwrap_used)]
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::*;
use crate::emulator::store::{CtlError, Store};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn store(seed: u64) -> Store {
    let mut s = Store::new(seed, 0, 5, 0, 0, now());
    s.sets = Sets::generate(seed, now());
    s
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// (total, unread) of each live mail folder: as the folder says, and counted from its messages.
fn folder_counts(s: &Sets) -> Vec<((i64, i64), (i64, i64))> {
    s.mail_folders
        .items
        .iter()
        .filter(|f| !f.deleted)
        .map(|f| {
            let said = (
                f.body["totalItemCount"].as_i64().unwrap(),
                f.body["unreadItemCount"].as_i64().unwrap(),
            );
            let msgs: Vec<&Item> = s
                .mail
                .items
                .iter()
                .filter(|m| !m.deleted && m.scope == f.id)
                .collect();
            let unread = msgs.iter().filter(|m| m.body["isRead"] == false).count();
            (said, (msgs.len() as i64, unread as i64))
        })
        .collect()
}

#[test]
fn the_same_seed_makes_the_same_folders_contacts_and_tasks() {
    let (a, b, c) = (
        Sets::generate(7, now()),
        Sets::generate(7, now()),
        Sets::generate(8, now()),
    );
    let ids = |s: &Sets| -> Vec<String> {
        s.mail_folders
            .items
            .iter()
            .chain(&s.contacts.items)
            .chain(&s.tasks.items)
            .map(|i| i.id.clone())
            .chain(s.contact_folders.iter().map(|f| f.1.clone()))
            .chain(s.todo_lists.iter().map(|l| l.1.clone()))
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_ne!(ids(&a), ids(&c));
    let unique: HashSet<String> = ids(&a).into_iter().collect();
    assert_eq!(unique.len(), ids(&a).len(), "ids are unique");
    let bodies = |s: &Sets| -> Vec<Map<String, Value>> {
        s.contacts
            .items
            .iter()
            .chain(&s.tasks.items)
            .map(|i| i.body.clone())
            .collect()
    };
    assert_eq!(bodies(&a), bodies(&b));
}

#[test]
fn mail_folders_count_their_messages() {
    let s = Sets::generate(42, now());
    assert_eq!(
        s.mail_folders.items.len(),
        7,
        "5 well-known, 2 of the user's own"
    );
    for (said, counted) in folder_counts(&s) {
        assert_eq!(said, counted);
    }
    let inbox = &s.mail_folders.items[s.mail_folders.find(s.folder("inbox").unwrap()).unwrap()];
    assert_eq!(inbox.body["totalItemCount"], 36);
    assert_eq!(inbox.body["displayName"], "Inbox");
    for f in &s.mail_folders.items {
        assert_eq!(f.body["parentFolderId"], s.mail_root.as_str());
        for k in ["childFolderCount", "isHidden", "displayName"] {
            assert!(f.body.contains_key(k), "{k}");
        }
    }
    // A well-known name in any case, the id; not a folder of the user's own by name.
    assert_eq!(s.folder("INBOX"), s.folder("inbox"));
    assert!(s.folder("Projects").is_none());
    assert!(s.folder("").is_none());
}

#[test]
fn contacts_and_tasks_sit_in_their_folders_and_lists() {
    let s = Sets::generate_sized(
        3,
        now(),
        Sizes {
            contacts: 12,
            tasks: 9,
            ..Sizes::default()
        },
    );
    let default_folder = s.contact_folder("contacts").unwrap();
    assert_eq!(s.contact_folder("CONTACTS"), Some(default_folder));
    assert!(s.contact_folder("nope").is_none());
    assert_eq!(
        s.contacts
            .items
            .iter()
            .filter(|c| c.scope == default_folder)
            .count(),
        12
    );
    for c in &s.contacts.items {
        assert_eq!(c.body["parentFolderId"], c.scope.as_str());
        let mail = &c.body["emailAddresses"][0];
        assert!(mail["address"].as_str().unwrap().contains('@'), "{mail}");
        assert_eq!(mail["name"], c.body["displayName"]);
        for k in [
            "@odata.etag",
            "changeKey",
            "givenName",
            "surname",
            "businessPhones",
            "companyName",
            "jobTitle",
            "createdDateTime",
            "lastModifiedDateTime",
            "categories",
        ] {
            assert!(c.body.contains_key(k), "{k}: {:?}", c.body);
        }
    }
    let (_, list, _) = &s.todo_lists[0];
    assert_eq!(s.todo_lists[0].0, "defaultList");
    assert_eq!(s.todo_list(list), Some(list.as_str()));
    assert!(s.todo_list("defaultList").is_none(), "lists go by id");
    assert_eq!(s.tasks.items.iter().filter(|t| &t.scope == list).count(), 9);
    let mut statuses = HashSet::new();
    for t in &s.tasks.items {
        let status = t.body["status"].as_str().unwrap();
        statuses.insert(status.to_string());
        assert_eq!(
            t.body.contains_key("completedDateTime"),
            status == "completed",
            "{:?}",
            t.body
        );
        assert_eq!(t.body["body"]["contentType"], "text");
        assert!(t.body["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    }
    assert!(statuses.len() >= 2, "{statuses:?}");
    assert!(s.tasks.items.iter().any(|t| {
        t.body
            .get("dueDateTime")
            .is_some_and(|d| d["timeZone"] == "UTC")
    }));
}

#[test]
fn selects_of_the_new_entities() {
    assert!(select_mask(Resource::MailFolders, false, "displayName,totalItemCount").is_ok());
    assert!(select_mask(Resource::MailFolders, false, "subject").is_err());
    assert!(
        select_mask(
            Resource::PersonalContacts,
            false,
            "displayName,emailAddresses"
        )
        .is_ok()
    );
    assert!(select_mask(Resource::PersonalContacts, true, "nope").is_err());
    assert!(select_mask(Resource::TodoTasks, false, "title,status,dueDateTime").is_ok());
    assert!(select_mask(Resource::TodoTasks, false, "subject").is_err());
}

#[test]
fn message_changes_move_their_folder_and_folders_change_as_outlook_allows() {
    let mut st = store(5);
    let inbox = st.sets.folder("inbox").unwrap().to_string();
    let before = st.pos();
    create_message(&mut st, &obj(json!({"subject": "x"})), now()).unwrap();
    let i = st.sets.mail_folders.find(&inbox).unwrap();
    assert!(
        st.sets.mail_folders.items[i].pos > before,
        "the inbox changed"
    );
    for (said, counted) in folder_counts(&st.sets) {
        assert_eq!(said, counted);
    }
    // Well-known folders are neither renamed nor deleted.
    assert!(matches!(
        delete_mail_folder(&mut st, &inbox, now()),
        Err(CtlError::Conflict(_))
    ));
    assert!(matches!(
        update_mail_folder(&mut st, &inbox, &obj(json!({"displayName": "In"})), now()),
        Err(CtlError::Conflict(_))
    ));
    // A folder of one's own: created, named uniquely, renamed, deleted with its messages.
    let f = create_mail_folder(&mut st, &obj(json!({"displayName": "Trips"})), now()).unwrap();
    let fid = f["id"].as_str().unwrap().to_string();
    assert_eq!(st.sets.folder(&fid), Some(fid.as_str()));
    assert!(matches!(
        create_mail_folder(&mut st, &obj(json!({"displayName": "trips"})), now()),
        Err(CtlError::Conflict(_))
    ));
    for bad in [
        json!({}),
        json!({"displayName": 5}),
        json!({"displayName": "   "}),
        json!({"displayName": "x".repeat(300)}),
        json!({"displayName": "A", "parent": "x"}),
    ] {
        assert!(
            matches!(
                create_mail_folder(&mut st, &obj(bad.clone()), now()),
                Err(CtlError::BadRequest(_))
            ),
            "{bad}"
        );
    }
    let r = update_mail_folder(&mut st, &fid, &obj(json!({"displayName": "Travel"})), now());
    assert_eq!(r.unwrap()["displayName"], "Travel");
    let m = create_message(&mut st, &obj(json!({"folder": fid.clone()})), now()).unwrap();
    let r = delete_mail_folder(&mut st, &fid, now()).unwrap();
    assert_eq!(r["messagesDeleted"], 1);
    let mi = st.sets.mail.find(m["id"].as_str().unwrap()).unwrap();
    assert!(st.sets.mail.items[mi].deleted);
    assert!(st.sets.folder(&fid).is_none());
    assert!(matches!(
        create_message(&mut st, &obj(json!({"folder": fid.clone()})), now()),
        Err(CtlError::NotFound(_))
    ));
    assert!(matches!(
        delete_mail_folder(&mut st, &fid, now()),
        Err(CtlError::NotFound(_))
    ));
}

#[test]
fn random_changes_keep_folder_counts_and_task_completion_consistent() {
    let mut st = store(11);
    for r in [
        Resource::Messages,
        Resource::MailFolders,
        Resource::PersonalContacts,
        Resource::TodoTasks,
    ] {
        let v = mutate(&mut st, r, 200, now());
        let sum: u64 = ["updated", "created", "deleted"]
            .iter()
            .map(|k| v[*k].as_u64().unwrap())
            .sum();
        assert!(sum > 150, "{r:?}: {v}");
        assert!(v["deleted"].as_u64().unwrap() > 0, "{r:?}: {v}");
    }
    for (said, counted) in folder_counts(&st.sets) {
        assert_eq!(said, counted);
    }
    for t in st.sets.tasks.items.iter().filter(|t| !t.deleted) {
        assert_eq!(
            t.body.contains_key("completedDateTime"),
            t.body["status"] == "completed"
        );
    }
}

#[test]
fn task_and_contact_changes_check_their_bodies() {
    let mut st = store(2);
    let t = create_todo_task(
        &mut st,
        &obj(json!({"title": "Write tests", "importance": "high", "dueDateTime": "2030-01-02T00:00:00Z"})),
        now(),
    )
    .unwrap();
    assert_eq!(t["status"], "notStarted");
    assert_eq!(t["importance"], "high");
    assert_eq!(t["dueDateTime"]["dateTime"], "2030-01-02T00:00:00.0000000");
    let id = t["id"].as_str().unwrap().to_string();
    let done = update_todo_task(&mut st, &id, &obj(json!({"status": "completed"})), now()).unwrap();
    assert_eq!(done["status"], "completed");
    assert!(done["completedDateTime"]["dateTime"].is_string());
    assert_ne!(done["@odata.etag"], t["@odata.etag"]);
    let again =
        update_todo_task(&mut st, &id, &obj(json!({"status": "inProgress"})), now()).unwrap();
    assert!(again.get("completedDateTime").is_none());
    for bad in [
        json!({"status": "done"}),
        json!({"title": ""}),
        json!({"title": 3}),
        json!({"title": "x".repeat(256)}),
        json!({"importance": "urgent"}),
        json!({"categories": [1]}),
        json!({"body": "x"}),
        json!({}),
    ] {
        assert!(
            matches!(
                update_todo_task(&mut st, &id, &obj(bad.clone()), now()),
                Err(CtlError::BadRequest(_))
            ),
            "{bad}"
        );
    }
    for bad in [json!({"list": "nope"}), json!({"list": 5})] {
        assert!(matches!(
            create_todo_task(&mut st, &obj(bad), now()),
            Err(CtlError::NotFound(_))
        ));
    }
    delete_todo_task(&mut st, &id, now()).unwrap();
    assert!(matches!(
        delete_todo_task(&mut st, &id, now()),
        Err(CtlError::NotFound(_))
    ));

    let c = create_personal_contact(
        &mut st,
        &obj(json!({"givenName": "Ada", "surname": "Lovelace", "companyName": "Analytical"})),
        now(),
    )
    .unwrap();
    assert_eq!(c["displayName"], "Ada Lovelace");
    assert_eq!(c["emailAddresses"][0]["name"], "Ada Lovelace");
    assert_eq!(c["companyName"], "Analytical");
    let cid = c["id"].as_str().unwrap().to_string();
    let u = update_personal_contact(&mut st, &cid, &obj(json!({"jobTitle": "Analyst"})), now())
        .unwrap();
    assert_eq!(u["jobTitle"], "Analyst");
    assert_ne!(u["changeKey"], c["changeKey"]);
    for bad in [
        json!({"jobTitle": 1}),
        json!({"mobilePhone": "1"}),
        json!({"categories": "x"}),
        json!({"displayName": "x".repeat(1001)}),
    ] {
        assert!(matches!(
            update_personal_contact(&mut st, &cid, &obj(bad), now()),
            Err(CtlError::BadRequest(_))
        ));
    }
    assert!(matches!(
        create_personal_contact(&mut st, &obj(json!({"folder": "nope"})), now()),
        Err(CtlError::NotFound(_))
    ));
    assert!(matches!(
        create_personal_contact(&mut st, &obj(json!({"phone": "1"})), now()),
        Err(CtlError::BadRequest(_))
    ));
    delete_personal_contact(&mut st, &cid, now()).unwrap();
    assert!(update_personal_contact(&mut st, &cid, &obj(json!({"jobTitle": "x"})), now()).is_err());
}

/// A state token can be forged (the key follows from the seed): a token of the new item sets
/// with numbers out of range is refused, one naming another list, a folder of no one's or a
/// cursor past the end pages nothing it should not, and nothing panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_of_the_new_item_sets_are_refused_or_harmless() {
    use crate::emulator::token::{self, Frozen, Kind, TokenState};
    use crate::emulator::{EmulatorConfig, start};
    let emu = start(EmulatorConfig::default(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let (key, instance) = (emu.shared.key, emu.shared.instance);
    let lists = emu.control().todo_list_ids();
    let http = reqwest::Client::new();
    let base = emu.base_url();
    let state = |resource, scope: Option<&str>| TokenState {
        instance,
        query: Frozen {
            resource,
            user: Some("me".into()),
            organizer: None,
            start: None,
            select: None,
            ids: vec![],
            top: None,
            members: false,
            beta: false,
            scope: scope.map(str::to_string),
            end_time: None,
            change_type: None,
            types: 0,
            type_sels: Vec::new(),
        },
        kind: Kind::Initial,
        position: 0,
        end: 0,
        cursor: 0,
        previous_position: None,
        duplicate_from: None,
        issued_at: chrono::Utc::now().timestamp(),
        after: None,
        since: None,
        ends: Vec::new(),
    };
    // The path of the token's resource (a token of another resource is refused as badly
    // formed); the folder or list in the path is not looked at.
    let get = |st: TokenState| {
        let path = match st.query.resource {
            Resource::TodoTasks => "todo/lists/x/tasks",
            Resource::PersonalContacts => "contactFolders/x/contacts",
            _ => "mailFolders",
        };
        let url = format!(
            "{base}/v1.0/me/{path}/delta?$skiptoken={}",
            token::encode(key, &st)
        );
        let http = http.clone();
        async move {
            let r = http.get(url).bearer_auth("x").send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or_default())
        }
    };
    let count = |v: &Value| v["value"].as_array().map_or(0, Vec::len);
    // Well formed: the other list's tasks, whatever the path says.
    let (s, v) = get(state(Resource::TodoTasks, Some(&lists[1]))).await;
    assert_eq!((s, count(&v)), (200, 5), "{v}");
    for r in [
        Resource::TodoTasks,
        Resource::PersonalContacts,
        Resource::MailFolders,
    ] {
        for st in [
            TokenState {
                end: u64::MAX,
                ..state(r, Some("nope"))
            },
            TokenState {
                cursor: 5,
                ..state(r, None)
            },
            TokenState {
                kind: Kind::DeltaPage,
                position: 0,
                end: u64::MAX,
                ..state(r, None)
            },
        ] {
            let (s, v) = get(st).await;
            assert_eq!(s, 400, "{r:?}: {v}");
            assert_eq!(v["error"]["message"], "Badly formed token.");
        }
        // In range but naming nothing: an empty page, not a panic.
        let mut odd = TokenState {
            after: Some(u64::MAX),
            since: Some(i64::MIN),
            ..state(r, Some(""))
        };
        odd.query.select = Some(crate::emulator::tenant::Mask::MAX);
        let mut long = TokenState {
            kind: Kind::DeltaLink,
            ..state(r, Some(&"x".repeat(2000)))
        };
        long.query.user = None;
        for st in [state(r, Some("nope")), odd, long] {
            let (s, v) = get(st).await;
            assert_eq!(s, 200, "{r:?}: {v}");
        }
    }
    emu.shutdown().await;
}
