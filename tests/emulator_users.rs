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
    q.select = vec!["displayName".into(), "jobTitle".into(), "department".into()];
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
