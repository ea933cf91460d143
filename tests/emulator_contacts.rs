//! orgContact delta against the emulator over real loopback HTTP.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use std::collections::HashSet;
use std::time::Instant;

use deltascope::emulator::EmulatorConfig;
use emulator_support::{keys, start, start_default};
use serde_json::{Value, json};

const DEFAULT_PROPS: &[&str] = &[
    "companyName",
    "department",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mailNickname",
    "surname",
];

#[tokio::test]
async fn initial_round_pages_with_skiptoken_and_ends_with_deltatoken() {
    let e = start_default().await;
    let round = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    assert_eq!(round.pages.len(), 3, "250 contacts in pages of 100");
    assert_eq!(round.pages[0]["value"].as_array().unwrap().len(), 100);
    let ids: HashSet<String> = round.ids().into_iter().collect();
    assert_eq!(ids.len(), 250);
    assert_eq!(round.items.len(), 250);
    for p in &round.pages[..2] {
        let next = p["@odata.nextLink"].as_str().unwrap();
        assert!(
            next.starts_with(&format!("{}/v1.0/contacts/delta?$skiptoken=", e.base)),
            "{next}"
        );
        assert_eq!(
            p["@odata.context"],
            format!("{}/v1.0/$metadata#contacts", e.base)
        );
    }
    assert!(
        round
            .delta_link
            .starts_with(&format!("{}/v1.0/contacts/delta?$deltatoken=", e.base)),
        "{}",
        round.delta_link
    );
    for item in &round.items {
        for k in keys(item) {
            assert!(DEFAULT_PROPS.contains(&k.as_str()), "unexpected {k}");
        }
        assert!(item["displayName"].is_string());
    }
    // No change since: the next round is empty.
    let next = e.round(&round.delta_link, false).await;
    assert!(next.items.is_empty());
    assert!(next.delta_link.contains("$deltatoken="));
}

#[tokio::test]
async fn delta_spellings_and_beta_are_accepted_and_links_keep_the_version() {
    let e = start_default().await;
    for path in [
        "/beta/contacts/delta()",
        "/beta/contacts/microsoft.graph.delta",
        "/v1.0/contacts/microsoft.graph.delta()",
        "/v1.0/contacts/delta/",
    ] {
        let r = e.get(&e.url(&format!("{path}?$top=5"))).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let v = r.json();
        let version = if path.starts_with("/beta") {
            "beta"
        } else {
            "v1.0"
        };
        let next = v["@odata.nextLink"].as_str().unwrap();
        assert!(next.starts_with(&format!("{}/{version}/contacts/delta?$skiptoken=", e.base)));
        assert_eq!(v["value"].as_array().unwrap().len(), 5);
    }
}

#[tokio::test]
async fn top_sets_the_page_size_and_select_is_never_echoed() {
    let e = start_default().await;
    let r = e
        .round(
            &e.url("/v1.0/contacts/delta?$select=displayName,mail&$top=60"),
            false,
        )
        .await;
    assert_eq!(r.pages.len(), 5);
    for p in &r.pages {
        let link = p["@odata.nextLink"]
            .as_str()
            .or(p["@odata.deltaLink"].as_str())
            .unwrap();
        assert!(!link.contains("select") && !link.contains("top") && !link.contains("filter"));
    }
    for i in &r.items {
        for k in keys(i) {
            assert!(["id", "displayName", "mail"].contains(&k.as_str()), "{k}");
        }
    }
}

#[tokio::test]
async fn options_repeated_on_a_token_url_are_ignored() {
    let e = start_default().await;
    let first = e
        .get(&e.url("/v1.0/contacts/delta?$select=displayName"))
        .await
        .json();
    let next = first["@odata.nextLink"].as_str().unwrap();
    let page = e
        .get(&format!("{next}&$select=mail,surname&$top=3"))
        .await
        .json();
    let items = page["value"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    for i in items {
        assert_eq!(keys(i), vec!["displayName", "id"]);
    }
}

/// The Japanese seed's examples 2 and 3: `$select=displayName,jobTitle,mail`; a contact whose
/// displayName changed and whose jobTitle became null. Default: all selected properties with a
/// value, the changed-to-null one as null. Minimal: only the changed ones.
#[tokio::test]
async fn default_and_minimal_rounds_follow_the_seed_examples() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let initial = e
        .round(
            &e.url("/beta/contacts/delta?$select=displayName,jobTitle,mail"),
            true,
        )
        .await;
    // The initial round carries the full selected set even with return=minimal.
    assert!(
        initial
            .items
            .iter()
            .all(|i| i["displayName"].is_string() && i["mail"].is_string())
    );

    // A contact that has a jobTitle.
    let target = initial
        .items
        .iter()
        .find(|i| i["jobTitle"].is_string())
        .unwrap();
    let id = target["id"].as_str().unwrap().to_string();
    let mail = target["mail"].clone();
    ctl.update_contact(
        &id,
        &json!({"displayName": "displayName-value", "jobTitle": null}),
    )
    .unwrap();

    let default = e.get(&initial.delta_link).await;
    assert_eq!(default.status, 200);
    assert!(default.header("preference-applied").is_none());
    let v = default.json();
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0],
        json!({"displayName": "displayName-value", "id": id, "jobTitle": null, "mail": mail})
    );
    assert!(
        v["@odata.deltaLink"]
            .as_str()
            .unwrap()
            .contains("/beta/contacts/delta?$deltatoken=")
    );

    // The same deltaLink with Prefer: return=minimal.
    let minimal = e.get_minimal(&initial.delta_link).await;
    assert_eq!(minimal.header("preference-applied"), Some("return=minimal"));
    let v = minimal.json();
    let items = v["value"].as_array().unwrap();
    assert_eq!(
        items[0],
        json!({"displayName": "displayName-value", "id": id, "jobTitle": null})
    );
}

#[tokio::test]
async fn never_set_properties_are_null_and_default_keys_match_the_seed() {
    let e = start_default().await;
    let r = e.round(&e.url("/beta/contacts/delta"), false).await;
    // Example 1 of the seed: the default property set, on every contact.
    for item in &r.items {
        assert_eq!(keys(item), DEFAULT_PROPS);
    }
    // Some contacts have no jobTitle or department: null, as Graph writes an unset property.
    assert!(
        r.items
            .iter()
            .any(|i| i["jobTitle"].is_null() || i["department"].is_null())
    );
}

#[tokio::test]
async fn only_changes_to_selected_properties_start_a_later_round() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r = e
        .round(&e.url("/v1.0/contacts/delta?$select=displayName"), false)
        .await;
    let a = ctl.contact_id(1);
    let b = ctl.contact_id(2);
    ctl.update_contact(&a, &json!({"companyName": "Unselected Corp"}))
        .unwrap();
    ctl.update_contact(&b, &json!({"displayName": "Selected Change"}))
        .unwrap();
    let next = e.round(&r.delta_link, false).await;
    assert_eq!(next.ids(), vec![b.clone()]);
    assert_eq!(
        next.items[0],
        json!({"id": b, "displayName": "Selected Change"})
    );
    // With the default selection, companyName is tracked.
    let all = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    ctl.update_contact(&a, &json!({"companyName": "Tracked Corp"}))
        .unwrap();
    let next = e.round(&all.delta_link, true).await;
    assert_eq!(
        next.items,
        vec![json!({"id": a, "companyName": "Tracked Corp"})]
    );
}

#[tokio::test]
async fn removed_with_both_reasons_and_restore() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let soft = ctl.contact_id(10);
    let hard = ctl.contact_id(11);
    ctl.soft_delete_contact(&soft).unwrap();
    ctl.hard_delete_contact(&hard).unwrap();
    let created = ctl
        .create_contact(
            &json!({"displayName": "New Person", "givenName": "New", "surname": "Person"}),
        )
        .unwrap();
    let new_id = created["id"].as_str().unwrap().to_string();

    let r2 = e.round(&r.delta_link, false).await;
    assert_eq!(r2.items.len(), 3);
    assert_eq!(
        r2.by_id(&soft).unwrap(),
        &json!({"id": soft, "@removed": {"reason": "changed"}})
    );
    assert_eq!(
        r2.by_id(&hard).unwrap(),
        &json!({"id": hard, "@removed": {"reason": "deleted"}})
    );
    assert_eq!(r2.by_id(&new_id).unwrap()["displayName"], "New Person");

    // A full round no longer has them.
    let full = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let ids: HashSet<String> = full.ids().into_iter().collect();
    assert_eq!(ids.len(), 249);
    assert!(!ids.contains(&soft) && !ids.contains(&hard) && ids.contains(&new_id));

    // Restore: the object comes back in full, even in a minimal round.
    ctl.restore_contact(&soft).unwrap();
    assert!(ctl.restore_contact(&hard).is_err());
    let r3 = e.round(&r2.delta_link, true).await;
    assert_eq!(r3.items.len(), 1);
    assert_eq!(r3.items[0]["id"], soft.as_str());
    assert!(r3.items[0]["displayName"].is_string());
    assert!(r3.items[0].get("@removed").is_none());
    // ... with every default property spelled out, null where it has no value, so that a
    // client merging onto the copy it held before the delete keeps nothing stale.
    assert_eq!(keys(&r3.items[0]), DEFAULT_PROPS);
}

/// A property cleared before a soft delete must not survive the restore in a client that
/// merges minimal rounds onto the copy it kept (found by the property test).
#[tokio::test]
async fn a_restored_object_carries_properties_cleared_before_its_delete_as_null() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r = e.round(&e.url("/v1.0/contacts/delta"), true).await;
    let id = ctl.contact_id(3);
    ctl.update_contact(&id, &json!({"jobTitle": null})).unwrap();
    ctl.soft_delete_contact(&id).unwrap();
    let r2 = e.round(&r.delta_link, true).await;
    assert_eq!(r2.by_id(&id).unwrap()["@removed"]["reason"], "changed");
    ctl.restore_contact(&id).unwrap();
    let r3 = e.round(&r2.delta_link, true).await;
    let back = r3.by_id(&id).unwrap();
    assert_eq!(back["jobTitle"], Value::Null);
    assert!(
        back.get("jobTitle").is_some(),
        "jobTitle must be spelled out as null: {back}"
    );
    assert!(back["displayName"].is_string());
}

#[tokio::test]
async fn later_rounds_span_pages_when_large() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    for i in 0..230 {
        ctl.update_contact(
            &ctl.contact_id(i),
            &json!({"department": format!("Dept {i}")}),
        )
        .unwrap();
    }
    // Changing the same contact twice collapses to one entry (last state wins).
    ctl.update_contact(&ctl.contact_id(0), &json!({"department": "Final"}))
        .unwrap();
    let r2 = e.round(&r.delta_link, true).await;
    assert_eq!(r2.pages.len(), 3);
    assert_eq!(r2.items.len(), 230);
    assert_eq!(r2.by_id(&ctl.contact_id(0)).unwrap()["department"], "Final");
    assert!(
        r2.pages[0]["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("$skiptoken=")
    );
}

#[tokio::test]
async fn id_filter_limits_and_errors() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let ids: Vec<String> = (0..3).map(|i| ctl.contact_id(i * 7)).collect();
    let filter = ids
        .iter()
        .map(|id| format!("id eq '{id}'"))
        .collect::<Vec<_>>()
        .join(" or ");
    let url = e.url(&format!(
        "/v1.0/contacts/delta?$filter={}",
        filter.replace(' ', "+")
    ));
    let r = e.round(&url, false).await;
    let mut got = r.ids();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(!r.delta_link.contains("filter"));

    // Changes to other contacts do not show; changes to filtered ones do.
    ctl.update_contact(&ctl.contact_id(1), &json!({"displayName": "Other"}))
        .unwrap();
    ctl.update_contact(&ids[1], &json!({"displayName": "Filtered"}))
        .unwrap();
    let r2 = e.round(&r.delta_link, false).await;
    assert_eq!(r2.ids(), vec![ids[1].clone()]);

    // 50 ids are fine, 51 are a 400.
    let many = |n: u64| {
        (0..n)
            .map(|i| format!("id%20eq%20%27{}%27", ctl.contact_id(i)))
            .collect::<Vec<_>>()
            .join("%20or%20")
    };
    let ok = e
        .get(&e.url(&format!("/v1.0/contacts/delta?$filter={}", many(50))))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["value"].as_array().unwrap().len(), 50);
    let too_many = e
        .get(&e.url(&format!("/v1.0/contacts/delta?$filter={}", many(51))))
        .await;
    assert_eq!(too_many.status, 400);
    assert!(
        too_many.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("50")
    );

    for bad in [
        "displayName%20eq%20%27x%27",
        "startswith(id,%27a%27)",
        "id%20eq%20%27a%27%20and%20id%20eq%20%27b%27",
    ] {
        let r = e
            .get(&e.url(&format!("/v1.0/contacts/delta?$filter={bad}")))
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "Request_UnsupportedQuery");
    }
}

#[tokio::test]
async fn unknown_select_property_is_a_400() {
    let e = start_default().await;
    let r = e
        .get(&e.url("/v1.0/contacts/delta?$select=displayName,shoeSize"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "BadRequest");
    assert!(r.text.contains("shoeSize"));
}

#[tokio::test]
async fn deltatoken_latest_starts_from_now() {
    let e = start_default().await;
    let ctl = e.emu.control();
    ctl.update_contact(&ctl.contact_id(3), &json!({"jobTitle": "Before"}))
        .unwrap();
    let r = e
        .get(&e.url("/v1.0/contacts/delta?$deltatoken=latest&$select=jobTitle"))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["value"], json!([]));
    let dl = v["@odata.deltaLink"].as_str().unwrap();
    assert!(dl.contains("$deltatoken=") && !dl.contains("latest"));
    ctl.update_contact(&ctl.contact_id(4), &json!({"jobTitle": "After"}))
        .unwrap();
    let next = e.round(dl, false).await;
    assert_eq!(
        next.items,
        vec![json!({"id": ctl.contact_id(4), "jobTitle": "After"})]
    );
}

#[tokio::test]
async fn tampered_token_is_badly_formed() {
    let e = start_default().await;
    let v = e.get(&e.url("/v1.0/contacts/delta")).await.json();
    let next = v["@odata.nextLink"].as_str().unwrap();
    let (head, token) = next.split_once("$skiptoken=").unwrap();
    let mut t: Vec<char> = token.chars().collect();
    let mid = t.len() / 2;
    t[mid] = if t[mid] == 'x' { 'y' } else { 'x' };
    let tampered = format!("{head}$skiptoken={}", t.into_iter().collect::<String>());
    for url in [
        tampered,
        format!("{head}$skiptoken=garbage"),
        format!("{}/v1.0/contacts/delta?$deltatoken=abc", e.base),
    ] {
        let r = e.get(&url).await;
        assert_eq!(r.status, 400, "{url}");
        assert_eq!(r.json()["error"]["message"], "Badly formed token.");
        assert!(r.header("location").is_none());
    }
}

#[tokio::test]
async fn tokens_expire_on_the_emulator_clock() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    ctl.advance_clock(6.0 * 86_400.0);
    assert_eq!(e.get(&r.delta_link).await.status, 200);
    ctl.advance_clock(2.0 * 86_400.0);
    let old = e.get(&r.delta_link).await;
    assert_eq!(old.status, 400);
    assert_eq!(old.error_code(), "syncStateNotFound");
    assert_eq!(
        old.json()["error"]["message"],
        "The sync state generation is not found. The delta token is expired and data must be synchronized again."
    );
    // Over HTTP too.
    let (s, _) = e.post("/_emulator/clock", json!({"advance_secs": 1})).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn missing_bearer_is_401_with_www_authenticate() {
    let e = start_default().await;
    let r = e
        .get_with(
            &e.url("/v1.0/contacts/delta"),
            &[("client-request-id", "11111111-2222-3333-4444-555555555555")],
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let v = r.json();
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        v["error"]["innerError"]["client-request-id"],
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(
        v["error"]["innerError"]["request-id"],
        r.header("request-id").unwrap()
    );
    assert!(v["error"]["innerError"]["date"].is_string());
    let basic = e
        .get_with(
            &e.url("/v1.0/contacts/delta"),
            &[("Authorization", "Basic abc")],
        )
        .await;
    assert_eq!(basic.status, 401);
}

#[tokio::test]
async fn response_headers() {
    let e = start_default().await;
    let r = e
        .get_with(
            &e.url("/v1.0/contacts/delta?$top=1"),
            &[
                ("Authorization", "Bearer t"),
                ("client-request-id", "my-request-42"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal")
    );
    assert_eq!(r.header("client-request-id"), Some("my-request-42"));
    assert!(uuid::Uuid::parse_str(r.header("request-id").unwrap()).is_ok());
    let diag: serde_json::Value =
        serde_json::from_str(r.header("x-ms-ags-diagnostic").unwrap()).unwrap();
    assert!(diag["ServerInfo"]["DataCenter"].is_string());
    assert!(r.header("date").unwrap().ends_with("GMT"));
    // Without one, a fresh client-request-id is returned.
    let r2 = e.get(&e.url("/v1.0/contacts/delta?$top=1")).await;
    assert!(uuid::Uuid::parse_str(r2.header("client-request-id").unwrap()).is_ok());
}

#[tokio::test]
async fn links_use_the_host_the_request_came_to() {
    let e = start_default().await;
    let port = e.emu.local_addr().port();
    let url = format!("http://localhost:{port}/v1.0/contacts/delta?$top=2");
    let r = e.get(&url).await;
    if r.status == 200 {
        let next = r.json()["@odata.nextLink"].as_str().unwrap().to_string();
        assert!(
            next.starts_with(&format!("http://localhost:{port}/v1.0/")),
            "{next}"
        );
    }
}

#[tokio::test]
async fn users_delta_uses_the_same_machinery() {
    let e = start_default().await;
    let r = e.round(&e.url("/v1.0/users/delta?$top=7"), false).await;
    // $top is ignored on users (as Graph does): 50 users in one default page.
    assert_eq!(r.pages.len(), 1);
    assert_eq!(r.items.len(), 50);
    assert!(r.items[0]["userPrincipalName"].is_string());
    assert!(
        r.delta_link
            .starts_with(&format!("{}/v1.0/users/delta?$deltatoken=", e.base))
    );
    let org = &e.emu.demo().organizers[0];
    assert!(r.ids().contains(org));
}

#[tokio::test]
async fn control_api_over_http() {
    let e = start_default().await;
    let (s, created) = e
        .post(
            "/_emulator/contacts",
            json!({"displayName": "Http Person", "jobTitle": null}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created.get("jobTitle"), Some(&Value::Null));
    let (s, _) = e
        .patch(
            &format!("/_emulator/contacts/{id}"),
            json!({"jobTitle": "Engineer"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = e.delete(&format!("/_emulator/contacts/{id}")).await;
    assert_eq!(s, 200);
    let (s, _) = e
        .post(&format!("/_emulator/contacts/{id}/restore"), json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = e
        .delete(&format!("/_emulator/contacts/{id}?permanent=true"))
        .await;
    assert_eq!(s, 200);
    let (s, _) = e
        .post(&format!("/_emulator/contacts/{id}/restore"), json!({}))
        .await;
    assert_eq!(s, 404);
    let (s, m) = e.post("/_emulator/mutate", json!({"count": 25})).await;
    assert_eq!(s, 200, "{m}");
    let (s, bad) = e.post("/_emulator/contacts", json!({"shoeSize": 4})).await;
    assert_eq!(s, 400, "{bad}");
    let st = e.http.get(e.url("/_emulator/state")).send().await.unwrap();
    let st: serde_json::Value = serde_json::from_str(&st.text().await.unwrap()).unwrap();
    assert!(st["position"].as_u64().unwrap() >= 25);
    assert_eq!(st["organizers"].as_array().unwrap().len(), 3);
    let (s, _) = e.post("/_emulator/churn", json!({"per_sec": 0})).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn churn_makes_changes_in_the_background() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    ctl.set_churn(200.0);
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    while ctl.position() < 20 {
        assert!(Instant::now() < deadline, "churn made no changes");
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ctl.set_churn(0.0);
    let r2 = e.round(&r.delta_link, false).await;
    assert!(!r2.items.is_empty());
}

#[tokio::test]
async fn a_million_contacts_are_served_lazily() {
    let t0 = Instant::now();
    let e = start(EmulatorConfig {
        contacts: 1_000_000,
        ..EmulatorConfig::default()
    })
    .await;
    let ctl = e.emu.control();
    println!("start: {:?}", t0.elapsed());
    let mut url = e.url("/v1.0/contacts/delta");
    let mut first = None;
    let mut thousandth = None;
    let t = Instant::now();
    for page in 1..=1000 {
        let t1 = Instant::now();
        let v = e.get(&url).await.json();
        if page == 1 {
            first = Some((v.clone(), t1.elapsed()));
        }
        if page == 1000 {
            thousandth = Some((v.clone(), t1.elapsed()));
        }
        url = v["@odata.nextLink"].as_str().unwrap().to_string();
    }
    println!("1000 pages of 100: {:?}", t.elapsed());
    let (first, t_first) = first.unwrap();
    let (last, t_last) = thousandth.unwrap();
    println!("first page {t_first:?}, 1000th page {t_last:?}");
    let ids: Vec<&str> = first["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], ctl.contact_id(0));
    let last_ids: Vec<&str> = last["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(last_ids.len(), 100);
    assert_eq!(last_ids[0], ctl.contact_id(99_900));
    assert_eq!(last_ids[99], ctl.contact_id(99_999));
    // The last contact of the million, by id filter, and a change to it.
    let last_id = ctl.contact_id(999_999);
    let t2 = Instant::now();
    let r = e
        .round(
            &e.url(&format!(
                "/v1.0/contacts/delta?$filter=id%20eq%20%27{last_id}%27"
            )),
            false,
        )
        .await;
    println!("filter on contact 999999: {:?}", t2.elapsed());
    assert_eq!(r.ids(), vec![last_id.clone()]);
    ctl.update_contact(&last_id, &json!({"jobTitle": "Millionth"}))
        .unwrap();
    let r2 = e.round(&r.delta_link, false).await;
    assert_eq!(r2.items[0]["jobTitle"], "Millionth");
    // A big page ($top=999) deep inside the collection.
    let t3 = Instant::now();
    let big = e.get(&e.url("/v1.0/contacts/delta?$top=999")).await.json();
    println!("a 999-contact page: {:?}", t3.elapsed());
    assert_eq!(big["value"].as_array().unwrap().len(), 999);
}

/// Random histories (the emulator's own mutations, with duplicates and replays injected),
/// followed by incremental rounds in default or minimal mode, converge to a fresh full sync.
#[tokio::test]
async fn incremental_rounds_converge_to_a_full_sync() {
    use serde_json::{Map, Value};
    use std::collections::BTreeMap;

    fn apply(replica: &mut BTreeMap<String, Map<String, Value>>, items: &[Value], minimal: bool) {
        for item in items {
            let obj = item.as_object().unwrap();
            let id = obj["id"].as_str().unwrap().to_string();
            if obj.contains_key("@removed") {
                replica.remove(&id);
                continue;
            }
            let entry = replica.entry(id).or_default();
            if !minimal {
                entry.clear();
            }
            for (k, v) in obj {
                if v.is_null() {
                    entry.remove(k);
                } else {
                    entry.insert(k.clone(), v.clone());
                }
            }
        }
    }

    for seed in 1..=4u64 {
        let e = start(EmulatorConfig {
            seed,
            contacts: 120,
            ..EmulatorConfig::default()
        })
        .await;
        let ctl = e.emu.control();
        let first = e
            .url("/v1.0/contacts/delta?$select=displayName,jobTitle,department,mail,companyName,phones&$top=37");
        let r = e.round(&first, false).await;
        let mut replica = BTreeMap::new();
        apply(&mut replica, &r.items, false);
        let mut link = r.delta_link;
        for step in 0..12u64 {
            ctl.mutate((seed * 7 + step * 13) % 60 + 1);
            match step % 4 {
                1 => ctl.add_fault("duplicate:2").unwrap(),
                3 => ctl.add_fault("replay").unwrap(),
                _ => {}
            }
            let minimal = (step + seed) % 2 == 0;
            let r = e.round(&link, minimal).await;
            apply(&mut replica, &r.items, minimal);
            link = r.delta_link;
            ctl.clear_faults();
        }
        let full = e.round(&first, false).await;
        let mut fresh = BTreeMap::new();
        apply(&mut fresh, &full.items, false);
        assert_eq!(replica.len(), fresh.len(), "seed {seed}");
        assert_eq!(replica, fresh, "seed {seed}");
    }
}

#[tokio::test]
async fn the_same_seed_makes_the_same_tenant_and_history() {
    let mut snapshots = Vec::new();
    for _ in 0..2 {
        let e = start(EmulatorConfig {
            seed: 7,
            ..EmulatorConfig::default()
        })
        .await;
        e.emu.control().mutate(80);
        let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
        let mut items: Vec<String> = r.items.iter().map(|i| i.to_string()).collect();
        items.sort();
        snapshots.push(items);
    }
    assert_eq!(snapshots[0], snapshots[1]);
}

#[tokio::test]
async fn prefer_maxpagesize_sizes_pages_capped_at_200_and_is_answered() {
    let e = start(EmulatorConfig {
        contacts: 450,
        ..EmulatorConfig::default()
    })
    .await;
    // Walk the round asking for 30 objects a page, then 1000 (capped at 200).
    for (asked, applied, pages) in [(30usize, 30usize, 15usize), (1000, 200, 3)] {
        let pref = format!("odata.maxpagesize={asked}");
        let mut next = e.url("/v1.0/contacts/delta");
        let mut sizes = Vec::new();
        let mut ids = HashSet::new();
        loop {
            let r = e
                .get_with(&next, &[("Authorization", "Bearer t"), ("Prefer", &pref)])
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(
                r.header("preference-applied"),
                Some(format!("odata.maxpagesize={applied}").as_str())
            );
            let body = r.json();
            let value = body["value"].as_array().unwrap();
            sizes.push(value.len());
            ids.extend(value.iter().map(|v| v["id"].as_str().unwrap().to_owned()));
            match body["@odata.nextLink"].as_str() {
                Some(n) => next = n.to_owned(),
                None => break,
            }
        }
        assert_eq!(sizes.len(), pages, "{sizes:?}");
        assert!(
            sizes[..pages - 1].iter().all(|n| *n == applied),
            "{sizes:?}"
        );
        assert_eq!(ids.len(), 450, "every contact once");
    }
    // Both preferences in one header, and a page size without return=minimal's header: each
    // applied one is answered; a value that is not a positive number is ignored.
    let r = e
        .get_with(
            &e.url("/v1.0/contacts/delta"),
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "return=minimal, odata.maxpagesize=5"),
            ],
        )
        .await;
    assert_eq!(
        r.header("preference-applied"),
        Some("return=minimal, odata.maxpagesize=5")
    );
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 5);
    let r = e
        .get_with(
            &e.url("/v1.0/contacts/delta"),
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=0"),
            ],
        )
        .await;
    assert_eq!(r.header("preference-applied"), None);
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 100);
    // Not on a resource that does not document it.
    let org = e.emu.demo().organizers[0].clone();
    let r = e
        .get_with(
            &e.url(&format!(
                "/v1.0/users/{org}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}')/delta"
            )),
            &[("Authorization", "Bearer t"), ("Prefer", "odata.maxpagesize=1")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("preference-applied"), None);
}

#[tokio::test]
async fn the_first_page_context_echoes_the_select_list_as_asked() {
    let e = start_default().await;
    let r = e
        .round(
            &e.url("/v1.0/contacts/delta?$select=displayName, givenName,surname"),
            false,
        )
        .await;
    assert_eq!(
        r.pages[0]["@odata.context"],
        format!(
            "{}/v1.0/$metadata#contacts(displayName,givenName,surname)",
            e.base
        )
    );
    // Later pages and rounds name the collection only.
    for p in &r.pages[1..] {
        assert_eq!(
            p["@odata.context"],
            format!("{}/v1.0/$metadata#contacts", e.base)
        );
    }
    let next = e.round(&r.delta_link, false).await;
    assert_eq!(
        next.pages[0]["@odata.context"],
        format!("{}/v1.0/$metadata#contacts", e.base)
    );
}
