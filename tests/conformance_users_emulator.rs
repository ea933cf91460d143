//! Conformance with the documented user delta, the emulator's half (the client's is
//! `conformance_users.rs`): the documented requests against the emulator, each response compared
//! in shape with the documented one (`tests/fixtures/users_delta/`, whose sources
//! `conformance_users.rs` lists): property names and JSON types, link spellings,
//! `@odata.context`, `@removed`, `manager@delta`. Plain HTTP (`emulator_support`), no client
//! code.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use deltascope::emulator::EmulatorConfig;
use serde_json::{Value, json};

const GRAPH: &str = "https://graph.microsoft.com";

/// The documented body, parsed, as Graph wrote it.
fn documented(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/users_delta/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(
        text.contains(GRAPH),
        "{name}: a documented body links to Graph"
    );
    doc
}

/// A value's JSON type, for shape comparisons.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `got` has the documented item's shape: every property it has is one `doc` has (or `id`,
/// which the shortened documented examples sometimes leave out), with the same JSON type
/// (null where the documentation shows null, or a value's type); arrays of objects and
/// objects compared the same way, recursively.
fn assert_shape(doc: &Value, got: &Value, what: &str) {
    let (Some(doc), Some(got)) = (doc.as_object(), got.as_object()) else {
        panic!("{what}: not objects: {doc} / {got}");
    };
    for (k, v) in got {
        let Some(d) = doc.get(k) else {
            assert_eq!(k, "id", "{what}: {k} is not in the documented item {doc:?}");
            assert_eq!(kind(v), "string");
            continue;
        };
        assert!(
            kind(v) == kind(d) || v.is_null() || d.is_null(),
            "{what}: {k} is {} where the docs have {}",
            kind(v),
            kind(d)
        );
        match (d, v) {
            (Value::Object(_), Value::Object(_)) => assert_shape(d, v, &format!("{what}.{k}")),
            (Value::Array(ds), Value::Array(vs)) => {
                if let Some(d0) = ds.first() {
                    for x in vs {
                        assert_eq!(kind(x), kind(d0), "{what}.{k}[]");
                        if d0.is_object() {
                            assert_shape(d0, x, &format!("{what}.{k}[]"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// A page's links and context as documented: one of nextLink (with `$skiptoken`) or
/// deltaLink (with `$deltatoken`), on `/{api}/users/delta`, and the context on
/// `/{api}/$metadata#users` (with the `$select` list on a first page when `select`).
fn assert_page_shape(page: &Value, base: &str, api: &str, select: Option<&str>) {
    let context = page["@odata.context"].as_str().unwrap();
    let want = match select {
        Some(s) => format!("{base}/{api}/$metadata#users({s})"),
        None => format!("{base}/{api}/$metadata#users"),
    };
    assert_eq!(context, want);
    let keys: Vec<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    match (
        page["@odata.nextLink"].as_str(),
        page["@odata.deltaLink"].as_str(),
    ) {
        (Some(n), None) => assert!(
            n.starts_with(&format!("{base}/{api}/users/delta?$skiptoken=")),
            "{n}"
        ),
        (None, Some(d)) => assert!(
            d.starts_with(&format!("{base}/{api}/users/delta?$deltatoken=")),
            "{d}"
        ),
        other => panic!("exactly one link: {other:?}"),
    }
    for k in keys {
        assert!(
            [
                "@odata.context",
                "@odata.nextLink",
                "@odata.deltaLink",
                "value"
            ]
            .contains(&k),
            "{k} is not a documented page property"
        );
    }
}

async fn emulator(users: usize, page_size: usize) -> emulator_support::Emu {
    emulator_support::start(EmulatorConfig {
        users,
        page_size,
        groups: 0,
        ..EmulatorConfig::default()
    })
    .await
}

#[tokio::test]
async fn the_emulator_serves_the_reference_examples_shapes() {
    let e = emulator(12, 5).await;
    for (api, ex1, ex2, ex3, user) in [
        (
            "v1.0",
            "v1_example1_default.json",
            "v1_example2_select.json",
            "v1_example3_minimal.json",
            9,
        ),
        (
            "beta",
            "beta_example1_default.json",
            "beta_example2_select.json",
            "beta_example3_minimal.json",
            10,
        ),
    ] {
        // Example 1: the default set, paged with nextLinks.
        let doc = documented(ex1);
        let r = e.round(&e.url(&format!("/{api}/users/delta")), false).await;
        assert!(r.pages.len() > 1, "12 users on pages of 5");
        for p in &r.pages {
            assert_page_shape(p, &e.base, api, None);
        }
        for item in &r.items {
            assert_shape(&doc["value"][0], item, ex1);
            assert!(item.get("displayName").is_some() && item.get("id").is_some());
        }

        // Example 2: three properties selected; a changed property comes back with the
        // others, one changed to null as null.
        let select = "displayName,jobTitle,mobilePhone";
        let doc = documented(ex2);
        let url = e.url(&format!("/{api}/users/delta?$select={select}"));
        let r = e.round(&url, false).await;
        assert_page_shape(&r.pages[0], &e.base, api, Some(select));
        for p in &r.pages[1..] {
            assert_page_shape(p, &e.base, api, None);
        }
        for item in &r.items {
            assert_shape(&doc["value"][0], item, ex2);
        }
        let id = e.emu.control().user_id(user);
        let (s, v) = e
            .patch(
                &format!("/_emulator/users/{id}"),
                json!({"displayName": "Renamed User", "mobilePhone": null}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let later = e.round(&r.delta_link, false).await;
        assert_page_shape(&later.pages[0], &e.base, api, None);
        let item = later.by_id(&id).unwrap();
        assert_shape(&doc["value"][0], item, ex2);
        assert_eq!(item["mobilePhone"], Value::Null, "changed to null: null");
        assert!(item.get("jobTitle").is_some(), "unchanged: still there");

        // Example 3: the minimal response: only what changed (displayName, jobTitle to null).
        let doc = documented(ex3);
        let (s, v) = e
            .patch(
                &format!("/_emulator/users/{id}"),
                json!({"displayName": "displayName-value", "jobTitle": null}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let minimal = e.round(&later.delta_link, true).await;
        let item = minimal.by_id(&id).unwrap();
        assert_shape(&doc["value"][0], item, ex3);
        assert_eq!(
            emulator_support::keys(item),
            ["displayName", "id", "jobTitle"]
        );
        assert_eq!(item["jobTitle"], Value::Null);
    }
    e.emu.shutdown().await;
}

#[tokio::test]
async fn the_emulator_serves_the_concepts_page_shapes() {
    let e = emulator(12, 5).await;
    let select = "displayName,givenName,surname";
    let url = e.url(&format!("/v1.0/users/delta?$select={select}"));
    let doc_first = documented("concepts_initial_response.json");
    let doc_next = documented("concepts_nextlink_response.json");
    let doc_final = documented("concepts_final_nextlink_response.json");
    let r = e.round(&url, false).await;
    assert_eq!(
        r.pages.len(),
        3,
        "12 users, pages of 5: as the docs' three pages"
    );
    // The initial response echoes the `$select` list in its context, the later pages do not.
    assert_page_shape(&r.pages[0], &e.base, "v1.0", Some(select));
    assert!(r.pages[0]["@odata.nextLink"].is_string());
    assert_page_shape(&r.pages[1], &e.base, "v1.0", None);
    assert!(r.pages[1]["@odata.nextLink"].is_string());
    assert_page_shape(&r.pages[2], &e.base, "v1.0", None);
    assert!(r.pages[2]["@odata.deltaLink"].is_string());
    for (page, doc) in r.pages.iter().zip([&doc_first, &doc_next, &doc_final]) {
        for item in page["value"].as_array().unwrap() {
            assert_shape(&doc["value"][0], item, "concepts page");
        }
    }

    // deltaLink response, no changes: an empty value and a deltaLink.
    let doc_empty = documented("concepts_deltalink_response_empty.json");
    let empty = e.round(&r.delta_link, false).await;
    assert_eq!(empty.pages.len(), 1);
    assert_page_shape(&empty.pages[0], &e.base, "v1.0", None);
    assert_eq!(empty.pages[0]["value"], doc_empty["value"]);

    // deltaLink response with changes: an update, a soft deletion (`reason: changed`) and, as
    // in the initial response, a permanent one (`reason: deleted`).
    let doc_changes = documented("concepts_deltalink_response_changes.json");
    let c = e.emu.control();
    let (updated, soft, hard) = (c.user_id(4), c.user_id(6), c.user_id(8));
    let (s, _) = e
        .patch(
            &format!("/_emulator/users/{updated}"),
            json!({"displayName": "MOD Administrator", "givenName": "MOD", "surname": "Administrator"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = e.delete(&format!("/_emulator/users/{soft}")).await;
    assert_eq!(s, 200);
    let (s, _) = e
        .delete(&format!("/_emulator/users/{hard}?permanent=true"))
        .await;
    assert_eq!(s, 200);
    let changes = e.round(&empty.delta_link, false).await;
    assert_page_shape(&changes.pages[0], &e.base, "v1.0", None);
    assert_shape(
        &doc_changes["value"][0],
        changes.by_id(&updated).unwrap(),
        "updated user",
    );
    // The removed ones exactly as the docs write them: the id and `@removed` only.
    assert_eq!(
        changes.by_id(&soft).unwrap(),
        &json!({"id": soft, "@removed": {"reason": "changed"}})
    );
    assert_eq!(
        emulator_support::keys(changes.by_id(&soft).unwrap()),
        emulator_support::keys(&doc_changes["value"][1])
    );
    assert_eq!(
        changes.by_id(&hard).unwrap(),
        &json!({"id": hard, "@removed": {"reason": "deleted"}})
    );
    assert_eq!(
        emulator_support::keys(changes.by_id(&hard).unwrap()),
        emulator_support::keys(&doc_first["value"][2])
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn the_emulator_serves_manager_delta_in_the_documented_shape() {
    let e = emulator(24, 10).await;
    let doc = documented("guidelines_manager_delta.json");
    let doc_user = &doc["value"][0];
    let doc_link = &doc_user["manager@delta"][0];
    // The documented request has no `$select`; the emulator tracks the manager when `$select`
    // names it (delta-query-overview.md), so the documented properties are selected with it.
    let select = "businessPhones,displayName,givenName,jobTitle,mail,officeLocation,preferredLanguage,surname,userPrincipalName,manager";
    let url = e.url(&format!("/v1.0/users/delta?$select={select}"));
    let r = e.round(&url, false).await;
    assert_page_shape(&r.pages[0], &e.base, "v1.0", Some(select));
    let mut with_manager = 0;
    for item in &r.items {
        assert_shape(doc_user, item, "user with manager");
        if let Some(list) = item.get("manager@delta") {
            with_manager += 1;
            let list = list.as_array().unwrap();
            assert_eq!(list.len(), 1, "one manager");
            assert_eq!(
                emulator_support::keys(&list[0]),
                emulator_support::keys(doc_link)
            );
            assert_eq!(list[0]["@odata.type"], doc_link["@odata.type"]);
        }
    }
    assert!(
        with_manager > r.items.len() / 2,
        "most users have a manager"
    );

    // A manager change: the user comes back with `manager@delta` holding the new manager; a
    // removal: the old one with `@removed`; a soft-deleted user as the docs' removed one.
    let c = e.emu.control();
    let (moved, gone) = (c.user_id(13), c.user_id(20));
    // A user with a manager (most have one), to take it away.
    let unmanaged = (14..20)
        .map(|i| c.user_id(i))
        .find(|id| r.by_id(id).unwrap().get("manager@delta").is_some())
        .unwrap();
    let boss = c.user_id(1);
    let (s, v) = e
        .put(
            &format!("/_emulator/users/{moved}/manager"),
            json!({"id": boss}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let had = r.by_id(&unmanaged).unwrap()["manager@delta"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, v) = e
        .delete(&format!("/_emulator/users/{unmanaged}/manager"))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = e.delete(&format!("/_emulator/users/{gone}")).await;
    assert_eq!(s, 200);
    for minimal in [false, true] {
        let later = e.round(&r.delta_link, minimal).await;
        let item = later.by_id(&moved).unwrap();
        assert_shape(doc_user, item, "moved user");
        assert_eq!(
            item["manager@delta"],
            json!([{"@odata.type": "#microsoft.graph.user", "id": boss}])
        );
        let item = later.by_id(&unmanaged).unwrap();
        assert_eq!(
            item["manager@delta"],
            json!([{"@odata.type": "#microsoft.graph.user", "id": had, "@removed": {"reason": "deleted"}}])
        );
        if minimal {
            assert_eq!(emulator_support::keys(item), ["id", "manager@delta"]);
        }
        assert_eq!(
            emulator_support::keys(later.by_id(&gone).unwrap()),
            emulator_support::keys(&doc["value"][1])
        );
    }
    // Without `manager` in `$select`, no `manager@delta`.
    let plain = e
        .round(&e.url("/v1.0/users/delta?$select=displayName"), false)
        .await;
    assert!(plain.items.iter().all(|u| u.get("manager@delta").is_none()));
    e.emu.shutdown().await;
}
