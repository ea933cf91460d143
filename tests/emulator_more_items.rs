//! The item sets issue 15 adds to the emulator after messages and events, over real HTTP on
//! loopback with plain reqwest and serde_json (no client code): the demo mailbox's mail folders
//! (`mailFolders/delta`), its personal contacts (`contactFolders/{id}/contacts/delta`) and the
//! demo user's To Do tasks (`todo/lists/{id}/tasks/delta`): rounds, page sizes, `$select`,
//! changes through the control API, removals, wrong ids, permissions, the churn, hostile input.
#![allow(clippy::unwrap_used)]

mod emulator_support;
#[path = "support/identity.rs"]
#[allow(dead_code)]
mod identity;

use deltascope::emulator::{EmulatorApp, EmulatorConfig};
use emulator_support::*;
use serde_json::{Value, json};

fn small() -> EmulatorConfig {
    EmulatorConfig {
        contacts: 5,
        users: 5,
        groups: 2,
        organizers: 1,
        recordings: 1,
        ..Default::default()
    }
}

/// Follows nextLinks from `url` to the deltaLink sending `prefer` (if any) on every page:
/// the round and the number of items on each page.
async fn round_with(e: &Emu, url: &str, prefer: Option<&str>) -> (Round, Vec<usize>) {
    let mut pages = Vec::new();
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    let mut next = url.to_string();
    for _ in 0..10_000 {
        let mut headers = vec![("Authorization", "Bearer t")];
        if let Some(p) = prefer {
            headers.push(("Prefer", p));
        }
        let r = e.get_with(&next, &headers).await;
        assert_eq!(r.status, 200, "GET {next}: {}", r.text);
        let body = r.json();
        let v = body["value"].as_array().unwrap();
        sizes.push(v.len());
        items.extend(v.iter().cloned());
        let nl = body["@odata.nextLink"].as_str().map(str::to_string);
        let dl = body["@odata.deltaLink"].as_str().map(str::to_string);
        assert!(nl.is_some() != dl.is_some(), "one link: {body}");
        pages.push(body);
        match (nl, dl) {
            (Some(n), _) => next = n,
            (None, Some(d)) => {
                return (
                    Round {
                        pages,
                        items,
                        delta_link: d,
                    },
                    sizes,
                );
            }
            _ => unreachable!(),
        }
    }
    panic!("round did not end");
}

/// GETs a control API path: the status and the JSON answer.
async fn control_get(e: &Emu, path: &str) -> (u16, Value) {
    let r = e.http.get(e.url(path)).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

fn removed(id: &str) -> Value {
    json!({"id": id, "@removed": {"reason": "deleted"}})
}

/// Asserts that `r` is Graph's error envelope with status `status`.
fn is_error(r: &Resp, status: u16, what: &str) {
    assert_eq!(
        r.status,
        status,
        "{what}: {}",
        &r.text[..r.text.len().min(300)]
    );
    let v = r.json();
    assert!(v["error"]["code"].is_string(), "{what}: {v}");
    assert!(v["error"]["message"].is_string(), "{what}: {v}");
}

// ---------------------------------------------------------------- mail folders

#[tokio::test]
async fn mail_folders_round_page_size_changes_and_removals() {
    let e = start(small()).await;
    let url = e.url("/v1.0/me/mailFolders/delta");
    let r = e.round(&url, false).await;
    assert_eq!(
        r.items.len(),
        7,
        "5 well-known folders and 2 of the user's own"
    );
    assert_eq!(
        r.pages[0]["@odata.context"],
        format!("{}/v1.0/$metadata#Collection(mailFolder)", e.base)
    );
    assert!(
        r.delta_link.starts_with(&format!(
            "{}/v1.0/me/mailFolders/delta?%24deltatoken=",
            e.base
        )),
        "{}",
        r.delta_link
    );
    let f = &r.items[0];
    assert_eq!(
        keys(f),
        [
            "childFolderCount",
            "displayName",
            "id",
            "isHidden",
            "parentFolderId",
            "totalItemCount",
            "unreadItemCount"
        ]
    );
    let by_name = |r: &Round, n: &str| -> Value {
        r.items
            .iter()
            .find(|f| f["displayName"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no folder {n} in {:?}", r.items))
    };
    let inbox = by_name(&r, "Inbox");
    assert_eq!(inbox["totalItemCount"], 36);
    let inbox_id = inbox["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.emu.control().mail_folder_id("inbox").as_deref(),
        Some(inbox_id.as_str())
    );

    // Page size by Prefer: odata.maxpagesize, links spelled as messages spell them.
    let p = e
        .get_with(
            &url,
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=2"),
            ],
        )
        .await;
    assert_eq!(p.header("preference-applied"), Some("odata.maxpagesize=2"));
    let body = p.json();
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    assert!(
        body["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("/v1.0/me/mailFolders/delta?%24skiptoken="),
        "{body}"
    );
    let (paged, sizes) = round_with(&e, &url, Some("odata.maxpagesize=2")).await;
    assert_eq!(sizes, [2, 2, 2, 1]);
    assert_eq!(paged.ids(), r.ids());
    // Another spelling of the mailbox; $select.
    let user = e.emu.control().user_id(0);
    let other = e
        .round(
            &e.url(&format!("/beta/users/{user}/mailFolders/delta")),
            false,
        )
        .await;
    assert_eq!(other.ids(), r.ids());
    let sel = e
        .round(
            &e.url("/v1.0/me/mailFolders/delta?$select=displayName,totalItemCount"),
            false,
        )
        .await;
    assert_eq!(keys(&sel.items[0]), ["displayName", "id", "totalItemCount"]);

    // Changes: a folder created, one renamed, one deleted, a message that changes the inbox.
    let (s, created) = e
        .post("/_emulator/mailFolders", json!({"displayName": "Trips"}))
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_string();
    let projects = by_name(&r, "Projects")["id"].as_str().unwrap().to_string();
    let receipts = by_name(&r, "Receipts")["id"].as_str().unwrap().to_string();
    let (s, v) = e
        .patch(
            &format!("/_emulator/mailFolders/{projects}"),
            json!({"displayName": "Projects 2027"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = e
        .delete(&format!("/_emulator/mailFolders/{receipts}"))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = e
        .delete(&format!("/_emulator/mailFolders/{inbox_id}"))
        .await;
    assert_eq!(s, 409, "a well-known folder stays: {v}");
    let (s, _) = e
        .patch(
            &format!("/_emulator/mailFolders/{inbox_id}"),
            json!({"displayName": "Mine"}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, _) = e
        .post("/_emulator/messages", json!({"subject": "counts"}))
        .await;
    assert_eq!(s, 200);
    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.items.len(), 4, "{:?}", d.items);
    assert_eq!(d.by_id(&new_id).unwrap()["displayName"], "Trips");
    assert_eq!(d.by_id(&new_id).unwrap()["totalItemCount"], 0);
    assert_eq!(d.by_id(&projects).unwrap()["displayName"], "Projects 2027");
    assert_eq!(*d.by_id(&receipts).unwrap(), removed(&receipts));
    let i = d.by_id(&inbox_id).unwrap();
    assert_eq!(
        (i["totalItemCount"].as_u64(), i["unreadItemCount"].as_u64()),
        (
            Some(37),
            Some(inbox["unreadItemCount"].as_u64().unwrap() + 1)
        )
    );
    // Nothing more.
    assert!(e.round(&d.delta_link, false).await.items.is_empty());

    // The messages of the new folder and of the inbox are served; those of a deleted folder not.
    let (s, _) = e
        .post(
            "/_emulator/messages",
            json!({"subject": "in trips", "folder": new_id}),
        )
        .await;
    assert_eq!(s, 200);
    let m = e
        .round(
            &e.url(&format!("/v1.0/me/mailFolders/{new_id}/messages/delta")),
            false,
        )
        .await;
    assert_eq!(m.items.len(), 1);
    assert_eq!(
        e.round(&e.url("/v1.0/me/mailFolders/inbox/messages/delta"), false)
            .await
            .items
            .len(),
        37
    );
    let gone = e
        .get(&e.url(&format!("/v1.0/me/mailFolders/{receipts}/messages/delta")))
        .await;
    is_error(&gone, 404, "a deleted folder's messages");
    // Deleting a folder with messages deletes them: the folder's messages round says so.
    let (s, v) = e.delete(&format!("/_emulator/mailFolders/{new_id}")).await;
    assert_eq!((s, v["messagesDeleted"].as_u64()), (200, Some(1)), "{v}");
    let after = e.round(&m.delta_link, false).await;
    assert_eq!(
        after.items,
        [
            json!({"@odata.type": "#microsoft.graph.message", "id": m.ids()[0], "@removed": {"reason": "deleted"}})
        ]
    );

    // Wrong user: Graph's envelope.
    let who = e.get(&e.url("/v1.0/users/someone/mailFolders/delta")).await;
    is_error(&who, 404, "wrong user");
    assert_eq!(who.error_code(), "ErrorInvalidUser");
    // mutate
    let (s, v) = e.post("/_emulator/mutate", json!({"mailFolders": 8})).await;
    assert_eq!(s, 200, "{v}");
    let n = &v["mailFolders"];
    assert!(
        n["created"].as_u64().unwrap() + n["updated"].as_u64().unwrap() > 0,
        "{v}"
    );
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- personal contacts

#[tokio::test]
async fn personal_contacts_round_select_page_size_changes_and_removals() {
    let e = start(small()).await;
    let folders = e.emu.control().contact_folder_ids();
    assert_eq!(folders.len(), 2);
    let folder = &folders[0];
    let url = e.url(&format!("/v1.0/me/contactFolders/{folder}/contacts/delta"));
    let first = e.get(&url).await.json();
    assert_eq!(
        first["value"].as_array().unwrap().len(),
        10,
        "Outlook's default page"
    );
    assert_eq!(
        first["@odata.context"],
        format!("{}/v1.0/$metadata#Collection(contact)", e.base)
    );
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains(&format!(
            "/v1.0/me/contactFolders/{folder}/contacts/delta?%24skiptoken="
        )),
        "{next}"
    );
    let r = e.round(&url, false).await;
    assert_eq!(r.items.len(), 36);
    assert!(
        r.delta_link.contains("/contacts/delta?%24deltatoken="),
        "{}",
        r.delta_link
    );
    let c = &r.items[0];
    for k in [
        "@odata.etag",
        "changeKey",
        "displayName",
        "givenName",
        "surname",
        "companyName",
        "jobTitle",
        "businessPhones",
        "createdDateTime",
        "lastModifiedDateTime",
        "categories",
    ] {
        assert!(!c[k].is_null(), "{k}: {c}");
    }
    assert_eq!(c["parentFolderId"], folder.as_str());
    assert!(
        c["emailAddresses"][0]["address"]
            .as_str()
            .unwrap()
            .contains('@')
    );
    // The same folder by its well-known name and by key; the other folder.
    for p in [
        "/v1.0/me/contactFolders/contacts/contacts/delta".to_string(),
        format!(
            "/v1.0/users/{}/contactFolders('{folder}')/contacts/delta",
            e.emu.control().user_id(0)
        ),
    ] {
        assert_eq!(e.round(&e.url(&p), false).await.ids(), r.ids(), "{p}");
    }
    let suppliers = e
        .round(
            &e.url(&format!(
                "/v1.0/me/contactFolders/{}/contacts/delta",
                folders[1]
            )),
            false,
        )
        .await;
    assert_eq!(suppliers.items.len(), 6);

    // Page size and $select, kept on every page of the round.
    let sel = e.url(&format!(
        "/v1.0/me/contactFolders/{folder}/contacts/delta?$select=displayName,emailAddresses"
    ));
    let (paged, sizes) = round_with(&e, &sel, Some("odata.maxpagesize=5")).await;
    assert_eq!(sizes, [5, 5, 5, 5, 5, 5, 5, 1]);
    assert_eq!(paged.ids(), r.ids());
    for it in &paged.items {
        assert_eq!(
            keys(it),
            ["@odata.etag", "displayName", "emailAddresses", "id"]
        );
    }
    // $top is not a contacts option: ignored.
    assert_eq!(
        e.get(&format!("{url}?$top=3")).await.json()["value"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    // Changes: created, updated, deleted; one created in the other folder is not this one's.
    let ids = r.ids();
    let (s, created) = e
        .post(
            "/_emulator/personalContacts",
            json!({"givenName": "Ada", "surname": "Lovelace", "companyName": "Engines"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_string();
    let (s, v) = e
        .patch(
            &format!("/_emulator/personalContacts/{}", ids[0]),
            json!({"jobTitle": "Chief Analyst", "categories": ["Customers"]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = e
        .delete(&format!("/_emulator/personalContacts/{}", ids[1]))
        .await;
    assert_eq!(s, 200);
    let (s, _) = e
        .post(
            "/_emulator/personalContacts",
            json!({"givenName": "Elsewhere", "folder": folders[1]}),
        )
        .await;
    assert_eq!(s, 200);
    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.items.len(), 3, "{:?}", d.items);
    let n = d.by_id(&new_id).unwrap();
    assert_eq!(n["displayName"], "Ada Lovelace");
    assert_eq!(n["companyName"], "Engines");
    let u = d.by_id(&ids[0]).unwrap();
    assert_eq!(u["jobTitle"], "Chief Analyst");
    assert_eq!(u["categories"], json!(["Customers"]));
    assert_ne!(u["changeKey"], r.items[0]["changeKey"]);
    assert_eq!(*d.by_id(&ids[1]).unwrap(), removed(&ids[1]));
    let (s, v) = control_get(&e, &format!("/_emulator/personalContacts/{}", ids[1])).await;
    assert_eq!((s, v["@emulator.deleted"].as_bool()), (200, Some(true)));

    // Wrong folder, wrong user: Graph's envelope.
    let wrong = e
        .get(&e.url("/v1.0/me/contactFolders/AAMkNOPE/contacts/delta"))
        .await;
    is_error(&wrong, 404, "wrong folder");
    assert_eq!(wrong.error_code(), "ErrorItemNotFound");
    let who = e
        .get(&e.url(&format!(
            "/v1.0/users/nobody/contactFolders/{folder}/contacts/delta"
        )))
        .await;
    is_error(&who, 404, "wrong user");
    assert_eq!(who.error_code(), "ErrorInvalidUser");
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- To Do tasks

#[tokio::test]
async fn todo_tasks_round_top_page_size_changes_and_removals() {
    let e = start(small()).await;
    let lists = e.emu.control().todo_list_ids();
    assert_eq!(lists.len(), 2);
    let list = &lists[0];
    let url = e.url(&format!("/v1.0/me/todo/lists/{list}/tasks/delta"));
    let first = e.get(&url).await.json();
    assert_eq!(first["value"].as_array().unwrap().len(), 10);
    assert_eq!(
        first["@odata.context"],
        format!("{}/v1.0/$metadata#Collection(todoTask)", e.base)
    );
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains(&format!(
            "/v1.0/me/todo/lists/{list}/tasks/delta?$skiptoken="
        )),
        "{next}"
    );
    let r = e.round(&url, false).await;
    assert_eq!(r.items.len(), 20);
    assert!(
        r.delta_link.contains("/tasks/delta?$deltatoken="),
        "{}",
        r.delta_link
    );
    for t in &r.items {
        for k in [
            "@odata.etag",
            "title",
            "status",
            "importance",
            "isReminderOn",
            "createdDateTime",
            "lastModifiedDateTime",
            "body",
            "categories",
        ] {
            assert!(!t[k].is_null(), "{k}: {t}");
        }
        assert_eq!(t["body"]["contentType"], "text");
        assert_eq!(
            t["completedDateTime"].is_object(),
            t["status"] == "completed",
            "{t}"
        );
    }
    assert!(
        r.items
            .iter()
            .any(|t| t["dueDateTime"]["timeZone"] == "UTC")
    );
    // $top sizes pages, and so does Prefer: odata.maxpagesize (which wins).
    let (_, sizes) = round_with(&e, &format!("{url}?$top=6"), None).await;
    assert_eq!(sizes, [6, 6, 6, 2]);
    let (paged, sizes) =
        round_with(&e, &format!("{url}?$top=6"), Some("odata.maxpagesize=8")).await;
    assert_eq!(sizes, [8, 8, 4]);
    assert_eq!(paged.ids(), r.ids());
    let sel = e.round(&format!("{url}?$select=title,status"), false).await;
    assert_eq!(
        keys(&sel.items[0]),
        ["@odata.etag", "id", "status", "title"]
    );
    let groceries = e
        .round(
            &e.url(&format!(
                "/v1.0/users/{}/todo/lists/{}/tasks/delta",
                e.emu.control().user_id(0),
                lists[1]
            )),
            false,
        )
        .await;
    assert_eq!(groceries.items.len(), 5);

    // Changes: created, completed, deleted.
    let ids = r.ids();
    let open = r.items.iter().find(|t| t["status"] != "completed").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = ids.iter().find(|i| **i != open).unwrap().clone();
    let (s, created) = e
        .post(
            "/_emulator/todoTasks",
            json!({"title": "Ship issue 15", "importance": "high", "dueDateTime": "2027-01-15T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_string();
    let (s, v) = e
        .patch(
            &format!("/_emulator/todoTasks/{open}"),
            json!({"status": "completed"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = e.delete(&format!("/_emulator/todoTasks/{gone}")).await;
    assert_eq!(s, 200);
    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.items.len(), 3, "{:?}", d.items);
    let n = d.by_id(&new_id).unwrap();
    assert_eq!(
        (&n["title"], &n["status"], &n["importance"]),
        (
            &json!("Ship issue 15"),
            &json!("notStarted"),
            &json!("high")
        )
    );
    assert_eq!(n["dueDateTime"]["dateTime"], "2027-01-15T00:00:00.0000000");
    let done = d.by_id(&open).unwrap();
    assert_eq!(done["status"], "completed");
    assert!(done["completedDateTime"]["dateTime"].is_string(), "{done}");
    assert_eq!(*d.by_id(&gone).unwrap(), removed(&gone));

    // Wrong list, wrong user: Graph's envelope.
    is_error(
        &e.get(&e.url("/v1.0/me/todo/lists/nope/tasks/delta")).await,
        404,
        "wrong list",
    );
    let who = e
        .get(&e.url(&format!("/v1.0/users/nobody/todo/lists/{list}/tasks/delta")))
        .await;
    is_error(&who, 404, "wrong user");
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- enforcement

const SECRET: &str = "emulator-test-secret-Qw8~xyz";

fn app(id: &str, roles: &[&str], scopes: &[&str]) -> EmulatorApp {
    EmulatorApp {
        client_id: id.into(),
        display_name: id.into(),
        secret: Some(SECRET.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        delegated_scopes: scopes.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn permissions_are_enforced() {
    let apps = vec![
        app("11111111-1111-1111-1111-111111111111", &["Mail.Read"], &[]),
        app(
            "22222222-2222-2222-2222-222222222222",
            &["Contacts.Read"],
            &[],
        ),
        app(
            "33333333-3333-3333-3333-333333333333",
            &["Tasks.Read.All"],
            &[],
        ),
        // A delegated permission's name granted as a role does not do for an app.
        app(
            "44444444-4444-4444-4444-444444444444",
            &["Tasks.Read", "Mail.ReadBasic.All"],
            &[],
        ),
        app(
            "55555555-5555-5555-5555-555555555555",
            &[],
            &["Tasks.ReadWrite", "Contacts.Read", "Mail.ReadBasic"],
        ),
    ];
    let emu = identity::start_with_identity(identity::identity(true, apps)).await;
    let base = emu.base_url();
    let ctl = emu.control();
    let user = ctl.user_id(0);
    let (folder, list) = (
        ctl.contact_folder_ids()[0].clone(),
        ctl.todo_list_ids()[0].clone(),
    );
    let http = reqwest::Client::new();
    let urls = [
        format!("{base}/v1.0/users/{user}/mailFolders/delta"),
        format!("{base}/v1.0/users/{user}/contactFolders/{folder}/contacts/delta"),
        format!("{base}/v1.0/users/{user}/todo/lists/{list}/tasks/delta"),
    ];
    let allowed: [(&str, [bool; 3]); 4] = [
        ("11111111-1111-1111-1111-111111111111", [true, false, false]),
        ("22222222-2222-2222-2222-222222222222", [false, true, false]),
        ("33333333-3333-3333-3333-333333333333", [false, false, true]),
        (
            "44444444-4444-4444-4444-444444444444",
            [false, false, false],
        ),
    ];
    for (client, ok) in allowed {
        let tok = identity::client_credentials_token(&emu, client, SECRET).await;
        for (url, ok) in urls.iter().zip(ok) {
            let r = http.get(url).bearer_auth(&tok).send().await.unwrap();
            let status = r.status().as_u16();
            assert_eq!(status, if ok { 200 } else { 403 }, "{client} {url}");
            let v: Value = r.json().await.unwrap();
            if !ok {
                assert!(v["error"]["code"].is_string(), "{v}");
            }
        }
    }
    // An app has no /me.
    let tok =
        identity::client_credentials_token(&emu, "33333333-3333-3333-3333-333333333333", SECRET)
            .await;
    let r = http
        .get(format!("{base}/v1.0/me/todo/lists/{list}/tasks/delta"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/me request"),
        "{v}"
    );
    // A signed-in user with the delegated permissions.
    let mut statuses = Vec::new();
    for scope in ["Tasks.ReadWrite", "Contacts.Read", "Mail.ReadBasic"] {
        let tok = identity::device_code_token(
            &emu,
            "55555555-5555-5555-5555-555555555555",
            scope,
            json!({}),
        )
        .await;
        for p in [
            "/v1.0/me/mailFolders/delta".to_string(),
            format!("/v1.0/me/contactFolders/{folder}/contacts/delta"),
            format!("/v1.0/me/todo/lists/{list}/tasks/delta"),
        ] {
            let r = http
                .get(format!("{base}{p}"))
                .bearer_auth(&tok)
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
    }
    // Mail.ReadBasic does not read folders (mailFolders takes Mail.Read).
    assert_eq!(statuses, [403, 403, 200, 403, 200, 403, 403, 403, 403]);
    emu.shutdown().await;
}

// ---------------------------------------------------------------- churn, hostile input

#[tokio::test]
async fn the_churn_changes_folders_contacts_and_tasks() {
    let e = start(EmulatorConfig {
        churn_per_sec: 400.0,
        ..small()
    })
    .await;
    let folder = e.emu.control().contact_folder_ids()[0].clone();
    let list = e.emu.control().todo_list_ids()[0].clone();
    let mut pending: Vec<String> = Vec::new();
    for p in [
        "/v1.0/me/mailFolders/delta".to_string(),
        format!("/v1.0/me/contactFolders/{folder}/contacts/delta"),
        format!("/v1.0/me/todo/lists/{list}/tasks/delta"),
    ] {
        pending.push(e.round(&e.url(&p), false).await.delta_link);
    }
    e.wait_for_changes(pending).await;
    e.emu.shutdown().await;
}

#[tokio::test]
async fn hostile_paths_options_and_bodies_are_refused_plainly() {
    let e = start(small()).await;
    let folder = e.emu.control().contact_folder_ids()[0].clone();
    let list = e.emu.control().todo_list_ids()[0].clone();
    let long = "x".repeat(5000);
    let tasks = format!("/v1.0/me/todo/lists/{list}/tasks/delta");
    let contacts = format!("/v1.0/me/contactFolders/{folder}/contacts/delta");
    for path in [
        format!("/v1.0/me/contactFolders/{long}/contacts/delta"),
        format!("/v1.0/me/todo/lists/{long}/tasks/delta"),
        format!("/v1.0/users/{long}/mailFolders/delta"),
        "/v1.0/me/contactFolders()/contacts/delta".to_string(),
        "/v1.0/me/todo/lists('')/tasks/delta".to_string(),
        "/v1.0/me/todo/lists/%00%FF/tasks/delta".to_string(),
        "/v1.0/me/mailFolders/delta(token='x')".to_string(),
        "/v1.0/me/todo/lists/x/y/tasks/delta".to_string(),
        format!("{tasks}?$top=0"),
        format!("{tasks}?$top=abc"),
        format!("{tasks}?$top=99999999999999999999"),
        format!("{tasks}?$select={long}"),
        format!("{tasks}?$filter=status eq 'completed'"),
        format!("{tasks}?$deltatoken=latest"),
        format!("{tasks}?$deltatoken=garbage"),
        format!("{tasks}?$skiptoken=%00"),
        format!("{tasks}?$expand=attachments"),
        format!("{contacts}?$select=nope"),
        format!("{contacts}?$orderby=displayName"),
        format!("{contacts}?$deltatoken={long}"),
        "/v1.0/me/mailFolders/delta?$select=subject".to_string(),
        "/v1.0/me/mailFolders/delta?$filter=id eq 'x'".to_string(),
    ] {
        let r = e.get(&e.url(&path)).await;
        assert!(
            (400..500).contains(&r.status),
            "{}: {} {}",
            &path[..path.len().min(120)],
            r.status,
            &r.text[..r.text.len().min(300)]
        );
        assert!(r.json()["error"]["code"].is_string(), "{path}");
    }
    // A token of one list does not read another's: the list is frozen in the token, so a
    // nextLink edited onto the other list still pages the first one.
    let first = e.get(&e.url(&tasks)).await.json();
    let next = first["@odata.nextLink"].as_str().unwrap().to_string();
    let tampered = {
        let (head, tok) = next.split_once("$skiptoken=").unwrap();
        let mut t = tok.to_string();
        let c = if t.ends_with('A') { 'B' } else { 'A' };
        t.pop();
        t.push(c);
        format!("{head}$skiptoken={t}")
    };
    is_error(&e.get(&tampered).await, 400, "a tampered token");
    // A huge page size is capped; the emulator still serves.
    let r = e
        .get_with(
            &e.url(&contacts),
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=99999999999"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 36);
    // Control bodies.
    for (path, body, want) in [
        ("/_emulator/todoTasks", json!({"title": 5}), 400),
        ("/_emulator/todoTasks", json!({"title": long.clone()}), 400),
        ("/_emulator/todoTasks", json!({"list": "nope"}), 404),
        ("/_emulator/todoTasks", json!({"dueDateTime": "soon"}), 400),
        (
            "/_emulator/personalContacts",
            json!({"folder": "nope"}),
            404,
        ),
        (
            "/_emulator/personalContacts",
            json!({"givenName": [1]}),
            400,
        ),
        ("/_emulator/mailFolders", json!({"displayName": ""}), 400),
        (
            "/_emulator/mailFolders",
            json!({"displayName": "Inbox"}),
            409,
        ),
        ("/_emulator/mutate", json!({"todoTasks": 1e9}), 400),
        ("/_emulator/mutate", json!({"personalContacts": -1}), 400),
        ("/_emulator/mutate", json!({"mailFolders": "x"}), 400),
    ] {
        let (s, v) = e.post(path, body.clone()).await;
        assert_eq!(
            s,
            want,
            "{path} {}: {v}",
            &body.to_string()[..body.to_string().len().min(80)]
        );
        assert!(v["error"]["message"].is_string(), "{v}");
    }
    for (path, want) in [
        ("/_emulator/todoTasks/nope", 404),
        ("/_emulator/personalContacts/nope", 404),
        ("/_emulator/mailFolders/nope", 404),
    ] {
        let (s, _) = e.patch(path, json!({"title": "x"})).await;
        assert_eq!(s, want, "{path}");
        let (s, _) = e.delete(path).await;
        assert_eq!(s, want, "{path}");
    }
    let r = e
        .http
        .post(e.url("/_emulator/todoTasks"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Still serving.
    assert_eq!(e.round(&e.url(&tasks), false).await.items.len(), 20);
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- the real binary

/// Kills the child it holds when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_cli_sizes_contacts_and_tasks_and_names_the_endpoints() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Duration;
    let mut child = Command::new(env!("CARGO_BIN_EXE_deltascope"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .args(["--personal-contacts", "3", "--todo-tasks", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let _guard = Killed(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx2.send(line);
        }
    });
    // Waits for the listening line and the banner line that names the new endpoints.
    let (mut base, mut banner) = (None, None);
    while base.is_none() || banner.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the listening line and the banner");
        if let Some(b) = line.strip_prefix("deltascope emulator listening on ") {
            base = Some(b.trim().to_string());
        } else if line.contains("/mailFolders/delta") {
            banner = Some(line);
        }
    }
    let (base, banner) = (base.unwrap(), banner.unwrap());
    assert!(banner.contains("/contactFolders/"), "{banner}");
    assert!(banner.contains("/todo/lists/"), "{banner}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let state: Value = http
            .get(format!("{base}/_emulator/state"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(state["mailbox"]["contacts"], 3 + 6, "{state}");
        assert_eq!(state["todo"]["tasks"], 2 + 5, "{state}");
        // The banner's paths are served.
        for url in banner
            .split([' ', ','])
            .filter(|w| w.starts_with("http") && !w.contains('{'))
        {
            let r = http.get(url).bearer_auth("cli").send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
        }
    });
    // Out of range: a usage error naming the range.
    let out = Command::new(env!("CARGO_BIN_EXE_deltascope"))
        .args(["emulator", "--todo-tasks", "1000001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 to 1000000"));
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn a_reset_restarts_each_new_resource_from_its_location() {
    let e = start(small()).await;
    let folder = e.emu.control().contact_folder_ids()[0].clone();
    let list = e.emu.control().todo_list_ids()[0].clone();
    for (p, n) in [
        ("/v1.0/me/mailFolders/delta".to_string(), 7),
        (
            format!("/v1.0/me/contactFolders/{folder}/contacts/delta"),
            36,
        ),
        (format!("/beta/me/todo/lists/{list}/tasks/delta"), 20),
    ] {
        let r = e.round(&e.url(&p), false).await;
        let (s, v) = e.post("/_emulator/faults", json!({"spec": "gone:1"})).await;
        assert_eq!(s, 200, "{v}");
        let gone = e.get(&r.delta_link).await;
        is_error(&gone, 410, &p);
        let location = gone.header("location").unwrap().to_string();
        let again = e.round(&location, false).await;
        assert_eq!(again.items.len(), n, "{p}");
        assert_eq!(again.ids(), r.ids(), "{p}");
    }
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- the documented shapes

/// The first documented example of `resource` (tests/fixtures/docs/, written from Graph's
/// pages).
fn documented(resource: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/docs/{resource}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["examples"][0].clone()
}

/// A link as compared with the docs: without the origin and the token, percent-decoded, in
/// lower case (`…/mailfolders/delta?$skiptoken=`).
fn link_shape(link: &str) -> String {
    let no_origin = link.splitn(4, '/').nth(3).unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(no_origin)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    let (head, _) = decoded.split_once("token=").unwrap();
    format!("/{head}token=")
}

#[tokio::test]
async fn pages_have_the_documented_shapes() {
    let e = start(small()).await;
    let folder = e.emu.control().contact_folder_ids()[0].clone();
    let list = e.emu.control().todo_list_ids()[0].clone();
    let doc_path = |doc: &Value, id: &str, with: &str| -> String {
        let line = doc["request"].as_str().unwrap();
        let url = line
            .strip_prefix("GET https://graph.microsoft.com")
            .unwrap();
        url.replace(id, with)
    };
    // mailFolders and personalContacts: a first page with Prefer: odata.maxpagesize=2.
    for (resource, id, with) in [
        ("mailFolders", "", ""),
        ("personalContacts", "{id}", folder.as_str()),
    ] {
        let doc = documented(resource);
        let prefer = doc["request_headers"]["Prefer"].as_str().unwrap();
        let path = doc_path(&doc, id, with);
        let r = e
            .get_with(
                &e.url(&path),
                &[("Authorization", "Bearer t"), ("Prefer", prefer)],
            )
            .await;
        assert_eq!(r.status, doc["response_status"], "{resource}");
        let body = r.json();
        let want = &doc["response"];
        assert_eq!(
            link_shape(body["@odata.nextLink"].as_str().unwrap()),
            link_shape(&want["@odata.nextLink"].as_str().unwrap().replace(id, with)),
            "{resource}"
        );
        assert_eq!(body["value"].as_array().unwrap().len(), 2, "{resource}");
        // Every documented property is served (the full entity: the contact example shows more
        // than its $select, which the emulator honours).
        let full = e
            .round(&e.url(path.split('?').next().unwrap()), false)
            .await;
        for k in keys(&want["value"][0]) {
            assert!(full.items[0].get(&k).is_some(), "{resource}: {k}");
        }
        if path.contains("$select=displayName") {
            assert_eq!(
                keys(&body["value"][0]),
                ["@odata.etag", "displayName", "id"]
            );
        }
    }
    // todoTasks: a round from a deltaLink, with the task created since.
    let doc = documented("todoTasks");
    let want = &doc["response"];
    let doc_list = "gDbc8U7HGwADDZocJgAAAA==";
    let r = e
        .round(
            &e.url(&format!("/v1.0/me/todo/lists/{list}/tasks/delta")),
            false,
        )
        .await;
    let (s, _) = e
        .post("/_emulator/todoTasks", json!({"title": "empty task3"}))
        .await;
    assert_eq!(s, 200);
    let page = e.get(&r.delta_link).await;
    assert_eq!(page.status, doc["response_status"]);
    let body = page.json();
    assert_eq!(
        link_shape(body["@odata.deltaLink"].as_str().unwrap()),
        link_shape(
            &want["@odata.deltaLink"]
                .as_str()
                .unwrap()
                .replace(doc_list, &list)
        )
        .to_ascii_lowercase()
    );
    let task = &body["value"][0];
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    for k in keys(&want["value"][0]) {
        assert!(task.get(&k).is_some(), "todoTasks: {k}: {task}");
    }
    assert_eq!(keys(&task["body"]), keys(&want["value"][0]["body"]));
    assert_eq!(task["status"], "notStarted");
    e.emu.shutdown().await;
}
