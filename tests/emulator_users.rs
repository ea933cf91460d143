//! Users that change, against the emulator over loopback HTTP: the control API creates, updates,
//! soft- and hard-deletes and restores users, and users delta shows each change as Graph writes
//! it; a deleted user leaves its groups (groups delta shows the member removed) and a restored
//! one comes back into them; `mutate` and the churn change users, and the engine's replica after
//! those rounds equals a fresh full sync.
#![allow(clippy::unwrap_used)]

mod emulator_support;
mod support;

use deltascope::emulator::EmulatorConfig;
use deltascope::graph::{ApiVersion, Catalog, ClientConfig, DeltaQuery, GraphRoot, Session};
use emulator_support::{keys, start, start_default};
use serde_json::json;
use support::engine::static_token_client;
use tokio_util::sync::CancellationToken;

/// A user that is not a meeting organizer (index 10 of the demo's 50 users).
fn plain_user(e: &emulator_support::Emu) -> String {
    e.emu.control().user_id(10)
}

#[tokio::test]
async fn users_delta_shows_creates_updates_deletes_and_restores() {
    let e = start_default().await;
    let first = e.round(&e.url("/v1.0/users/delta"), false).await;
    let before = first.items.len();
    let id = plain_user(&e);

    let (s, v) = e
        .patch(
            &format!("/_emulator/users/{id}"),
            json!({"jobTitle": "Chief Sync Officer"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["jobTitle"], "Chief Sync Officer");
    let (s, created) = e
        .post("/_emulator/users", json!({"displayName": "Ada Delta"}))
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_owned();

    let second = e.round(&first.delta_link, false).await;
    let mut ids = second.ids();
    ids.sort();
    let mut expected = vec![id.clone(), new_id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(second.by_id(&id).unwrap()["jobTitle"], "Chief Sync Officer");
    assert_eq!(second.by_id(&new_id).unwrap()["displayName"], "Ada Delta");
    // Minimal: only what changed.
    let minimal = e.round(&first.delta_link, true).await;
    assert_eq!(keys(minimal.by_id(&id).unwrap()), vec!["id", "jobTitle"]);

    let (s, v) = e.delete(&format!("/_emulator/users/{id}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = e
        .delete(&format!("/_emulator/users/{new_id}?permanent=true"))
        .await;
    assert_eq!(s, 200, "{v}");
    let third = e.round(&second.delta_link, false).await;
    assert_eq!(
        third.by_id(&id).unwrap(),
        &json!({"id": id, "@removed": {"reason": "changed"}})
    );
    assert_eq!(
        third.by_id(&new_id).unwrap(),
        &json!({"id": new_id, "@removed": {"reason": "deleted"}})
    );
    let full = e.round(&e.url("/v1.0/users/delta"), false).await;
    assert_eq!(
        full.items.len(),
        before - 1,
        "one soft-deleted, one created and gone"
    );

    let (s, v) = e
        .post(&format!("/_emulator/users/{id}/restore"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = e
        .post(&format!("/_emulator/users/{new_id}/restore"), json!({}))
        .await;
    assert_eq!(s, 404, "a hard-deleted user cannot be restored");
    let fourth = e.round(&third.delta_link, false).await;
    assert_eq!(fourth.ids(), vec![id.clone()]);
    assert_eq!(
        fourth.items[0]["jobTitle"], "Chief Sync Officer",
        "back whole"
    );

    // The control API's errors: an unknown collection, a property users do not have.
    let (s, v) = e.post("/_emulator/printers", json!({})).await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = e
        .patch(&format!("/_emulator/users/{id}"), json!({"shoeSize": 44}))
        .await;
    assert_eq!(s, 400, "{v}");
    let state = e.emu.control().state();
    assert_eq!(state["users"]["softDeleted"], 0);
    assert_eq!(state["users"]["deleted"], 1);
}

/// The groups `user` belongs to, by the control API.
fn groups_of(e: &emulator_support::Emu, user: &str) -> Vec<String> {
    let c = e.emu.control();
    (0..12)
        .map(|i| c.group_id(i))
        .filter(|g| c.group_members(g).unwrap().iter().any(|m| m == user))
        .collect()
}

#[tokio::test]
async fn a_deleted_user_leaves_its_groups_and_a_restored_one_comes_back() {
    let e = start_default().await;
    let groups = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,members"),
            false,
        )
        .await;
    let id = plain_user(&e);
    let member_of = groups_of(&e, &id);
    assert!(!member_of.is_empty(), "every user is in All Company");

    let (s, v) = e.delete(&format!("/_emulator/users/{id}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["leftGroups"], member_of.len());
    assert!(groups_of(&e, &id).is_empty());
    let after = e.round(&groups.delta_link, false).await;
    let mut changed = after.ids();
    changed.sort();
    let mut expected = member_of.clone();
    expected.sort();
    assert_eq!(
        changed, expected,
        "each of its groups shows the member leaving"
    );
    for g in &after.items {
        assert_eq!(
            g["members@delta"],
            json!([{"@odata.type": "#microsoft.graph.user", "id": id, "@removed": {"reason": "deleted"}}])
        );
    }

    let (s, v) = e
        .post(&format!("/_emulator/users/{id}/restore"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["@emulator.rejoinedGroups"], member_of.len());
    assert_eq!(groups_of(&e, &id), member_of);
    let back = e.round(&after.delta_link, false).await;
    for g in &back.items {
        assert_eq!(
            g["members@delta"],
            json!([{"@odata.type": "#microsoft.graph.user", "id": id}])
        );
    }
    assert_eq!(back.items.len(), member_of.len());
}

async fn walk(client: &deltascope::graph::GraphClient, s: &mut Session) {
    for _ in 0..1000 {
        let req = s.next_request().unwrap();
        let page = client
            .fetch(&req, &CancellationToken::new(), &|_| {})
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if s.apply(&page).round_complete {
            return;
        }
    }
    panic!("the round never completed");
}

#[tokio::test]
async fn mutate_changes_users_and_the_replica_matches_a_fresh_sync() {
    let e = start(EmulatorConfig {
        users: 120,
        page_size: 7,
        ..EmulatorConfig::default()
    })
    .await;
    let root = GraphRoot::parse(&e.base).unwrap();
    let client = static_token_client(&root, "users-test", ClientConfig::default());
    let mut q = DeltaQuery::new("users", ApiVersion::V1_0);
    q.select = vec![
        "displayName".into(),
        "jobTitle".into(),
        "department".into(),
        "manager".into(),
    ];
    let first = q.first_request(Catalog::builtin(), &root).unwrap();
    let mut session = Session::new(first.clone());
    walk(&client, &mut session).await;

    for round in 0..4 {
        let (s, v) = e.post("/_emulator/mutate", json!({"users": 40})).await;
        assert_eq!(s, 200, "{v}");
        let made: u64 = [
            "usersUpdated",
            "usersCreated",
            "usersSoftDeleted",
            "usersRestored",
            "usersManagerChanged",
        ]
        .iter()
        .map(|k| v["users"][k].as_u64().unwrap())
        .sum();
        assert_eq!(made, 40, "{v}");
        walk(&client, &mut session).await;
        let r = session.rounds().last().unwrap();
        assert!(
            r.updated + r.added + r.removed() > 0,
            "round {round}: {r:?}"
        );
        let mut fresh = Session::new(first.clone());
        walk(&client, &mut fresh).await;
        assert_eq!(
            session.replica().normalized(),
            fresh.replica().normalized(),
            "round {round}"
        );
    }
    let state = e.emu.control().state();
    assert!(state["users"]["live"].as_u64().unwrap() > 0);
    // Out of range: the message names it.
    let (s, v) = e.post("/_emulator/mutate", json!({"users": 10_001})).await;
    assert_eq!(s, 400);
    assert!(v.to_string().contains("users"), "{v}");
}

/// A manager link as the emulator writes it (and as the documented example has it).
fn link(id: &str) -> serde_json::Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id})
}

fn link_removed(id: &str) -> serde_json::Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id, "@removed": {"reason": "deleted"}})
}

#[tokio::test]
async fn managers_are_served_as_manager_delta_and_change_through_the_control_api() {
    let e = start_default().await;
    let c = e.emu.control();
    let url = e.url("/v1.0/users/delta?$select=displayName,manager");
    let first = e.round(&url, false).await;
    assert!(
        first.pages[0]["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#users(displayName,manager)")
    );
    // A realistic org chart: the head and a few top-level users have no manager, most have one.
    let with: Vec<&serde_json::Value> = first
        .items
        .iter()
        .filter(|u| u.get("manager@delta").is_some())
        .collect();
    assert!(with.len() * 10 >= first.items.len() * 8, "{}", with.len());
    assert!(with.len() < first.items.len());
    assert!(
        first
            .by_id(&c.user_id(0))
            .unwrap()
            .get("manager@delta")
            .is_none()
    );
    for u in &with {
        let list = u["manager@delta"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{u}");
        assert_eq!(keys(&list[0]), ["@odata.type", "id"]);
        assert_eq!(list[0]["@odata.type"], "#microsoft.graph.user");
    }
    // Without `manager` in `$select`, no manager@delta.
    let plain = e
        .round(&e.url("/v1.0/users/delta?$select=displayName"), false)
        .await;
    assert!(plain.items.iter().all(|u| u.get("manager@delta").is_none()));

    let id = plain_user(&e);
    let boss = c.user_id(3);
    let (s, v) = e
        .put(
            &format!("/_emulator/users/{id}/manager"),
            json!({"id": boss}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["manager"], boss.as_str());
    let shown: serde_json::Value = e
        .http
        .get(e.url(&format!("/_emulator/users/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["@emulator.manager"], boss.as_str());
    let got: serde_json::Value = e
        .http
        .get(e.url(&format!("/_emulator/users/{id}/manager")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, link(&boss));
    // The errors: itself, an unknown manager, an unknown user, no body.
    let (s, v) = e
        .put(&format!("/_emulator/users/{id}/manager"), json!({"id": id}))
        .await;
    assert_eq!(s, 400, "{v}");
    let unknown = "00000000-0000-0000-0000-000000000000";
    let (s, v) = e
        .put(
            &format!("/_emulator/users/{id}/manager"),
            json!({"id": unknown}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = e
        .put(
            &format!("/_emulator/users/{unknown}/manager"),
            json!({"id": boss}),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = e
        .put(&format!("/_emulator/users/{id}/manager"), json!({}))
        .await;
    assert_eq!(s, 400, "{v}");

    let second = e.round(&first.delta_link, false).await;
    assert_eq!(second.ids(), vec![id.clone()]);
    let item = second.by_id(&id).unwrap();
    assert_eq!(item["manager@delta"], json!([link(&boss)]));
    assert!(
        item.get("displayName").is_some(),
        "default: the selected properties too"
    );
    // Minimal: the id and the link only.
    let minimal = e.round(&first.delta_link, true).await;
    assert_eq!(keys(minimal.by_id(&id).unwrap()), ["id", "manager@delta"]);

    let (s, v) = e.delete(&format!("/_emulator/users/{id}/manager")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["manager"], serde_json::Value::Null);
    let (s, _) = e.delete(&format!("/_emulator/users/{id}/manager")).await;
    assert_eq!(s, 404, "no manager to remove");
    let third = e.round(&second.delta_link, true).await;
    assert_eq!(
        third.by_id(&id).unwrap()["manager@delta"],
        json!([link_removed(&boss)])
    );

    // A deleted manager: its reports lose it (each shows the link removed) and a deleted user
    // cannot become a manager; the restore gives them back.
    let boss_reports: Vec<String> = first
        .items
        .iter()
        .filter(|u| u["manager@delta"] == json!([link(&boss)]))
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!boss_reports.is_empty());
    let (s, v) = e.delete(&format!("/_emulator/users/{boss}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["lostReports"], boss_reports.len());
    let (s, v) = e
        .put(
            &format!("/_emulator/users/{id}/manager"),
            json!({"id": boss}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let fourth = e.round(&third.delta_link, false).await;
    for r in &boss_reports {
        assert_eq!(
            fourth.by_id(r).unwrap()["manager@delta"],
            json!([link_removed(&boss)])
        );
    }
    assert_eq!(
        fourth.by_id(&boss).unwrap()["@removed"]["reason"],
        "changed"
    );
    let (s, v) = e
        .post(&format!("/_emulator/users/{boss}/restore"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["@emulator.regainedReports"], boss_reports.len());
    let fifth = e.round(&fourth.delta_link, false).await;
    for r in &boss_reports {
        assert_eq!(
            fifth.by_id(r).unwrap()["manager@delta"],
            json!([link(&boss)])
        );
    }

    // The engine follows all of it to the same replica as a fresh full sync.
    let root = GraphRoot::parse(&e.base).unwrap();
    let client = static_token_client(&root, "users-test", ClientConfig::default());
    let mut q = DeltaQuery::new("users", ApiVersion::V1_0);
    q.select = vec!["displayName".into(), "manager".into()];
    q.minimal = true;
    let req = q.first_request(Catalog::builtin(), &root).unwrap();
    let mut session = Session::new(req.clone());
    walk(&client, &mut session).await;
    let (s, _) = e
        .put(
            &format!("/_emulator/users/{id}/manager"),
            json!({"id": boss}),
        )
        .await;
    assert_eq!(s, 200);
    let other = c.user_id(7);
    let (s, _) = e
        .put(
            &format!("/_emulator/users/{id}/manager"),
            json!({"id": other}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = e
        .delete(&format!("/_emulator/users/{}/manager", c.user_id(12)))
        .await;
    assert_eq!(s, 200);
    walk(&client, &mut session).await;
    let held = session.replica().get(&id).unwrap()["manager@delta"].clone();
    assert_eq!(held, json!([link(&other)]), "replaced, not accumulated");
    let mut fresh = Session::new(req);
    walk(&client, &mut fresh).await;
    assert_eq!(session.replica().normalized(), fresh.replica().normalized());
}

#[tokio::test]
async fn a_manager_change_that_would_make_a_cycle_is_refused() {
    let e = start_default().await;
    let mut ids = Vec::new();
    for name in ["Ann Top", "Bo Middle", "Cy Low"] {
        let (s, v) = e
            .post("/_emulator/users", json!({"displayName": name}))
            .await;
        assert_eq!(s, 200, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    let put = |user: &str, manager: &str| {
        let path = format!("/_emulator/users/{user}/manager");
        let body = json!({ "id": manager });
        let e = &e;
        async move { e.put(&path, body).await }
    };
    // b reports to a, c to b.
    assert_eq!(put(b, a).await.0, 200);
    assert_eq!(put(c, b).await.0, 200);
    let url = e.url("/v1.0/users/delta?$select=displayName,manager");
    let first = e.round(&url, false).await;
    // Self, A->B->A, and A->B->C->A: each a 400 naming the cycle; nothing changes.
    for (user, manager) in [(a, a), (a, b), (a, c), (b, c)] {
        let (s, v) = put(user, manager).await;
        assert_eq!(s, 400, "{user} <- {manager}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(user.as_str()) && (msg.contains("cycle") || msg.contains("own manager")),
            "{msg}"
        );
    }
    let second = e.round(&first.delta_link, false).await;
    assert!(second.items.is_empty(), "{:?}", second.items);
    // Allowed: a manager outside the chain, and moving c up under a.
    assert_eq!(put(c, a).await.0, 200);
    assert_eq!(put(a, &e.emu.control().user_id(3)).await.0, 200);
}
