//! Conformance with the documented user delta, the client's half (the emulator's is
//! `conformance_users_emulator.rs`, on the same fixtures):
//!
//! 1. The client: a loopback server replays the documented response bodies (verbatim in
//!    `tests/fixtures/users_delta/`, only `https://graph.microsoft.com` replaced by the server's
//!    base so that the links lead back to it) and the engine's `Session` walks them; every page
//!    is checked item by item (its outcomes) and every round summary by summary; the real
//!    `deltascope sync` binary walks the concepts page's sequence too (items on stdout, summary
//!    lines on stderr).
//!
//! Where each fixture comes from (microsoftgraph/microsoft-graph-docs-contrib unless said):
//!
//! | fixture | page, section |
//! | --- | --- |
//! | `v1_example1_default.json` | api-reference/v1.0/api/user-delta.md, "Example 1: Default properties", response |
//! | `v1_example2_select.json` | same page, "Example 2: Selecting three properties", response |
//! | `v1_example3_minimal.json` | same page, "Example 3: Alternative minimal response behavior", response |
//! | `beta_example{1,2,3}_*.json` | api-reference/beta/api/user-delta.md, Examples 1, 2 and 3, responses |
//! | `concepts_initial_response.json` | concepts/delta-query-users.md, "Initial response" (with the removed user) |
//! | `concepts_nextlink_response.json` | same page, "nextLink response" |
//! | `concepts_final_nextlink_response.json` | same page, "Final nextLink response" |
//! | `concepts_deltalink_response_empty.json` | same page, "deltaLink response", no changes |
//! | `concepts_deltalink_response_changes.json` | same page, "deltaLink response", with changes |
//! | `guidelines_manager_delta.json` | microsoft/api-guidelines graph/patterns/change-tracking.md, "Get changes for the users entity set" (the only documented `manager@delta` body; concepts/delta-query-overview.md says `$select` "supports **manager**" without an example) |
//!
//! The reference pages' Examples 2 and 3 show objects without an `id` ("The *id* property is
//! always returned" says the same page: the examples are shortened); the client skips such an
//! item with a warning and applies nothing, as it must with any object it cannot key.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;
mod support;

use std::collections::BTreeMap;

use deltascope::graph::catalog::Catalog;
use deltascope::graph::page::PageRequest;
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::{Outcome, PageReport, Session};
use loopback::Server;
use serde_json::{Value, json};
use support::engine::walk_round;

const GRAPH: &str = "https://graph.microsoft.com";

/// A documented body, its links pointed at `base`.
fn fixture(base: &str, name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/users_delta/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace(GRAPH, base)
}

/// The documented body, parsed, as Graph wrote it (links to graph.microsoft.com).
fn documented(name: &str) -> Value {
    serde_json::from_str(&fixture(GRAPH, name)).unwrap()
}

/// The last page of a round in the documented shape of the concepts page's "deltaLink
/// response" without changes, for `api` (the reference pages' examples show only a first page
/// with a nextLink; the round has to end somewhere).
fn end_page(base: &str, api: &str) -> String {
    json!({
        "@odata.context": format!("{base}/{api}/$metadata#users"),
        "@odata.deltaLink": format!("{base}/{api}/users/delta?$deltatoken=end-of-round"),
        "value": [],
    })
    .to_string()
}

/// One round (the reference examples without ids warn, and are checked for it).
async fn round(server: &Server, session: &mut Session) -> Vec<PageReport> {
    walk_round(&server.base, session).await
}

fn outcomes(reports: &[PageReport]) -> Vec<Vec<Outcome>> {
    reports.iter().map(|r| r.outcomes.clone()).collect()
}

fn users_query(api: ApiVersion, select: &[&str], minimal: bool) -> DeltaQuery {
    let mut q = DeltaQuery::new("users", api);
    q.select = select.iter().map(|s| s.to_string()).collect();
    q.minimal = minimal;
    q
}

fn first_request(base: &str, q: &DeltaQuery) -> PageRequest {
    q.first_request(Catalog::builtin(), &GraphRoot::parse(base).unwrap())
        .unwrap()
}

fn obj(session: &Session, id: &str) -> Value {
    Value::Object(session.replica().get(id).cloned().unwrap())
}

// ------------------------------------------------------------------- the client, replayed

#[tokio::test]
async fn concepts_page_sequence_initial_nextlink_final_and_deltalink_rounds() {
    let server = Server::serving_in_order(|base| {
        [
            "concepts_initial_response.json",
            "concepts_nextlink_response.json",
            "concepts_final_nextlink_response.json",
            "concepts_deltalink_response_empty.json",
            "concepts_deltalink_response_changes.json",
        ]
        .iter()
        .map(|f| fixture(base, f))
        .collect()
    })
    .await;
    let q = users_query(
        ApiVersion::V1_0,
        &["displayName", "givenName", "surname"],
        false,
    );
    let mut session = Session::new(first_request(&server.base, &q));

    // Round 1: the initial request, the nextLink request, the final nextLink request.
    let first = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&first),
        vec![
            vec![
                Outcome::Added,
                Outcome::Added,
                Outcome::Removed,
                Outcome::Added
            ],
            vec![Outcome::Added; 2],
            vec![Outcome::Added; 2],
        ]
    );
    let r1 = session.rounds()[0].clone();
    assert!(r1.full && r1.complete, "{r1}");
    assert_eq!((r1.pages, r1.items), (3, 8), "{r1}");
    assert_eq!((r1.added, r1.updated, r1.duplicates), (7, 0, 0), "{r1}");
    assert_eq!(
        (r1.removed_changed, r1.removed_deleted, r1.removed_other),
        (0, 1, 0),
        "{r1}"
    );
    assert_eq!(
        r1.delta_link.as_deref(),
        Some(format!("{}/v1.0/users/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr_rPe8o9M54L45qEXQGmvQC6T2dbL-9O7nSU-njKhFiGlAZqewNAThmCVnNxqPu5gOBegrm1CaVZ-ZtFZ2tPOAO98OD9y0ao460", server.base).as_str())
    );
    assert_eq!(session.replica().len(), 7);
    assert!(
        !session
            .replica()
            .contains("86462606-fde0-4fc4-9e0c-a20eb73e54c6")
    );
    assert_eq!(
        obj(&session, "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0"),
        json!({"displayName": "Conf Room Adams", "id": "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0"})
    );
    // The requests: the initial one with `$select`, then the nextLinks exactly as given.
    let requests = server.requests();
    assert_eq!(
        requests[0].uri,
        "/v1.0/users/delta?$select=displayName,givenName,surname"
    );
    assert!(requests[1].uri.ends_with("$skiptoken=oEBwdSP6uehIAxQOWq_3Ksh_TLol6KIm3stvdc6hGhZRi1hQ7Spe__dpvm3U4zReE4CYXC2zOtaKdi7KHlUtC2CbRiBIUwOxPKLa"), "{}", requests[1].uri);
    assert!(requests[2].uri.ends_with(
        "$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjtQ5LOhVoS7qQG_wdVCHHlbQpga7"
    ));

    // Round 2: the deltaLink, no changes: `"value": []` and a new deltaLink.
    let second = round(&server, &mut session).await;
    assert_eq!(outcomes(&second), vec![Vec::<Outcome>::new()]);
    let r2 = session.rounds()[1].clone();
    assert!(!r2.full && r2.complete, "{r2}");
    assert_eq!(
        (r2.pages, r2.items, r2.added, r2.updated, r2.removed()),
        (1, 0, 0, 0, 0)
    );
    assert!(server.requests()[3].uri.contains("$deltatoken=oEcOySpF_"));

    // Round 3: the deltaLink again, with changes: an update and a soft deletion of a user the
    // client never held.
    let third = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&third),
        vec![vec![Outcome::Updated, Outcome::Removed]]
    );
    let r3 = session.rounds()[2].clone();
    assert_eq!(
        (r3.updated, r3.added, r3.removed_changed),
        (1, 0, 1),
        "{r3}"
    );
    assert_eq!(
        r3.property_changes,
        BTreeMap::from([
            ("displayName".to_string(), 1),
            ("givenName".to_string(), 1),
            ("surname".to_string(), 1)
        ])
    );
    assert_eq!(
        obj(&session, "25dcffff-959e-4ece-9973-e5d9b800e8cc")["displayName"],
        "MOD Administrator"
    );
    assert_eq!(session.replica().len(), 7);
    assert!(
        first
            .iter()
            .chain(&second)
            .chain(&third)
            .all(|r| r.warnings.is_empty())
    );
}

/// Example 1 of a reference page: the default property set, one page with a nextLink.
async fn reference_example_1(api: ApiVersion, fixture_name: &'static str, id: &'static str) {
    let api_path = api.to_string();
    let server = Server::serving_in_order(move |base| {
        vec![fixture(base, fixture_name), end_page(base, &api_path)]
    })
    .await;
    let q = users_query(api, &[], false);
    let mut session = Session::new(first_request(&server.base, &q));
    let reports = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&reports),
        vec![vec![Outcome::Added], vec![]],
        "{fixture_name}"
    );
    let r = &session.rounds()[0];
    assert_eq!(
        (r.pages, r.items, r.added, r.empty_pages),
        (2, 1, 1, 0),
        "{r}"
    );
    assert!(reports.iter().all(|r| r.warnings.is_empty()));
    assert_eq!(server.requests()[0].uri, format!("/{api}/users/delta"));
    // The object as documented, whole.
    let doc = documented(fixture_name);
    assert_eq!(obj(&session, id), doc["value"][0], "{fixture_name}");
}

/// Examples 2 and 3 of a reference page: three selected properties, then a minimal round. The
/// documented objects have no `id`: skipped, with a warning, nothing applied.
async fn reference_examples_2_and_3(api: ApiVersion, select: &'static str, minimal: &'static str) {
    let api_path = api.to_string();
    let server = Server::serving_in_order(move |base| {
        vec![
            fixture(base, select),
            end_page(base, &api_path),
            fixture(base, minimal),
            end_page(base, &api_path),
        ]
    })
    .await;
    let q = users_query(api, &["displayName", "jobTitle", "mobilePhone"], true);
    let req = first_request(&server.base, &q);
    assert_eq!(
        req.url,
        format!(
            "{}/{api}/users/delta?$select=displayName,jobTitle,mobilePhone",
            server.base
        )
    );
    let mut session = Session::new(req);
    for n in 0..2 {
        let reports = round(&server, &mut session).await;
        assert_eq!(outcomes(&reports), vec![vec![Outcome::Skipped], vec![]]);
        assert_eq!(reports[0].warnings.len(), 1, "{:?}", reports[0].warnings);
        let r = &session.rounds()[n];
        assert_eq!(
            (r.items, r.added, r.updated, r.removed()),
            (1, 0, 0, 0),
            "{r}"
        );
        assert!(session.replica().is_empty());
    }
    let requests = server.requests();
    assert_eq!(
        requests[0].uri,
        format!("/{api}/users/delta?$select=displayName,jobTitle,mobilePhone")
    );
    // Example 3's request: `Prefer: return=minimal` on the deltaLink request (and the first).
    assert_eq!(requests[2].header("prefer"), Some("return=minimal"));
    assert!(requests[2].uri.contains("$deltatoken=end-of-round"));
}

#[tokio::test]
async fn v1_reference_examples() {
    reference_example_1(ApiVersion::V1_0, "v1_example1_default.json", "id-value").await;
    reference_examples_2_and_3(
        ApiVersion::V1_0,
        "v1_example2_select.json",
        "v1_example3_minimal.json",
    )
    .await;
}

#[tokio::test]
async fn beta_reference_examples() {
    reference_example_1(
        ApiVersion::Beta,
        "beta_example1_default.json",
        "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    )
    .await;
    reference_examples_2_and_3(
        ApiVersion::Beta,
        "beta_example2_select.json",
        "beta_example3_minimal.json",
    )
    .await;
}

const GRADY: &str = "0baaae0f-b0b3-4645-867d-742d8fb669a2";
const GRADY_MANAGER: &str = "99789584-a1e1-4232-90e5-866170e3d4e7";

/// A later round's user with only a manager change, in the documented link shape (the
/// api-guidelines body; a removed link as change-tracking.md and delta-query-groups.md write
/// one, with `"@removed": {"reason": "deleted"}`). Not a documented body: no page documents a
/// manager change in a later round.
fn manager_change(base: &str, token: &str, link: Value) -> String {
    json!({
        "@odata.context": format!("{base}/v1.0/$metadata#users"),
        "@odata.deltaLink": format!("{base}/v1.0/users/delta?$deltatoken={token}"),
        "value": [{"id": GRADY, "manager@delta": [link]}],
    })
    .to_string()
}

fn manager_of(session: &Session, id: &str) -> Option<Value> {
    obj(session, id).get("manager@delta").cloned()
}

#[tokio::test]
async fn the_documented_manager_delta_and_later_manager_changes() {
    let new_manager = "5f2c0c2e-0000-4a4a-9a9a-0000000000aa";
    let server = Server::serving_in_order(move |base| {
        vec![
            fixture(base, "guidelines_manager_delta.json"),
            manager_change(
                base,
                "d2",
                json!({"@odata.type": "#microsoft.graph.user", "id": new_manager}),
            ),
            manager_change(
                base,
                "d3",
                json!({"@odata.type": "#microsoft.graph.user", "id": new_manager, "@removed": {"reason": "deleted"}}),
            ),
        ]
    })
    .await;
    let q = users_query(ApiVersion::V1_0, &[], false);
    let mut session = Session::new(first_request(&server.base, &q));

    let first = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&first),
        vec![vec![Outcome::Added, Outcome::Removed]]
    );
    let r1 = session.rounds()[0].clone();
    assert_eq!(
        (
            r1.added,
            r1.removed_changed,
            r1.links_added,
            r1.links_removed
        ),
        (1, 1, 1, 0),
        "{r1}"
    );
    assert_eq!(
        manager_of(&session, GRADY),
        Some(json!([{"@odata.type": "#microsoft.graph.user", "id": GRADY_MANAGER}]))
    );
    assert_eq!(obj(&session, GRADY)["jobTitle"], "Designer");

    // A new manager replaces the old one (a single-valued relationship), the other properties
    // stay.
    let second = round(&server, &mut session).await;
    assert_eq!(outcomes(&second), vec![vec![Outcome::Updated]]);
    let r2 = session.rounds()[1].clone();
    assert_eq!(
        (r2.updated, r2.links_added, r2.links_removed),
        (1, 1, 1),
        "{r2}"
    );
    assert_eq!(
        r2.property_changes,
        BTreeMap::from([("manager@delta".to_string(), 1)])
    );
    assert_eq!(
        manager_of(&session, GRADY),
        Some(json!([{"@odata.type": "#microsoft.graph.user", "id": new_manager}]))
    );
    assert_eq!(obj(&session, GRADY)["jobTitle"], "Designer");

    // The manager removed: no manager any more (no `manager@delta`, as a full sync has it).
    let third = round(&server, &mut session).await;
    assert_eq!(outcomes(&third), vec![vec![Outcome::Updated]]);
    let r3 = session.rounds()[2].clone();
    assert_eq!(
        (r3.updated, r3.links_added, r3.links_removed),
        (1, 0, 1),
        "{r3}"
    );
    assert_eq!(manager_of(&session, GRADY), None);
    assert!(
        first
            .iter()
            .chain(&second)
            .chain(&third)
            .all(|r| r.warnings.is_empty())
    );
}

/// `deltascope sync`, the real binary, over the concepts page's sequence: every item on stdout
/// as received, and one summary line per round on stderr with the documented page's counts.
#[tokio::test]
async fn sync_walks_the_concepts_page_sequence_round_by_round() {
    let server = Server::serving_in_order(|base| {
        [
            "concepts_initial_response.json",
            "concepts_nextlink_response.json",
            "concepts_final_nextlink_response.json",
            "concepts_deltalink_response_empty.json",
            "concepts_deltalink_response_changes.json",
        ]
        .iter()
        .map(|f| fixture(base, f))
        .collect()
    })
    .await;
    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_deltascope"))
            .args([
                "sync",
                "--graph-root",
                &base,
                "--resource",
                "users",
                "--select",
                "displayName,givenName,surname",
                "--rounds",
                "3",
            ])
            .env_remove("DELTASCOPE_GRAPH_ROOT")
            .env("DELTASCOPE_TOKEN", "conformance-token")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let items: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 8 + 0 + 2 items, in the order of the documented pages.
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "ffff7b1a-13b6-477b-8c0c-380905cd99f7",
            "605d1257-ffff-40b6-8e6f-528a53f5dc55",
            "86462606-fde0-4fc4-9e0c-a20eb73e54c6",
            "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0",
            "d8c37826-ffff-4cae-b348-e2725b1e814b",
            "8b1ee412-cd8f-4d59-ffff-24010edb9f1f",
            "25dcffff-959e-4ece-9973-e5d9b800e8cc",
            "f6ede700-27d0-4c42-bfb9-4dffff43c74a",
            "25dcffff-959e-4ece-9973-e5d9b800e8cc",
            "8ffff70c-1c63-4860-b963-e34ec660931d",
        ]
    );
    let rounds: Vec<&str> = stderr.lines().filter(|l| l.starts_with("round ")).collect();
    assert_eq!(rounds.len(), 3, "{stderr}");
    assert!(
        rounds[0].starts_with(
            "round 1 (full): 3 pages, 8 items: 7 added, 0 updated, 1 removed (0 changed, 1 deleted), 0 duplicates"
        ),
        "{stderr}"
    );
    assert!(
        rounds[1].starts_with("round 2: 1 page, 0 items: 0 added, 0 updated, 0 removed"),
        "{stderr}"
    );
    assert!(
        rounds[2].starts_with(
            "round 3: 1 page, 2 items: 0 added, 1 updated (displayName 1, givenName 1, surname 1), 1 removed (1 changed, 0 deleted)"
        ),
        "{stderr}"
    );
}
